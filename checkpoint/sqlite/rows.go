package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/internal/ledger"
)

// columns are ledger_rows' columns in the order every INSERT lists them.
const columns = `(run, pos, key, in_flight, outcome, clerk_id, error_code, field, message, attempts, retryable, request_hash, updated_at)`

// fullRows is the INSERT (or INSERT OR REPLACE) of n rows binding all 13
// columns of each.
func fullRows(replace bool, n int) string {
	const row = `(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	return insertVerb(replace) + ` INTO ledger_rows ` + columns + ` VALUES ` + row + strings.Repeat(", "+row, n-1)
}

// slimRows is the INSERT (or INSERT OR REPLACE) of n rows that differ only
// in pos and key: ?1 run, ?2 updated_at, ?3 in_flight and ?4 outcome are
// shared, and every other column is empty. Two parameters a row instead of
// 13: binding (a C string allocated and freed per text parameter in
// modernc's driver) was a third of a write's cost. The numbered parameters
// come first so that each row's "?" get the next numbers (5, 6, 7, ...);
// only the shared ones have names, because SQLite looks a name up by a
// linear scan of the named parameters, for every parameter bound.
func slimRows(replace bool, n int) string {
	const row = `(?1, ?2, ?3, ?4, ?, ?, '', '', '', '', 0, 0, '')`
	return insertVerb(replace) + ` INTO ledger_rows
	(run, updated_at, in_flight, outcome, pos, key, clerk_id, error_code, field, message, attempts, retryable, request_hash)
	VALUES ` + row + strings.Repeat(", "+row, n-1)
}

func insertVerb(replace bool) string {
	if replace {
		return "INSERT OR REPLACE"
	}
	return "INSERT"
}

// rowValues are one row's columns but run and updated_at, which a write
// shares.
type rowValues struct {
	pos                                int64
	key                                string
	inFlight                           int
	outcome                            string
	clerkID, errorCode, field, message string
	attempts, retryable                int
	requestHash                        string
}

// slim reports whether every column but pos, key, in_flight and outcome is
// empty (a dry run's valid row), so the row can go through a slim statement.
func (r *rowValues) slim() bool {
	return r.clerkID == "" && r.errorCode == "" && r.field == "" && r.message == "" &&
		r.attempts == 0 && r.retryable == 0 && r.requestHash == ""
}

// MarkInFlight records rows of a run this Store holds as in flight, in one
// transaction; durable when it returns. A mark replaces whatever the
// position held before (a failed row being retried loses its old outcome).
func (s *Store) MarkInFlight(ctx context.Context, runID string, rows []checkpoint.Row) error {
	h, err := s.heldRun(ctx, runID)
	if err != nil {
		return err
	}
	rows, err = ledger.InFlightRows(rows)
	if err != nil || len(rows) == 0 {
		return err
	}
	pos := make([]int64, len(rows))
	for i, r := range rows {
		pos[i] = r.Pos
	}
	added := map[string]int64{"": int64(len(rows))}
	return s.write(ctx, "mark in flight", h, pos, added, func(i int) rowValues {
		r := &rows[i]
		return rowValues{pos: r.Pos, key: r.Key, inFlight: 1, requestHash: r.RequestHash}
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
	settlements, err = orderedSettlements(settlements)
	if err != nil || len(settlements) == 0 {
		return err
	}
	pos := make([]int64, len(settlements))
	added := map[string]int64{}
	for i := range settlements {
		x := &settlements[i]
		pos[i] = x.Pos
		added[string(x.Outcome)]++
	}
	return s.write(ctx, "settle", h, pos, added, func(i int) rowValues {
		x := &settlements[i]
		return rowValues{pos: x.Pos, key: x.Key, outcome: string(x.Outcome), clerkID: x.ClerkID,
			errorCode: x.ErrorCode, field: x.Field, message: x.Message, attempts: x.Attempts,
			retryable: boolInt(x.Retryable), requestHash: x.RequestHash}
	})
}

// Tally adds counts to a run this Store holds, with no row
// (checkpoint.Tallier).
func (s *Store) Tally(ctx context.Context, runID string, counts map[checkpoint.Outcome]int64) error {
	h, err := s.heldRun(ctx, runID)
	if err != nil {
		return err
	}
	added := map[string]int64{}
	for o, n := range counts {
		if o == "" || n < 0 {
			return fmt.Errorf("checkpoint/sqlite: tally: %d rows of outcome %q", n, o)
		}
		added[string(o)] += n
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return s.fail(ctx, "tally", err)
	}
	defer tx.Rollback()
	if err := countAdded(ctx, tx, h.seq, added); err != nil {
		return s.fail(ctx, "tally", err)
	}
	return s.fail(ctx, "tally", tx.Commit())
}

// orderedSettlements is ledger.Settlements without its copy, map and sort
// when the batch is already valid and strictly ascending (as the importer
// and the dry run hand it over); any other batch goes to ledger.Settlements,
// which orders it or names the bad item.
func orderedSettlements(s []checkpoint.Settlement) ([]checkpoint.Settlement, error) {
	var last int64
	for i := range s {
		x := &s[i]
		if x.Pos <= last || x.Outcome == "" || x.Attempts < 0 {
			return ledger.Settlements(s)
		}
		last = x.Pos
	}
	return s, nil
}

// write upserts the rows at positions pos (ascending), whose columns row
// returns, in one transaction; it moves the run's counts by what the rows
// held before and added (outcome -> rows, "" for in flight), and the run's
// gap-free prefix when the batch may have extended it.
//
// A batch of positions above every row the run has (a fresh run's every
// batch) takes a bulk path: nothing to look up or replace, so plain INSERTs,
// counts moved by added alone, and the gap-free prefix computed from the
// batch itself.
func (s *Store) write(ctx context.Context, op string, h *heldRun, pos []int64, added map[string]int64, row func(i int) rowValues) error {
	seq := h.seq
	groups, full := groupRows(len(pos), row)
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
	ins := &inserter{s: s, tx: tx, replace: !fresh, seq: seq, now: nowNanos()}
	for _, g := range groups {
		if err := ins.slim(ctx, g, row); err != nil {
			return s.fail(ctx, op, err)
		}
	}
	if err := ins.full(ctx, full, row); err != nil {
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
	if err := tx.Commit(); err != nil {
		return s.fail(ctx, op, err)
	}
	s.prepareWanted(ctx, ins.wanted)
	return nil
}

// slimGroup is the slim rows of a batch sharing in_flight and outcome.
type slimGroup struct {
	inFlight int
	outcome  string
	idx      []int
}

// groupRows splits a batch's n rows into slim groups and the rest (full).
func groupRows(n int, row func(i int) rowValues) (groups []slimGroup, full []int) {
	for i := range n {
		r := row(i)
		if !r.slim() {
			full = append(full, i)
			continue
		}
		g := -1
		for j := range groups {
			if groups[j].inFlight == r.inFlight && groups[j].outcome == r.outcome {
				g = j
				break
			}
		}
		if g < 0 {
			groups = append(groups, slimGroup{inFlight: r.inFlight, outcome: r.outcome, idx: make([]int, 0, n-i)})
			g = len(groups) - 1
		}
		groups[g].idx = append(groups[g].idx, i)
	}
	return groups, full
}

// stmtKey names a cached statement: its shape and how many rows it writes.
type stmtKey struct {
	slim, replace bool
	rows          int
}

// The most rows one statement writes: slim rows bind 2 parameters, full
// rows 13 (6656 at 512, below SQLite's 32766).
const (
	maxSlimRows = 1024
	maxFullRows = 512
)

// inserter runs one transaction's INSERTs through statements the Store
// keeps prepared on the writer connection across transactions; a statement
// not prepared yet is prepared in the transaction and wanted afterwards.
type inserter struct {
	s        *Store
	tx       *sql.Tx
	replace  bool
	seq, now int64
	args     []any
	wanted   []stmtKey
}

// slim writes a group of slim rows, in statements of maxSlimRows rows, then
// of the powers of two that make up the rest (so every statement is one of
// a few, prepared once).
func (in *inserter) slim(ctx context.Context, g slimGroup, row func(i int) rowValues) error {
	return in.chunks(ctx, true, g.idx, maxSlimRows, func(args []any) []any {
		return append(args, in.seq, in.now, g.inFlight, g.outcome)
	}, func(args []any, i int) []any {
		r := row(i)
		return append(args, r.pos, r.key)
	})
}

// full writes rows that bind every column.
func (in *inserter) full(ctx context.Context, idx []int, row func(i int) rowValues) error {
	return in.chunks(ctx, false, idx, maxFullRows, func(args []any) []any { return args }, func(args []any, i int) []any {
		r := row(i)
		return append(args, in.seq, r.pos, r.key, r.inFlight, r.outcome, r.clerkID, r.errorCode,
			r.field, r.message, r.attempts, r.retryable, r.requestHash, in.now)
	})
}

func (in *inserter) chunks(ctx context.Context, slim bool, idx []int, most int,
	shared func([]any) []any, rowArgs func([]any, int) []any) error {
	for len(idx) > 0 {
		n := most
		for n > len(idx) {
			n >>= 1
		}
		st, err := in.stmt(ctx, stmtKey{slim: slim, replace: in.replace, rows: n})
		if err != nil {
			return err
		}
		args := shared(in.args[:0])
		for _, i := range idx[:n] {
			args = rowArgs(args, i)
		}
		_, err = st.ExecContext(ctx, args...)
		clear(args)
		in.args = args[:0]
		if err != nil {
			return err
		}
		idx = idx[n:]
	}
	return nil
}

// stmt returns the statement k for this transaction.
func (in *inserter) stmt(ctx context.Context, k stmtKey) (*sql.Stmt, error) {
	in.s.stmtMu.Lock()
	st := in.s.stmts[k]
	in.s.stmtMu.Unlock()
	if st != nil {
		return in.tx.StmtContext(ctx, st), nil
	}
	in.wanted = append(in.wanted, k)
	return in.tx.PrepareContext(ctx, k.sql())
}

func (k stmtKey) sql() string {
	if k.slim {
		return slimRows(k.replace, k.rows)
	}
	return fullRows(k.replace, k.rows)
}

// prepareWanted prepares on the writer connection the statements a
// transaction lacked, for the next ones; a failure only means the next
// transaction prepares them again.
func (s *Store) prepareWanted(ctx context.Context, keys []stmtKey) {
	for _, k := range keys {
		s.stmtMu.Lock()
		have := s.stmts[k] != nil
		s.stmtMu.Unlock()
		if have {
			continue
		}
		st, err := s.writer.PrepareContext(ctx, k.sql())
		if err != nil {
			continue
		}
		s.stmtMu.Lock()
		if s.stmts[k] == nil && !s.stmtsClosed {
			s.stmts[k], st = st, nil
		}
		s.stmtMu.Unlock()
		if st != nil {
			st.Close()
		}
	}
}

// closeStmts closes the cached statements.
func (s *Store) closeStmts() {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	for k, st := range s.stmts {
		st.Close()
		delete(s.stmts, k)
	}
	s.stmtsClosed = true
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
	err = ledger.CountsByKey(rows, delta, -1)
	rows.Close()
	if err != nil {
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
	q, args := rowQuery(seq, f)
	rows, err := s.reader.QueryContext(ctx, q+` LIMIT ?`, append(args, ledger.PageSize)...)
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
