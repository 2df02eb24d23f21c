package importer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

// FatalError is a Clerk answer that ends the whole run (a bad or revoked
// key, a forbidden instance, an exhausted quota). The ledger stays
// resumable.
type FatalError struct {
	RunID string
	Key   string // the row whose request met it
	Err   error
}

// Error says what stopped the run and how to resume it.
func (e *FatalError) Error() string {
	return fmt.Sprintf("importer: stopped: Clerk refused the run (%v); nothing more can succeed until this is fixed; "+
		"then re-run the same command to resume run %s", e.Err, e.RunID)
}

// Unwrap returns Clerk's error.
func (e *FatalError) Unwrap() error { return e.Err }

// errRowAbandoned means a row's work stopped before it had an outcome (the
// run was cancelled); the row stays in flight in the ledger, and a resume
// looks it up before sending anything.
var errRowAbandoned = errors.New("row abandoned")

// job is one row for a worker.
type job struct {
	pos         int64
	key         string // the source key, for the ledger
	ext         string // the external_id, for lookups
	params      *clerk.CreateUserParams
	hash        string
	lookupFirst bool   // left in flight by an earlier run: look it up before sending
	clerkID     string // rollback: the user to delete
	note        string // the mapping's warnings (WarningNote), kept as the row's message unless it fails
}

// importRow creates one user idempotently and says how the row ended. It
// returns an error only when the row has no outcome: errRowAbandoned on
// cancellation, *FatalError when the run must stop.
func importRow(ctx context.Context, api *retryingAPI, runID string, runStart time.Time, j job) (checkpoint.Settlement, error) {
	ctx, calls := withRowCounter(ctx)
	s := checkpoint.Settlement{Pos: j.pos, Key: j.key, RequestHash: j.hash, Message: j.note}
	finish := func(s checkpoint.Settlement, err error) (checkpoint.Settlement, error) {
		s.Attempts = calls.creates
		if err == nil {
			return s, nil
		}
		if ctx.Err() != nil {
			return s, errRowAbandoned
		}
		switch clerk.Classify(err) {
		case clerk.Fatal:
			return s, &FatalError{RunID: runID, Key: j.key, Err: err}
		case clerk.Canceled:
			return s, errRowAbandoned
		}
		return failed(s, err), nil
	}
	if j.lookupFirst {
		u, err := api.FindByExternalID(ctx, j.ext)
		if err != nil {
			return finish(s, err)
		}
		if u != nil {
			s.Outcome, s.ClerkID = attribute(u, runStart), u.ID
			return finish(s, nil)
		}
	}
	u, err := api.CreateUser(ctx, j.params)
	if err == nil {
		// u may come from a lookup after a lost answer: attribute it.
		s.Outcome, s.ClerkID = attribute(u, runStart), u.ID
		return finish(s, nil)
	}
	var ae *clerk.Error
	if errors.As(err, &ae) {
		// Any identifier taken (Clerk names the first it checks, often the
		// email) may mean this very user is there already: a re-read row of
		// an incremental run, a new run over the same users.
		if _, ok := ae.IdentifierExists(); ok && j.ext != "" {
			found, lerr := api.FindByExternalID(ctx, j.ext)
			if lerr != nil {
				return finish(s, lerr)
			}
			if found != nil {
				s.Outcome, s.ClerkID = checkpoint.Exists, found.ID
				return finish(s, nil)
			}
		}
	}
	return finish(s, err)
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
	if runStart.IsZero() || u.UpdatedAt == 0 {
		return checkpoint.Created
	}
	if time.UnixMilli(u.UpdatedAt).Before(runStart.Add(-clockSkew)) {
		return checkpoint.Exists
	}
	return checkpoint.Created
}

// failed fills a failed settlement from the error that ended the row.
func failed(s checkpoint.Settlement, err error) checkpoint.Settlement {
	s.Outcome = checkpoint.Failed
	s.Retryable = errors.Is(err, ErrRetriesExhausted) || clerk.Classify(err) == clerk.Retry
	var ae *clerk.Error
	if errors.As(err, &ae) {
		s.ErrorCode = ae.Code()
		s.Field = ae.Param()
		if param, ok := ae.IdentifierExists(); ok {
			s.Field = param
			s.Message = fmt.Sprintf("%s is already used by another Clerk user", param)
			if param == "external_id" {
				s.Message = "external_id is taken but no user with it could be found"
			}
			return s
		}
		s.Message = ae.Error()
		if errors.Is(err, ErrRetriesExhausted) {
			s.Message = err.Error()
		}
		return s
	}
	s.ErrorCode = "transport_error"
	s.Message = err.Error()
	return s
}
