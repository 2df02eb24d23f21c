package stores_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/sources/pgtest"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/postgres"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/sqlite"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/stores"
	"github.com/jackc/pgx/v5"
)

func TestKind(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"postgres://u@h/db", "postgres"},
		{"postgresql://u@h/db?sslmode=disable", "postgres"},
		{"POSTGRES://u@h/db", "postgres"},
		{"sqlite:ledger.db", "sqlite"},
		{"sqlite:///var/lib/ledger.db", "sqlite"},
		{"./ledger.db", "sqlite"},
		{"/abs/postgres.db", "sqlite"},
	}
	for _, tc := range tests {
		if got := stores.Kind(tc.dsn); got != tc.want {
			t.Errorf("Kind(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
}

func TestOpenSQLite(t *testing.T) {
	dir := t.TempDir()
	for _, dsn := range []string{
		filepath.Join(dir, "plain.db"),
		"sqlite:" + filepath.Join(dir, "prefixed.db"),
		"sqlite://" + filepath.Join(dir, "url.db"),
	} {
		s, err := stores.Open(context.Background(), dsn)
		if err != nil {
			t.Fatalf("Open(%q): %v", dsn, err)
		}
		if _, ok := s.(*sqlite.Store); !ok {
			t.Errorf("Open(%q) = %T, want *sqlite.Store", dsn, s)
		}
		if _, err := s.BeginRun(context.Background(), checkpoint.RunSpec{ID: "r"}); err != nil {
			t.Errorf("BeginRun on %q: %v", dsn, err)
		}
		s.Close()
	}
	for _, name := range []string{"plain.db", "prefixed.db", "url.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("ledger %s: %v", name, err)
		}
	}
}

func TestOpenEmpty(t *testing.T) {
	for _, dsn := range []string{"", "sqlite:"} {
		if s, err := stores.Open(context.Background(), dsn); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
}

// freshSchema is a ledger URL naming schema on the test server, dropped
// before and after the test; exists tells whether the schema is there.
func freshSchema(t *testing.T, schema string) (ledgerDSN string, exists func() bool) {
	dsn := pgtest.ConnString(t)
	schema = pgtest.Name(schema) // not another process's, on the shared server
	withConn := func(f func(*pgx.Conn) error) {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if err := f(conn); err != nil {
			t.Fatal(err)
		}
	}
	drop := func() {
		withConn(func(conn *pgx.Conn) error {
			_, err := conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
			return err
		})
	}
	drop()
	t.Cleanup(drop)
	exists = func() (found bool) {
		withConn(func(conn *pgx.Conn) error {
			return conn.QueryRow(context.Background(),
				"SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema).Scan(&found)
		})
		return found
	}
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + stores.SchemaParam + "=" + schema, exists
}

func TestOpenPostgresWithSchema(t *testing.T) {
	const schema = "cmt_stores_open"
	dsn, _ := freshSchema(t, schema)
	s, err := stores.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if _, ok := s.(*postgres.Store); !ok {
		t.Fatalf("Open = %T, want *postgres.Store", s)
	}
	cols, err := s.(*postgres.Store).Columns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(cols["ledger_rows"]) == 0 {
		t.Errorf("schema %s has no ledger_rows table: %v", schema, cols)
	}
}

func TestDescribeNeverShowsAPassword(t *testing.T) {
	for _, tc := range []struct{ dsn, want string }{
		{"postgres://app:s3cret-pw@db.internal:5432/ledger?sslmode=require&password=other", "postgres://app@db.internal:5432/ledger"},
		{"postgresql://db/ledger", "postgresql://db/ledger"},
		{"postgres://app:s3cret-pw@[bad", "a postgres ledger (its URL does not parse; not shown: it may hold a password)"},
		{"sqlite:/var/lib/cm/ledger.db", "/var/lib/cm/ledger.db"},
		{"clerkmigrate-out/ledger.db", "clerkmigrate-out/ledger.db"},
	} {
		got := stores.Describe(tc.dsn)
		if got != tc.want || strings.Contains(got, "s3cret") || strings.Contains(got, "other") {
			t.Errorf("Describe(%q) = %q, want %q", tc.dsn, got, tc.want)
		}
	}
}

// TestOpenExistingCreatesNothing opens ledgers that are not there for
// reading: a SQLite path and a Postgres schema. Each fails with
// ErrNoLedger and leaves no file and no schema; once Open created them,
// OpenExisting opens them.
func TestOpenExistingCreatesNothing(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	dsns := []string{path}
	schemaExists := func() bool { return false }
	if pgtest.Configured() {
		var dsn string
		dsn, schemaExists = freshSchema(t, "cmt_stores_existing")
		dsns = append(dsns, dsn)
	}
	for _, dsn := range dsns {
		s, err := stores.OpenExisting(ctx, dsn)
		if !errors.Is(err, checkpoint.ErrNoLedger) {
			if err == nil {
				s.Close()
			}
			t.Errorf("OpenExisting(%s): %v, want ErrNoLedger", stores.Describe(dsn), err)
		}
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenExisting left a file behind: %v", err)
	}
	if schemaExists() {
		t.Errorf("OpenExisting created the schema")
	}
	for _, dsn := range dsns {
		s, err := stores.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if s, err = stores.OpenExisting(ctx, dsn); err != nil {
			t.Errorf("OpenExisting(%s) after Open: %v", stores.Describe(dsn), err)
		} else {
			s.Close()
		}
	}
}
