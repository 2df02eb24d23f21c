package migrate

import (
	"context"
	"errors"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
)

// importRow creates one user idempotently and says how the row ended. It
// returns an error only when the row has no outcome: runner.ErrRowAbandoned
// on cancellation, *runner.FatalError when the run must stop.
func importRow(ctx context.Context, g *gateway.Gateway, runID string, runStart time.Time, j *job) (checkpoint.Settlement, error) {
	ctx, calls := gateway.CountCalls(ctx)
	s := checkpoint.Settlement{Pos: j.pos, Key: j.key, RequestHash: j.hash, Message: j.note}
	u, outcome, err := createOnce(ctx, g, runStart, j)
	s.Attempts = calls.Of(gateway.OpCreateUser)
	switch {
	case err == nil:
		s.Outcome, s.ClerkID = outcome, u.ID
		return s, nil
	case ctx.Err() != nil || clerk.Classify(err) == clerk.Canceled:
		return s, runner.ErrRowAbandoned
	case clerk.Classify(err) == clerk.Fatal:
		return s, &runner.FatalError{RunID: runID, Key: j.key, Err: err}
	}
	return runner.Failed(s, err), nil
}

// createOnce finds or creates the row's user: a row left in flight is
// looked up first, and a create refused for a taken identifier is looked
// up by external_id (it may be this very user).
func createOnce(ctx context.Context, g *gateway.Gateway, runStart time.Time, j *job) (*clerk.User, checkpoint.Outcome, error) {
	if j.lookupFirst {
		u, err := g.FindByExternalID(ctx, j.ext)
		if err != nil || u != nil {
			return u, attribute(u, runStart), err
		}
	}
	u, err := g.CreateUser(ctx, j.params)
	if err == nil {
		// u may come from a lookup after a lost answer: attribute it.
		return u, attribute(u, runStart), nil
	}
	var ae *clerk.Error
	if errors.As(err, &ae) {
		// Any identifier taken (Clerk names the first it checks, often the
		// email) may mean this very user is there already: a re-read row of
		// an incremental run, a new run over the same users.
		if _, ok := ae.IdentifierExists(); ok && j.ext != "" {
			found, lerr := g.FindByExternalID(ctx, j.ext)
			if lerr != nil {
				return nil, "", lerr
			}
			if found != nil {
				return found, checkpoint.Exists, nil
			}
		}
	}
	return nil, "", err
}

// clockSkew is how far Clerk's clock may run behind ours when attributing
// a user that a lookup found.
const clockSkew = 5 * time.Minute

// attribute says whether a user found under a row's external_id was created
// by this run or was there before it. A lookup after a lost answer cannot
// tell "our create landed" from "our create was refused because the user
// existed", so it reads the user's updated_at, which Clerk sets to its own
// clock at creation (unlike created_at, which an import may backdate): a
// user last written before the run began (less clock skew) existed already
// and is recorded exists, so that a rollback never deletes it.
func attribute(u *clerk.User, runStart time.Time) checkpoint.Outcome {
	if u == nil {
		return ""
	}
	if runStart.IsZero() || u.UpdatedAt == 0 {
		return checkpoint.Created
	}
	if time.UnixMilli(u.UpdatedAt).Before(runStart.Add(-clockSkew)) {
		return checkpoint.Exists
	}
	return checkpoint.Created
}
