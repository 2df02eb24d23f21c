package importer

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

// Rate is a request budget: at most Requests requests in any Window, the way
// Clerk counts them (a fixed window per instance).
type Rate struct {
	Requests int
	Window   time.Duration
}

// DefaultRate is the budget of the instance a secret key belongs to:
// production keys (sk_live_) get 1000 requests per 10 s, development keys
// (sk_test_ and anything else) 100 per 10 s. Only the prefix is read.
func DefaultRate(secretKey string) Rate {
	if strings.HasPrefix(secretKey, "sk_live_") {
		return Rate{Requests: 1000, Window: 10 * time.Second}
	}
	return Rate{Requests: 100, Window: 10 * time.Second}
}

// PerSecond is the budget as a steady rate.
func (r Rate) PerSecond() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Window.Seconds()
}

// IsZero reports an unset Rate.
func (r Rate) IsZero() bool { return r.Requests == 0 && r.Window == 0 }

// String writes the rate as "100/10s".
func (r Rate) String() string { return fmt.Sprintf("%d/%s", r.Requests, r.Window) }

func (r Rate) validate() error {
	if r.Requests <= 0 || r.Window <= 0 {
		return fmt.Errorf("importer: rate %s: requests and window must be positive", r)
	}
	return nil
}

// pacerFraction is the share of the budget the pacer spends. A token bucket
// with steady rate f·N/W and burst b lets through at most b + f·N requests in
// any span of length W, so with f = 0.9 and b ≤ N/20 a fixed window of Clerk's
// can never be overrun, even with some network jitter bunching requests up.
const pacerFraction = 0.9

// defaultRateLimitHold is the pause after a 429 without a Retry-After.
const defaultRateLimitHold = time.Second

// initialLatency is the latency the concurrency estimate starts from.
const initialLatency = 200 * time.Millisecond

// Pacer is the one gate every request of a run passes, in the manner of
// rclone's lib/pacer: it spaces requests to stay under the instance's budget,
// holds every caller while a 429's Retry-After runs (one hold for all, not
// one per worker), and admits as many concurrent requests as the budget can
// use at the observed latency (Little's law: in flight ≈ rate × latency),
// never more than MaxInFlight. It is safe for concurrent use.
type Pacer struct {
	budget  Rate
	perSec  float64
	limiter *rate.Limiter
	max     int
	now     func() time.Time

	mu        sync.Mutex
	holdUntil time.Time
	limit     int           // concurrency admitted now
	inFlight  int           // admitted and not yet released
	latency   time.Duration // EWMA of request latency
	wake      chan struct{} // closed and replaced when a slot frees or a hold changes

	latencies latencyRecorder // every request's latency, for the reports
	stats     PacerStats
}

// PacerStats counts what the pacer did.
type PacerStats struct {
	Requests     int64         // requests admitted
	RateLimited  int64         // 429 answers reported
	Holds        int64         // distinct holds started by those 429s
	HeldWaits    int64         // admissions that had to wait for a hold to pass
	HeldTime     time.Duration // total time holds covered
	PeakInFlight int           // most requests admitted at once
	Limit        int           // the concurrency limit now
	Latency      time.Duration // the latency estimate now
}

// NewPacer returns a pacer for the budget, admitting at most maxInFlight
// concurrent requests (at least 1).
func NewPacer(budget Rate, maxInFlight int) *Pacer {
	if maxInFlight < 1 {
		maxInFlight = 1
	}
	burst := int(float64(budget.Requests) * (1 - pacerFraction) / 2)
	burst = max(1, min(burst, 20))
	// burst + rate·window ≤ budget, also for tiny budgets where the burst
	// of 1 is more than the 10 % slack.
	perWindow := min(pacerFraction*float64(budget.Requests), float64(budget.Requests-burst))
	perWindow = max(perWindow, 0.5)
	perSec := perWindow / budget.Window.Seconds()
	p := &Pacer{
		budget:  budget,
		perSec:  perSec,
		limiter: rate.NewLimiter(rate.Limit(perSec), burst),
		max:     maxInFlight,
		now:     time.Now,
		latency: initialLatency,
		wake:    make(chan struct{}),
	}
	p.limit = p.targetLimit()
	return p
}

