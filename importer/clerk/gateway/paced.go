package gateway

import (
	"context"
	"errors"
	"fmt"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
)

// errAttemptTimeout is an attempt that ran past the pacer's timeout.
var errAttemptTimeout = errors.New("request timed out")

// paced sends every attempt through the shared pacer: it waits for its
// turn, bounds the attempt by the policy's timeout, and reports how it
// ended (a 429 and its Retry-After hold every caller). An attempt ended
// by its own timeout, not by the caller, may have been applied: it is a
// *clerk.TransportError with Sent set.
func paced(p *pacer.Pacer) layer {
	return func(next handler) handler {
		return func(ctx context.Context, c *call) error {
			turn, err := p.Acquire(ctx)
			if err != nil {
				return err
			}
			actx, cancel := ctx, context.CancelFunc(func() {})
			if d := turn.Timeout(); d > 0 {
				actx, cancel = context.WithTimeoutCause(ctx, d, errAttemptTimeout)
			}
			err = next(actx, c)
			cancel()
			if err != nil && ctx.Err() == nil && clerk.Classify(err) == clerk.Canceled {
				err = &clerk.TransportError{Sent: true, Err: fmt.Errorf("%w: %w", errAttemptTimeout, err)}
			}
			turn.Done(outcome(err))
			return err
		}
	}
}

// outcome is what the pacer needs to know of an answer.
func outcome(err error) pacer.Outcome {
	o := pacer.Outcome{Err: err}
	var ae *clerk.Error
	if errors.As(err, &ae) && ae.RateLimited() {
		o.RateLimited, o.RetryAfter = true, ae.RetryAfter
	}
	return o
}
