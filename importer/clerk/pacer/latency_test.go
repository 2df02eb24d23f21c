package pacer

import (
	"testing"
	"time"
)

func TestLatenciesQuantiles(t *testing.T) {
	var r latencyRecorder
	for range 90 {
		r.observe(10 * time.Millisecond)
	}
	for range 9 {
		r.observe(200 * time.Millisecond)
	}
	r.observe(5 * time.Second)
	l := r.snapshot()
	if l.Count() != 100 {
		t.Fatalf("count %d", l.Count())
	}
	within := func(name string, got, want time.Duration) {
		if got < want || float64(got) > 1.5*float64(want) {
			t.Errorf("%s = %s, want within [%s, 1.5x]", name, got, want)
		}
	}
	within("p50", l.Quantile(0.5), 10*time.Millisecond)
	within("p90", l.Quantile(0.9), 10*time.Millisecond)
	within("p95", l.Quantile(0.95), 200*time.Millisecond)
	within("p100", l.Quantile(1), 5*time.Second)

	before := l
	r.observe(time.Second)
	if d := r.snapshot().Sub(before); d.Count() != 1 {
		t.Errorf("interval count %d, want 1", d.Count())
	} else {
		within("interval p50", d.Quantile(0.5), time.Second)
	}
	if (Latencies{}).Quantile(0.5) != 0 {
		t.Error("empty histogram has a quantile")
	}
	r.observe(time.Hour)
	if got := r.snapshot().Sub(before).Quantile(1); got != latencyBuckets[len(latencyBuckets)-1] {
		t.Errorf("an hour is reported as the largest bound, got %s", got)
	}
}
