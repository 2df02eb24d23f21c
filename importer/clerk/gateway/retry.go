package gateway

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
)

// RetryPolicy bounds the retries of one call.
type RetryPolicy struct {
	// MaxRetries is how many times a call that failed with a retryable error
	// (5xx, timeout, reset, lost response) is sent again; default 6, a
	// negative value none.
	MaxRetries int
	// MaxRateLimitRetries is how many 429s one call may meet before it gives
	// up; default 20. 429s are the pacer's business (every caller waits out
	// the hold), so they do not use up MaxRetries.
	MaxRateLimitRetries int
	// MaxSilence is how long one call keeps trying a silent target (no
	// answer to anyone while its attempts failed) before it gives up;
	// default 1 minute. Such attempts do not use up MaxRetries: the pacer's
	// policy decides whether the target is down, long before (the default
	// policy after pacer.DownFor).
	MaxSilence time.Duration
	// BaseDelay and MaxDelay shape the exponential backoff with full
	// jitter: before retry n the call sleeps a random time in
	// [0, min(MaxDelay, BaseDelay·2ⁿ)). Defaults 250 ms and 10 s.
	BaseDelay, MaxDelay time.Duration
}

// WithDefaults fills the zero fields.
func (p RetryPolicy) WithDefaults() RetryPolicy {
	if p.MaxRetries == 0 {
		p.MaxRetries = 6
	}
	p.MaxRetries = max(p.MaxRetries, 0)
	if p.MaxRateLimitRetries <= 0 {
		p.MaxRateLimitRetries = 20
	}
	if p.MaxSilence <= 0 {
		p.MaxSilence = time.Minute
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 250 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 10 * time.Second
	}
	return p
}

// Backoff is the sleep before retry n (0-based): full jitter, a uniformly
// random duration in [0, min(MaxDelay, BaseDelay·2ⁿ)).
func (p RetryPolicy) Backoff(n int) time.Duration {
	ceiling := p.MaxDelay
	if n < 32 {
		if d := p.BaseDelay << n; d > 0 && d < ceiling {
			ceiling = d
		}
	}
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling)
}

// ErrRetriesExhausted wraps the last error of a call that failed every
// attempt it was allowed.
var ErrRetriesExhausted = errors.New("retries exhausted")

// exhaustedError is a call that ran out of retries.
type exhaustedError struct {
	attempts int
	last     error
}

func (e *exhaustedError) Error() string {
	return fmt.Sprintf("gave up after %d attempts: %v", e.attempts, e.last)
}

func (e *exhaustedError) Unwrap() []error { return []error{ErrRetriesExhausted, e.last} }

// retrying sends a call again while it fails with clerk.Retry, after a
// backoff with full jitter (a 429 with a Retry-After waits in the pacer's
// shared hold instead), a bounded number of times. A call that must not be
// sent twice and whose last answer was lost (clerk.MaybeApplied) is sent
// again only after its landed check says the lost attempt did not take
// effect; that check runs once more when the retries run out.
//
// An attempt that got no answer while nobody else's did either (the pacer
// counted no answer meanwhile) says nothing of the call: the target is
// silent. It is tried again after a short backoff without using up the
// call's retries (MaxSilence bounds those), so that a target that
// goes down fails no call: the pacer's policy stops the run instead
// (pacer.DownError), and the call ends with that.
func retrying(policy RetryPolicy, n *counters, p *pacer.Pacer) layer {
	return func(next handler) handler {
		return func(ctx context.Context, c *call) error {
			var t tries
			for {
				answered := p.Answered()
				err := next(ctx, c)
				if clerk.Classify(err) != clerk.Retry {
					return err
				}
				if ctx.Err() != nil {
					return context.Cause(ctx)
				}
				silent := answerOf(err) == pacer.Unanswered && p.Answered() == answered
				if gave := t.giveUp(policy, err, silent); gave != nil {
					if ok, lerr := landed(ctx, c, err, n); ok || lerr != nil {
						return lerr
					}
					return gave
				}
				if err := t.wait(ctx, policy, err, silent); err != nil {
					return err
				}
				if ok, lerr := landed(ctx, c, err, n); ok || lerr != nil {
					return lerr
				}
				n.retries.Add(1)
			}
		}
	}
}

// tries counts one call's retryable failures by kind.
type tries struct {
	errors, limits, silent int
	silentSince            time.Time // the first of the silent failures in a row
}

func (t *tries) attempts() int { return t.errors + t.limits + t.silent + 1 }

// giveUp counts one retryable failure against its budget; it returns the
// error to end with when that budget is spent.
func (t *tries) giveUp(policy RetryPolicy, err error, silent bool) error {
	if !silent {
		t.silentSince = time.Time{}
	}
	var ae *clerk.Error
	switch {
	case errors.As(err, &ae) && ae.RateLimited():
		if t.limits >= policy.MaxRateLimitRetries {
			return &exhaustedError{attempts: t.attempts(), last: err}
		}
		t.limits++
	case silent:
		if t.silentSince.IsZero() {
			t.silentSince = time.Now()
		} else if time.Since(t.silentSince) >= policy.MaxSilence {
			return &exhaustedError{attempts: t.attempts(), last: err}
		}
		t.silent++
	default:
		if t.errors >= policy.MaxRetries {
			return &exhaustedError{attempts: t.attempts(), last: err}
		}
		t.errors++
	}
	return nil
}

// wait sleeps before a retry: the backoff, except for a 429 that carried a
// Retry-After, which the pacer's hold covers, and for a silent target,
// which is tried again after about BaseDelay while the pacer's policy
// judges it.
func (t *tries) wait(ctx context.Context, policy RetryPolicy, err error, silent bool) error {
	var ae *clerk.Error
	switch {
	case errors.As(err, &ae) && ae.RateLimited():
		if ae.RetryAfter > 0 {
			return nil
		}
		return sleep(ctx, policy.Backoff(t.limits-1))
	case silent:
		return sleep(ctx, policy.Backoff(1))
	}
	return sleep(ctx, policy.Backoff(t.errors-1))
}

// landed runs the call's landed check after an answer that was lost.
func landed(ctx context.Context, c *call, err error, n *counters) (bool, error) {
	if c.landed == nil || !clerk.MaybeApplied(err) {
		return false, nil
	}
	ok, lerr := c.landed(ctx)
	if ok {
		n.recovered.Add(1)
	}
	return ok, lerr
}

// sleep sleeps for d or until ctx or its admission (WithAdmission) ends.
func sleep(ctx context.Context, d time.Duration) error {
	wctx, done := admitting(ctx)
	defer done()
	return canceled(wctx, sleepCtx(wctx, d))
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
