// Package migrate is the one-off migration: it moves users from a source
// into Clerk, and Rollback undoes a migration run. It reads records, takes
// each row's verdict (importer/verdict: the one validate takes, cross-row
// duplicates included), sends the valid rows through the Clerk gateway and
// records how every row ended in the run ledger, so that a run can stop at
// any moment (a signal, a crash, a revoked key) and be resumed without
// losing a user or creating one twice.
//
// A run reads its source twice. The first pass (verdict.Scan) finds the
// rows the duplicate rule refuses: the first row in source order keeps an
// email, phone number, username or external_id, every later row holding
// it is a duplicate and is never sent, however many workers there are. The
// source is rewound (a Postgres source in the same snapshot) and the
// second pass is the import: one reader (source → verdict → ledger mark →
// dispatch), workers over a bounded channel, and one writer that settles
// outcomes in batches (runner.Pipeline). The first pass costs a validation's
// CPU (a few seconds a million rows) each invocation, resumes included: it
// keeps nothing on disk that could go stale, and a re-run recomputes the
// same verdicts from the same source. A refused row is settled once; a
// resume finds it settled and leaves it.
//
// A dry run is not this package's: `import --dry-run` is the validate
// engine.
package migrate

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
	"github.com/clerkmigrate/clerkmigrate/importer/verdict"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// Config says what to import, where, and how.
type Config struct {
	// Source yields the legacy users and can be read twice (a
	// sources.Rewinder); Run does not close it.
	Source sources.Source
	// Mapper turns a record into a CreateUser request (*mapping.Mapping).
	Mapper verdict.Mapper
	// MappingFingerprint identifies the mapping for the ledger (a change
	// refuses a resume unless Force).
	MappingFingerprint string
	// Store is the run ledger; Run does not close it.
	Store checkpoint.Store
	// Index, with FingerprintKey, records the keyed fingerprints of each
	// created user's secrets (and of the fields the sync manages), as the
	// sync does, under the scope Target: a secret the source changes
	// between the import and the first sync is then sent by that sync. Nil
	// records none (that sync then takes the source's secrets as sent).
	Index          checkpoint.ClerkIndex
	FingerprintKey []byte
	// Gateway is Clerk behind its layers (pacing, retries, counting).
	Gateway *gateway.Gateway
	// Target identifies the Clerk instance for the default RunID and the
	// ledger (e.g. the API URL and the key's kind); never the secret key.
	Target string
	// TargetLock names the instance the run writes to, for the lock that
	// keeps a second run of the ledger off it (checkpoint.RunSpec.TargetLock;
	// never the secret key). SharedTarget lets runs that all set it write to
	// it together.
	TargetLock   string
	SharedTarget bool
	// RunID names the run; empty means runner.DefaultID of the source and
	// mapping fingerprints and the target, so that re-running the same
	// command resumes the same run.
	RunID string
	// Workers send requests at once; 0 means 32 (the gateway's pacer
	// admits what the budget can use).
	Workers int
	// Resume refuses to start a run that is not already in the ledger.
	Resume bool
	// Force reopens a run whose source or mapping fingerprint changed.
	Force bool
	// RetryFailed re-attempts rows settled failed with Retryable set;
	// RetryAllFailed re-attempts every failed or invalid row.
	RetryFailed, RetryAllFailed bool
	// OnlyKeys, when set, limits the run to the keys it accepts; the
	// others are settled skipped (and reconsidered by a later run). A row
	// is also selected by its position's key ("line:17", the key a broken
	// row was reported under), so that a fixed line can be retried.
	OnlyKeys func(key string) bool
	// TotalRows, when known, lets Progress estimate the time left.
	TotalRows int64
	// Logger gets the run's lines; nil means slog.Default().
	Logger *slog.Logger
	// LogEvery is the period of the progress log line; 0 means 10 s, a
	// negative value none (the caller shows the progress itself).
	LogEvery time.Duration
	// Progress, when set, is called from the writer after each ledger
	// flush (at most every 100 ms or so); it must return quickly.
	Progress func(runner.Progress)
	// Started, when set, is called once the ledger holds the run and its
	// target (after the pre-flight and the lock, before the first row):
	// where the caller says what the run is about to do, so that a run
	// refused (another holds the target, another instance) says nothing of
	// work it will not do.
	Started func()
	// ShutdownGrace bounds how long in-flight requests may run on after
	// ctx is cancelled; 0 means 10 s.
	ShutdownGrace time.Duration
	// MarkBatch is how many rows the reader marks in flight at once;
	// 0 means runner.DefaultMarkBatch.
	MarkBatch int
	// TempDir holds the duplicate check's spill files; empty means
	// os.TempDir().
	TempDir string
	// Meta is more run metadata to record with the run (e.g. the --since
	// bound and what source it applies to); never a secret.
	Meta map[string]string
	// HighWater, when set, gives the high-water mark to record
	// (runner.MetaHighWater) once the source was read to its end; nil: the
	// source's own, when it is a runner.HighWaterer. A zero time records
	// nothing.
	HighWater func() time.Time
}