// Budget is the budget the pacer was made for.
func (p *Pacer) Budget() Rate { return p.budget }

// Stats returns a snapshot of the pacer's counters.
func (p *Pacer) Stats() PacerStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Limit = p.limit
	s.Latency = p.latency
	return s
}

// Acquire waits for a concurrency slot, for any hold to pass and for the
// budget to allow one more request. The caller sends its request and then
// calls done with the request's error (nil on success); done frees the slot,
// feeds the latency estimate and, on a 429, holds every caller until its
// Retry-After has passed.
func (p *Pacer) Acquire(ctx context.Context) (done func(error), err error) {
	if err := p.acquireSlot(ctx); err != nil {
		return nil, err
	}
	if err := p.waitTurn(ctx); err != nil {
		p.releaseSlot(0)
		return nil, err
	}
	start := p.now()
	var once sync.Once
	return func(err error) {
		once.Do(func() {
			took := p.now().Sub(start)
			p.latencies.observe(took)
			p.releaseSlot(took)
			var ae *clerk.Error
			if errors.As(err, &ae) && ae.RateLimited() {
				p.Hold(ae.RetryAfter)
			}
		})
	}, nil
}

// Latencies returns the histogram of request latencies so far.
func (p *Pacer) Latencies() Latencies { return p.latencies.snapshot() }

// Hold pauses every caller of Acquire for d (defaultRateLimitHold when d ≤
// 0), counting one 429. Holds overlap: the longest wins, and a 429 that
// arrives while a hold runs does not start a new one.
func (p *Pacer) Hold(d time.Duration) {
	if d <= 0 {
		d = defaultRateLimitHold
	}
	now := p.now()
	until := now.Add(d)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.RateLimited++
	if !p.holdUntil.After(now) {
		p.stats.Holds++
		p.stats.HeldTime += d
	} else if until.After(p.holdUntil) {
		p.stats.HeldTime += until.Sub(p.holdUntil)
	}
	if until.After(p.holdUntil) {
		p.holdUntil = until
		p.broadcastLocked()
	}
}

func (p *Pacer) acquireSlot(ctx context.Context) error {
	for {
		p.mu.Lock()
		if p.inFlight < p.limit {
			p.inFlight++
			p.stats.PeakInFlight = max(p.stats.PeakInFlight, p.inFlight)
			p.mu.Unlock()
			return nil
		}
		wake := p.wake
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-wake:
		}
	}
}

func (p *Pacer) releaseSlot(latency time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.inFlight--
	if latency > 0 {
		// EWMA with weight 1/8, as TCP's SRTT.
		p.latency += (latency - p.latency) / 8
		p.limit = p.targetLimit()
	}
	p.broadcastLocked()
}

// targetLimit is Little's law with headroom: enough requests in flight to
// spend the budget at the current latency, plus two for jitter.
func (p *Pacer) targetLimit() int {
	n := int(math.Ceil(p.perSec*p.latency.Seconds()*1.5)) + 2
	return max(1, min(n, p.max))
}

func (p *Pacer) broadcastLocked() {
	close(p.wake)
	p.wake = make(chan struct{})
}

// waitTurn waits out any hold, then takes a token; if a hold began while it
// waited for the token, it waits that hold out and takes a fresh token, so
// that no request goes out during a hold and none bunch up right after it.
func (p *Pacer) waitTurn(ctx context.Context) error {
	held := false
	for {
		p.mu.Lock()
		d := p.holdUntil.Sub(p.now())
		p.mu.Unlock()
		if d > 0 {
			if !held {
				held = true
				p.mu.Lock()
				p.stats.HeldWaits++
				p.mu.Unlock()
			}
			if err := sleepCtx(ctx, d); err != nil {
				return err
			}
			continue
		}
		if err := p.limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
			return err
		}
		p.mu.Lock()
		d = p.holdUntil.Sub(p.now())
		if d <= 0 {
			p.stats.Requests++
		}
		p.mu.Unlock()
		if d <= 0 {
			return nil
		}
	}
}

// sleepCtx sleeps for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
		return nil
	}
}
