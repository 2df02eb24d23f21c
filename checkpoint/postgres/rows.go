package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/internal/ledger"
	"github.com/jackc/pgx/v5"
)

// MarkInFlight records rows of a run this Store holds as in flight, in one
// statement; durable when it returns. A mark replaces whatever the position
// held before (a failed row being retried loses its old outcome).
func (s *Store) MarkInFlight(ctx context.Context, runID string, rows []checkpoint.Row) error {
	h, err := s.heldRun(ctx, runID)
	if err != nil {
		return err
	}
	rows, err = ledger.InFlightRows(rows)
	if err != nil || len(rows) == 0 {
		return err
	}
	pos, keys, hashes := make([]int64, len(rows)), make([]string, len(rows)), make([]string, len(rows))
	for i, r := range rows {
		pos[i], keys[i], hashes[i] = r.Pos, clean(r.Key), clean(r.RequestHash)
	}
	added := map[string]int64{"": int64(len(rows))}
	return s.write(ctx, h, runID, "mark in flight", pos, added, true, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, s.sql.markInFlight, h.seq, now(), pos, keys, hashes)
		return err
	})
}

// Settle records how rows of a run this Store holds ended, in one
// statement, replacing any earlier state of the same positions; durable when
// it returns.
func (s *Store) Settle(ctx context.Context, runID string, settlements []checkpoint.Settlement) error {
	h, err := s.heldRun(ctx, runID)
	if err != nil {
		return err
	}
	settlements, err = ledger.Settlements(settlements)
	if err != nil || len(settlements) == 0 {
		return err
	}
	n := len(settlements)
	pos, attempts, retryable := make([]int64, n), make([]int32, n), make([]bool, n)
	keys, outcomes, clerkIDs, codes, fields, messages, hashes :=
		make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, x := range settlements {
		pos[i], attempts[i], retryable[i] = x.Pos, int32(x.Attempts), x.Retryable
		keys[i], outcomes[i], clerkIDs[i], codes[i] = clean(x.Key), clean(string(x.Outcome)), clean(x.ClerkID), clean(x.ErrorCode)
		fields[i], messages[i], hashes[i] = clean(x.Field), clean(x.Message), clean(x.RequestHash)
	}
	added := map[string]int64{}
	for _, o := range outcomes {
		added[o]++
	}
	return s.write(ctx, h, runID, "settle", pos, added, false, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, s.sql.settle, h.seq, now(), pos, keys, outcomes, clerkIDs, codes, fields, messages, attempts, retryable, hashes)
		return err
	})
}

// Tally adds counts to a run this Store holds, with no row
// (checkpoint.Tallier), on the run's lock connection.
func (s *Store) Tally(ctx context.Context, runID string, counts map[checkpoint.Outcome]int64) error {
	h, err := s.heldRun(ctx, runID)
	if err != nil {
		return err
	}
	var outcomes []string
	var ns []int64
	for o, n := range counts {
		if o == "" || n < 0 {
			return fmt.Errorf("checkpoint/postgres: tally: %d rows of outcome %q", n, o)
		}
		if n > 0 {
			outcomes, ns = append(outcomes, clean(string(o))), append(ns, n)
		}
	}
	if len(outcomes) == 0 {
		return nil
	}
	return h.use(ctx, runID, func(ctx context.Context, conn *pgx.Conn) error {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return s.fail(ctx, "tally", err)
		}
		defer tx.Rollback(context.Background())
		if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return s.fail(ctx, "tally", err)
		}
		var contiguous int64
		if err := tx.QueryRow(ctx, s.sql.lockRow, h.seq).Scan(&contiguous); err != nil {
			return s.fail(ctx, "tally", err)
		}
		if _, err := tx.Exec(ctx, s.sql.addCounts, h.seq, outcomes, ns); err != nil {
			return s.fail(ctx, "tally", err)
		}
		return s.fail(ctx, "tally", tx.Commit(ctx))
	})
}

