package postgres_test

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/postgres"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/storetest"
)

func TestClerkIndex(t *testing.T) {
	storetest.RunIndex(t, func(t *testing.T) checkpoint.ClerkIndex {
		dsn := testDSN(t)
		s, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(testSchema(t, dsn)))
		if err != nil {
			t.Fatalf("Open: %v", err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestIndexMigratesVersion1: a version-1 schema, with or without the index
// tables, opens at the current version (storetest.CurrentVersion).
func TestIndexMigratesVersion1(t *testing.T) {
	ctx := context.Background()
	dsn := testDSN(t)
	storetest.RunIndexUpgrade(t, func(t *testing.T) storetest.Version1 {
		schema := testSchema(t, dsn)
		q := pgx.Identifier{schema}.Sanitize()
		conn := func(t *testing.T) *pgx.Conn {
			c, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close(ctx) })
			return c
		}
		return storetest.Version1{
			Open: func(t *testing.T) storetest.IndexStore {
				s, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema))
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			Downgrade: func(t *testing.T, dropTables bool) {
				stmts := []string{`DELETE FROM ` + q + `.schema_version WHERE version > 1`}
				if dropTables {
					stmts = append(stmts, `DROP TABLE `+q+`.clerk_index, `+q+`.clerk_index_emails, `+q+`.clerk_user_prints`)
				}
				c := conn(t)
				for _, stmt := range stmts {
					if _, err := c.Exec(ctx, stmt); err != nil {
						t.Fatalf("%s: %v", stmt, err)
					}
				}
			},
			Version: func(t *testing.T) int {
				var v int
				if err := conn(t).QueryRow(ctx, `SELECT max(version) FROM `+q+`.schema_version`).Scan(&v); err != nil {
					t.Fatal(err)
				}
				return v
			},
		}
	})
}

// TestIndexMigratesVersion4Prints: a version-4 schema's fingerprints, a row
// a group, are one row a user after Open and read the same.
func TestIndexMigratesVersion4Prints(t *testing.T) {
	ctx := context.Background()
	dsn := testDSN(t)
	storetest.RunPrintsUpgrade(t, func(t *testing.T) storetest.Version4 {
		schema := testSchema(t, dsn)
		q := pgx.Identifier{schema}.Sanitize()
		conn := func(t *testing.T) *pgx.Conn {
			c, err := pgx.Connect(ctx, dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close(ctx) })
			return c
		}
		return storetest.Version4{
			Open: func(t *testing.T) storetest.IndexStore {
				s, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema))
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			Downgrade: func(t *testing.T, prints [][4]string) {
				c := conn(t)
				for _, stmt := range []string{`DELETE FROM ` + q + `.schema_version WHERE version > 4`,
					`DROP TABLE ` + q + `.clerk_user_prints`,
					`CREATE TABLE ` + q + `.clerk_fingerprints (scope text NOT NULL, external_id text NOT NULL,
						grp text NOT NULL, value text NOT NULL, PRIMARY KEY (scope, external_id, grp))`} {
					if _, err := c.Exec(ctx, stmt); err != nil {
						t.Fatalf("%s: %v", stmt, err)
					}
				}
				for _, p := range prints {
					if _, err := c.Exec(ctx, `INSERT INTO `+q+`.clerk_fingerprints VALUES ($1, $2, $3, $4)`, p[0], p[1], p[2], p[3]); err != nil {
						t.Fatal(err)
					}
				}
			},
			Version: func(t *testing.T) int {
				var v int
				if err := conn(t).QueryRow(ctx, `SELECT max(version) FROM `+q+`.schema_version`).Scan(&v); err != nil {
					t.Fatal(err)
				}
				return v
			},
		}
	})
}
