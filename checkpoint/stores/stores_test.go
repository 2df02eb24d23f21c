package stores_test

import (
	"context"
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

func TestOpenPostgresWithSchema(t *testing.T) {
	dsn := pgtest.ConnString(t)
	const schema = "cmt_stores_open"
	drop := func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
			t.Fatal(err)
		}
	}
	drop()
	t.Cleanup(drop)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	s, err := stores.Open(context.Background(), dsn+sep+stores.SchemaParam+"="+schema)
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
