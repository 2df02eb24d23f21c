// Package gateway is the one way clerkmigrate's engines reach Clerk: a
// clerk.API that wraps the client's whole interface in layers, so that no
// call (a create, a PATCH, a ban, a delete, a lookup) can reach Clerk
// unpaced, unretried or uncounted. Every engine (import, sync, rollback,
// validate --check-target) takes a *Gateway, never a *clerk.Client.
//
// From the engine down, every call passes:
//
//  1. retrying: sent again while it fails with clerk.Retry, after a
//     backoff with full jitter, a bounded number of times (RetryPolicy);
//     a 429 waits in the pacer's shared hold instead of a backoff. A call
//     that must not be sent twice (CreateUser, CreateEmailAddress,
//     CreatePhoneNumber) and whose answer was lost (clerk.MaybeApplied) is
//     looked up before it is sent again: the user by external_id, the
//     address on its user; if the lost attempt landed, that is the answer.
//  2. per-user spacing: the calls Clerk limits per user (PATCH user, PATCH|PUT
//     metadata: 10 per 10 s) wait on that user's token bucket, whichever
//     worker sends them.
//  3. pacing: one shared pacer.Pacer (the instance's budget, one hold for
//     every caller on a 429, concurrency by Little's law, a timeout per
//     attempt), its policy pluggable.
//  4. counting: every attempt that reaches the client, by call (Stats,
//     and CountCalls for one row's calls).
//
// # Why a chain of handlers, not a type per layer
//
// restic wraps its whole Backend interface in one type per layer, each
// with every method and a `var _ Backend = ...` check. clerk.API has 19
// methods, so that would be 76 forwarding methods that differ only in the
// call they forward, and a layer that must treat each method alike (count
// it, pace it, retry it) would repeat itself 17 times. Here the one
// adapter, Gateway, turns each method into a call value (which call,
// which user, how to send it once, how to tell whether a lost attempt
// landed) and hands it to one chain of layers, each a function of a call.
// The guarantee is the same as restic's: Gateway is the only clerk.API
// here, every one of its methods goes through the whole chain, and a layer
// cannot forget a method because it never names one. A new method of
// clerk.API is added once, in the adapter (the compiler insists, through
// `var _ clerk.API = (*Gateway)(nil)`).
package gateway

import (
	"context"
	"strings"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
)

// DefaultRate is the budget of the instance a secret key belongs to:
// production keys (sk_live_) get 1000 requests per 10 s, development keys
// (sk_test_ and anything else) 100 per 10 s. Only the prefix is read.
func DefaultRate(secretKey string) pacer.Rate {
	if strings.HasPrefix(secretKey, "sk_live_") {
		return pacer.Rate{Requests: 1000, Window: 10 * time.Second}
	}
	return pacer.Rate{Requests: 100, Window: 10 * time.Second}
}

// PerUserRate is Clerk's budget of updates per user (PATCH user, PATCH|PUT
// metadata).
var PerUserRate = pacer.Rate{Requests: 10, Window: 10 * time.Second}

// DefaultTimeout is the most one attempt may take under the default
// policy, whose timeout otherwise follows the observed latency
// (pacer.Budget).
const DefaultTimeout = pacer.MaxTimeout

// Config says how a Gateway reaches Clerk.
type Config struct {
	// Pacer is the pacer every attempt passes; nil means one with the
	// Budget policy for DefaultRate(""), concurrency by Little's law and
	// timeouts that follow the latency. Share one Pacer between gateways
	// to the same instance.
	Pacer *pacer.Pacer
	// Retry bounds each call's retries (zero fields take their defaults).
	Retry RetryPolicy
	// PerUser is the per-user budget of the calls Clerk limits per user;
	// the zero Rate means PerUserRate.
	PerUser pacer.Rate
}

// Gateway is Clerk behind the layers (see the package doc). It is safe for
// concurrent use.
type Gateway struct {
	api   clerk.API
	pacer *pacer.Pacer
	n     *counters
	h     handler
	pre   preflight
}

var _ clerk.API = (*Gateway)(nil)

