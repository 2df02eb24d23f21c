package gateway

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
)

// errAttemptTimeout is an attempt that ran past the pacer's timeout.
var errAttemptTimeout = errors.New("request timed out")

// paced sends every attempt through the shared pacer: it waits for its
// turn, bounds the attempt by the policy's timeout (as it is while the
// attempt runs: see watch), and reports how it ended (a 429 and its
// Retry-After hold every caller; a silent target is the policy's to
// judge). An attempt ended by its own timeout, not by the caller, may have
// been applied: it is a *clerk.TransportError with Sent set.
func paced(p *pacer.Pacer) layer {
	return func(next handler) handler {
		return func(ctx context.Context, c *call) error {
			wctx, done := admitting(ctx)
			turn, err := p.Acquire(wctx)
			err = canceled(wctx, err)
			done()
			if err != nil {
				return err
			}
			actx, cancel := context.WithCancelCause(ctx)
			start, stop := time.Now(), watch(turn, cancel)
			err = next(actx, c)
			stop()
			cancel(nil)
			timedOut := err != nil && ctx.Err() == nil && clerk.Classify(err) == clerk.Canceled &&
				errors.Is(context.Cause(actx), errAttemptTimeout)
			if timedOut {
				te := &clerk.TransportError{Sent: true}
				if inner := (*clerk.TransportError)(nil); errors.As(err, &inner) {
					te.Method, te.Path, err = inner.Method, inner.Path, inner.Err
				}
				te.Err = fmt.Errorf("%w after %s: %w", errAttemptTimeout, time.Since(start).Round(time.Millisecond), err)
				err = te
			}
			turn.Done(outcome(c.op, err, timedOut))
			return err
		}
	}
}

// recheck is how often a running attempt's deadline is read again.
const recheck = 500 * time.Millisecond

// watch cancels an attempt with errAttemptTimeout once it passes the
// turn's deadline, reading the deadline again every recheck: a policy that
// shortens its timeout (once it has seen the latency) cuts the attempts
// admitted under the longer one too. stop ends the watch.
func watch(turn *pacer.Turn, cancel context.CancelCauseFunc) (stop func()) {
	var mu sync.Mutex
	done := false
	var t *time.Timer
	check := func() {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return
		}
		deadline := turn.Deadline()
		if deadline.IsZero() {
			t.Reset(recheck)
			return
		}
		left := time.Until(deadline)
		if left <= 0 {
			cancel(errAttemptTimeout)
			done = true
			return
		}
		t.Reset(min(left, recheck))
	}
	mu.Lock()
	t = time.AfterFunc(min(turn.Timeout(), recheck), check)
	mu.Unlock()
	return func() {
		mu.Lock()
		done = true
		t.Stop()
		mu.Unlock()
	}
}

// outcome is what the pacer needs to know of an attempt.
func outcome(op Op, err error, timedOut bool) pacer.Outcome {
	o := pacer.Outcome{Err: err, PerUser: op.PerUser(), Answer: answerOf(err)}
	if timedOut {
		o.Answer = pacer.TimedOut
	}
	var ae *clerk.Error
	if errors.As(err, &ae) && ae.RateLimited() {
		o.RateLimited, o.RetryAfter = true, ae.RetryAfter
	}
	return o
}

// answerOf says whether the target answered an attempt that ended with
// err: any HTTP status is an answer; a transport failure is none (a
// timeout of the client's own is TimedOut); the caller's cancellation and
// a request never built say nothing of the target.
func answerOf(err error) pacer.Answer {
	if err == nil {
		return pacer.Answered
	}
	var ae *clerk.Error
	if errors.As(err, &ae) {
		return pacer.Answered
	}
	var te *clerk.TransportError
	switch {
	case !errors.As(err, &te) || te.Canceled:
		return pacer.Abandoned
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, errAttemptTimeout):
		return pacer.TimedOut
	}
	return pacer.Unanswered
}
