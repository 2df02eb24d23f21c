package importer

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

// RollbackConfig says which import run to undo.
type RollbackConfig struct {
	// Store is the ledger that holds the import run; the rollback is
	// recorded there as its own run (kind "rollback").
	Store checkpoint.Store
	// API is Clerk; unused in DryRun.
	API UserAPI
	// ImportRunID is the run whose users are deleted: the rows it settled
	// created, and only those (never users that already existed).
	ImportRunID string
	// RunID names the rollback run; empty means "rollback-" + ImportRunID,
	// so that re-running the same rollback resumes it.
	RunID string
	// Rate, MaxInFlight, Retry, Logger, LogEvery, Progress and
	// ShutdownGrace are as in Config.
	Rate          Rate
	MaxInFlight   int
	Retry         RetryPolicy
	Logger        *slog.Logger
	LogEvery      time.Duration
	Progress      func(Progress)
	ShutdownGrace time.Duration
	// DryRun settles each user that would be deleted as valid, and calls
	// nothing.
	DryRun bool
	// RetryFailed re-attempts deletions that failed.
	RetryFailed bool
}

// Rollback deletes the users an import run created, paced like an import,
// resumable (re-running it skips users already deleted), each deletion
// recorded in its own ledger run. A user already gone (404) counts as
// deleted.
func Rollback(ctx context.Context, cfg RollbackConfig) (Summary, error) {
	switch {
	case cfg.Store == nil:
		return Summary{}, errors.New("importer: rollback: no run ledger")
	case cfg.API == nil && !cfg.DryRun:
		return Summary{}, errors.New("importer: rollback: no Clerk API")
	case cfg.ImportRunID == "":
		return Summary{}, errors.New("importer: rollback: which import run? (no run id)")
	}
	base, err := Config{
		Rate: cfg.Rate, MaxInFlight: cfg.MaxInFlight, Retry: cfg.Retry, Logger: cfg.Logger,
		LogEvery: cfg.LogEvery, ShutdownGrace: cfg.ShutdownGrace,
	}.withDefaults()
	if err != nil {
		return Summary{}, err
	}
	runID := cfg.RunID
	if runID == "" {
		runID = "rollback-" + cfg.ImportRunID
	}
	if _, err := findRun(ctx, cfg.Store, cfg.ImportRunID); err != nil {
		return Summary{RunID: runID, Kind: KindRollback}, fmt.Errorf("importer: rollback: %w", err)
	}
	rt, err := begin(ctx, cfg.Store, checkpoint.RunSpec{
		ID: runID, Kind: KindRollback, SourceFingerprint: "run:" + cfg.ImportRunID,
		Meta: map[string]string{"import_run": cfg.ImportRunID},
	}, false)
	if err != nil {
		return Summary{RunID: runID, Kind: KindRollback}, err
	}
	p := &pipeline{
		runID: runID, kind: KindRollback, store: cfg.Store, log: base.Logger.With("run", runID),
		maxInFlight: base.MaxInFlight, grace: base.ShutdownGrace, progressFn: cfg.Progress, logEvery: base.LogEvery,
	}
	if !cfg.DryRun {
		p.pacer = NewPacer(base.Rate, base.MaxInFlight)
		p.api = layer(cfg.API, p.pacer, base.Retry, &p.n)
	}
	r := &rollbackReader{cfg: cfg, p: p, resume: rt}
	p.log.Info("rollback starting", "import_run", cfg.ImportRunID, "reopened", rt.run.Reopened, "dry_run", cfg.DryRun)
	return p.run(ctx, r.run, func(ctx context.Context, j job) (checkpoint.Settlement, error) {
		return deleteRow(ctx, p.api, runID, j)
	})
}

// rollbackReader walks the import run's created rows, skipping those the
// rollback run already settled.
type rollbackReader struct {
	cfg    RollbackConfig
	p      *pipeline
	resume resumeState
}

func (r *rollbackReader) reconsider(st checkpoint.RowState) bool {
	switch {
	case st.InFlight:
		return true // deleting again is safe: a user already gone is a 404
	case st.Outcome == checkpoint.Valid:
		return !r.cfg.DryRun
	case st.Outcome == checkpoint.Failed:
		return r.cfg.RetryFailed
	}
	return false
}

func (r *rollbackReader) run(ctx context.Context) error {
	created := newLedgerCursor(r.p.store, r.cfg.ImportRunID,
		checkpoint.Filter{Outcomes: []checkpoint.Outcome{checkpoint.Created}})
	var done *ledgerCursor
	if r.resume.run.Reopened {
		done = newLedgerCursor(r.p.store, r.p.runID, checkpoint.Filter{})
	}
	d := &dispatcher{p: r.p, size: 32}
	for {
		row, ok, err := created.next(ctx)
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		r.p.read.Add(1)
		if done != nil {
			st, ok, err := done.at(ctx, row.Pos)
			if err != nil {
				return err
			}
			if ok && !r.reconsider(st) {
				r.p.alreadySettled.Add(1)
				continue
			}
		}
		if r.cfg.DryRun {
			r.p.settleNow(ctx, checkpoint.Settlement{Pos: row.Pos, Key: row.Key, ClerkID: row.ClerkID,
				Outcome: checkpoint.Valid, Message: "would be deleted"})
			continue
		}
		if err := d.add(ctx, job{pos: row.Pos, key: row.Key, clerkID: row.ClerkID}); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return d.flush(ctx)
}

// deleteRow deletes one user; like importRow, it returns an error only when
// the row has no outcome.
func deleteRow(ctx context.Context, api *retryingAPI, runID string, j job) (checkpoint.Settlement, error) {
	ctx, calls := withRowCounter(ctx)
	s := checkpoint.Settlement{Pos: j.pos, Key: j.key, ClerkID: j.clerkID}
	err := api.DeleteUser(ctx, j.clerkID)
	s.Attempts = calls.calls
	var ae *clerk.Error
	switch {
	case err == nil:
		s.Outcome = checkpoint.Deleted
		return s, nil
	case errors.As(err, &ae) && ae.Status == 404:
		s.Outcome, s.Message = checkpoint.Deleted, "already gone"
		return s, nil
	case ctx.Err() != nil || clerk.Classify(err) == clerk.Canceled:
		return s, errRowAbandoned
	case clerk.Classify(err) == clerk.Fatal:
		return s, &FatalError{RunID: runID, Key: j.key, Err: err}
	}
	s = failed(s, err)
	if s.Message == "" {
		s.Message = fmt.Sprintf("deleting %s: %v", j.clerkID, err)
	}
	return s, nil
}
