package sqlite_test

import (
	"path/filepath"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/sqlite"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/storetest"
)

func BenchmarkStore(b *testing.B) {
	storetest.Bench(b, func(b *testing.B) checkpoint.Store {
		s, err := sqlite.Open(filepath.Join(b.TempDir(), "ledger.db"))
		if err != nil {
			b.Fatal(err)
		}
		return s
	})
}
