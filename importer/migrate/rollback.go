package migrate

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
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
)

// RollbackConfig says which import run to undo.
type RollbackConfig struct {
	// Store is the ledger that holds the import run; the rollback is
	// recorded there as its own run (kind "rollback").
	Store checkpoint.Store
	// Gateway is Clerk; unused in DryRun.
	Gateway *gateway.Gateway
	// ImportRunID is the run whose users are deleted: the rows it settled
	// created, and only those (never users that already existed).
	ImportRunID string
	// Target names the Clerk instance Gateway talks to, as the import run
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
	// Workers, Logger, LogEvery (a negative value: no progress lines),
	// Progress, Started and ShutdownGrace are as in Config.
	Workers       int
	Logger        *slog.Logger
	LogEvery      time.Duration
	Progress      func(runner.Progress)
	Started       func()
	ShutdownGrace time.Duration
	// DryRun settles each user that would be deleted as valid, and calls
	// nothing.
	DryRun bool
	// RetryFailed re-attempts deletions that failed.
	RetryFailed bool
}

// deletion is one user to delete.
type deletion struct {
	pos     int64
	key     string
	clerkID string
}

// Mark is the row as it is marked in flight.
func (d *deletion) Mark() checkpoint.Row { return checkpoint.Row{Pos: d.pos, Key: d.key} }

// TargetMismatchError is a rollback asked of another target than the one
// its import run recorded: refused before anything is sent.
type TargetMismatchError struct {
	RunID    string
	Recorded string // the run's target; "" when it recorded none
	Given    string
}

func (e *TargetMismatchError) Error() string {
	if e.Recorded == "" {
		return fmt.Sprintf("migrate: rollback: run %s recorded no target, so where its users are is not known; "+
			"a rollback deletes only on the target its run recorded", e.RunID)
	}
	return fmt.Sprintf("migrate: rollback: run %s wrote to %s, not to %s: a rollback deletes only on the target its run "+
		"recorded (leave --target out, or give that one)", e.RunID, e.Recorded, e.Given)
}

// Rollback deletes the users an import run created, on the target the run
// recorded and nowhere else, paced like an import, resumable (re-running it
// skips users already deleted), each deletion recorded in its own ledger
// run with its target. A user already gone (404) counts as deleted.
func Rollback(ctx context.Context, cfg RollbackConfig) (runner.Summary, error) {
	switch {
	case cfg.Store == nil:
		return runner.Summary{}, errors.New("migrate: rollback: no run ledger")
	case cfg.Gateway == nil && !cfg.DryRun:
		return runner.Summary{}, errors.New("migrate: rollback: no Clerk gateway")
	case cfg.ImportRunID == "":
		return runner.Summary{}, errors.New("migrate: rollback: which import run? (no run id)")
	}
	imp, err := checkpoint.FindRun(ctx, cfg.Store, cfg.ImportRunID)
	if err != nil {
		return runner.Summary{Kind: runner.KindRollback}, fmt.Errorf("migrate: rollback: %w", err)
	}
	if recorded := imp.Meta[checkpoint.MetaTarget]; recorded != cfg.Target {
		return runner.Summary{Kind: runner.KindRollback}, &TargetMismatchError{RunID: cfg.ImportRunID, Recorded: recorded, Given: cfg.Target}
	}
	// The pre-flight says which instance the key reaches; behind one URL
	// (Clerk's) only its id tells the run's instance from another, where
	// every delete would be a 404 counted as "already gone".
	target := runner.Target{Name: cfg.Target}
	if !cfg.DryRun {
		target, err = runner.Identify(ctx, cfg.Gateway, cfg.Target)
		if err != nil {
			return runner.Summary{Kind: runner.KindRollback}, fmt.Errorf("migrate: rollback: %w", err)
		}
		if err := runner.SameInstance("rollback", cfg.ImportRunID, runner.RecordedTarget(imp), target); err != nil {
			return runner.Summary{Kind: runner.KindRollback}, fmt.Errorf("migrate: %w", err)
		}
	}
	runID, redo, err := rollbackRunID(ctx, cfg, target)
	if err != nil {
		return runner.Summary{Kind: runner.KindRollback}, err
	}
	spec := checkpoint.RunSpec{
		ID: runID, Kind: runner.KindRollback, SourceFingerprint: "run:" + cfg.ImportRunID,
		Meta: map[string]string{"import_run": cfg.ImportRunID, checkpoint.MetaTarget: cfg.Target},
	}
	if !cfg.DryRun {
		spec.TargetLock, spec.SharedTarget = cfg.TargetLock, cfg.SharedTarget
		target.Record(spec.Meta)
	}
	opened, err := runner.Open(ctx, cfg.Store, spec, false)
	if err != nil {
		return runner.Summary{RunID: runID, Kind: runner.KindRollback}, fmt.Errorf("migrate: rollback: %w", err)
	}
	if cfg.Started != nil {
		cfg.Started()
	}
	g := cfg.Gateway
	if cfg.DryRun {
		g = nil
	}
	p := runner.NewPipeline[*deletion](runner.Config{RunID: runID, Kind: runner.KindRollback, Store: cfg.Store, Gateway: g,
		Workers: cfg.Workers, Grace: cfg.ShutdownGrace, Progress: cfg.Progress, LogEvery: cfg.LogEvery, Logger: cfg.Logger,
		Lost: opened.Run.Lost})
	if redo != "" {
		p.Log().Warn("an earlier rollback of this run was recorded against another target (or none): its rows are "+
			"not trusted, every user the run created is deleted again on its own target", "untrusted_run", redo,
			"target", cfg.Target)
	}
	r := &rollbackReader{cfg: cfg, p: p, opened: opened}
	p.Log().Info("rollback starting", "import_run", cfg.ImportRunID, "reopened", opened.Run.Reopened, "dry_run", cfg.DryRun)
	return p.Run(ctx, r.read, func(ctx context.Context, d *deletion) (checkpoint.Settlement, error) {
		return deleteRow(ctx, g, runID, d)
	})
}

