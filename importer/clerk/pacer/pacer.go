// Package pacer is the one gate every request to a rate-limited API passes,
// in the manner of rclone's lib/pacer: one Pacer per target, shared by every
// worker, so that a 429's Retry-After slows every worker, not just the one
// that met it.
//
// A Pacer is mechanism: a token bucket (golang.org/x/time/rate) that spaces
// requests, a count of concurrency slots, and one shared hold. How fast the
// bucket fills, how many slots there are, how long a hold lasts and how
// long one request may take are decided by its Policy, told of every
// finished request (as rclone's Calculator is). Budget is the policy the
// project uses by default; tests and later tuning plug in others.
//
// The package knows nothing of Clerk: the caller says whether an answer
// was a 429 and what its Retry-After was (importer/clerk/gateway does).
package pacer

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Pacer admits requests under its Policy. It is safe for concurrent use.
type Pacer struct {
	limiter *rate.Limiter
	now     func() time.Time

	mu        sync.Mutex
	policy    Policy
	setting   Setting
	stop      error
	holdUntil time.Time
	inFlight  int           // admitted and not yet done
	wake      chan struct{} // closed and replaced when a slot frees or a hold or setting changes
	stats     Stats

	latencies latencyRecorder
}

// Stats counts what a Pacer did.
type Stats struct {
	Requests     int64         // requests admitted
	Answered     int64         // requests the target answered (any status)
	RateLimited  int64         // 429 answers reported
	Holds        int64         // distinct holds started
	HeldWaits    int64         // admissions that had to wait for a hold to pass
	HeldTime     time.Duration // total time holds covered
	PeakInFlight int           // most requests admitted at once
	Setting      Setting       // the setting now
}

// New returns a Pacer run by policy.
func New(policy Policy) *Pacer {
	s := sane(policy.Start())
	return &Pacer{
		limiter: rate.NewLimiter(rate.Limit(s.Rate), s.Burst),
		now:     time.Now,
		policy:  policy,
		setting: s,
		wake:    make(chan struct{}),
	}
}

// Policy is the policy the pacer was made with.
func (p *Pacer) Policy() Policy { return p.policy }

// sane keeps a setting within what the mechanism can do.
func sane(s Setting) Setting {
	s.Burst = max(1, s.Burst)
	s.Concurrency = max(1, s.Concurrency)
	s.Rate = max(s.Rate, 1e-3)
	return s
}

// Stats returns a snapshot of the counters.
func (p *Pacer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	s := p.stats
	s.Setting = p.setting
	return s
}

// Answered is how many requests the target has answered so far (any
// status): a caller compares two readings to tell whether the target
// answered anyone in between.
func (p *Pacer) Answered() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats.Answered
}

// Latencies returns the histogram of request latencies so far.
func (p *Pacer) Latencies() Latencies { return p.latencies.snapshot() }

// Turn is one admitted request. Its holder sends the request, bounded by
// Timeout, and then calls Done exactly once.
type Turn struct {
	p       *Pacer
	seq     int64
	start   time.Time
	timeout time.Duration
}

// Timeout is the bound of this request (0: none), as the policy set it.
func (t *Turn) Timeout() time.Duration { return t.timeout }

// Deadline is when the request runs out of time under the policy's timeout
// now, which may have changed since the request was admitted (a policy
// whose timeout follows latency shortens it once it has seen some); the
// zero time when the policy sets no timeout.
func (t *Turn) Deadline() time.Time {
	t.p.mu.Lock()
	d := t.p.setting.Timeout
	t.p.mu.Unlock()
	if d <= 0 {
		return time.Time{}
	}
	return t.start.Add(d)
}

// Done reports how the request ended: it frees the slot, records the
// latency and lets the policy decide what comes next.
func (t *Turn) Done(o Outcome) {
	p := t.p
	took := p.now().Sub(t.start)
	p.latencies.observe(took)
	p.mu.Lock()
	defer p.mu.Unlock()
	obs := Observation{Outcome: o, Seq: t.seq, Admitted: p.stats.Requests, Start: t.start, Latency: took, InFlight: p.inFlight}
	p.inFlight--
	if o.Answer == Answered {
		p.stats.Answered++
	}
	if o.RateLimited {
		p.stats.RateLimited++
	}
	d := p.policy.Observe(obs)
	p.applyLocked(d)
	p.broadcastLocked()
}

