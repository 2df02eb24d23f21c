// Package sqlite is the embedded run ledger: one SQLite file (modernc.org/sqlite,
// pure Go) in WAL mode with synchronous=NORMAL, so a write that returned
// survives the process being killed (not necessarily a power cut of the
// machine: the last transactions may then be lost, which a resume handles by
// looking the in-flight rows up in Clerk).
//
// # Locking
//
// A run is held from BeginRun until FinishRun or Close through an flock(2)
// on a side file, <path>.locks/<hash of the run id>.lock, holding the holder's
// host, pid and start time. The kernel drops the lock when the holder's
// process ends for any reason, SIGKILL and crashes included, so a dead holder
// never blocks the next run; a live one makes BeginRun fail with a
// *checkpoint.RunLockedError naming it. Two Stores of one process conflict
// like two processes do. flock is only as good as the file system: keep the
// ledger on a local disk (SQLite wants that anyway), not on NFS.
//
// A run's target (RunSpec.TargetLock) is held the same way, by an flock on
// <path>.locks/target-<hash of the target>/lock, exclusive or, for runs
// that share the target, shared. Each holder keeps a record of itself
// beside it (run, host, pid, start), flocked while it holds the target, so
// that a refused run names the live holders and skips the records dead
// ones left behind (the next exclusive holder removes those).
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Store is a run ledger in one SQLite file. It is safe for concurrent use.
type Store struct {
	path   string
	writer *sql.DB // one connection: SQLite has one writer anyway
	reader *sql.DB // WAL readers, so Rows streams while writes go on

	mu     sync.Mutex
	closed bool
	held   map[string]*heldRun // run ID -> the run this Store holds
	seqs   map[string]int64    // run ID -> runs.seq, once known

	stmtMu      sync.Mutex
	stmts       map[stmtKey]*sql.Stmt // INSERTs prepared on the writer connection
	stmtsClosed bool
}

// heldRun is a run this Store holds.
type heldRun struct {
	seq        int64
	lock       *runLock
	target     *targetLock // nil when the run names no target
	targetName string      // its RunSpec.TargetLock
	// top: no position above it has a row. Read at BeginRun (the run is
	// held, so no one else writes it) and raised by every write before it
	// commits; guarded by the writer connection (one transaction at a time).
	top int64
}

var _ checkpoint.Store = (*Store)(nil)

// release lets go of the run's target, then of the run.
func (h *heldRun) release() error {
	return errors.Join(h.target.release(), h.lock.release())
}