// write runs one batch, on the run's lock connection, in a transaction that
// first locks the run's row, so
// that batches of a run apply one after another, then moves the run's
// gap-free prefix on when the batch may have extended it.
//
// A flushed batch (MarkInFlight) commits with synchronous_commit on: the
// mark is on disk before a request is sent. A settlement commits without
// waiting for the flush (synchronous_commit off): it survives this process
// dying, and is lost only if the server crashes within a few hundred
// milliseconds, when the row is still durably marked in flight and the
// resume looks it up in Clerk. This keeps the importer's settle rate from
// being the server's fsync rate.
//
// It also moves the run's counts: minus what the positions pos (ascending)
// held before, plus added (outcome -> rows, ” for in flight).
func (s *Store) write(ctx context.Context, h *heldRun, runID, op string, pos []int64, added map[string]int64, flush bool,
	batch func(context.Context, pgx.Tx) error) error {
	return h.use(ctx, runID, func(ctx context.Context, conn *pgx.Conn) error {
		tx, err := conn.Begin(ctx)
		if err != nil {
			return s.fail(ctx, op, err)
		}
		defer tx.Rollback(context.Background())
		if !flush {
			if _, err := tx.Exec(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
				return s.fail(ctx, op, err)
			}
		}
		seq := h.seq
		var contiguous int64
		if err := tx.QueryRow(ctx, s.sql.lockRow, seq).Scan(&contiguous); err != nil {
			return s.fail(ctx, op, err)
		}
		if err := s.count(ctx, tx, seq, pos, added); err != nil {
			return s.fail(ctx, op, err)
		}
		if err := batch(ctx, tx); err != nil {
			return s.fail(ctx, op, err)
		}
		if pos[0] <= contiguous+1 {
			if contiguous, err = s.advance(ctx, tx, seq, contiguous); err != nil {
				return s.fail(ctx, op, err)
			}
		}
		if _, err := tx.Exec(ctx, s.sql.setContiguous, seq, contiguous, now()); err != nil {
			return s.fail(ctx, op, err)
		}
		return s.fail(ctx, op, tx.Commit(ctx))
	})
}

// count moves the run's counts: minus what positions pos held, plus added.
func (s *Store) count(ctx context.Context, tx pgx.Tx, seq int64, pos []int64, added map[string]int64) error {
	rows, err := tx.Query(ctx, s.sql.oldCounts, seq, pos)
	if err != nil {
		return err
	}
	delta := make(map[string]int64, len(added)+2)
	for o, n := range added {
		delta[o] += n
	}
	err = ledger.CountsByKey(rows, delta, -1)
	rows.Close()
	if err != nil {
		return err
	}
	var outcomes []string
	var ns []int64
	for o, n := range delta {
		if n != 0 {
			outcomes, ns = append(outcomes, o), append(ns, n)
		}
	}
	if len(outcomes) == 0 {
		return nil
	}
	_, err = tx.Exec(ctx, s.sql.addCounts, seq, outcomes, ns)
	return err
}

// advance walks the positions after c, a page at a time, while they follow
// one another, and returns the end of the gap-free prefix.
func (s *Store) advance(ctx context.Context, tx pgx.Tx, seq, c int64) (int64, error) {
	const page = 4096
	for {
		rows, err := tx.Query(ctx, s.sql.nextPositions, seq, c, page)
		if err != nil {
			return c, err
		}
		start := c
		c, err = ledger.NextContiguous(c, func() (int64, bool, error) {
			if !rows.Next() {
				return 0, false, rows.Err()
			}
			var p int64
			err := rows.Scan(&p)
			return p, err == nil, err
		})
		rows.Close()
		if err != nil || c-start < page {
			return c, err
		}
	}
}

