package pacer

import (
	"math"
	"time"
)

// Setting is how a Pacer admits requests at a given moment.
type Setting struct {
	// Rate is the steady rate of the token bucket, in requests per second;
	// Burst is its depth (at least 1).
	Rate  float64
	Burst int
	// Concurrency is how many requests may be in flight at once (at least 1).
	Concurrency int
	// Timeout bounds one request; 0 means no bound beyond the caller's.
	Timeout time.Duration
}

// Outcome is what the caller reports of a request it sent.
type Outcome struct {
	// Err is the request's error; nil on success.
	Err error
	// RateLimited says the answer was a 429; RetryAfter is its Retry-After
	// (0 when the answer had none).
	RateLimited bool
	RetryAfter  time.Duration
}

// Observation is one finished request, as a Policy sees it.
type Observation struct {
	Outcome
	// Start is when the request was admitted; Latency how long it took.
	Start   time.Time
	Latency time.Duration
	// InFlight is how many requests were in flight when it ended, itself
	// included.
	InFlight int
}

// Decision is a Policy's answer to an Observation.
type Decision struct {
	// Setting is how the pacer admits requests from now on.
	Setting
	// Hold, when positive, pauses every caller for that long from now
	// (one hold for all: a longer hold already running wins).
	Hold time.Duration
	// Stop, when set, ends the pacer: every Acquire from now on fails
	// with it (a target that waiting cannot fix).
	Stop error
}

// Policy decides how a Pacer admits requests, in the manner of rclone's
// lib/pacer Calculator: the pacer reports every finished request and
// applies the decision it gets back. The pacer keeps the mechanism (the
// token bucket, the concurrency slots, the shared hold); a policy keeps
// only the judgement, so a better one (learning the real limit, timeouts
// from the latency distribution, giving up on a broken target) is a new
// Policy, not a new pacer.
//
// The pacer calls a Policy's methods one at a time, so a Policy needs no
// lock of its own.
type Policy interface {
	// Start is the setting before any request has ended.
	Start() Setting
	// Observe learns from one finished request and says how to go on.
	Observe(o Observation) Decision
}

// Budget is the default Policy: it spends a fixed share of a known
// budget, holds everyone for a 429's Retry-After, and admits as many
// concurrent requests as the budget can use at the observed latency.
//
//   - Rate: a token bucket with steady rate f·N/W and burst b lets at most
//     b + f·N requests into any span of length W, so with f = Fraction
//     (0.9) and b ≤ N/20 no fixed window of Clerk's is ever overrun, even
//     with network jitter bunching requests up.
//   - Concurrency: Little's law (in flight = rate × latency) on an EWMA of
//     the latency (weight 1/8, as TCP's SRTT), with 1.5× headroom plus two,
//     never more than MaxInFlight.
//   - A 429 holds every caller for its Retry-After, or DefaultHold when it
//     has none.
type Budget struct {
	budget  Rate
	perSec  float64
	burst   int
	max     int
	timeout time.Duration
	latency time.Duration // EWMA of request latency
}

var _ Policy = (*Budget)(nil)

// Fraction is the share of its budget a Budget spends.
const Fraction = 0.9

// DefaultHold is the pause after a 429 without a Retry-After.
const DefaultHold = time.Second

// initialLatency is the latency the concurrency estimate starts from.
const initialLatency = 200 * time.Millisecond

// NewBudget returns the policy for budget, admitting at most maxInFlight
// concurrent requests (at least 1), each bounded by timeout (0: none).
func NewBudget(budget Rate, maxInFlight int, timeout time.Duration) *Budget {
	burst := int(float64(budget.Requests) * (1 - Fraction) / 2)
	burst = max(1, min(burst, 20))
	// burst + rate·window ≤ budget, also for tiny budgets where the burst
	// of 1 is more than the 10 % slack.
	perWindow := min(Fraction*float64(budget.Requests), float64(budget.Requests-burst))
	perWindow = max(perWindow, 0.5)
	return &Budget{
		budget: budget, perSec: perWindow / budget.Window.Seconds(), burst: burst,
		max: max(1, maxInFlight), timeout: timeout, latency: initialLatency,
	}
}

// Budget is the budget the policy spends a share of.
func (b *Budget) Budget() Rate { return b.budget }

// Start spends the budget at the starting latency estimate.
func (b *Budget) Start() Setting { return b.setting() }

// Observe feeds the latency estimate and holds on a 429.
func (b *Budget) Observe(o Observation) Decision {
	if o.Latency > 0 {
		b.latency += (o.Latency - b.latency) / 8
	}
	d := Decision{Setting: b.setting()}
	if o.RateLimited {
		d.Hold = o.RetryAfter
		if d.Hold <= 0 {
			d.Hold = DefaultHold
		}
	}
	return d
}

func (b *Budget) setting() Setting {
	n := int(math.Ceil(b.perSec*b.latency.Seconds()*1.5)) + 2
	return Setting{Rate: b.perSec, Burst: b.burst, Concurrency: max(1, min(n, b.max)), Timeout: b.timeout}
}
