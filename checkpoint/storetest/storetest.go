// Package storetest is the suite every checkpoint.Store must pass:
//
//	func TestStore(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) checkpoint.Store { ... })
//	}
//
// open is called once or more per test: calls with the same *testing.T must
// return distinct Stores over one ledger (the same file, the same database
// schema), fresh for that test, so that the suite can play two processes.
// The Store must also have a Columns method (see Columner) so that the suite
// can audit its schema.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// Columner lists a store's tables and their columns.
type Columner interface {
	Columns(ctx context.Context) (map[string][]string, error)
}

// Opener opens a Store over the test's ledger.
type Opener func(t *testing.T) checkpoint.Store

// Run runs the suite against the stores open returns.
func Run(t *testing.T, open Opener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, open Opener)
	}{
		{"BeginNewRun", testBeginNewRun},
		{"ReopenAfterClose", testReopenAfterClose},
		{"ReopenBySameStore", testReopenBySameStore},
		{"FingerprintMismatch", testFingerprintMismatch},
		{"EmptyRunID", testEmptyRunID},
		{"InFlightThenSettle", testInFlightThenSettle},
		{"SettleReplaces", testSettleReplaces},
		{"RefusesBadBatch", testRefusesBadBatch},
		{"Filters", testFilters},
		{"Ordering", testOrdering},
		{"RowsAcrossPages", testRowsAcrossPages},
		{"ProgressAndMaxSettledPos", testProgress},
		{"Tally", testTally},
		{"Meta", testMeta},
		{"FinishRun", testFinishRun},
		{"RunsNewestFirst", testRunsNewestFirst},
		{"ConcurrentWrites", testConcurrentWrites},
		{"SecondStoreLocked", testSecondStoreLocked},
		{"TargetLocked", testTargetLocked},
		{"TargetLockedInOneStore", testTargetLockedInOneStore},
		{"TargetReleasedByClose", testTargetReleasedByClose},
		{"SharedTarget", testSharedTarget},
		{"ReopenKeepsTarget", testReopenKeepsTarget},
		{"ContextCanceled", testContextCanceled},
		{"RowsStopsOnFnError", testRowsStopsOnFnError},
		{"WriteDuringRows", testWriteDuringRows},
		{"Closed", testClosed},
		{"UnknownRun", testUnknownRun},
		{"SchemaHoldsNoRequest", testSchemaHoldsNoRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

func spec(id string) checkpoint.RunSpec {
	return checkpoint.RunSpec{ID: id, Kind: "import", SourceFingerprint: "src-1", MappingFingerprint: "map-1"}
}

func begin(t *testing.T, s checkpoint.Store, sp checkpoint.RunSpec) checkpoint.Run {
	t.Helper()
	run, err := s.BeginRun(context.Background(), sp)
	if err != nil {
		t.Fatalf("BeginRun(%q): %v", sp.ID, err)
	}
	return run
}

func mark(t *testing.T, s checkpoint.Store, runID string, pos ...int64) {
	t.Helper()
	rows := make([]checkpoint.Row, len(pos))
	for i, p := range pos {
		rows[i] = checkpoint.Row{Pos: p, Key: fmt.Sprintf("user-%d", p), RequestHash: fmt.Sprintf("h%d", p)}
	}
	if err := s.MarkInFlight(context.Background(), runID, rows); err != nil {
		t.Fatalf("MarkInFlight(%v): %v", pos, err)
	}
}

func settle(t *testing.T, s checkpoint.Store, runID string, o checkpoint.Outcome, pos ...int64) {
	t.Helper()
	ss := make([]checkpoint.Settlement, len(pos))
	for i, p := range pos {
		ss[i] = checkpoint.Settlement{Pos: p, Key: fmt.Sprintf("user-%d", p), Outcome: o, Attempts: 1}
	}
	if err := s.Settle(context.Background(), runID, ss); err != nil {
		t.Fatalf("Settle(%v): %v", pos, err)
	}
}

func span(from, to int64) []int64 {
	var out []int64
	for p := from; p <= to; p++ {
		out = append(out, p)
	}
	return out
}

func collect(t *testing.T, s checkpoint.Store, runID string, f checkpoint.Filter) []checkpoint.RowState {
	t.Helper()
	var out []checkpoint.RowState
	if err := s.Rows(context.Background(), runID, f, func(r checkpoint.RowState) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatalf("Rows(%+v): %v", f, err)
	}
	return out
}

// checkCounts asserts that Progress counts what Rows yields.
func checkCounts(t *testing.T, s checkpoint.Store, runID string) {
	t.Helper()
	want := checkpoint.Progress{ByOutcome: map[checkpoint.Outcome]int64{}}
	for _, r := range collect(t, s, runID, checkpoint.Filter{}) {
		if r.InFlight {
			want.InFlight++
		} else {
			want.ByOutcome[r.Outcome]++
		}
	}
	got := progress(t, s, runID)
	if got.InFlight != want.InFlight || !reflect.DeepEqual(got.ByOutcome, want.ByOutcome) {
		t.Errorf("Progress counts %d in flight, %v; Rows holds %d in flight, %v", got.InFlight, got.ByOutcome, want.InFlight, want.ByOutcome)
	}
}

func positions(rows []checkpoint.RowState) []int64 {
	out := []int64{}
	for _, r := range rows {
		out = append(out, r.Pos)
	}
	return out
}

func progress(t *testing.T, s checkpoint.Store, runID string) checkpoint.Progress {
	t.Helper()
	p, err := s.Progress(context.Background(), runID)
	if err != nil {
		t.Fatalf("Progress: %v", err)
	}
	return p
}

func closeStore(t *testing.T, s checkpoint.Store) {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func findRun(t *testing.T, s checkpoint.Store, id string) checkpoint.Run {
	t.Helper()
	runs, err := s.Runs(context.Background())
	if err != nil {
		t.Fatalf("Runs: %v", err)
	}
	for _, r := range runs {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("Runs has no run %q (has %d runs)", id, len(runs))
	return checkpoint.Run{}
}

func testBeginNewRun(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	sp := spec("r1")
	sp.Meta = map[string]string{"source": "users.csv"}
	before := time.Now().Add(-time.Second)
	run := begin(t, s, sp)
	after := time.Now().Add(time.Second)
	if run.ID != "r1" || run.Kind != "import" || run.SourceFingerprint != "src-1" || run.MappingFingerprint != "map-1" {
		t.Errorf("run = %+v, want the spec's id, kind and fingerprints", run)
	}
	if run.Status != checkpoint.Running || run.Reopened {
		t.Errorf("Status, Reopened = %q, %v; want running, false", run.Status, run.Reopened)
	}
	if run.StartedAt.Before(before) || run.StartedAt.After(after) {
		t.Errorf("StartedAt = %v, want about now", run.StartedAt)
	}
	if !reflect.DeepEqual(run.Meta, sp.Meta) {
		t.Errorf("Meta = %v, want %v", run.Meta, sp.Meta)
	}
	if p := progress(t, s, "r1"); p.InFlight != 0 || p.Settled() != 0 || p.MaxSettledPos != 0 {
		t.Errorf("Progress of a new run = %+v, want zero", p)
	}
}

func testReopenAfterClose(t *testing.T, open Opener) {
	s1 := open(t)
	sp := spec("r1")
	sp.Meta = map[string]string{"source": "users.csv"}
	first := begin(t, s1, sp)
	settle(t, s1, "r1", checkpoint.Created, 1, 2)
	mark(t, s1, "r1", 3)
	closeStore(t, s1)

	s2 := open(t)
	defer s2.Close()
	if got := findRun(t, s2, "r1"); got.Status != checkpoint.Interrupted {
		t.Errorf("after Close without FinishRun, Status = %q, want interrupted", got.Status)
	}
	sp.Meta = map[string]string{"since": "2026-05-01"}
	run := begin(t, s2, sp)
	if !run.Reopened || run.Status != checkpoint.Running {
		t.Errorf("Reopened, Status = %v, %q; want true, running", run.Reopened, run.Status)
	}
	if !run.StartedAt.Equal(first.StartedAt) {
		t.Errorf("StartedAt = %v, want the first start %v", run.StartedAt, first.StartedAt)
	}
	want := map[string]string{"source": "users.csv", "since": "2026-05-01"}
	if !reflect.DeepEqual(run.Meta, want) {
		t.Errorf("Meta = %v, want merged %v", run.Meta, want)
	}
	rows := collect(t, s2, "r1", checkpoint.Filter{})
	if got := positions(rows); !reflect.DeepEqual(got, []int64{1, 2, 3}) || !rows[2].InFlight {
		t.Errorf("rows after reopen = %+v, want 1, 2 settled and 3 in flight", rows)
	}
	settle(t, s2, "r1", checkpoint.Created, 3)
	if p := progress(t, s2, "r1"); p.MaxSettledPos != 3 || p.ByOutcome[checkpoint.Created] != 3 {
		t.Errorf("Progress = %+v, want 3 created up to 3", p)
	}
}

func testReopenBySameStore(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	begin(t, s, spec("r1"))
	again := begin(t, s, spec("r1"))
	if !again.Reopened {
		t.Errorf("second BeginRun of a held run: Reopened = false, want true")
	}
	settle(t, s, "r1", checkpoint.Created, 1)
}

func testFingerprintMismatch(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	begin(t, s, spec("r1"))
	if err := s.FinishRun(context.Background(), "r1", checkpoint.Interrupted); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		source, mapng string
		force         bool
		wantErr       bool
	}{
		{"source differs", "src-2", "map-1", false, true},
		{"mapping differs", "src-1", "map-2", false, true},
		{"both differ", "src-2", "map-2", false, true},
		{"same", "src-1", "map-1", false, false},
		{"forced", "src-3", "map-3", true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sp := spec("r1")
			sp.SourceFingerprint, sp.MappingFingerprint, sp.Force = tc.source, tc.mapng, tc.force
			run, err := s.BeginRun(context.Background(), sp)
			if tc.wantErr {
				if !errors.Is(err, checkpoint.ErrFingerprintMismatch) {
					t.Fatalf("BeginRun = %v, want ErrFingerprintMismatch", err)
				}
				if err := s.MarkInFlight(context.Background(), "r1", []checkpoint.Row{{Pos: 1}}); !errors.Is(err, checkpoint.ErrNotHeld) {
					t.Errorf("after a refused reopen MarkInFlight = %v, want ErrNotHeld", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("BeginRun = %v", err)
			}
			if run.SourceFingerprint != tc.source || run.MappingFingerprint != tc.mapng || !run.Reopened {
				t.Errorf("run = %+v, want fingerprints %s/%s, reopened", run, tc.source, tc.mapng)
			}
			if err := s.FinishRun(context.Background(), "r1", checkpoint.Interrupted); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func testEmptyRunID(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	if _, err := s.BeginRun(context.Background(), spec("")); err == nil {
		t.Fatal("BeginRun with an empty ID succeeded")
	}
}

func testInFlightThenSettle(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	begin(t, s, spec("r1"))
	mark(t, s, "r1", 1, 2, 3)
	rows := collect(t, s, "r1", checkpoint.Filter{})
	if len(rows) != 3 {
		t.Fatalf("rows = %+v, want 3", rows)
	}
	for _, r := range rows {
		if !r.InFlight || r.Outcome != "" || r.Key != fmt.Sprintf("user-%d", r.Pos) || r.RequestHash != fmt.Sprintf("h%d", r.Pos) || r.UpdatedAt.IsZero() {
			t.Errorf("in-flight row = %+v", r)
		}
	}
	if p := progress(t, s, "r1"); p.InFlight != 3 || p.Settled() != 0 || p.MaxSettledPos != 0 {
		t.Errorf("Progress = %+v, want 3 in flight", p)
	}
	want := []checkpoint.Settlement{
		{Pos: 1, Key: "user-1", Outcome: checkpoint.Created, ClerkID: "user_2abc", Attempts: 1, RequestHash: "h1"},
		{Pos: 2, Key: "user-2", Outcome: checkpoint.Failed, ErrorCode: "form_identifier_exists", Field: "email_address",
			Message: "That email address is taken.", Attempts: 3, Retryable: true, RequestHash: "h2"},
	}
	if err := s.Settle(context.Background(), "r1", want); err != nil {
		t.Fatal(err)
	}
	rows = collect(t, s, "r1", checkpoint.Filter{})
	for i, w := range want {
		if rows[i].Settlement != w || rows[i].InFlight {
			t.Errorf("row %d = %+v, want %+v settled", i+1, rows[i], w)
		}
	}
	if !rows[2].InFlight {
		t.Errorf("row 3 = %+v, want still in flight", rows[2])
	}
	p := progress(t, s, "r1")
	if p.InFlight != 1 || p.ByOutcome[checkpoint.Created] != 1 || p.ByOutcome[checkpoint.Failed] != 1 || p.MaxSettledPos != 2 {
		t.Errorf("Progress = %+v, want 1 in flight, 1 created, 1 failed, max settled 2", p)
	}
}

func testSettleReplaces(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	ctx := context.Background()
	begin(t, s, spec("r1"))
	first := checkpoint.Settlement{Pos: 1, Key: "k", Outcome: checkpoint.Failed, ErrorCode: "rate_limited", Message: "slow down", Retryable: true, Attempts: 5}
	second := checkpoint.Settlement{Pos: 1, Key: "k", Outcome: checkpoint.Created, ClerkID: "user_1", Attempts: 1}
	for _, x := range []checkpoint.Settlement{first, second} {
		if err := s.Settle(ctx, "r1", []checkpoint.Settlement{x}); err != nil {
			t.Fatal(err)
		}
	}
	rows := collect(t, s, "r1", checkpoint.Filter{})
	if len(rows) != 1 || rows[0].Settlement != second {
		t.Fatalf("rows = %+v, want only %+v", rows, second)
	}
	mark(t, s, "r1", 1)
	rows = collect(t, s, "r1", checkpoint.Filter{})
	if len(rows) != 1 || !rows[0].InFlight || rows[0].Outcome != "" {
		t.Fatalf("after a new mark rows = %+v, want one row in flight", rows)
	}
	if p := progress(t, s, "r1"); p.InFlight != 1 || p.Settled() != 0 || p.MaxSettledPos != 0 {
		t.Errorf("Progress = %+v, want 1 in flight only", p)
	}
	// The last settlement of a position in one batch wins.
	batch := []checkpoint.Settlement{first, {Pos: 2, Outcome: checkpoint.Invalid}, second}
	if err := s.Settle(ctx, "r1", batch); err != nil {
		t.Fatal(err)
	}
	rows = collect(t, s, "r1", checkpoint.Filter{})
	if len(rows) != 2 || rows[0].Settlement != second || rows[1].Outcome != checkpoint.Invalid {
		t.Fatalf("rows = %+v, want 1 created, 2 invalid", rows)
	}
	if p := progress(t, s, "r1"); p.InFlight != 0 || p.Settled() != 2 || p.MaxSettledPos != 2 {
		t.Errorf("Progress = %+v, want 2 settled", p)
	}
	checkCounts(t, s, "r1")
}

func testRefusesBadBatch(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	ctx := context.Background()
	begin(t, s, spec("r1"))
	tests := []struct {
		name  string
		call  func() error
		inMsg string
	}{
		{"settle pos 0", func() error {
			return s.Settle(ctx, "r1", []checkpoint.Settlement{{Pos: 1, Outcome: checkpoint.Created}, {Pos: 0, Outcome: checkpoint.Created}})
		}, "pos 0"},
		{"settle empty outcome", func() error {
			return s.Settle(ctx, "r1", []checkpoint.Settlement{{Pos: 1, Outcome: checkpoint.Created}, {Pos: 7}})
		}, "pos 7"},
		{"mark negative pos", func() error {
			return s.MarkInFlight(ctx, "r1", []checkpoint.Row{{Pos: 1}, {Pos: -3}})
		}, "pos -3"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if err == nil || !strings.Contains(err.Error(), tc.inMsg) {
				t.Fatalf("err = %v, want one naming %q", err, tc.inMsg)
			}
			if rows := collect(t, s, "r1", checkpoint.Filter{}); len(rows) != 0 {
				t.Errorf("a refused batch wrote %+v", rows)
			}
		})
	}
}

func testFilters(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	ctx := context.Background()
	begin(t, s, spec("r1"))
	mark(t, s, "r1", 4, 7)
	err := s.Settle(ctx, "r1", []checkpoint.Settlement{
		{Pos: 1, Outcome: checkpoint.Created},
		{Pos: 2, Outcome: checkpoint.Failed, Retryable: true},
		{Pos: 3, Outcome: checkpoint.Failed},
		{Pos: 5, Outcome: checkpoint.Invalid},
		{Pos: 6, Outcome: checkpoint.Exists},
		{Pos: 8, Outcome: checkpoint.Failed, Retryable: true},
		{Pos: 9, Outcome: checkpoint.Created},
	})
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	tests := []struct {
		name string
		f    checkpoint.Filter
		want []int64
	}{
		{"zero", checkpoint.Filter{}, span(1, 9)},
		{"from pos", checkpoint.Filter{FromPos: 6}, []int64{6, 7, 8, 9}},
		{"from pos past the end", checkpoint.Filter{FromPos: 10}, []int64{}},
		{"in flight", checkpoint.Filter{InFlight: true}, []int64{4, 7}},
		{"in flight from pos", checkpoint.Filter{InFlight: true, FromPos: 5}, []int64{7}},
		{"one outcome", checkpoint.Filter{Outcomes: []checkpoint.Outcome{checkpoint.Created}}, []int64{1, 9}},
		{"two outcomes", checkpoint.Filter{Outcomes: []checkpoint.Outcome{checkpoint.Invalid, checkpoint.Exists}}, []int64{5, 6}},
		{"outcome from pos", checkpoint.Filter{Outcomes: []checkpoint.Outcome{checkpoint.Failed}, FromPos: 3}, []int64{3, 8}},
		{"retryable", checkpoint.Filter{Retryable: &yes}, []int64{2, 8}},
		{"not retryable", checkpoint.Filter{Retryable: &no}, []int64{3}},
		{"retryable and failed", checkpoint.Filter{Retryable: &yes, Outcomes: []checkpoint.Outcome{checkpoint.Failed}}, []int64{2, 8}},
		{"in flight and an outcome", checkpoint.Filter{InFlight: true, Outcomes: []checkpoint.Outcome{checkpoint.Created}}, []int64{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := positions(collect(t, s, "r1", tc.f)); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("positions = %v, want %v", got, tc.want)
			}
		})
	}
}

func testOrdering(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	begin(t, s, spec("r1"))
	all := span(1, 300)
	rng := rand.New(rand.NewSource(7))
	rng.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	for i := 0; i < len(all); i += 37 {
		batch := all[i:min(i+37, len(all))]
		if i%2 == 0 {
			mark(t, s, "r1", batch...)
		} else {
			settle(t, s, "r1", checkpoint.Created, batch...)
		}
	}
	if got := positions(collect(t, s, "r1", checkpoint.Filter{})); !reflect.DeepEqual(got, span(1, 300)) {
		t.Errorf("Rows yielded %v, want 1..300 in order", got)
	}
	checkCounts(t, s, "r1")
}

func testRowsAcrossPages(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	ctx := context.Background()
	begin(t, s, spec("r1"))
	const total = 2500
	all := span(1, total)
	rand.New(rand.NewSource(3)).Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	outcomes := []checkpoint.Outcome{checkpoint.Created, checkpoint.Exists, checkpoint.Failed, checkpoint.Invalid}
	var ss []checkpoint.Settlement
	for _, p := range all {
		ss = append(ss, checkpoint.Settlement{Pos: p, Outcome: outcomes[p%4], Retryable: p%8 == 2})
	}
	for i := 0; i < len(ss); i += 700 {
		if err := s.Settle(ctx, "r1", ss[i:min(i+700, len(ss))]); err != nil {
			t.Fatal(err)
		}
	}
	var thirds, failed, retryable []int64
	for p := int64(1); p <= total; p++ {
		if p%3 == 0 {
			thirds = append(thirds, p)
		} else if p%4 == 2 {
			failed = append(failed, p)
			if p%8 == 2 {
				retryable = append(retryable, p)
			}
		}
	}
	mark(t, s, "r1", thirds...)
	yes := true
	tests := []struct {
		name string
		f    checkpoint.Filter
		want []int64
	}{
		{"all", checkpoint.Filter{}, span(1, total)},
		{"from pos", checkpoint.Filter{FromPos: 1001}, span(1001, total)},
		{"in flight", checkpoint.Filter{InFlight: true}, thirds},
		{"failed", checkpoint.Filter{Outcomes: []checkpoint.Outcome{checkpoint.Failed}}, failed},
		{"retryable", checkpoint.Filter{Retryable: &yes}, retryable},
	}
	for _, tc := range tests {
		if got := positions(collect(t, s, "r1", tc.f)); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: Rows yielded %d rows, want %d in order", tc.name, len(got), len(tc.want))
		}
	}
	checkCounts(t, s, "r1")
	if p := progress(t, s, "r1"); p.MaxSettledPos != 2 {
		t.Errorf("MaxSettledPos = %d, want 2 (row 3 is in flight)", p.MaxSettledPos)
	}
}

// step is one write of a Progress scenario.
type step struct {
	mark bool // MarkInFlight, else Settle as Created
	pos  []int64
}

// testTally: counts tallied without rows add to Progress (and so to status
// and summary.json) but not to Rows; a run not held is refused.
func testTally(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	tl, ok := s.(checkpoint.Tallier)
	if !ok {
		t.Skipf("%T does not tally", s)
	}
	ctx := context.Background()
	begin(t, s, spec("r1"))
	if err := s.Settle(ctx, "r1", []checkpoint.Settlement{{Pos: 1, Key: "a", Outcome: checkpoint.Updated}, {Pos: 4, Key: "d", Outcome: checkpoint.Unchanged}}); err != nil {
		t.Fatal(err)
	}
	if err := tl.Tally(ctx, "r1", map[checkpoint.Outcome]int64{checkpoint.Unchanged: 2}); err != nil {
		t.Fatal(err)
	}
	if err := tl.Tally(ctx, "r1", map[checkpoint.Outcome]int64{checkpoint.Unchanged: 3, checkpoint.Updated: 0}); err != nil {
		t.Fatal(err)
	}
	p, err := s.Progress(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if p.ByOutcome[checkpoint.Unchanged] != 6 || p.ByOutcome[checkpoint.Updated] != 1 || p.Settled() != 7 || p.MaxSettledPos != 1 {
		t.Errorf("Progress = %+v (settled %d); want 6 unchanged (1 row, 5 tallied), 1 updated, max settled 1", p, p.Settled())
	}
	n := 0
	if err := s.Rows(ctx, "r1", checkpoint.Filter{}, func(checkpoint.RowState) error { n++; return nil }); err != nil || n != 2 {
		t.Errorf("Rows yielded %d rows, %v; want the 2 recorded", n, err)
	}
	if err := tl.Tally(ctx, "r1", map[checkpoint.Outcome]int64{"": 1}); err == nil {
		t.Error("a tally without an outcome was accepted")
	}
	if err := s.FinishRun(ctx, "r1", checkpoint.Done); err != nil {
		t.Fatal(err)
	}
	if err := tl.Tally(ctx, "r1", map[checkpoint.Outcome]int64{checkpoint.Unchanged: 1}); !errors.Is(err, checkpoint.ErrNotHeld) {
		t.Errorf("Tally of a finished run = %v, want ErrNotHeld", err)
	}
}

func testProgress(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	settled := func(p ...int64) step { return step{pos: p} }
	inFlight := func(p ...int64) step { return step{mark: true, pos: p} }
	tests := []struct {
		name         string
		steps        []step
		wantMax      int64
		wantInFlight int64
		wantSettled  int64
	}{
		{"empty", nil, 0, 0, 0},
		{"prefix", []step{settled(span(1, 5)...)}, 5, 0, 5},
		{"gap", []step{settled(1, 2, 3, 5)}, 3, 0, 4},
		{"first row missing", []step{settled(span(2, 5)...)}, 0, 0, 4},
		{"gap filled later", []step{settled(1, 2, 4, 5), settled(3)}, 5, 0, 5},
		{"later batch first", []step{settled(span(6, 10)...), settled(span(1, 5)...)}, 10, 0, 10},
		{"in flight in the prefix", []step{settled(span(1, 5)...), inFlight(3)}, 2, 1, 4},
		{"in flight settled backwards", []step{inFlight(span(1, 10)...), settled(span(6, 10)...), settled(span(1, 5)...)}, 10, 0, 10},
		{"in flight partly settled", []step{inFlight(span(1, 5)...), settled(1, 2)}, 2, 3, 2},
		{"retry then settle", []step{settled(span(1, 10)...), inFlight(4), settled(4)}, 10, 0, 10},
		{"in flight beyond a gap", []step{settled(1, 2), inFlight(4)}, 2, 1, 2},
		{"long walk", []step{settled(span(2, 6000)...), settled(1)}, 6000, 0, 6000},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id := fmt.Sprintf("progress-%d", i)
			begin(t, s, spec(id))
			for _, st := range tc.steps {
				for j := 0; j < len(st.pos); j += 1000 {
					batch := st.pos[j:min(j+1000, len(st.pos))]
					if st.mark {
						mark(t, s, id, batch...)
					} else {
						settle(t, s, id, checkpoint.Created, batch...)
					}
				}
			}
			checkCounts(t, s, id)
			p := progress(t, s, id)
			if p.MaxSettledPos != tc.wantMax || p.InFlight != tc.wantInFlight || p.Settled() != tc.wantSettled ||
				p.ByOutcome[checkpoint.Created] != tc.wantSettled {
				t.Errorf("Progress = %+v, want max settled %d, %d in flight, %d created", p, tc.wantMax, tc.wantInFlight, tc.wantSettled)
			}
		})
	}
}

func testMeta(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	sp := spec("r1")
	sp.Meta = map[string]string{"a": "1"}
	begin(t, s, sp)
	for _, kv := range [][2]string{{"since", "2026-05-01T00:00:00Z"}, {"a", "2"}} {
		if err := s.SetMeta(ctx, "r1", kv[0], kv[1]); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]string{"a": "2", "since": "2026-05-01T00:00:00Z"}
	if got := findRun(t, s, "r1").Meta; !reflect.DeepEqual(got, want) {
		t.Errorf("Runs Meta = %v, want %v", got, want)
	}
	closeStore(t, s)
	s2 := open(t)
	defer s2.Close()
	if got := begin(t, s2, spec("r1")).Meta; !reflect.DeepEqual(got, want) {
		t.Errorf("reopened Meta = %v, want %v", got, want)
	}
}

func testFinishRun(t *testing.T, open Opener) {
	s1 := open(t)
	defer s1.Close()
	ctx := context.Background()
	begin(t, s1, spec("r1"))
	settle(t, s1, "r1", checkpoint.Created, 1)
	if err := s1.FinishRun(ctx, "r1", checkpoint.Done); err != nil {
		t.Fatal(err)
	}
	if got := findRun(t, s1, "r1"); got.Status != checkpoint.Done {
		t.Errorf("Status = %q, want done", got.Status)
	}
	for name, err := range map[string]error{
		"MarkInFlight": s1.MarkInFlight(ctx, "r1", []checkpoint.Row{{Pos: 2}}),
		"Settle":       s1.Settle(ctx, "r1", []checkpoint.Settlement{{Pos: 2, Outcome: checkpoint.Created}}),
		"SetMeta":      s1.SetMeta(ctx, "r1", "k", "v"),
		"FinishRun":    s1.FinishRun(ctx, "r1", checkpoint.Done),
	} {
		if !errors.Is(err, checkpoint.ErrNotHeld) {
			t.Errorf("%s after FinishRun = %v, want ErrNotHeld", name, err)
		}
	}
	s2 := open(t)
	defer s2.Close()
	if run := begin(t, s2, spec("r1")); !run.Reopened || run.Status != checkpoint.Running {
		t.Errorf("another store after FinishRun: %+v, want reopened and running", run)
	}
}

func testRunsNewestFirst(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	for _, id := range []string{"a", "b", "c"} {
		sp := spec(id)
		sp.Kind = "kind-" + id
		begin(t, s, sp)
		time.Sleep(5 * time.Millisecond)
	}
	runs, err := s.Runs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range runs {
		ids = append(ids, r.ID)
		if r.Kind != "kind-"+r.ID || r.Status != checkpoint.Running {
			t.Errorf("run %+v", r)
		}
	}
	if !reflect.DeepEqual(ids, []string{"c", "b", "a"}) {
		t.Errorf("Runs = %v, want c, b, a", ids)
	}
}

func testConcurrentWrites(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	begin(t, s, spec("r1"))
	const writers, batches, size = 8, 20, 25
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for b := 0; b < batches; b++ {
				rows := make([]checkpoint.Row, size)
				ss := make([]checkpoint.Settlement, size)
				for i := range ss {
					pos := int64((b*size+i)*writers + w + 1)
					rows[i] = checkpoint.Row{Pos: pos}
					ss[i] = checkpoint.Settlement{Pos: pos, Outcome: checkpoint.Created}
				}
				if err := s.MarkInFlight(context.Background(), "r1", rows); err != nil {
					errs <- err
					return
				}
				if err := s.Settle(context.Background(), "r1", ss); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	const total = writers * batches * size
	p := progress(t, s, "r1")
	if p.ByOutcome[checkpoint.Created] != total || p.InFlight != 0 || p.MaxSettledPos != total {
		t.Errorf("Progress = %+v, want %d created up to %d", p, total, total)
	}
	if got := positions(collect(t, s, "r1", checkpoint.Filter{})); !reflect.DeepEqual(got, span(1, total)) {
		t.Errorf("Rows yielded %d rows, want 1..%d in order", len(got), total)
	}
	checkCounts(t, s, "r1")
}

func testSecondStoreLocked(t *testing.T, open Opener) {
	ctx := context.Background()
	s1 := open(t)
	defer s1.Close()
	begin(t, s1, spec("r1"))
	settle(t, s1, "r1", checkpoint.Created, 1)

	s2 := open(t)
	defer s2.Close()
	_, err := s2.BeginRun(ctx, spec("r1"))
	if !errors.Is(err, checkpoint.ErrRunLocked) {
		t.Fatalf("second store BeginRun = %v, want ErrRunLocked", err)
	}
	var locked *checkpoint.RunLockedError
	if !errors.As(err, &locked) {
		t.Fatalf("err %T is not a *RunLockedError", err)
	}
	host, _ := os.Hostname()
	if locked.RunID != "r1" || locked.Holder.PID != os.Getpid() || locked.Holder.Host != host || locked.Holder.StartedAt.IsZero() {
		t.Errorf("RunLockedError = %+v, want run r1 held by pid %d on %s", locked, os.Getpid(), host)
	}
	if err := s2.Settle(ctx, "r1", []checkpoint.Settlement{{Pos: 2, Outcome: checkpoint.Created}}); !errors.Is(err, checkpoint.ErrNotHeld) {
		t.Errorf("Settle by the refused store = %v, want ErrNotHeld", err)
	}
	if p := progress(t, s2, "r1"); p.ByOutcome[checkpoint.Created] != 1 {
		t.Errorf("the refused store reads Progress %+v, want 1 created", p)
	}
	begin(t, s2, spec("r2")) // another run of the same ledger is free
	closeStore(t, s1)
	if run := begin(t, s2, spec("r1")); !run.Reopened {
		t.Errorf("after the holder closed, BeginRun = %+v, want reopened", run)
	}
}

// onTarget is spec(id) writing to target, shared or not.
func onTarget(id, target string, shared bool) checkpoint.RunSpec {
	sp := spec(id)
	sp.TargetLock, sp.SharedTarget = target, shared
	return sp
}

// targetRefused asserts that s cannot begin sp because of the target, that
// the error names holders (by run, with this process's pid), and that the
// refusal wrote nothing and held nothing.
func targetRefused(t *testing.T, s checkpoint.Store, sp checkpoint.RunSpec, shared bool, holders ...string) {
	t.Helper()
	ctx := context.Background()
	_, err := s.BeginRun(ctx, sp)
	var locked *checkpoint.TargetLockedError
	if !errors.Is(err, checkpoint.ErrTargetLocked) || !errors.As(err, &locked) {
		t.Fatalf("BeginRun(%q) on target %q = %v, want a *TargetLockedError", sp.ID, sp.TargetLock, err)
	}
	if locked.RunID != sp.ID || locked.Target != sp.TargetLock || locked.Shared != shared || len(locked.Holders) == 0 {
		t.Errorf("TargetLockedError = %+v, want run %q, target %q, shared %v and its holders", locked, sp.ID, sp.TargetLock, shared)
	}
	for _, h := range locked.Holders {
		if h.PID != os.Getpid() || !slicesContain(holders, h.Run) {
			t.Errorf("holder %+v: want one of the runs %v, pid %d", h, holders, os.Getpid())
		}
		if !strings.Contains(err.Error(), "run "+h.Run) {
			t.Errorf("the error %q does not name the holding run %q", err, h.Run)
		}
	}
	if err := s.Settle(ctx, sp.ID, []checkpoint.Settlement{{Pos: 1, Outcome: checkpoint.Created}}); !errors.Is(err, checkpoint.ErrNotHeld) {
		t.Errorf("Settle by the refused run = %v, want ErrNotHeld", err)
	}
	runs, err := s.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if r.ID == sp.ID && !sp.Force && r.Status == checkpoint.Running {
			t.Errorf("the refused run is in the ledger as running: %+v", r)
		}
	}
}

func slicesContain(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func testTargetLocked(t *testing.T, open Opener) {
	ctx := context.Background()
	s1 := open(t)
	defer s1.Close()
	run := begin(t, s1, onTarget("r1", "https://clerk.example/v1 key#aa", false))
	settle(t, s1, "r1", checkpoint.Created, 1)

	s2 := open(t)
	defer s2.Close()
	targetRefused(t, s2, onTarget("r2", "https://clerk.example/v1 key#aa", false), false, "r1")
	if runs, _ := s2.Runs(ctx); len(runs) != 1 {
		t.Errorf("after the refusal the ledger holds %d runs, want r1 only: a refused run writes nothing", len(runs))
	}
	targetRefused(t, s2, onTarget("r2", "https://clerk.example/v1 key#aa", true), false, "r1")
	begin(t, s2, onTarget("r3", "https://clerk.example/v1 key#bb", false)) // another instance is free
	begin(t, s2, spec("r4"))                                               // so is a run that writes to no target
	begin(t, open(t), spec("r2"))                                          // the refusal held no run lock

	select {
	case <-run.Lost:
		t.Fatal("Run.Lost is closed while the run is held")
	default:
	}
	if err := s1.FinishRun(ctx, "r1", checkpoint.Done); err != nil {
		t.Fatal(err)
	}
	run2 := begin(t, s2, onTarget("r5", "https://clerk.example/v1 key#aa", false))
	if run2.Reopened {
		t.Errorf("r5 = %+v, want a new run", run2)
	}
	settle(t, s2, "r5", checkpoint.Created, 1)
	targetRefused(t, s1, onTarget("r1", "https://clerk.example/v1 key#aa", false), false, "r5")
}

func testTargetLockedInOneStore(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	begin(t, s, onTarget("r1", "T", false))
	targetRefused(t, s, onTarget("r2", "T", false), false, "r1")
	settle(t, s, "r1", checkpoint.Created, 1)
}

func testTargetReleasedByClose(t *testing.T, open Opener) {
	s1 := open(t)
	begin(t, s1, onTarget("r1", "T", false))
	closeStore(t, s1)
	s2 := open(t)
	defer s2.Close()
	begin(t, s2, onTarget("r2", "T", false))
	if got := findRun(t, s2, "r1"); got.Status != checkpoint.Interrupted {
		t.Errorf("r1 after Close: %q, want interrupted", got.Status)
	}
}

func testSharedTarget(t *testing.T, open Opener) {
	ctx := context.Background()
	s1, s2, s3 := open(t), open(t), open(t)
	defer s1.Close()
	defer s2.Close()
	defer s3.Close()
	begin(t, s1, onTarget("p1", "T", true))
	begin(t, s2, onTarget("p2", "T", true)) // both share it
	settle(t, s1, "p1", checkpoint.Created, 1)
	settle(t, s2, "p2", checkpoint.Created, 1)
	targetRefused(t, s3, onTarget("x", "T", false), true, "p1", "p2")
	if err := s1.FinishRun(ctx, "p1", checkpoint.Done); err != nil {
		t.Fatal(err)
	}
	targetRefused(t, s3, onTarget("x", "T", false), true, "p2") // until the last one lets go
	if err := s2.FinishRun(ctx, "p2", checkpoint.Done); err != nil {
		t.Fatal(err)
	}
	begin(t, s3, onTarget("x", "T", false))
	targetRefused(t, s1, onTarget("p3", "T", true), false, "x") // a run that shares keeps out of a run that does not
}

func testReopenKeepsTarget(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	begin(t, s, onTarget("r1", "T", false))
	if again := begin(t, s, onTarget("r1", "T", false)); !again.Reopened {
		t.Errorf("second BeginRun of a held run: Reopened = false, want true")
	}
	if _, err := s.BeginRun(context.Background(), onTarget("r1", "U", false)); err == nil {
		t.Errorf("BeginRun of a held run naming another target succeeded; want it refused")
	}
	settle(t, s, "r1", checkpoint.Created, 1)
	targetRefused(t, open(t), onTarget("r2", "T", false), false, "r1")
}

func testContextCanceled(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	begin(t, s, spec("r1"))
	settle(t, s, "r1", checkpoint.Created, span(1, 100)...)
	done, cancel := context.WithCancel(context.Background())
	cancel()
	calls := map[string]func() error{
		"BeginRun":     func() error { _, err := s.BeginRun(done, spec("r2")); return err },
		"MarkInFlight": func() error { return s.MarkInFlight(done, "r1", []checkpoint.Row{{Pos: 101}}) },
		"Settle": func() error {
			return s.Settle(done, "r1", []checkpoint.Settlement{{Pos: 101, Outcome: checkpoint.Created}})
		},
		"Rows": func() error {
			return s.Rows(done, "r1", checkpoint.Filter{}, func(checkpoint.RowState) error { return nil })
		},
		"Progress":  func() error { _, err := s.Progress(done, "r1"); return err },
		"SetMeta":   func() error { return s.SetMeta(done, "r1", "k", "v") },
		"FinishRun": func() error { return s.FinishRun(done, "r1", checkpoint.Done) },
		"Runs":      func() error { _, err := s.Runs(done); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a canceled context = %v, want context.Canceled", name, err)
		}
	}
	if p := progress(t, s, "r1"); p.Settled() != 100 || p.InFlight != 0 {
		t.Errorf("canceled writes wrote: Progress = %+v", p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	err := s.Rows(ctx, "r1", checkpoint.Filter{}, func(checkpoint.RowState) error {
		if n++; n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 10 {
		t.Errorf("Rows canceled at row 10: err = %v after %d rows, want context.Canceled after 10", err, n)
	}
}

func testRowsStopsOnFnError(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	begin(t, s, spec("r1"))
	settle(t, s, "r1", checkpoint.Created, span(1, 10)...)
	stop := errors.New("stop here")
	n := 0
	err := s.Rows(context.Background(), "r1", checkpoint.Filter{}, func(checkpoint.RowState) error {
		if n++; n == 3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 3 {
		t.Errorf("Rows = %v after %d rows, want fn's error after 3", err, n)
	}
}

func testWriteDuringRows(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	begin(t, s, spec("r1"))
	mark(t, s, "r1", span(1, 50)...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := s.Rows(ctx, "r1", checkpoint.Filter{InFlight: true}, func(r checkpoint.RowState) error {
		return s.Settle(ctx, "r1", []checkpoint.Settlement{{Pos: r.Pos, Outcome: checkpoint.Exists, ClerkID: "user_x"}})
	})
	if err != nil {
		t.Fatalf("Rows settling each row it yields: %v", err)
	}
	if p := progress(t, s, "r1"); p.ByOutcome[checkpoint.Exists] != 50 || p.InFlight != 0 || p.MaxSettledPos != 50 {
		t.Errorf("Progress = %+v, want 50 exists", p)
	}
}

func testClosed(t *testing.T, open Opener) {
	s := open(t)
	ctx := context.Background()
	begin(t, s, spec("r1"))
	closeStore(t, s)
	calls := map[string]func() error{
		"BeginRun":     func() error { _, err := s.BeginRun(ctx, spec("r2")); return err },
		"MarkInFlight": func() error { return s.MarkInFlight(ctx, "r1", []checkpoint.Row{{Pos: 1}}) },
		"Settle": func() error {
			return s.Settle(ctx, "r1", []checkpoint.Settlement{{Pos: 1, Outcome: checkpoint.Created}})
		},
		"Rows": func() error {
			return s.Rows(ctx, "r1", checkpoint.Filter{}, func(checkpoint.RowState) error { return nil })
		},
		"Progress":  func() error { _, err := s.Progress(ctx, "r1"); return err },
		"SetMeta":   func() error { return s.SetMeta(ctx, "r1", "k", "v") },
		"FinishRun": func() error { return s.FinishRun(ctx, "r1", checkpoint.Done) },
		"Runs":      func() error { _, err := s.Runs(ctx); return err },
	}
	for name, call := range calls {
		if err := call(); !errors.Is(err, checkpoint.ErrClosed) {
			t.Errorf("%s on a closed store = %v, want ErrClosed", name, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close = %v, want nil", err)
	}
}

func testUnknownRun(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	ctx := context.Background()
	if err := s.Rows(ctx, "nope", checkpoint.Filter{}, func(checkpoint.RowState) error { return nil }); !errors.Is(err, checkpoint.ErrRunNotFound) {
		t.Errorf("Rows = %v, want ErrRunNotFound", err)
	}
	if _, err := s.Progress(ctx, "nope"); !errors.Is(err, checkpoint.ErrRunNotFound) {
		t.Errorf("Progress = %v, want ErrRunNotFound", err)
	}
	if err := s.Settle(ctx, "nope", []checkpoint.Settlement{{Pos: 1, Outcome: checkpoint.Created}}); !errors.Is(err, checkpoint.ErrNotHeld) {
		t.Errorf("Settle = %v, want ErrNotHeld", err)
	}
	if runs, err := s.Runs(ctx); err != nil || len(runs) != 0 {
		t.Errorf("Runs of an empty ledger = %v, %v", runs, err)
	}
}

// forbidden are fragments no ledger column name may contain: the ledger
// keeps hashes of requests, never requests or secrets.
var forbidden = []string{"body", "payload", "request_json", "password", "secret", "digest", "totp", "backup", "private", "token", "credential"}

func testSchemaHoldsNoRequest(t *testing.T, open Opener) {
	s := open(t)
	defer s.Close()
	c, ok := s.(Columner)
	if !ok {
		t.Fatalf("%T has no Columns method; the suite needs it to audit the schema", s)
	}
	tables, err := c.Columns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for table, cols := range tables {
		for _, col := range cols {
			all = append(all, table+"."+col)
			for _, bad := range forbidden {
				if strings.Contains(strings.ToLower(col), bad) {
					t.Errorf("column %s.%s looks like it could hold a request or a secret (%q)", table, col, bad)
				}
			}
		}
	}
	sort.Strings(all)
	if !containsSuffix(all, ".request_hash") || !containsSuffix(all, ".pos") {
		t.Errorf("Columns = %v: the audit did not see the ledger's row table", all)
	}
}

func containsSuffix(list []string, suffix string) bool {
	for _, s := range list {
		if strings.HasSuffix(s, suffix) {
			return true
		}
	}
	return false
}
