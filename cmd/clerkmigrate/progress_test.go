package main

import (
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/runner"
)

func TestProgressFigures(t *testing.T) {
	tests := []struct {
		p     runner.Progress
		total int64
		line  string
	}{
		{runner.Progress{Settled: 250_000, AlreadySettled: 250_000, RowsPerSec: 100, Requests: 1, RequestsPerSec: 99.6,
			Failures: 3, RateLimited: 1200}, 1_000_000,
			"500,000/1,000,000 rows (50.0%), 100 rows/s, 100 req/s, 3 failed, 1,200 rate-limited, ETA 1 h 23 min"},
		{runner.Progress{Settled: 41, RowsPerSec: 200, Total: 41}, 0, "41/41 rows (100.0%), 200 rows/s"},
		// An estimate that fell short says nothing rather than over 100 %.
		{runner.Progress{Settled: 12, RowsPerSec: 2}, 10, "12 rows, 2 rows/s"},
		{runner.Progress{Settled: 0}, 0, "0 rows, 0 rows/s"},
	}
	for _, tt := range tests {
		v := &progressView{total: tt.total}
		if got := v.figures(tt.p).line(0); got != tt.line {
			t.Errorf("line:\n got %q\nwant %q", got, tt.line)
		}
	}
	if got := (&progressView{total: 10}).figures(runner.Progress{Settled: 5, RowsPerSec: 1}).line(12); len(got) != 11 {
		t.Errorf("a line on a 12-column terminal is %d long: %q", len(got), got)
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10_000 * time.Second:             "2 h 47 min", // 1,000,000 rows at 100 req/s
		300 * time.Millisecond:           "1 s",
		47 * time.Second:                 "47 s",
		185 * time.Second:                "3 min 5 s",
		25 * time.Minute:                 "25 min",
		100 * time.Hour:                  "4 d 4 h",
		47*time.Hour + 59*time.Minute:    "47 h 59 min",
		20*time.Second + time.Nanosecond: "21 s",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%s) = %q, want %q", d, got, want)
		}
	}
	for n, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1_000_000: "1,000,000", -12345: "-12,345"} {
		if got := groupDigits(n); got != want {
			t.Errorf("groupDigits(%d) = %q, want %q", n, got, want)
		}
	}
}
