package sqlite

import (
	"context"
	"database/sql"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/checkpoint/internal/ledger"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

var _ checkpoint.ClerkIndex = (*Store)(nil)

// Lookups by external id name their index: without statistics the planner
// would rather walk the scope's whole primary key than probe it.

// indexChunk bounds the values bound in one IN (...) list.
const indexChunk = 500

// ResetIndex forgets the scope's users and their addresses.
func (s *Store) ResetIndex(ctx context.Context, scope string) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	return s.inTx(ctx, "index: reset", func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM clerk_index WHERE scope = ?`, `DELETE FROM clerk_index_emails WHERE scope = ?`} {
			if _, err := tx.ExecContext(ctx, q, scope); err != nil {
				return err
			}
		}
		return nil
	})
}

// PutUsers inserts or replaces users, unseen, with their addresses.
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
		return `SELECT external_id, clerk_id, coalesce(external_id, ''), updated_at, state, seen
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
		return `SELECT e.email, u.clerk_id, coalesce(u.external_id, ''), u.updated_at, u.state, u.seen
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

// scanIndexed reads (extra..., clerk_id, external_id, updated_at, state, seen).
func scanIndexed(rows *sql.Rows, extra ...any) (checkpoint.IndexedUser, error) {
	var u checkpoint.IndexedUser
	var seen int
	dst := append(extra, &u.ClerkID, &u.ExternalID, &u.UpdatedAt, &u.State, &seen)
	if err := rows.Scan(dst...); err != nil {
		return u, err
	}
	u.Seen = seen != 0
	return u, nil
}

// MarkSeen marks the users holding these external ids seen.
func (s *Store) MarkSeen(ctx context.Context, scope string, externalIDs []string) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	return s.inTx(ctx, "index: mark seen", func(tx *sql.Tx) error {
		for start := 0; start < len(externalIDs); start += indexChunk {
			chunk := externalIDs[start:min(len(externalIDs), start+indexChunk)]
			args := make([]any, 0, len(chunk)+1)
			args = append(args, scope)
			for _, k := range chunk {
				args = append(args, k)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE clerk_index INDEXED BY clerk_index_external_id SET seen = 1
				WHERE scope = ? AND external_id IN (`+
				placeholders(len(chunk))+`)`, args...); err != nil {
				return err
			}
		}
		return nil
	})
}

// CountUnseen counts the users not marked seen, owned and not.
func (s *Store) CountUnseen(ctx context.Context, scope string) (checkpoint.UnseenCounts, error) {
	return ledger.CountUnseen(ctx, scope, s.Unseen)
}

// Unseen streams the users not marked seen, by ClerkID, a page at a time,
// each with its owning run (see ledger.SetOwners).
func (s *Store) Unseen(ctx context.Context, scope string, fn func(checkpoint.IndexedUser) error) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	runs, err := s.owningRuns(ctx, scope)
	if err != nil {
		return err
	}
	return ledger.EachPage(ctx, indexChunk, func(after string) ([]checkpoint.IndexedUser, error) {
		return s.unseenPage(ctx, scope, after, runs)
	}, func(u checkpoint.IndexedUser) string { return u.ClerkID }, fn)
}

func (s *Store) unseenPage(ctx context.Context, scope, after string, runs map[int64]string) ([]checkpoint.IndexedUser, error) {
	rows, err := s.reader.QueryContext(ctx, `SELECT clerk_id, coalesce(external_id, ''), updated_at, state, seen
		FROM clerk_index INDEXED BY clerk_index_not_seen
		WHERE scope = ? AND seen = 0 AND clerk_id > ? ORDER BY clerk_id LIMIT ?`, scope, after, indexChunk)
	if err != nil {
		return nil, wrap("index: unseen", err)
	}
	defer rows.Close()
	var page []checkpoint.IndexedUser
	for rows.Next() {
		u, err := scanIndexed(rows)
		if err != nil {
			return nil, wrap("index: unseen", err)
		}
		page = append(page, u)
	}
	if err := rows.Err(); err != nil || len(page) == 0 || len(runs) == 0 {
		return page, wrap("index: unseen", err)
	}
	owners, err := s.ownerRows(ctx, ledger.ClerkIDs(page))
	ledger.SetOwners(page, runs, owners)
	return page, err
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
		rows, err := s.reader.QueryContext(ctx, `SELECT external_id, grp, value FROM clerk_fingerprints
			WHERE scope = ? AND external_id IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return nil, wrap("index: fingerprints", err)
		}
		for rows.Next() {
			var ext, grp, v string
			if err := rows.Scan(&ext, &grp, &v); err != nil {
				rows.Close()
				return nil, wrap("index: fingerprints", err)
			}
			if out[ext] == nil {
				out[ext] = map[string]string{}
			}
			out[ext][grp] = v
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, wrap("index: fingerprints", err)
		}
	}
	return out, nil
}

// PutFingerprints records fingerprints in one transaction.
func (s *Store) PutFingerprints(ctx context.Context, scope string, fps []checkpoint.Fingerprint) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	return s.inTx(ctx, "index: put fingerprints", func(tx *sql.Tx) error {
		st, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO clerk_fingerprints (scope, external_id, grp, value) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer st.Close()
		for _, f := range fps {
			if _, err := st.ExecContext(ctx, scope, f.ExternalID, f.Group, f.Value); err != nil {
				return err
			}
		}
		return nil
	})
}

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
