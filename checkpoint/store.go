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
//     run (ErrRunLocked), a second live writer to the same target
//     (RunSpec.TargetLock: ErrTargetLocked, unless every holder shares it)
//     and a reopen over different source or mapping fingerprints
//     (ErrFingerprintMismatch) unless RunSpec.Force is set. A holder that
//     dies, SIGKILL included, must let go of both at once; a store whose
//     hold can be lost while its process lives (a database connection)
//     must refuse the run's writes from that moment on and close Run.Lost.
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
	"strings"
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
	Drift     Outcome = "drift"     // sync: a field edited in Clerk, not in the source since the tool wrote it: Clerk's value kept
	Conflict  Outcome = "conflict"  // sync: a field edited in both since the tool wrote it: Clerk's kept, or the source's sent with --source-wins
	Deleted   Outcome = "deleted"   // rollback or orphan deletion removed the user
	Banned    Outcome = "banned"    // orphan banned by sync
	Orphan    Outcome = "orphan"    // sync: ours in Clerk, gone from the source; reported only
	NotOurs   Outcome = "not_ours"  // sync: in Clerk, not in the source, not created or adopted by this ledger; never touched
)

// Run metadata keys of the Clerk instance a run talked to, never the key.
// MetaInstance is who it is: Clerk's id of the instance (GET /v1/instance,
// asked before the run's first row), the target's identity: a rollback, a
// sync's orphan step (and its other deletes) and a resumed run are refused
// on another instance (runner.SameInstance), and the CLI's lock per target
// is keyed by it. The sync's index and ownership rule are keyed by
// MetaTarget: behind one URL, a sync that would delete is refused when an
// owning run recorded another instance. MetaEnvironment is its environment
// type. MetaTarget is where, for people: the API URL and the key's kind, or
// the local emulator's directory; for runs recorded before instance ids
// (no MetaInstance) it is all there is to go by.
const (
	MetaTarget      = "target"
	MetaInstance    = "instance_id"
	MetaEnvironment = "instance_environment"
)

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
	// ErrTargetLocked: another run of the ledger is writing to the same
	// target (RunSpec.TargetLock); see TargetLockedError.
	ErrTargetLocked = errors.New("checkpoint: another run is writing to the target")
	// ErrHoldLost: the store lost its hold on a run while the process
	// lives (the Postgres connection holding its locks was cut), so another
	// process may have taken the run or its target; the run's writes are
	// refused from then on. Begin the run again.
	ErrHoldLost    = errors.New("checkpoint: the hold on the run was lost (its lock connection was cut)")
	ErrRunNotFound = errors.New("checkpoint: no such run")
	// ErrNotHeld: a write (MarkInFlight, Settle, SetMeta, FinishRun) to a run
	// this Store has not begun, or has already finished.
	ErrNotHeld = errors.New("checkpoint: the run is not held by this store (call BeginRun first)")
	// ErrClosed: the Store was closed.
	ErrClosed = errors.New("checkpoint: the store is closed")
	// ErrNoLedger: a store opened only if it exists (for reading) does not.
	ErrNoLedger = errors.New("checkpoint: no ledger there (no run has used it)")
)

// Holder says who holds a run or a target, for the person who was refused
// it.
type Holder struct {
	Run       string // the run it holds, when the store knows it (a target's holder)
	Host      string
	PID       int
	StartedAt time.Time // when the holder took the run
	// Detail is what the store knows besides (the Postgres backend holding
	// the lock, its application_name and client address); may be empty.
	Detail string
}

