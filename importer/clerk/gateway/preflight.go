package gateway

import (
	"context"
	"fmt"
	"sync"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

// preflight is what a gateway's pre-flight learnt.
type preflight struct {
	mu   sync.Mutex
	inst *clerk.Instance // the first answer; nil until one came
	// cost is what the pre-flight calls sent, from the first to the one
	// answered; claimed once a run counted it (ClaimPreflight).
	cost    Stats
	claimed bool
}

// Preflight checks, before the first row, that the target answers and
// accepts the key, and says who it is: one GET /v1/instance through every
// layer (paced, retried and counted like any call). It returns the
// instance the key reaches (its id tells two instances behind one URL
// apart, and stays when the key is rotated); otherwise a *PreflightError,
// which ends the run before it starts (clerk.Classify says Fatal): a
// refused key, a target that does not answer (a refused connection, a bad
// certificate: pacer.ErrTargetDown once the pacer's policy has heard
// nothing for pacer.DownFor), or one that kept failing.
//
// The first answer is kept: later calls on the same gateway return it
// without a request (a command and the engine it runs may both ask).
func (g *Gateway) Preflight(ctx context.Context) (clerk.Instance, error) {
	g.pre.mu.Lock()
	defer g.pre.mu.Unlock()
	if g.pre.inst != nil {
		return *g.pre.inst, nil
	}
	before := g.Stats()
	in, err := g.GetInstance(ctx)
	g.pre.cost = addStats(g.pre.cost, g.Stats().Sub(before))
	if err != nil {
		if clerk.Classify(err) == clerk.Canceled || ctx.Err() != nil {
			return clerk.Instance{}, err
		}
		return clerk.Instance{}, &PreflightError{Err: err}
	}
	g.pre.inst = in
	return *in, nil
}

// PreflightError is a target that failed the pre-flight check.
type PreflightError struct {
	Err error
}

func (e *PreflightError) Error() string {
	return fmt.Sprintf("pre-flight check of the target failed, nothing was imported: %v", e.Err)
}

func (e *PreflightError) Unwrap() error { return e.Err }

// Fatal says the run must not start (clerk.Classify reads it).
func (e *PreflightError) Fatal() bool { return true }

// ClaimPreflight returns what the gateway's pre-flight sent (its requests,
// retries, 429s) to the first run that asks, and nothing to later ones: a
// run that starts on a gateway whose pre-flight was sent before it (by
// the command, to name the target's lock) counts those requests as its
// own, so that its count is what the target received, and a second run on
// the same gateway, which sent none, does not count them again.
func (g *Gateway) ClaimPreflight() Stats {
	g.pre.mu.Lock()
	defer g.pre.mu.Unlock()
	if g.pre.claimed {
		return Stats{}
	}
	g.pre.claimed = true
	return g.pre.cost
}

// addStats adds b's counts to a's (the pacer's peak, setting and the
// policy's report are b's).
func addStats(a, b Stats) Stats {
	var zero Stats
	return b.Sub(zero.Sub(a))
}
