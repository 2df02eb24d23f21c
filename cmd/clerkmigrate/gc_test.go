package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestImportGC: the import collects at importGCPercent unless GOGC is set,
// and under importMemoryLimit unless GOMEMLIMIT is; the environment wins.
func TestImportGC(t *testing.T) {
	t.Cleanup(func() { debug.SetMemoryLimit(math.MaxInt64) })
	for _, tc := range []struct {
		env  string
		want int
	}{{"", importGCPercent}, {"70", 123}} {
		t.Setenv("GOGC", tc.env)
		old := debug.SetGCPercent(123)
		importGC()
		if got := debug.SetGCPercent(old); got != tc.want {
			t.Errorf("GOGC=%q: GC percent %d after importGC, want %d", tc.env, got, tc.want)
		}
	}
	for _, tc := range []struct {
		env  string
		want int64
	}{{"", importMemoryLimit}, {"1GiB", 123 << 20}} {
		t.Setenv("GOMEMLIMIT", tc.env)
		debug.SetMemoryLimit(123 << 20)
		importGC()
		if got := debug.SetMemoryLimit(-1); got != tc.want {
			t.Errorf("GOMEMLIMIT=%q: memory limit %d after importGC, want %d", tc.env, got, tc.want)
		}
	}
}
