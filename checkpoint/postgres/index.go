package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/checkpoint/internal/ledger"

	"github.com/jackc/pgx/v5"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

var _ checkpoint.ClerkIndex = (*Store)(nil)

// indexPage is the page size of Unseen.
const indexPage = 500

// q fills the schema into an index statement.
func (s *Store) q(sql string) string { return strings.ReplaceAll(sql, "§", s.quoted()+".") }

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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, t := range []string{"clerk_index", "clerk_index_emails", "clerk_marks", "clerk_index_state"} {
			if _, err := tx.Exec(ctx, s.q(`DELETE FROM §`+t+` WHERE scope = $1`), scope); err != nil {
				return err
			}
		}
		return nil
	})
	return s.fail(ctx, "index: reset", err)
}

// IndexState reads the scope's state; the zero state when it has none.
func (s *Store) IndexState(ctx context.Context, scope string) (checkpoint.IndexState, error) {
	var st checkpoint.IndexState
	if err := s.usable(ctx); err != nil {
		return st, err
	}
	err := s.pool.QueryRow(ctx, s.q(`SELECT version, high_water FROM §clerk_index_state WHERE scope = $1`), scope).
		Scan(&st.Version, &st.HighWater)
	if errors.Is(err, pgx.ErrNoRows) {
		return checkpoint.IndexState{}, nil
	}
	return st, s.fail(ctx, "index: state", err)
}

// SetIndexState records the scope's state.
func (s *Store) SetIndexState(ctx context.Context, scope string, st checkpoint.IndexState) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, s.q(`INSERT INTO §clerk_index_state (scope, version, high_water) VALUES ($1, $2, $3)
		ON CONFLICT (scope) DO UPDATE SET version = excluded.version, high_water = excluded.high_water`),
		scope, clean(st.Version), st.HighWater)
	return s.fail(ctx, "index: set state", err)
}

// UpdatedAts reads the recorded updated_at of these users.
func (s *Store) UpdatedAts(ctx context.Context, scope string, clerkIDs []string) (map[string]int64, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	out := make(map[string]int64, len(clerkIDs))
	if len(clerkIDs) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, s.q(`SELECT clerk_id, updated_at FROM §clerk_index WHERE scope = $1 AND clerk_id = ANY($2)`),
		scope, cleanAll(clerkIDs))
	if err != nil {
		return nil, s.fail(ctx, "index: updated_at", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var at int64
		if err := rows.Scan(&id, &at); err != nil {
			return nil, s.fail(ctx, "index: updated_at", err)
		}
		out[id] = at
	}
	return out, s.fail(ctx, "index: updated_at", rows.Err())
}

// PutUsers inserts or replaces users with their addresses, in one
// round trip.
func (s *Store) PutUsers(ctx context.Context, scope string, users []checkpoint.IndexedUser) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	if len(users) == 0 {
		return nil
	}
	ids := make([]string, len(users))
	exts := make([]*string, len(users))
	updated := make([]int64, len(users))
	states := make([][]byte, len(users))
	var emailUsers, emails []string
	owner := map[string]int{} // address -> its index in emails: one statement cannot touch a row twice
	for i, u := range users {
		ids[i] = clean(u.ClerkID)
		if u.ExternalID != "" {
			e := clean(u.ExternalID)
			exts[i] = &e
		}
		updated[i] = u.UpdatedAt
		states[i] = u.State
		for _, e := range u.Emails {
			e = clean(strings.ToLower(e))
			if j, dup := owner[e]; dup {
				emailUsers[j] = ids[i]
				continue
			}
			owner[e] = len(emails)
			emailUsers = append(emailUsers, ids[i])
			emails = append(emails, e)
		}
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		b := &pgx.Batch{}
		b.Queue(s.q(`INSERT INTO §clerk_index (scope, clerk_id, external_id, updated_at, state, seen)
			SELECT $1, * , false FROM unnest($2::text[], $3::text[], $4::bigint[], $5::bytea[])
			ON CONFLICT (scope, clerk_id) DO UPDATE SET external_id = excluded.external_id,
				updated_at = excluded.updated_at, state = excluded.state`),
			scope, ids, exts, updated, states)
		b.Queue(s.q(`DELETE FROM §clerk_index_emails WHERE scope = $1 AND clerk_id = ANY($2)`), scope, ids)
		b.Queue(s.q(`INSERT INTO §clerk_index_emails (scope, email, clerk_id)
			SELECT $1, * FROM unnest($2::text[], $3::text[])
			ON CONFLICT (scope, email) DO UPDATE SET clerk_id = excluded.clerk_id`), scope, emails, emailUsers)
		return tx.SendBatch(ctx, b).Close()
	})
	return s.fail(ctx, "index: put users", err)
}

// UsersByExternalID looks users up by external id.
func (s *Store) UsersByExternalID(ctx context.Context, scope string, externalIDs []string) (map[string]checkpoint.IndexedUser, error) {
	return s.lookupUsers(ctx, "index: users by external id", s.q(`SELECT external_id, clerk_id, coalesce(external_id, ''), updated_at, state
		FROM §clerk_index WHERE scope = $1 AND external_id = ANY($2)`), scope, cleanAll(externalIDs))
}

