package importer

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// UserAPI is the part of Clerk's Backend API the importer calls. It is
// satisfied by *clerk.Client.
type UserAPI interface {
	CreateUser(ctx context.Context, p *clerk.CreateUserParams) (*clerk.User, error)
	ListUsers(ctx context.Context, p clerk.ListUsersParams) ([]clerk.User, error)
	DeleteUser(ctx context.Context, id string) error
}

// Mapper turns a source record into a CreateUser request. It is satisfied by
// *mapping.Mapping.
type Mapper interface {
	Map(sources.Record) (*clerk.CreateUserParams, mapping.FieldErrors)
}

// RetryPolicy bounds the retries of one call.
type RetryPolicy struct {
	// MaxRetries is how many times a call that failed with a retryable error
	// (5xx, timeout, reset, lost response) is sent again; default 6.
	MaxRetries int
	// MaxRateLimitRetries is how many 429s one call may meet before it gives
	// up; default 20. 429s are the pacer's business (every caller waits out
	// the hold), so they do not use up MaxRetries.
	MaxRateLimitRetries int
	// BaseDelay and MaxDelay shape the exponential backoff with full
	// jitter: before retry n the call sleeps a random time in
	// [0, min(MaxDelay, BaseDelay·2ⁿ)). Defaults 250 ms and 10 s.
	BaseDelay, MaxDelay time.Duration
	// CallTimeout bounds one attempt; 0 means 30 s. An attempt that runs
	// out of time counts as a lost response.
	CallTimeout time.Duration
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxRetries == 0 {
		p.MaxRetries = 6
	}
	if p.MaxRetries < 0 {
		p.MaxRetries = 0
	}
	if p.MaxRateLimitRetries <= 0 {
		p.MaxRateLimitRetries = 20
	}
	if p.BaseDelay <= 0 {
		p.BaseDelay = 250 * time.Millisecond
	}
	if p.MaxDelay <= 0 {
		p.MaxDelay = 10 * time.Second
	}
	if p.CallTimeout <= 0 {
		p.CallTimeout = 30 * time.Second
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

// apiCounters are the run-wide counts of calls, shared by the layers.
type apiCounters struct {
	requests    atomic.Int64 // calls sent
	creates     atomic.Int64 // CreateUser calls sent
	lookups     atomic.Int64 // ListUsers calls sent
	deletes     atomic.Int64 // DeleteUser calls sent
	rateLimited atomic.Int64 // 429 answers
	retries     atomic.Int64 // calls sent again after a retryable failure
	recovered   atomic.Int64 // creates whose lost answer was found by a lookup
}

// rowCounter counts the calls made for one row; it rides in the context.
type rowCounter struct{ calls, creates int }

type rowCounterKey struct{}

func withRowCounter(ctx context.Context) (context.Context, *rowCounter) {
	c := &rowCounter{}
	return context.WithValue(ctx, rowCounterKey{}, c), c
}

func rowCounterFrom(ctx context.Context) *rowCounter {
	c, _ := ctx.Value(rowCounterKey{}).(*rowCounter)
	return c
}

// pacedAPI sends every call through the shared pacer, bounds each attempt
// with a timeout, and reports 429s to the pacer so that every worker holds.
type pacedAPI struct {
	next    UserAPI
	pacer   *Pacer
	timeout time.Duration
	n       *apiCounters
}

func (a *pacedAPI) call(ctx context.Context, count *atomic.Int64, isCreate bool, fn func(context.Context) error) error {
	done, err := a.pacer.Acquire(ctx)
	if err != nil {
		return err
	}
	a.n.requests.Add(1)
	count.Add(1)
	if c := rowCounterFrom(ctx); c != nil {
		c.calls++
		if isCreate {
			c.creates++
		}
	}
	actx, cancel := context.WithTimeoutCause(ctx, a.timeout, errAttemptTimeout)
	err = fn(actx)
	cancel()
	if err != nil && ctx.Err() == nil && clerk.Classify(err) == clerk.Canceled {
		// The attempt's own deadline ended it, not the run: a timeout,
		// and the request may have been applied.
		err = &clerk.TransportError{Sent: true, Err: fmt.Errorf("%w: %w", errAttemptTimeout, err)}
	}
	var ae *clerk.Error
	if errors.As(err, &ae) && ae.RateLimited() {
		a.n.rateLimited.Add(1)
	}
	done(err)
	return err
}

var errAttemptTimeout = errors.New("request timed out")

func (a *pacedAPI) CreateUser(ctx context.Context, p *clerk.CreateUserParams) (u *clerk.User, err error) {
	err = a.call(ctx, &a.n.creates, true, func(ctx context.Context) error {
		u, err = a.next.CreateUser(ctx, p)
		return err
	})
	return u, err
}

func (a *pacedAPI) ListUsers(ctx context.Context, p clerk.ListUsersParams) (us []clerk.User, err error) {
	err = a.call(ctx, &a.n.lookups, false, func(ctx context.Context) error {
		us, err = a.next.ListUsers(ctx, p)
		return err
	})
	return us, err
}

func (a *pacedAPI) DeleteUser(ctx context.Context, id string) error {
	return a.call(ctx, &a.n.deletes, false, func(ctx context.Context) error {
		return a.next.DeleteUser(ctx, id)
	})
}

// retryingAPI retries calls that failed with clerk.Retry, with exponential
// backoff and full jitter, a bounded number of times, retrying only the call
// that failed. A create whose outcome is unknown (clerk.MaybeApplied) is
// never sent again blindly: the user is first looked up by external_id, and
// if found, that user is the answer (it was our request).
type retryingAPI struct {
	next   UserAPI
	policy RetryPolicy
	n      *apiCounters
}

// retry runs fn until it succeeds, fails for good, or runs out of retries.
// before is called ahead of each retry with the error that caused it; it may
// end the loop by returning done=true.
func (a *retryingAPI) retry(ctx context.Context, fn func() error, before func(err error) (done bool, berr error)) error {
	var errRetries, limitRetries int
	for {
		err := fn()
		if clerk.Classify(err) != clerk.Retry {
			return err
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		var ae *clerk.Error
		limited := errors.As(err, &ae) && ae.RateLimited()
		if limited {
			limitRetries++
			if limitRetries > a.policy.MaxRateLimitRetries {
				return &exhaustedError{attempts: errRetries + limitRetries, last: err}
			}
			if ae.RetryAfter <= 0 {
				// No Retry-After: the pacer holds a default pause.
				if err := sleepCtx(ctx, a.policy.Backoff(limitRetries-1)); err != nil {
					return err
				}
			}
		} else {
			if errRetries >= a.policy.MaxRetries {
				return &exhaustedError{attempts: errRetries + limitRetries + 1, last: err}
			}
			if err := sleepCtx(ctx, a.policy.Backoff(errRetries)); err != nil {
				return err
			}
			errRetries++
		}
		if before != nil {
			done, berr := before(err)
			if done || berr != nil {
				return berr
			}
		}
		a.n.retries.Add(1)
	}
}

// CreateUser creates a user; a create that may have been applied is looked
// up by external_id before it is sent again.
func (a *retryingAPI) CreateUser(ctx context.Context, p *clerk.CreateUserParams) (*clerk.User, error) {
	ext, _ := p.ExternalID.Get()
	var u *clerk.User
	// lookupIfApplied finds the user a maybe-applied create left behind.
	lookupIfApplied := func(err error) (bool, error) {
		if !clerk.MaybeApplied(err) || ext == "" {
			return false, nil
		}
		found, lerr := a.FindByExternalID(ctx, ext)
		if lerr != nil {
			return true, lerr
		}
		if found != nil {
			a.n.recovered.Add(1)
			u = found
			return true, nil
		}
		return false, nil
	}
	err := a.retry(ctx, func() error {
		var err error
		u, err = a.next.CreateUser(ctx, p)
		return err
	}, lookupIfApplied)
	if errors.Is(err, ErrRetriesExhausted) {
		// The last attempt too may have been applied: look once more
		// before reporting a failure.
		var ex *exhaustedError
		if errors.As(err, &ex) {
			if done, lerr := lookupIfApplied(ex.last); lerr != nil {
				return nil, lerr
			} else if done {
				return u, nil
			}
		}
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}

// ListUsers lists users, retried on retryable failures.
func (a *retryingAPI) ListUsers(ctx context.Context, p clerk.ListUsersParams) (us []clerk.User, err error) {
	err = a.retry(ctx, func() error {
		us, err = a.next.ListUsers(ctx, p)
		return err
	}, nil)
	return us, err
}

// DeleteUser deletes a user, retried on retryable failures (a user gone
// by the retry answers 404, which the caller treats as deleted).
func (a *retryingAPI) DeleteUser(ctx context.Context, id string) error {
	return a.retry(ctx, func() error { return a.next.DeleteUser(ctx, id) }, nil)
}

// FindByExternalID looks a user up by external_id; nil when there is none.
func (a *retryingAPI) FindByExternalID(ctx context.Context, ext string) (*clerk.User, error) {
	return findByExternalID(ctx, a, ext)
}

func findByExternalID(ctx context.Context, api UserAPI, ext string) (*clerk.User, error) {
	us, err := api.ListUsers(ctx, clerk.ListUsersParams{ExternalID: []string{ext}, Limit: 10})
	if err != nil {
		return nil, err
	}
	for i := range us {
		if us[i].ExternalID != nil && *us[i].ExternalID == ext {
			return &us[i], nil
		}
	}
	return nil, nil
}

// layer builds the stack the workers call: retries around pacing around
// the API.
func layer(api UserAPI, p *Pacer, policy RetryPolicy, n *apiCounters) *retryingAPI {
	return &retryingAPI{
		next:   &pacedAPI{next: api, pacer: p, timeout: policy.CallTimeout, n: n},
		policy: policy,
		n:      n,
	}
}
