package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/internal/ledger"
)

// upsertRows replaces the whole state of n positions of a run.
func upsertRows(n int) string {
	const row = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	return `INSERT OR REPLACE INTO ledger_rows
	(run, pos, key, in_flight, outcome, clerk_id, error_code, field, message, attempts, retryable, request_hash, updated_at)
	VALUES ` + row + strings.Repeat(", "+row, n-1)
}

// chunk is how many rows one INSERT writes; 13 parameters a row stay far
// below SQLite's limit of 32766.
const chunk = 128

// upsertChunk is upsertRows(chunk), built once.
var upsertChunk = upsertRows(chunk)

// MarkInFlight records rows of a run this Store holds as in flight, in one
// transaction; durable when it returns. A mark replaces whatever the
// position held before (a failed row being retried loses its old outcome).
func (s *Store) MarkInFlight(ctx context.Context, runID string, rows []checkpoint.Row) error {
	h, err := s.heldRun(ctx, runID)
	if err != nil {
		return err
	}
	seq := h.seq
	rows, err = ledger.InFlightRows(rows)
	if err != nil || len(rows) == 0 {
		return err
	}
	now := nowNanos()
	pos := make([]int64, len(rows))
	for i, r := range rows {
		pos[i] = r.Pos
	}
	added := map[string]int64{"": int64(len(rows))}
	return s.write(ctx, "mark in flight", h, pos, added, func(i int, args []any) []any {
		r := rows[i]
		return append(args, seq, r.Pos, r.Key, 1, "", "", "", "", "", 0, 0, r.RequestHash, now)
	})
}

// Settle records how rows of a run this Store holds ended, in one
// transaction, replacing any earlier state of the same positions; durable
// when it returns.
func (s *Store) Settle(ctx context.Context, runID string, settlements []checkpoint.Settlement) error {
	h, err := s.heldRun(ctx, runID)
	if err != nil {
		return err
	}
	seq := h.seq
	settlements, err = ledger.Settlements(settlements)
	if err != nil || len(settlements) == 0 {
		return err
	}
	now := nowNanos()
	pos := make([]int64, len(settlements))
	added := map[string]int64{}
	for i, x := range settlements {
		pos[i] = x.Pos
		added[string(x.Outcome)]++
	}
	return s.write(ctx, "settle", h, pos, added, func(i int, args []any) []any {
		x := settlements[i]
		return append(args, seq, x.Pos, x.Key, 0, string(x.Outcome), x.ClerkID, x.ErrorCode,
			x.Field, x.Message, x.Attempts, boolInt(x.Retryable), x.RequestHash, now)
	})
}

// write upserts the rows at positions pos (ascending), whose parameters
// args appends, in one transaction, chunk rows per statement; it moves the
// run's counts by what the rows held before and added (outcome -> rows, ""
// for in flight), and the run's gap-free prefix when the batch may have
// extended it.
//
// A batch of positions above every row the run has (a fresh run's every
// batch) takes a bulk path: nothing to look up or replace, so plain INSERTs
// of bigChunk rows, counts moved by added alone, and the gap-free prefix
// computed from the batch itself.
func (s *Store) write(ctx context.Context, op string, h *heldRun, pos []int64, added map[string]int64, args func(i int, dst []any) []any) error {
	seq := h.seq
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(ctx, op, err)
	}
	defer tx.Rollback()
	fresh := pos[0] > h.top // the transaction holds the one writer connection: h.top is current
	if fresh {
		err = countAdded(ctx, tx, seq, added)
	} else {
		err = count(ctx, tx, seq, pos, added)
	}
	if err != nil {
		return s.fail(ctx, op, err)
	}
	if fresh {
		err = insertFresh(ctx, tx, len(pos), args)
	} else {
		err = upsert(ctx, tx, len(pos), args)
	}
	if err != nil {
		return s.fail(ctx, op, err)
	}
	minPos := pos[0]
	var contiguous int64
	if err := tx.QueryRowContext(ctx, `SELECT contiguous_to FROM runs WHERE seq = ?`, seq).Scan(&contiguous); err != nil {
		return s.fail(ctx, op, err)
	}
	switch {
	case fresh && minPos == contiguous+1: // nothing above the batch: the prefix ends in it
		for _, p := range pos {
			if p != contiguous+1 {
				break
			}
			contiguous = p
		}
	case !fresh && minPos <= contiguous+1:
		if contiguous, err = advance(ctx, tx, seq, contiguous); err != nil {
			return s.fail(ctx, op, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET contiguous_to = ?, updated_at = ? WHERE seq = ?`,
		contiguous, nowNanos(), seq); err != nil {
		return s.fail(ctx, op, err)
	}
	h.top = max(h.top, pos[len(pos)-1]) // before the commit: a failed commit leaves it high, which is safe
	return s.fail(ctx, op, tx.Commit())
}

// countAdded moves the run's counts by added (rows that had no state).
func countAdded(ctx context.Context, tx *sql.Tx, seq int64, added map[string]int64) error {
	for o, n := range added {
		if n == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO run_counts (run, outcome, n) VALUES (?, ?, ?)
			ON CONFLICT (run, outcome) DO UPDATE SET n = n + excluded.n`, seq, o, n); err != nil {
			return err
		}
	}
	return nil
}

// bigChunk is how many rows one INSERT of the bulk path writes (13
// parameters a row: 6656, below SQLite's 32766).
const bigChunk = 512

