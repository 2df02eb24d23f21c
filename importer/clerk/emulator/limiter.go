package emulator

import (
	"sync"
	"time"
)

// limiter keeps Clerk's fixed rate-limit windows. Clerk limits each
// instance, which the secret key names ("rate-limited per application
// instance which is identified by the Secret Key", Clerk's rate-limit
// docs), so every key has its own window: one instance-wide counter and
// one counter per user for updates. Windows are aligned to multiples of
// the window length (time.Truncate), so an instance's counters roll over
// at once. Every request that reaches the limiter counts, refused or not.
type limiter struct {
	window time.Duration

	mu        sync.Mutex
	instances map[string]*instanceWindow // secret key → its window
	peak      int                        // most requests one instance's window counted
}

// instanceWindow is one instance's current window.
type instanceWindow struct {
	start    time.Time      // start of the current window
	requests int            // requests seen in it
	users    map[string]int // user id → updates seen in it
}

func newLimiter(window time.Duration) *limiter {
	return &limiter{window: window, instances: map[string]*instanceWindow{}}
}

func (l *limiter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	clear(l.instances)
	l.peak = 0
}

// peakWindow is the most requests one instance's window counted.
func (l *limiter) peakWindow() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.peak
}

// current returns the window of instance key holding now; l.mu is held.
func (l *limiter) current(key string, now time.Time) *instanceWindow {
	start := now.Truncate(l.window)
	w := l.instances[key]
	if w == nil {
		w = &instanceWindow{users: map[string]int{}}
		l.instances[key] = w
	}
	if !start.Equal(w.start) {
		w.start, w.requests = start, 0
		clear(w.users)
	}
	return w
}

// allowInstance counts one request of instance key against limit; when
// over it, it returns the Retry-After seconds and false.
func (l *limiter) allowInstance(key string, now time.Time, limit int) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.current(key, now)
	w.requests++
	l.peak = max(l.peak, w.requests)
	if w.requests > limit {
		return retryAfterSeconds(now, w.start.Add(l.window)), false
	}
	return 0, true
}

// allowUser counts one update of user by instance key against limit.
func (l *limiter) allowUser(key string, now time.Time, user string, limit int) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.current(key, now)
	w.users[user]++
	if w.users[user] > limit {
		return retryAfterSeconds(now, w.start.Add(l.window)), false
	}
	return 0, true
}
