package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/checkpoint/internal/ledger"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

var _ checkpoint.ClerkIndex = (*Store)(nil)

// Lookups by external id name their index: without statistics the planner
// would rather walk the scope's whole primary key than probe it.

// indexChunk bounds the values bound in one IN (...) list.
const indexChunk = 500

// Kinds of clerk_marks rows.
const (
	markListed = 1
	markSeen   = 2
)

// ResetIndex forgets the scope's users, their addresses, its marks and its
// state.
func (s *Store) ResetIndex(ctx context.Context, scope string) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	return s.inTx(ctx, "index: reset", func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM clerk_index WHERE scope = ?`, `DELETE FROM clerk_index_emails WHERE scope = ?`,
			`DELETE FROM clerk_marks WHERE scope = ?`, `DELETE FROM clerk_index_state WHERE scope = ?`} {
			if _, err := tx.ExecContext(ctx, q, scope); err != nil {
				return err
			}
		}
		return nil
	})
}

// IndexState reads the scope's state; the zero state when it has none.
func (s *Store) IndexState(ctx context.Context, scope string) (checkpoint.IndexState, error) {
	var st checkpoint.IndexState
	if err := s.usable(ctx); err != nil {
		return st, err
	}
	err := s.reader.QueryRowContext(ctx, `SELECT version, high_water FROM clerk_index_state WHERE scope = ?`, scope).
		Scan(&st.Version, &st.HighWater)
	if err == sql.ErrNoRows {
		return checkpoint.IndexState{}, nil
	}
	return st, wrap("index: state", err)
}

// SetIndexState records the scope's state.
func (s *Store) SetIndexState(ctx context.Context, scope string, st checkpoint.IndexState) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	_, err := s.writer.ExecContext(ctx, `INSERT OR REPLACE INTO clerk_index_state (scope, version, high_water) VALUES (?, ?, ?)`,
		scope, st.Version, st.HighWater)
	return wrap("index: set state", err)
}

// UpdatedAts reads the recorded updated_at of these users.
func (s *Store) UpdatedAts(ctx context.Context, scope string, clerkIDs []string) (map[string]int64, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(clerkIDs))
	for start := 0; start < len(clerkIDs); start += indexChunk {
		chunk := clerkIDs[start:min(len(clerkIDs), start+indexChunk)]
		rows, err := s.reader.QueryContext(ctx, `SELECT clerk_id, updated_at FROM clerk_index WHERE scope = ? AND clerk_id IN (`+
			placeholders(len(chunk))+`)`, withScope(scope, chunk)...)
		if err != nil {
			return nil, wrap("index: updated_at", err)
		}
		for rows.Next() {
			var id string
			var at int64
			if err := rows.Scan(&id, &at); err != nil {
				rows.Close()
				return nil, wrap("index: updated_at", err)
			}
			out[id] = at
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap("index: updated_at", err)
		}
	}
	return out, nil
}

// withScope is the arguments scope, keys...
func withScope(scope string, keys []string) []any {
	args := make([]any, 0, len(keys)+1)
	args = append(args, scope)
	for _, k := range keys {
		args = append(args, k)
	}
	return args
}

// PutUsers inserts or replaces users with their addresses.
func (s *Store) PutUsers(ctx context.Context, scope string, users []checkpoint.IndexedUser) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	return s.inTx(ctx, "index: put users", func(tx *sql.Tx) error {
		putUser, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO clerk_index
			(scope, clerk_id, external_id, updated_at, state, seen) VALUES (?, ?, ?, ?, ?, 0)`)
		if err != nil {
			return err
		}
		defer putUser.Close()
		dropEmails, err := tx.PrepareContext(ctx, `DELETE FROM clerk_index_emails WHERE scope = ? AND clerk_id = ?`)
		if err != nil {
			return err
		}
		defer dropEmails.Close()
		putEmail, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO clerk_index_emails (scope, email, clerk_id) VALUES (?, ?, ?)`)
		if err != nil {
			return err
		}
		defer putEmail.Close()
		for _, u := range users {
			var ext any
			if u.ExternalID != "" {
				ext = u.ExternalID
			}
			if _, err := putUser.ExecContext(ctx, scope, u.ClerkID, ext, u.UpdatedAt, u.State); err != nil {
				return err
			}
			if _, err := dropEmails.ExecContext(ctx, scope, u.ClerkID); err != nil {
				return err
			}
			for _, e := range u.Emails {
				if _, err := putEmail.ExecContext(ctx, scope, strings.ToLower(e), u.ClerkID); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// UsersByExternalID looks users up by external id.
func (s *Store) UsersByExternalID(ctx context.Context, scope string, externalIDs []string) (map[string]checkpoint.IndexedUser, error) {
	out := map[string]checkpoint.IndexedUser{}
	err := s.lookup(ctx, "index: users by external id", externalIDs, func(n int) string {
		return `SELECT external_id, clerk_id, coalesce(external_id, ''), updated_at, state
			FROM clerk_index INDEXED BY clerk_index_external_id
			WHERE scope = ? AND external_id IN (` + placeholders(n) + `)`
	}, scope, func(k string, u checkpoint.IndexedUser) { out[k] = u })
	return out, err
}

// UsersByEmail looks users up by any of their email addresses.
func (s *Store) UsersByEmail(ctx context.Context, scope string, emails []string) (map[string]checkpoint.IndexedUser, error) {
	lower := make([]string, len(emails))
	for i, e := range emails {
		lower[i] = strings.ToLower(e)
	}
	out := map[string]checkpoint.IndexedUser{}
	err := s.lookup(ctx, "index: users by email", lower, func(n int) string {
		return `SELECT e.email, u.clerk_id, coalesce(u.external_id, ''), u.updated_at, u.state
			FROM clerk_index_emails e JOIN clerk_index u ON u.scope = e.scope AND u.clerk_id = e.clerk_id
			WHERE e.scope = ? AND e.email IN (` + placeholders(n) + `)`
	}, scope, func(k string, u checkpoint.IndexedUser) { out[k] = u })
	return out, err
}

// lookup runs query over keys in chunks; each row is (key, user columns).
func (s *Store) lookup(ctx context.Context, op string, keys []string, query func(n int) string, scope string,
	emit func(string, checkpoint.IndexedUser)) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	for start := 0; start < len(keys); start += indexChunk {
		chunk := keys[start:min(len(keys), start+indexChunk)]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, scope)
		for _, k := range chunk {
			args = append(args, k)
		}
		rows, err := s.reader.QueryContext(ctx, query(len(chunk)), args...)
		if err != nil {
			return wrap(op, err)
		}
		for rows.Next() {
			var key string
			u, err := scanIndexed(rows, &key)
			if err != nil {
				rows.Close()
				return wrap(op, err)
			}
			emit(key, u)
		}
		if err := rows.Close(); err != nil {
			return wrap(op, err)
		}
		if err := rows.Err(); err != nil {
			return wrap(op, err)
		}
	}
	return nil
}

// scanIndexed reads (extra..., clerk_id, external_id, updated_at, state).
func scanIndexed(rows *sql.Rows, extra ...any) (checkpoint.IndexedUser, error) {
	var u checkpoint.IndexedUser
	dst := append(extra, &u.ClerkID, &u.ExternalID, &u.UpdatedAt, &u.State)
	err := rows.Scan(dst...)
	return u, err
}

// ClearMarks forgets the scope's listed and seen marks.
func (s *Store) ClearMarks(ctx context.Context, scope string) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	_, err := s.writer.ExecContext(ctx, `DELETE FROM clerk_marks WHERE scope = ?`, scope)
	return wrap("index: clear marks", err)
}

// MarkListed appends listed marks.
func (s *Store) MarkListed(ctx context.Context, scope string, clerkIDs []string) error {
	return s.mark(ctx, "index: mark listed", scope, markListed, clerkIDs)
}

// MarkSeen appends seen marks.
func (s *Store) MarkSeen(ctx context.Context, scope string, externalIDs []string) error {
	return s.mark(ctx, "index: mark seen", scope, markSeen, externalIDs)
}

// mark appends marks of kind in one transaction.
func (s *Store) mark(ctx context.Context, op, scope string, kind int, values []string) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	if len(values) == 0 {
		return nil
	}
	return s.inTx(ctx, op, func(tx *sql.Tx) error {
		for start := 0; start < len(values); start += indexChunk {
			chunk := values[start:min(len(values), start+indexChunk)]
			args := make([]any, 0, 2+len(chunk))
			args = append(args, scope, kind)
			for _, v := range chunk {
				args = append(args, v)
			}
			q := `INSERT INTO clerk_marks (scope, kind, value) SELECT ?1, ?2, column1 FROM (VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?), ", len(chunk)), ", ") + `)`
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// marked is the subquery of the scope's marks of a kind: bound to (scope, kind).
const marked = `(SELECT value FROM clerk_marks WHERE scope = ? AND kind = ?)`

