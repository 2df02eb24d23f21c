package reconcile

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"github.com/clerkmigrate/clerkmigrate/reports"
)

// countingIndex counts the users a sync writes to the index.
type countingIndex struct {
	checkpoint.ClerkIndex
	put, resets atomic.Int64
}

func (c *countingIndex) PutUsers(ctx context.Context, scope string, us []checkpoint.IndexedUser) error {
	c.put.Add(int64(len(us)))
	return c.ClerkIndex.PutUsers(ctx, scope, us)
}

func (c *countingIndex) ResetIndex(ctx context.Context, scope string) error {
	c.resets.Add(1)
	return c.ClerkIndex.ResetIndex(ctx, scope)
}

// TestFullSyncKeepsTheIndex: the index is kept between syncs and updated in
// place. A sync with nothing to do lists every user (it judges orphans) but
// writes none of them to the index; one after changes in Clerk writes the
// changed users only, and drops the user deleted in Clerk (which the source
// still lists, so it is created again).
func TestFullSyncKeepsTheIndex(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	seed := seedUsers(60)
	e.seed(t, seed)
	path := writeSource(t, e.dir, "users.csv", seed)
	ctx := context.Background()
	x := &countingIndex{ClerkIndex: e.ledger}
	run := func(what string) Summary {
		t.Helper()
		cfg := e.config(t, path)
		cfg.Index, cfg.pageSize = x, 25
		x.put.Store(0)
		sum, err := Run(ctx, cfg)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return sum
	}
	if sum := run("first sync"); x.put.Load() != 60 || sum.Scan != ScanFull {
		t.Fatalf("first sync wrote %d users to the index (%s scan), want all 60", x.put.Load(), sum.Scan)
	}
	sum := run("no-op sync")
	if x.put.Load() != 0 || x.resets.Load() > 1 || sum.Listed != 60 || sum.Pages != 4 {
		t.Errorf("no-op sync: %d users written to the index, %d resets, %d listed in %d pages; want 0 written, the index kept, 60 listed in 3 pages and the probe for the newest update",
			x.put.Load(), x.resets.Load(), sum.Listed, sum.Pages)
	}
	snap := users(t, e.srv.Emulator())
	first := "Edited"
	if _, err := e.api.UpdateUser(ctx, snap["u3"].ID, &clerk.UpdateUserParams{FirstName: request.Value(first)}); err != nil {
		t.Fatal(err)
	}
	if err := e.api.DeleteUser(ctx, snap["u4"].ID); err != nil {
		t.Fatal(err)
	}
	sum = run("sync after edits in Clerk")
	if x.put.Load() != 1 || sum.Dropped != 1 || sum.Creates != 1 || sum.Updates != 0 || sum.ByOutcome[checkpoint.Drift] != 1 {
		t.Errorf("after one edit and one delete in Clerk: %d written to the index, %d dropped, %d created, %d updated, %d drift; want 1, 1, 1 (u4 again), 0, 1 (u3's edit in Clerk kept)",
			x.put.Load(), sum.Dropped, sum.Creates, sum.Updates, sum.ByOutcome[checkpoint.Drift])
	}
	want := append([]legacyUser(nil), seed...)
	want[2].First = first // a Clerk-side edit: kept (see TestThreeWayDiff)
	checkMatches(t, users(t, e.srv.Emulator()), want)
}

