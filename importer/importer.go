// Package importer moves users from a source into Clerk: it reads records,
// maps them to CreateUser requests, sends them paced under the instance's
// rate limit, and records how every row ended in the run ledger, so that a
// run can stop at any moment (a signal, a crash, a revoked key) and be
// resumed without losing a user or creating one twice.
//
// The pipeline is one reader (source → mapping → ledger mark → dispatch),
// a pool of workers over a bounded channel, and one writer that settles
// outcomes in batches. Every call goes through two layers around the API: a
// paced layer (one shared Pacer: token bucket under the budget, a shared
// hold on 429, concurrency by Little's law) and a retrying layer
// (exponential backoff with full jitter; a create whose answer was lost is
// looked up by external_id before it is sent again).
package importer

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// Run kinds as the ledger records them.
const (
	KindImport   = "import"
	KindValidate = "validate"
	KindRollback = "rollback"
)

// Config says what to import, where, and how.
type Config struct {
	// Source yields the legacy users; Run does not close it.
	Source sources.Source
	// Mapper turns a record into a CreateUser request.
	Mapper Mapper
	// MappingFingerprint identifies the mapping for the ledger (a change
	// refuses a resume unless Force).
	MappingFingerprint string
	// Store is the run ledger; Run does not close it.
	Store checkpoint.Store
	// API is Clerk (a *clerk.Client); unused in DryRun.
	API UserAPI
	// Target identifies the Clerk instance for the default RunID and the
	// ledger (e.g. the API URL and the key's kind); never the secret key.
	Target string
	// TargetLock names the instance the run writes to, for the lock that
	// keeps a second run of the ledger off it (checkpoint.RunSpec.TargetLock;
	// never the secret key). SharedTarget lets runs that all set it write to
	// it together. A dry run writes to no target and takes no lock.
	TargetLock   string
	SharedTarget bool
	// RunID names the run; empty means DefaultRunID of the source and
	// mapping fingerprints and the target, so that re-running the same
	// command resumes the same run.
	RunID string
	// Rate is the request budget; the zero Rate means DefaultRate("").
	Rate Rate
	// MaxInFlight bounds concurrent requests; 0 means 32.
	MaxInFlight int
	// Retry bounds the retries of each call.
	Retry RetryPolicy
	// DryRun maps and validates every row and settles it valid or
	// invalid, without calling Clerk. It is its own run (kind "validate").
	DryRun bool
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
	Progress func(Progress)
	// ShutdownGrace bounds how long in-flight requests may run on after
	// ctx is cancelled; 0 means 10 s.
	ShutdownGrace time.Duration
	// MarkBatch is how many rows the reader marks in flight at once;
	// 0 means 32.
	MarkBatch int
	// Meta is more run metadata to record with the run (e.g. the --since
	// bound and what source it applies to); never a secret.
	Meta map[string]string
	// HighWater, when set, gives the high-water mark to record (MetaHighWater)
	// once the source was read to its end; nil: the source's own, when it
	// is a HighWaterer. A zero time records nothing.
	HighWater func() time.Time
}

// Meta keys of incremental runs (--since), shared with sync.
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

// Progress is a run's state for a display.
type Progress struct {
	RunID          string
	Read           int64 // source rows read so far
	AlreadySettled int64 // rows an earlier invocation settled (skipped now)
	Settled        int64 // rows this invocation settled
	ByOutcome      map[checkpoint.Outcome]int64
	Failures       int64 // failed + invalid, this invocation
	Requests       int64 // API calls sent
	RateLimited    int64 // 429s met
	Elapsed        time.Duration
	RowsPerSec     float64 // settled per second
	RequestsPerSec float64
	// Total and ETA are set when Config.TotalRows is.
	Total int64
	ETA   time.Duration
	// Latency counts the latencies of every request so far; subtract an
	// earlier Progress's to get an interval's percentiles.
	Latency Latencies
}

