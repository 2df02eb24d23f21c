package pacer

import (
	"math"
	"sync"
	"time"
)

// Budget is the default Policy. It spends a known budget to within the
// jitter of the way to the target, learns a lower one from the target's
// 429s, admits as many requests at once as Little's law says the budget
// needs at the observed latency, bounds each request by a timeout that
// follows the observed latency, and stops the pacer when the target stops
// answering.
//
// # Why a fixed window is never overrun
//
// Clerk counts the requests that reach it in fixed windows [T, T+W) of
// each instance and refuses any beyond N. Budget admits requests through a
// token bucket of depth b = 1 and rate r = E/(W+J), where E ≤ N is the
// budget it believes (N, the budget it was told, until 429s teach it
// less) and J bounds how much the delay from admission to Clerk's counter
// varies.
//
//  1. The bucket: if the k-th request admitted in a span [s, s+L) is
//     admitted at t_k, the bucket held at most b tokens at s and has
//     gained r·(t_k−s) since, so k ≤ b + r·(t_k−s) < b + r·L.
//  2. The way there: a request counted in [T, T+W) was admitted in
//     [T−d_max, T+W−d_min), a span of W + J, where J = d_max − d_min.
//  3. So a window counts fewer than b + r·(W+J) = 1 + E requests: at most
//     E ≤ N, wherever the windows start. ∎
//
// (The rate is shaved by a millionth so that rounding in the bucket's
// arithmetic cannot reach the bound.) The only budget given up is the
// jitter: r·W = E·W/(W+J). J is JitterFloor (25 ms: goroutine wake-ups,
// GC pauses and scheduling between admission and the wire on a busy
// client) plus half the spread (p95 − p5) of the last 512 answered round
// trips: a request's way in varies by half its round trip's variation when
// both ways vary alike, and the server's own work comes after the count.
// The outer tenth of round trips is left out: on a loaded client a few
// stalls would otherwise set J for minutes, and a window they do overrun
// is caught as below. Until 32 round trips are in, J is JitterFloor +
// 100 ms. The numbers (uniform round trips):
//
//	budget      round trip    p95−p5   J        r          r·W ÷ N
//	1000/10 s   20±10 ms      18 ms    34 ms    99.66/s    0.9966
//	100/10 s    20±10 ms      18 ms    34 ms    9.966/s    0.9966
//	1000/10 s   400±200 ms    360 ms   205 ms   97.99/s    0.980
//
// A fixed share of 0.9 with a burst of N/20 (at most 20), which this
// replaced, was safe too (20 + 0.9·N ≤ N) but spent 0.90. Where the way in
// varies more than J says, a window may count one more than N: the 429
// lowers E by one (below), so the estimate mends itself for one hold.
//
// # Learning a lower budget
//
// Clerk sends no rate-limit header but Retry-After (the spec's 429 has
// none; see CLERK_API.md), so the budget is learned from 429s, AIMD-style
// (decrease on a 429, additive increase after quiet spells), except that
// the decrease is measured, not guessed. A 429's Retry-After holds every
// caller until past the end of the window that refused it, so the next
// window begins during the hold and every request it counts was admitted
// after the hold. If that window refuses one too, the requests admitted
// between the end of the hold and the refused one are exactly what the
// window let through: E becomes that count. A 429 that no such count
// explains (jitter beyond J, another client of the same instance for a
// moment) lowers E by one. E never rises above the budget told; below it,
// E is probed back up by 1 % of it after a quiet spell of ProbeAfter,
// doubled each time a probe meets a 429 (at most 16 times).
//
// A 429 of a call Clerk also limits per user (Outcome.PerUser) holds
// every caller for its Retry-After but teaches nothing of the instance.
//
// # Concurrency
//
// Little's law: requests in flight = rate × latency. Budget admits
// ⌈r·(1.5·ℓ + 100 ms)⌉ + 2 at once, ℓ the moving average (weight 1/8, as
// TCP's SRTT) of every request's latency, never more than MaxInFlight
// (DefaultMaxInFlight when not set). The 100 ms keep that much of the
// bucket's output queued for it: a bucket of depth 1 loses every token
// that finds nobody waiting, and a busy client's goroutines can wake
// tens of milliseconds late. Report says when the ceiling stayed below
// what Little's law asked for a whole window, so the caller can say the
// ceiling, not the budget, set the pace.
//
// # Timeouts
//
// A fixed timeout when one is given; otherwise TimeoutP99s times the p99
// of the last 512 answered round trips, within [MinTimeout, MaxTimeout].
// Until 32 answers are in it is MaxTimeout. So a slow answer holds a slot
// for about MinTimeout, not MaxTimeout (an answer cut by the timeout is
// not among the answered round trips, so the slow answers do not raise
// the quantile they are cut by). A target that slows down beyond the
// timeout would answer nothing to learn from: while more than 5 % of the
// recent requests time out and nothing was answered for a whole timeout,
// each timeout doubles the timeout (up to 16 times, within MaxTimeout),
// and once under 2 % each answer halves it back, so a few slow answers
// among many cost their own time only. The silence matters at a run's end:
// the last rows are those whose answers were slow, so most of the few
// requests still out time out, while their lookups are answered. Without
// it the share alone doubled the timeout to 30 s there and every slow
// answer held its row its whole 20 s (at 1000 requests/s that tail made
// the fault mix cost 2.15x the fault-free wall).
//
// # A target that stops answering
//
// When DownAfter requests in a row get no answer at all (refused, reset,
// TLS failure, or none within the timeout: any HTTP status is an answer)
// over at least DownFor, the policy stops the pacer with a *DownError. A
// frozen host accepts connections and answers nothing, so its requests
// time out; among answered requests a few slow answers never make eight
// in a row (a run's last slow answers are each followed by their answered
// lookup).
type Budget struct {
	mu       sync.Mutex
	told     Rate
	max      int
	fixed    time.Duration
	latency  time.Duration // moving average of every request's latency
	answered recent        // round trips of answered requests
	timedOut float64       // moving share of requests that timed out (weight 1/32)
	// lastAnswer is when the last answered request ended.
	lastAnswer time.Time
	boost      int // timeout doublings while timeouts are common
	learn      learner
	down       detector
	capped     *Capped
	// cappedSince is when Little's law last began to ask for more than
	// the ceiling (zero: it does not now).
	cappedSince time.Time
}

