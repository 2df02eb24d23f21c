package emulator

import (
	"fmt"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.now = t; c.mu.Unlock() }

// windowStart is a time on a 10 s window boundary.
var windowStart = time.Unix(1_700_000_000, 0)

func TestInstanceRateLimitWithRetryAfter(t *testing.T) {
	clock := &fakeClock{now: windowStart.Add(2300 * time.Millisecond)}
	h := newHarness(t, Config{RequestsPerWindow: 3, Window: 10 * time.Second, Now: clock.Now})
	for i := range 3 {
		if r := h.do("GET", "/v1/users/count", nil); r.status != 200 {
			t.Fatalf("request %d: %d", i, r.status)
		}
	}
	r := h.do("POST", "/v1/users", map[string]any{"external_id": "x"})
	r.expectError(t, 429, "too_many_requests/")
	if got := r.header.Get("Retry-After"); got != "8" {
		t.Errorf("Retry-After %q, want 8 (ceil of 7.7 s left)", got)
	}
	clock.Set(windowStart.Add(9950 * time.Millisecond))
	r = h.do("GET", "/v1/users/count", nil)
	if r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Errorf("near the end of the window: %d Retry-After %q, want 429 and 1", r.status, r.header.Get("Retry-After"))
	}
	clock.Set(windowStart.Add(10 * time.Second))
	if r := h.do("GET", "/v1/users/count", nil); r.status != 200 {
		t.Errorf("next window: %d", r.status)
	}
	if n := len(h.emu.Snapshot().Users); n != 0 {
		t.Errorf("a refused create was applied: %d users", n)
	}
	s := h.emu.Stats()
	if s.RateLimited != 2 || s.Routes["POST /v1/users"].Status[429] != 1 || s.Total != 6 {
		t.Errorf("stats %+v", s)
	}
	if s.PeakWindow != 5 {
		t.Errorf("the fullest window counted %d requests, want 5 (3 answered, 2 refused)", s.PeakWindow)
	}
	// Control routes are never limited.
	for range 5 {
		if r, _ := h.send("GET", "/__emulator/stats", nil, map[string]string{"Authorization": "Bearer " + testKey}); r.status != 200 {
			t.Fatalf("control route: %d", r.status)
		}
	}
}

func TestDefaultLimitsByKey(t *testing.T) {
	for key, want := range map[string]int{"sk_test_k": 100, "sk_live_k": 1000} {
		e := New(Config{Now: func() time.Time { return windowStart }})
		if got := e.instanceLimit(key); got != want {
			t.Errorf("%s: limit %d, want %d", key, got, want)
		}
	}
}

func TestPerUserUpdateLimit(t *testing.T) {
	clock := &fakeClock{now: windowStart.Add(time.Second)}
	h := newHarness(t, Config{UserUpdatesPerWindow: 2, Now: clock.Now})
	a := h.create(map[string]any{"external_id": "a"})["id"].(string)
	b := h.create(map[string]any{"external_id": "b"})["id"].(string)
	if r := h.do("PATCH", "/v1/users/"+a, map[string]any{"first_name": "A"}); r.status != 200 {
		t.Fatalf("first update: %d %s", r.status, r.body)
	}
	if r := h.do("PUT", "/v1/users/"+a+"/metadata", map[string]any{"public_metadata": map[string]any{"k": 1}}); r.status != 200 {
		t.Fatalf("second update: %d %s", r.status, r.body)
	}
	r := h.do("PATCH", "/v1/users/"+a+"/metadata", map[string]any{"public_metadata": map[string]any{"k": 2}})
	r.expectError(t, 429, "too_many_requests/")
	if got := r.header.Get("Retry-After"); got != "9" {
		t.Errorf("Retry-After %q, want 9", got)
	}
	if got := userByID(h.emu.Snapshot(), a).PublicMetadata["k"]; fmt.Sprint(got) != "1" {
		t.Errorf("a refused update was applied: k=%v", got)
	}
	if r := h.do("PATCH", "/v1/users/"+b, map[string]any{"first_name": "B"}); r.status != 200 {
		t.Errorf("another user's update: %d", r.status)
	}
	if r := h.do("GET", "/v1/users/"+a, nil); r.status != 200 {
		t.Errorf("a read of the limited user: %d", r.status)
	}
	clock.Set(windowStart.Add(10 * time.Second))
	if r := h.do("PATCH", "/v1/users/"+a, map[string]any{"last_name": "L"}); r.status != 200 {
		t.Errorf("next window: %d", r.status)
	}
}

