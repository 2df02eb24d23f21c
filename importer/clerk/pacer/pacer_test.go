package pacer_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
)

// target is an emulator and a client of it.
type target struct {
	srv    *emulator.Server
	client *clerk.Client
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
	return target{srv: srv, client: c}
}

// count sends one GET /v1/users/count through the pacer.
func (tg target) count(ctx context.Context, p *pacer.Pacer) error {
	turn, err := p.Acquire(ctx)
	if err != nil {
		return err
	}
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
// Budget for its real limit meet no 429, every request the pacer admitted
// reached the target, and the budget is spent, not wasted.
func TestBudgetStaysUnderTheLimit(t *testing.T) {
	t.Parallel()
	budget := pacer.Rate{Requests: 30, Window: time.Second}
	tg := startTarget(t, emulator.Config{RequestsPerWindow: budget.Requests, Window: budget.Window})
	p := pacer.New(pacer.NewBudget(budget, 8, 5*time.Second))
	took := runFor(t, 2500*time.Millisecond, func(ctx context.Context) {
		if errs := tg.hammer(ctx, p, 8); len(errs) > 0 {
			t.Errorf("errors: %v", errs)
		}
	})
	es, ps := tg.srv.Emulator().Stats(), p.Stats()
	if es.RateLimited != 0 {
		t.Errorf("the target answered %d 429s of %d requests", es.RateLimited, es.Total)
	}
	if int64(es.Total) != ps.Requests {
		t.Errorf("the pacer admitted %d requests, the target saw %d", ps.Requests, es.Total)
	}
	if floor := 0.5 * budget.PerSecond() * took.Seconds(); float64(es.Total) < floor {
		t.Errorf("%d requests in %s: less than half the budget %s", es.Total, took.Round(time.Millisecond), budget)
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
	const maxInFlight = 32
	budget := pacer.Rate{Requests: 300, Window: time.Second}
	tg := startTarget(t, emulator.Config{RequestsPerWindow: 1 << 30, Faults: emulator.Faults{Latency: 40 * time.Millisecond}})
	p := pacer.New(pacer.NewBudget(budget, maxInFlight, 5*time.Second))
	took := runFor(t, 2*time.Second, func(ctx context.Context) {
		if errs := tg.hammer(ctx, p, 64); len(errs) > 0 {
			t.Errorf("errors: %v", errs)
		}
	})
	es, ps := tg.srv.Emulator().Stats(), p.Stats()
	if es.PeakConcurrency > maxInFlight {
		t.Errorf("%d requests at once at the target, MaxInFlight is %d", es.PeakConcurrency, maxInFlight)
	}
	if rate := float64(es.Total) / took.Seconds(); rate < 4*25 {
		t.Errorf("%.0f requests/s at 40 ms latency: concurrency did not follow the latency (setting %+v)", rate, ps.Setting)
	}
	if c := ps.Setting.Concurrency; c < 10 || c >= maxInFlight {
		t.Errorf("concurrency settled at %d; Little's law says about 270/s × 40 ms × 1.5 + 2 ≈ 18", c)
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
