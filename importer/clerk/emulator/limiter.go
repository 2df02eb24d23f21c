package emulator

import (
	"sync"
	"time"
)

// limiter keeps Clerk's fixed rate-limit windows: one instance-wide and one
// per user for updates. Windows are aligned to multiples of the window
// length (time.Truncate), so every counter rolls over at once.
type limiter struct {
	window time.Duration

	mu       sync.Mutex
	start    time.Time      // start of the current window
	instance int            // requests seen in it
	users    map[string]int // user id → updates seen in it
}

func newLimiter(window time.Duration) *limiter {
	return &limiter{window: window, users: map[string]int{}}
}

func (l *limiter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.start, l.instance = time.Time{}, 0
	clear(l.users)
}

// roll moves to the window holding now; l.mu is held.
func (l *limiter) roll(now time.Time) {
	start := now.Truncate(l.window)
	if !start.Equal(l.start) {
		l.start, l.instance = start, 0
		clear(l.users)
	}
}

// allowInstance counts one request against limit; when over it, it
// returns the Retry-After seconds and false.
func (l *limiter) allowInstance(now time.Time, limit int) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll(now)
	l.instance++
	if l.instance > limit {
		return retryAfterSeconds(now, l.start.Add(l.window)), false
	}
	return 0, true
}

// allowUser counts one update of user against limit.
func (l *limiter) allowUser(now time.Time, user string, limit int) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.roll(now)
	l.users[user]++
	if l.users[user] > limit {
		return retryAfterSeconds(now, l.start.Add(l.window)), false
	}
	return 0, true
}
