package reconcile

import (
	"context"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
	"github.com/clerkmigrate/clerkmigrate/importer/migrate"
)

// TestEveryWriteOfASyncIsPaced runs a sync that makes every kind of write
// (create, PATCH user, metadata, ban, an address added and the old one
// deleted, orphans deleted) against an emulator whose whole budget is 20
// requests a second: no request is refused with a 429, and the gateway's
// pacer admitted exactly the requests the emulator saw, route by route.
func TestEveryWriteOfASyncIsPaced(t *testing.T) {
	tiny := pacer.Rate{Requests: 20, Window: time.Second}
	e := newEnv(t, emulator.Config{RequestsPerWindow: tiny.Requests, Window: tiny.Window})
	emu := e.srv.Emulator()
	ctx := context.Background()
	seed := seedUsers(8)
	if _, err := migrate.Run(ctx, migrate.Config{Source: openSource(t, writeSource(t, e.dir, "seed.csv", seed)),
		Mapper: e.m, MappingFingerprint: e.m.Fingerprint(), Store: e.ledger, Gateway: e.gateway(tiny, pacer.Rate{}),
		Target: "test", Workers: 4, Logger: quietLogger(), TempDir: e.dir}); err != nil {
		t.Fatal(err)
	}
	base := e.config(t, writeSource(t, e.dir, "base.csv", seed))
	base.Gateway = e.gateway(tiny, pacer.Rate{})
	if _, err := Run(ctx, base); err != nil {
		t.Fatal(err)
	}

	next := seedUsers(10)[:8]
	next = append(next[2:], baseUser(9), baseUser(10)) // users 1 and 2 gone, 9 and 10 new
	next[0].First = "Renamed"                          // user 3: PATCH
	next[1].Plan = "pro"                               // user 4: metadata
	next[2].Banned = true                              // user 5: ban
	next[3].Email = "moved6@example.com"               // user 6: address added, primary switched, old one deleted
	cfg := e.config(t, writeSource(t, e.dir, "next.csv", next))
	cfg.Gateway = e.gateway(tiny, pacer.Rate{})
	cfg.Orphans, cfg.MaxDelete, cfg.PruneIdentifiers = DeleteOrphans, 5, true
	before := emu.Stats()
	sum, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	after := emu.Stats()
	if sum.Creates != 2 || sum.Updates == 0 || sum.MetadataWrites != 1 || sum.Flags != 1 || sum.Emails != 1 ||
		sum.EmailsRemoved != 1 || sum.ByOutcome[checkpoint.Deleted] != 2 {
		t.Fatalf("the sync did not make every kind of write: %+v", sum)
	}
	if after.RateLimited != 0 {
		t.Errorf("%d requests were refused with 429 under a budget of %s", after.RateLimited, tiny)
	}
	gs := cfg.Gateway.Stats()
	total, writes, byRoute := calls(before, after)
	if n := after.Routes[preflightRoute].Total - before.Routes[preflightRoute].Total; n > 0 {
		byRoute[preflightRoute] = n // paced and counted like any call
		total += n
	}
	if gs.Pacer.Requests != int64(total) || gs.Requests() != int64(total) {
		t.Errorf("the pacer admitted %d requests, the gateway counted %d, the emulator saw %d (%d writes): %v",
			gs.Pacer.Requests, gs.Requests(), total, writes, byRoute)
	}
	sent := map[string]int64{} // ListUsers and ListUsersLazy send one route
	for _, op := range gateway.Ops() {
		sent[op.String()] += gs.Of(op)
	}
	for route, got := range sent {
		if want := int64(byRoute[route]); got != want {
			t.Errorf("%s: the gateway sent %d, the emulator saw %d", route, got, want)
		}
	}
}
