package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/internal/ledger"
)

// upsertRow replaces the whole state of one (run, pos).
const upsertRow = `INSERT OR REPLACE INTO ledger_rows
	(run, pos, key, in_flight, outcome, clerk_id, error_code, field, message, attempts, retryable, request_hash, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

// MarkInFlight records rows of a run this Store holds as in flight, in one
// transaction; durable when it returns. A mark replaces whatever the
// position held before (a failed row being retried loses its old outcome).
func (s *Store) MarkInFlight(ctx context.Context, runID string, rows []checkpoint.Row) error {
	seq, err := s.heldSeq(ctx, runID)
	if err != nil {
		return err
	}
	rows, err = ledger.InFlightRows(rows)
	if err != nil || len(rows) == 0 {
		return err
	}
	now := nowNanos()
	return s.write(ctx, "mark in flight", seq, rows[0].Pos, func(stmt *sql.Stmt) error {
		for _, r := range rows {
			if _, err := stmt.ExecContext(ctx, seq, r.Pos, r.Key, 1, "", "", "", "", "", 0, 0, r.RequestHash, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// Settle records how rows of a run this Store holds ended, in one
// transaction, replacing any earlier state of the same positions; durable
// when it returns.
func (s *Store) Settle(ctx context.Context, runID string, settlements []checkpoint.Settlement) error {
	seq, err := s.heldSeq(ctx, runID)
	if err != nil {
		return err
	}
	settlements, err = ledger.Settlements(settlements)
	if err != nil || len(settlements) == 0 {
		return err
	}
	now := nowNanos()
	return s.write(ctx, "settle", seq, settlements[0].Pos, func(stmt *sql.Stmt) error {
		for _, x := range settlements {
			if _, err := stmt.ExecContext(ctx, seq, x.Pos, x.Key, 0, string(x.Outcome), x.ClerkID, x.ErrorCode,
				x.Field, x.Message, x.Attempts, boolInt(x.Retryable), x.RequestHash, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// write runs one batch in a transaction through the prepared upsert, then
// moves the run's gap-free prefix on when the batch may have extended it.
func (s *Store) write(ctx context.Context, op string, seq, minPos int64, batch func(*sql.Stmt) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	defer tx.Rollback()
	stmt, err := tx.PrepareContext(ctx, upsertRow)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	defer stmt.Close()
	if err := batch(stmt); err != nil {
		return s.fail(ctx, op, err)
	}
	var contiguous int64
	if err := tx.QueryRowContext(ctx, `SELECT contiguous_to FROM runs WHERE seq = ?`, seq).Scan(&contiguous); err != nil {
		return s.fail(ctx, op, err)
	}
	if minPos <= contiguous+1 {
		if contiguous, err = advance(ctx, tx, seq, contiguous); err != nil {
			return s.fail(ctx, op, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET contiguous_to = ?, updated_at = ? WHERE seq = ?`,
		contiguous, nowNanos(), seq); err != nil {
		return s.fail(ctx, op, err)
	}
	return s.fail(ctx, op, tx.Commit())
}