// UsersByEmail looks users up by any of their email addresses.
func (s *Store) UsersByEmail(ctx context.Context, scope string, emails []string) (map[string]checkpoint.IndexedUser, error) {
	lower := make([]string, len(emails))
	for i, e := range emails {
		lower[i] = clean(strings.ToLower(e))
	}
	return s.lookupUsers(ctx, "index: users by email", s.q(`SELECT e.email, u.clerk_id, coalesce(u.external_id, ''), u.updated_at, u.state
		FROM §clerk_index_emails e JOIN §clerk_index u ON u.scope = e.scope AND u.clerk_id = e.clerk_id
		WHERE e.scope = $1 AND e.email = ANY($2)`), scope, lower)
}

func (s *Store) lookupUsers(ctx context.Context, op, query, scope string, keys []string) (map[string]checkpoint.IndexedUser, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	out := map[string]checkpoint.IndexedUser{}
	if len(keys) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, query, scope, keys)
	if err != nil {
		return nil, s.fail(ctx, op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var u checkpoint.IndexedUser
		if err := rows.Scan(&key, &u.ClerkID, &u.ExternalID, &u.UpdatedAt, &u.State); err != nil {
			return nil, s.fail(ctx, op, err)
		}
		out[key] = u
	}
	return out, s.fail(ctx, op, rows.Err())
}

// ClearMarks forgets the scope's listed and seen marks.
func (s *Store) ClearMarks(ctx context.Context, scope string) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	_, err := s.pool.Exec(ctx, s.q(`DELETE FROM §clerk_marks WHERE scope = $1`), scope)
	return s.fail(ctx, "index: clear marks", err)
}

// MarkListed records listed marks.
func (s *Store) MarkListed(ctx context.Context, scope string, clerkIDs []string) error {
	return s.mark(ctx, "index: mark listed", scope, markListed, clerkIDs)
}

// MarkSeen records seen marks.
func (s *Store) MarkSeen(ctx context.Context, scope string, externalIDs []string) error {
	return s.mark(ctx, "index: mark seen", scope, markSeen, externalIDs)
}

func (s *Store) mark(ctx context.Context, op, scope string, kind int, values []string) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	if len(values) == 0 {
		return nil
	}
	_, err := s.pool.Exec(ctx, s.q(`INSERT INTO §clerk_marks (scope, kind, value) SELECT $1, $2, v FROM unnest($3::text[]) v
		ON CONFLICT DO NOTHING`), scope, kind, cleanAll(values))
	return s.fail(ctx, op, err)
}

// DropUnlisted forgets the users not marked listed, and their addresses.
func (s *Store) DropUnlisted(ctx context.Context, scope string) (int64, error) {
	if err := s.usable(ctx); err != nil {
		return 0, err
	}
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, s.q(`DELETE FROM §clerk_index_emails e WHERE e.scope = $1 AND NOT EXISTS
			(SELECT 1 FROM §clerk_marks m WHERE m.scope = $1 AND m.kind = $2 AND m.value = e.clerk_id)`), scope, markListed); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, s.q(`DELETE FROM §clerk_index u WHERE u.scope = $1 AND NOT EXISTS
			(SELECT 1 FROM §clerk_marks m WHERE m.scope = $1 AND m.kind = $2 AND m.value = u.clerk_id)`), scope, markListed)
		n = tag.RowsAffected()
		return err
	})
	return n, s.fail(ctx, "index: drop unlisted", err)
}

// CountUnseen counts the users not marked seen, owned and not. It first
// refreshes the planner's statistics of the tables Unseen reads (ANALYZE,
// which samples them and blocks no reader or writer): the sync calls it
// right after its scan rewrote the index, often right after a bulk import
// filled the ledger, and without statistics Postgres reads every unseen
// user and every ledger row for each page (a bitmap scan and a sort, a
// sequential scan) instead of probing the indexes.
func (s *Store) CountUnseen(ctx context.Context, scope string) (checkpoint.UnseenCounts, error) {
	if err := s.usable(ctx); err != nil {
		return checkpoint.UnseenCounts{}, err
	}
	if _, err := s.pool.Exec(ctx, s.q(`ANALYZE §clerk_index, §clerk_marks, §ledger_rows, §runs, §run_meta`)); err != nil {
		return checkpoint.UnseenCounts{}, s.fail(ctx, "index: analyze", err)
	}
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
	return ledger.EachPage(ctx, indexPage, func(after string) ([]checkpoint.IndexedUser, error) {
		return s.unseenPage(ctx, scope, after, runs)
	}, func(u checkpoint.IndexedUser) string { return u.ClerkID }, fn)
}