// userByID finds a user of a snapshot.
func userByID(s State, id string) UserState {
	for _, u := range s.Users {
		if u.ID == id {
			return u
		}
	}
	return UserState{}
}

// TestRateLimitIsPerInstance: Clerk limits each instance, and a secret key
// names the instance. Two keys accepted by one emulator are two instances,
// each with its own window, limit (sk_live_ 1000, sk_test_ 100 by default)
// and per-user budgets.
func TestRateLimitIsPerInstance(t *testing.T) {
	clock := &fakeClock{now: windowStart.Add(time.Second)}
	h := newHarness(t, Config{UserUpdatesPerWindow: 1, Now: clock.Now})
	h.emu.cfg.RequestsPerWindow = 0 // limits by key: the harness's huge default would hide them
	get := func(key string) int {
		r, err := h.send("GET", "/v1/users/count", nil, map[string]string{"Authorization": "Bearer " + key})
		if err != nil {
			t.Fatal(err)
		}
		return r.status
	}
	for i := range 100 {
		if s := get("sk_test_one"); s != 200 {
			t.Fatalf("request %d of instance one: %d", i+1, s)
		}
	}
	if s := get("sk_test_one"); s != 429 {
		t.Errorf("request 101 of a development instance: %d, want 429", s)
	}
	for i := range 100 {
		if s := get("sk_test_two"); s != 200 {
			t.Fatalf("request %d of instance two, after instance one used its budget: %d", i+1, s)
		}
	}
	for i := range 150 {
		if s := get("sk_live_three"); s != 200 {
			t.Fatalf("request %d of a production instance: %d", i+1, s)
		}
	}
	clock.Set(windowStart.Add(10 * time.Second))
	if s := get("sk_test_one"); s != 200 {
		t.Errorf("instance one in the next window: %d", s)
	}
	// Per-user budgets belong to the instance too.
	id := h.create(map[string]any{"external_id": "u"})["id"].(string)
	patch := func(key string) int {
		r, err := h.send("PATCH", "/v1/users/"+id, map[string]any{"first_name": "x"}, map[string]string{"Authorization": "Bearer " + key})
		if err != nil {
			t.Fatal(err)
		}
		return r.status
	}
	if a, b := patch(testKey), patch(testKey); a != 200 || b != 429 {
		t.Errorf("two updates of one user within a budget of 1: %d %d, want 200 429", a, b)
	}
	if s := patch("sk_test_other"); s == 429 {
		t.Errorf("another instance's update was limited by this instance's per-user budget")
	}
}

// TestLatencyBunchesAtTheCounter: a request's latency is spent half on
// its way in, before the rate limiter counts it, and half on the way
// back, so latency jitter moves requests between windows as the network
// does at Clerk's.
func TestLatencyBunchesAtTheCounter(t *testing.T) {
	var mu sync.Mutex
	var counted []time.Time
	now := func() time.Time {
		t := time.Now()
		mu.Lock()
		counted = append(counted, t)
		mu.Unlock()
		return t
	}
	const latency = 200 * time.Millisecond
	h := newHarness(t, Config{Now: now, Faults: Faults{Latency: latency}})
	start := time.Now()
	if r := h.do("GET", "/v1/users/count", nil); r.status != 200 {
		t.Fatalf("status %d", r.status)
	}
	answered := time.Since(start)
	mu.Lock()
	defer mu.Unlock()
	if len(counted) != 1 {
		t.Fatalf("the clock was read %d times, want once (by the rate limiter)", len(counted))
	}
	if in := counted[0].Sub(start); in < latency/2 || in > answered-latency/2 {
		t.Errorf("counted %s after sending and answered after %s: want the count after the first half of the %s latency and before the second",
			in, answered, latency)
	}
}
