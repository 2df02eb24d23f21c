//go:build pprof

package main

import (
	"os"
	"runtime/pprof"
)

// With -tags pprof, CLERKMIGRATE_CPUPROFILE=FILE writes a CPU profile of
// the whole process (for docs/BENCHMARKS.md); never in a release build.
func init() {
	path := os.Getenv("CLERKMIGRATE_CPUPROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		panic(err)
	}
	beforeExit = func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