// DropUnlisted forgets the users not marked listed, and their addresses.
func (s *Store) DropUnlisted(ctx context.Context, scope string) (int64, error) {
	if err := s.usable(ctx); err != nil {
		return 0, err
	}
	var n int64
	err := s.inTx(ctx, "index: drop unlisted", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM clerk_index_emails WHERE scope = ? AND clerk_id NOT IN `+marked,
			scope, scope, markListed); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM clerk_index WHERE scope = ? AND clerk_id NOT IN `+marked, scope, scope, markListed)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// CountUnseen counts the users not marked seen, owned and not.
func (s *Store) CountUnseen(ctx context.Context, scope string) (checkpoint.UnseenCounts, error) {
	return ledger.CountUnseen(ctx, scope, s.Unseen)
}

// Unseen streams the users whose external id is not marked seen, by
// ClerkID, each with its owning run (see ledger.SetOwners). One query
// yields them (SQLite builds the marks' lookup once, for the statement),
// resolved a page at a time.
func (s *Store) Unseen(ctx context.Context, scope string, fn func(checkpoint.IndexedUser) error) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	runs, err := s.owningRuns(ctx, scope)
	if err != nil {
		return err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT clerk_id, coalesce(external_id, ''), updated_at, state FROM clerk_index
		WHERE scope = ? AND (external_id IS NULL OR external_id NOT IN `+marked+`) ORDER BY clerk_id`, scope, scope, markSeen)
	if err != nil {
		return wrap("index: unseen", err)
	}
	defer rows.Close()
	page := make([]checkpoint.IndexedUser, 0, indexChunk)
	flush := func() error {
		if len(page) > 0 && len(runs) > 0 {
			owners, err := s.ownerRows(ctx, ledger.ClerkIDs(page))
			if err != nil {
				return err
			}
			ledger.SetOwners(page, runs, owners)
		}
		for _, u := range page {
			if err := fn(u); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		page = page[:0]
		return nil
	}
	for rows.Next() {
		u, err := scanIndexed(rows)
		if err != nil {
			return wrap("index: unseen", err)
		}
		if page = append(page, u); len(page) == indexChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return wrap("index: unseen", err)
	}
	return flush()
}

// Owners returns the owning run of each of users this ledger owns in scope.
func (s *Store) Owners(ctx context.Context, scope string, users []checkpoint.IndexedUser) (map[string]string, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	if len(users) == 0 {
		return map[string]string{}, nil
	}
	runs, err := s.owningRuns(ctx, scope)
	if err != nil {
		return nil, err
	}
	return ledger.Owners(users, indexChunk, runs, func(ids []string) ([]ledger.OwnerRow, error) { return s.ownerRows(ctx, ids) })
}

// owningRuns are the runs that own users in scope (ledger.OwningRunsQuery).
func (s *Store) owningRuns(ctx context.Context, scope string) (map[int64]string, error) {
	rows, err := s.reader.QueryContext(ctx, ledger.OwningRunsQuery(func(t string) string { return t }, func() string { return "?" }),
		ledger.OwningRunsArgs(scope)...)
	if err != nil {
		return nil, wrap("index: owning runs", err)
	}
	defer rows.Close()
	runs, err := ledger.OwningRuns(rows)
	return runs, wrap("index: owning runs", err)
}

// ownerRows are the ledger rows that may own these users (ledger.OwnerRowsQuery).
func (s *Store) ownerRows(ctx context.Context, clerkIDs []string) ([]ledger.OwnerRow, error) {
	rows, err := s.reader.QueryContext(ctx,
		ledger.OwnerRowsQuery("ledger_rows", "INDEXED BY ledger_rows_clerk_id", func() string { return "?" }, len(clerkIDs)),
		ledger.OwnerRowsArgs(clerkIDs)...)
	if err != nil {
		return nil, wrap("index: owner rows", err)
	}
	defer rows.Close()
	out, err := ledger.OwnerRows(rows)
	return out, wrap("index: owner rows", err)
}

// Fingerprints returns the recorded fingerprints of these external ids.
func (s *Store) Fingerprints(ctx context.Context, scope string, externalIDs []string) (map[string]map[string]string, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	for start := 0; start < len(externalIDs); start += indexChunk {
		chunk := externalIDs[start:min(len(externalIDs), start+indexChunk)]
		args := make([]any, 0, len(chunk)+1)
		args = append(args, scope)
		for _, k := range chunk {
			args = append(args, k)
		}
		rows, err := s.reader.QueryContext(ctx, `SELECT external_id, prints FROM clerk_user_prints
			WHERE scope = ? AND external_id IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return nil, wrap("index: fingerprints", err)
		}
		for rows.Next() {
			var ext, prints string
			if err := rows.Scan(&ext, &prints); err != nil {
				rows.Close()
				return nil, wrap("index: fingerprints", err)
			}
			m, err := ledger.DecodePrints(prints)
			if err != nil {
				rows.Close()
				return nil, wrap("index: fingerprints of "+strconv.Quote(ext), err)
			}
			if len(m) > 0 {
				out[ext] = m
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap("index: fingerprints", err)
		}
	}
	return out, nil
}

