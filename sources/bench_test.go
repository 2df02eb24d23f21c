package sources

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Run with: go test ./sources -run '^$' -bench . -benchtime 1x
// Each op reads the whole generated file (1,000,000 rows), so -benchtime 1x
// is one full pass; BENCHMARKS.md holds the figures.

const benchRows = 1_000_000

var benchFiles = struct {
	sync.Mutex
	dir   string
	paths map[string]string
}{paths: map[string]string{}}

func TestMain(m *testing.M) {
	code := m.Run()
	if benchFiles.dir != "" {
		os.RemoveAll(benchFiles.dir)
	}
	os.Exit(code)
}

// benchFile generates (once per process) a file of benchRows users.
func benchFile(b *testing.B, kind string) string {
	b.Helper()
	benchFiles.Lock()
	defer benchFiles.Unlock()
	if p, ok := benchFiles.paths[kind]; ok {
		return p
	}
	if benchFiles.dir == "" {
		dir, err := os.MkdirTemp("", "clerkmigrate-sources-bench-")
		if err != nil {
			b.Fatal(err)
		}
		benchFiles.dir = dir
	}
	path := filepath.Join(benchFiles.dir, "users."+kind)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	writeBenchRows(w, kind)
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	benchFiles.paths[kind] = path
	return path
}

const benchHash = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"

func writeBenchRows(w io.Writer, kind string) {
	if kind == "csv" {
		fmt.Fprintln(w, "id,email,first_name,last_name,phone,password_hash,created_at")
	}
	for i := 1; i <= benchRows; i++ {
		created := time.Unix(1_600_000_000+int64(i)*37, 0).UTC().Format(time.RFC3339)
		if kind == "csv" {
			fmt.Fprintf(w, "user_%07d,user%d@example.com,First%d,\"Last, %d\",+1555%07d,%s,%s\n",
				i, i, i, i, i, benchHash, created)
			continue
		}
		fmt.Fprintf(w, `{"id":"user_%07d","email":"user%d@example.com","first_name":"First%d","last_name":"Last, %d","phone":"+1555%07d","password_hash":"%s","created_at":"%s","app_metadata":{"roles":["member"],"plan":%d}}`+"\n",
			i, i, i, i, i, benchHash, created, i%5)
	}
}

// cpuTime is the process's user+system CPU time: on a shared machine the
// wall clock measures the neighbours as much as the code.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapSampler records the largest HeapInuse seen.
type heapSampler struct{ peak uint64 }

func (h *heapSampler) sample() {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.HeapInuse > h.peak {
		h.peak = ms.HeapInuse
	}
}

// benchSource drains a source per op, keeping nothing (as the pipeline does
// once a record is mapped), and reports rows/s, allocations per row and the
// peak heap in use, sampled every 50,000 rows.
func benchSource(b *testing.B, open func() (Source, error)) {
	ctx := context.Background()
	var heap heapSampler
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpuBefore := cpuTime()
	b.ResetTimer()
	rows := 0
	var readTime time.Duration
	for i := 0; i < b.N; i++ {
		src, err := open()
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		for n := 0; ; n++ {
			rec, err := src.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil || rec.Err != nil || rec.Key == "" {
				b.Fatalf("row %d: %v %v", n, err, rec.Err)
			}
			rows++
			if n%50_000 == 0 {
				heap.sample()
			}
		}
		readTime += time.Since(start)
		src.Close()
	}
	b.StopTimer()
	cpu := cpuTime() - cpuBefore
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(rows)/cpu.Seconds(), "rows/cpu-s")
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(rows)/readTime.Seconds(), "rows/s-read-only")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/float64(rows), "allocs/row")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(rows), "B/row")
	b.ReportMetric(float64(heap.peak)/(1<<20), "peak-heap-MiB")
}

func BenchmarkCSV1M(b *testing.B) {
	path := benchFile(b, "csv")
	benchSource(b, func() (Source, error) { return OpenCSV(CSVConfig{Path: path, KeyColumn: "id"}) })
}

func BenchmarkJSONL1M(b *testing.B) {
	path := benchFile(b, "jsonl")
	benchSource(b, func() (Source, error) { return OpenJSON(JSONConfig{Path: path, KeyPath: "id"}) })
}

// BenchmarkFingerprint measures the up-front SHA-256 of a file (MB/s; a
// 1 GB file costs 1000/MBps seconds), with and without the JSON shape scan.
func BenchmarkFingerprint(b *testing.B) {
	path := benchFile(b, "jsonl")
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	for _, withShape := range []bool{false, true} {
		b.Run(fmt.Sprintf("shape=%v", withShape), func(b *testing.B) {
			b.SetBytes(st.Size())
			cpuBefore := cpuTime()
			for i := 0; i < b.N; i++ {
				var extra []io.Writer
				if withShape {
					extra = append(extra, &jsonShape{})
				}
				if _, err := fileFingerprint(path, extra...); err != nil {
					b.Fatal(err)
				}
			}
			gib := float64(st.Size()) * float64(b.N) / (1 << 30)
			b.ReportMetric(b.Elapsed().Seconds()/gib, "s/GiB")
			b.ReportMetric((cpuTime()-cpuBefore).Seconds()/gib, "cpu-s/GiB")
		})
	}
}
