package importer

import (
	"context"
	"sync/atomic"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

// Gate is the importer's two layers around the API (the shared Pacer, then
// the retrying layer) for packages beside the importer, such as the nightly
// sync (importer/reconcile): every call through a Gate is paced under the
// instance's budget and retried like an import's.
type Gate struct {
	api   *retryingAPI
	paced *pacedAPI
	n     *apiCounters
	other atomic.Int64 // calls sent through Do
}

// NewGate wraps api with pacer and the retry policy (zero fields take
// their defaults).
func NewGate(api UserAPI, pacer *Pacer, policy RetryPolicy) *Gate {
	n := &apiCounters{}
	r := layer(api, pacer, policy.withDefaults(), n)
	return &Gate{api: r, paced: r.next.(*pacedAPI), n: n}
}

// CreateUser creates a user idempotently: a create whose answer was lost is
// looked up by external_id before it is sent again.
func (g *Gate) CreateUser(ctx context.Context, p *clerk.CreateUserParams) (*clerk.User, error) {
	return g.api.CreateUser(ctx, p)
}

// ListUsers lists users, paced and retried.
func (g *Gate) ListUsers(ctx context.Context, p clerk.ListUsersParams) ([]clerk.User, error) {
	return g.api.ListUsers(ctx, p)
}

// FindByExternalID looks a user up by external_id; nil when there is none.
func (g *Gate) FindByExternalID(ctx context.Context, ext string) (*clerk.User, error) {
	return g.api.FindByExternalID(ctx, ext)
}

// Do sends one call that fn makes (an update, a metadata write, a ban...),
// paced, and retried while it fails with clerk.Retry. fn must be safe to
// send again: Do retries a call whose answer was lost.
func (g *Gate) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	return g.api.retry(ctx, func() error {
		return g.paced.call(ctx, &g.other, false, fn)
	}, nil)
}

// GateStats counts what went through a Gate.
type GateStats struct {
	Requests    int64 // calls sent, retries included
	Creates     int64 // CreateUser calls sent
	Lookups     int64 // ListUsers calls sent
	Other       int64 // calls sent through Do
	RateLimited int64 // 429 answers
	Retries     int64 // calls sent again
	Recovered   int64 // creates whose lost answer a lookup found
}

// Stats returns the Gate's counters.
func (g *Gate) Stats() GateStats {
	return GateStats{
		Requests: g.n.requests.Load(), Creates: g.n.creates.Load(), Lookups: g.n.lookups.Load(),
		Other: g.other.Load(), RateLimited: g.n.rateLimited.Load(), Retries: g.n.retries.Load(),
		Recovered: g.n.recovered.Load(),
	}
}