// insertFresh writes n rows no position of which has a row yet.
func insertFresh(ctx context.Context, tx *sql.Tx, n int, args func(i int, dst []any) []any) error {
	return insertChunks(ctx, tx, n, bigChunk, insertChunk, insertRows, args)
}

// insertRows inserts n rows that are new.
func insertRows(n int) string {
	return strings.Replace(upsertRows(n), "INSERT OR REPLACE INTO", "INSERT INTO", 1)
}

// insertChunk is insertRows(bigChunk), built once.
var insertChunk = insertRows(bigChunk)

// count moves the run's counts: minus what positions pos held, plus added.
func count(ctx context.Context, tx *sql.Tx, seq int64, pos []int64, added map[string]int64) error {
	list, err := json.Marshal(pos)
	if err != nil {
		return err
	}
	// CROSS JOIN keeps json_each outside: one primary-key look-up per
	// position, never a scan of the run.
	rows, err := tx.QueryContext(ctx, `SELECT r.outcome, count(*) FROM json_each(?1) AS j CROSS JOIN ledger_rows AS r
		WHERE r.run = ?2 AND r.pos = j.value GROUP BY r.outcome`, string(list), seq)
	if err != nil {
		return err
	}
	delta := make(map[string]int64, len(added)+2)
	for o, n := range added {
		delta[o] += n
	}
	for rows.Next() {
		var o string
		var n int64
		if err := rows.Scan(&o, &n); err != nil {
			rows.Close()
			return err
		}
		delta[o] -= n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for o, n := range delta {
		if n == 0 {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO run_counts (run, outcome, n) VALUES (?, ?, ?)
			ON CONFLICT (run, outcome) DO UPDATE SET n = n + excluded.n`, seq, o, n); err != nil {
			return err
		}
	}
	return nil
}

// upsert writes n rows through at most two prepared statements.
func upsert(ctx context.Context, tx *sql.Tx, n int, args func(i int, dst []any) []any) error {
	return insertChunks(ctx, tx, n, chunk, upsertChunk, upsertRows, args)
}

// insertChunks runs n rows through the statement of size rows (fullSQL),
// and the rest through one statement of rowsSQL(rest).
func insertChunks(ctx context.Context, tx *sql.Tx, n, size int, fullSQL string, rowsSQL func(int) string,
	args func(i int, dst []any) []any) error {
	var full *sql.Stmt
	buf := make([]any, 0, 13*min(n, size))
	i := 0
	for ; n-i >= size; i += size {
		if full == nil {
			var err error
			if full, err = tx.PrepareContext(ctx, fullSQL); err != nil {
				return err
			}
			defer full.Close()
		}
		buf = buf[:0]
		for j := i; j < i+size; j++ {
			buf = args(j, buf)
		}
		if _, err := full.ExecContext(ctx, buf...); err != nil {
			return err
		}
	}
	if i == n {
		return nil
	}
	buf = buf[:0]
	for j := i; j < n; j++ {
		buf = args(j, buf)
	}
	_, err := tx.ExecContext(ctx, rowsSQL(n-i), buf...)
	return err
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

// rowsPage is how many rows Rows reads per query.
const rowsPage = 1000

// Rows calls fn for each row of the run matching f, ordered by position,
// streaming a page of rows at a time, each page a short read, so that a
// Rows walking a run for hours never pins the WAL: a row written meanwhile
// shows its newest state when its page is read. fn may call the Store's
// other methods.
func (s *Store) Rows(ctx context.Context, runID string, f checkpoint.Filter, fn func(checkpoint.RowState) error) error {
	seq, err := s.runSeq(ctx, runID)
	if err != nil {
		return err
	}
	page := make([]checkpoint.RowState, 0, rowsPage)
	for {
		if page, err = s.readPage(ctx, seq, f, page[:0]); err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if len(page) < rowsPage {
			return nil
		}
		f.FromPos = page[len(page)-1].Pos + 1
	}
}

// readPage appends to page the first rowsPage rows matching f.
func (s *Store) readPage(ctx context.Context, seq int64, f checkpoint.Filter, page []checkpoint.RowState) ([]checkpoint.RowState, error) {
	q, args := rowQuery(seq, f)
	rows, err := s.reader.QueryContext(ctx, q+` LIMIT ?`, append(args, rowsPage)...)
	if err != nil {
		return nil, s.fail(ctx, "rows", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r checkpoint.RowState
		var inFlight, retryable int
		var outcome string
		var updated int64
		if err := rows.Scan(&r.Pos, &r.Key, &inFlight, &outcome, &r.ClerkID, &r.ErrorCode, &r.Field, &r.Message,
			&r.Attempts, &retryable, &r.RequestHash, &updated); err != nil {
			return nil, s.fail(ctx, "rows", err)
		}
		r.InFlight, r.Retryable = inFlight == 1, retryable == 1
		r.Outcome, r.UpdatedAt = checkpoint.Outcome(outcome), fromNanos(updated)
		page = append(page, r)
	}
	return page, s.fail(ctx, "rows", rows.Err())
}

// Progress counts the run's rows: the counts every write keeps, and two
// O(log n) look-ups for MaxSettledPos; it reads no ledger row.
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
	rows, err := tx.QueryContext(ctx, `SELECT outcome, n FROM run_counts WHERE run = ? AND n <> 0`, seq)
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
