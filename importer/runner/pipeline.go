package runner

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
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
)

// Writer batching: a flush at this many settlements or after this long
// (250 ms: at a few thousand rows a second, 100 ms made transactions of a
// few hundred rows, each costing as much as dozens of rows in it; a
// crash loses at most that long of settlements, whose rows stay in flight
// for the re-run to look up).
const (
	settleBatch = 500
	settleEvery = 250 * time.Millisecond
)

// Job is one row for a Pipeline's workers.
type Job interface {
	// Mark is the row as the ledger marks it in flight before it is sent.
	Mark() checkpoint.Row
}

// Config says what a Pipeline runs.
type Config struct {
	RunID, Kind string
	Store       checkpoint.Store
	// Gateway is Clerk; nil when nothing is sent (the reader settles every
	// row itself).
	Gateway *gateway.Gateway
	// Workers carry out jobs at once; 0 means 32.
	Workers int
	// Grace bounds how long requests under way may run on after ctx is
	// cancelled; 0 means 10 s.
	Grace time.Duration
	// Progress, when set, is called from the writer after each ledger
	// flush; it must return quickly.
	Progress func(Progress)
	// LogEvery is the period of the progress log line; 0 means 10 s, a
	// negative value none (the caller shows the progress itself).
	LogEvery time.Duration
	// Total, when known, lets Progress estimate the time left.
	Total int64
	// Logger gets the run's lines; nil means slog.Default().
	Logger *slog.Logger
	// Lost is the ledger's word that it lost its hold on the run
	// (checkpoint.Run.Lost): the run stops at once, requests under way
	// included, since another process may take the run over.
	Lost <-chan struct{}
}

// Pipeline is the machinery of a run that sends rows: one reader that
// marks rows in flight and dispatches them (or settles at once what needs
// no call), workers that carry them out, and one writer that settles them
// in the ledger in batches.
type Pipeline[J Job] struct {
	cfg Config
	log *slog.Logger

	read           atomic.Int64
	alreadySettled atomic.Int64
	start          time.Time
	base           gateway.Stats // the gateway's counts when the run began
	cappedSaid     atomic.Bool   // the log said the ceiling limits the rate

	jobs   chan J
	settle chan checkpoint.Settlement

	mu        sync.Mutex
	byOutcome map[checkpoint.Outcome]int64 // durable settlements of this invocation
}