// Open opens the ledger at path, creating it (mode 0600) and its tables when
// missing.
func Open(path string) (*Store, error) {
	if path == "" || strings.ContainsRune(path, '?') || strings.HasPrefix(path, "file:") {
		return nil, fmt.Errorf("checkpoint/sqlite: %q is not a plain file path", path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("checkpoint/sqlite: %w", err)
	}
	f.Close()
	const pragmas = "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)"
	writer, err := sql.Open("sqlite", path+pragmas+"&_txlock=immediate")
	if err != nil {
		return nil, fmt.Errorf("checkpoint/sqlite: %w", err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	reader, err := sql.Open("sqlite", path+pragmas+"&_pragma=query_only(ON)")
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("checkpoint/sqlite: %w", err)
	}
	reader.SetMaxOpenConns(4)
	s := &Store{path: path, writer: writer, reader: reader, held: map[string]*heldRun{}, seqs: map[string]int64{},
		stmts: map[stmtKey]*sql.Stmt{}}
	if err := s.migrate(context.Background()); err != nil {
		writer.Close()
		reader.Close()
		return nil, err
	}
	return s, nil
}

// migrations are the schema versions in order; migrations[i] brings the file
// from user_version i to i+1. Add new tables by appending, never by editing:
// this list is the one way the file's schema changes, the run ledger's and
// the sync's ClerkIndex alike.
var migrations = []string{
	`CREATE TABLE runs (
		seq                 INTEGER PRIMARY KEY,
		id                  TEXT NOT NULL UNIQUE,
		kind                TEXT NOT NULL,
		source_fingerprint  TEXT NOT NULL,
		mapping_fingerprint TEXT NOT NULL,
		status              TEXT NOT NULL,
		started_at          INTEGER NOT NULL, -- unix nanoseconds, UTC
		updated_at          INTEGER NOT NULL,
		contiguous_to       INTEGER NOT NULL DEFAULT 0 -- every pos in 1..contiguous_to has a row
	);
	CREATE TABLE run_meta (
		run   INTEGER NOT NULL REFERENCES runs(seq),
		key   TEXT NOT NULL,
		value TEXT NOT NULL,
		PRIMARY KEY (run, key)
	) WITHOUT ROWID;
	CREATE TABLE ledger_rows (
		run          INTEGER NOT NULL REFERENCES runs(seq),
		pos          INTEGER NOT NULL,
		key          TEXT NOT NULL,
		in_flight    INTEGER NOT NULL,
		outcome      TEXT NOT NULL, -- '' while in flight
		clerk_id     TEXT NOT NULL,
		error_code   TEXT NOT NULL,
		field        TEXT NOT NULL,
		message      TEXT NOT NULL,
		attempts     INTEGER NOT NULL,
		retryable    INTEGER NOT NULL,
		request_hash TEXT NOT NULL,
		updated_at   INTEGER NOT NULL,
		PRIMARY KEY (run, pos)
	) WITHOUT ROWID;
	CREATE INDEX ledger_rows_in_flight ON ledger_rows (run, pos) WHERE in_flight = 1;
	CREATE INDEX ledger_rows_outcome ON ledger_rows (run, outcome, pos);
	CREATE TABLE run_counts ( -- kept by every write, so that Progress reads no row
		run     INTEGER NOT NULL REFERENCES runs(seq),
		outcome TEXT NOT NULL, -- '' counts the rows in flight
		n       INTEGER NOT NULL,
		PRIMARY KEY (run, outcome)
	) WITHOUT ROWID;`,
	// 2: the ClerkIndex of the nightly sync. Before version 2 these tables
	// were created on first use, so a version-1 file may have them already.
	`CREATE TABLE IF NOT EXISTS clerk_index (
		scope       TEXT NOT NULL,
		clerk_id    TEXT NOT NULL,
		external_id TEXT,             -- NULL when the user has none
		updated_at  INTEGER NOT NULL, -- Clerk's, Unix ms
		state       BLOB NOT NULL,
		seen        INTEGER NOT NULL,
		PRIMARY KEY (scope, clerk_id)
	) WITHOUT ROWID;
	CREATE INDEX IF NOT EXISTS clerk_index_external_id ON clerk_index (scope, external_id);
	CREATE INDEX IF NOT EXISTS clerk_index_unseen ON clerk_index (scope, clerk_id) WHERE seen = 0 AND external_id IS NOT NULL;
	CREATE TABLE IF NOT EXISTS clerk_index_emails (
		scope    TEXT NOT NULL,
		email    TEXT NOT NULL,
		clerk_id TEXT NOT NULL,
		PRIMARY KEY (scope, email)
	) WITHOUT ROWID;
	CREATE INDEX IF NOT EXISTS clerk_index_emails_user ON clerk_index_emails (scope, clerk_id);
	CREATE TABLE IF NOT EXISTS clerk_fingerprints (
		scope       TEXT NOT NULL,
		external_id TEXT NOT NULL,
		grp         TEXT NOT NULL,
		value       TEXT NOT NULL,
		PRIMARY KEY (scope, external_id, grp)
	) WITHOUT ROWID;`,
	// 3: the users the source did not list include those without an
	// external id (the sync reports them as not ours), and ownership
	// (checkpoint.OwningKinds) is found by a ledger row's Clerk id.
	`DROP INDEX IF EXISTS clerk_index_unseen;
	CREATE INDEX IF NOT EXISTS clerk_index_not_seen ON clerk_index (scope, clerk_id) WHERE seen = 0;
	CREATE INDEX IF NOT EXISTS ledger_rows_clerk_id ON ledger_rows (clerk_id) WHERE clerk_id <> '';`,
	// 4: the index is kept between syncs and updated in place (issue 13).
	// A scope's state says how far it is complete; the marks a run writes
	// (listed by the scan, seen in the source) are appended to a table
	// without an index, so that a mark costs its bytes, not a random page,
	// and are read by one anti-join each. The seen column is no longer
	// written (0), and its index goes: it rewrote a page per marked user.
	// An index of version 3 has no state: the first sync rebuilds it.
	`DROP INDEX IF EXISTS clerk_index_not_seen;
	CREATE TABLE IF NOT EXISTS clerk_index_state (
		scope      TEXT PRIMARY KEY,
		version    TEXT NOT NULL,
		high_water INTEGER NOT NULL -- Clerk's updated_at, Unix ms
	) WITHOUT ROWID;
	CREATE TABLE IF NOT EXISTS clerk_marks ( -- rowid order: appended
		scope TEXT NOT NULL,
		kind  INTEGER NOT NULL, -- 1 listed (value: clerk_id), 2 seen (value: external_id)
		value TEXT NOT NULL
	);`,
	// 5: a user's fingerprints are one row (a JSON object, group →
	// fingerprint) instead of one a group: an import records four groups a
	// user, and the rows were most of its fingerprints' cost. The rows of
	// version 4 are folded into it.
	`CREATE TABLE IF NOT EXISTS clerk_user_prints (
		scope       TEXT NOT NULL,
		external_id TEXT NOT NULL,
		prints      TEXT NOT NULL, -- JSON object: group → fingerprint
		PRIMARY KEY (scope, external_id)
	) WITHOUT ROWID;
	INSERT OR REPLACE INTO clerk_user_prints (scope, external_id, prints)
		SELECT scope, external_id, json_group_object(grp, value) FROM clerk_fingerprints GROUP BY scope, external_id;
	DROP TABLE clerk_fingerprints;`,
}

// migrate brings the file's schema up to the last of migrations.
func (s *Store) migrate(ctx context.Context) error {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("checkpoint/sqlite: migrate: %w", err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("checkpoint/sqlite: migrate: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("checkpoint/sqlite: %s has schema version %d; this build knows up to %d (a newer clerkmigrate wrote it)",
			s.path, v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
			return fmt.Errorf("checkpoint/sqlite: migrate to version %d: %w", i+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", len(migrations))); err != nil {
		return fmt.Errorf("checkpoint/sqlite: migrate: %w", err)
	}
	return tx.Commit()
}

// Columns lists each ledger table's columns, for audits (the shared suite
// asserts that none of them could hold a request or a secret).
func (s *Store) Columns(ctx context.Context) (map[string][]string, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx,
		`SELECT m.name, p.name FROM sqlite_schema m, pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY m.name, p.cid`)
	if err != nil {
		return nil, wrap("columns", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			return nil, wrap("columns", err)
		}
		out[table] = append(out[table], col)
	}
	return out, wrap("columns", rows.Err())
}

// usable fails when ctx is done or the store closed.
func (s *Store) usable(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return checkpoint.ErrClosed
	}
	return nil
}

// Close marks the runs this Store still holds as interrupted, lets go of
// them and closes the file. Closing twice is not an error.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	held := s.held
	s.held = map[string]*heldRun{}
	s.mu.Unlock()

	var errs []error
	for id, h := range held {
		_, err := s.writer.Exec(`UPDATE runs SET status = ?, updated_at = ? WHERE seq = ? AND status = ?`,
			string(checkpoint.Interrupted), nowNanos(), h.seq, string(checkpoint.Running))
		if err != nil {
			errs = append(errs, fmt.Errorf("checkpoint/sqlite: close run %q: %w", id, err))
		}
		if err := h.release(); err != nil {
			errs = append(errs, err)
		}
	}
	s.closeStmts()
	errs = append(errs, s.reader.Close(), s.writer.Close())
	return errors.Join(errs...)
}

// wrap names the operation that failed; it keeps nil nil and context errors
// matchable with errors.Is.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("checkpoint/sqlite: %s: %w", op, err)
}
