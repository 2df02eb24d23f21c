package importer

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

func TestDefaultRate(t *testing.T) {
	tests := []struct {
		key  string
		want Rate
	}{
		{"sk_live_abc", Rate{1000, 10 * time.Second}},
		{"sk_test_abc", Rate{100, 10 * time.Second}},
		{"", Rate{100, 10 * time.Second}},
		{"pk_live_abc", Rate{100, 10 * time.Second}},
	}
	for _, tt := range tests {
		if got := DefaultRate(tt.key); got != tt.want {
			t.Errorf("DefaultRate(%q) = %s, want %s", tt.key, got, tt.want)
		}
	}
}

func TestPacerNeverOverrunsAFixedWindow(t *testing.T) {
	// The bound the pacer relies on: burst + steady rate × window ≤ budget.
	for _, budget := range []Rate{{100, 10 * time.Second}, {1000, 10 * time.Second}, {20, time.Second}, {5, time.Second}} {
		p := NewPacer(budget, 8)
		worst := float64(p.limiter.Burst()) + float64(p.limiter.Limit())*budget.Window.Seconds()
		if worst > float64(budget.Requests) {
			t.Errorf("%s: burst %d + rate %.2f/s lets %.1f requests into one window", budget, p.limiter.Burst(), float64(p.limiter.Limit()), worst)
		}
	}
}

func TestBackoffIsFullJitterUnderTheCap(t *testing.T) {
	p := RetryPolicy{BaseDelay: 100 * time.Millisecond, MaxDelay: 2 * time.Second}.withDefaults()
	for n := range 8 {
		ceiling := min(p.MaxDelay, p.BaseDelay<<n)
		var low, high bool
		for range 400 {
			d := p.Backoff(n)
			if d < 0 || d >= ceiling {
				t.Fatalf("Backoff(%d) = %s, want in [0, %s)", n, d, ceiling)
			}
			low = low || d < ceiling/4
			high = high || d > ceiling*3/4
		}
		if !low || !high {
			t.Errorf("Backoff(%d) does not spread over [0, %s): low %v high %v", n, ceiling, low, high)
		}
	}
}

func TestPacerHoldPausesEveryCaller(t *testing.T) {
	p := NewPacer(Rate{Requests: 100000, Window: time.Second}, 16)
	const hold = 150 * time.Millisecond
	p.Hold(hold)
	until := time.Now().Add(hold - 5*time.Millisecond)
	p.Hold(50 * time.Millisecond) // a second 429 during the hold: no new hold
	var wg sync.WaitGroup
	var early atomic.Int64
	for range 8 {
		wg.Go(func() {
			done, err := p.Acquire(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			if time.Now().Before(until) {
				early.Add(1)
			}
			done(nil)
		})
	}
	wg.Wait()
	s := p.Stats()
	if early.Load() != 0 {
		t.Errorf("%d callers went ahead during the hold", early.Load())
	}
	if s.Holds != 1 || s.RateLimited != 2 || s.HeldWaits != 8 {
		t.Errorf("stats %+v: want 1 hold for 2 429s, 8 callers held", s)
	}
}

func TestPacerHoldsOn429(t *testing.T) {
	p := NewPacer(Rate{Requests: 100000, Window: time.Second}, 4)
	done, err := p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	done(fmtErr429(80 * time.Millisecond))
	start := time.Now()
	done, err = p.Acquire(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	done(nil)
	if waited := time.Since(start); waited < 70*time.Millisecond {
		t.Errorf("the next request went after %s, before the Retry-After of 80ms", waited)
	}
}

func fmtErr429(retryAfter time.Duration) error {
	e := errStatus(429, clerk.CodeTooManyRequests, "")
	e.RetryAfter = retryAfter
	return e
}

func TestPacerConcurrencyFollowsLatency(t *testing.T) {
	p := NewPacer(Rate{Requests: 1000, Window: time.Second}, 64) // 900/s
	clock := time.Unix(0, 0)
	var mu sync.Mutex
	p.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	advance := func(d time.Duration) { mu.Lock(); clock = clock.Add(d); mu.Unlock() }
	settle := func(latency time.Duration) int {
		for range 60 {
			done, err := p.Acquire(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			advance(latency)
			done(nil)
		}
		return p.Stats().Limit
	}
	// Little's law: 900/s × 2 ms ≈ 2 in flight, plus headroom.
	if got := settle(2 * time.Millisecond); got < 3 || got > 6 {
		t.Errorf("at 2 ms latency the limit is %d, want about 900/s × 2 ms × 1.5 + 2 = 5", got)
	}
	if got := settle(30 * time.Millisecond); got < 35 || got > 45 {
		t.Errorf("at 30 ms latency the limit is %d, want about 900/s × 30 ms × 1.5 + 2 = 43", got)
	}
	if got := settle(time.Second); got != 64 {
		t.Errorf("at 1 s latency the limit is %d, want MaxInFlight 64", got)
	}
}

func TestPacerAdmitsNoMoreThanItsLimit(t *testing.T) {
	p := NewPacer(Rate{Requests: 100000, Window: time.Second}, 3)
	var cur, peak atomic.Int64
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			done, err := p.Acquire(context.Background())
			if err != nil {
				t.Error(err)
				return
			}
			n := cur.Add(1)
			for {
				old := peak.Load()
				if n <= old || peak.CompareAndSwap(old, n) {
					break
				}
			}
			time.Sleep(2 * time.Millisecond)
			cur.Add(-1)
			done(nil)
		})
	}
	wg.Wait()
	if peak.Load() > 3 || p.Stats().PeakInFlight > 3 {
		t.Errorf("%d requests in flight at once, MaxInFlight is 3", peak.Load())
	}
}

