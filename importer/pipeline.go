package importer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// Writer batching: a flush at this many settlements or after this long.
const (
	settleBatch = 500
	settleEvery = 100 * time.Millisecond
)

// pipeline is the machinery Run and Rollback share: a reader that marks rows
// in flight and dispatches them, workers that carry them out, and a writer
// that settles them in batches.
type pipeline struct {
	runID, kind string
	store       checkpoint.Store
	log         *slog.Logger
	pacer       *Pacer
	api         *retryingAPI
	maxInFlight int
	grace       time.Duration
	progressFn  func(Progress)
	logEvery    time.Duration
	total       int64
	// lost is the ledger's word that it lost its hold on the run
	// (checkpoint.Run.Lost): the run stops at once, requests under way
	// included, since another process may take the run over.
	lost <-chan struct{}

	n              apiCounters
	read           atomic.Int64
	alreadySettled atomic.Int64
	start          time.Time

	jobs   chan job
	settle chan checkpoint.Settlement

	mu        sync.Mutex
	byOutcome map[checkpoint.Outcome]int64 // durable settlements of this invocation
}

// readFunc is a reader: it sends jobs (already marked in flight) to
// p.jobs and outcomes that need no API call to p.settle.
type readFunc func(ctx context.Context) error

// handleFunc carries out one job.
type handleFunc func(ctx context.Context, j job) (checkpoint.Settlement, error)

func (p *pipeline) run(ctx context.Context, read readFunc, handle handleFunc) (Summary, error) {
	p.start = time.Now()
	p.byOutcome = map[checkpoint.Outcome]int64{}
	p.jobs = make(chan job, p.maxInFlight)
	p.settle = make(chan checkpoint.Settlement, 2*settleBatch)

	// failCtx lets the writer stop everything at once when the ledger
	// fails; errgroup cancels gctx when any other part returns an error.
	failCtx, fail := context.WithCancelCause(ctx)
	defer fail(nil)
	g, gctx := errgroup.WithContext(failCtx)
	// Requests already under way run on a context detached from ctx: on
	// cancellation they get ShutdownGrace to finish; on a fatal error or a
	// failed ledger they stop at once.
	workCtx, stopWork := context.WithCancelCause(context.WithoutCancel(ctx))
	defer stopWork(nil)
	go func() {
		<-gctx.Done()
		if ctx.Err() != nil {
			t := time.NewTimer(p.grace)
			defer t.Stop()
			select {
			case <-t.C:
				stopWork(fmt.Errorf("importer: requests still under way after %s", p.grace))
			case <-workCtx.Done():
			}
			return
		}
		stopWork(context.Cause(gctx))
	}()

	if p.lost != nil {
		go func() {
			select {
			case <-p.lost:
				fail(fmt.Errorf("importer: run %s stops: %w", p.runID, checkpoint.ErrHoldLost))
			case <-failCtx.Done():
			}
		}()
	}

	var producers sync.WaitGroup
	producers.Add(1)
	g.Go(func() error {
		defer producers.Done()
		defer close(p.jobs)
		return read(gctx)
	})
	workers := p.maxInFlight
	if p.api == nil {
		workers = 1 // dry run: the reader settles everything itself
	}
	for range workers {
		producers.Add(1)
		g.Go(func() error {
			defer producers.Done()
			return p.work(gctx, workCtx, handle)
		})
	}
	go func() {
		producers.Wait()
		close(p.settle)
	}()
	g.Go(func() error { return p.write(context.WithoutCancel(ctx), fail) })

	err := g.Wait()
	if cause := context.Cause(failCtx); errors.Is(cause, checkpoint.ErrHoldLost) {
		err = cause // whatever part stopped first, the loss is why
	}
	return p.finish(ctx, err)
}

// work carries out jobs until the channel closes. Once gctx ends it takes
// no new job: rows it leaves stay in flight, and a resume looks them up.
func (p *pipeline) work(gctx, workCtx context.Context, handle handleFunc) error {
	for j := range p.jobs {
		if gctx.Err() != nil {
			continue
		}
		s, err := handle(workCtx, j)
		if errors.Is(err, errRowAbandoned) {
			continue
		}
		if err != nil {
			return err
		}
		p.settle <- s
	}
	return nil
}

