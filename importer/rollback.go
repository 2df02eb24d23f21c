package importer

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
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
	// Target names the Clerk instance API talks to, as the import run
	// recorded its own (Meta checkpoint.MetaTarget; never the key). The
	// rollback is refused (*TargetMismatchError) unless it is the run's
	// target: users are deleted where the run created them and nowhere
	// else, and a row is settled deleted only on that target's answer.
	Target string
	// RunID names the rollback run; empty means "rollback-" + ImportRunID,
	// so that re-running the same rollback resumes it (see rollbackRunID for
	// a rollback recorded against another target).
	RunID string
	// TargetLock and SharedTarget are as in Config (unused in DryRun).
	TargetLock   string
	SharedTarget bool
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

// TargetMismatchError is a rollback asked of another target than the one
// its import run recorded: refused before anything is sent.
type TargetMismatchError struct {
	RunID    string
	Recorded string // the run's target; "" when it recorded none
	Given    string
}

func (e *TargetMismatchError) Error() string {
	if e.Recorded == "" {
		return fmt.Sprintf("importer: rollback: run %s recorded no target, so where its users are is not known; "+
			"a rollback deletes only on the target its run recorded", e.RunID)
	}
	return fmt.Sprintf("importer: rollback: run %s wrote to %s, not to %s: a rollback deletes only on the target its run "+
		"recorded (leave --target out, or give that one)", e.RunID, e.Recorded, e.Given)
}

// Rollback deletes the users an import run created, on the target the run
// recorded and nowhere else, paced like an import, resumable (re-running it
// skips users already deleted), each deletion recorded in its own ledger
// run with its target. A user already gone (404) counts as deleted.
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
	imp, err := findRun(ctx, cfg.Store, cfg.ImportRunID)
	if err != nil {
		return Summary{Kind: KindRollback}, fmt.Errorf("importer: rollback: %w", err)
	}
	if recorded := imp.Meta[checkpoint.MetaTarget]; recorded != cfg.Target {
		return Summary{Kind: KindRollback}, &TargetMismatchError{RunID: cfg.ImportRunID, Recorded: recorded, Given: cfg.Target}
	}
	runID, redo, err := rollbackRunID(ctx, cfg)
	if err != nil {
		return Summary{Kind: KindRollback}, err
	}
	if redo != "" {
		base.Logger.Warn("an earlier rollback of this run was recorded against another target (or none): its rows are "+
			"not trusted, every user the run created is deleted again on its own target", "untrusted_run", redo,
			"run", runID, "target", cfg.Target)
	}
	spec := checkpoint.RunSpec{
		ID: runID, Kind: KindRollback, SourceFingerprint: "run:" + cfg.ImportRunID,
		Meta: map[string]string{"import_run": cfg.ImportRunID, checkpoint.MetaTarget: cfg.Target},
	}
	if !cfg.DryRun {
		spec.TargetLock, spec.SharedTarget = cfg.TargetLock, cfg.SharedTarget
	}
	rt, err := begin(ctx, cfg.Store, spec, false)
	if err != nil {
		return Summary{RunID: runID, Kind: KindRollback}, err
	}
	p := &pipeline{
		runID: runID, kind: KindRollback, store: cfg.Store, log: base.Logger.With("run", runID),
		maxInFlight: base.MaxInFlight, grace: base.ShutdownGrace, progressFn: cfg.Progress, logEvery: base.LogEvery,
		lost: rt.run.Lost,
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

// rollbackRunID names the rollback run. A rollback run's rows are trusted
// only when it recorded the import's target (Meta checkpoint.MetaTarget):
// earlier versions recorded none, and may have "deleted" every row on
// another target (a 404 there counts as already gone) while the users
// remained. So the default "rollback-RUN" is resumed only when it recorded
// this target; otherwise the rollback is redone from scratch as
// "rollback-RUN-<hash of the target>", and redo names the run not trusted
// when the redo begins. An explicit RunID recorded against another target
// is refused.
func rollbackRunID(ctx context.Context, cfg RollbackConfig) (id, redo string, err error) {
	trusted := func(id string) (ok, exists bool, err error) {
		r, err := findRun(ctx, cfg.Store, id)
		if errors.Is(err, checkpoint.ErrRunNotFound) {
			return true, false, nil
		}
		if err != nil {
			return false, false, fmt.Errorf("importer: rollback: %w", err)
		}
		target, ok := r.Meta[checkpoint.MetaTarget]
		return ok && target == cfg.Target, true, nil
	}
	if cfg.RunID != "" {
		ok, _, err := trusted(cfg.RunID)
		if err == nil && !ok {
			err = fmt.Errorf("importer: rollback: run %s was recorded against another target than %s; choose another run id", cfg.RunID, cfg.Target)
		}
		return cfg.RunID, "", err
	}
	id = "rollback-" + cfg.ImportRunID
	ok, _, err := trusted(id)
	if err != nil || ok {
		return id, "", err
	}
	sum := sha256.Sum256([]byte(cfg.Target))
	again := id + "-" + hex.EncodeToString(sum[:4])
	ok, exists, err := trusted(again)
	switch {
	case err != nil:
		return "", "", err
	case !ok:
		return "", "", fmt.Errorf("importer: rollback: run %s was recorded against another target than %s", again, cfg.Target)
	case exists:
		return again, "", nil // the redo is under way or done
	}
	return again, id, nil
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