var _ Policy = (*Budget)(nil)

// Tuning of Budget (see its doc).
const (
	// DefaultMaxInFlight caps concurrency when the caller sets no cap: a
	// ceiling Little's law reaches only at several seconds per request.
	DefaultMaxInFlight = 256
	// JitterFloor is the least variation assumed in the delay from
	// admission to the target's counter.
	JitterFloor = 25 * time.Millisecond
	// DefaultHold is the pause after a 429 without a Retry-After.
	DefaultHold = time.Second
	// MinTimeout and MaxTimeout bound the timeout that follows latency;
	// TimeoutP99s is how many times the p99 it is.
	MinTimeout  = 2 * time.Second
	MaxTimeout  = 30 * time.Second
	TimeoutP99s = 5
	// ProbeAfter is the first quiet spell after which a learned budget
	// is probed upwards.
	ProbeAfter = time.Minute
	// DownAfter and DownFor say when a silent target is down.
	DownAfter = 8
	DownFor   = 2 * time.Second
)

const (
	initialLatency = 200 * time.Millisecond // the latency average before any request
	initialSpread  = 200 * time.Millisecond // the round-trip spread before warmUp answers
	warmUp         = 32                     // answers before quantiles are trusted
	shave          = 1 - 1e-6               // keeps the rate off the bound
	queued         = 100 * time.Millisecond // the bucket's worth of requests kept queued
	commonTimeouts = 0.05                   // a share of timeouts that doubles the timeout
	rareTimeouts   = 0.02                   // a share under which it is halved back
)

// NewBudget returns the policy for a budget it is told, admitting at most
// maxInFlight requests at once (0: DefaultMaxInFlight), each bounded by
// timeout (0: following the latency).
func NewBudget(budget Rate, maxInFlight int, timeout time.Duration) *Budget {
	if maxInFlight <= 0 {
		maxInFlight = DefaultMaxInFlight
	}
	return &Budget{
		told: budget, max: maxInFlight, fixed: max(timeout, 0), latency: initialLatency,
		learn: newLearner(budget), down: detector{after: DownAfter, silentFor: DownFor},
	}
}

// Budget is the budget the policy was told.
func (b *Budget) Budget() Rate { return b.told }

// Start spends the told budget at the starting latency estimate.
func (b *Budget) Start() Setting {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.setting()
}

// Observe learns from one finished request: its latency, a 429, a silent
// target.
func (b *Budget) Observe(o Observation) Decision {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := o.Start.Add(o.Latency)
	b.feed(o, now)
	var d Decision
	if o.RateLimited {
		d.Hold = b.learn.limited(o, now)
	} else {
		b.learn.quiet(now)
	}
	if err := b.down.observe(o, now); err != nil {
		d.Stop = err
	}
	d.Setting = b.setting()
	b.noteCap(d.Setting, now)
	return d
}