// write settles outcomes in batches of up to settleBatch rows or every
// settleEvery. On a ledger failure it stops the run through fail, keeps
// draining so that nothing upstream blocks, and returns the failure.
func (p *pipeline) write(ctx context.Context, fail context.CancelCauseFunc) error {
	tick := time.NewTicker(settleEvery)
	defer tick.Stop()
	batch := make([]checkpoint.Settlement, 0, settleBatch)
	var werr error
	lastLog := time.Now()
	flush := func() {
		if len(batch) == 0 || werr != nil {
			batch = batch[:0]
			return
		}
		if err := p.store.Settle(ctx, p.runID, batch); err != nil {
			werr = fmt.Errorf("importer: writing the ledger of run %s: %w", p.runID, err)
			fail(werr)
			batch = batch[:0]
			return
		}
		p.mu.Lock()
		for _, s := range batch {
			p.byOutcome[s.Outcome]++
		}
		p.mu.Unlock()
		batch = batch[:0]
		if p.progressFn != nil {
			p.progressFn(p.Progress())
		}
		if p.logEvery > 0 && time.Since(lastLog) >= p.logEvery {
			lastLog = time.Now()
			p.logProgress()
		}
	}
	for {
		select {
		case s, ok := <-p.settle:
			if !ok {
				flush()
				return werr
			}
			batch = append(batch, s)
			if len(batch) >= settleBatch {
				flush()
			}
		case <-tick.C:
			flush()
		}
	}
}

// Progress is a snapshot of the run for a display.
func (p *pipeline) Progress() Progress {
	p.mu.Lock()
	by := maps.Clone(p.byOutcome)
	p.mu.Unlock()
	pr := Progress{
		RunID: p.runID, Read: p.read.Load(), AlreadySettled: p.alreadySettled.Load(), ByOutcome: by,
		Requests: p.n.requests.Load(), RateLimited: p.n.rateLimited.Load(),
		Elapsed: time.Since(p.start), Total: p.total,
	}
	for o, c := range by {
		pr.Settled += c
		if o == checkpoint.Failed || o == checkpoint.Invalid {
			pr.Failures += c
		}
	}
	if p.pacer != nil {
		pr.Latency = p.pacer.Latencies()
	}
	if secs := pr.Elapsed.Seconds(); secs > 0 {
		pr.RowsPerSec = float64(pr.Settled) / secs
		pr.RequestsPerSec = float64(pr.Requests) / secs
	}
	if p.total > 0 && pr.RowsPerSec > 0 {
		left := p.total - pr.Settled - pr.AlreadySettled
		pr.ETA = time.Duration(float64(max(left, 0)) / pr.RowsPerSec * float64(time.Second))
	}
	return pr
}

func (p *pipeline) logProgress() {
	pr := p.Progress()
	p.log.Info("progress", "read", pr.Read, "settled", pr.Settled, "already_settled", pr.AlreadySettled,
		"failures", pr.Failures, "rows_per_sec", round1(pr.RowsPerSec),
		"requests", pr.Requests, "rate_limited", pr.RateLimited, "eta_s", round1(pr.ETA.Seconds()))
}

// round1 rounds a figure for a log line to one decimal: rates and
// durations are logged as numbers (durations in seconds, the unit in the
// key), never as strings.
func round1(x float64) float64 { return math.Round(x*10) / 10 }

// finish records the run's status and builds the summary.
func (p *pipeline) finish(ctx context.Context, err error) (Summary, error) {
	s := p.summary()
	status := checkpoint.Done
	if err != nil || ctx.Err() != nil {
		status = checkpoint.Interrupted
	}
	s.Status = status
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ferr := p.store.FinishRun(fctx, p.runID, status); ferr != nil && err == nil {
		err = fmt.Errorf("importer: closing run %s: %w", p.runID, ferr)
	}
	p.log.Info("run finished", "status", status, "settled", s.Settled(), "already_settled", s.AlreadySettled,
		"created", s.ByOutcome[checkpoint.Created], "exists", s.ByOutcome[checkpoint.Exists],
		"failed", s.ByOutcome[checkpoint.Failed], "invalid", s.ByOutcome[checkpoint.Invalid],
		"requests", s.Requests, "rate_limited", s.RateLimited, "retries", s.Retries,
		"elapsed_s", s.Elapsed.Round(time.Millisecond).Seconds(), "requests_per_sec", round1(s.RequestsPerSec))
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("importer: run %s interrupted after settling %d rows (%d settled earlier); "+
			"re-run the same command to resume: %w", p.runID, s.Settled(), s.AlreadySettled, context.Cause(ctx))
	}
	return s, err
}

