package sqlite_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/sqlite"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/storetest"
)

func TestClerkIndex(t *testing.T) {
	storetest.RunIndex(t, func(t *testing.T) checkpoint.ClerkIndex {
		s, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestIndexMigratesVersion1: a version-1 file, with or without the index
// tables, opens at the current version (storetest.CurrentVersion).
func TestIndexMigratesVersion1(t *testing.T) {
	storetest.RunIndexUpgrade(t, func(t *testing.T) storetest.Version1 {
		path := filepath.Join(t.TempDir(), "ledger.db")
		return storetest.Version1{
			Open: func(t *testing.T) storetest.IndexStore {
				s, err := sqlite.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			Downgrade: func(t *testing.T, dropTables bool) {
				stmts := []string{"PRAGMA user_version = 1"}
				if dropTables {
					stmts = append(stmts, "DROP TABLE clerk_index", "DROP TABLE clerk_index_emails", "DROP TABLE clerk_user_prints")
				}
				db := openRaw(t, path)
				for _, q := range stmts {
					if _, err := db.Exec(q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
			},
			Version: func(t *testing.T) int {
				var v int
				if err := openRaw(t, path).QueryRow("PRAGMA user_version").Scan(&v); err != nil {
					t.Fatal(err)
				}
				return v
			},
		}
	})
}

// TestIndexMigratesVersion4Prints: a version-4 file's fingerprints, a row
// a group, are one row a user after Open and read the same.
func TestIndexMigratesVersion4Prints(t *testing.T) {
	storetest.RunPrintsUpgrade(t, func(t *testing.T) storetest.Version4 {
		path := filepath.Join(t.TempDir(), "ledger.db")
		return storetest.Version4{
			Open: func(t *testing.T) storetest.IndexStore {
				s, err := sqlite.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				return s
			},
			Downgrade: func(t *testing.T, prints [][4]string) {
				db := openRaw(t, path)
				for _, q := range []string{"DROP TABLE clerk_user_prints", `CREATE TABLE clerk_fingerprints (
					scope TEXT NOT NULL, external_id TEXT NOT NULL, grp TEXT NOT NULL, value TEXT NOT NULL,
					PRIMARY KEY (scope, external_id, grp)) WITHOUT ROWID`, "PRAGMA user_version = 4"} {
					if _, err := db.Exec(q); err != nil {
						t.Fatalf("%s: %v", q, err)
					}
				}
				for _, p := range prints {
					if _, err := db.Exec(`INSERT INTO clerk_fingerprints VALUES (?, ?, ?, ?)`, p[0], p[1], p[2], p[3]); err != nil {
						t.Fatal(err)
					}
				}
				db.Close()
			},
			Version: func(t *testing.T) int {
				var v int
				if err := openRaw(t, path).QueryRow("PRAGMA user_version").Scan(&v); err != nil {
					t.Fatal(err)
				}
				return v
			},
		}
	})
}

// openRaw opens the file with database/sql, closed when t ends.
func openRaw(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
