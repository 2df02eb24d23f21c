package gateway

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

// counters are a gateway's counts, shared by its layers.
type counters struct {
	sent        [numOps]atomic.Int64 // attempts sent, by call
	unsent      atomic.Int64         // attempts that never reached the target
	rateLimited atomic.Int64         // 429 answers
	retries     atomic.Int64         // calls sent again after a retryable failure
	recovered   atomic.Int64         // lost answers whose call a landed check found applied
}

// metered counts every attempt by call once it is over: as sent, in the
// gateway's counters and in the Calls riding in the context, unless it
// certainly never reached the target (a refused connection, a failed TLS
// handshake: clerk.TransportError.Sent false), which counts as unsent.
// So the gateway's count of requests is the target's.
func metered(n *counters) layer {
	return func(next handler) handler {
		return func(ctx context.Context, c *call) error {
			err := next(ctx, c)
			var te *clerk.TransportError
			if errors.As(err, &te) && !te.Sent {
				n.unsent.Add(1)
				return err
			}
			n.sent[c.op].Add(1)
			if rc, ok := ctx.Value(callsKey{}).(*Calls); ok {
				rc.sent[c.op]++
			}
			var ae *clerk.Error
			if errors.As(err, &ae) && ae.RateLimited() {
				n.rateLimited.Add(1)
			}
			return err
		}
	}
}

// Calls counts the attempts sent on behalf of one piece of work (a row):
// attach it with CountCalls, read it when the work is done. It is not safe
// for concurrent use: one goroutine's calls.
type Calls struct {
	sent [numOps]int
}

type callsKey struct{}

// CountCalls returns a context whose calls are counted in the Calls.
func CountCalls(ctx context.Context) (context.Context, *Calls) {
	c := &Calls{}
	return context.WithValue(ctx, callsKey{}, c), c
}

// Sent is the number of attempts sent.
func (c *Calls) Sent() int {
	n := 0
	for _, s := range c.sent {
		n += s
	}
	return n
}

// Of is the number of attempts of one call sent.
func (c *Calls) Of(op Op) int { return c.sent[op] }