func (c Config) check() error {
	switch {
	case c.Source == nil:
		return errors.New("migrate: no source")
	case c.Mapper == nil:
		return errors.New("migrate: no mapping")
	case c.Store == nil:
		return errors.New("migrate: no run ledger")
	case c.Gateway == nil:
		return errors.New("migrate: no Clerk gateway")
	}
	if _, ok := c.Source.(sources.Rewinder); !ok {
		return fmt.Errorf("migrate: source %s cannot be read twice (the duplicate check reads it first)", c.Source.Info().Name)
	}
	return nil
}

// spec is the run as the ledger opens it.
func (c Config) spec() checkpoint.RunSpec {
	info := c.Source.Info()
	id := c.RunID
	if id == "" {
		id = runner.DefaultID(runner.KindImport, info.Fingerprint, c.MappingFingerprint, c.Target)
	}
	spec := checkpoint.RunSpec{
		ID: id, Kind: runner.KindImport,
		SourceFingerprint: info.Fingerprint, MappingFingerprint: c.MappingFingerprint,
		Force: c.Force,
		Meta:  map[string]string{"source": info.Name, "source_kind": info.Kind, checkpoint.MetaTarget: c.Target},
	}
	for k, v := range c.Meta {
		spec.Meta[k] = v
	}
	spec.TargetLock, spec.SharedTarget = c.TargetLock, c.SharedTarget
	return spec
}

// Run imports the source into Clerk and returns what it did. It first
// asks the target who it is (runner.Identify: the gateway's pre-flight,
// fatal before the ledger holds the run when the target does not answer or
// refuses the key) and records the instance with the run. Re-running
// with the same RunID resumes: settled rows are skipped, rows left in
// flight are looked up by external_id before anything is sent. When ctx is
// cancelled, Run stops reading, lets in-flight requests finish (at most
// ShutdownGrace), flushes the ledger, marks the run interrupted and returns
// an error that says how to resume.
func Run(ctx context.Context, cfg Config) (runner.Summary, error) {
	if err := cfg.check(); err != nil {
		return runner.Summary{}, err
	}
	spec := cfg.spec()
	target, err := runner.Identify(ctx, cfg.Gateway, cfg.Target)
	if err != nil {
		return runner.Summary{Kind: spec.Kind}, fmt.Errorf("migrate: %w", err)
	}
	if err := sameInstanceAsBefore(ctx, cfg.Store, spec.ID, target); err != nil {
		return runner.Summary{Kind: spec.Kind}, fmt.Errorf("migrate: %w", err) // no report: the run is not this one's
	}
	target.Record(spec.Meta)
	opened, err := runner.Open(ctx, cfg.Store, spec, cfg.Resume)
	if err != nil {
		return runner.Summary{RunID: spec.ID, Kind: spec.Kind}, fmt.Errorf("migrate: %w", err)
	}
	if cfg.Started != nil {
		cfg.Started()
	}
	info := cfg.Source.Info()
	p := runner.NewPipeline[*job](runner.Config{RunID: spec.ID, Kind: spec.Kind, Store: cfg.Store, Gateway: cfg.Gateway,
		Workers: cfg.Workers, Grace: cfg.ShutdownGrace, Progress: cfg.Progress, LogEvery: cfg.LogEvery,
		Total: cmp.Or(cfg.TotalRows, info.Rows), Logger: cfg.Logger, Lost: opened.Run.Lost})
	p.Log().Info("run starting", "kind", spec.Kind, "source", info.Name, "reopened", opened.Run.Reopened,
		"settled_before", opened.Progress.Settled(), "in_flight_before", opened.Progress.InFlight,
		"budget_requests_per_sec", budgetPerSecond(cfg.Gateway))
	r := &reader{cfg: cfg, p: p, opened: opened, src: &eofWatcher{Source: cfg.Source}}
	defer r.close()
	prints := newPrintRecorder(cfg)
	sum, err := p.Run(ctx, r.readAndMark, func(ctx context.Context, j *job) (checkpoint.Settlement, error) {
		s, err := importRow(ctx, cfg.Gateway, spec.ID, opened.Run.StartedAt, j)
		if err == nil && s.Outcome == checkpoint.Created {
			prints.add(ctx, j)
		}
		return s, err
	})
	if ferr := prints.flush(context.WithoutCancel(ctx)); ferr != nil && err == nil {
		err = fmt.Errorf("migrate: recording the created users' fingerprints: %w", ferr)
	}
	return sum, err
}

