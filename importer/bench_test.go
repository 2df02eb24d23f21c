package importer

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

// BenchmarkDryRun runs the whole pipeline in dry-run mode (CSV → mapping
// → validation → SQLite ledger) over a generated CSV of b.N rows: one op is
// one row, so ns/op, B/op and allocs/op are per row.
func BenchmarkDryRun(b *testing.B) {
	dir := b.TempDir()
	csvPath, m := writeUsersCSV(b, dir, b.N, 50, 40), loadMapping(b, dir)
	st := openLedgerAt(b, filepath.Join(dir, "ledger.db"))
	cfg := Config{
		Source: openCSV(b, csvPath), Mapper: m, MappingFingerprint: m.Fingerprint(), Store: st,
		DryRun: true, Logger: discardLogger(),
	}
	b.ReportAllocs()
	b.ResetTimer()
	sum, err := Run(context.Background(), cfg)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if sum.Settled() != int64(b.N) {
		b.Fatalf("settled %d of %d rows", sum.Settled(), b.N)
	}
	b.ReportMetric(float64(b.N)/sum.Elapsed.Seconds(), "rows/s")
}

// BenchmarkImport imports b.N users into the emulator over loopback with a
// budget the emulator will not refuse, and reports the request rate achieved
// against the pacer's limit (90 % of the budget).
func BenchmarkImport(b *testing.B) {
	for _, bc := range []struct {
		name    string
		budget  Rate
		latency time.Duration
	}{
		{"budget=1000/s,latency=0", Rate{1000, time.Second}, 0},
		{"budget=1000/s,latency=20ms", Rate{1000, time.Second}, 20 * time.Millisecond},
		// Above what two shared cores can serve: shows the pipeline's own ceiling.
		{"budget=10000/s,latency=0", Rate{10000, time.Second}, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			emu := startEmulator(b, emulator.Config{RequestsPerWindow: 1 << 30, Window: time.Second,
				Faults: emulator.Faults{Latency: bc.latency}})
			dir := b.TempDir()
			csvPath, m := writeUsersCSV(b, dir, b.N, 0, 0), loadMapping(b, dir)
			st := openLedgerAt(b, filepath.Join(dir, "ledger.db"))
			cfg := Config{
				Source: openCSV(b, csvPath), Mapper: m, MappingFingerprint: m.Fingerprint(), Store: st,
				API: newClient(b, emu.URL()), Target: emu.URL(), Rate: bc.budget, MaxInFlight: 64,
				Logger: discardLogger(),
			}
			b.ReportAllocs()
			b.ResetTimer()
			sum, err := Run(context.Background(), cfg)
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			if sum.ByOutcome[checkpoint.Created] != int64(b.N) {
				b.Fatalf("created %d of %d", sum.ByOutcome[checkpoint.Created], b.N)
			}
			limit := bc.budget.PerSecond() * pacerFraction
			b.ReportMetric(sum.RequestsPerSec, "req/s")
			b.ReportMetric(sum.RequestsPerSec/limit*100, "%limit")
			b.ReportMetric(float64(sum.PeakInFlight), "peak-in-flight")
		})
	}
}
