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
					stmts = append(stmts, `DROP TABLE `+q+`.clerk_index, `+q+`.clerk_index_emails, `+q+`.clerk_fingerprints`)
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
