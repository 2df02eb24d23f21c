package migrate

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
)

// BenchmarkImport imports b.N users into the emulator over loopback with a
// budget the emulator will not refuse, and reports the request rate achieved
// against the budget.
func BenchmarkImport(b *testing.B) {
	for _, bc := range []struct {
		name    string
		budget  pacer.Rate
		latency time.Duration
	}{
		{"budget=1000/s,latency=0", pacer.Rate{Requests: 1000, Window: time.Second}, 0},
		{"budget=1000/s,latency=20ms", pacer.Rate{Requests: 1000, Window: time.Second}, 20 * time.Millisecond},
		// Above what two shared cores can serve: shows the pipeline's own ceiling.
		{"budget=10000/s,latency=0", pacer.Rate{Requests: 10000, Window: time.Second}, 0},
	} {
		b.Run(bc.name, func(b *testing.B) {
			emu := startEmulator(b, emulator.Config{RequestsPerWindow: 1 << 30, Window: time.Second,
				Faults: emulator.Faults{Latency: bc.latency}})
			dir := b.TempDir()
			csvPath, m := writeUsersCSV(b, dir, b.N, 0, 0), loadMapping(b, dir)
			st := openLedgerAt(b, filepath.Join(dir, "ledger.db"))
			cfg := Config{
				Source: openCSV(b, csvPath), Mapper: m, MappingFingerprint: m.Fingerprint(), Store: st,
				Gateway: emuGateway(b, emu.URL(), bc.budget, 64), Target: emu.URL(), Workers: 64,
				Logger: discardLogger(), TempDir: dir,
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
			b.ReportMetric(sum.RequestsPerSec, "req/s")
			b.ReportMetric(sum.RequestsPerSec/bc.budget.PerSecond()*100, "%budget")
			b.ReportMetric(float64(sum.PeakInFlight), "peak-in-flight")
		})
	}
}
