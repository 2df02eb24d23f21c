package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/sources/pgtest"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/postgres"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/storetest"
	"github.com/jackc/pgx/v5"
)

// testDSN is the test database, or skips (fails when CI=true) without one.
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := pgtest.ConnString(tb)
	return dsn
}

var nonIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// testSchema makes a fresh schema for tb, dropped when tb ends.
func testSchema(tb testing.TB, dsn string) string {
	tb.Helper()
	sum := sha256.Sum256([]byte(tb.Name()))
	name := nonIdent.ReplaceAllString(strings.ToLower(tb.Name()), "_")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	schema := "cmt_" + hex.EncodeToString(sum[:4]) + "_" + name
	drop := func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	}
	drop()
	tb.Cleanup(drop)
	return schema
}

// schemas gives each test one schema, however often it opens the ledger.
var schemas sync.Map // *testing.T -> string

func openLedger(t *testing.T) checkpoint.Store {
	t.Helper()
	dsn := testDSN(t)
	schema, ok := schemas.Load(t)
	if !ok {
		schema, _ = schemas.LoadOrStore(t, testSchema(t, dsn))
	}
	s, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema.(string)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, openLedger)
}