// rowFilter appends f's conditions to the Rows query.
func (s *Store) rowFilter(seq int64, f checkpoint.Filter) (string, []any) {
	var b strings.Builder
	b.WriteString(s.rowsQuery())
	args := []any{seq, f.FromPos}
	if f.InFlight {
		b.WriteString(` AND in_flight`)
	}
	if len(f.Outcomes) > 0 {
		outcomes := make([]string, len(f.Outcomes))
		for i, o := range f.Outcomes {
			outcomes[i] = string(o)
		}
		args = append(args, outcomes)
		b.WriteString(` AND outcome = ANY($` + strconv.Itoa(len(args)) + `::text[])`)
	}
	if f.Retryable != nil {
		args = append(args, string(checkpoint.Failed), *f.Retryable)
		b.WriteString(` AND outcome = $` + strconv.Itoa(len(args)-1) + ` AND retryable = $` + strconv.Itoa(len(args)))
	}
	b.WriteString(` ORDER BY pos`)
	return b.String(), args
}

// Rows calls fn for each row of the run matching f, ordered by position,
// a page at a time (see ledger.EachRow). fn may call the Store's other methods.
func (s *Store) Rows(ctx context.Context, runID string, f checkpoint.Filter, fn func(checkpoint.RowState) error) error {
	seq, err := s.runSeq(ctx, runID)
	if err != nil {
		return err
	}
	return ledger.EachRow(ctx, f, func(ctx context.Context, f checkpoint.Filter, page []checkpoint.RowState) ([]checkpoint.RowState, error) {
		return s.readPage(ctx, seq, f, page)
	}, fn)
}

// readPage appends to page the first ledger.PageSize rows matching f.
func (s *Store) readPage(ctx context.Context, seq int64, f checkpoint.Filter, page []checkpoint.RowState) ([]checkpoint.RowState, error) {
	q, args := s.rowFilter(seq, f)
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, s.fail(ctx, "rows", err)
	}
	defer tx.Rollback(context.Background())
	// Rows wants the first rows fast, in pos order: the primary key's order.
	// Without fresh statistics (a ledger written faster than autovacuum
	// analyses it) the planner may bitmap-scan the rest of the run and sort
	// it instead; with sorting disabled it walks the index.
	if _, err := tx.Exec(ctx, `SET LOCAL enable_sort = off`); err != nil {
		return nil, s.fail(ctx, "rows", err)
	}
	rows, err := tx.Query(ctx, q+` LIMIT `+strconv.Itoa(ledger.PageSize), args...)
	if err != nil {
		return nil, s.fail(ctx, "rows", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r checkpoint.RowState
		var outcome string
		var attempts int32
		if err := rows.Scan(&r.Pos, &r.Key, &r.InFlight, &outcome, &r.ClerkID, &r.ErrorCode, &r.Field, &r.Message,
			&attempts, &r.Retryable, &r.RequestHash, &r.UpdatedAt); err != nil {
			return nil, s.fail(ctx, "rows", err)
		}
		r.Outcome, r.Attempts, r.UpdatedAt = checkpoint.Outcome(outcome), int(attempts), r.UpdatedAt.UTC()
		page = append(page, r)
	}
	return page, s.fail(ctx, "rows", rows.Err())
}

// Progress counts the run's rows from one snapshot: the counts every write
// keeps, and two O(log n) look-ups for MaxSettledPos; it reads no ledger row.
func (s *Store) Progress(ctx context.Context, runID string) (checkpoint.Progress, error) {
	seq, err := s.runSeq(ctx, runID)
	if err != nil {
		return checkpoint.Progress{}, err
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return checkpoint.Progress{}, s.fail(ctx, "progress", err)
	}
	defer tx.Rollback(context.Background())
	var contiguous, firstInFlight int64
	if err := tx.QueryRow(ctx, s.sql.progressHead, seq).Scan(&contiguous, &firstInFlight); err != nil {
		return checkpoint.Progress{}, s.fail(ctx, "progress", err)
	}
	p := checkpoint.Progress{ByOutcome: map[checkpoint.Outcome]int64{}, MaxSettledPos: ledger.MaxSettled(contiguous, firstInFlight)}
	rows, err := tx.Query(ctx, s.sql.progressCounts, seq)
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
