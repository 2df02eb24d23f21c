package gateway

import "context"

// call is one clerk.API call on its way down the layers.
type call struct {
	op Op
	// user is the user the call is about, for per-user spacing; empty when
	// the call is about no one user.
	user string
	// send sends the call once, through the client.
	send func(ctx context.Context) error
	// landed, set for calls that must not be sent twice (creates), says
	// whether an attempt whose answer was lost took effect after all (and
	// then sets the call's result to what it made). Without it, sending
	// again is safe.
	landed func(ctx context.Context) (bool, error)
}

// handler carries a call one step down: through its layer, then on to the
// next one; the last handler sends it.
type handler func(ctx context.Context, c *call) error

// layer wraps a handler in one concern.
type layer func(next handler) handler

// chain builds the handler that runs layers top first, then sends.
func chain(layers ...layer) handler {
	h := handler(func(ctx context.Context, c *call) error { return c.send(ctx) })
	for i := len(layers) - 1; i >= 0; i-- {
		h = layers[i](h)
	}
	return h
}
