package pacer_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer/pacertest"
)

// target is an emulator and a client of it.
type target struct {
	srv     *emulator.Server
	client  *clerk.Client
	refused *refusals
}

// refusals are the spans of the requests a target answered with a 429.
type refusals struct {
	mu    sync.Mutex
	spans []pacertest.Span
}

func (r *refusals) add(s pacertest.Span) {
	r.mu.Lock()
	r.spans = append(r.spans, s)
	r.mu.Unlock()
}

func (r *refusals) all() []pacertest.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]pacertest.Span(nil), r.spans...)
}

func startTarget(t *testing.T, cfg emulator.Config) target {
	t.Helper()
	srv, err := emulator.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	c, err := clerk.New(clerk.Config{BaseURL: srv.URL(), SecretKey: "sk_test_pacer"})
	if err != nil {
		t.Fatal(err)
	}
	return target{srv: srv, client: c, refused: &refusals{}}
}

// count sends one GET /v1/users/count through the pacer. ctx bounds the
// wait for a turn; a request admitted is sent whatever becomes of ctx, so
// that every admission reaches the target.
func (tg target) count(ctx context.Context, p *pacer.Pacer) error {
	turn, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
	sent := time.Now()
	ctx = context.WithoutCancel(ctx)
	if d := turn.Timeout(); d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d)
		defer cancel()
	}
	_, err = tg.client.CountUsers(ctx, clerk.ListUsersParams{})
	o := pacer.Outcome{Err: err}
	var ae *clerk.Error
	if errors.As(err, &ae) && ae.RateLimited() {
		o.RateLimited, o.RetryAfter = true, ae.RetryAfter
		tg.refused.add(pacertest.Span{Sent: sent, Answered: time.Now()})
	}
	turn.Done(o)
	return err
}

