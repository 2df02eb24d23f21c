package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
)

// patient retries quickly but not in a busy loop.
var patient = gateway.RetryPolicy{MaxRetries: 6, BaseDelay: 20 * time.Millisecond, MaxDelay: 200 * time.Millisecond}

// closedPort is a loopback base URL where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr + "/v1"
}

// untrusted is a TLS endpoint on loopback whose certificate the client
// does not trust; it counts the HTTP requests that reach its handler.
func untrusted(t *testing.T) (url string, reached *atomic.Int64) {
	t.Helper()
	reached = &atomic.Int64{}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // every handshake fails, by design
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL + "/v1", reached
}

// downGateway is a gateway to url with the default policy at a high
// budget, its client trusting only the system's roots.
func downGateway(t *testing.T, url string) *gateway.Gateway {
	t.Helper()
	c, err := clerk.New(clerk.Config{BaseURL: url, SecretKey: testKey, HTTPClient: &http.Client{Transport: clerk.NewTransport()}})
	if err != nil {
		t.Fatal(err)
	}
	p := pacer.New(pacer.NewBudget(pacer.Rate{Requests: 10000, Window: time.Second}, 0, 0))
	return gateway.New(c, gateway.Config{Pacer: p, Retry: patient})
}

// createAll has workers create users until one fails; it returns every
// worker's error.
func createAll(g *gateway.Gateway, workers int) []error {
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := 0; ; i++ {
				ext := fmt.Sprintf("w%d-%d", w, i)
				if _, err := g.CreateUser(context.Background(), &request.CreateUser{ExternalID: request.Value(ext)}); err != nil {
					errs[w] = err
					return
				}
			}
		})
	}
	wg.Wait()
	return errs
}

// stoppedNotFailed checks that every call ended because the target is
// down (fatal for the run), none because its own retries ran out.
func stoppedNotFailed(t *testing.T, errs []error) {
	t.Helper()
	for i, err := range errs {
		if !errors.Is(err, pacer.ErrTargetDown) || clerk.Classify(err) != clerk.Fatal || errors.Is(err, gateway.ErrRetriesExhausted) {
			t.Errorf("worker %d ended with %v (%s): want the target down, fatal for the run, not the call's retries exhausted",
				i, err, clerk.Classify(err))
		}
	}
}

// TestClosedPortStopsTheRun: a target where nothing listens fails the
// pre-flight check and stops every call as down, within a few seconds, with
// no call given up as failed; no request counts as sent.
func TestClosedPortStopsTheRun(t *testing.T) {
	t.Parallel()
	url := closedPort(t)
	start := time.Now()
	_, err := downGateway(t, url).Preflight(context.Background())
	var pe *gateway.PreflightError
	if !errors.As(err, &pe) || !errors.Is(err, pacer.ErrTargetDown) || clerk.Classify(err) != clerk.Fatal {
		t.Fatalf("pre-flight = %v (%s), want a fatal PreflightError: target down", err, clerk.Classify(err))
	}
	g := downGateway(t, url)
	stoppedNotFailed(t, createAll(g, 8))
	if took := time.Since(start); took > 3*pacer.DownFor+2*time.Second {
		t.Errorf("took %s to stop", took)
	}
	if s := g.Stats(); s.Requests() != 0 || s.Unsent < pacer.DownAfter {
		t.Errorf("%d requests counted as sent and %d unsent to a closed port: want 0 and at least %d", s.Requests(), s.Unsent, pacer.DownAfter)
	}
}

// TestBadCertificateStopsTheRun: a TLS endpoint whose certificate the
// client does not trust is a target down, like a closed port; no HTTP
// request reaches it and none counts as sent.
func TestBadCertificateStopsTheRun(t *testing.T) {
	t.Parallel()
	url, reached := untrusted(t)
	_, err := downGateway(t, url).Preflight(context.Background())
	if !errors.Is(err, pacer.ErrTargetDown) || clerk.Classify(err) != clerk.Fatal {
		t.Fatalf("pre-flight = %v (%s), want fatal: target down", err, clerk.Classify(err))
	}
	g := downGateway(t, url)
	stoppedNotFailed(t, createAll(g, 4))
	if s := g.Stats(); s.Requests() != 0 || reached.Load() != 0 {
		t.Errorf("%d requests counted as sent, %d reached the endpoint: want 0 and 0", s.Requests(), reached.Load())
	}
}

// TestTargetGoingDownStopsTheRun: a target that goes away in the middle
// of a run stops every call as down, none failed for it. The gateway
// counted as sent the requests the target saw, plus at most one per
// connection the target closed under a request already written (the
// client cannot tell those from answers lost after the change).
func TestTargetGoingDownStopsTheRun(t *testing.T) {
	t.Parallel()
	srv, err := emulator.Start(unlimited())
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	closeTarget := func() { once.Do(func() { srv.Close() }) }
	t.Cleanup(closeTarget)
	g := downGateway(t, srv.URL())
	go func() {
		for g.Stats().Of(gateway.OpCreateUser) < 50 {
			time.Sleep(5 * time.Millisecond)
		}
		closeTarget()
	}()
	const workers = 8
	stoppedNotFailed(t, createAll(g, workers))
	gs, es := g.Stats(), srv.Emulator().Stats()
	if sent := gs.Requests(); sent < int64(es.Total) || sent > int64(es.Total+2*workers) || gs.Unsent == 0 {
		t.Errorf("gateway counted %d requests sent (%d unsent), the target saw %d", sent, gs.Unsent, es.Total)
	}
}