// Summary is what a run did.
type Summary struct {
	RunID  string
	Kind   string
	Status checkpoint.RunStatus
	// Read counts source rows read; AlreadySettled those that an earlier
	// invocation had settled and that were skipped.
	Read, AlreadySettled int64
	// ByOutcome counts the rows this invocation settled.
	ByOutcome map[checkpoint.Outcome]int64
	// Requests counts API calls sent: Creates + Lookups + Deletes.
	Requests, Creates, Lookups, Deletes int64
	// RateLimited counts 429 answers, Holds the pauses they started.
	RateLimited, Holds int64
	// Retries counts calls sent again; Recovered, creates whose answer was
	// lost and whose user a lookup found.
	Retries, Recovered int64
	PeakInFlight       int
	Elapsed            time.Duration
	// Budget is the configured rate; RequestsPerSec what was achieved.
	Budget         Rate
	RequestsPerSec float64
	RowsPerSec     float64
}

// Settled is the number of rows this invocation settled.
func (s Summary) Settled() int64 {
	var n int64
	for _, c := range s.ByOutcome {
		n += c
	}
	return n
}

// DefaultRunID derives a run id from what makes a run the same run: its
// kind, the source and mapping fingerprints and the target instance.
func DefaultRunID(kind, sourceFingerprint, mappingFingerprint, target string) string {
	h := sha256.New()
	for _, s := range []string{kind, sourceFingerprint, mappingFingerprint, target} {
		fmt.Fprintf(h, "%d:%s;", len(s), s)
	}
	return kind + "-" + hex.EncodeToString(h.Sum(nil))[:16]
}

func (c Config) check() error {
	switch {
	case c.Source == nil:
		return errors.New("importer: no source")
	case c.Mapper == nil:
		return errors.New("importer: no mapping")
	case c.Store == nil:
		return errors.New("importer: no run ledger")
	case c.API == nil && !c.DryRun:
		return errors.New("importer: no Clerk API")
	}
	return nil
}

func (c Config) withDefaults() (Config, error) {
	if c.Rate.IsZero() {
		c.Rate = DefaultRate("")
	}
	if err := c.Rate.validate(); err != nil {
		return c, err
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 32
	}
	c.Retry = c.Retry.withDefaults()
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.LogEvery == 0 {
		c.LogEvery = 10 * time.Second
	}
	if c.ShutdownGrace <= 0 {
		c.ShutdownGrace = 10 * time.Second
	}
	if c.MarkBatch <= 0 {
		c.MarkBatch = 32
	}
	return c, nil
}

func (c Config) kind() string {
	if c.DryRun {
		return KindValidate
	}
	return KindImport
}

