package mapping

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// dateTimeCandidates are 19-character date-times around every edge that
// time.Parse checks (month and day ranges, leap years, 24:00, 60 seconds)
// and random digit strings with the right punctuation, some with a sign,
// a space or a letter where a digit belongs.
func dateTimeCandidates() []string {
	var out []string
	for _, y := range []string{"0000", "0001", "1899", "1900", "1970", "2000", "2023", "2024", "2100", "9999"} {
		for _, md := range []string{"01-01", "01-31", "01-32", "02-28", "02-29", "02-30", "04-30", "04-31", "12-31", "00-10", "13-01", "12-00"} {
			for _, hms := range []string{"00:00:00", "23:59:59", "24:00:00", "12:60:00", "12:00:60", "07:08:09"} {
				for _, sep := range []string{"T", " ", "t"} {
					out = append(out, y+"-"+md+sep+hms)
				}
			}
		}
	}
	r := rand.New(rand.NewPCG(3, 4))
	odd := []byte("0123456789+- x")
	for range 200_000 {
		b := []byte(fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", r.IntN(10000), r.IntN(14), r.IntN(33), r.IntN(26), r.IntN(62), r.IntN(62)))
		if r.IntN(8) == 0 {
			b[r.IntN(len(b))] = odd[r.IntN(len(odd))]
		}
		out = append(out, string(b))
	}
	return out
}

// TestParseDateTimeSameAsTimeParse: the fast path gives time.Parse's answer
// for every candidate, and takes the common forms itself.
func TestParseDateTimeSameAsTimeParse(t *testing.T) {
	fast := 0
	for _, s := range dateTimeCandidates() {
		layout := "2006-01-02T15:04:05"
		switch s[10] {
		case ' ':
			layout = time.DateTime
		case 't':
			layout = "2006-01-02t15:04:05"
		}
		want, werr := time.Parse(layout, s)
		got, gerr := parseDateTime(layout, s)
		if (werr == nil) != (gerr == nil) || got != want {
			t.Fatalf("%q: got %v, %v; time.Parse %v, %v", s, got, gerr, want, werr)
		}
		if _, ok := fastDateTime(s, layout[10]); ok {
			fast++
		}
	}
	if fast < 50_000 {
		t.Errorf("only %d candidates took the fast path", fast)
	}
}

// TestFormatTimestampSameAsFormat: the direct writer gives RFC3339Nano's
// text of UTC times, whole seconds or not, in zones or not.
func TestFormatTimestampSameAsFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	zones := []*time.Location{time.UTC, time.FixedZone("x", -9*3600), time.FixedZone("y", 5*3600+1800)}
	edges := []time.Time{time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(-1, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), {}}
	for i := range 200_000 {
		tm := time.Unix(r.Int64N(400_000_000_000)-62_200_000_000, 0)
		if i%5 == 0 {
			tm = tm.Add(time.Duration(r.IntN(1e9)))
		}
		tm = tm.In(zones[i%len(zones)])
		if i < len(edges) {
			tm = edges[i]
		}
		if got, want := formatTimestamp(tm), tm.UTC().Format(time.RFC3339Nano); got != want {
			t.Fatalf("%v: got %q, want %q", tm, got, want)
		}
	}
}
