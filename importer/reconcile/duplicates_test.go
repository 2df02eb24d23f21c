package reconcile

import (
	"context"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

// TestSyncKeepsTheDuplicatesRule: a source whose later rows repeat an
// earlier row's email or key is synced with the rule validate and import
// apply: the first row wins, each later one is invalid as a duplicate of
// it and costs no call: no second create, no update of the first row's
// user from another row.
func TestSyncKeepsTheDuplicatesRule(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	seed := seedUsers(3)
	e.seed(t, seed)
	ctx := context.Background()
	if _, err := Run(ctx, e.config(t, writeSource(t, e.dir, "base.csv", seed))); err != nil {
		t.Fatal(err)
	}
	next := append(seedUsers(3), baseUser(4), baseUser(5), baseUser(6))
	next[4].Email = "USER4@example.com" // row 5: row 4's email, in another case
	next[5].ID = "u2"                   // row 6: user 2's key again, renamed
	next[5].First = "Impostor"
	before := e.srv.Emulator().Stats()
	sum, err := Run(ctx, e.config(t, writeSource(t, e.dir, "next.csv", next)))
	if err != nil {
		t.Fatal(err)
	}
	_, writes, byRoute := calls(before, e.srv.Emulator().Stats())
	if writes != 1 || byRoute["POST /v1/users"] != 1 {
		t.Errorf("%d writes (%v): want the one create of row 4", writes, byRoute)
	}
	if sum.ByOutcome[checkpoint.Invalid] != 2 || sum.ByOutcome[checkpoint.Created] != 1 || sum.ByOutcome[checkpoint.Unchanged] != 3 {
		t.Errorf("outcomes %v: want 3 unchanged, 1 created, 2 invalid", sum.ByOutcome)
	}
	rows := map[int64]checkpoint.RowState{}
	if err := e.ledger.Rows(ctx, sum.RunID, checkpoint.Filter{}, func(r checkpoint.RowState) error { rows[r.Pos] = r; return nil }); err != nil {
		t.Fatal(err)
	}
	for pos, want := range map[int64][2]string{5: {"duplicate_email", "duplicate of row 4"}, 6: {"duplicate_external_id", "duplicate of row 2"}} {
		if r := rows[pos]; r.Outcome != checkpoint.Invalid || r.ErrorCode != want[0] || !strings.Contains(r.Message, want[1]) {
			t.Errorf("row %d: %+v; want invalid, %s, %q", pos, r.Settlement, want[0], want[1])
		}
	}
	if u := users(t, e.srv.Emulator())["u2"]; u.FirstName == nil || *u.FirstName == "Impostor" {
		t.Errorf("user 2 was updated from the later row: %v", u.FirstName)
	}
}
