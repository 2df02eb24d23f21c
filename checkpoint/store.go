// Package checkpoint is the durable per-row ledger of every run: which rows
// are in flight, how each settled, and with which Clerk user id, so that any
// run can resume exactly and never create a user twice.
//
// The ledger holds no secret: keys, outcomes, Clerk ids, error codes and a
// hash of each row's request, never the request itself.
//
// To add a store:
//
//  1. Implement Store. BeginRun must refuse a second live holder of the same
//     run (ErrRunLocked) and a reopen over different source or mapping
//     fingerprints (ErrFingerprintMismatch) unless RunSpec.Force is set.
//  2. MarkInFlight must be durable when it returns: the importer sends a
//     row's request only after its mark is written (the dirty flag), and
//     settles it after the answer.
//  3. Rows yields rows ordered by position, streaming: never load a run.
//  4. Pass the shared suite: storetest.Run(t, func(t *testing.T) Store {...}).
package checkpoint

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Outcome is how a row ended.
type Outcome string

// The outcomes a row can end with.
const (
	Created   Outcome = "created"   // this run created the user in Clerk
	Exists    Outcome = "exists"    // the user was already in Clerk under this external_id; ClerkID is set
	Invalid   Outcome = "invalid"   // mapping or validation refused the row; nothing was sent
	Failed    Outcome = "failed"    // Clerk refused it, or retries ran out
	Valid     Outcome = "valid"     // dry run: the row passed and would be sent
	Skipped   Outcome = "skipped"   // deliberately left out of this run (not in --only-keys, ...)
	Updated   Outcome = "updated"   // sync: changed fields were written
	Unchanged Outcome = "unchanged" // sync: nothing to write
	Deleted   Outcome = "deleted"   // rollback or orphan deletion removed the user
	Banned    Outcome = "banned"    // orphan banned by sync
	Orphan    Outcome = "orphan"    // sync: ours in Clerk, gone from the source; reported only
	NotOurs   Outcome = "not_ours"  // sync: in Clerk, not in the source, not created or adopted by this ledger; never touched
)

// MetaTarget is the run metadata key naming the Clerk instance a run wrote
// to (a URL and the key's kind, or the local emulator; never the key). A
// rollback goes there and nowhere else; the sync's ownership rule reads it.
const MetaTarget = "target"

// RunStatus is where a run stands.
type RunStatus string

// The statuses of a run.
const (
	Running     RunStatus = "running"
	Interrupted RunStatus = "interrupted" // stopped by a signal or a fatal error; resumable
	Done        RunStatus = "done"
)

// Errors a store returns; test with errors.Is.
var (
	ErrFingerprintMismatch = errors.New("checkpoint: the run was started with a different source or mapping")
	ErrRunLocked           = errors.New("checkpoint: the run is held by another process")
	ErrRunNotFound         = errors.New("checkpoint: no such run")
	// ErrNotHeld: a write (MarkInFlight, Settle, SetMeta, FinishRun) to a run
	// this Store has not begun, or has already finished.
	ErrNotHeld = errors.New("checkpoint: the run is not held by this store (call BeginRun first)")
	// ErrClosed: the Store was closed.
	ErrClosed = errors.New("checkpoint: the store is closed")
	// ErrNoLedger: a store opened only if it exists (for reading) does not.
	ErrNoLedger = errors.New("checkpoint: no ledger there (no run has used it)")
)

// Holder says who holds a run, for the person who was refused it.
type Holder struct {
	Host      string
	PID       int
	StartedAt time.Time // when the holder took the run
	// Detail is what the store knows besides (the Postgres backend holding
	// the lock, its application_name and client address); may be empty.
	Detail string
}

// String names the holder: "pid 4242 on build-7 since 2026-05-12T10:00:00Z".
func (h Holder) String() string {
	s := fmt.Sprintf("pid %d on %s since %s", h.PID, h.Host, h.StartedAt.UTC().Format(time.RFC3339))
	if h.Detail != "" {
		s += " (" + h.Detail + ")"
	}
	return s
}

// RunLockedError is the error BeginRun returns when another live holder has
// the run; errors.Is(err, ErrRunLocked) is true.
type RunLockedError struct {
	RunID  string
	Holder Holder
}

func (e *RunLockedError) Error() string {
	return fmt.Sprintf("checkpoint: run %q is held by %s", e.RunID, e.Holder)
}

// Unwrap makes errors.Is(err, ErrRunLocked) true.
func (e *RunLockedError) Unwrap() error { return ErrRunLocked }