// advance walks the positions after c, a page at a time, while they follow
// one another, and returns the end of the gap-free prefix.
func advance(ctx context.Context, tx *sql.Tx, seq, c int64) (int64, error) {
	const page = 4096
	for {
		rows, err := tx.QueryContext(ctx, `SELECT pos FROM ledger_rows WHERE run = ? AND pos > ? ORDER BY pos LIMIT ?`, seq, c, page)
		if err != nil {
			return c, err
		}
		n := 0
		start := c
		c, err = ledger.NextContiguous(c, func() (int64, bool, error) {
			if !rows.Next() {
				return 0, false, rows.Err()
			}
			n++
			var p int64
			err := rows.Scan(&p)
			return p, err == nil, err
		})
		rows.Close()
		if err != nil || n < page || c-start < page {
			return c, err
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rowQuery builds the SELECT for Rows.
func rowQuery(seq int64, f checkpoint.Filter) (string, []any) {
	var b strings.Builder
	b.WriteString(`SELECT pos, key, in_flight, outcome, clerk_id, error_code, field, message, attempts, retryable, request_hash, updated_at
		FROM ledger_rows WHERE run = ? AND pos >= ?`)
	args := []any{seq, f.FromPos}
	if f.InFlight {
		b.WriteString(` AND in_flight = 1`)
	}
	if len(f.Outcomes) > 0 {
		b.WriteString(` AND outcome IN (?` + strings.Repeat(`, ?`, len(f.Outcomes)-1) + `)`)
		for _, o := range f.Outcomes {
			args = append(args, string(o))
		}
	}
	if f.Retryable != nil {
		b.WriteString(` AND outcome = ? AND retryable = ?`)
		args = append(args, string(checkpoint.Failed), boolInt(*f.Retryable))
	}
	b.WriteString(` ORDER BY pos`)
	return b.String(), args
}

// Rows calls fn for each row of the run matching f, ordered by position,
// streaming from a read snapshot taken when it starts. fn may call the
// Store's other methods, but not Close.
func (s *Store) Rows(ctx context.Context, runID string, f checkpoint.Filter, fn func(checkpoint.RowState) error) error {
	seq, err := s.runSeq(ctx, runID)
	if err != nil {
		return err
	}
	q, args := rowQuery(seq, f)
	rows, err := s.reader.QueryContext(ctx, q, args...)
	if err != nil {
		return s.fail(ctx, "rows", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r checkpoint.RowState
		var inFlight, retryable int
		var outcome string
		var updated int64
		if err := rows.Scan(&r.Pos, &r.Key, &inFlight, &outcome, &r.ClerkID, &r.ErrorCode, &r.Field, &r.Message,
			&r.Attempts, &retryable, &r.RequestHash, &updated); err != nil {
			return s.fail(ctx, "rows", err)
		}
		r.InFlight, r.Retryable = inFlight == 1, retryable == 1
		r.Outcome, r.UpdatedAt = checkpoint.Outcome(outcome), fromNanos(updated)
		if err := fn(r); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	return s.fail(ctx, "rows", rows.Err())
}

// Progress counts the run's rows: one indexed GROUP BY for the counts and
// two O(log n) look-ups for MaxSettledPos.
func (s *Store) Progress(ctx context.Context, runID string) (checkpoint.Progress, error) {
	seq, err := s.runSeq(ctx, runID)
	if err != nil {
		return checkpoint.Progress{}, err
	}
	tx, err := s.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return checkpoint.Progress{}, s.fail(ctx, "progress", err)
	}
	defer tx.Rollback()
	p := checkpoint.Progress{ByOutcome: map[checkpoint.Outcome]int64{}}
	var contiguous int64
	var firstInFlight sql.NullInt64
	if err := tx.QueryRowContext(ctx, `SELECT contiguous_to, (SELECT min(pos) FROM ledger_rows WHERE run = ?1 AND in_flight = 1)
		FROM runs WHERE seq = ?1`, seq).Scan(&contiguous, &firstInFlight); err != nil {
		return checkpoint.Progress{}, s.fail(ctx, "progress", err)
	}
	p.MaxSettledPos = ledger.MaxSettled(contiguous, firstInFlight.Int64)
	rows, err := tx.QueryContext(ctx, `SELECT outcome, count(*) FROM ledger_rows WHERE run = ? GROUP BY outcome`, seq)
	if err != nil {
		return checkpoint.Progress{}, s.fail(ctx, "progress", err)
	}
	defer rows.Close()
	for rows.Next() {
		var outcome string
		var n int64
		if err := rows.Scan(&outcome, &n); err != nil {
			return checkpoint.Progress{}, s.fail(ctx, "progress", err)
		}
		if outcome == "" {
			p.InFlight = n
		} else {
			p.ByOutcome[checkpoint.Outcome(outcome)] = n
		}
	}
	return p, s.fail(ctx, "progress", rows.Err())
}
