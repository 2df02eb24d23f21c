// Package postgres is the run ledger in a Postgres database (pgx/v5), for
// teams that run migrations from several machines or want the ledger next
// to their data. Its tables live in one schema (clerkmigrate by default),
// created when missing.
//
// # Locking
//
// BeginRun takes a session-level pg_try_advisory_lock on a key hashed from
// the schema and the run ID, and one on a key hashed from the schema and the
// run's target (RunSpec.TargetLock; pg_try_advisory_lock_shared for runs that
// share it), on a connection of its own kept open until FinishRun or Close.
// A second holder of the same run, from any machine, gets a
// *checkpoint.RunLockedError naming the backend that holds the lock (its
// pid, application_name and client address, from pg_locks and
// pg_stat_activity) and the host, pid and start time the holder wrote into
// the run's row; a second writer to the target gets a
// *checkpoint.TargetLockedError naming the runs that hold it (the lock
// connection's application_name is "clerkmigrate run <id>").
//
// The server drops the locks when that connection ends: a holder that dies
// lets go at once, but a holder whose lock connection is cut loses its run
// and target too, and another process may take them. So the run's writes
// (MarkInFlight, Settle, SetMeta, FinishRun) go through the lock connection
// itself, and none can land once it is gone; between writes the Store
// waits on it for the server's word, so that a terminated backend is
// noticed the moment its last message arrives: Run.Lost closes and every
// later write fails with checkpoint.ErrHoldLost. The sync's index
// (ClerkIndex) is written through the pool; the engines stop at Run.Lost.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrLockLost is checkpoint.ErrHoldLost: the connection holding a run's
// advisory locks was lost, so the run may now be held by someone else.
var ErrLockLost = checkpoint.ErrHoldLost

// DefaultSchema is the schema the ledger's tables live in unless WithSchema
// says otherwise.
const DefaultSchema = "clerkmigrate"

// Option configures Open.
type Option func(*options)

type options struct {
	schema       string
	pingInterval time.Duration
	existing     bool
}

// WithSchema puts the ledger's tables in schema name (a plain identifier:
// letters, digits, underscores).
func WithSchema(name string) Option { return func(o *options) { o.schema = name } }

// WithLockPing sets how often the Store pings its lock connections, for one
// that dies without a word from the server (default 5s); a connection the
// server ends is noticed at once.
func WithLockPing(every time.Duration) Option { return func(o *options) { o.pingInterval = every } }

// Existing opens the ledger only if its schema is there, and otherwise
// fails with checkpoint.ErrNoLedger, creating nothing: for commands that
// only read.
func Existing() Option { return func(o *options) { o.existing = true } }

