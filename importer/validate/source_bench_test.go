package validate

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/sources/pgtest"

	"github.com/jackc/pgx/v5"

	"github.com/clerkmigrate/clerkmigrate/checkpoint/sqlite"
	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// sourceBenchMapping maps the users every format of BenchmarkValidateBySource
// holds: nested metadata, so that JSON sources are read through paths.
const sourceBenchMapping = `version: 1
key: id
options:
  required_identifiers: [email_address]
fields:
  email_address: { from: email, transform: [trim, lower], verified: true }
  first_name: { from: first_name }
  last_name: { from: last_name }
  public_metadata: { from: profile, parse: json }
  created_at: { from: created_at, parse: timestamp }
`

// benchUser is one generated legacy user.
type benchUser struct {
	ID        string         `json:"id"`
	Email     string         `json:"email"`
	FirstName string         `json:"first_name"`
	LastName  string         `json:"last_name"`
	Profile   map[string]any `json:"profile"`
	CreatedAt string         `json:"created_at"`
}

func benchUserAt(i int) benchUser {
	return benchUser{ID: fmt.Sprintf("u%d", i), Email: fmt.Sprintf("User%d@Example.com", i),
		FirstName: "Ada", LastName: fmt.Sprintf("Lovelace%d", i%997),
		Profile:   map[string]any{"plan": []string{"free", "pro", "team"}[i%3], "seats": i % 50},
		CreatedAt: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute).Format(time.RFC3339)}
}

// BenchmarkValidateBySource runs the whole dry run (source → mapping and
// validation → SQLite ledger) over 1,000,000 users from each kind of source
// and reports rows/s and the process's peak resident memory during the run
// (VmHWM, reset before each run through /proc/self/clear_refs). Run with
// -benchtime 1x; the Postgres case needs CLERKMIGRATE_TEST_PG.
func BenchmarkValidateBySource(b *testing.B) {
	const rows = 1_000_000
	dir := b.TempDir()
	mapFile := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(mapFile, []byte(sourceBenchMapping), 0o600); err != nil {
		b.Fatal(err)
	}
	m, err := mapping.Load(mapFile)
	if err != nil {
		b.Fatal(err)
	}
	specs := []struct {
		name string
		make func() sources.Spec
	}{
		{"csv", func() sources.Spec { return writeSourceBenchCSV(b, dir, rows) }},
		{"json", func() sources.Spec { return writeBenchJSON(b, dir, rows, false) }},
		{"jsonl", func() sources.Spec { return writeBenchJSON(b, dir, rows, true) }},
		{"postgres", func() sources.Spec { return fillBenchTable(b, rows) }},
	}
	for _, sc := range specs {
		b.Run(sc.name, func(b *testing.B) {
			spec := sc.make()
			for i := 0; i < b.N; i++ {
				st, err := sqlite.Open(filepath.Join(b.TempDir(), "ledger.db"))
				if err != nil {
					b.Fatal(err)
				}
				src, err := sources.Open(context.Background(), spec)
				if err != nil {
					b.Fatal(err)
				}
				resetPeakRSS()
				peakHeap := sampleHeap()
				start := time.Now()
				res, err := Run(context.Background(), Config{Source: src, Mapper: m, MappingFingerprint: m.Fingerprint(),
					Store: st, TempDir: b.TempDir()})
				elapsed := time.Since(start)
				heap := peakHeap()
				src.Close()
				if err != nil {
					b.Fatal(err)
				}
				if res.Valid != rows {
					b.Fatalf("%d valid rows of %d", res.Valid, rows)
				}
				b.ReportMetric(float64(rows)/elapsed.Seconds(), "rows/s")
				b.ReportMetric(float64(vmHWM())/(1<<20), "peak-RSS-MiB")
				b.ReportMetric(float64(heap)/(1<<20), "peak-heap-MiB")
				st.Close()
			}
		})
	}
}

func writeSourceBenchCSV(b *testing.B, dir string, n int) sources.Spec {
	path := filepath.Join(dir, "users.csv")
	writeBenchFile(b, path, func(w *bufio.Writer) {
		fmt.Fprintln(w, "id,email,first_name,last_name,profile,created_at")
		for i := 1; i <= n; i++ {
			u := benchUserAt(i)
			prof, _ := json.Marshal(u.Profile)
			fmt.Fprintf(w, "%s,%s,%s,%s,\"%s\",%s\n", u.ID, u.Email, u.FirstName, u.LastName,
				strings.ReplaceAll(string(prof), `"`, `""`), u.CreatedAt)
		}
	})
	return sources.Spec{Location: path, KeyPath: "id"}
}

func writeBenchJSON(b *testing.B, dir string, n int, lines bool) sources.Spec {
	name := "users.json"
	if lines {
		name = "users.jsonl"
	}
	path := filepath.Join(dir, name)
	writeBenchFile(b, path, func(w *bufio.Writer) {
		if !lines {
			w.WriteString(`{"users":[`)
		}
		enc := json.NewEncoder(w)
		for i := 1; i <= n; i++ {
			if !lines && i > 1 {
				w.WriteByte(',')
			}
			enc.Encode(benchUserAt(i)) // ends with a newline: fine inside an array too
		}
		if !lines {
			w.WriteString("]}\n")
		}
	})
	return sources.Spec{Location: path, KeyPath: "id"}
}

func writeBenchFile(b *testing.B, path string, fill func(*bufio.Writer)) {
	b.Helper()
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fill(w)
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
}

// fillBenchTable copies n users into a table of their own in a schema the
// benchmark drops afterwards.
func fillBenchTable(b *testing.B, n int) sources.Spec {
	dsn := pgtest.ConnString(b)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("bench_dryrun_%d", time.Now().UnixNano())
	for _, q := range []string{
		"CREATE SCHEMA " + schema,
		"CREATE TABLE " + schema + ".users (id text PRIMARY KEY, email text, first_name text, last_name text, profile jsonb, created_at timestamptz)",
	} {
		if _, err := conn.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	b.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), dsn)
		if err == nil {
			c.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
			c.Close(context.Background())
		}
	})
	i := 0
	_, err = conn.CopyFrom(ctx, pgx.Identifier{schema, "users"},
		[]string{"id", "email", "first_name", "last_name", "profile", "created_at"},
		pgx.CopyFromFunc(func() ([]any, error) {
			if i == n {
				return nil, nil
			}
			i++
			u := benchUserAt(i)
			ts, _ := time.Parse(time.RFC3339, u.CreatedAt)
			return []any{u.ID, u.Email, u.FirstName, u.LastName, u.Profile, ts}, nil
		}))
	if err != nil {
		b.Fatal(err)
	}
	return sources.Spec{Location: dsn, Kind: "postgres", Table: schema + ".users", KeyPath: "id"}
}

// resetPeakRSS sets VmHWM back to the current RSS (Linux).
func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// sampleHeap samples HeapInuse every 20 ms until the returned func is
// called, which returns the peak.
func sampleHeap() func() uint64 {
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() uint64 { close(stop); <-done; return peak.Load() }
}