// PutFingerprints records fingerprints in one transaction: one row a user,
// whose groups a put replaces one by one (json_patch).
func (s *Store) PutFingerprints(ctx context.Context, scope string, fps []checkpoint.Fingerprint) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	users := ledger.GroupPrints(fps)
	return s.inTx(ctx, "index: put fingerprints", func(tx *sql.Tx) error {
		// Up to printsPerInsert users a statement: a statement's own cost
		// was most of a row's.
		args := make([]any, 0, 3*min(len(users), printsPerInsert))
		for len(users) > 0 {
			n := min(len(users), printsPerInsert)
			args = args[:0]
			for _, u := range users[:n] {
				args = append(args, scope, u.ExternalID, u.Prints)
			}
			q := `INSERT INTO clerk_user_prints (scope, external_id, prints) VALUES ` +
				strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", n), ", ") +
				` ON CONFLICT (scope, external_id) DO UPDATE SET prints = json_patch(prints, excluded.prints)`
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return err
			}
			users = users[n:]
		}
		return nil
	})
}

// printsPerInsert is how many users' fingerprints one INSERT of
// PutFingerprints writes (3 bound values each, well under SQLite's limit
// of 32,766).
const printsPerInsert = 256

// inTx runs fn in one write transaction.
func (s *Store) inTx(ctx context.Context, op string, fn func(*sql.Tx) error) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return wrap(op, err)
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return wrap(op, err)
	}
	return wrap(op, tx.Commit())
}

// placeholders is "?, ?, ..." n times.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
