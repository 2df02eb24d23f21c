package reconcile

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

// changedSource is the seed with 100 rows changed (25 names, 25 primary
// emails, 25 metadata, 25 password digests), 50 rows added and the last 30
// removed.
func changedSource(n int) []legacyUser {
	var out []legacyUser
	for i := 1; i <= n-30; i++ {
		u := baseUser(i)
		switch {
		case i <= 25:
			u.First = fmt.Sprintf("Changed%d", i)
		case i <= 50:
			u.Email = fmt.Sprintf("new%d@example.com", i)
		case i <= 75:
			u.Plan = "pro"
		case i <= 100:
			u.DigestVersion = 1
		}
		out = append(out, u)
	}
	for i := n + 1; i <= n+50; i++ {
		out = append(out, baseUser(i))
	}
	return out
}

func seedUsers(n int) []legacyUser {
	out := make([]legacyUser, n)
	for i := range out {
		out[i] = baseUser(i + 1)
	}
	return out
}

// TestSyncEndToEnd: a sync's calls are its list pages plus one write per
// change, whatever the size of the unchanged rest. 1,200 users (three list
// pages, 1,070 unchanged rows that cost nothing) show it as well as
// 10,000 did at a seventh of the CPU; the cost at 100,000 users is
// BenchmarkNightlySync100k's.
func TestSyncEndToEnd(t *testing.T) {
	t.Parallel()
	const n = 1_200
	e := newEnv(t, emulator.Config{})
	emu := e.srv.Emulator()
	seed := seedUsers(n)
	e.seed(t, seed)
	seedPath := writeSource(t, e.dir, "v1.csv", seed)
	ctx := context.Background()

	// The first sync after the import records fingerprints and writes nothing.
	before := emu.Stats()
	sum, err := Run(ctx, e.config(t, seedPath))
	if err != nil {
		t.Fatal(err)
	}
	total, writes, routes := calls(before, emu.Stats())
	pages := n/PageSize + 2 // and the probe for the newest update (the scan's high-water mark)
	if writes != 0 || total != pages || sum.ByOutcome[checkpoint.Unchanged] != n {
		t.Fatalf("baseline sync: %d calls (%d writes) %v, outcomes %v; want %d list pages only, %d unchanged",
			total, writes, routes, sum.ByOutcome, pages, n)
	}
	pwBefore := map[string]int64{}
	for ext, u := range users(t, emu) {
		pwBefore[ext] = u.PasswordLastUpdatedAt
	}

	// The nightly sync of a changed source.
	next := changedSource(n)
	cfg := e.config(t, writeSource(t, e.dir, "v2.csv", next))
	cfg.Orphans, cfg.MaxDelete = DeleteOrphans, 100
	before = emu.Stats()
	sum, err = Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	total, writes, routes = calls(before, emu.Stats())
	// The list pages (with the high-water probe) + 25 name PATCHes + 25 POST email_addresses (made
	// primary as they are added) + 25 metadata PATCHes + 25 password PATCHes
	// + 50 creates + 30 deletes.
	want := map[string]int{
		"GET /v1/users": pages, "PATCH /v1/users/{user_id}": 50, "POST /v1/email_addresses": 25,
		"PATCH /v1/users/{user_id}/metadata": 25, "POST /v1/users": 50, "DELETE /v1/users/{user_id}": 30,
	}
	t.Logf("nightly sync of %d users, 100 changed, +50 -30: %d API calls %v (%d writes), %s", n, total, routes, writes, sum.Elapsed)
	if fmt.Sprint(routes) != fmt.Sprint(want) || total != pages+180 {
		t.Errorf("calls = %v (%d), want %v (%d)", routes, total, want, pages+180)
	}
	wantOutcomes := map[checkpoint.Outcome]int64{checkpoint.Unchanged: n - 30 - 100, checkpoint.Updated: 100,
		checkpoint.Created: 50, checkpoint.Deleted: 30}
	if fmt.Sprint(sum.ByOutcome) != fmt.Sprint(wantOutcomes) {
		t.Errorf("outcomes = %v, want %v", sum.ByOutcome, wantOutcomes)
	}
	got := users(t, emu)
	checkMatches(t, got, next)
	for i := 1; i <= n-30; i++ {
		ext := fmt.Sprintf("u%d", i)
		bumped := got[ext].PasswordLastUpdatedAt != pwBefore[ext]
		if bumped != (i > 75 && i <= 100) {
			t.Errorf("%s: password rewritten = %v", ext, bumped)
		}
	}
	// The ledger holds one outcome per source row and per orphan.
	p, err := e.ledger.Progress(ctx, sum.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Settled() != int64(len(next)+30) || p.InFlight != 0 {
		t.Errorf("ledger: %d settled, %d in flight; want %d", p.Settled(), p.InFlight, len(next)+30)
	}

	// A second sync right after writes nothing.
	before = emu.Stats()
	cfg = e.config(t, writeSource(t, e.dir, "v2b.csv", next))
	cfg.Orphans, cfg.MaxDelete = DeleteOrphans, 100
	sum, err = Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	total, writes, routes = calls(before, emu.Stats())
	if writes != 0 || total != len(next)/PageSize+2 || sum.ByOutcome[checkpoint.Unchanged] != int64(len(next)) {
		t.Errorf("second sync: %d calls (%d writes) %v, outcomes %v; want list pages only", total, writes, routes, sum.ByOutcome)
	}
}

func TestMaxDeleteRefusesAShrunkSource(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	emu := e.srv.Emulator()
	seed := seedUsers(100)
	e.seed(t, seed)
	ctx := context.Background()
	cfg := e.config(t, writeSource(t, e.dir, "broken.csv", seed[:10]))
	cfg.Orphans, cfg.MaxDelete = DeleteOrphans, 20
	before := emu.Stats()
	sum, err := Run(ctx, cfg)
	var guard *OrphanGuardError
	if !errors.As(err, &guard) || guard.Orphans != 90 || guard.Max != 20 {
		t.Fatalf("err = %v, want an OrphanGuardError for 90 orphans over 20", err)
	}
	if _, writes, routes := calls(before, emu.Stats()); writes != 0 {
		t.Errorf("the refused sync wrote: %v", routes)
	}
	if got := len(emu.Snapshot().Users); got != 100 {
		t.Errorf("Clerk has %d users after the refused sync, want 100", got)
	}
	if sum.ByOutcome[checkpoint.Orphan] != 90 || sum.ByOutcome[checkpoint.Unchanged] != 10 || sum.Status != checkpoint.Done {
		t.Errorf("summary = %+v", sum.Summary)
	}
	var msg string
	e.ledger.Rows(ctx, sum.RunID, checkpoint.Filter{Outcomes: []checkpoint.Outcome{checkpoint.Orphan}}, func(r checkpoint.RowState) error {
		msg = r.Message
		return nil
	})
	if msg != guard.Error() {
		t.Errorf("orphan message = %q", msg)
	}
	// Within the cap, the same orphans are banned, in bulk: POST
	// /v1/users/ban with up to 50 ids (89 to ban: 2 calls), none one by
	// one; one banned in Clerk already costs no call.
	if _, err := e.api.BanUser(ctx, users(t, emu)["u50"].ID); err != nil {
		t.Fatal(err)
	}
	cfg = e.config(t, writeSource(t, e.dir, "broken2.csv", seed[:10]))
	cfg.Orphans, cfg.MaxDelete = BanOrphans, 90
	before = emu.Stats()
	if sum, err = Run(ctx, cfg); err != nil || sum.ByOutcome[checkpoint.Banned] != 90 {
		t.Fatalf("ban within the cap: %v, %v", err, sum.ByOutcome)
	}
	if _, _, routes := calls(before, emu.Stats()); routes["POST /v1/users/ban"] != 2 || routes["POST /v1/users/{user_id}/ban"] != 0 {
		t.Errorf("banning 89 orphans took %v; want 2 POST /v1/users/ban (50 ids a call) and no ban one by one", routes)
	}
	banned := 0
	for _, u := range emu.Snapshot().Users {
		if u.Banned {
			banned++
		}
	}
	if banned != 90 {
		t.Errorf("%d users banned, want 90", banned)
	}
}

// TestSyncRecordsTheInstance: a sync asks the target who it is once, before
// anything else (the pre-flight), and records the instance with its run.
func TestSyncRecordsTheInstance(t *testing.T) {
	e := newEnv(t, emulator.Config{InstanceID: "ins_synced"})
	e.seed(t, seedUsers(3))
	emu := e.srv.Emulator()
	before := emu.Stats()
	sum, err := Run(context.Background(), e.config(t, writeSource(t, e.dir, "same.csv", seedUsers(3))))
	if err != nil {
		t.Fatal(err)
	}
	if n := emu.Stats().Routes[preflightRoute].Total - before.Routes[preflightRoute].Total; n != 1 {
		t.Errorf("the sync sent %d pre-flights, want 1", n)
	}
	r, err := checkpoint.FindRun(context.Background(), e.ledger, sum.RunID)
	if err != nil || r.Meta[checkpoint.MetaInstance] != "ins_synced" || r.Meta[checkpoint.MetaEnvironment] != "production" {
		t.Errorf("the sync recorded %v (%v), want instance ins_synced (production)", r.Meta, err)
	}
}