// TestIncrementalScanMissesNothing: an incremental sync lists only the Clerk
// users updated since the last scan (order_by=-updated_at, down to the
// high-water mark less the overlap), a page or so, and misses none of them:
// users edited in Clerk (names, a ban, an address, metadata) and in the
// source between runs, a user created in Clerk by someone else, across
// several small pages. After it, the index holds what Clerk holds for
// every user but the run's own writes; after the next incremental run,
// for every user. A user deleted in Clerk is invisible to an incremental
// scan: the next full sync drops it and creates it again.
func TestIncrementalScanMissesNothing(t *testing.T) {
	// A clock one millisecond further at each reading: no two writes share
	// an updated_at, so the overlap (1 ms) re-reads at most one user.
	var ticks atomic.Int64
	start := time.Now()
	e := newEnv(t, emulator.Config{Now: func() time.Time { return start.Add(time.Duration(ticks.Add(1)) * time.Millisecond) }})
	const n = 300
	seed := seedUsers(n)
	e.seed(t, seed)
	ctx := context.Background()
	sync := func(what string, us []legacyUser, incremental bool) Summary {
		t.Helper()
		cfg := e.config(t, writeSource(t, e.dir, fmt.Sprintf("src-%d.csv", time.Now().UnixNano()), us))
		cfg.Incremental, cfg.ClerkOverlap, cfg.pageSize = incremental, time.Millisecond, 20
		sum, err := Run(ctx, cfg)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return sum
	}
	sum := sync("full sync", seed, false)
	if sum.Scan != ScanFull || sum.Pages != n/20+2 {
		t.Fatalf("first sync: %s scan of %d pages, want full, %d", sum.Scan, sum.Pages, n/20+2)
	}

	// Clerk side: 45 users edited (more than two pages of 20), one created
	// by someone else, one deleted.
	snap := users(t, e.srv.Emulator())
	edited := map[string]bool{}
	for i := 1; i <= 45; i++ {
		id := snap[fmt.Sprintf("u%d", i)].ID
		var err error
		switch i % 4 {
		case 0:
			_, err = e.api.UpdateUser(ctx, id, &clerk.UpdateUserParams{FirstName: request.Value(fmt.Sprintf("Clerk%d", i))})
		case 1:
			_, err = e.api.BanUser(ctx, id)
		case 2:
			_, err = e.api.CreateEmailAddress(ctx, clerk.CreateEmailAddressParams{UserID: id,
				EmailAddress: fmt.Sprintf("extra%d@example.com", i), Verified: request.Value(true)})
		case 3:
			_, err = e.api.UpdateUserMetadata(ctx, id, &clerk.MetadataParams{PrivateMetadata: map[string]any{"note": i}})
		}
		if err != nil {
			t.Fatal(err)
		}
		edited[id] = true
	}
	if _, err := e.api.CreateUser(ctx, &request.CreateUser{ExternalID: request.Value("crm-1"), EmailAddresses: []string{"crm1@example.com"}}); err != nil {
		t.Fatal(err)
	}
	if err := e.api.DeleteUser(ctx, snap[fmt.Sprintf("u%d", n)].ID); err != nil {
		t.Fatal(err)
	}
	// Source side: 3 users changed, 1 new: the incremental source yields
	// those rows only.
	var delta []legacyUser
	for _, i := range []int{100, 200, 250} {
		u := baseUser(i)
		u.Last = "Changed"
		delta = append(delta, u)
	}
	delta = append(delta, baseUser(n+1))

	sum = sync("incremental sync", delta, true)
	// Listed: the 46 and those stamped within the overlap of the mark.
	if sum.Scan != ScanIncremental || sum.Listed < 46 || sum.Listed > 48 || sum.Reindexed != 46 || sum.Pages != 3 {
		t.Errorf("incremental sync: %s scan, %d listed, %d written to the index, %d pages; want incremental, the 46 users changed in Clerk (and one or two at the mark) in 3 pages",
			sum.Scan, sum.Listed, sum.Reindexed, sum.Pages)
	}
	if sum.ByOutcome[checkpoint.Updated] != 3 || sum.ByOutcome[checkpoint.Created] != 1 || sum.OrphanStep != "" && sum.Orphans != 0 {
		t.Errorf("incremental sync outcomes %v, want 3 updated, 1 created, no orphan judged", sum.ByOutcome)
	}
	written := map[string]bool{}
	for _, u := range users(t, e.srv.Emulator()) {
		if u.ExternalID != nil && (*u.ExternalID == "u100" || *u.ExternalID == "u200" || *u.ExternalID == "u250" || *u.ExternalID == fmt.Sprintf("u%d", n+1)) {
			written[u.ID] = true
		}
	}
	indexMatchesClerk(t, e, written, fmt.Sprintf("u%d", n))

	sum = sync("second incremental sync", nil, true)
	if sum.Listed < 4 || sum.Reindexed != 4 || sum.Pages != 1 {
		t.Errorf("second incremental sync: %d listed, %d written to the index in %d pages; want the 4 users the last run wrote, in 1 page",
			sum.Listed, sum.Reindexed, sum.Pages)
	}
	indexMatchesClerk(t, e, nil, fmt.Sprintf("u%d", n))

	final := append(seed, baseUser(n+1))
	for _, i := range []int{100, 200, 250} {
		final[i-1].Last = "Changed"
	}
	sum = sync("full sync", final, false)
	if sum.Scan != ScanFull || sum.Dropped != 1 || sum.Creates != 1 {
		t.Errorf("full sync: %s scan, %d dropped, %d created; want the user deleted in Clerk dropped and created again", sum.Scan, sum.Dropped, sum.Creates)
	}
	if sum.NotOurs != 1 {
		t.Errorf("full sync: %d users not ours, want the one created in Clerk by someone else", sum.NotOurs)
	}

	// Too many changes for an offset listing: the scan goes on in full.
	deep := func() Summary {
		cfg := e.config(t, writeSource(t, e.dir, "none.csv", nil))
		cfg.Incremental, cfg.ClerkOverlap, cfg.pageSize, cfg.maxIncrementalPages = true, time.Hour, 20, 2
		sum, err := Run(ctx, cfg)
		if err != nil {
			t.Fatal(err)
		}
		return sum
	}
	all := int64(len(e.srv.Emulator().Snapshot().Users))
	if sum := deep(); sum.Scan != ScanFull || sum.Listed != all || sum.Pages != 2+1+all/20+1 {
		t.Errorf("an incremental scan past its page bound: %s scan, %d listed, %d pages; want full, %d, 2 + the probe + %d", sum.Scan, sum.Listed, sum.Pages, all, all/20+1)
	}
}

