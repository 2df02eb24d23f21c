package checkpoint

import (
	"context"
	"errors"
	"slices"
	"time"
)

// MetaPruned is set on a run whose rows Prune dropped: when, and how many
// rows it kept for ownership.
const MetaPruned = "pruned"

// PrunableKinds are the kinds of runs Prune drops the rows of: the nightly
// sync's runs (sync, sync-plan, sync-apply) and validations, the runs that
// repeat. Imports and rollbacks are kept whole: a resumed import, a
// --retry-failed and a rollback read their rows.
var PrunableKinds = []string{"sync", "sync-plan", "sync-apply", "validate"}

// ErrNotFinished: PruneRun of a run that is not done (it may be resumed).
var ErrNotFinished = errors.New("checkpoint: the run is not finished")

// Pruner is a Store that can drop a finished run's rows (both stores are).
type Pruner interface {
	// PruneRun deletes the rows of a finished run (status Done) but those
	// that make a user ours (see OwningKinds): a row of an owning kind's
	// run with an owning outcome and a Clerk id, when no earlier run of
	// the same target owns that user under the same key. So ownership, and
	// the run that owns each user, are the same after it; a created row is
	// always kept (a rollback of the run finds it). The run, its metadata
	// and its counts stay: status and summary.json count its rows as
	// before (the outcome files list those kept). It records MetaPruned.
	// A run not done is refused (ErrNotFinished).
	PruneRun(ctx context.Context, runID string) (PruneStats, error)
}

// PruneStats is what PruneRun did.
type PruneStats struct {
	Deleted, Kept int64
}

// PrunePolicy says which runs Prune drops the rows of: finished runs of a
// PrunableKinds kind, not yet pruned, beyond the KeepRuns newest of their
// kind and started more than OlderThan ago (0: any age).
type PrunePolicy struct {
	KeepRuns  int
	OlderThan time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// DryRun lists the runs and prunes none.
	DryRun bool
}

// PrunedRun is a run Prune dropped (or, in a dry run, would drop) the rows
// of.
type PrunedRun struct {
	Run   Run
	Stats PruneStats
}

// Prune drops the rows of the runs p selects, newest first, calling fn
// after each; the store must be a Pruner.
func Prune(ctx context.Context, store Store, p PrunePolicy, fn func(PrunedRun) error) error {
	pr, ok := store.(Pruner)
	if !ok {
		return errors.New("checkpoint: this ledger cannot prune runs")
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	runs, err := store.Runs(ctx) // newest first
	if err != nil {
		return err
	}
	seen := map[string]int{}
	cutoff := p.Now().Add(-p.OlderThan)
	for _, r := range runs {
		if !slices.Contains(PrunableKinds, r.Kind) || r.Status != Done {
			continue
		}
		if seen[r.Kind]++; seen[r.Kind] <= p.KeepRuns {
			continue
		}
		if r.Meta[MetaPruned] != "" || (p.OlderThan > 0 && !r.StartedAt.Before(cutoff)) {
			continue
		}
		var st PruneStats
		if !p.DryRun {
			if st, err = pr.PruneRun(ctx, r.ID); err != nil {
				return err
			}
		}
		if err := fn(PrunedRun{Run: r, Stats: st}); err != nil {
			return err
		}
	}
	return nil
}
