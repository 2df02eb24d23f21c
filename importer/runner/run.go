// Package runner is the machinery the engines share below them: a run's
// identity and kinds, its opening in the ledger, the Summary and Progress
// they report, the Pipeline that carries rows from a reader through
// workers to the ledger, and a cursor over a run's ledger rows.
//
// The engines (importer/migrate, importer/validate, importer/reconcile)
// depend on it, on the gateway, the ledger and mapping; none depends on
// another engine.
package runner

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
)

// Run kinds as the ledger records them.
const (
	KindImport   = "import"
	KindValidate = "validate"
	KindRollback = "rollback"
)

// Meta keys of incremental runs (--since), shared by import and sync.
const (
	// MetaHighWater is the latest updated-at value the run read (RFC 3339,
	// full precision): the --since of the next incremental run.
	MetaHighWater = "since_high_water"
	// MetaSince is the lower bound the run read from (empty: every row).
	MetaSince = "since"
	// MetaSinceSource names what the mark is a mark of (the server,
	// database, table or query and updated-at column), so that a mark is
	// offered only to runs over the same rows.
	MetaSinceSource = "since_source"
)

// HighWaterer is a source that knows the latest updated-at value it read
// (sources.Postgres with an updated-at column).
type HighWaterer interface {
	HighWater() time.Time
}

// DefaultID derives a run id from what makes a run the same run: its kind,
// the source and mapping fingerprints and the target instance.
func DefaultID(kind, sourceFingerprint, mappingFingerprint, target string) string {
	h := sha256.New()
	for _, s := range []string{kind, sourceFingerprint, mappingFingerprint, target} {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	return kind + "-" + hex.EncodeToString(h.Sum(nil))[:16]
}

// Opened is what the ledger knew of a run when it was (re)opened.
type Opened struct {
	Run      checkpoint.Run
	Progress checkpoint.Progress // zero for a new run
}

// Open opens the run in the ledger; with mustExist, a run the ledger does
// not hold is refused.
func Open(ctx context.Context, store checkpoint.Store, spec checkpoint.RunSpec, mustExist bool) (Opened, error) {
	if mustExist {
		if _, err := checkpoint.FindRun(ctx, store, spec.ID); err != nil {
			return Opened{}, fmt.Errorf("cannot resume: %w", err)
		}
	}
	r, err := store.BeginRun(ctx, spec)
	if err != nil {
		if errors.Is(err, checkpoint.ErrFingerprintMismatch) {
			return Opened{}, fmt.Errorf("run %s: %w; use a new run id, or force the resume", spec.ID, err)
		}
		return Opened{}, fmt.Errorf("opening run %s: %w", spec.ID, err)
	}
	o := Opened{Run: r}
	if r.Reopened {
		if o.Progress, err = store.Progress(ctx, spec.ID); err != nil {
			return Opened{}, fmt.Errorf("reading run %s: %w", spec.ID, err)
		}
	}
	return o, nil
}

// RecordHighWater keeps the run's high-water mark (nothing for a zero time).
func RecordHighWater(ctx context.Context, store checkpoint.Store, runID string, hw time.Time) error {
	if hw.IsZero() {
		return nil
	}
	if err := store.SetMeta(ctx, runID, MetaHighWater, hw.UTC().Format(time.RFC3339Nano)); err != nil {
		return fmt.Errorf("recording the high-water mark of run %s: %w", runID, err)
	}
	return nil
}

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
	if errors.Is(e.Err, pacer.ErrTargetDown) {
		return fmt.Sprintf("stopped: the target stopped answering (%v); no row was failed for it: re-run the same "+
			"command once it answers to resume run %s", e.Err, e.RunID)
	}
	return fmt.Sprintf("stopped: Clerk refused the run (%v); nothing more can succeed until this is fixed; "+
		"then re-run the same command to resume run %s", e.Err, e.RunID)
}

// Unwrap returns Clerk's error.
func (e *FatalError) Unwrap() error { return e.Err }

// ErrRowAbandoned means a row's work stopped before it had an outcome (the
// run was cancelled); the row stays in flight in the ledger, and a resume
// looks it up before sending anything.
var ErrRowAbandoned = errors.New("row abandoned")

// Failed fills a failed settlement from the error that ended the row:
// Clerk's code and field, and whether a later --retry-failed may succeed
// as it is.
func Failed(s checkpoint.Settlement, err error) checkpoint.Settlement {
	s.Outcome = checkpoint.Failed
	s.Retryable = errors.Is(err, gateway.ErrRetriesExhausted) || clerk.Classify(err) == clerk.Retry
	var ae *clerk.Error
	if !errors.As(err, &ae) {
		s.ErrorCode, s.Message = "transport_error", err.Error()
		return s
	}
	s.ErrorCode, s.Field, s.Message = ae.Code(), ae.Param(), ae.Error()
	if errors.Is(err, gateway.ErrRetriesExhausted) {
		s.Message = err.Error()
	}
	if param, ok := ae.IdentifierExists(); ok {
		s.Field = param
		s.Message = fmt.Sprintf("%s is already used by another Clerk user", param)
		if param == "external_id" {
			s.Message = "external_id is taken but no user with it could be found"
		}
	}
	return s
}
