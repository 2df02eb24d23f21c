package sqlite_test

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/sqlite"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/storetest"
)

// ledgerPaths gives each test one ledger file, however often it opens it.
var ledgerPaths sync.Map // *testing.T -> string

func openLedger(t *testing.T) checkpoint.Store {
	t.Helper()
	p, ok := ledgerPaths.Load(t)
	if !ok {
		p, _ = ledgerPaths.LoadOrStore(t, filepath.Join(t.TempDir(), "ledger.db"))
	}
	s, err := sqlite.Open(p.(string))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, openLedger)
}

func TestFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("ledger file mode = %v, want 0600", fi.Mode().Perm())
	}
}