// NewPipeline makes a pipeline for cfg.
func NewPipeline[J Job](cfg Config) *Pipeline[J] {
	if cfg.Workers <= 0 {
		cfg.Workers = 32
	}
	if cfg.Gateway == nil {
		cfg.Workers = 1 // the reader settles everything itself
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 10 * time.Second
	}
	if cfg.LogEvery == 0 {
		cfg.LogEvery = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Pipeline[J]{cfg: cfg, log: cfg.Logger.With("run", cfg.RunID), byOutcome: map[checkpoint.Outcome]int64{},
		jobs: make(chan J, cfg.Workers), settle: make(chan checkpoint.Settlement, 2*settleBatch)}
}

// Log is the run's logger.
func (p *Pipeline[J]) Log() *slog.Logger { return p.log }

// ReadFunc is a reader: it dispatches jobs (through a Dispatcher) and
// settles what needs no call (SettleNow), and returns when the rows end,
// ctx ends, or it fails.
type ReadFunc func(ctx context.Context) error

// HandleFunc carries out one job. It returns an error only when the row
// has no outcome: ErrRowAbandoned when the run was cancelled, or an error
// that ends the run (a *FatalError).
type HandleFunc[J Job] func(ctx context.Context, j J) (checkpoint.Settlement, error)

// Run runs the reader, the workers and the writer until the reader is
// done and every job settled, then records the run's status. When ctx is
// cancelled, the reader stops, requests under way get Grace to finish,
// the ledger is flushed and the run is marked interrupted.
func (p *Pipeline[J]) Run(ctx context.Context, read ReadFunc, handle HandleFunc[J]) (Summary, error) {
	p.start = time.Now()
	if g := p.cfg.Gateway; g != nil {
		// The run's counts include its pre-flight, wherever it was sent.
		p.base = g.Stats().Sub(g.ClaimPreflight())
	}
	var answered func() int64
	if g := p.cfg.Gateway; g != nil {
		answered = g.Pacer().Answered
	}
	st := newStages(ctx, p.cfg.Grace, answered, p.log)
	defer st.stop()
	go st.stopOnLoss(p.cfg.Lost, p.cfg.RunID)
	var producers sync.WaitGroup
	producers.Add(1)
	st.g.Go(func() error {
		defer producers.Done()
		defer close(p.jobs)
		return read(st.gctx)
	})
	for range p.cfg.Workers {
		producers.Add(1)
		st.g.Go(func() error {
			defer producers.Done()
			return p.work(st.gctx, st.work, handle)
		})
	}
	go func() {
		producers.Wait()
		close(p.settle)
	}()
	st.g.Go(func() error { return p.write(context.WithoutCancel(ctx), st.fail) })
	err := st.g.Wait()
	if cause := context.Cause(st.failCtx); errors.Is(cause, checkpoint.ErrHoldLost) {
		err = cause // whatever part stopped first, the loss is why
	}
	return p.finish(ctx, err)
}

// stages are the contexts a run's goroutines live by. gctx ends when any
// of them fails, the ledger fails (fail) or ctx ends. work is the context
// of requests already under way: detached from ctx, so that on a
// cancellation they get grace to finish, but ended at once by a failure.
type stages struct {
	g        *errgroup.Group
	gctx     context.Context
	failCtx  context.Context
	work     context.Context
	fail     context.CancelCauseFunc
	stopWork context.CancelCauseFunc
}

func newStages(ctx context.Context, grace time.Duration, answered func() int64, log *slog.Logger) *stages {
	failCtx, fail := context.WithCancelCause(ctx)
	g, gctx := errgroup.WithContext(failCtx)
	work, stopWork := context.WithCancelCause(context.WithoutCancel(ctx))
	st := &stages{g: g, gctx: gctx, failCtx: failCtx, work: work, fail: fail, stopWork: stopWork}
	go st.endWork(ctx, grace, answered, log)
	return st
}

// SilentGrace cuts the grace of requests under way short when the target
// has answered none of them for that long: a target that went silent (a
// stopped host, a dead link) will not answer them either, and a signal
// must not wait the whole grace for it.
const SilentGrace = 2 * time.Second

// silentCheck is how often the grace reads the target's answers.
const silentCheck = 100 * time.Millisecond

// endWork ends the work context once the run stops: at once on a failure;
// when ctx was cancelled (a signal), after grace, or sooner once the
// target has answered nothing for SilentGrace (answered counts its
// answers; nil when nothing is sent). Rows whose requests are cut stay in
// flight: a re-run looks them up before sending anything.
func (st *stages) endWork(ctx context.Context, grace time.Duration, answered func() int64, log *slog.Logger) {
	<-st.gctx.Done()
	if ctx.Err() == nil {
		st.stopWork(context.Cause(st.gctx))
		return
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	tick := time.NewTicker(silentCheck)
	defer tick.Stop()
	var last int64
	if answered != nil {
		last = answered()
	}
	since := time.Now()
	for {
		select {
		case <-t.C:
			st.stopWork(fmt.Errorf("requests still under way after %s", grace))
			return
		case <-st.work.Done():
			return
		case <-tick.C:
			if answered == nil {
				continue
			}
			if n := answered(); n != last {
				last, since = n, time.Now()
				continue
			}
			if silent := time.Since(since); silent >= SilentGrace {
				log.Warn(fmt.Sprintf("the target answered nothing for %s after the signal: the requests still under way "+
					"are given up (their rows stay in flight; re-running the same command looks them up)", silent.Round(time.Millisecond)))
				st.stopWork(fmt.Errorf("the target answered nothing for %s", silent.Round(time.Millisecond)))
				return
			}
		}
	}
}

// stopOnLoss fails the run when the ledger loses its hold on it (nil:
// never).
func (st *stages) stopOnLoss(lost <-chan struct{}, runID string) {
	if lost == nil {
		return
	}
	select {
	case <-lost:
		st.fail(fmt.Errorf("run %s stops: %w", runID, checkpoint.ErrHoldLost))
	case <-st.failCtx.Done():
	}
}

func (st *stages) stop() {
	st.stopWork(nil)
	st.fail(nil)
}

// work carries out jobs until the channel closes. Once gctx ends it takes
// no new job, and the calls of the jobs under way send nothing new
// (gateway.WithAdmission: a call waiting for its turn, a 429's hold or a
// backoff returns at once) while a request already sent gets the grace:
// rows it leaves stay in flight, and a resume looks them up.
func (p *Pipeline[J]) work(gctx, workCtx context.Context, handle HandleFunc[J]) error {
	workCtx = gateway.WithAdmission(workCtx, gctx)
	for j := range p.jobs {
		if gctx.Err() != nil {
			continue
		}
		s, err := handle(workCtx, j)
		if errors.Is(err, ErrRowAbandoned) {
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
func (p *Pipeline[J]) write(ctx context.Context, fail context.CancelCauseFunc) error {
	tick := time.NewTicker(settleEvery)
	defer tick.Stop()
	b := &batchWriter[J]{p: p, batch: make([]checkpoint.Settlement, 0, settleBatch), lastLog: time.Now()}
	for {
		select {
		case s, ok := <-p.settle:
			if !ok {
				b.flush(ctx, fail)
				return b.err
			}
			b.batch = append(b.batch, s)
			if len(b.batch) >= settleBatch {
				b.flush(ctx, fail)
			}
		case <-tick.C:
			b.flush(ctx, fail)
		}
	}
}

// batchWriter is the writer's batch and what it knows of its failures.
type batchWriter[J Job] struct {
	p       *Pipeline[J]
	batch   []checkpoint.Settlement
	err     error
	lastLog time.Time
}

// flush settles the batch, counts it and reports progress; after a
// failure it only drops what arrives.
func (b *batchWriter[J]) flush(ctx context.Context, fail context.CancelCauseFunc) {
	defer func() { b.batch = b.batch[:0] }()
	p := b.p
	if len(b.batch) == 0 || b.err != nil {
		return
	}
	if err := p.cfg.Store.Settle(ctx, p.cfg.RunID, b.batch); err != nil {
		b.err = fmt.Errorf("writing the ledger of run %s: %w", p.cfg.RunID, err)
		fail(b.err)
		return
	}
	p.mu.Lock()
	for _, s := range b.batch {
		p.byOutcome[s.Outcome]++
	}
	p.mu.Unlock()
	if p.cfg.Progress != nil {
		p.cfg.Progress(p.Progress())
	}
	p.sayCapped()
	if p.cfg.LogEvery > 0 && time.Since(b.lastLog) >= p.cfg.LogEvery {
		b.lastLog = time.Now()
		p.logProgress()
	}
}

// CountRead counts one source row read.
func (p *Pipeline[J]) CountRead() { p.read.Add(1) }

// CountSettledBefore counts one row an earlier invocation settled, skipped.
func (p *Pipeline[J]) CountSettledBefore() { p.alreadySettled.Add(1) }

// SettleNow hands an outcome that needs no call to the writer.
func (p *Pipeline[J]) SettleNow(ctx context.Context, s checkpoint.Settlement) {
	select {
	case p.settle <- s:
	case <-ctx.Done():
	}
}

// outcomes copies the counts of this invocation's settlements.
func (p *Pipeline[J]) outcomes() map[checkpoint.Outcome]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.byOutcome)
}

// Progress is a snapshot of the run for a display.
func (p *Pipeline[J]) Progress() Progress {
	pr := Progress{RunID: p.cfg.RunID, Read: p.read.Load(), AlreadySettled: p.alreadySettled.Load(),
		ByOutcome: p.outcomes(), Elapsed: time.Since(p.start), Total: p.cfg.Total}
	for o, c := range pr.ByOutcome {
		pr.Settled += c
		if o == checkpoint.Failed || o == checkpoint.Invalid {
			pr.Failures += c
		}
	}
	if g := p.cfg.Gateway; g != nil {
		gs := g.Stats().Sub(p.base)
		pr.Requests, pr.RateLimited, pr.Latency = gs.Requests(), gs.RateLimited, g.Pacer().Latencies()
	}
	if secs := pr.Elapsed.Seconds(); secs > 0 {
		pr.RowsPerSec = float64(pr.Settled) / secs
		pr.RequestsPerSec = float64(pr.Requests) / secs
	}
	if pr.Total > 0 && pr.RowsPerSec > 0 {
		left := pr.Total - pr.Settled - pr.AlreadySettled
		pr.ETA = time.Duration(float64(max(left, 0)) / pr.RowsPerSec * float64(time.Second))
	}
	return pr
}

func (p *Pipeline[J]) logProgress() {
	pr := p.Progress()
	p.log.Info("progress", "read", pr.Read, "settled", pr.Settled, "already_settled", pr.AlreadySettled,
		"failures", pr.Failures, "rows_per_sec", round1(pr.RowsPerSec),
		"requests", pr.Requests, "rate_limited", pr.RateLimited, "eta_s", round1(pr.ETA.Seconds()))
}

// sayCapped logs, once, that the ceiling on requests in flight limits the
// rate (see pacer.Budget's Concurrency).
func (p *Pipeline[J]) sayCapped() {
	g := p.cfg.Gateway
	if g == nil || p.cappedSaid.Load() {
		return
	}
	b := g.Stats().Budget
	if b == nil || b.Capped == nil || p.cappedSaid.Swap(true) {
		return
	}
	c := b.Capped
	p.log.Warn(fmt.Sprintf("--max-in-flight %d limits the rate: at %s a request, %d at once allow about %.1f requests/s "+
		"of the budget's %.1f (Little's law asks for %d at once); a higher --max-in-flight would spend more of it",
		c.MaxInFlight, c.Latency.Round(time.Millisecond), c.MaxInFlight, c.MostPerSecond(), c.Rate, c.Wanted),
		"max_in_flight", c.MaxInFlight, "wanted", c.Wanted, "latency_ms", c.Latency.Milliseconds(),
		"most_requests_per_sec", round1(c.MostPerSecond()), "budget_requests_per_sec", round1(c.Rate))
}

// round1 rounds a figure for a log line to one decimal: rates and
// durations are logged as numbers (durations in seconds, the unit in the
// key), never as strings.
func round1(x float64) float64 { return math.Round(x*10) / 10 }

// finish records the run's status and builds the summary.
func (p *Pipeline[J]) finish(ctx context.Context, err error) (Summary, error) {
	p.sayCapped()
	s := p.summary()
	s.Status = checkpoint.Done
	if err != nil || ctx.Err() != nil {
		s.Status = checkpoint.Interrupted
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ferr := p.cfg.Store.FinishRun(fctx, p.cfg.RunID, s.Status); ferr != nil && err == nil {
		err = fmt.Errorf("closing run %s: %w", p.cfg.RunID, ferr)
	}
	p.log.Info("run finished", "status", s.Status, "settled", s.Settled(), "already_settled", s.AlreadySettled,
		"created", s.ByOutcome[checkpoint.Created], "exists", s.ByOutcome[checkpoint.Exists],
		"failed", s.ByOutcome[checkpoint.Failed], "invalid", s.ByOutcome[checkpoint.Invalid],
		"requests", s.Requests, "rate_limited", s.RateLimited, "retries", s.Retries,
		"elapsed_s", s.Elapsed.Round(time.Millisecond).Seconds(), "requests_per_sec", round1(s.RequestsPerSec))
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("run %s interrupted after settling %d rows (%d settled earlier); "+
			"re-run the same command to resume: %w", p.cfg.RunID, s.Settled(), s.AlreadySettled, context.Cause(ctx))
	}
	return s, err
}

func (p *Pipeline[J]) summary() Summary {
	s := Summary{RunID: p.cfg.RunID, Kind: p.cfg.Kind, Read: p.read.Load(), AlreadySettled: p.alreadySettled.Load(),
		ByOutcome: p.outcomes(), Elapsed: time.Since(p.start)}
	GatewaySummary(&s, p.cfg.Gateway, p.base)
	if secs := s.Elapsed.Seconds(); secs > 0 {
		s.RequestsPerSec = float64(s.Requests) / secs
		s.RowsPerSec = float64(s.Settled()) / secs
	}
	return s
}

// GatewaySummary fills a summary's request counts from what the gateway
// counted since base (nothing when g is nil).
func GatewaySummary(s *Summary, g *gateway.Gateway, base gateway.Stats) {
	if g == nil {
		return
	}
	gs := g.Stats().Sub(base)
	s.Requests, s.Creates = gs.Requests(), gs.Of(gateway.OpCreateUser)
	s.Lookups, s.Deletes = gs.Lookups(), gs.Of(gateway.OpDeleteUser)
	s.RateLimited, s.Retries, s.Recovered = gs.RateLimited, gs.Retries, gs.Recovered
	s.Holds, s.PeakInFlight = gs.Pacer.Holds, gs.Pacer.PeakInFlight
	if gs.Budget != nil {
		s.Budget, s.Capped = gs.Budget.Told, gs.Budget.Capped
	}
}
