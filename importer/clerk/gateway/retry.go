package gateway

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
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
func retrying(policy RetryPolicy, n *counters) layer {
	return func(next handler) handler {
		return func(ctx context.Context, c *call) error {
			var errRetries, limitRetries int
			for {
				err := next(ctx, c)
				if clerk.Classify(err) != clerk.Retry {
					return err
				}
				if ctx.Err() != nil {
					return context.Cause(ctx)
				}
				if gave := giveUp(policy, err, &errRetries, &limitRetries); gave != nil {
					if ok, lerr := landed(ctx, c, err, n); ok || lerr != nil {
						return lerr
					}
					return gave
				}
				if err := wait(ctx, policy, err, errRetries, limitRetries); err != nil {
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

// giveUp counts one retryable failure against its budget; it returns the
// error to end with when that budget is spent.
func giveUp(policy RetryPolicy, err error, errRetries, limitRetries *int) error {
	var ae *clerk.Error
	if errors.As(err, &ae) && ae.RateLimited() {
		*limitRetries++
		if *limitRetries > policy.MaxRateLimitRetries {
			return &exhaustedError{attempts: *errRetries + *limitRetries, last: err}
		}
		return nil
	}
	if *errRetries >= policy.MaxRetries {
		return &exhaustedError{attempts: *errRetries + *limitRetries + 1, last: err}
	}
	*errRetries++
	return nil
}

// wait sleeps before a retry: the backoff, except for a 429 that carried a
// Retry-After, which the pacer's hold covers.
func wait(ctx context.Context, policy RetryPolicy, err error, errRetries, limitRetries int) error {
	var ae *clerk.Error
	if errors.As(err, &ae) && ae.RateLimited() {
		if ae.RetryAfter > 0 {
			return nil
		}
		return sleep(ctx, policy.Backoff(limitRetries-1))
	}
	return sleep(ctx, policy.Backoff(errRetries-1))
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

// sleep sleeps for d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
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