// printBatch is how many users' fingerprints the import records at once:
// a write is a transaction, whose commit was a third of the fingerprints'
// store cost at 128 users (512 fingerprints).
const printBatch = 512

// printRecorder records the fingerprints of the users the import created
// (runner.Fingerprinter.Created), in batches; nil when the run has no
// index or key.
type printRecorder struct {
	index checkpoint.ClerkIndex
	scope string
	fp    *runner.Fingerprinter

	mu    sync.Mutex
	batch []checkpoint.Fingerprint
	users int // in batch
	err   error
}

func newPrintRecorder(cfg Config) *printRecorder {
	if cfg.Index == nil || len(cfg.FingerprintKey) == 0 {
		return nil
	}
	return &printRecorder{index: cfg.Index, scope: cfg.Target, fp: runner.NewFingerprinter(cfg.FingerprintKey)}
}

// add queues the fingerprints of j's user, created, and writes a full batch.
func (pr *printRecorder) add(ctx context.Context, j *job) {
	if pr == nil {
		return
	}
	prints := pr.fp.Created(j.ext, j.params) // the hashing, outside the lock
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.batch = append(pr.batch, prints...)
	if pr.users++; pr.users >= printBatch {
		pr.write(context.WithoutCancel(ctx))
	}
}

// flush writes what is queued and returns the first failure.
func (pr *printRecorder) flush(ctx context.Context) error {
	if pr == nil {
		return nil
	}
	pr.mu.Lock()
	defer pr.mu.Unlock()
	pr.write(ctx)
	return pr.err
}

func (pr *printRecorder) write(ctx context.Context) {
	if len(pr.batch) == 0 || pr.err != nil {
		return
	}
	pr.err = pr.index.PutFingerprints(ctx, pr.scope, pr.batch)
	pr.batch, pr.users = pr.batch[:0], 0
}

// budgetPerSecond is the gateway's budget as a steady rate, for the log
// (0 when its pacer's policy knows none).
func budgetPerSecond(g *gateway.Gateway) float64 {
	if b := g.Stats().Budget; b != nil {
		return b.Told.PerSecond()
	}
	return 0
}

// scanDuplicates is the first pass: the rows the duplicate rule refuses.
// It leaves the source rewound.
func scanDuplicates(ctx context.Context, cfg Config) (*verdict.Rejections, error) {
	refused, err := verdict.Scan(ctx, cfg.Source, cfg.Mapper, verdict.ScanOptions{Workers: runtime.GOMAXPROCS(0), TempDir: cfg.TempDir})
	if err != nil {
		return nil, fmt.Errorf("migrate: checking duplicates: %w", err)
	}
	if err := cfg.Source.(sources.Rewinder).Rewind(ctx); err != nil {
		refused.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return refused, nil
}

// eofWatcher notes that the source was read to its end, which is when its
// high-water mark covers every row.
type eofWatcher struct {
	sources.Source
	eof bool
}

func (w *eofWatcher) Next(ctx context.Context) (sources.Record, error) {
	rec, err := w.Source.Next(ctx)
	if errors.Is(err, io.EOF) {
		w.eof = true
	}
	return rec, err
}

// requestHash identifies a request without revealing it: a SHA-256 of the
// request with every secret replaced by a marker, so the ledger never holds
// anything derived from a password or digest.
func requestHash(p *request.CreateUser) string {
	r := p.Redacted()
	var buf [1024]byte
	b, err := r.AppendJSON(buf[:0]) // json.Marshal's bytes
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// sameInstanceAsBefore refuses to resume run id (a *runner.InstanceMismatchError)
// when it recorded another Clerk instance than the one reached now: its
// settled rows would be skipped though their users are in the other
// instance, and re-recording the instance would send its rollback there.
func sameInstanceAsBefore(ctx context.Context, store checkpoint.Store, id string, reached runner.Target) error {
	before, err := checkpoint.FindRun(ctx, store, id)
	if errors.Is(err, checkpoint.ErrRunNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	return runner.SameInstance("resume", id, runner.RecordedTarget(before), reached)
}
