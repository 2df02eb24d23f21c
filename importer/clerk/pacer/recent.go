package pacer

import (
	"slices"
	"time"
)

// recent holds the latencies of the last len(buf) requests added, for
// quantiles; it sorts a copy only when an eighth of it is new.
type recent struct {
	buf    [512]time.Duration
	n      int // added in all
	sorted []time.Duration
	stale  int // added since sorted
}

func (r *recent) add(d time.Duration) {
	r.buf[r.n%len(r.buf)] = d
	r.n++
	r.stale++
}

// count is how many latencies it holds.
func (r *recent) count() int { return min(r.n, len(r.buf)) }

// quantile is the q-quantile (0 ≤ q ≤ 1) of the latencies held, by the
// nearest rank; 0 when it holds none.
func (r *recent) quantile(q float64) time.Duration {
	c := r.count()
	if c == 0 {
		return 0
	}
	if len(r.sorted) != c || r.stale >= max(1, c/8) {
		r.sorted = append(r.sorted[:0], r.buf[:c]...)
		slices.Sort(r.sorted)
		r.stale = 0
	}
	i := int(q*float64(c-1) + 0.5)
	return r.sorted[min(max(i, 0), c-1)]
}