var identifier = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,62}$`)

// Store is a run ledger in a Postgres schema. It is safe for concurrent use.
type Store struct {
	pool     *pgxpool.Pool
	lockConf *pgx.ConnConfig
	schema   string
	opts     options
	sql      statements

	mu     sync.Mutex
	closed bool
	held   map[string]*heldRun
	seqs   map[string]int64
}

var _ checkpoint.Store = (*Store)(nil)

// Open connects to the database connString names and creates the ledger's
// schema and tables when missing.
func Open(ctx context.Context, connString string, opts ...Option) (*Store, error) {
	o := options{schema: DefaultSchema, pingInterval: 5 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if !identifier.MatchString(o.schema) {
		return nil, fmt.Errorf("checkpoint/postgres: schema %q is not a plain identifier", o.schema)
	}
	cfg, err := pgxpool.ParseConfig(connString)
	if err != nil {
		return nil, fmt.Errorf("checkpoint/postgres: %w", err) // pgx redacts the password
	}
	if cfg.ConnConfig.RuntimeParams["application_name"] == "" {
		cfg.ConnConfig.RuntimeParams["application_name"] = "clerkmigrate"
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("checkpoint/postgres: %w", err)
	}
	s := &Store{
		pool: pool, lockConf: cfg.ConnConfig.Copy(), schema: o.schema, opts: o,
		sql:  newStatements(pgx.Identifier{o.schema}.Sanitize()),
		held: map[string]*heldRun{}, seqs: map[string]int64{},
	}
	if o.existing {
		if err := s.mustExist(ctx); err != nil {
			pool.Close()
			return nil, err
		}
	}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// migrations are the schema versions in order; migrations[i] brings the
// schema from version i to i+1. "%[1]s" is the quoted schema. Add by
// appending, never by editing: this list is the one way the schema changes,
// the run ledger's and the sync's ClerkIndex alike.
var migrations = []string{
	`CREATE TABLE %[1]s.runs (
		seq                 bigserial PRIMARY KEY,
		id                  text NOT NULL UNIQUE,
		kind                text NOT NULL,
		source_fingerprint  text NOT NULL,
		mapping_fingerprint text NOT NULL,
		status              text NOT NULL,
		started_at          timestamptz NOT NULL,
		updated_at          timestamptz NOT NULL,
		contiguous_to       bigint NOT NULL DEFAULT 0, -- every pos in 1..contiguous_to has a row
		holder_host         text NOT NULL DEFAULT '',
		holder_pid          integer NOT NULL DEFAULT 0,
		holder_since        timestamptz
	);
	CREATE TABLE %[1]s.run_meta (
		run   bigint NOT NULL REFERENCES %[1]s.runs (seq),
		key   text NOT NULL,
		value text NOT NULL,
		PRIMARY KEY (run, key)
	);
	CREATE TABLE %[1]s.ledger_rows (
		run          bigint NOT NULL REFERENCES %[1]s.runs (seq),
		pos          bigint NOT NULL,
		key          text NOT NULL,
		in_flight    boolean NOT NULL,
		outcome      text NOT NULL, -- '' while in flight
		clerk_id     text NOT NULL,
		error_code   text NOT NULL,
		field        text NOT NULL,
		message      text NOT NULL,
		attempts     integer NOT NULL,
		retryable    boolean NOT NULL,
		request_hash text NOT NULL,
		updated_at   timestamptz NOT NULL,
		PRIMARY KEY (run, pos)
	);
	CREATE INDEX ledger_rows_in_flight ON %[1]s.ledger_rows (run, pos) WHERE in_flight;
	CREATE INDEX ledger_rows_outcome ON %[1]s.ledger_rows (run, outcome, pos);
	CREATE TABLE %[1]s.run_counts ( -- kept by every write, so that Progress reads no row
		run     bigint NOT NULL REFERENCES %[1]s.runs (seq),
		outcome text NOT NULL, -- '' counts the rows in flight
		n       bigint NOT NULL,
		PRIMARY KEY (run, outcome)
	);`,
	// 2: the ClerkIndex of the nightly sync. Before version 2 these tables
	// were created on first use, so a version-1 schema may have them already.
	`CREATE TABLE IF NOT EXISTS %[1]s.clerk_index (
		scope       text NOT NULL,
		clerk_id    text NOT NULL,
		external_id text,             -- NULL when the user has none
		updated_at  bigint NOT NULL,  -- Clerk's, Unix ms
		state       bytea NOT NULL,
		seen        boolean NOT NULL,
		PRIMARY KEY (scope, clerk_id)
	);
	CREATE INDEX IF NOT EXISTS clerk_index_external_id ON %[1]s.clerk_index (scope, external_id);
	CREATE INDEX IF NOT EXISTS clerk_index_unseen ON %[1]s.clerk_index (scope, clerk_id) WHERE NOT seen AND external_id IS NOT NULL;
	CREATE TABLE IF NOT EXISTS %[1]s.clerk_index_emails (
		scope    text NOT NULL,
		email    text NOT NULL,
		clerk_id text NOT NULL,
		PRIMARY KEY (scope, email)
	);
	CREATE INDEX IF NOT EXISTS clerk_index_emails_user ON %[1]s.clerk_index_emails (scope, clerk_id);
	CREATE TABLE IF NOT EXISTS %[1]s.clerk_fingerprints (
		scope       text NOT NULL,
		external_id text NOT NULL,
		grp         text NOT NULL,
		value       text NOT NULL,
		PRIMARY KEY (scope, external_id, grp)
	);`,
	// 3: the users the source did not list include those without an
	// external id (the sync reports them as not ours), and ownership
	// (checkpoint.OwningKinds) is found by a ledger row's Clerk id.
	`DROP INDEX IF EXISTS %[1]s.clerk_index_unseen;
	CREATE INDEX IF NOT EXISTS clerk_index_not_seen ON %[1]s.clerk_index (scope, clerk_id) WHERE NOT seen;
	CREATE INDEX IF NOT EXISTS ledger_rows_clerk_id ON %[1]s.ledger_rows (clerk_id) WHERE clerk_id <> '';`,
	// 4: the index is kept between syncs and updated in place (issue 13):
	// a scope's state says how far it is complete; a run's marks (listed by
	// the scan, seen in the source) replace the seen column, which every
	// sync had to clear. An index of version 3 has no state: the first sync
	// rebuilds it.
	`DROP INDEX IF EXISTS %[1]s.clerk_index_not_seen;
	CREATE TABLE IF NOT EXISTS %[1]s.clerk_index_state (
		scope      text PRIMARY KEY,
		version    text NOT NULL,
		high_water bigint NOT NULL -- Clerk's updated_at, Unix ms
	);
	CREATE TABLE IF NOT EXISTS %[1]s.clerk_marks (
		scope text NOT NULL,
		kind  smallint NOT NULL, -- 1 listed (value: clerk_id), 2 seen (value: external_id)
		value text NOT NULL,
		PRIMARY KEY (scope, kind, value)
	);`,
	// 5: a user's fingerprints are one row (a jsonb object, group →
	// fingerprint) instead of one a group: an import records four groups a
	// user, and the rows were most of its fingerprints' cost. The rows of
	// version 4 are folded into it.
	`CREATE TABLE IF NOT EXISTS %[1]s.clerk_user_prints (
		scope       text NOT NULL,
		external_id text NOT NULL,
		prints      jsonb NOT NULL, -- group → fingerprint
		PRIMARY KEY (scope, external_id)
	);
	INSERT INTO %[1]s.clerk_user_prints (scope, external_id, prints)
		SELECT scope, external_id, jsonb_object_agg(grp, value) FROM %[1]s.clerk_fingerprints GROUP BY scope, external_id
		ON CONFLICT (scope, external_id) DO UPDATE SET prints = %[1]s.clerk_user_prints.prints || excluded.prints;
	DROP TABLE %[1]s.clerk_fingerprints;`,
}

// migrate creates the schema and brings it to the last of migrations, one
// process at a time.
func (s *Store) migrate(ctx context.Context) error {
	q := pgx.Identifier{s.schema}.Sanitize()
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("checkpoint/postgres: migrate: %w", err)
	}
	defer tx.Rollback(ctx)
	steps := []string{
		`SELECT pg_advisory_xact_lock(` + fmt.Sprint(lockKey(s.schema, "\x00migrate")) + `)`,
		`CREATE SCHEMA IF NOT EXISTS ` + q,
		`CREATE TABLE IF NOT EXISTS ` + q + `.schema_version (version integer NOT NULL)`,
	}
	for _, step := range steps {
		if _, err := tx.Exec(ctx, step); err != nil {
			return fmt.Errorf("checkpoint/postgres: migrate: %w", err)
		}
	}
	var v int
	if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM `+q+`.schema_version`).Scan(&v); err != nil {
		return fmt.Errorf("checkpoint/postgres: migrate: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("checkpoint/postgres: schema %s has version %d; this build knows up to %d (a newer clerkmigrate wrote it)",
			s.schema, v, len(migrations))
	}
	for i := v; i < len(migrations); i++ {
		if _, err := tx.Exec(ctx, fmt.Sprintf(migrations[i], q)); err != nil {
			return fmt.Errorf("checkpoint/postgres: migrate to version %d: %w", i+1, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO `+q+`.schema_version (version) VALUES ($1)`, i+1); err != nil {
			return fmt.Errorf("checkpoint/postgres: migrate to version %d: %w", i+1, err)
		}
	}
	return tx.Commit(ctx)
}

// mustExist fails with checkpoint.ErrNoLedger when the schema holds no
// ledger.
func (s *Store) mustExist(ctx context.Context) error {
	var found bool
	err := s.pool.QueryRow(ctx, `SELECT to_regclass($1) IS NOT NULL`,
		pgx.Identifier{s.schema, "schema_version"}.Sanitize()).Scan(&found)
	if err != nil {
		return fmt.Errorf("checkpoint/postgres: %w", err)
	}
	if !found {
		return fmt.Errorf("checkpoint/postgres: schema %s: %w", s.schema, checkpoint.ErrNoLedger)
	}
	return nil
}

// Columns lists each ledger table's columns, for audits (the shared suite
// asserts that none of them could hold a request or a secret).
func (s *Store) Columns(ctx context.Context) (map[string][]string, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT table_name::text, column_name::text FROM information_schema.columns
		WHERE table_schema = $1 ORDER BY table_name, ordinal_position`, s.schema)
	if err != nil {
		return nil, s.fail(ctx, "columns", err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			return nil, s.fail(ctx, "columns", err)
		}
		out[table] = append(out[table], col)
	}
	return out, s.fail(ctx, "columns", rows.Err())
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
// them and closes the pool. Closing twice is not an error.
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

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var errs []error
	for id, h := range held {
		err := h.use(ctx, id, func(ctx context.Context, conn *pgx.Conn) error {
			_, err := conn.Exec(ctx, s.sql.interrupt, h.seq, string(checkpoint.Interrupted), string(checkpoint.Running))
			return err
		})
		if err != nil && !errors.Is(err, checkpoint.ErrHoldLost) { // a run whose hold is lost may be another's now
			errs = append(errs, fmt.Errorf("checkpoint/postgres: close run %q: %w", id, err))
		}
		h.release(ctx)
	}
	s.pool.Close()
	return errors.Join(errs...)
}

// fail names the operation; when ctx is done it reports ctx's error, which
// is what interrupted the database.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return fmt.Errorf("checkpoint/postgres: %s: %w", op, err)
}

// clean makes a string storable as Postgres text: valid UTF-8, no NUL.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "")
	}
	return s
}