func TestRetryingAPI(t *testing.T) {
	policy := RetryPolicy{MaxRetries: 2, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}.withDefaults()
	refused := &clerk.TransportError{Sent: false, Err: errors.New("connection refused")}
	tests := []struct {
		name      string
		answers   []error // answers of successive calls; the last repeats
		wantCalls int64
		wantErr   error // nil: success
		wantClass clerk.Class
	}{
		{"success", []error{nil}, 1, nil, clerk.NoError},
		{"5xx retried until it works", []error{errStatus(500, "", ""), errStatus(502, "", ""), nil}, 3, nil, clerk.NoError},
		{"retries are bounded", []error{refused}, 3, ErrRetriesExhausted, clerk.Retry},
		{"permanent is not retried", []error{errStatus(422, clerk.CodeParamValueInvalid, "x")}, 1, nil, clerk.Permanent},
		{"fatal is not retried", []error{errStatus(401, clerk.CodeAuthenticationInvalid, "")}, 1, nil, clerk.Fatal},
		{"429s do not use up the retries", []error{fmtErr429(time.Millisecond), fmtErr429(time.Millisecond), fmtErr429(time.Millisecond), nil}, 4, nil, clerk.NoError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			api := newFakeAPI()
			api.listFunc = func(context.Context, clerk.ListUsersParams) ([]clerk.User, error) {
				i := int(calls.Add(1)) - 1
				return nil, tt.answers[min(i, len(tt.answers)-1)]
			}
			r := layer(api, NewPacer(Rate{100000, time.Second}, 4), policy, &apiCounters{})
			_, err := r.ListUsers(context.Background(), clerk.ListUsersParams{ExternalID: []string{"k"}})
			if calls.Load() != tt.wantCalls {
				t.Errorf("%d calls, want %d", calls.Load(), tt.wantCalls)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			if got := clerk.Classify(err); got != tt.wantClass {
				t.Errorf("error %v classified %s, want %s", err, got, tt.wantClass)
			}
		})
	}
}

func TestCreateAfterLostAnswerLooksUpBeforeResending(t *testing.T) {
	// The create is applied but its answer lost, twice in a row for the
	// lookup too; the retrying layer must find the user, not create it again.
	api := newFakeAPI()
	var lists atomic.Int64
	api.createFunc = func(_ context.Context, p *clerk.CreateUserParams) (*clerk.User, error) {
		api.mem.create(p)
		return nil, errStatus(502, "", "")
	}
	api.listFunc = func(_ context.Context, p clerk.ListUsersParams) ([]clerk.User, error) {
		if lists.Add(1) == 1 {
			return nil, &clerk.TransportError{Sent: true, Err: errors.New("reset")}
		}
		return api.mem.list(p), nil
	}
	n := &apiCounters{}
	r := layer(api, NewPacer(Rate{100000, time.Second}, 4), fastRetry.withDefaults(), n)
	u, err := r.CreateUser(context.Background(), &clerk.CreateUserParams{ExternalID: clerk.Value("k1")})
	if err != nil || u == nil || *u.ExternalID != "k1" {
		t.Fatalf("CreateUser = %+v, %v; want the user found by its external_id", u, err)
	}
	if api.creates.Load() != 1 || len(api.mem.externalIDs()) != 1 || n.recovered.Load() != 1 {
		t.Errorf("%d creates, %d users, %d recovered; want one of each", api.creates.Load(), len(api.mem.externalIDs()), n.recovered.Load())
	}
}
