package validate

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
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
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// Run with: go test ./importer/validate -run '^$' -bench Validate1M -benchtime 1x
// One op validates a generated 1,000,000-row CSV end to end: CSV reader,
// mapping (bcrypt digest grammar, email, names, metadata JSON, timestamps),
// duplicate sort, SQLite ledger with one outcome per row, findings files.

const benchMapping = `version: 1
key: id
options:
  required_identifiers: [email_address]
  default_phone_region: US
fields:
  email_address: { from: email, transform: [trim, lower], verified: true }
  first_name: first_name
  last_name: last_name
  username: { from: username, transform: [trim, lower] }
  phone_number: { from: phone, verified: true }
  password_digest: hash
  password_hasher: { value: bcrypt }
  skip_password_requirement: { value: true }
  public_metadata: { from: meta, parse: json }
  private_metadata: { from: { plan: plan } }
  created_at: { from: created, parse: timestamp }
`

const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// writeBenchCSV writes n realistic rows: a distinct bcrypt-shaped digest per
// row, emails, names, a username on half the rows, metadata JSON, and a
// problem on about 1 row in 1000 (a cut digest, a bad email, a duplicate).
func writeBenchCSV(tb testing.TB, path string, n int) {
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(7, 11))
	first := []string{"Alice", "Bob", "Zoë", "José", "Łukasz", "Taro", "Chloé", "Mehmet", "Anna", "Priya"}
	last := []string{"Walker", "Martin", "Ångström", "Álvarez", "Żółć", "Tanaka", "Dubois", "Öztürk", "Karenina", "Sharma"}
	plans := []string{"free", "pro", "team"}
	fmt.Fprintln(w, "id,email,first_name,last_name,username,phone,hash,meta,plan,created")
	var digest [53]byte
	for i := 1; i <= n; i++ {
		for j := range digest {
			digest[j] = bcryptAlphabet[rng.IntN(64)]
		}
		hash := "$2a$10$" + string(digest[:])
		email := "user" + strconv.Itoa(i) + "@example.com"
		switch i % 1000 {
		case 17:
			hash = hash[:40]
		case 29:
			email = "user" + strconv.Itoa(i) + "-at-example.com"
		case 31:
			email = "user" + strconv.Itoa(i-1) + "@Example.com"
		}
		user := ""
		if i%2 == 0 {
			user = "user_" + strconv.Itoa(i)
		}
		fmt.Fprintf(w, "%d,%s,%s,%s,%s,%s,%s,\"{\"\"theme\"\":\"\"dark\"\",\"\"newsletter\"\":%t,\"\"score\"\":%d}\",%s,%s\n",
			100000+i, email, first[i%10], last[(i/10)%10], user, benchPhone(i), hash, i%3 == 0, i%97,
			plans[i%3], time.Unix(1_500_000_000+int64(i)*61, 0).UTC().Format("2006-01-02 15:04:05"))
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
}

// benchPhone is row i's phone number: none on 1 row in 10, otherwise a
// distinct number in one of the forms exports hold: US national with
// punctuation, E.164 of several countries (some with spaces), 00-prefixed.
func benchPhone(i int) string {
	n := i % 10_000_000
	switch i % 10 {
	case 0:
		return ""
	case 1, 2, 3:
		return fmt.Sprintf("(%03d) %03d-%04d", 201+n%7*100, 234+n/10000%700, n%10000) // US national
	case 4:
		return fmt.Sprintf("+1%03d%03d%04d", 415+n%3*100, 234+n/10000%700, n%10000) // US E.164
	case 5:
		return fmt.Sprintf("+44 7%03d %06d", 700+n%300, n%1000000) // GB mobile
	case 6:
		return fmt.Sprintf("+4930%08d", n) // DE Berlin
	case 7:
		return fmt.Sprintf("+33 6 %02d %02d %02d %02d", n/1000000%100, n/10000%100, n/100%100, n%100) // FR mobile
	case 8:
		return fmt.Sprintf("0091 98%03d %05d", n/100000%1000, n%100000) // IN mobile, 00 prefix
	default:
		return fmt.Sprintf("415.%03d.%04d", 234+n/10000%700, n%10000) // US national with dots
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
	m, err := mapping.Parse([]byte(benchMapping))
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
