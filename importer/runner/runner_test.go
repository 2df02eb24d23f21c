package runner_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/sqlite"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
)

var quiet = slog.New(slog.DiscardHandler)

// job is one row of a test run.
type job struct{ pos int64 }

func (j job) Mark() checkpoint.Row {
	return checkpoint.Row{Pos: j.pos, Key: key(j.pos), RequestHash: "h"}
}

func key(pos int64) string { return fmt.Sprintf("k%d", pos) }

// noCalls is a Clerk the tests never call: a Gateway only gives the
// pipeline its workers and its counts.
type noCalls struct{ clerk.API }

func openRun(t *testing.T, id string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := runner.Open(context.Background(), st, checkpoint.RunSpec{ID: id, Kind: runner.KindImport}, false); err != nil {
		t.Fatal(err)
	}
	return st
}

func rows(t *testing.T, st checkpoint.Store, id string, f checkpoint.Filter) []checkpoint.RowState {
	t.Helper()
	var out []checkpoint.RowState
	if err := st.Rows(context.Background(), id, f, func(r checkpoint.RowState) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// reader dispatches rows 1..n, settling every tenth itself as invalid.
func reader(p *runner.Pipeline[job], n int64) runner.ReadFunc {
	return func(ctx context.Context) error {
		d := p.Dispatcher(8)
		for pos := int64(1); pos <= n && ctx.Err() == nil; pos++ {
			p.CountRead()
			if pos%10 == 0 {
				p.SettleNow(ctx, checkpoint.Settlement{Pos: pos, Key: key(pos), Outcome: checkpoint.Invalid})
				continue
			}
			if err := d.Add(ctx, job{pos}); err != nil {
				return err
			}
		}
		return d.Flush(ctx)
	}
}

// Every row is marked in flight, durably, before a worker sees it, and
// every row ends settled once: the workers' outcomes and the reader's own.
//
// 300 rows (38 batches of marks for 16 workers) race the marks against the
// workers as well as 1,000 did: each row's check is a ledger query that
// waits its turn at the SQLite pool, so the row count is the test's wall.
func TestPipelineMarksBeforeSendingAndSettlesEveryRow(t *testing.T) {
	const n = 300
	st := openRun(t, "r")
	p := runner.NewPipeline[job](runner.Config{RunID: "r", Kind: runner.KindImport, Store: st,
		Gateway: gateway.New(noCalls{}, gateway.Config{}), Workers: 16, LogEvery: -1, Logger: quiet})
	var unmarked atomic.Int64
	handle := func(ctx context.Context, j job) (checkpoint.Settlement, error) {
		got := rows(t, st, "r", checkpoint.Filter{FromPos: j.pos, InFlight: true})
		if len(got) == 0 || got[0].Pos != j.pos {
			unmarked.Add(1)
		}
		return checkpoint.Settlement{Pos: j.pos, Key: key(j.pos), Outcome: checkpoint.Created, ClerkID: "user_" + key(j.pos)}, nil
	}
	s, err := p.Run(context.Background(), reader(p, n), handle)
	if err != nil {
		t.Fatal(err)
	}
	if unmarked.Load() != 0 {
		t.Errorf("%d rows reached a worker before the ledger marked them in flight", unmarked.Load())
	}
	if s.Status != checkpoint.Done || s.Read != n || s.ByOutcome[checkpoint.Created] != n*9/10 || s.ByOutcome[checkpoint.Invalid] != n/10 {
		t.Errorf("summary: status %s, read %d, by outcome %v", s.Status, s.Read, s.ByOutcome)
	}
	all := rows(t, st, "r", checkpoint.Filter{})
	if len(all) != n {
		t.Fatalf("ledger holds %d rows, want %d", len(all), n)
	}
	for i, r := range all {
		if r.Pos != int64(i+1) || r.InFlight {
			t.Fatalf("row %d: %+v", i+1, r)
		}
	}
}

// A cancelled run stops reading, gives the requests under way their grace,
// leaves the rows it never finished in flight for a resume to look up, and
// is recorded as interrupted.
func TestPipelineCancelledLeavesRowsInFlight(t *testing.T) {
	st := openRun(t, "r")
	p := runner.NewPipeline[job](runner.Config{RunID: "r", Store: st, Gateway: gateway.New(noCalls{}, gateway.Config{}),
		Workers: 4, Grace: 50 * time.Millisecond, LogEvery: -1, Logger: quiet})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var handled atomic.Int64
	var finished sync.Map // positions a worker settled
	handle := func(wctx context.Context, j job) (checkpoint.Settlement, error) {
		if handled.Add(1) == 20 {
			cancel()
		}
		if j.pos > 20 { // a slow request: still under way when the grace ends
			<-wctx.Done()
			return checkpoint.Settlement{}, runner.ErrRowAbandoned
		}
		finished.Store(j.pos, true)
		return checkpoint.Settlement{Pos: j.pos, Key: key(j.pos), Outcome: checkpoint.Created}, nil
	}
	s, err := p.Run(ctx, reader(p, 100_000), handle)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the cancellation", err)
	}
	if s.Status != checkpoint.Interrupted {
		t.Errorf("status %s, want interrupted", s.Status)
	}
	if s.Read >= 100_000 {
		t.Errorf("the reader read all %d rows after the cancellation", s.Read)
	}
	inFlight := rows(t, st, "r", checkpoint.Filter{InFlight: true})
	if len(inFlight) == 0 {
		t.Fatal("no row left in flight")
	}
	for _, r := range inFlight {
		if _, ok := finished.Load(r.Pos); ok {
			t.Errorf("row %d finished but is still in flight", r.Pos)
		}
	}
	runs, err := st.Runs(context.Background())
	if err != nil || len(runs) != 1 || runs[0].Status != checkpoint.Interrupted {
		t.Errorf("runs %+v, %v: want one interrupted run", runs, err)
	}
}

// failingSettle is a ledger whose writes of outcomes fail.
type failingSettle struct{ checkpoint.Store }

var errDiskFull = errors.New("disk full")

func (failingSettle) Settle(context.Context, string, []checkpoint.Settlement) error {
	return errDiskFull
}

// A ledger that cannot record outcomes stops the run: nothing more is
// read or sent, and the failure is the run's error.
func TestPipelineStopsWhenTheLedgerFails(t *testing.T) {
	st := openRun(t, "r")
	p := runner.NewPipeline[job](runner.Config{RunID: "r", Store: failingSettle{st},
		Gateway: gateway.New(noCalls{}, gateway.Config{}), Workers: 4, LogEvery: -1, Logger: quiet})
	var handled atomic.Int64
	handle := func(ctx context.Context, j job) (checkpoint.Settlement, error) {
		handled.Add(1)
		return checkpoint.Settlement{Pos: j.pos, Key: key(j.pos), Outcome: checkpoint.Created}, nil
	}
	s, err := runWithin(t, 30*time.Second, func() (runner.Summary, error) {
		return p.Run(context.Background(), reader(p, 10_000_000), handle)
	})
	if !errors.Is(err, errDiskFull) {
		t.Fatalf("err = %v, want the ledger's failure", err)
	}
	if s.Status != checkpoint.Interrupted || s.Read >= 10_000_000 {
		t.Errorf("status %s after reading %d rows", s.Status, s.Read)
	}
}

// A run whose ledger lost its hold stops at once with ErrHoldLost, even
// with requests under way and no cancellation.
func TestPipelineStopsWhenTheHoldIsLost(t *testing.T) {
	st := openRun(t, "r")
	lost := make(chan struct{})
	p := runner.NewPipeline[job](runner.Config{RunID: "r", Store: st, Gateway: gateway.New(noCalls{}, gateway.Config{}),
		Workers: 4, Grace: time.Hour, LogEvery: -1, Logger: quiet, Lost: lost})
	var handled atomic.Int64
	handle := func(wctx context.Context, j job) (checkpoint.Settlement, error) {
		if handled.Add(1) == 10 {
			close(lost)
		}
		if handled.Load() >= 10 {
			<-wctx.Done() // a request under way: the loss ends it, not the grace
			return checkpoint.Settlement{}, runner.ErrRowAbandoned
		}
		return checkpoint.Settlement{Pos: j.pos, Key: key(j.pos), Outcome: checkpoint.Created}, nil
	}
	_, err := runWithin(t, 30*time.Second, func() (runner.Summary, error) {
		return p.Run(context.Background(), reader(p, 1_000_000), handle)
	})
	if !errors.Is(err, checkpoint.ErrHoldLost) {
		t.Fatalf("err = %v, want ErrHoldLost", err)
	}
}

// runWithin runs a pipeline, failing the test if it has not stopped after d.
func runWithin(t *testing.T, d time.Duration, run func() (runner.Summary, error)) (runner.Summary, error) {
	t.Helper()
	type result struct {
		s   runner.Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		s, err := run()
		done <- result{s, err}
	}()
	select {
	case r := <-done:
		return r.s, r.err
	case <-time.After(d):
		t.Fatalf("the run has not stopped after %s", d)
		return runner.Summary{}, nil
	}
}

// A Cursor walks the ledger a page at a time and At finds exactly the
// positions the ledger holds, across page boundaries.
func TestCursorAcrossPages(t *testing.T) {
	ctx := context.Background()
	st := openRun(t, "r")
	var batch []checkpoint.Settlement
	for pos := int64(2); pos <= 3000; pos += 2 {
		batch = append(batch, checkpoint.Settlement{Pos: pos, Key: key(pos), Outcome: checkpoint.Created})
	}
	if err := st.Settle(ctx, "r", batch); err != nil {
		t.Fatal(err)
	}
	c := runner.NewCursor(st, "r", checkpoint.Filter{})
	var n int64
	for {
		r, ok, err := c.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		n++
		if r.Pos != 2*n {
			t.Fatalf("row %d has position %d, want %d", n, r.Pos, 2*n)
		}
	}
	if n != 1500 {
		t.Fatalf("Next gave %d rows, want 1500", n)
	}
	c = runner.NewCursor(st, "r", checkpoint.Filter{FromPos: 500})
	for pos := int64(500); pos <= 3001; pos++ {
		r, ok, err := c.At(ctx, pos)
		if err != nil {
			t.Fatal(err)
		}
		if want := pos%2 == 0 && pos <= 3000; ok != want || (ok && r.Pos != pos) {
			t.Fatalf("At(%d) = %+v, %v; want found %v", pos, r, ok, want)
		}
	}
}
