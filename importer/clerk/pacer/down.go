package pacer

import (
	"errors"
	"fmt"
	"time"
)

// ErrTargetDown is matched (errors.Is) by the error of a pacer that its
// policy stopped because the target stopped answering.
var ErrTargetDown = errors.New("the target is not answering")

// DownError is a target that gave no answer to Failures requests in a
// row, over Silent. It ends the run, not the requests it failed: what they
// were about stays to be done once the target answers again.
type DownError struct {
	Failures int
	Silent   time.Duration
	// Last is the last request's error (a refused connection, a reset, a
	// TLS failure, a timeout).
	Last error
}

func (e *DownError) Error() string {
	return fmt.Sprintf("%v: %d requests in a row got no answer over %s (last: %v)",
		ErrTargetDown, e.Failures, e.Silent.Round(time.Millisecond), e.Last)
}

// Is matches ErrTargetDown.
func (e *DownError) Is(target error) bool { return target == ErrTargetDown }

// Unwrap returns the last request's error.
func (e *DownError) Unwrap() error { return e.Last }

// Fatal says the error ends the run (clerk.Classify reads it).
func (e *DownError) Fatal() bool { return true }

// detector notices a target that stopped answering.
type detector struct {
	after     int
	silentFor time.Duration

	failures    int       // requests in a row without an answer
	silentSince time.Time // when the first of them was admitted
	last        error
}

// observe takes one finished request; it returns a *DownError once the
// target has been silent long enough.
func (d *detector) observe(o Observation, now time.Time) error {
	switch o.Answer {
	case Answered:
		d.failures = 0
	case Unanswered, TimedOut:
		if d.failures == 0 {
			d.silentSince = o.Start
		}
		d.failures++
		d.last = o.Err
		if silent := now.Sub(d.silentSince); d.failures >= d.after && silent >= d.silentFor {
			return &DownError{Failures: d.failures, Silent: silent, Last: d.last}
		}
	}
	return nil
}
