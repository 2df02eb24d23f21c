// Package pgtest gives tests the Postgres server that CLERKMIGRATE_TEST_PG
// names, the same way in every package: without the variable a test is
// skipped, except under CI=true, where it fails, so that CI never passes by
// skipping what it must run.
package pgtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Env is the variable that holds the test server's connection string.
const Env = "CLERKMIGRATE_TEST_PG"

// example is the connection string .ci/run uses.
const example = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// ConnString returns the test server's connection string, or skips tb
// (fails it under CI=true) when none is configured.
func ConnString(tb testing.TB) string {
	tb.Helper()
	dsn := os.Getenv(Env)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is not set, and CI=true: the Postgres tests must run", Env)
		}
		tb.Skipf("needs Postgres: set %s, e.g. %s=%s (under CI=true the test fails instead)", Env, Env, example)
	}
	return dsn
}

// Name returns prefix made unique to this process: prefix, "_p", the
// process id, "_", a sequence number. The server is shared by every
// checkout's tests on the machine (and CI's): a schema named after the test
// alone let two runs of the same test, in two processes, drop each other's
// schema and take each other's advisory locks. At most len(prefix)+20
// bytes.
func Name(prefix string) string {
	return fmt.Sprintf("%s_p%d_%d", prefix, os.Getpid(), seq.Add(1))
}

var seq atomic.Int64

// Configured reports whether a test server is configured, or must be
// (CI=true), for tests that run a Postgres case beside others.
func Configured() bool { return os.Getenv(Env) != "" || os.Getenv("CI") == "true" }

// Database creates a database of its own on the test server, filled by the
// given SQL, drops it when tb ends, and returns its connection string.
func Database(tb testing.TB, prefix string, sql ...string) string {
	tb.Helper()
	dsn := ConnString(tb)
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close(ctx)
	name := fmt.Sprintf("%s_%d", prefix, time.Now().UnixNano())
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if c, err := pgx.Connect(context.Background(), dsn); err == nil {
			c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(context.Background())
		}
	})
	db := WithDatabase(dsn, name)
	conn, err := pgx.Connect(ctx, db)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	for _, q := range sql {
		if _, err := conn.Exec(ctx, q); err != nil {
			tb.Fatal(err)
		}
	}
	return db
}

// WithDatabase points a postgres:// URL or a keyword=value connection
// string at another database.
func WithDatabase(dsn, name string) string {
	if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
		return dsn + " dbname=" + name
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return dsn + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}
