package main

import (
	"runtime/debug"
	"testing"
)

// TestImportGC: the import collects at importGCPercent unless GOGC is set,
// which wins.
func TestImportGC(t *testing.T) {
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
}