func (p *pipeline) summary() Summary {
	p.mu.Lock()
	by := maps.Clone(p.byOutcome)
	p.mu.Unlock()
	s := Summary{
		RunID: p.runID, Kind: p.kind, Read: p.read.Load(), AlreadySettled: p.alreadySettled.Load(),
		ByOutcome: by, Requests: p.n.requests.Load(), Creates: p.n.creates.Load(),
		Lookups: p.n.lookups.Load(), Deletes: p.n.deletes.Load(), RateLimited: p.n.rateLimited.Load(),
		Retries: p.n.retries.Load(), Recovered: p.n.recovered.Load(), Elapsed: time.Since(p.start),
	}
	if p.pacer != nil {
		ps := p.pacer.Stats()
		s.Holds, s.PeakInFlight, s.Budget = ps.Holds, ps.PeakInFlight, p.pacer.Budget()
	}
	if secs := s.Elapsed.Seconds(); secs > 0 {
		s.RequestsPerSec = float64(s.Requests) / secs
		s.RowsPerSec = float64(s.Settled()) / secs
	}
	return s
}

// dispatcher marks rows in flight in batches, durably, before any of them
// is handed to a worker (the dirty flag goes down before the write).
type dispatcher struct {
	p     *pipeline
	size  int
	batch []job
	rows  []checkpoint.Row
}

func (d *dispatcher) add(ctx context.Context, j job) error {
	d.batch = append(d.batch, j)
	if len(d.batch) >= d.size {
		return d.flush(ctx)
	}
	return nil
}

func (d *dispatcher) flush(ctx context.Context) error {
	if len(d.batch) == 0 {
		return nil
	}
	d.rows = d.rows[:0]
	for _, j := range d.batch {
		d.rows = append(d.rows, checkpoint.Row{Pos: j.pos, Key: j.key, RequestHash: j.hash})
	}
	if err := d.p.store.MarkInFlight(ctx, d.p.runID, d.rows); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("importer: marking rows in flight in run %s: %w", d.p.runID, err)
	}
	for i, j := range d.batch {
		select {
		case d.p.jobs <- j:
		case <-ctx.Done():
			clear(d.batch[i:])
			d.batch = d.batch[:0]
			return nil
		}
	}
	clear(d.batch)
	d.batch = d.batch[:0]
	return nil
}

// settleNow hands an outcome that needs no API call to the writer.
func (p *pipeline) settleNow(ctx context.Context, s checkpoint.Settlement) {
	select {
	case p.settle <- s:
	case <-ctx.Done():
	}
}

// errPageFull stops a page read of the ledger.
var errPageFull = errors.New("page full")

// ledgerCursor walks one run's ledger rows in position order, a page at a
// time, so that the reader can merge-join the source against it without
// holding a cursor open across the writes of the run.
type ledgerCursor struct {
	store  checkpoint.Store
	runID  string
	filter checkpoint.Filter
	page   []checkpoint.RowState
	i      int
	done   bool
}

const ledgerPage = 512

func newLedgerCursor(store checkpoint.Store, runID string, f checkpoint.Filter) *ledgerCursor {
	return &ledgerCursor{store: store, runID: runID, filter: f}
}

// next returns the next row, false at the end.
func (c *ledgerCursor) next(ctx context.Context) (checkpoint.RowState, bool, error) {
	if c.i >= len(c.page) {
		if c.done {
			return checkpoint.RowState{}, false, nil
		}
		if err := c.fill(ctx); err != nil {
			return checkpoint.RowState{}, false, err
		}
		if len(c.page) == 0 {
			return checkpoint.RowState{}, false, nil
		}
	}
	r := c.page[c.i]
	c.i++
	return r, true, nil
}

// at returns the row at pos, if the ledger holds one; calls must come in
// ascending pos order.
func (c *ledgerCursor) at(ctx context.Context, pos int64) (checkpoint.RowState, bool, error) {
	for {
		if c.i < len(c.page) {
			r := c.page[c.i]
			if r.Pos > pos {
				return checkpoint.RowState{}, false, nil
			}
			c.i++
			if r.Pos == pos {
				return r, true, nil
			}
			continue
		}
		if c.done {
			return checkpoint.RowState{}, false, nil
		}
		if err := c.fill(ctx); err != nil {
			return checkpoint.RowState{}, false, err
		}
	}
}

func (c *ledgerCursor) fill(ctx context.Context) error {
	c.page, c.i = c.page[:0], 0
	err := c.store.Rows(ctx, c.runID, c.filter, func(r checkpoint.RowState) error {
		c.page = append(c.page, r)
		if len(c.page) >= ledgerPage {
			return errPageFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return fmt.Errorf("importer: reading the ledger of run %s: %w", c.runID, err)
	}
	if len(c.page) < ledgerPage {
		c.done = true
	}
	if n := len(c.page); n > 0 {
		c.filter.FromPos = c.page[n-1].Pos + 1
	}
	return nil
}
