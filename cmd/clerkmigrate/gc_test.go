package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestRunGC: import and sync collect at runGCPercent unless GOGC is set,
// and under runMemoryLimit unless GOMEMLIMIT is; the environment wins.
func TestRunGC(t *testing.T) {
	t.Cleanup(func() { debug.SetMemoryLimit(math.MaxInt64) })
	for _, tc := range []struct {
		env  string
		want int
	}{{"", runGCPercent}, {"70", 123}} {
		t.Setenv("GOGC", tc.env)
		old := debug.SetGCPercent(123)
		runGC()
		if got := debug.SetGCPercent(old); got != tc.want {
			t.Errorf("GOGC=%q: GC percent %d after runGC, want %d", tc.env, got, tc.want)
		}
	}
	for _, tc := range []struct {
		env  string
		want int64
	}{{"", runMemoryLimit}, {"1GiB", 123 << 20}} {
		t.Setenv("GOMEMLIMIT", tc.env)
		debug.SetMemoryLimit(123 << 20)
		runGC()
		if got := debug.SetMemoryLimit(-1); got != tc.want {
			t.Errorf("GOMEMLIMIT=%q: memory limit %d after runGC, want %d", tc.env, got, tc.want)
		}
	}
}