// feed takes the request's latency, which ended at now, into the
// estimates.
func (b *Budget) feed(o Observation, now time.Time) {
	switch o.Answer {
	case Abandoned:
		return
	case Answered:
		b.answered.add(o.Latency)
		b.lastAnswer = now
		b.timedOut -= b.timedOut / 32
		if b.timedOut < rareTimeouts {
			b.boost = max(0, b.boost-1)
		}
	case TimedOut:
		b.timedOut += (1 - b.timedOut) / 32
		if b.timedOut > commonTimeouts && now.Sub(b.lastAnswer) >= b.timeout() {
			b.boost = min(b.boost+1, 4)
		}
	}
	if o.Latency > 0 {
		b.latency += (o.Latency - b.latency) / 8
	}
}

// jitter is J: how much the delay from admission to the target's counter
// may vary.
func (b *Budget) jitter() time.Duration {
	spread := initialSpread
	if b.answered.count() >= warmUp {
		spread = b.answered.quantile(0.95) - b.answered.quantile(0.05)
	}
	return JitterFloor + spread/2
}

// rate is r = E/(W+J), in requests per second.
func (b *Budget) rate() float64 {
	span := b.told.Window + b.jitter()
	return float64(b.learn.est) / span.Seconds() * shave
}

// wanted is the concurrency Little's law asks for at rate r, with room
// for requests queued at the bucket (see Budget's doc).
func (b *Budget) wanted(r float64) int {
	return int(math.Ceil(r*(1.5*b.latency.Seconds()+queued.Seconds()))) + 2
}

// timeout is the bound of the next request.
func (b *Budget) timeout() time.Duration {
	if b.fixed > 0 {
		return b.fixed
	}
	if b.answered.count() < warmUp {
		return MaxTimeout
	}
	d := min(max(TimeoutP99s*b.answered.quantile(0.99), MinTimeout), MaxTimeout)
	return min(d<<b.boost, MaxTimeout)
}

func (b *Budget) setting() Setting {
	r := b.rate()
	return Setting{Rate: r, Burst: 1, Concurrency: max(1, min(b.wanted(r), b.max)), Timeout: b.timeout()}
}

// noteCap remembers the first time, once latencies are known, that the
// ceiling held concurrency below what Little's law asked for a whole
// window (a moment's surge of latency is not the ceiling setting the pace).
func (b *Budget) noteCap(s Setting, now time.Time) {
	if b.capped != nil || b.answered.count() < warmUp {
		return
	}
	want := b.wanted(s.Rate)
	switch {
	case want <= b.max:
		b.cappedSince = time.Time{}
	case b.cappedSince.IsZero():
		b.cappedSince = now
	case now.Sub(b.cappedSince) >= b.told.Window:
		b.capped = &Capped{At: b.cappedSince, MaxInFlight: b.max, Wanted: want, Latency: b.latency, Rate: s.Rate}
	}
}

// Capped is the moment the concurrency ceiling began to hold the requests
// in flight below what Little's law asked for the budget, for a whole
// window at least.
type Capped struct {
	At          time.Time
	MaxInFlight int           // the ceiling
	Wanted      int           // what Little's law asked
	Latency     time.Duration // the latency average then
	Rate        float64       // the budget's rate then, requests per second
}

// MostPerSecond is the most requests per second the ceiling lets through
// at that latency.
func (c Capped) MostPerSecond() float64 {
	return float64(c.MaxInFlight) / c.Latency.Seconds()
}

// Report is what a Budget believes and decided.
type Report struct {
	// Told is the budget as told; Learned the requests per window it
	// spends now (Told.Requests until 429s taught it less).
	Told    Rate
	Learned int
	// Measured counts the windows whose count set Learned; Decreases the
	// 429s that lowered it by one; Probes the times it was raised.
	Measured, Decreases, Probes int
	// Jitter is J; Rate the admission rate now (requests per second).
	Jitter time.Duration
	Rate   float64
	// Latency is the moving average of request latency; Concurrency the
	// requests admitted at once now, Wanted what Little's law asks.
	Latency     time.Duration
	Concurrency int
	Wanted      int
	MaxInFlight int
	// Capped is set once the ceiling held concurrency below Wanted.
	Capped *Capped
	// Timeout is the bound of a request now.
	Timeout time.Duration
}

// Report returns a snapshot of the policy's state.
func (b *Budget) Report() Report {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := b.setting()
	r := Report{
		Told: b.told, Learned: b.learn.est, Measured: b.learn.measured, Decreases: b.learn.decreases,
		Probes: b.learn.probes, Jitter: b.jitter(), Rate: s.Rate, Latency: b.latency,
		Concurrency: s.Concurrency, Wanted: b.wanted(s.Rate), MaxInFlight: b.max, Timeout: s.Timeout,
	}
	if b.capped != nil {
		c := *b.capped
		r.Capped = &c
	}
	return r
}
