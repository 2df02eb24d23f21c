package pacer

import (
	"fmt"
	"time"
)

// Rate is a request budget: at most Requests requests in any Window, the way
// Clerk counts them (a fixed window per instance, or per user for updates).
type Rate struct {
	Requests int
	Window   time.Duration
}

// PerSecond is the budget as a steady rate.
func (r Rate) PerSecond() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Window.Seconds()
}

// IsZero reports an unset Rate.
func (r Rate) IsZero() bool { return r.Requests == 0 && r.Window == 0 }

// String writes the rate as "100/10s".
func (r Rate) String() string { return fmt.Sprintf("%d/%s", r.Requests, r.Window) }

// Validate refuses a rate that admits nothing.
func (r Rate) Validate() error {
	if r.Requests <= 0 || r.Window <= 0 {
		return fmt.Errorf("rate %s: requests and window must be positive", r)
	}
	return nil
}
