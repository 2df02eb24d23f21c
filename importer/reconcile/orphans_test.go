package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"slices"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/postgres"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
	"github.com/clerkmigrate/clerkmigrate/importer/migrate"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
	"github.com/clerkmigrate/clerkmigrate/sources/pgtest"
)

// createDirect creates a user in Clerk as another system would (a CRM sync,
// an admin, a user signing up), outside any run of the ledger.
func createDirect(t *testing.T, e *env, externalID, email string) string {
	t.Helper()
	p := &request.CreateUser{EmailAddresses: []string{email}, SkipPasswordRequirement: request.Value(true)}
	if externalID != "" {
		p.ExternalID = request.Value(externalID)
	}
	u, err := e.api.CreateUser(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// ledgerStore is a run ledger that also keeps the sync's index (both
// stores are).
type ledgerStore interface {
	checkpoint.Store
	checkpoint.ClerkIndex
}

// importInto imports users into e's Clerk, recorded in ledger under target.
func importInto(t *testing.T, e *env, ledger checkpoint.Store, name, target string, us []legacyUser) runner.Summary {
	t.Helper()
	sum, err := migrate.Run(context.Background(), migrate.Config{
		Source: openSource(t, writeSource(t, e.dir, name, us)), Mapper: e.m, MappingFingerprint: e.m.Fingerprint(),
		Store: ledger, Gateway: e.gateway(fast, pacer.Rate{}), Target: target, Workers: 4, Logger: quietLogger(),
		TempDir: e.dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestOrphansAreOnlyUsersThisLedgerOwns: the orphan step acts only on users
// that a run of this ledger created or adopted in this target and that the
// source no longer lists. Users another system created (a foreign
// external_id, none at all, or a run recorded against another target) are
// counted as not ours, listed as such in the plan and the ledger, and never
// touched; --max-delete counts only the orphans. Over both ledgers: the
// SQLite file and the Postgres server.
func TestOrphansAreOnlyUsersThisLedgerOwns(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		e := newEnv(t, emulator.Config{})
		testOrphansOwned(t, e, e.ledger)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := pgtest.Database(t, "cm_orphans")
		st, err := postgres.Open(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		testOrphansOwned(t, newEnv(t, emulator.Config{}), st)
	})
}

func testOrphansOwned(t *testing.T, e *env, ledger ledgerStore) {
	ctx := context.Background()
	config := func(path string) Config {
		cfg := e.config(t, path)
		cfg.Store, cfg.Index = ledger, ledger
		return cfg
	}
	emu := e.srv.Emulator()
	crm := createDirect(t, e, "crm-1", "crm1@example.org")
	native := createDirect(t, e, "", "native@example.org")
	before := createDirect(t, e, "u12", "u12.before@example.org") // there before the import: adopted (exists)

	var src []legacyUser
	for i := 1; i <= 12; i++ {
		src = append(src, baseUser(i))
	}
	if sum := importInto(t, e, ledger, "import.csv", "test", src); sum.ByOutcome[checkpoint.Created] != 11 || sum.ByOutcome[checkpoint.Exists] != 1 {
		t.Fatalf("import: %v, want 11 created and u12 exists", sum.ByOutcome)
	}
	// A migration into another instance, recorded in the same ledger: its
	// users are not this target's.
	other := baseUser(1)
	other.ID, other.Email = "o1", "o1@example.org"
	importInto(t, e, ledger, "other.csv", "another-instance", []legacyUser{other})
	// A sync creates u13: created by this ledger too.
	if sum, err := Run(ctx, config(writeSource(t, e.dir, "full.csv", append(slices.Clone(src), baseUser(13))))); err != nil ||
		sum.ByOutcome[checkpoint.Created] != 1 {
		t.Fatalf("sync creating u13: %v, %v", err, sum.ByOutcome)
	}

	// The source drops u9..u13: those five are orphans, the other three are not ours.
	shrunk := writeSource(t, e.dir, "shrunk.csv", src[:8])
	var plan bytes.Buffer
	cfg := config(shrunk)
	cfg.Orphans, cfg.MaxDelete, cfg.PlanTo = DeleteOrphans, 5, &plan
	if _, err := Run(ctx, cfg); err != nil {
		t.Fatalf("plan: %v", err)
	}
	cfg = config(shrunk)
	cfg.Orphans, cfg.MaxDelete = DeleteOrphans, 5
	sum, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("sync --delete-orphans --max-delete 5 (5 orphans, 3 users not ours): %v", err)
	}

	left := map[string]bool{}
	for _, u := range emu.Snapshot().Users {
		left[u.ID] = !u.Banned
	}
	for what, id := range map[string]string{"the CRM's user": crm, "the user without external_id": native,
		"the other instance's user": clerkIDOf(t, e, "o1")} {
		if !left[id] {
			t.Errorf("%s (%s) was deleted or banned", what, id)
		}
	}
	if left[before] {
		t.Errorf("u12, adopted by the import, is still there: an orphan of ours must be deleted")
	}
	if got := len(left); got != 8+3 {
		t.Errorf("Clerk has %d users, want u1..u8 and the 3 not ours", got)
	}
	if sum.ByOutcome[checkpoint.Deleted] != 5 || sum.ByOutcome[checkpoint.NotOurs] != 3 || sum.Orphans != 5 || sum.NotOurs != 3 {
		t.Errorf("outcomes %v, orphans %d, not ours %d; want 5 deleted, 3 not ours", sum.ByOutcome, sum.Orphans, sum.NotOurs)
	}
	var notOurs []string
	err = ledger.Rows(ctx, sum.RunID, checkpoint.Filter{Outcomes: []checkpoint.Outcome{checkpoint.NotOurs}}, func(r checkpoint.RowState) error {
		notOurs = append(notOurs, r.ClerkID+" "+r.Key+": "+r.Message)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(notOurs)
	if len(notOurs) != 3 || !strings.Contains(strings.Join(notOurs, "\n"), "no external_id") {
		t.Errorf("ledger rows not ours:\n%s", strings.Join(notOurs, "\n"))
	}

	// The plan said the same: five deletions, three users not ours.
	var p Plan
	if err := json.Unmarshal(plan.Bytes(), &p); err != nil {
		t.Fatalf("plan: %v\n%s", err, plan.String())
	}
	actions := map[string][]string{}
	for _, en := range p.Entries {
		actions[en.Action] = append(actions[en.Action], en.Key)
	}
	for _, keys := range actions {
		slices.Sort(keys)
	}
	if got := strings.Join(actions[ActionDelete], ","); got != "u10,u11,u12,u13,u9" {
		t.Errorf("plan deletes %s, want u9..u13", got)
	}
	if got := strings.Join(actions[ActionNotOurs], ","); got != ",crm-1,o1" || p.Counts.NotOurs != 3 || p.Counts.Delete != 5 {
		t.Errorf("plan lists %q as not ours (counts %+v), want the user without external_id, crm-1 and o1", got, p.Counts)
	}
}

// clerkIDOf is the Clerk id of the user holding an external_id.
func clerkIDOf(t *testing.T, e *env, ext string) string {
	t.Helper()
	for _, u := range e.srv.Emulator().Snapshot().Users {
		if u.ExternalID != nil && *u.ExternalID == ext {
			return u.ID
		}
	}
	t.Fatalf("no user with external_id %s", ext)
	return ""
}

// TestOwningKindsAreTheWritingRuns: the ownership rule names the kinds of
// the runs that create or adopt users, and not the dry runs.
func TestOwningKindsAreTheWritingRuns(t *testing.T) {
	want := []string{runner.KindImport, KindSync, KindApply}
	if !slices.Equal(checkpoint.OwningKinds, want) {
		t.Errorf("checkpoint.OwningKinds = %v, want %v", checkpoint.OwningKinds, want)
	}
	for _, k := range []string{runner.KindValidate, runner.KindRollback, KindPlan} {
		if slices.Contains(checkpoint.OwningKinds, k) {
			t.Errorf("a %s run must not make users ours", k)
		}
	}
}
