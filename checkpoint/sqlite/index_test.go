package sqlite_test

import (
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