// TestPreflightChecksTheKey: a refused key fails the pre-flight check,
// fatal, after one request; a good one passes it.
func TestPreflightChecksTheKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emulator.Config{SecretKey: testKey}, gateway.Config{Retry: patient})
	if _, err := e.g.Preflight(context.Background()); err != nil {
		t.Fatalf("pre-flight with the right key: %v", err)
	}
	bad := gateway.New(mustClient(t, e.srv.URL(), "sk_test_wrong"), gateway.Config{Retry: patient})
	_, err := bad.Preflight(context.Background())
	var ae *clerk.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized || clerk.Classify(err) != clerk.Fatal || bad.Stats().Requests() != 1 {
		t.Errorf("pre-flight with a wrong key = %v after %d requests, want a fatal 401 after one", err, bad.Stats().Requests())
	}
}

// TestSlowAnswersAreCutOnceTheLatencyIsKnown: answers held back 20 s cost
// their calls a few seconds once the policy has seen the latency, even
// those sent before it had (under the longest timeout); the creates they
// held are found by a lookup, none sent twice.
func TestSlowAnswersAreCutOnceTheLatencyIsKnown(t *testing.T) {
	t.Parallel()
	const slow = 20 * time.Second
	cfg := unlimited()
	cfg.Faults = emulator.Faults{Seed: 9, SlowRate: 0.1, SlowDelay: slow, Latency: 5 * time.Millisecond}
	p := pacer.New(pacer.NewBudget(pacer.Rate{Requests: 10000, Window: time.Second}, 0, 0))
	e := newEnv(t, cfg, gateway.Config{Retry: patient, Pacer: p})
	const workers, each = 8, 6
	var mu sync.Mutex
	var longest time.Duration
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				start := time.Now()
				if _, err := e.g.CreateUser(context.Background(), &request.CreateUser{ExternalID: request.Value(fmt.Sprintf("w%d-%d", w, i))}); err != nil {
					t.Error(err)
				}
				mu.Lock()
				longest = max(longest, time.Since(start))
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	gs, es := e.g.Stats(), e.srv.Emulator().Stats()
	if es.Faults.Slow == 0 {
		t.Fatal("no answer was held back: the test proves nothing")
	}
	if longest >= slow*3/4 {
		t.Errorf("the longest call took %s with %d answers held back %s: they were not cut", longest, es.Faults.Slow, slow)
	}
	if creates := gs.Of(gateway.OpCreateUser); creates != workers*each {
		t.Errorf("%d creates sent for %d users", creates, workers*each)
	}
}

// TestAdmissionEndsWaitingNotSending: once a call's admission ends (a run
// stopping on a signal), calls waiting in a 429's hold return at once,
// canceled, and send nothing more, while a request already under way gets
// its answer.
func TestAdmissionEndsWaitingNotSending(t *testing.T) {
	t.Parallel()
	// The emulator's clock stands still at the start of a window, so the
	// two counts and the two creates share one window whenever they run
	// (a window rolling over between them let the creates through, and the
	// wait for their 429s below never ended).
	frozen := time.Now().Truncate(10 * time.Second)
	cfg := emulator.Config{RequestsPerWindow: 2, Window: 10 * time.Second, Now: func() time.Time { return frozen },
		Faults: emulator.Faults{Latency: 400 * time.Millisecond}}
	p := pacer.New(pacer.NewBudget(pacer.Rate{Requests: 10000, Window: time.Second}, 0, 0))
	e := newEnv(t, cfg, gateway.Config{Retry: patient, Pacer: p})
	admission, stop := context.WithCancel(context.Background())
	ctx := gateway.WithAdmission(context.Background(), admission)
	create := func(ext string, errs chan<- error) {
		_, err := e.g.CreateUser(ctx, &request.CreateUser{ExternalID: request.Value(ext)})
		errs <- err
	}

	held := make(chan error, 2)
	for range 2 { // the window's budget: answered
		if _, err := e.g.CountUsers(ctx, clerk.ListUsersParams{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 { // met by a 429, then held for its ~10 s Retry-After
		go create(fmt.Sprint("held", i), held)
	}
	// Both 429s have come back to the pacer: the calls are in the hold.
	waitFor(t, "the two creates' 429s", func() bool { return p.Stats().RateLimited >= 2 })
	stopped := time.Now()
	stop()
	for range 2 {
		if err := <-held; clerk.Classify(err) != clerk.Canceled {
			t.Errorf("a call held by a 429 ended with %v (%s), want canceled", err, clerk.Classify(err))
		}
	}
	if took := time.Since(stopped); took > time.Second {
		t.Errorf("calls held by a 10 s hold took %s to return once admission ended", took)
	}
	if es := e.srv.Emulator().Stats(); es.Total != 4 || e.g.Stats().Requests() != 4 {
		t.Errorf("the target saw %d requests and the gateway sent %d: want 2 answered and 2 refused, nothing after", es.Total, e.g.Stats().Requests())
	}

	e = newEnv(t, emulator.Config{Faults: emulator.Faults{Latency: 400 * time.Millisecond}}, gateway.Config{Retry: patient})
	admission, stop = context.WithCancel(context.Background())
	ctx = gateway.WithAdmission(context.Background(), admission)
	underWay := make(chan error, 1)
	go create("under-way", underWay)
	waitFor(t, "the create to reach the target", func() bool { return e.srv.Emulator().Stats().Total > 0 })
	stop()
	if err := <-underWay; err != nil {
		t.Errorf("a request under way when admission ended: %v, want its answer", err)
	}
}

// waitFor polls cond until it holds, failing the test after 30 s instead
// of hanging the package until its timeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30 s for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
