package pacer

import "time"

// learner keeps E, the requests per window the target grants, as Budget's
// doc describes: the told budget until a 429, then what a window after a
// hold was measured to let through, one less for each 429 nothing
// explains, and probed back up after quiet spells.
type learner struct {
	told   int
	window time.Duration
	est    int

	// The last hold a 429 started: when it ends, how many requests had
	// been admitted when it began (none are admitted during it), and the
	// round trip of that 429 (a bound on how late its answer came).
	holdEnd     time.Time
	holdSeq     int64
	holdLatency time.Duration
	armed       bool // its window may be measured (it had a Retry-After)

	// The last measurement, refined when a 429 of the same window that
	// was admitted earlier reports late.
	measuredHoldSeq, measuredSeq int64

	lastChange time.Time     // last 429 event or probe
	probedAt   time.Time     // last probe
	quietFor   time.Duration // the quiet spell before the next probe

	measured, decreases, probes int
}

// maxQuiet bounds the quiet spell between probes.
const maxQuiet = 16 * ProbeAfter

func newLearner(told Rate) learner {
	return learner{told: told.Requests, window: told.Window, est: told.Requests, quietFor: ProbeAfter}
}

// limited takes a 429 that ended at now and returns how long to hold
// every caller.
func (l *learner) limited(o Observation, now time.Time) time.Duration {
	hold := o.RetryAfter
	if hold <= 0 {
		hold = DefaultHold
	}
	if o.PerUser {
		return hold
	}
	l.refine(o)
	if o.Seq <= l.holdSeq {
		return 0 // admitted before the last hold began: that hold answered it
	}
	if l.measure(o, now) {
		l.measured++
	} else {
		l.est = max(1, l.est-1)
		l.decreases++
	}
	if !l.probedAt.IsZero() && now.Sub(l.probedAt) < 2*l.window {
		l.quietFor = min(2*l.quietFor, maxQuiet)
	}
	l.armed = o.RetryAfter > 0
	l.holdSeq, l.holdEnd, l.holdLatency, l.lastChange = o.Admitted, now.Add(hold), o.Latency, now
	return hold
}

// measure sets E from a 429 (ended at now) in the window that began
// during the last hold: every request that window counted was admitted
// after the hold, so those admitted before the refused one are what it let
// through.
//
// The refused request must be of that window, not a later one. The hold's
// Retry-After R₀, in whole seconds from Clerk's refusal, ended the hold at
// most a second plus the 429's way back past the end E of the window that
// refused it: E > holdEnd − 1 s − holdLatency. The new 429's own
// Retry-After R says its window ends by now + R. When now + R ≤ holdEnd −
// 1 s − holdLatency + 2W < E + 2W, that window ends before E + 2W: it is
// the one that began at E.
func (l *learner) measure(o Observation, now time.Time) bool {
	if !l.armed || o.Seq <= l.holdSeq || o.RetryAfter <= 0 {
		return false
	}
	latest := l.holdEnd.Add(-time.Second - l.holdLatency + 2*l.window)
	if now.Add(o.RetryAfter).After(latest) {
		return false
	}
	l.est = max(1, min(l.est, int(o.Seq-l.holdSeq-1)))
	l.measuredHoldSeq, l.measuredSeq = l.holdSeq, o.Seq
	return true
}

// refine lowers the last measurement when a request of the same window
// admitted before the one measured was refused too (answers can arrive
// out of order).
func (l *learner) refine(o Observation) {
	if o.Seq > l.measuredHoldSeq && o.Seq < l.measuredSeq {
		l.est = max(1, min(l.est, int(o.Seq-l.measuredHoldSeq-1)))
		l.measuredSeq = o.Seq
	}
}

// quiet probes E upwards after a quiet spell.
func (l *learner) quiet(now time.Time) {
	if l.est >= l.told || now.Sub(l.lastChange) < l.quietFor {
		return
	}
	l.est = min(l.told, l.est+max(1, l.told/100))
	l.probedAt, l.lastChange = now, now
	l.probes++
}