// RunSpec says which run to begin or reopen.
type RunSpec struct {
	ID                 string
	Kind               string // "import", "sync", "validate", "rollback"
	SourceFingerprint  string
	MappingFingerprint string
	// Force reopens a run even though its fingerprints differ.
	Force bool
	// Meta is free-form run data kept with the run (source name, target URL,
	// the --since high-water mark); never a secret.
	Meta map[string]string
}

// Run is a run as the ledger knows it.
type Run struct {
	ID                 string
	Kind               string
	SourceFingerprint  string
	MappingFingerprint string
	Status             RunStatus
	StartedAt          time.Time
	UpdatedAt          time.Time
	// Reopened is true when BeginRun found the run already there.
	Reopened bool
	Meta     map[string]string
}

// Row is a row about to be sent, as MarkInFlight records it.
type Row struct {
	Pos         int64 // the source position's Index: 1-based, >= 1
	Key         string
	RequestHash string // hash of the mapped request; never the request
}

// Settlement is how a row ended.
type Settlement struct {
	Pos       int64
	Key       string
	Outcome   Outcome
	ClerkID   string
	ErrorCode string // Clerk's error code or a mapping code; empty on success
	Field     string // the field at fault, when one is
	Message   string // for people; never a secret
	Attempts  int
	// Retryable is true when a later --retry-failed may succeed as it is
	// (rate limits, 5xx, timeouts), false when the data must change first.
	Retryable   bool
	RequestHash string
}

// RowState is a row as the ledger holds it: settled, or still in flight.
type RowState struct {
	Settlement
	InFlight  bool // marked in flight and not settled since
	UpdatedAt time.Time
}

// Filter narrows Rows. The zero Filter yields every row of the run.
type Filter struct {
	FromPos   int64     // only rows with Pos >= FromPos
	InFlight  bool      // only rows still in flight
	Outcomes  []Outcome // only rows settled with one of these outcomes
	Retryable *bool     // only failed rows whose Retryable equals this
}

// Progress counts a run's rows.
type Progress struct {
	InFlight  int64
	ByOutcome map[Outcome]int64
	// MaxSettledPos is the highest position P such that every row at or
	// below P is settled: a resume can skip up to there without a lookup.
	// Positions start at 1, so it is 0 while row 1 is not settled; a
	// position the ledger has never seen (a gap) ends the settled prefix.
	MaxSettledPos int64
}

// Settled is the number of settled rows.
func (p Progress) Settled() int64 {
	var n int64
	for _, c := range p.ByOutcome {
		n += c
	}
	return n
}

// Store is a run ledger. It is safe for concurrent use.
//
// Writes (MarkInFlight, Settle, SetMeta, FinishRun) need the run held by
// this Store through BeginRun, else ErrNotHeld; reads (Rows, Progress, Runs)
// work on any run. Every method returns ErrClosed after Close and ctx's
// error once ctx is done.
type Store interface {
	// BeginRun creates the run, or reopens it when the ID exists, and holds
	// it until FinishRun or Close. A reopen sets it running again and merges
	// spec.Meta into its metadata. Another live holder of the run gets a
	// *RunLockedError (ErrRunLocked); BeginRun of a run this Store already
	// holds reopens it.
	BeginRun(ctx context.Context, spec RunSpec) (Run, error)
	// MarkInFlight records rows as in flight, replacing any earlier state of
	// the same position (a failed row retried loses its old outcome); durable
	// when it returns. One batch is one transaction; within it the last row
	// of a position wins; a bad row (Pos < 1) refuses the whole batch.
	MarkInFlight(ctx context.Context, runID string, rows []Row) error
	// Settle records how rows ended, replacing any earlier state of the same
	// position; durable when it returns. One batch is one transaction; an
	// empty Outcome or Pos < 1 refuses the whole batch, naming the row.
	Settle(ctx context.Context, runID string, s []Settlement) error
	// Rows calls fn for each row matching f, ordered by Pos, streaming. The
	// stores read a page of rows at a time, so a row written while Rows runs
	// shows its state when its page is read; fn may call the Store's other
	// methods, except Close. An error from fn stops Rows and is returned.
	Rows(ctx context.Context, runID string, f Filter, fn func(RowState) error) error
	// Progress counts the run's rows.
	Progress(ctx context.Context, runID string) (Progress, error)
	// SetMeta records one key of run metadata.
	SetMeta(ctx context.Context, runID, key, value string) error
	// FinishRun records the run's status and lets go of it.
	FinishRun(ctx context.Context, runID string, status RunStatus) error
	// Runs lists the runs in the ledger, newest first.
	Runs(ctx context.Context) ([]Run, error)
	// Close marks every run it still holds (and that is still running) as
	// Interrupted, lets go of them and closes the store.
	Close() error
}
