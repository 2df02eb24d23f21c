package mapping

import (
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"syscall"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/sources"
)

// BenchmarkMap maps the sample rows (good and bad) in turn: ns/op and
// allocs/op are per row. cpu-ns/row is the process's CPU time per row, which
// a machine busy with other work inflates less than wall time.
func BenchmarkMap(b *testing.B) {
	m := loadSample(b)
	benchRows(b, m, sampleRecords(b, m))
}

// BenchmarkMapNoPhone maps the sample rows without a phone number (phone
// parsing with libphonenumber dominates the rows that have one).
func BenchmarkMapNoPhone(b *testing.B) {
	m := loadSample(b)
	var recs []sources.Record
	for _, r := range sampleRecords(b, m) {
		if v, _ := r.Values.Lookup("phone"); v == "" {
			recs = append(recs, r)
		}
	}
	benchRows(b, m, recs)
}

// BenchmarkMapAllInto is BenchmarkMap the validator's way: every problem,
// into one reused request.
func BenchmarkMapAllInto(b *testing.B) {
	m := loadSample(b)
	var p request.CreateUser
	benchRowsWith(b, sampleRecords(b, m), func(r sources.Record) { m.MapAllInto(r, &p) })
}

func benchRows(b *testing.B, m *Mapping, recs []sources.Record) {
	benchRowsWith(b, recs, func(r sources.Record) { m.Map(r) })
}

func benchRowsWith(b *testing.B, recs []sources.Record, mapRow func(sources.Record)) {
	b.ReportAllocs()
	start := cpuTime()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		mapRow(recs[i%len(recs)])
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/row")
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
