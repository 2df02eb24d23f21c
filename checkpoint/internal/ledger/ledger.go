// Package ledger holds what the checkpoint stores share: validation of the
// rows and settlements they are given, and who this process is when it takes
// a run.
package ledger

import (
	"context"
	"fmt"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// PosError is a row or settlement a store refused, named by its index in the
// call and its position.
type PosError struct {
	Index int   // index in the slice given to the store
	Pos   int64 // the row's position
	Field string
	Msg   string
}

func (e *PosError) Error() string {
	return fmt.Sprintf("checkpoint: item %d (pos %d): %s: %s", e.Index, e.Pos, e.Field, e.Msg)
}

// InFlightRows checks rows and returns them ordered by position with one row
// per position, the last given winning.
func InFlightRows(rows []checkpoint.Row) ([]checkpoint.Row, error) {
	byPos := make(map[int64]int, len(rows))
	out := make([]checkpoint.Row, 0, len(rows))
	for i, r := range rows {
		if r.Pos < 1 {
			return nil, &PosError{Index: i, Pos: r.Pos, Field: "Pos", Msg: "positions start at 1"}
		}
		if j, ok := byPos[r.Pos]; ok {
			out[j] = r
			continue
		}
		byPos[r.Pos] = len(out)
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pos < out[j].Pos })
	return out, nil
}

// Settlements checks settlements and returns them ordered by position with
// one per position, the last given winning.
func Settlements(s []checkpoint.Settlement) ([]checkpoint.Settlement, error) {
	byPos := make(map[int64]int, len(s))
	out := make([]checkpoint.Settlement, 0, len(s))
	for i, x := range s {
		switch {
		case x.Pos < 1:
			return nil, &PosError{Index: i, Pos: x.Pos, Field: "Pos", Msg: "positions start at 1"}
		case x.Outcome == "":
			return nil, &PosError{Index: i, Pos: x.Pos, Field: "Outcome", Msg: "empty"}
		case x.Attempts < 0:
			return nil, &PosError{Index: i, Pos: x.Pos, Field: "Attempts", Msg: "negative"}
		}
		if j, ok := byPos[x.Pos]; ok {
			out[j] = x
			continue
		}
		byPos[x.Pos] = len(out)
		out = append(out, x)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pos < out[j].Pos })
	return out, nil
}

// CheckSpec refuses a RunSpec a store cannot begin.
func CheckSpec(spec checkpoint.RunSpec) error {
	if spec.ID == "" {
		return fmt.Errorf("checkpoint: BeginRun: the run ID is empty")
	}
	return nil
}

// Mismatch reports how a reopen's fingerprints differ from the run's, or nil
// when they match or Force is set.
func Mismatch(run checkpoint.Run, spec checkpoint.RunSpec) error {
	if spec.Force {
		return nil
	}
	var what string
	switch {
	case run.SourceFingerprint != spec.SourceFingerprint && run.MappingFingerprint != spec.MappingFingerprint:
		what = "source and mapping"
	case run.SourceFingerprint != spec.SourceFingerprint:
		what = "source"
	case run.MappingFingerprint != spec.MappingFingerprint:
		what = "mapping"
	default:
		return nil
	}
	return fmt.Errorf("%w: run %q: the %s fingerprint differs (a forced reopen goes on anyway)",
		checkpoint.ErrFingerprintMismatch, run.ID, what)
}

// Held is the run runID a store holds in held (guarded by mu, as is
// closed), or ErrNotHeld, ErrClosed or ctx's error.
func Held[H any](ctx context.Context, mu *sync.Mutex, closed *bool, held map[string]H, runID string) (H, error) {
	var zero H
	if err := ctx.Err(); err != nil {
		return zero, err
	}
	mu.Lock()
	defer mu.Unlock()
	if *closed {
		return zero, checkpoint.ErrClosed
	}
	h, ok := held[runID]
	if !ok {
		return zero, fmt.Errorf("%w: %q", checkpoint.ErrNotHeld, runID)
	}
	return h, nil
}

// Me is this process as a holder of a run taken now.
func Me() checkpoint.Holder {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown-host"
	}
	return checkpoint.Holder{Host: host, PID: os.Getpid(), StartedAt: time.Now().UTC()}
}

// NextContiguous returns how far the gap-free prefix 1..c reaches once the
// positions that follow c, as next yields them in ascending order, are
// counted. next returns ok=false at the end.
func NextContiguous(c int64, next func() (pos int64, ok bool, err error)) (int64, error) {
	for {
		p, ok, err := next()
		if err != nil || !ok || p != c+1 {
			return c, err
		}
		c = p
	}
}

// MaxSettled is the settled prefix: every position up to the gap-free
// prefix c is in the ledger, and the first row still in flight (0 when none)
// ends it.
func MaxSettled(contiguous, firstInFlight int64) int64 {
	if firstInFlight > 0 && firstInFlight-1 < contiguous {
		return firstInFlight - 1
	}
	return contiguous
}
