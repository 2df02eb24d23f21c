//go:build pprof

package main

import (
	"fmt"
	"os"
	"runtime/metrics"
	"runtime/pprof"
)

// With -tags pprof (for docs/BENCHMARKS.md; never in a release build):
// CLERKMIGRATE_CPUPROFILE=FILE writes a CPU profile of the whole process,
// and CLERKMIGRATE_CPUCLASSES=1 prints at exit how its Go-level CPU time
// divides (user, GC, idle: P time with no goroutine to run, which the
// machine's load does not inflate).
func init() {
	if path := os.Getenv("CLERKMIGRATE_CPUPROFILE"); path != "" {
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
	if os.Getenv("CLERKMIGRATE_CPUCLASSES") != "" {
		prev := beforeExit
		beforeExit = func() {
			prev()
			printCPUClasses()
		}
	}
}

func printCPUClasses() {
	s := []metrics.Sample{{Name: "/cpu/classes/user:cpu-seconds"}, {Name: "/cpu/classes/gc/total:cpu-seconds"},
		{Name: "/cpu/classes/idle:cpu-seconds"}, {Name: "/cpu/classes/total:cpu-seconds"}}
	metrics.Read(s)
	for _, x := range s {
		fmt.Fprintf(os.Stderr, "cpuclass %s %.3f\n", x.Name, x.Value.Float64())
	}
}