// Acquire waits for a concurrency slot, for any hold to pass and for the
// token bucket to allow one more request.
func (p *Pacer) Acquire(ctx context.Context) (*Turn, error) {
	timeout, err := p.acquireSlot(ctx)
	if err != nil {
		return nil, err
	}
	seq, err := p.waitTurn(ctx)
	if err != nil {
		p.mu.Lock()
		p.inFlight--
		p.broadcastLocked()
		p.mu.Unlock()
		return nil, err
	}
	return &Turn{p: p, seq: seq, start: p.now(), timeout: timeout}, nil
}

// Hold pauses every caller of Acquire for d from now, as a 429 does: the
// longest hold wins, and a hold that starts while another runs is not
// counted as a new one.
func (p *Pacer) Hold(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holdLocked(d)
	p.broadcastLocked()
}

// applyLocked takes a policy's decision.
func (p *Pacer) applyLocked(d Decision) {
	if d.Stop != nil && p.stop == nil {
		p.stop = d.Stop
	}
	s := sane(d.Setting)
	now := p.now()
	if s.Rate != p.setting.Rate {
		p.limiter.SetLimitAt(now, rate.Limit(s.Rate))
	}
	if s.Burst != p.setting.Burst {
		p.limiter.SetBurstAt(now, s.Burst)
	}
	p.setting = s
	if d.Hold > 0 {
		p.holdLocked(d.Hold)
	}
}

func (p *Pacer) holdLocked(d time.Duration) {
	now := p.now()
	until := now.Add(d)
	if !p.holdUntil.After(now) {
		p.stats.Holds++
		p.stats.HeldTime += d
	} else if until.After(p.holdUntil) {
		p.stats.HeldTime += until.Sub(p.holdUntil)
	}
	if until.After(p.holdUntil) {
		p.holdUntil = until
	}
}

// ErrStopped wraps the error a Policy stopped the pacer with.
var ErrStopped = errors.New("pacer stopped")

func (p *Pacer) acquireSlot(ctx context.Context) (time.Duration, error) {
	for {
		p.mu.Lock()
		if p.stop != nil {
			err := errors.Join(ErrStopped, p.stop)
			p.mu.Unlock()
			return 0, err
		}
		if p.inFlight < p.setting.Concurrency {
			p.inFlight++
			p.stats.PeakInFlight = max(p.stats.PeakInFlight, p.inFlight)
			timeout := p.setting.Timeout
			p.mu.Unlock()
			return timeout, nil
		}
		wake := p.wake
		p.mu.Unlock()
		select {
		case <-ctx.Done():
			return 0, context.Cause(ctx)
		case <-wake:
		}
	}
}

func (p *Pacer) broadcastLocked() {
	close(p.wake)
	p.wake = make(chan struct{})
}

// waitTurn waits out any hold, then takes a token; if a hold began while it
// waited for the token, it waits that hold out and takes a fresh token, so
// that no request goes out during a hold and none bunch up right after it.
// It returns the request's admission number (1 for the first).
func (p *Pacer) waitTurn(ctx context.Context) (int64, error) {
	held := false
	for {
		p.mu.Lock()
		d, wake, stop := p.holdUntil.Sub(p.now()), p.wake, p.stop
		if d > 0 && !held {
			held = true
			p.stats.HeldWaits++
		}
		p.mu.Unlock()
		if stop != nil {
			return 0, errors.Join(ErrStopped, stop)
		}
		if d > 0 {
			if err := sleepOrWake(ctx, d, wake); err != nil {
				return 0, err
			}
			continue
		}
		if err := p.limiter.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return 0, context.Cause(ctx)
			}
			// The token would come after ctx's deadline.
			return 0, fmt.Errorf("%w: %w", context.DeadlineExceeded, err)
		}
		if seq, ok, err := p.admit(); ok || err != nil {
			return seq, err
		}
	}
}

// admit counts one admission unless a hold began meanwhile (ok false) or
// the policy stopped the pacer while the caller waited (err).
func (p *Pacer) admit() (seq int64, ok bool, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop != nil {
		return 0, false, errors.Join(ErrStopped, p.stop)
	}
	if p.holdUntil.After(p.now()) {
		return 0, false, nil
	}
	p.stats.Requests++
	return p.stats.Requests, true, nil
}

// sleepOrWake sleeps for d, until wake is closed (the pacer's state
// changed: a stop, a longer hold) or until ctx ends.
func sleepOrWake(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return context.Cause(ctx)
	case <-t.C:
	case <-wake:
	}
	return nil
}