// rollbackRunID names the rollback run. A rollback run's rows are trusted
// only when it recorded the import's target (Meta checkpoint.MetaTarget)
// and, when both are known, the instance reached now (Meta
// checkpoint.MetaInstance): earlier versions recorded neither, and may have
// "deleted" every row on another target or instance (a 404 there counts as
// already gone) while the users remained. So the default "rollback-RUN" is resumed only when it recorded
// this target; otherwise the rollback is redone from scratch as
// "rollback-RUN-<hash of the target>", and redo names the run not trusted
// when the redo begins. An explicit RunID recorded against another target
// is refused.
func rollbackRunID(ctx context.Context, cfg RollbackConfig, reached runner.Target) (id, redo string, err error) {
	trusted := func(id string) (ok, exists bool, err error) {
		r, err := checkpoint.FindRun(ctx, cfg.Store, id)
		if errors.Is(err, checkpoint.ErrRunNotFound) {
			return true, false, nil
		}
		if err != nil {
			return false, false, fmt.Errorf("migrate: rollback: %w", err)
		}
		target, ok := r.Meta[checkpoint.MetaTarget]
		same := runner.SameInstance("rollback", id, runner.RecordedTarget(r), reached) == nil
		return ok && target == cfg.Target && same, true, nil
	}
	if cfg.RunID != "" {
		ok, _, err := trusted(cfg.RunID)
		if err == nil && !ok {
			err = fmt.Errorf("migrate: rollback: run %s was recorded against another target than %s; choose another run id", cfg.RunID, cfg.Target)
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
		return "", "", fmt.Errorf("migrate: rollback: run %s was recorded against another target than %s", again, cfg.Target)
	case exists:
		return again, "", nil // the redo is under way or done
	}
	return again, id, nil
}

// rollbackReader walks the import run's created rows, skipping those the
// rollback run already settled.
type rollbackReader struct {
	cfg    RollbackConfig
	p      *runner.Pipeline[*deletion]
	opened runner.Opened
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

func (r *rollbackReader) read(ctx context.Context) error {
	created := runner.NewCursor(r.cfg.Store, r.cfg.ImportRunID, checkpoint.Filter{Outcomes: []checkpoint.Outcome{checkpoint.Created}})
	var done *runner.Cursor
	if r.opened.Run.Reopened {
		done = runner.NewCursor(r.cfg.Store, r.opened.Run.ID, checkpoint.Filter{})
	}
	d := r.p.Dispatcher(32)
	for {
		row, ok, err := created.Next(ctx)
		if err != nil || !ok {
			if err == nil {
				err = d.Flush(ctx)
			}
			return err
		}
		r.p.CountRead()
		if done != nil {
			st, ok, err := done.At(ctx, row.Pos)
			if err != nil {
				return err
			}
			if ok && !r.reconsider(st) {
				r.p.CountSettledBefore()
				continue
			}
		}
		if r.cfg.DryRun {
			r.p.SettleNow(ctx, checkpoint.Settlement{Pos: row.Pos, Key: row.Key, ClerkID: row.ClerkID,
				Outcome: checkpoint.Valid, Message: "would be deleted"})
			continue
		}
		if err := d.Add(ctx, &deletion{pos: row.Pos, key: row.Key, clerkID: row.ClerkID}); err != nil || ctx.Err() != nil {
			return err
		}
	}
}

// deleteRow deletes one user; like importRow, it returns an error only when
// the row has no outcome.
func deleteRow(ctx context.Context, g *gateway.Gateway, runID string, d *deletion) (checkpoint.Settlement, error) {
	ctx, calls := gateway.CountCalls(ctx)
	s := checkpoint.Settlement{Pos: d.pos, Key: d.key, ClerkID: d.clerkID}
	err := g.DeleteUser(ctx, d.clerkID)
	s.Attempts = calls.Sent()
	var ae *clerk.Error
	switch {
	case err == nil:
		s.Outcome = checkpoint.Deleted
		return s, nil
	case errors.As(err, &ae) && ae.Status == 404:
		s.Outcome, s.Message = checkpoint.Deleted, "already gone"
		return s, nil
	case ctx.Err() != nil || clerk.Classify(err) == clerk.Canceled:
		return s, runner.ErrRowAbandoned
	case clerk.Classify(err) == clerk.Fatal:
		return s, &runner.FatalError{RunID: runID, Key: d.key, Err: err}
	}
	s = runner.Failed(s, err)
	if s.Message == "" {
		s.Message = fmt.Sprintf("deleting %s: %v", d.clerkID, err)
	}
	return s, nil
}
