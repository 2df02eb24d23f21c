package reconcile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
	"github.com/clerkmigrate/clerkmigrate/importer/migrate"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"github.com/clerkmigrate/clerkmigrate/reports"
)

// threeWayMapping is the test mapping with created_at mapped.
const threeWayMapping = testMappingYAML + "  created_at: { from: created_at, parse: timestamp }\n"

// importWithPrints imports users as the CLI does: recording the
// fingerprints of what it created, under the sync's key and scope.
func (e *env) importWithPrints(t *testing.T, users []legacyUser) {
	t.Helper()
	path := writeSource(t, e.dir, "import.csv", users)
	cfg := e.config(t, path)
	sum, err := migrate.Run(context.Background(), migrate.Config{
		Source: cfg.Source, Mapper: e.m, MappingFingerprint: e.m.Fingerprint(), Store: e.ledger,
		Index: e.ledger, FingerprintKey: cfg.FingerprintKey,
		Gateway: e.gateway(fast, pacer.Rate{}), Target: cfg.Target, Workers: 4, Logger: quietLogger(), TempDir: e.dir,
	})
	if err != nil || sum.ByOutcome[checkpoint.Created] != int64(len(users)) {
		t.Fatalf("import: %v %v", err, sum.ByOutcome)
	}
}

// clerkID is the Clerk id of the user with external_id ext.
func clerkID(t *testing.T, e *env, ext string) string {
	t.Helper()
	u, ok := users(t, e.srv.Emulator())[ext]
	if !ok {
		t.Fatalf("%s not in Clerk", ext)
	}
	return u.ID
}

