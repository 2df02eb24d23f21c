package gateway

import (
	"context"
	"fmt"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

// WithAdmission returns a context under which calls start no new attempt
// once admission ends: a call waiting for its turn in the pacer (a slot,
// a token, a 429's hold), in a retry's backoff, or about to look a lost
// answer up, returns at once with an error clerk.Classify calls Canceled,
// while an attempt already sent runs on under ctx.
//
// This is how a run stops on a signal: its rows' calls run under a
// context that outlives the signal by a grace period, so that requests
// Clerk may be applying get their answers; with admission the run's own
// context, nothing new is sent meanwhile, however long the target keeps
// the run waiting (a hold, a target that went silent).
func WithAdmission(ctx, admission context.Context) context.Context {
	return context.WithValue(ctx, admissionKey{}, admission)
}

type admissionKey struct{}

// admitting is the context that bounds waiting to start an attempt: ctx
// ended also by its admission context (see WithAdmission), or ctx itself.
func admitting(ctx context.Context) (context.Context, context.CancelFunc) {
	admission, ok := ctx.Value(admissionKey{}).(context.Context)
	if !ok {
		return ctx, func() {}
	}
	actx, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(admission, func() { cancel(context.Cause(admission)) })
	return actx, func() {
		stop()
		cancel(nil)
	}
}

// canceled turns an error that ended a wait because wctx ended (the
// call's context or its admission) into one clerk.Classify calls
// Canceled, so that no layer takes it for a failure to retry; other
// errors (a stopped pacer's) pass as they are.
func canceled(wctx context.Context, err error) error {
	if err == nil || wctx.Err() == nil {
		return err
	}
	return &clerk.TransportError{Canceled: true, Err: fmt.Errorf("not sent: %w", err)}
}
