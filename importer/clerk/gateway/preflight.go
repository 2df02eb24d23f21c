package gateway

import (
	"context"
	"fmt"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

// Preflight checks, before the first row, that the target answers and
// accepts the key: one GET /v1/users?limit=1 through every layer (paced,
// retried and counted like any call). It returns nil when the target
// answered; otherwise a *PreflightError, which ends the run before it
// starts (clerk.Classify says Fatal): a refused key, a target that does
// not answer (a refused connection, a bad certificate: pacer.ErrTargetDown
// once the pacer's policy has heard nothing for pacer.DownFor), or one
// that kept failing.
func (g *Gateway) Preflight(ctx context.Context) error {
	if _, err := g.ListUsers(ctx, clerk.ListUsersParams{Limit: 1}); err != nil {
		if clerk.Classify(err) == clerk.Canceled || ctx.Err() != nil {
			return err
		}
		return &PreflightError{Err: err}
	}
	return nil
}

// PreflightError is a target that failed the pre-flight check.
type PreflightError struct {
	Err error
}

func (e *PreflightError) Error() string {
	return fmt.Sprintf("pre-flight check of the target failed, nothing was imported: %v", e.Err)
}

func (e *PreflightError) Unwrap() error { return e.Err }

// Fatal says the run must not start (clerk.Classify reads it).
func (e *PreflightError) Fatal() bool { return true }