func (s *Store) unseenPage(ctx context.Context, scope, after string, runs map[int64]string) ([]checkpoint.IndexedUser, error) {
	rows, err := s.pool.Query(ctx, s.q(`SELECT u.clerk_id, coalesce(u.external_id, ''), u.updated_at, u.state FROM §clerk_index u
		WHERE u.scope = $1 AND u.clerk_id > $2 AND (u.external_id IS NULL OR NOT EXISTS
			(SELECT 1 FROM §clerk_marks m WHERE m.scope = $1 AND m.kind = $4 AND m.value = u.external_id))
		ORDER BY u.clerk_id LIMIT $3`), scope, after, indexPage, markSeen)
	if err != nil {
		return nil, s.fail(ctx, "index: unseen", err)
	}
	var page []checkpoint.IndexedUser
	for rows.Next() {
		var u checkpoint.IndexedUser
		if err := rows.Scan(&u.ClerkID, &u.ExternalID, &u.UpdatedAt, &u.State); err != nil {
			rows.Close()
			return nil, s.fail(ctx, "index: unseen", err)
		}
		page = append(page, u)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(page) == 0 || len(runs) == 0 {
		return page, s.fail(ctx, "index: unseen", err)
	}
	owners, err := s.ownerRows(ctx, ledger.ClerkIDs(page))
	ledger.SetOwners(page, runs, owners)
	return page, err
}

// placeholders numbers a query's placeholders $1, $2, ...
func placeholders() func() string {
	n := 0
	return func() string {
		n++
		return fmt.Sprintf("$%d", n)
	}
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
	return ledger.Owners(users, indexPage, runs, func(ids []string) ([]ledger.OwnerRow, error) { return s.ownerRows(ctx, ids) })
}

// owningRuns are the runs that own users in scope (ledger.OwningRunsQuery).
func (s *Store) owningRuns(ctx context.Context, scope string) (map[int64]string, error) {
	rows, err := s.pool.Query(ctx, ledger.OwningRunsQuery(func(t string) string { return s.q("§" + t) }, placeholders()),
		ledger.OwningRunsArgs(scope)...)
	if err != nil {
		return nil, s.fail(ctx, "index: owning runs", err)
	}
	defer rows.Close()
	runs, err := ledger.OwningRuns(rows)
	return runs, s.fail(ctx, "index: owning runs", err)
}

// ownerRows are the ledger rows that may own these users (ledger.OwnerRowsQuery).
func (s *Store) ownerRows(ctx context.Context, clerkIDs []string) ([]ledger.OwnerRow, error) {
	rows, err := s.pool.Query(ctx, ledger.OwnerRowsQuery(s.q("§ledger_rows"), "", placeholders(), len(clerkIDs)),
		ledger.OwnerRowsArgs(clerkIDs)...)
	if err != nil {
		return nil, s.fail(ctx, "index: owner rows", err)
	}
	defer rows.Close()
	out, err := ledger.OwnerRows(rows)
	return out, s.fail(ctx, "index: owner rows", err)
}

// Fingerprints returns the recorded fingerprints of these external ids.
func (s *Store) Fingerprints(ctx context.Context, scope string, externalIDs []string) (map[string]map[string]string, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	out := map[string]map[string]string{}
	if len(externalIDs) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, s.q(`SELECT external_id, prints::text FROM §clerk_user_prints WHERE scope = $1 AND external_id = ANY($2)`),
		scope, cleanAll(externalIDs))
	if err != nil {
		return nil, s.fail(ctx, "index: fingerprints", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ext, prints string
		if err := rows.Scan(&ext, &prints); err != nil {
			return nil, s.fail(ctx, "index: fingerprints", err)
		}
		m, err := ledger.DecodePrints(prints)
		if err != nil {
			return nil, s.fail(ctx, "index: fingerprints of "+strconv.Quote(ext), err)
		}
		if len(m) > 0 {
			out[ext] = m
		}
	}
	return out, s.fail(ctx, "index: fingerprints", rows.Err())
}

// PutFingerprints records fingerprints in one statement: one row a user,
// whose groups a put replaces one by one (jsonb ||).
func (s *Store) PutFingerprints(ctx context.Context, scope string, fps []checkpoint.Fingerprint) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	if len(fps) == 0 {
		return nil
	}
	cleaned := make([]checkpoint.Fingerprint, len(fps))
	for i, f := range fps {
		cleaned[i] = checkpoint.Fingerprint{ExternalID: clean(f.ExternalID), Group: clean(f.Group), Value: clean(f.Value)}
	}
	users := ledger.GroupPrints(cleaned) // one a user: one statement cannot touch a row twice
	exts := make([]string, len(users))
	prints := make([]string, len(users))
	for i, u := range users {
		exts[i], prints[i] = u.ExternalID, u.Prints
	}
	_, err := s.pool.Exec(ctx, s.q(`INSERT INTO §clerk_user_prints (scope, external_id, prints)
		SELECT $1, e, p::jsonb FROM unnest($2::text[], $3::text[]) AS u(e, p)
		ON CONFLICT (scope, external_id) DO UPDATE SET prints = §clerk_user_prints.prints || excluded.prints`), scope, exts, prints)
	return s.fail(ctx, "index: put fingerprints", err)
}

func cleanAll(ss []string) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = clean(s)
	}
	return out
}