// Run imports the source into Clerk (or, in DryRun, validates it) and
// returns what it did. Re-running with the same RunID resumes: settled rows
// are skipped, rows left in flight are looked up by external_id before
// anything is sent. When ctx is cancelled, Run stops reading, lets
// in-flight requests finish (at most ShutdownGrace), flushes the ledger,
// marks the run interrupted and returns an error that says how to resume.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	if err := cfg.check(); err != nil {
		return Summary{}, err
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Summary{}, err
	}
	info := cfg.Source.Info()
	kind := cfg.kind()
	runID := cfg.RunID
	if runID == "" {
		runID = DefaultRunID(kind, info.Fingerprint, cfg.MappingFingerprint, cfg.Target)
	}
	spec := checkpoint.RunSpec{
		ID: runID, Kind: kind,
		SourceFingerprint: info.Fingerprint, MappingFingerprint: cfg.MappingFingerprint,
		Force: cfg.Force,
		Meta:  map[string]string{"source": info.Name, "source_kind": info.Kind, checkpoint.MetaTarget: cfg.Target},
	}
	for k, v := range cfg.Meta {
		spec.Meta[k] = v
	}
	if !cfg.DryRun {
		spec.TargetLock, spec.SharedTarget = cfg.TargetLock, cfg.SharedTarget
	}
	rt, err := begin(ctx, cfg.Store, spec, cfg.Resume)
	if err != nil {
		return Summary{RunID: runID, Kind: kind}, err
	}
	p := &pipeline{
		runID: runID, kind: kind, store: cfg.Store, log: cfg.Logger.With("run", runID),
		maxInFlight: cfg.MaxInFlight, grace: cfg.ShutdownGrace,
		progressFn: cfg.Progress, logEvery: cfg.LogEvery, total: cmp.Or(cfg.TotalRows, info.Rows),
		lost: rt.run.Lost,
	}
	if !cfg.DryRun {
		p.pacer = NewPacer(cfg.Rate, cfg.MaxInFlight)
		p.api = layer(cfg.API, p.pacer, cfg.Retry, &p.n)
	}
	highWater := cfg.HighWater
	if hw, ok := cfg.Source.(HighWaterer); ok && highWater == nil {
		highWater = hw.HighWater
	}
	watched := &eofWatcher{Source: cfg.Source}
	cfg.Source = watched
	r := &importReader{cfg: cfg, p: p, resume: rt}
	read := r.run
	if highWater != nil {
		read = func(ctx context.Context) error {
			if err := r.run(ctx); err != nil || !watched.eof || ctx.Err() != nil {
				return err
			}
			return recordHighWater(ctx, cfg.Store, runID, highWater())
		}
	}
	p.log.Info("run starting", "kind", kind, "source", info.Name, "reopened", rt.run.Reopened,
		"settled_before", rt.progress.Settled(), "in_flight_before", rt.progress.InFlight,
		"budget_requests_per_sec", cfg.Rate.PerSecond(), "dry_run", cfg.DryRun)
	return p.run(ctx, read, func(ctx context.Context, j job) (checkpoint.Settlement, error) {
		return importRow(ctx, p.api, runID, rt.run.StartedAt, j)
	})
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

// recordHighWater keeps the run's high-water mark (nothing for a zero time).
func recordHighWater(ctx context.Context, store checkpoint.Store, runID string, hw time.Time) error {
	if hw.IsZero() {
		return nil
	}
	if err := store.SetMeta(ctx, runID, MetaHighWater, hw.UTC().Format(time.RFC3339Nano)); err != nil {
		return fmt.Errorf("importer: recording the high-water mark of run %s: %w", runID, err)
	}
	return nil
}

// resumeState is what the ledger knew of a run when it was (re)opened.
type resumeState struct {
	run      checkpoint.Run
	progress checkpoint.Progress
}

// begin opens the run in the ledger.
func begin(ctx context.Context, store checkpoint.Store, spec checkpoint.RunSpec, mustExist bool) (resumeState, error) {
	if mustExist {
		if _, err := findRun(ctx, store, spec.ID); err != nil {
			return resumeState{}, fmt.Errorf("importer: cannot resume: %w", err)
		}
	}
	run, err := store.BeginRun(ctx, spec)
	if err != nil {
		if errors.Is(err, checkpoint.ErrFingerprintMismatch) {
			return resumeState{}, fmt.Errorf("importer: run %s: %w; use a new run id, or force the resume", spec.ID, err)
		}
		return resumeState{}, fmt.Errorf("importer: opening run %s: %w", spec.ID, err)
	}
	rs := resumeState{run: run}
	if run.Reopened {
		rs.progress, err = store.Progress(ctx, spec.ID)
		if err != nil {
			return resumeState{}, fmt.Errorf("importer: reading run %s: %w", spec.ID, err)
		}
	}
	return rs, nil
}

// findRun looks a run up in the ledger.
func findRun(ctx context.Context, store checkpoint.Store, id string) (checkpoint.Run, error) {
	runs, err := store.Runs(ctx)
	if err != nil {
		return checkpoint.Run{}, fmt.Errorf("listing runs: %w", err)
	}
	for _, r := range runs {
		if r.ID == id {
			return r, nil
		}
	}
	return checkpoint.Run{}, fmt.Errorf("run %s: %w", id, checkpoint.ErrRunNotFound)
}

// requestHash identifies a request without revealing it: a SHA-256 of the
// request with every secret replaced by a marker, so the ledger never holds
// anything derived from a password or digest.
func requestHash(p *clerk.CreateUserParams) string {
	b, err := json.Marshal(p.Redacted())
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}