// syncOutcomes runs a sync of next (with SourceWins as given) and returns
// its summary and each row's outcome and message by key (a row the ledger
// only counted is unchanged).
func (e *env) syncOutcomes(t *testing.T, next []legacyUser, sourceWins bool, plan *bytes.Buffer) (Summary, map[string]string) {
	t.Helper()
	cfg := e.config(t, writeSource(t, e.dir, "next.csv", next))
	cfg.SourceWins = sourceWins
	if plan != nil {
		cfg.PlanTo = plan
	}
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	err = e.ledger.Rows(context.Background(), sum.RunID, checkpoint.Filter{}, func(r checkpoint.RowState) error {
		rows[r.Key] = string(r.Outcome) + ": " + r.Message
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range next {
		if _, ok := rows[u.ID]; !ok { // unchanged and owned: counted, not recorded (tallyUnchanged)
			rows[u.ID] = "unchanged: "
		}
	}
	return sum, rows
}

// TestThreeWayDiff: what the import wrote is the base. A field edited in
// Clerk only is kept and reported as drift (every night, until one side
// changes); a field edited on both sides is a conflict, kept unless
// SourceWins; a field edited in the source only is written, created_at
// included; metadata keys are judged one by one (a key Clerk's code added
// beside one the source changed is neither lost nor a conflict). --plan
// gives each row the verdict the sync then acts on.
func TestThreeWayDiff(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, emulator.Config{})
	e.useMapping(t, "threeway.yaml", threeWayMapping)
	var base []legacyUser
	for i := 1; i <= 6; i++ {
		u := baseUser(i)
		u.CreatedAt = fmt.Sprintf("2020-01-0%dT10:00:00Z", i)
		base = append(base, u)
	}
	e.importWithPrints(t, base)

	// Edits in Clerk, between the import and the first sync.
	for ext, p := range map[string]*clerk.UpdateUserParams{
		"u1": {FirstName: request.Value("Edited-in-Clerk")}, // drift
		"u2": {LastName: request.Value("Clerk-Last")},       // conflict: the source changes it too
	} {
		if _, err := e.api.UpdateUser(ctx, clerkID(t, e, ext), p); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.api.UpdateUserMetadata(ctx, clerkID(t, e, "u5"), &clerk.MetadataParams{
		PublicMetadata: map[string]any{"crm": "gold"}}); err != nil {
		t.Fatal(err)
	}
	// Edits in the source.
	next := append([]legacyUser(nil), base...)
	next[1].Last = "Source-Last"               // u2: conflict
	next[2].First = "Source-First"             // u3: written
	next[3].CreatedAt = "2018-06-01T00:00:00Z" // u4: created_at written
	next[4].Plan = "pro"                       // u5: written, crm kept

	var plan bytes.Buffer
	psum, planned := e.syncOutcomes(t, next, false, &plan)
	sum, rows := e.syncOutcomes(t, next, false, nil)
	for key, want := range map[string]string{"u1": "drift", "u2": "conflict", "u3": "updated", "u4": "updated", "u5": "updated", "u6": "unchanged"} {
		if !strings.HasPrefix(rows[key], want+":") {
			t.Errorf("%s: %q, want %s", key, rows[key], want)
		}
	}
	for _, want := range []string{"first_name", "Clerk's value kept"} {
		if !strings.Contains(rows["u1"], want) || !strings.Contains(rows["u2"], "last_name") {
			t.Errorf("u1 %q / u2 %q do not name the field and what was kept (%s)", rows["u1"], rows["u2"], want)
		}
	}
	if !strings.Contains(rows["u4"], "created_at") {
		t.Errorf("u4: %q, want created_at changed", rows["u4"])
	}
	if sum.ByOutcome[checkpoint.Drift] != 1 || sum.ByOutcome[checkpoint.Conflict] != 1 {
		t.Errorf("sync counts %v: want 1 drift, 1 conflict", sum.ByOutcome)
	}
	checkEditReports(t, e, sum.RunID)
	// One verdict: the plan made just before said the same of every row.
	var p Plan
	if err := json.Unmarshal(plan.Bytes(), &p); err != nil {
		t.Fatalf("%v\n%s", err, plan.String())
	}
	if p.Counts.Drift != 1 || p.Counts.Conflict != 1 || p.Counts.Update != 3 || p.Counts.Unchanged != 1 ||
		psum.ByOutcome[checkpoint.Drift] != 1 || psum.ByOutcome[checkpoint.Conflict] != 1 {
		t.Errorf("plan counts %+v, plan run %v: want 1 drift, 1 conflict, 3 updates, 1 unchanged", p.Counts, psum.ByOutcome)
	}
	for _, en := range p.Entries {
		got := fmt.Sprintf("%s %v %v %v", en.Action, en.Fields, en.Drift, en.Conflicts)
		want := map[string]string{"u1": "keep [] [first_name] []", "u2": "keep [] [] [last_name]",
			"u3": "update [first_name] [] []", "u4": "update [created_at] [] []", "u5": "update [public_metadata] [] []"}[en.Key]
		if got != want {
			t.Errorf("plan entry %s: %s, want %s", en.Key, got, want)
		}
		if o := strings.SplitN(planned[en.Key], ":", 2)[0]; o != strings.SplitN(rows[en.Key], ":", 2)[0] && o != "valid" {
			t.Errorf("%s: the plan run says %q, the sync %q", en.Key, planned[en.Key], rows[en.Key])
		}
	}

	got := users(t, e.srv.Emulator())
	if deref(got["u1"].FirstName) != "Edited-in-Clerk" || deref(got["u2"].LastName) != "Clerk-Last" {
		t.Errorf("Clerk-side edits overwritten: u1 first %q, u2 last %q", deref(got["u1"].FirstName), deref(got["u2"].LastName))
	}
	if deref(got["u3"].FirstName) != "Source-First" {
		t.Errorf("u3 first_name %q: the source's edit was not written", deref(got["u3"].FirstName))
	}
	if want, _ := time.Parse(time.RFC3339, next[3].CreatedAt); got["u4"].CreatedAt != want.UnixMilli() {
		t.Errorf("u4 created_at %d, want %d", got["u4"].CreatedAt, want.UnixMilli())
	}
	if m := got["u5"].PublicMetadata; m["plan"] != "pro" || m["crm"] != "gold" {
		t.Errorf("u5 public_metadata %v: want plan pro and Clerk's crm kept", m)
	}

	// The next night: the same drift and conflict, reported again, no write.
	before := e.srv.Emulator().Stats()
	sum, rows = e.syncOutcomes(t, next, false, nil)
	if _, writes, routes := calls(before, e.srv.Emulator().Stats()); writes != 0 || sum.ByOutcome[checkpoint.Drift] != 1 ||
		sum.ByOutcome[checkpoint.Conflict] != 1 {
		t.Errorf("second sync: %d writes %v, outcomes %v; want none, 1 drift, 1 conflict", writes, routes, sum.ByOutcome)
	}
	// --source-wins: the conflict is settled with the source's value; the
	// drift stays Clerk's.
	sum, rows = e.syncOutcomes(t, next, true, nil)
	got = users(t, e.srv.Emulator())
	if deref(got["u2"].LastName) != "Source-Last" || !strings.HasPrefix(rows["u2"], "conflict:") ||
		!strings.Contains(rows["u2"], "--source-wins") || deref(got["u1"].FirstName) != "Edited-in-Clerk" {
		t.Errorf("--source-wins: u2 %q last %q, u1 first %q", rows["u2"], deref(got["u2"].LastName), deref(got["u1"].FirstName))
	}
	_, rows = e.syncOutcomes(t, next, false, nil)
	if !strings.HasPrefix(rows["u2"], "unchanged") || !strings.HasPrefix(rows["u1"], "drift") {
		t.Errorf("after --source-wins: u2 %q, u1 %q; want unchanged and drift", rows["u2"], rows["u1"])
	}
	// A plan says how it settles conflicts, and is applied only the same way.
	plan.Reset()
	e.syncOutcomes(t, next, true, &plan)
	var sw Plan
	if err := json.Unmarshal(plan.Bytes(), &sw); err != nil || !sw.SourceWins {
		t.Fatalf("plan with --source-wins: %v, source_wins %v", err, sw.SourceWins)
	}
	cfg := e.config(t, writeSource(t, e.dir, "next.csv", next))
	cfg.ApplyPlan = &sw
	if _, err := Run(ctx, cfg); !errors.Is(err, ErrStalePlan) || !strings.Contains(fmt.Sprint(err), "--source-wins") {
		t.Errorf("applying a --source-wins plan without it: %v, want refused as stale", err)
	}
}

// TestThreeWayIdentifiersAndReplacedMetadata: addresses are judged one by
// one and the primary as a field. An address a user added in Clerk is
// kept by --prune-identifiers (it deletes only what the tool wrote), a
// primary switched in Clerk is not switched back, an address the tool
// wrote that was removed in Clerk is not added back, and in Replace mode a
// metadata key Clerk-side code added is kept: each is drift, reported,
// and costs no call.
func TestThreeWayIdentifiersAndReplacedMetadata(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, emulator.Config{})
	seed := seedUsers(5)
	e.importWithPrints(t, seed)
	addEmail := func(ext, addr string, primary bool) {
		t.Helper()
		p := clerk.CreateEmailAddressParams{UserID: clerkID(t, e, ext), EmailAddress: addr, Verified: request.Value(true)}
		if primary {
			p.Primary = request.Value(true)
		}
		if _, err := e.api.CreateEmailAddress(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	addEmail("u1", "own@example.org", false)        // u1 adds an address in Clerk
	addEmail("u2", "new-primary@example.org", true) // u2 makes another address primary
	addEmail("u3", "moved@example.org", true)       // u3 moves to another address and drops the old one
	for _, a := range users(t, e.srv.Emulator())["u3"].EmailAddresses {
		if a.Value == seed[2].Email {
			if err := e.api.DeleteEmailAddress(ctx, a.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := e.api.UpdateUserMetadata(ctx, clerkID(t, e, "u4"), &clerk.MetadataParams{
		PublicMetadata: map[string]any{"crm": "gold"}}); err != nil {
		t.Fatal(err)
	}

	cfg := e.config(t, writeSource(t, e.dir, "same.csv", seed))
	cfg.PruneIdentifiers, cfg.Metadata = true, Replace
	before := e.srv.Emulator().Stats()
	sum, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, writes, routes := calls(before, e.srv.Emulator().Stats()); writes != 0 {
		t.Errorf("the sync wrote over Clerk-side edits: %v", routes)
	}
	rows := map[string]string{}
	e.ledger.Rows(ctx, sum.RunID, checkpoint.Filter{}, func(r checkpoint.RowState) error {
		rows[r.Key] = string(r.Outcome) + ": " + r.Message
		return nil
	})
	for key, want := range map[string][]string{
		"u1": {"drift:", "email_address own@example.org was added in Clerk: kept"},
		"u2": {"drift:", "primary_email_address"},
		"u3": {"drift:", "primary_email_address", "was removed in Clerk: not added back"},
		"u4": {"drift:", "public_metadata.crm"},
	} {
		for _, w := range want {
			if !strings.Contains(rows[key], w) {
				t.Errorf("%s: %q, want it to say %q", key, rows[key], w)
			}
		}
	}
	if sum.ByOutcome[checkpoint.Drift] != 4 {
		t.Errorf("outcomes %v, want 4 drift", sum.ByOutcome)
	}
	got := users(t, e.srv.Emulator())
	if p := primary(got["u2"].EmailAddresses, got["u2"].PrimaryEmailAddressID); p != "new-primary@example.org" {
		t.Errorf("u2's primary switched back to %q", p)
	}
	if len(got["u1"].EmailAddresses) != 2 || len(got["u3"].EmailAddresses) != 1 || got["u4"].PublicMetadata["crm"] != "gold" {
		t.Errorf("u1 has %d addresses, u3 %d, u4's metadata %v: Clerk-side edits undone", len(got["u1"].EmailAddresses),
			len(got["u3"].EmailAddresses), got["u4"].PublicMetadata)
	}
}

// checkEditReports: summary.json counts the run's drift and conflict, and
// report.html lists those users in a section of their own.
func checkEditReports(t *testing.T, e *env, runID string) {
	t.Helper()
	files, err := reports.Write(context.Background(), e.ledger, runID, filepath.Join(e.dir, "reports", runID), reports.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Counts map[string]int64 `json:"counts_by_outcome"`
	}
	b, err := os.ReadFile(files.Summary)
	if err != nil || json.Unmarshal(b, &sum) != nil || sum.Counts["drift"] != 1 || sum.Counts["conflict"] != 1 {
		t.Errorf("summary.json counts %v (%v), want drift 1, conflict 1", sum.Counts, err)
	}
	html, err := os.ReadFile(files.HTML)
	if err != nil {
		t.Fatal(err)
	}
	section := string(html)
	if i := strings.Index(section, `id="clerk-edits"`); i >= 0 {
		section = section[i:]
		section = section[:strings.Index(section, "</section>")]
	} else {
		section = ""
	}
	for _, want := range []string{"1 drift, 1 conflict", ">u1<", ">u2<", "first_name", "last_name"} {
		if !strings.Contains(section, want) {
			t.Errorf("report.html's section of Clerk-side edits lacks %q:\n%s", want, section)
		}
	}
}

// TestSecretDroppedBySourceIsNamed: a password the source no longer has
// cannot be taken back through the API; the row says so once, instead of
// the sync passing over it in silence.
func TestSecretDroppedBySourceIsNamed(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	seed := seedUsers(2)
	e.importWithPrints(t, seed)
	next := append([]legacyUser(nil), seed...)
	next[0].NoDigest = true
	_, rows := e.syncOutcomes(t, next, false, nil)
	if !strings.HasPrefix(rows["u1"], "unchanged") || !strings.Contains(rows["u1"], "password removed in the source: not synced") {
		t.Errorf("u1: %q, want unchanged, saying the password is not synced", rows["u1"])
	}
	if _, rows = e.syncOutcomes(t, next, false, nil); rows["u1"] != "unchanged: " {
		t.Errorf("the next sync: u1 %q, want unchanged with nothing to say", rows["u1"])
	}
}
