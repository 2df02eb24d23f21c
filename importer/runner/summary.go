package runner

import (
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
)

// Progress is a run's state for a display.
type Progress struct {
	RunID          string
	Read           int64 // source rows read so far
	AlreadySettled int64 // rows an earlier invocation settled (skipped now)
	Settled        int64 // rows this invocation settled
	ByOutcome      map[checkpoint.Outcome]int64
	Failures       int64 // failed + invalid, this invocation
	Requests       int64 // API calls sent
	RateLimited    int64 // 429s met
	Elapsed        time.Duration
	RowsPerSec     float64 // settled per second
	RequestsPerSec float64
	// Total and ETA are set when the number of rows is known.
	Total int64
	ETA   time.Duration
	// Latency counts the latencies of every request so far; subtract an
	// earlier Progress's to get an interval's percentiles.
	Latency pacer.Latencies
}

// Summary is what a run did.
type Summary struct {
	RunID  string
	Kind   string
	Status checkpoint.RunStatus
	// Read counts source rows read; AlreadySettled those that an earlier
	// invocation had settled and that were skipped.
	Read, AlreadySettled int64
	// ByOutcome counts the rows this invocation settled.
	ByOutcome map[checkpoint.Outcome]int64
	// Requests counts the attempts sent (what the target counted: the
	// pre-flight, retries, 429s and lookups included); Creates and Deletes
	// are those of POST /v1/users and DELETE /v1/users/{id}, Lookups the
	// reads (GET a user, a list, a count).
	Requests, Creates, Lookups, Deletes int64
	// RateLimited counts 429 answers, Holds the pauses they started.
	RateLimited, Holds int64
	// Retries counts calls sent again; Recovered, calls whose answer was
	// lost and whose effect a lookup found.
	Retries, Recovered int64
	PeakInFlight       int
	// Capped is set when the ceiling on requests in flight, not the
	// budget, limited the rate (pacer.Budget's report).
	Capped  *pacer.Capped
	Elapsed time.Duration
	// Budget is the configured rate; RequestsPerSec what was achieved.
	Budget         pacer.Rate
	RequestsPerSec float64
	RowsPerSec     float64
}

// Settled is the number of rows this invocation settled.
func (s Summary) Settled() int64 {
	var n int64
	for _, c := range s.ByOutcome {
		n += c
	}
	return n
}
