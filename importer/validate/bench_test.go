package validate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint/stores"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/samples/synth"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// Run with: go test ./importer/validate -run '^$' -bench Validate1M -benchtime 1x
// One op validates a generated 1,000,000-row CSV end to end: CSV reader,
// mapping (bcrypt digest grammar, email, names, metadata JSON, timestamps),
// duplicate sort, SQLite ledger with one outcome per row, findings files.

// writeBenchCSV writes the synthetic export of samples/synth.
func writeBenchCSV(tb testing.TB, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := synth.WriteCSV(f, n); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// vmHWM is the process's peak resident set (VmHWM), in bytes.
func vmHWM() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func BenchmarkValidate1M(b *testing.B) {
	const n = 1_000_000
	dir := b.TempDir()
	csvPath := filepath.Join(dir, "users.csv")
	writeBenchCSV(b, csvPath, n)
	m, err := mapping.Parse([]byte(synth.Mapping))
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	runtime.GC()
	hwmBefore := vmHWM()
	var peakHeap uint64
	sample := func(runner.Progress) {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		peakHeap = max(peakHeap, ms.HeapInuse)
	}
	var rows int64
	var wall time.Duration
	cpu0 := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		src, err := sources.Open(ctx, sources.Spec{Location: csvPath, KeyPath: m.Key()})
		if err != nil {
			b.Fatal(err)
		}
		st, err := stores.Open(ctx, filepath.Join(dir, fmt.Sprintf("ledger-%d.db", i)))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		res, err := Run(ctx, Config{Source: src, Mapper: m, MappingFingerprint: m.Fingerprint(), Store: st,
			OutDir: filepath.Join(dir, "out"), TempDir: dir, Progress: sample})
		wall += time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if res.Rows != n || res.Invalid < 2900 {
			b.Fatalf("rows %d invalid %d", res.Rows, res.Invalid)
		}
		rows += res.Rows
		st.Close()
		src.Close()
	}
	b.StopTimer()
	cpu := cpuTime() - cpu0
	var load [3]float64
	if s, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Sscan(string(s), &load[0], &load[1], &load[2])
	}
	b.ReportMetric(float64(rows)/wall.Seconds(), "rows/s")
	b.ReportMetric(float64(rows)/cpu.Seconds(), "rows/cpu-s")
	b.ReportMetric(float64(peakHeap)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(vmHWM())/(1<<20), "VmHWM-MiB")
	b.ReportMetric(float64(hwmBefore)/(1<<20), "VmHWM-before-MiB")
	b.ReportMetric(load[0], "loadavg")
}
