package pacer

import "time"

// Setting is how a Pacer admits requests at a given moment.
type Setting struct {
	// Rate is the steady rate of the token bucket, in requests per second;
	// Burst is its depth (at least 1).
	Rate  float64
	Burst int
	// Concurrency is how many requests may be in flight at once (at least 1).
	Concurrency int
	// Timeout bounds one request; 0 means no bound beyond the caller's.
	Timeout time.Duration
}

// Outcome is what the caller reports of a request it sent.
type Outcome struct {
	// Err is the request's error; nil on success.
	Err error
	// RateLimited says the answer was a 429; RetryAfter is its Retry-After
	// (0 when the answer had none).
	RateLimited bool
	RetryAfter  time.Duration
	// PerUser says the request also counts against a budget of its own
	// (Clerk's 10 updates per user): its 429 may be that budget's, and
	// says nothing of the target's.
	PerUser bool
	// Answer says whether the target answered.
	Answer Answer
}

// Answer says how a request ended as far as the target is concerned.
type Answer uint8

const (
	// Answered: the target answered, whatever the status.
	Answered Answer = iota
	// Unanswered: no answer, because the target could not be reached or
	// dropped the connection (refused, reset, TLS failure).
	Unanswered
	// TimedOut: no answer within the Turn's Timeout.
	TimedOut
	// Abandoned: the caller gave up (its context ended); it says nothing
	// of the target.
	Abandoned
)

// Observation is one finished request, as a Policy sees it.
type Observation struct {
	Outcome
	// Seq is the request's admission number (the first admitted is 1);
	// Admitted is how many requests had been admitted when it ended.
	Seq, Admitted int64
	// Start is when the request was admitted; Latency how long it took.
	Start   time.Time
	Latency time.Duration
	// InFlight is how many requests were in flight when it ended, itself
	// included.
	InFlight int
}

// Decision is a Policy's answer to an Observation.
type Decision struct {
	// Setting is how the pacer admits requests from now on.
	Setting
	// Hold, when positive, pauses every caller for that long from now
	// (one hold for all: a longer hold already running wins).
	Hold time.Duration
	// Stop, when set, ends the pacer: every Acquire from now on fails
	// with it (a target that waiting cannot fix).
	Stop error
}

// Policy decides how a Pacer admits requests, in the manner of rclone's
// lib/pacer Calculator: the pacer reports every finished request and
// applies the decision it gets back. The pacer keeps the mechanism (the
// token bucket, the concurrency slots, the shared hold); a policy keeps
// only the judgement, so a better one (learning the real limit, timeouts
// from the latency distribution, giving up on a broken target) is a new
// Policy, not a new pacer.
//
// The pacer calls a Policy's methods one at a time, so a Policy needs no
// lock of its own.
type Policy interface {
	// Start is the setting before any request has ended.
	Start() Setting
	// Observe learns from one finished request and says how to go on.
	Observe(o Observation) Decision
}