// hammer has n workers send requests through p until ctx ends; it
// returns the errors other than 429s and the end of ctx.
func (tg target) hammer(ctx context.Context, p *pacer.Pacer, n int) []error {
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			for ctx.Err() == nil {
				err := tg.count(ctx, p)
				var ae *clerk.Error
				ended := ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded)
				if err != nil && !ended && !(errors.As(err, &ae) && ae.RateLimited()) {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return errs
}

func runFor(t *testing.T, d time.Duration, fn func(ctx context.Context)) time.Duration {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	fn(ctx)
	return time.Since(start)
}

// TestBudgetStaysUnderTheLimit: workers hammering a target through a
// Budget for its real limit, with 20±10 ms of latency half of which
// bunches requests at the target's counter, meet no 429 that the machine
// does not explain (a stall of this process's goroutines beyond the
// pacer's allowance, long enough for that window's 429s: see pacertest),
// every request the pacer admitted reached the target, and the budget is
// spent, not wasted: the fullest window counted nearly the whole budget.
func TestBudgetStaysUnderTheLimit(t *testing.T) {
	t.Parallel()
	stalls := pacertest.Watch(t)
	budget := pacer.Rate{Requests: 60, Window: time.Second}
	tg := startTarget(t, emulator.Config{RequestsPerWindow: budget.Requests, Window: budget.Window,
		Faults: emulator.Faults{Latency: 10 * time.Millisecond, Jitter: 20 * time.Millisecond}})
	p := pacer.New(pacer.NewBudget(budget, 0, 0))
	took := runFor(t, 3200*time.Millisecond, func(ctx context.Context) {
		if errs := tg.hammer(ctx, p, 16); len(errs) > 0 {
			t.Errorf("errors: %v", errs)
		}
	})
	es, ps := tg.srv.Emulator().Stats(), p.Stats()
	refused := tg.refused.all()
	if es.RateLimited != len(refused) {
		t.Errorf("the target answered %d 429s, the workers saw %d", es.RateLimited, len(refused))
	}
	rate := p.Policy().(*pacer.Budget).Report().Rate
	if bad := stalls.Unexplained(t, refused, budget.Window, rate, pacer.JitterFloor/2); len(bad) > 0 {
		t.Errorf("the target answered %d 429s of %d requests that no stall of the machine explains", len(bad), es.Total)
	}
	if int64(es.Total) != ps.Requests {
		t.Errorf("the pacer admitted %d requests, the target saw %d", ps.Requests, es.Total)
	}
	// At 1 s windows J weighs ten times what it does at Clerk's 10 s, and
	// a loaded machine spreads round trips: a loose floor.
	if floor := 0.6 * budget.PerSecond() * took.Seconds(); float64(es.Total) < floor {
		t.Errorf("%d requests in %s: less than 0.6 of the budget %s", es.Total, took.Round(time.Millisecond), budget)
	}
	if rep := p.Policy().(*pacer.Budget).Report(); rep.Capped != nil {
		t.Errorf("the default ceiling reported as setting the pace at 60/s and 20 ms: %+v", rep.Capped)
	}
	if es.PeakWindow < budget.Requests*2/3 {
		t.Errorf("the fullest window counted %d requests of a budget of %d", es.PeakWindow, budget.Requests)
	}
}

// TestBudgetLearnsALowerBudget: told twice the target's real budget, the
// pacer meets 429s; the window after the first hold is counted from the
// hold's end, the budget it measures is the real one, and no 429 follows.
func TestBudgetLearnsALowerBudget(t *testing.T) {
	t.Parallel()
	real := pacer.Rate{Requests: 20, Window: 2 * time.Second}
	tg := startTarget(t, emulator.Config{RequestsPerWindow: real.Requests, Window: real.Window,
		Faults: emulator.Faults{Latency: 2 * time.Millisecond, Jitter: 4 * time.Millisecond}})
	pol := pacer.NewBudget(pacer.Rate{Requests: 2 * real.Requests, Window: real.Window}, 0, 0)
	p := pacer.New(pol)
	learnedAt := make(chan int, 1) // the 429s when the budget was learned
	runFor(t, 7*time.Second, func(ctx context.Context) {
		go func() {
			for ctx.Err() == nil && pol.Report().Measured == 0 {
				time.Sleep(10 * time.Millisecond)
			}
			learnedAt <- tg.srv.Emulator().Stats().RateLimited
		}()
		if errs := tg.hammer(ctx, p, 8); len(errs) > 0 {
			t.Errorf("errors: %v", errs)
		}
	})
	rep, es := pol.Report(), tg.srv.Emulator().Stats()
	if rep.Measured == 0 || rep.Learned < real.Requests-1 || rep.Learned > real.Requests {
		t.Fatalf("learned %d requests per window (%d measurements), the real budget is %d", rep.Learned, rep.Measured, real.Requests)
	}
	if later := es.RateLimited - <-learnedAt; later > 0 {
		t.Errorf("%d 429s after the budget was learned (%d in all)", later, es.RateLimited)
	}
	if es.PeakWindow > 2*real.Requests {
		t.Errorf("a window counted %d requests: more than the budget told", es.PeakWindow)
	}
}

// TestTimeoutFollowsLatency: once answers come in 10-20 ms, a request is
// bounded by MinTimeout, not MaxTimeout, so answers held back for 20 s cost
// their workers about 2 s each; the timeout came from the latency.
func TestTimeoutFollowsLatency(t *testing.T) {
	t.Parallel()
	fast := startTarget(t, emulator.Config{RequestsPerWindow: 1 << 30, Faults: emulator.Faults{Latency: 10 * time.Millisecond, Jitter: 10 * time.Millisecond}})
	slow := startTarget(t, emulator.Config{RequestsPerWindow: 1 << 30, Faults: emulator.Faults{Seed: 4,
		Latency: 10 * time.Millisecond, SlowRate: 0.1, SlowDelay: 20 * time.Second}})
	pol := pacer.NewBudget(pacer.Rate{Requests: 200, Window: time.Second}, 0, 0)
	p := pacer.New(pol)
	for range 40 {
		if err := fast.count(context.Background(), p); err != nil {
			t.Fatal(err)
		}
	}
	if d := pol.Report().Timeout; d != pacer.MinTimeout {
		t.Fatalf("timeout %s after 40 answers in 10-20 ms, want %s", d, pacer.MinTimeout)
	}
	took := runFor(t, time.Second, func(ctx context.Context) { slow.hammer(ctx, p, 8) })
	es := slow.srv.Emulator().Stats()
	if es.Faults.Slow == 0 {
		t.Fatal("no answer was held back: the test proves nothing")
	}
	if took > time.Second+2*pacer.MinTimeout+time.Second {
		t.Errorf("the workers took %s to finish after 1 s: slow answers held them beyond about %s", took, pacer.MinTimeout)
	}
}

// TestA429HoldsEveryWorker: told a budget ten times the target's real
// one, the pacer lets workers run into 429s; each one holds every worker
// for its Retry-After, so the 429s are at most the requests in flight when
// a window filled, not a stampede.
func TestA429HoldsEveryWorker(t *testing.T) {
	t.Parallel()
	const workers = 8
	tg := startTarget(t, emulator.Config{RequestsPerWindow: 5, Window: time.Second})
	p := pacer.New(pacer.NewBudget(pacer.Rate{Requests: 1000, Window: time.Second}, workers, 5*time.Second))
	took := runFor(t, 2500*time.Millisecond, func(ctx context.Context) {
		if errs := tg.hammer(ctx, p, workers); len(errs) > 0 {
			t.Errorf("errors: %v", errs)
		}
	})
	es, ps := tg.srv.Emulator().Stats(), p.Stats()
	windows := int(took/time.Second) + 2
	if es.RateLimited == 0 || ps.Holds == 0 {
		t.Fatalf("no 429 (%d) or no hold (%d): the test did not overrun the target", es.RateLimited, ps.Holds)
	}
	if max429 := windows * workers; es.RateLimited > max429 {
		t.Errorf("%d 429s in %d windows: more than the %d requests that can be in flight when a window fills", es.RateLimited, windows, max429)
	}
	if int64(es.RateLimited) != ps.RateLimited {
		t.Errorf("the pacer was told of %d 429s, the target sent %d", ps.RateLimited, es.RateLimited)
	}
}

// TestConcurrencySpendsTheBudgetAtHighLatency: at 40 ms a request, one
// request at a time would reach 25/s; Little's law admits enough at once to
// spend a 300/s budget, and never more than MaxInFlight.
func TestConcurrencySpendsTheBudgetAtHighLatency(t *testing.T) {
	t.Parallel()
	const maxInFlight = 64
	budget := pacer.Rate{Requests: 300, Window: time.Second}
	tg := startTarget(t, emulator.Config{RequestsPerWindow: 1 << 30, Faults: emulator.Faults{Latency: 40 * time.Millisecond}})
	pol := pacer.NewBudget(budget, maxInFlight, 5*time.Second)
	p := pacer.New(pol)
	took := runFor(t, 2*time.Second, func(ctx context.Context) {
		if errs := tg.hammer(ctx, p, 96); len(errs) > 0 {
			t.Errorf("errors: %v", errs)
		}
	})
	es, rep := tg.srv.Emulator().Stats(), pol.Report()
	if es.PeakConcurrency > maxInFlight {
		t.Errorf("%d requests at once at the target, MaxInFlight is %d", es.PeakConcurrency, maxInFlight)
	}
	if rate := float64(es.Total) / took.Seconds(); rate < 4*25 {
		t.Errorf("%.0f requests/s at 40 ms latency: concurrency did not follow the latency (%+v)", rate, rep)
	}
	// Little's law on what the policy measured: rate × (1.5 × latency +
	// 100 ms queued) + 2.
	if rep.Latency < 40*time.Millisecond || rep.Concurrency != min(rep.Wanted, maxInFlight) ||
		rep.Wanted != int(math.Ceil(rep.Rate*(1.5*rep.Latency.Seconds()+0.1)))+2 || rep.Wanted < 10 {
		t.Errorf("concurrency %d (wanted %d) at %s and %.0f/s: want ⌈rate × (1.5 × latency + 100 ms)⌉ + 2 ≥ 10 from a latency ≥ 40 ms",
			rep.Concurrency, rep.Wanted, rep.Latency, rep.Rate)
	}
}

// TestACeilingThatSetsThePaceIsReported: at 100 ms a request, a 200/s
// budget needs about 30 requests in flight; a ceiling of 4 holds the pace
// at 40/s, and the policy says so once it has for a whole window.
func TestACeilingThatSetsThePaceIsReported(t *testing.T) {
	t.Parallel()
	const ceiling = 4
	tg := startTarget(t, emulator.Config{RequestsPerWindow: 1 << 30, Faults: emulator.Faults{Latency: 100 * time.Millisecond}})
	pol := pacer.NewBudget(pacer.Rate{Requests: 200, Window: time.Second}, ceiling, 0)
	p := pacer.New(pol)
	runFor(t, 2500*time.Millisecond, func(ctx context.Context) { tg.hammer(ctx, p, 16) })
	rep := pol.Report()
	if rep.Capped == nil || rep.Capped.MaxInFlight != ceiling || rep.Capped.Wanted <= ceiling {
		t.Fatalf("the ceiling of %d held 200/s at 100 ms to %d in flight and was not reported: %+v", ceiling, tg.srv.Emulator().Stats().PeakConcurrency, rep)
	}
	if most := rep.Capped.MostPerSecond(); most > 50 {
		t.Errorf("at most %.0f/s under the ceiling: want about 4 / 100 ms = 40", most)
	}
}

// fixed is a Policy for the test: one request at a time at a fixed rate,
// stopping after stopAfter requests.
type fixed struct {
	seen, stopAfter int
	observed        []pacer.Observation
}

var errTooMany = errors.New("enough")

func (f *fixed) Start() pacer.Setting {
	return pacer.Setting{Rate: 50, Burst: 1, Concurrency: 1, Timeout: time.Second}
}

func (f *fixed) Observe(o pacer.Observation) pacer.Decision {
	f.seen++
	f.observed = append(f.observed, o)
	d := pacer.Decision{Setting: f.Start()}
	if f.seen >= f.stopAfter {
		d.Stop = errTooMany
	}
	return d
}

// TestPolicyIsPluggable: another Policy runs the same pacer: its
// concurrency is what the target sees, it observes every request, and its
// Stop ends the pacer for every worker.
func TestPolicyIsPluggable(t *testing.T) {
	t.Parallel()
	tg := startTarget(t, emulator.Config{RequestsPerWindow: 1 << 30, Faults: emulator.Faults{Latency: 5 * time.Millisecond}})
	pol := &fixed{stopAfter: 6}
	p := pacer.New(pol)
	var stopped atomic.Int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				err := tg.count(context.Background(), p)
				if errors.Is(err, pacer.ErrStopped) && errors.Is(err, errTooMany) {
					stopped.Add(1)
					return
				}
				if err != nil {
					t.Errorf("unexpected error %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	es := tg.srv.Emulator().Stats()
	if es.Total != 6 || len(pol.observed) != 6 || stopped.Load() != 4 {
		t.Errorf("target saw %d requests, policy observed %d, %d workers stopped: want 6, 6, 4", es.Total, len(pol.observed), stopped.Load())
	}
	if es.PeakConcurrency != 1 {
		t.Errorf("peak concurrency %d at the target, the policy allows 1", es.PeakConcurrency)
	}
	for _, o := range pol.observed {
		if o.Latency < 5*time.Millisecond || o.Err != nil || o.InFlight != 1 {
			t.Errorf("observation %+v: want the target's 5 ms latency, no error, 1 in flight", o)
		}
	}
}

// TestTimeoutDoublesOnlyForASilentTarget: at a run's end most of the few
// requests still out time out (their answers are the slow ones) while
// their lookups are answered: the timeout stays what the latency says. A
// target that answers nothing for a whole timeout doubles it.
func TestTimeoutDoublesOnlyForASilentTarget(t *testing.T) {
	b := pacer.NewBudget(pacer.Rate{Requests: 10000, Window: 10 * time.Second}, 0, 0)
	at := time.Unix(1_800_000_000, 0)
	observe := func(answer pacer.Answer, latency time.Duration) {
		b.Observe(pacer.Observation{Outcome: pacer.Outcome{Answer: answer}, Start: at.Add(-latency), Latency: latency})
	}
	for range 600 {
		at = at.Add(time.Millisecond)
		observe(pacer.Answered, 20*time.Millisecond)
	}
	base := b.Report().Timeout
	if base != pacer.MinTimeout {
		t.Fatalf("timeout at 20 ms round trips = %s, want the floor %s", base, pacer.MinTimeout)
	}
	for range 20 { // the tail: timeouts, an answered lookup between each two
		at = at.Add(base / 2)
		observe(pacer.Answered, 20*time.Millisecond)
		at = at.Add(base / 2)
		observe(pacer.TimedOut, base)
	}
	if got := b.Report().Timeout; got != base {
		t.Errorf("timeouts among answered lookups raised the timeout to %s, want %s", got, base)
	}
	for range 4 { // silence: timeouts only
		at = at.Add(b.Report().Timeout)
		observe(pacer.TimedOut, b.Report().Timeout)
	}
	if got := b.Report().Timeout; got <= base {
		t.Errorf("a target that answers nothing kept the timeout at %s, want it doubled", got)
	}
}

// TestRequestsTimingOutInARowAreATargetDown: a frozen host accepts
// connections and answers nothing: DownAfter timeouts in a row over DownFor
// stop the pacer as a target down; an answer between them starts the
// count again.
func TestRequestsTimingOutInARowAreATargetDown(t *testing.T) {
	b := pacer.NewBudget(pacer.Rate{Requests: 1000, Window: 10 * time.Second}, 0, 0)
	at := time.Unix(1_800_000_000, 0)
	observe := func(answer pacer.Answer) pacer.Decision {
		at = at.Add(500 * time.Millisecond)
		return b.Observe(pacer.Observation{Outcome: pacer.Outcome{Answer: answer}, Start: at.Add(-2 * time.Second), Latency: 2 * time.Second})
	}
	for range pacer.DownAfter - 1 {
		if d := observe(pacer.TimedOut); d.Stop != nil {
			t.Fatalf("stopped after fewer than %d timeouts: %v", pacer.DownAfter, d.Stop)
		}
	}
	observe(pacer.Answered)
	for range pacer.DownAfter - 1 {
		if d := observe(pacer.TimedOut); d.Stop != nil {
			t.Fatalf("an answer did not start the count again: %v", d.Stop)
		}
	}
	d := observe(pacer.TimedOut)
	if !errors.Is(d.Stop, pacer.ErrTargetDown) {
		t.Errorf("%d timeouts in a row: stop = %v, want the target down", pacer.DownAfter, d.Stop)
	}
}
