package postgres

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/internal/ledger"
)

var _ checkpoint.Pruner = (*Store)(nil)

// PruneRun deletes a finished run's rows but those that make a user ours
// (checkpoint.Pruner), in one transaction.
func (s *Store) PruneRun(ctx context.Context, runID string) (checkpoint.PruneStats, error) {
	var st checkpoint.PruneStats
	if err := s.usable(ctx); err != nil {
		return st, err
	}
	run, seq, err := s.loadRun(ctx, s.pool, runID)
	if err != nil {
		return st, s.fail(ctx, "prune", err)
	}
	if run.Status != checkpoint.Done {
		return st, fmt.Errorf("checkpoint/postgres: prune %q (%s): %w", runID, run.Status, checkpoint.ErrNotFinished)
	}
	owning := slices.Contains(checkpoint.OwningKinds, run.Kind)
	earlier := []int64{}
	if owning {
		runs, err := s.owningRuns(ctx, run.Meta[checkpoint.MetaTarget])
		if err != nil {
			return st, err
		}
		earlier = ledger.EarlierRuns(runs, seq)
	}
	outcomes := make([]string, len(checkpoint.OwningOutcomes))
	for i, o := range checkpoint.OwningOutcomes {
		outcomes[i] = string(o)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, s.q(`DELETE FROM §ledger_rows r WHERE r.run = $1 AND NOT (
			$2 AND r.clerk_id <> '' AND r.outcome = ANY($4) AND NOT EXISTS (
				SELECT 1 FROM §ledger_rows e WHERE e.clerk_id = r.clerk_id AND e.clerk_id <> '' AND e.key = r.key
					AND e.run = ANY($3) AND e.outcome = ANY($4)))`), seq, owning, earlier, outcomes)
		if err != nil {
			return err
		}
		st.Deleted = tag.RowsAffected()
		if err := tx.QueryRow(ctx, s.q(`SELECT count(*) FROM §ledger_rows WHERE run = $1`), seq).Scan(&st.Kept); err != nil {
			return err
		}
		note := fmt.Sprintf("%s: %d rows deleted, %d kept (they make their users ours)", time.Now().UTC().Format(time.RFC3339), st.Deleted, st.Kept)
		_, err = tx.Exec(ctx, s.sql.setMeta, seq, checkpoint.MetaPruned, note)
		return err
	})
	return st, s.fail(ctx, "prune", err)
}
