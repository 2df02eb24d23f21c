package emulator

import (
	"maps"
	"sync"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

// Stats counts the /v1 traffic the emulator saw. It never holds a request
// body, key or secret.
type Stats struct {
	// Total is every /v1 request (and any other non-control request).
	Total int `json:"total"`
	// Routes is per route pattern, e.g. "POST /v1/users" or
	// "PATCH /v1/users/{user_id}"; "unmatched" for unknown routes.
	Routes map[string]RouteStats `json:"routes"`
	// Status counts answers by HTTP status over all routes.
	Status map[int]int `json:"status"`
	// RateLimited is the number of 429 answers.
	RateLimited int `json:"rate_limited"`
	// NoAnswer is the number of requests whose connection was closed
	// without an answer (resets, lost responses, clients that gave up).
	NoAnswer int `json:"no_answer"`
	// PeakConcurrency is the most requests handled at once.
	PeakConcurrency int `json:"peak_concurrency"`
	// PeakWindow is the most requests one instance's rate-limit window
	// counted (those it refused included).
	PeakWindow int `json:"peak_window"`
	// MissingAPIVersion counts authenticated requests without a
	// Clerk-API-Version header; OtherAPIVersion those with a value other
	// than clerk.APIVersion.
	MissingAPIVersion int `json:"missing_api_version"`
	OtherAPIVersion   int `json:"other_api_version"`
	// Faults counts injected faults by kind.
	Faults FaultStats `json:"faults"`
}

// RouteStats counts the answers of one route.
type RouteStats struct {
	Total    int         `json:"total"`
	Status   map[int]int `json:"status"`
	NoAnswer int         `json:"no_answer"`
}

// FaultStats counts injected faults.
type FaultStats struct {
	Errors        int `json:"errors"`
	Resets        int `json:"resets"`
	LostResponses int `json:"lost_responses"`
	Slow          int `json:"slow"`
}

// outcome says whether an answer was written.
type outcome bool

const (
	outcomeAnswered outcome = true
	outcomeNoAnswer outcome = false
)

type statsRecorder struct {
	mu sync.Mutex
	s  Stats
}

func newStatsRecorder() *statsRecorder {
	r := &statsRecorder{}
	r.reset()
	return r
}

func (r *statsRecorder) reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.s = Stats{Routes: map[string]RouteStats{}, Status: map[int]int{}}
}

func (r *statsRecorder) record(pattern string, status int, o outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rs := r.s.Routes[pattern]
	if rs.Status == nil {
		rs.Status = map[int]int{}
	}
	rs.Total++
	r.s.Total++
	if o == outcomeNoAnswer {
		rs.NoAnswer++
		r.s.NoAnswer++
	} else {
		rs.Status[status]++
		r.s.Status[status]++
		if status == 429 {
			r.s.RateLimited++
		}
	}
	r.s.Routes[pattern] = rs
}

func (r *statsRecorder) concurrency(n int64) {
	r.mu.Lock()
	if int(n) > r.s.PeakConcurrency {
		r.s.PeakConcurrency = int(n)
	}
	r.mu.Unlock()
}

func (r *statsRecorder) version(v string) {
	if v == clerk.APIVersion {
		return
	}
	r.mu.Lock()
	if v == "" {
		r.s.MissingAPIVersion++
	} else {
		r.s.OtherAPIVersion++
	}
	r.mu.Unlock()
}

func (r *statsRecorder) fault(k faultKind) {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch k {
	case faultError:
		r.s.Faults.Errors++
	case faultReset:
		r.s.Faults.Resets++
	case faultLost:
		r.s.Faults.LostResponses++
	case faultSlow:
		r.s.Faults.Slow++
	}
}

// Stats returns a copy of the counters.
func (e *Emulator) Stats() Stats {
	e.stats.mu.Lock()
	defer e.stats.mu.Unlock()
	s := e.stats.s
	s.PeakWindow = e.limits.peakWindow()
	s.Status = maps.Clone(s.Status)
	s.Routes = make(map[string]RouteStats, len(e.stats.s.Routes))
	for k, v := range e.stats.s.Routes {
		v.Status = maps.Clone(v.Status)
		s.Routes[k] = v
	}
	return s
}
