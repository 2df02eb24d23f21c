//go:build unix

package reports

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/sqlite"
)

const benchRows = 200_000

// benchRow is row i of a realistic import: mostly created, some exists,
// invalid rows over a few mapping codes, failures over a few Clerk codes.
func benchRow(i int64) checkpoint.RowState {
	pos := i + 1
	s := checkpoint.Settlement{Pos: pos, Key: fmt.Sprintf("legacy-%08d", pos), Attempts: 1, RequestHash: "h"}
	switch m := i % 100; {
	case m < 90:
		s.Outcome, s.ClerkID = checkpoint.Created, fmt.Sprintf("user_2%026d", pos)
	case m < 95:
		s.Outcome, s.ClerkID, s.Message = checkpoint.Exists, fmt.Sprintf("user_2%026d", pos), "already in Clerk under this external_id"
	case m < 98:
		codes := []string{"email_invalid", "hasher_unknown", "phone_invalid"}
		s.Outcome, s.Attempts = checkpoint.Invalid, 0
		s.ErrorCode, s.Field = codes[i%3], "email_address"
		s.Message = fmt.Sprintf("column \"email\" of row %d: \"not-an-email\" is not an email address", pos)
	default:
		s.Outcome, s.ErrorCode, s.Field, s.Attempts = checkpoint.Failed, "form_identifier_exists", "email_address", 2
		s.Message = "That email address is taken. Please try another."
	}
	return checkpoint.RowState{Settlement: s}
}

// BenchmarkWriteSQLite reports a 200,000-row run from a real SQLite ledger.
func BenchmarkWriteSQLite(b *testing.B) {
	path := filepath.Join(b.TempDir(), "ledger.db")
	store, err := sqlite.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	ctx := context.Background()
	if _, err := store.BeginRun(ctx, checkpoint.RunSpec{ID: "bench", Kind: "import", SourceFingerprint: "s", MappingFingerprint: "m"}); err != nil {
		b.Fatal(err)
	}
	batch := make([]checkpoint.Settlement, 0, 5000)
	for i := int64(0); i < benchRows; i++ {
		batch = append(batch, benchRow(i).Settlement)
		if len(batch) == cap(batch) {
			if err := store.Settle(ctx, "bench", batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	benchWrite(b, store, "bench")
}

// BenchmarkWriteFake reports a 200,000-row run from a ledger that makes
// its rows on the fly: the cost of the reports alone.
func BenchmarkWriteFake(b *testing.B) {
	n := int64(benchRows)
	store := newFakeStore(func(i int64) (checkpoint.RowState, bool, error) {
		if i >= n {
			return checkpoint.RowState{}, false, nil
		}
		return benchRow(i), true, nil
	})
	benchWrite(b, store, "fake")
}

func benchWrite(b *testing.B, store checkpoint.Store, runID string) {
	dir := b.TempDir()
	opts := Options{Stats: goldenStats(), Now: fixedNow}
	runtime.GC()
	peak := watchHeap()
	var rows int64
	cpu0 := cpuTime()
	start := time.Now()
	for b.Loop() {
		if _, err := Write(context.Background(), store, runID, dir, opts); err != nil {
			b.Fatal(err)
		}
		rows += benchRows
	}
	elapsed := time.Since(start)
	b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
	// CPU per row (all goroutines, GC included) is steadier than wall time
	// on a busy machine, where wall time also waits for the fsyncs.
	b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(rows), "cpu-ns/row")
	b.ReportMetric(float64(peak())/(1<<20), "peak-heap-MB")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// watchHeap samples the live heap every millisecond until the returned
// function is called, which gives the highest sample.
func watchHeap() func() uint64 {
	var max atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	go func() {
		defer close(done)
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(sample)
			if v := sample[0].Value.Uint64(); v > max.Load() {
				max.Store(v)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 {
		close(stop)
		<-done
		return max.Load()
	}
}
