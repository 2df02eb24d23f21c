package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/internal/ledger"
)

var _ checkpoint.Pruner = (*Store)(nil)

// PruneRun deletes a finished run's rows but those that make a user ours
// (checkpoint.Pruner), in one transaction. The earlier owning rows are
// found through ledger_rows_clerk_id, a probe per row kept as a candidate.
func (s *Store) PruneRun(ctx context.Context, runID string) (checkpoint.PruneStats, error) {
	var st checkpoint.PruneStats
	if err := s.usable(ctx); err != nil {
		return st, err
	}
	var seq int64
	var kind, status string
	err := s.reader.QueryRowContext(ctx, `SELECT seq, kind, status FROM runs WHERE id = ?`, runID).Scan(&seq, &kind, &status)
	if err == sql.ErrNoRows {
		return st, fmt.Errorf("checkpoint/sqlite: prune %q: %w", runID, checkpoint.ErrRunNotFound)
	}
	if err != nil {
		return st, s.fail(ctx, "prune", err)
	}
	if status != string(checkpoint.Done) {
		return st, fmt.Errorf("checkpoint/sqlite: prune %q (%s): %w", runID, status, checkpoint.ErrNotFinished)
	}
	meta, err := loadMeta(ctx, s.reader, seq)
	if err != nil {
		return st, s.fail(ctx, "prune", err)
	}
	owning := slices.Contains(checkpoint.OwningKinds, kind)
	var earlier []int64 // runs of the same target that own users, before this one
	if owning {
		runs, err := s.owningRuns(ctx, meta[checkpoint.MetaTarget])
		if err != nil {
			return st, err
		}
		earlier = ledger.EarlierRuns(runs, seq)
	}
	list, _ := json.Marshal(append(earlier, -1)) // -1: no run; json_each of [] is fine too
	outcomes := make([]string, len(checkpoint.OwningOutcomes))
	args := []any{seq, boolInt(owning), string(list)}
	for i, o := range checkpoint.OwningOutcomes {
		outcomes[i] = fmt.Sprintf("?%d", 4+i)
		args = append(args, string(o))
	}
	in := strings.Join(outcomes, ", ")
	err = s.inTx(ctx, "prune", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM ledger_rows WHERE run = ?1 AND NOT (
			?2 AND clerk_id <> '' AND outcome IN (`+in+`) AND NOT EXISTS (
				SELECT 1 FROM ledger_rows e INDEXED BY ledger_rows_clerk_id
				WHERE e.clerk_id = ledger_rows.clerk_id AND e.clerk_id <> '' AND e.key = ledger_rows.key
					AND e.run IN (SELECT value FROM json_each(?3)) AND e.outcome IN (`+in+`)))`, args...)
		if err != nil {
			return err
		}
		if st.Deleted, err = res.RowsAffected(); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM ledger_rows WHERE run = ?`, seq).Scan(&st.Kept); err != nil {
			return err
		}
		note := fmt.Sprintf("%s: %d rows deleted, %d kept (they make their users ours)", time.Now().UTC().Format(time.RFC3339), st.Deleted, st.Kept)
		_, err = tx.ExecContext(ctx, `INSERT OR REPLACE INTO run_meta (run, key, value) VALUES (?, ?, ?)`, seq, checkpoint.MetaPruned, note)
		return err
	})
	return st, err
}
