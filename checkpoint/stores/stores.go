// Package stores opens a run ledger from the one string a user gives the
// CLI, so that the CLI need not know the stores.
package stores

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/postgres"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/sqlite"
)

// Kind is the store a DSN names: "postgres" or "sqlite".
func Kind(dsn string) string {
	lower := strings.ToLower(dsn)
	if strings.HasPrefix(lower, "postgres://") || strings.HasPrefix(lower, "postgresql://") {
		return "postgres"
	}
	return "sqlite"
}

// Describe names the ledger a DSN points at for messages and logs, never
// with its password: a Postgres URL loses its password and query, a SQLite
// DSN is its path.
func Describe(dsn string) string {
	if Kind(dsn) != "postgres" {
		return strings.TrimPrefix(strings.TrimPrefix(dsn, "sqlite://"), "sqlite:")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "a postgres ledger (its URL does not parse; not shown: it may hold a password)"
	}
	u.RawQuery, u.Fragment = "", ""
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	return u.String()
}

// SchemaParam is the postgres URL parameter naming the ledger's schema
// (default clerkmigrate); Open takes it out of the URL before connecting.
const SchemaParam = "clerkmigrate_schema"

// Open opens the ledger dsn names: postgres://... or postgresql://... is a
// Postgres database (tables in schema clerkmigrate, or the one SchemaParam
// names); sqlite:PATH, sqlite://PATH or a plain PATH is a SQLite file.
// A ledger that does not exist yet is created.
func Open(ctx context.Context, dsn string) (checkpoint.Store, error) {
	return open(ctx, dsn, false)
}

// OpenExisting opens the ledger dsn names like Open, but only if it exists:
// otherwise it fails with checkpoint.ErrNoLedger and creates nothing (no
// file, no schema). For commands that only read the ledger.
func OpenExisting(ctx context.Context, dsn string) (checkpoint.Store, error) {
	return open(ctx, dsn, true)
}

func open(ctx context.Context, dsn string, existing bool) (checkpoint.Store, error) {
	if dsn == "" {
		return nil, fmt.Errorf("checkpoint: no ledger given (a file path, sqlite:PATH or postgres://...)")
	}
	if Kind(dsn) == "postgres" {
		conn, schema, err := splitSchema(dsn)
		if err != nil {
			return nil, err
		}
		var opts []postgres.Option
		if schema != "" {
			opts = append(opts, postgres.WithSchema(schema))
		}
		if existing {
			opts = append(opts, postgres.Existing())
		}
		return postgres.Open(ctx, conn, opts...)
	}
	path := strings.TrimPrefix(dsn, "sqlite:")
	path = strings.TrimPrefix(path, "//") // sqlite://PATH too
	if path == "" {
		return nil, fmt.Errorf("checkpoint: %q names no file", dsn)
	}
	if existing {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("checkpoint: %s: %w", path, checkpoint.ErrNoLedger)
		}
	}
	return sqlite.Open(path)
}

// splitSchema takes SchemaParam out of a postgres URL. Its errors never
// repeat the URL, which may hold a password.
func splitSchema(dsn string) (conn, schema string, err error) {
	if !strings.Contains(dsn, SchemaParam) {
		return dsn, "", nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", "", fmt.Errorf("checkpoint: the postgres ledger URL does not parse")
	}
	q := u.Query()
	schema = q.Get(SchemaParam)
	q.Del(SchemaParam)
	u.RawQuery = q.Encode()
	return u.String(), schema, nil
}
