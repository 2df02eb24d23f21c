package emulator

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// stateOverHTTP reads GET /__emulator/state (never faulted).
func stateOverHTTP(t *testing.T, h *harness) State {
	t.Helper()
	r, err := h.send("GET", "/__emulator/state", nil, map[string]string{"Authorization": "Bearer " + testKey})
	if err != nil || r.status != 200 {
		t.Fatalf("state: %v %d", err, r.status)
	}
	var s State
	if err := json.Unmarshal(r.body, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFaultServerErrorsApplyNothing(t *testing.T) {
	h := newHarness(t, Config{Faults: Faults{Seed: 7, ErrorRate: 1}})
	seen := map[int]bool{}
	for i := range 30 {
		r := h.do("POST", "/v1/users", map[string]any{"external_id": fmt.Sprint("e", i)})
		seen[r.status] = true
		switch r.status {
		case 502:
			if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
				t.Errorf("502 content type %q", r.header.Get("Content-Type"))
			}
		case 500, 503:
			if r.apiErr(t) == "" {
				t.Errorf("%d without ClerkErrors", r.status)
			}
		default:
			t.Fatalf("status %d, want a 5xx", r.status)
		}
	}
	if !seen[500] || !seen[502] || !seen[503] {
		t.Errorf("statuses seen %v, want 500, 502 and 503", seen)
	}
	if n := len(stateOverHTTP(t, h).Users); n != 0 {
		t.Errorf("%d users created by requests answered 5xx", n)
	}
	if s := h.emu.Stats(); s.Faults.Errors != 30 {
		t.Errorf("stats %+v", s.Faults)
	}
}

func TestFaultResetAppliesNothing(t *testing.T) {
	h := newHarness(t, Config{Faults: Faults{Seed: 7, ResetRate: 1}})
	if _, err := h.send("POST", "/v1/users", map[string]any{"external_id": "r1"}, map[string]string{"Authorization": "Bearer " + testKey}); err == nil {
		t.Fatal("a reset request got an answer")
	}
	if n := len(stateOverHTTP(t, h).Users); n != 0 {
		t.Errorf("a reset create was applied (%d users)", n)
	}
	if s := h.emu.Stats(); s.Faults.Resets != 1 || s.NoAnswer != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestFaultLostResponseAppliesTheChange(t *testing.T) {
	h := newHarness(t, Config{Faults: Faults{Seed: 7, LostResponseRate: 1}})
	_, err := h.send("POST", "/v1/users", map[string]any{"external_id": "lost-1", "email_address": []string{"lost@example.com"}},
		map[string]string{"Authorization": "Bearer " + testKey})
	if err == nil {
		t.Fatal("a lost response arrived")
	}
	users := stateOverHTTP(t, h).Users
	if len(users) != 1 || *users[0].ExternalID != "lost-1" {
		t.Fatalf("the lost create was not applied: %+v", users)
	}
	if s := h.emu.Stats(); s.Faults.LostResponses != 1 || s.Routes["POST /v1/users"].NoAnswer != 1 {
		t.Errorf("stats %+v", s)
	}
}

func TestFaultSlowAnswerAppliesTheChange(t *testing.T) {
	h := newHarness(t, Config{Faults: Faults{Seed: 7, SlowRate: 1, SlowDelay: 2 * time.Second}})
	h.client = &http.Client{Timeout: 100 * time.Millisecond}
	if _, err := h.send("POST", "/v1/users", map[string]any{"external_id": "slow-1"}, map[string]string{"Authorization": "Bearer " + testKey}); err == nil {
		t.Fatal("a slow answer beat a short client timeout")
	}
	if users := stateOverHTTP(t, h).Users; len(users) != 1 {
		t.Fatalf("the slow create was not applied: %d users", len(users))
	}
	if s := h.emu.Stats(); s.Faults.Slow != 1 {
		t.Errorf("stats %+v", s.Faults)
	}
	fast := newHarness(t, Config{Faults: Faults{Seed: 7, SlowRate: 1, SlowDelay: time.Millisecond, Latency: time.Millisecond, Jitter: time.Millisecond}})
	if r := fast.do("POST", "/v1/users", map[string]any{"external_id": "slow-2"}); r.status != 200 {
		t.Errorf("a slow answer within the client's patience: %d", r.status)
	}
}

// outcomes sends each of n distinct creates `tries` times (sequentially
// per body, bodies concurrently in an order drawn from order) and returns
// what each sending met: a status or "none".
func outcomes(t *testing.T, f Faults, n, tries int, order uint64) map[string]string {
	h := newHarness(t, Config{Faults: f})
	perm := rand.New(rand.NewPCG(order, order)).Perm(n)
	var mu sync.Mutex
	got := map[string]string{}
	var wg sync.WaitGroup
	work := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range work {
				for try := range tries {
					r, err := h.send("POST", "/v1/users", map[string]any{"external_id": fmt.Sprint("d", i)},
						map[string]string{"Authorization": "Bearer " + testKey})
					out := "none"
					if err == nil {
						out = fmt.Sprint(r.status)
					}
					mu.Lock()
					got[fmt.Sprintf("%d/%d", i, try)] = out
					mu.Unlock()
				}
			}
		})
	}
	for _, i := range perm {
		work <- i
	}
	close(work)
	wg.Wait()
	return got
}

func TestFaultsAreDeterministicFromTheSeed(t *testing.T) {
	f := Faults{Seed: 42, ErrorRate: 0.2, ResetRate: 0.15, LostResponseRate: 0.15}
	a := outcomes(t, f, 60, 3, 1)
	b := outcomes(t, f, 60, 3, 2) // another arrival order
	kinds := map[string]int{}
	for k, v := range a {
		kinds[v]++
		if b[k] != v {
			t.Errorf("sending %s: %s in one run, %s in the other", k, v, b[k])
		}
	}
	if kinds["none"] == 0 || kinds["200"] == 0 || kinds["422"] == 0 || kinds["500"]+kinds["502"]+kinds["503"] == 0 {
		t.Errorf("outcomes %v: want successes, 422s (retries of applied creates), 5xx and no-answers", kinds)
	}
	f.Seed = 43
	c := outcomes(t, f, 60, 3, 1)
	same := 0
	for k, v := range a {
		if c[k] == v {
			same++
		}
	}
	if same == len(a) {
		t.Error("another seed gave the same faults")
	}
}
