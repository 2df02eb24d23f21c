package pacer

import (
	"math"
	"sync/atomic"
	"time"
)

// latencyBuckets are the upper bounds of the latency histogram: from 1 ms,
// each 1.5 times the one before, up to about 70 s; the last bucket holds
// anything slower.
var latencyBuckets = func() []time.Duration {
	var b []time.Duration
	for d := float64(time.Millisecond); d < float64(70*time.Second); d *= 1.5 {
		b = append(b, time.Duration(d))
	}
	return b
}()

// latencyRecorder counts request latencies into fixed buckets, lock-free.
type latencyRecorder struct {
	counts [64]atomic.Int64
}

// observe counts one request that took d.
func (r *latencyRecorder) observe(d time.Duration) {
	i := 0
	for i < len(latencyBuckets) && d > latencyBuckets[i] {
		i++
	}
	r.counts[i].Add(1)
}

// snapshot returns the counts so far.
func (r *latencyRecorder) snapshot() Latencies {
	var l Latencies
	for i := range latencyBuckets {
		l.counts[i] = r.counts[i].Load()
	}
	l.counts[len(latencyBuckets)] = r.counts[len(latencyBuckets)].Load()
	return l
}

// Latencies is a histogram of request latencies, cumulative since the run
// began. Subtract an earlier snapshot to get an interval's.
type Latencies struct {
	counts [64]int64
}

// Count is the number of requests counted.
func (l Latencies) Count() int64 {
	var n int64
	for _, c := range l.counts {
		n += c
	}
	return n
}

// Sub returns the requests counted in l but not in earlier.
func (l Latencies) Sub(earlier Latencies) Latencies {
	for i := range l.counts {
		l.counts[i] -= earlier.counts[i]
	}
	return l
}

// Quantile estimates the q-quantile (0 < q ≤ 1) as the upper bound of the
// bucket that holds it (within a factor of 1.5); 0 when nothing was counted.
func (l Latencies) Quantile(q float64) time.Duration {
	n := l.Count()
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(n)))
	var seen int64
	for i, c := range l.counts {
		seen += c
		if seen >= rank {
			if i < len(latencyBuckets) {
				return latencyBuckets[i]
			}
			break
		}
	}
	return latencyBuckets[len(latencyBuckets)-1]
}