// New wraps api (a *clerk.Client) in the layers.
func New(api clerk.API, cfg Config) *Gateway {
	if cfg.Pacer == nil {
		cfg.Pacer = pacer.New(pacer.NewBudget(DefaultRate(""), 0, 0))
	}
	if cfg.PerUser.IsZero() {
		cfg.PerUser = PerUserRate
	}
	n := &counters{}
	return &Gateway{
		api: api, pacer: cfg.Pacer, n: n,
		h: chain(retrying(cfg.Retry.WithDefaults(), n, cfg.Pacer), newPerUser(cfg.PerUser).layer, paced(cfg.Pacer), metered(n)),
	}
}

// Pacer is the pacer the gateway's calls pass.
func (g *Gateway) Pacer() *pacer.Pacer { return g.pacer }

// Stats counts what went through a Gateway.
type Stats struct {
	// Sent counts attempts sent to the target, by call, retries, 429s and
	// lookups included: what the target counts. Unsent counts attempts
	// that certainly never reached it (a refused connection, a failed TLS
	// handshake).
	Sent   [numOps]int64
	Unsent int64
	// RateLimited counts 429 answers; Retries calls sent again; Recovered
	// lost answers whose call a lookup found applied.
	RateLimited, Retries, Recovered int64
	// Pacer is the shared pacer's own count (shared with any other
	// gateway on the same pacer).
	Pacer pacer.Stats
	// Budget is what the pacer's policy believes and decided, when it is
	// a *pacer.Budget (the default); nil otherwise.
	Budget *pacer.Report
}

// Requests is the number of attempts sent.
func (s Stats) Requests() int64 {
	var n int64
	for _, c := range s.Sent {
		n += c
	}
	return n
}

// Of is the number of attempts of one call sent.
func (s Stats) Of(op Op) int64 { return s.Sent[op] }

// Sub is what was counted since earlier, a snapshot of the same gateway
// (the pacer's peak and setting, and the policy's report, are kept as
// they are now).
func (s Stats) Sub(earlier Stats) Stats {
	for i := range s.Sent {
		s.Sent[i] -= earlier.Sent[i]
	}
	s.Unsent -= earlier.Unsent
	s.RateLimited -= earlier.RateLimited
	s.Retries -= earlier.Retries
	s.Recovered -= earlier.Recovered
	s.Pacer.Requests -= earlier.Pacer.Requests
	s.Pacer.Answered -= earlier.Pacer.Answered
	s.Pacer.RateLimited -= earlier.Pacer.RateLimited
	s.Pacer.Holds -= earlier.Pacer.Holds
	s.Pacer.HeldWaits -= earlier.Pacer.HeldWaits
	s.Pacer.HeldTime -= earlier.Pacer.HeldTime
	return s
}

// Lookups is the number of reads sent (GET a user, a list of users, a
// count): the lookups by external_id before a resend, on resume and after
// a taken identifier among them.
func (s Stats) Lookups() int64 {
	return s.Sent[OpGetUser] + s.Sent[OpListUsers] + s.Sent[OpListUsersLazy] + s.Sent[OpCountUsers]
}

// Stats returns a snapshot of the counters.
func (g *Gateway) Stats() Stats {
	s := Stats{Unsent: g.n.unsent.Load(), RateLimited: g.n.rateLimited.Load(), Retries: g.n.retries.Load(),
		Recovered: g.n.recovered.Load(), Pacer: g.pacer.Stats()}
	for i := range s.Sent {
		s.Sent[i] = g.n.sent[i].Load()
	}
	if b, ok := g.pacer.Policy().(*pacer.Budget); ok {
		r := b.Report()
		s.Budget = &r
	}
	return s
}

// do sends one call through the layers.
func (g *Gateway) do(ctx context.Context, op Op, user string, send func(ctx context.Context) error) error {
	return g.h(ctx, &call{op: op, user: user, send: send})
}

// result sends a call that answers a value.
func result[T any](g *Gateway, ctx context.Context, op Op, user string, send func(ctx context.Context) (T, error)) (T, error) {
	var v T
	err := g.do(ctx, op, user, func(ctx context.Context) (err error) {
		v, err = send(ctx)
		return err
	})
	return v, err
}

// FindByExternalID looks a user up by external_id; nil when there is none.
func (g *Gateway) FindByExternalID(ctx context.Context, ext string) (*clerk.User, error) {
	us, err := g.ListUsers(ctx, clerk.ListUsersParams{ExternalID: []string{ext}, Limit: 10})
	if err != nil {
		return nil, err
	}
	for i := range us {
		if us[i].ExternalID != nil && *us[i].ExternalID == ext {
			return &us[i], nil
		}
	}
	return nil, nil
}
