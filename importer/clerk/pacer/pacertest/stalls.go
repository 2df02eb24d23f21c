// Package pacertest measures, for the tests of pacing, what those tests do
// not control: how late this process's goroutines wake.
//
// The pacer keeps every fixed window of the target under its budget as long
// as the delay from admission to the target's counter varies by no more
// than its jitter allowance J (see pacer.Budget). In a test the target is
// an emulator in the same process, so that delay includes goroutine
// wake-ups, and on a loaded machine a wake-up can come tens of milliseconds
// late: a window then counts a request or two more, through no fault of the
// pacer. A test that asserts "no 429" holds the pacer to its promise only
// where the machine kept the promise's premise: it asks Stalls whether the
// process stalled around each 429, and fails on a 429 that no stall
// explains.
package pacertest

import (
	"sync"
	"testing"
	"time"
)

// Stall is one late wake-up: At is when the sleeper woke, Late how much
// later than asked.
type Stall struct {
	At   time.Time
	Late time.Duration
}

// Stalls records the wake-ups of a goroutine that sleeps a millisecond at
// a time, from Watch until the end of the test, keeping those later than
// a millisecond.
type Stalls struct {
	mu     sync.Mutex
	stalls []Stall
}

// tick is how long the watching goroutine sleeps at a time.
const tick = time.Millisecond

// Watch starts recording until tb ends.
func Watch(tb testing.TB) *Stalls {
	s := &Stalls{}
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTimer(tick)
		defer t.Stop()
		for {
			asked := time.Now().Add(tick)
			t.Reset(tick)
			select {
			case <-stop:
				return
			case <-t.C:
				now := time.Now() // when this goroutine ran again, not when the timer fired
				if late := now.Sub(asked); late > tick {
					s.mu.Lock()
					s.stalls = append(s.stalls, Stall{At: now, Late: late})
					s.mu.Unlock()
				}
			}
		}
	}()
	tb.Cleanup(func() {
		close(stop)
		<-done
	})
	return s
}

// Worst is the latest wake-up in [from, to] (a stall that ended in it).
func (s *Stalls) Worst(from, to time.Time) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	var worst time.Duration
	for _, st := range s.stalls {
		if !st.At.Before(from) && !st.At.After(to) {
			worst = max(worst, st.Late)
		}
	}
	return worst
}

// Span is a request from the moment it was admitted to its answer.
type Span struct{ Sent, Answered time.Time }

// Unexplained returns the 429s (refused, the spans of refused requests)
// that the machine does not account for, and logs those it does. The
// target counts in fixed windows of length window, aligned as the
// emulator's are; rate is the pacer's admission rate (requests per
// second). A window's 429s are the machine's doing when the process
// stalled, in that window or the one before, by at least least (the part
// of the pacer's jitter allowance left for what it does not measure), and
// when there are no more of them than the stall can have pushed into the
// window: one, plus rate times the stall.
func (s *Stalls) Unexplained(tb testing.TB, refused []Span, window time.Duration, rate float64, least time.Duration) []Span {
	tb.Helper()
	byWindow := map[time.Time][]Span{}
	for _, r := range refused {
		counted := r.Sent.Add(r.Answered.Sub(r.Sent) / 2) // counted somewhere in between
		w := counted.Truncate(window)
		byWindow[w] = append(byWindow[w], r)
	}
	var out []Span
	for w, rs := range byWindow {
		worst := s.Worst(w.Add(-window), w.Add(window))
		most := 1 + int(rate*worst.Seconds())
		if worst >= least && len(rs) <= most {
			tb.Logf("%d 429s in the window from %s: the process stalled %s then (a stall of that length can push %d requests into a window)",
				len(rs), w.Format("15:04:05.000"), worst.Round(time.Millisecond), most)
			continue
		}
		tb.Logf("%d 429s in the window from %s: the longest stall then was %s",
			len(rs), w.Format("15:04:05.000"), worst.Round(time.Millisecond))
		out = append(out, rs...)
	}
	return out
}