// String names the holder: "pid 4242 on build-7 since 2026-05-12T10:00:00Z",
// after "run RUN-ID, " when the run is known. What the store could not learn
// is left out.
func (h Holder) String() string {
	var parts []string
	if h.Run != "" {
		parts = append(parts, fmt.Sprintf("run %s", h.Run))
	}
	if h.PID != 0 || h.Host != "" {
		s := fmt.Sprintf("pid %d on %s", h.PID, h.Host)
		if !h.StartedAt.IsZero() {
			s += " since " + h.StartedAt.UTC().Format(time.RFC3339)
		}
		parts = append(parts, s)
	}
	s := strings.Join(parts, ", ")
	if s == "" {
		s = "an unknown holder"
	}
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

// TargetLockedError is the error BeginRun returns when other live runs of
// the ledger write to the target the run names (RunSpec.TargetLock);
// errors.Is(err, ErrTargetLocked) is true.
type TargetLockedError struct {
	RunID  string // the run that was refused
	Target string // its RunSpec.TargetLock
	// Shared: the holders share the target (RunSpec.SharedTarget), so a
	// run that does not share it must wait for all of them.
	Shared bool
	// Holders are the runs that hold the target, as far as the store can
	// tell (a SQLite ledger knows the last one to take it).
	Holders []Holder
}

func (e *TargetLockedError) Error() string {
	who := make([]string, len(e.Holders))
	for i, h := range e.Holders {
		who[i] = h.String()
	}
	if len(who) == 0 {
		who = []string{"a run the ledger cannot name"}
	}
	how := ""
	if e.Shared {
		how = " (runs that share it)"
	}
	return fmt.Sprintf("checkpoint: run %q refused: target %s is being written by %s%s", e.RunID, e.Target, strings.Join(who, "; "), how)
}

// Unwrap makes errors.Is(err, ErrTargetLocked) true.
func (e *TargetLockedError) Unwrap() error { return ErrTargetLocked }

// RunSpec says which run to begin or reopen.
type RunSpec struct {
	ID                 string
	Kind               string // "import", "sync", "validate", "rollback"
	SourceFingerprint  string
	MappingFingerprint string
	// Force reopens a run even though its fingerprints differ.
	Force bool
	// TargetLock names the target instance the run writes to (an opaque
	// name, never a secret: hash what must stay secret). Runs of one ledger
	// naming the same target exclude each other: BeginRun fails with a
	// *TargetLockedError while another live run holds it, and the run holds
	// it until FinishRun or Close. Empty: the run takes no target lock (it
	// writes to no target: dry runs, validations).
	TargetLock string
	// SharedTarget lets runs that all set it hold TargetLock together
	// (deliberate parallel runs into one instance); a run that does not set
	// it still excludes them, and is excluded by them.
	SharedTarget bool
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
	// Lost, set by BeginRun, is closed if the store loses its hold on the
	// run while the process lives (ErrHoldLost: a Postgres lock connection
	// was cut), so that the run can stop its requests at once; nil from a
	// store whose hold lasts as long as its process (SQLite's flock).
	Lost <-chan struct{}
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

// Tallier is a Store that can count rows without recording them one by one
// (both stores are). The nightly sync tallies its unchanged rows that there
// is nothing to say about (no message, the user already owned by an earlier
// row): a night with nothing to do then writes a few counts, not a row per
// user. Progress, status and summary.json count them with the rest; the
// outcome files list the rows recorded one by one and say how many were
// counted only.
type Tallier interface {
	// Tally adds counts (outcome -> rows) to a run this Store holds, in one
	// transaction, with no row: positions tallied have no row, so Rows does
	// not yield them and MaxSettledPos stops before them.
	Tally(ctx context.Context, runID string, counts map[Outcome]int64) error
}

// FindRun looks a run up among the ledger's runs; ErrRunNotFound when the
// ledger does not hold it.
func FindRun(ctx context.Context, store Store, id string) (Run, error) {
	runs, err := store.Runs(ctx)
	if err != nil {
		return Run{}, fmt.Errorf("listing runs: %w", err)
	}
	for _, r := range runs {
		if r.ID == id {
			return r, nil
		}
	}
	return Run{}, fmt.Errorf("run %q: %w", id, ErrRunNotFound)
}

// Store is a run ledger. It is safe for concurrent use.
//
// Writes (MarkInFlight, Settle, SetMeta, FinishRun) need the run held by
// this Store through BeginRun, else ErrNotHeld; reads (Rows, Progress, Runs)
// work on any run. Every method returns ErrClosed after Close and ctx's
// error once ctx is done.
type Store interface {
	// BeginRun creates the run, or reopens it when the ID exists, and holds
	// it (and its spec.TargetLock) until FinishRun or Close. A reopen sets
	// it running again and merges spec.Meta into its metadata. Another live
	// holder of the run gets a *RunLockedError (ErrRunLocked), of the target
	// a *TargetLockedError (ErrTargetLocked), and a refused BeginRun writes
	// nothing. BeginRun of a run this Store already holds reopens it (with
	// the same TargetLock).
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