// indexMatchesClerk checks that the index holds every Clerk user as Clerk
// has it (its updated_at), but the users in skip (written after the scan)
// and the external id gone (deleted in Clerk, still indexed).
func indexMatchesClerk(t *testing.T, e *env, skip map[string]bool, gone string) {
	t.Helper()
	snap := e.srv.Emulator().Snapshot().Users
	var exts []string
	for _, u := range snap {
		exts = append(exts, *u.ExternalID)
	}
	got, err := e.ledger.UsersByExternalID(context.Background(), "test", append(exts, gone))
	if err != nil {
		t.Fatal(err)
	}
	bad := 0
	for _, u := range snap {
		x, ok := got[*u.ExternalID]
		if skip[u.ID] {
			continue
		}
		if !ok || x.ClerkID != u.ID || x.UpdatedAt != u.UpdatedAt {
			if bad++; bad <= 5 {
				t.Errorf("index entry of %s = %+v (found %t), Clerk's updated_at %d", *u.ExternalID, x.UpdatedAt, ok, u.UpdatedAt)
			}
		}
	}
	if _, ok := got[gone]; !ok {
		t.Errorf("%s, deleted in Clerk, left the index before a full scan", gone)
	}
}

// TestNoOpSyncTalliesUnchanged: a sync records an unchanged row as a count
// when there is nothing to say about it and an earlier row already made its
// user ours; status and summary.json count it (rows.not_listed), the
// outcome files do not list it. A user the sync matches for the first time
// (created in Clerk under a source key by someone else) gets its row, which
// makes it ours: the next sync tallies it, and once the source drops it, it
// is judged an orphan like the imported ones.
func TestNoOpSyncTalliesUnchanged(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	seed := seedUsers(50)
	e.seed(t, seed)
	ctx := context.Background()
	adopted := baseUser(51)
	if _, err := e.api.CreateUser(ctx, &request.CreateUser{ExternalID: request.Value(adopted.ID), EmailAddresses: []string{adopted.Email},
		FirstName: request.Value(adopted.First), LastName: request.Value(adopted.Last),
		PasswordDigest: request.Value(adopted.digest()), PasswordHasher: "bcrypt",
		PublicMetadata: map[string]any{"plan": adopted.Plan, "n": adopted.N}}); err != nil {
		t.Fatal(err)
	}
	all := append(slices.Clone(seed), adopted)
	path := writeSource(t, e.dir, "all.csv", all)
	sync := func(what, path string) (Summary, []checkpoint.RowState) {
		t.Helper()
		sum, err := Run(ctx, e.config(t, path))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		var rows []checkpoint.RowState
		if err := e.ledger.Rows(ctx, sum.RunID, checkpoint.Filter{}, func(r checkpoint.RowState) error { rows = append(rows, r); return nil }); err != nil {
			t.Fatal(err)
		}
		return sum, rows
	}
	sum, rows := sync("first sync", path)
	if sum.ByOutcome[checkpoint.Unchanged] != 51 || len(rows) != 1 || rows[0].Key != adopted.ID || rows[0].ClerkID == "" {
		t.Fatalf("first sync: %v, %d rows recorded (%+v); want 51 unchanged, one row: %s's, the user it adopts", sum.ByOutcome, len(rows), rows, adopted.ID)
	}
	sum, rows = sync("second sync", path)
	if sum.ByOutcome[checkpoint.Unchanged] != 51 || len(rows) != 0 {
		t.Fatalf("second sync: %v, %d rows recorded; want 51 unchanged, none recorded one by one", sum.ByOutcome, len(rows))
	}
	p, err := e.ledger.Progress(ctx, sum.RunID)
	if err != nil || p.ByOutcome[checkpoint.Unchanged] != 51 || p.Settled() != 51 {
		t.Errorf("Progress of the no-op sync = %+v, %v; want 51 unchanged", p, err)
	}
	dir := filepath.Join(e.dir, "report")
	files, err := reports.Write(ctx, e.ledger, sum.RunID, dir, reports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var s reports.Summary
	if b, err := os.ReadFile(files.Summary); err != nil || json.Unmarshal(b, &s) != nil {
		t.Fatalf("summary.json: %v", err)
	}
	if s.CountsByOutcome["unchanged"] != 51 || s.Rows.Total != 51 || s.Rows.NotListed != 51 {
		t.Errorf("summary.json: counts %v, rows %+v; want 51 unchanged, total 51, 51 not listed", s.CountsByOutcome, s.Rows)
	}
	if b, _ := os.ReadFile(files.OutcomesJSONL); len(b) != 0 {
		t.Errorf("outcomes.jsonl of the no-op sync holds %d bytes, want none", len(b))
	}
	// Both the imported users and the adopted one are still ours.
	cfg := e.config(t, writeSource(t, e.dir, "fewer.csv", seed[2:]))
	cfg.Orphans, cfg.MaxDelete = DeleteOrphans, 5
	sum, err = Run(ctx, cfg)
	if err != nil || sum.Orphans != 3 || sum.NotOurs != 0 || sum.Deletes != 3 {
		t.Errorf("sync without u1, u2, u51: %d orphans, %d not ours, %d deleted, %v; want 3, 0, 3", sum.Orphans, sum.NotOurs, sum.Deletes, err)
	}
}

// TestSettledUsersSkipTheDiff: a user as it was at the last sync on both
// sides (the same mapped request, the same updated_at in Clerk) is
// unchanged without a field-by-field comparison; a change on either side,
// a secret included, makes it compared again, and the change is made.
func TestSettledUsersSkipTheDiff(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	seed := seedUsers(40)
	e.seed(t, seed)
	ctx := context.Background()
	sync := func(what string, us []legacyUser) Summary {
		t.Helper()
		sum, err := Run(ctx, e.config(t, writeSource(t, e.dir, fmt.Sprintf("s%d.csv", time.Now().UnixNano()), us)))
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		return sum
	}
	if sum := sync("first sync", seed); sum.Settled != 0 || sum.ByOutcome[checkpoint.Unchanged] != 40 {
		t.Fatalf("first sync: %d settled, %v; want 0 (nothing recorded yet), 40 unchanged", sum.Settled, sum.ByOutcome)
	}
	if sum := sync("second sync", seed); sum.Settled != 40 || sum.ByOutcome[checkpoint.Unchanged] != 40 {
		t.Fatalf("second sync: %d settled, %v; want all 40 unchanged without a diff", sum.Settled, sum.ByOutcome)
	}
	snap := users(t, e.srv.Emulator())
	if _, err := e.api.UpdateUser(ctx, snap["u5"].ID, &clerk.UpdateUserParams{FirstName: request.Value("Clerk")}); err != nil {
		t.Fatal(err)
	}
	next := slices.Clone(seed)
	next[9].Last = "Source"  // u10
	next[19].DigestVersion++ // u20: a new password digest
	sum := sync("sync after edits", next)
	if sum.Settled != 37 || sum.ByOutcome[checkpoint.Updated] != 2 || sum.ByOutcome[checkpoint.Unchanged] != 37 {
		t.Errorf("after an edit in Clerk and two in the source: %d settled, %v; want 37 settled, the 2 source changes updated, u5 compared", sum.Settled, sum.ByOutcome)
	}
	after := users(t, e.srv.Emulator())
	if deref(after["u10"].LastName) != "Source" || after["u20"].PasswordLastUpdatedAt == snap["u20"].PasswordLastUpdatedAt {
		t.Errorf("the source's changes were not sent: u10 last name %q, u20's password updated %v", deref(after["u10"].LastName),
			after["u20"].PasswordLastUpdatedAt != snap["u20"].PasswordLastUpdatedAt)
	}
}

// unseenCounter counts the orphan step's walks of the users the source
// did not list (Unseen called by the sync itself, not by CountUnseen).
type unseenCounter struct {
	checkpoint.ClerkIndex
	walks int
}

func (u *unseenCounter) Unseen(ctx context.Context, scope string, fn func(checkpoint.IndexedUser) error) error {
	u.walks++
	return u.ClerkIndex.Unseen(ctx, scope, fn)
}

// TestNoOrphanNoWalk: a full sync whose source lists every Clerk user
// does not walk the unseen users after counting none; one that lists one
// fewer walks them once and reports it.
func TestNoOrphanNoWalk(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	seed := seedUsers(10)
	e.seed(t, seed)
	ctx := context.Background()
	for _, tc := range []struct {
		users  []legacyUser
		walks  int
		orphan int64
	}{{seed, 0, 0}, {seed[1:], 1, 1}} {
		cfg := e.config(t, writeSource(t, e.dir, fmt.Sprintf("s%d.csv", len(tc.users)), tc.users))
		x := &unseenCounter{ClerkIndex: cfg.Index}
		cfg.Index = x
		sum, err := Run(ctx, cfg)
		if err != nil || x.walks != tc.walks || sum.Orphans != tc.orphan {
			t.Errorf("%d of %d users listed: %d walks of the unseen, %d orphans, %v; want %d, %d",
				len(tc.users), len(seed), x.walks, sum.Orphans, err, tc.walks, tc.orphan)
		}
	}
}
