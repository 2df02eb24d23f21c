package gateway

import (
	"context"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
)

// perUser spaces the calls Clerk limits per user (Op.PerUser) so that no
// user's window ever sees more than its budget, whichever worker sends
// them: each user has a token bucket with half the budget as burst and the
// other half spread over the window, so at most the budget fits in any
// span of one window. A user's bucket is forgotten once it has been idle a
// whole window (it would be full again), so memory holds only the users
// written to in the last window.
type perUser struct {
	budget pacer.Rate

	mu    sync.Mutex
	users map[string]*userBucket
}

type userBucket struct {
	lim  *rate.Limiter
	last time.Time
}

// sweepAt is the number of buckets above which idle ones are dropped.
const sweepAt = 1024

func newPerUser(budget pacer.Rate) *perUser {
	return &perUser{budget: budget, users: map[string]*userBucket{}}
}

func (u *perUser) layer(next handler) handler {
	return func(ctx context.Context, c *call) error {
		if c.op.PerUser() && c.user != "" {
			if err := u.bucket(c.user).Wait(ctx); err != nil {
				if ctx.Err() != nil {
					return context.Cause(ctx)
				}
				return err
			}
		}
		return next(ctx, c)
	}
}

// bucket is the user's token bucket.
func (u *perUser) bucket(user string) *rate.Limiter {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := time.Now()
	if len(u.users) >= sweepAt {
		for id, b := range u.users {
			if now.Sub(b.last) > u.budget.Window {
				delete(u.users, id)
			}
		}
	}
	b := u.users[user]
	if b == nil {
		burst := max(1, u.budget.Requests/2)
		per := float64(max(1, u.budget.Requests-burst)) / u.budget.Window.Seconds()
		b = &userBucket{lim: rate.NewLimiter(rate.Limit(per), burst)}
		u.users[user] = b
	}
	b.last = now
	return b.lim
}
