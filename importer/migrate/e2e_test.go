package migrate

import (
	"bufio"
	"context"
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer/pacertest"
	"github.com/clerkmigrate/clerkmigrate/importer/verdict"
	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

const testSecretKey = "sk_test_importer_e2e_0123456789"

// emuServer is the real emulator behind a real HTTP server, with the time
// of every 429 it answered.
type emuServer struct {
	*emulator.Emulator
	srv    *httptest.Server
	mu     sync.Mutex
	limits []time.Time
}

func (s *emuServer) URL() string { return s.srv.URL + "/v1" }

// limitedAt returns the times of the 429 answers.
func (s *emuServer) limitedAt() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Time(nil), s.limits...)
}

type statusRecorder struct {
	http.ResponseWriter
	s *emuServer
}

func (w statusRecorder) WriteHeader(code int) {
	if code == http.StatusTooManyRequests {
		w.s.mu.Lock()
		w.s.limits = append(w.s.limits, time.Now())
		w.s.mu.Unlock()
	}
	w.ResponseWriter.WriteHeader(code)
}

func startEmulator(t testing.TB, cfg emulator.Config) *emuServer {
	t.Helper()
	cfg.SecretKey = testSecretKey
	s := &emuServer{Emulator: emulator.New(cfg)}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.Emulator.ServeHTTP(statusRecorder{ResponseWriter: w, s: s}, r)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// emuGateway is the gateway to an emulator: its budget, maxInFlight at
// once, retries that do not make the test wait.
func emuGateway(t testing.TB, url string, budget pacer.Rate, maxInFlight int) *gateway.Gateway {
	p := pacer.New(pacer.NewBudget(budget, maxInFlight, 5*time.Second))
	return gateway.New(newClient(t, url), gateway.Config{Pacer: p,
		Retry: gateway.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond}})
}

func newClient(t testing.TB, url string) *clerk.Client {
	t.Helper()
	c, err := clerk.New(clerk.Config{BaseURL: url, SecretKey: testSecretKey, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// writeUsersCSV writes n users (id, email, first_name) to a CSV file. Row
// i (1-based) has key "u<i>"; every dupEvery-th row reuses the email of the
// row before it (0: never); every blankEvery-th row has no email (0: never).
func writeUsersCSV(t testing.TB, dir string, n, dupEvery, blankEvery int) string {
	t.Helper()
	path := filepath.Join(dir, "users.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "id,email,first_name")
	for i := 1; i <= n; i++ {
		email := fmt.Sprintf("user%d@example.com", i)
		switch {
		case blankEvery > 0 && i%blankEvery == 0:
			email = ""
		case dupEvery > 0 && i%dupEvery == 0:
			email = fmt.Sprintf("user%d@example.com", i-1)
		}
		fmt.Fprintf(w, "u%d,%s,Name%d\n", i, email, i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// simpleMappingYAML maps the CSV of writeUsersCSV; a row without an email
// is refused by the mapping (the instance requires one).
const simpleMappingYAML = `version: 1
key: id
options:
  required_identifiers: [email_address]
fields:
  email_address: { from: email, transform: [trim, lower], verified: true }
  first_name: { from: first_name, transform: [trim] }
`

// loadMapping writes and loads the real mapping for writeUsersCSV's files.
func loadMapping(t testing.TB, dir string) *mapping.Mapping {
	t.Helper()
	path := filepath.Join(dir, "users.mapping.yaml")
	if err := os.WriteFile(path, []byte(simpleMappingYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func openCSV(t testing.TB, path string) *sources.CSV {
	t.Helper()
	src, err := sources.OpenCSV(sources.CSVConfig{Path: path, KeyColumn: "id"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// emulatorUsers indexes the emulator's users by external_id and fails the
// test on a duplicate.
func emulatorUsers(t *testing.T, e *emulator.Emulator) map[string]emulator.UserState {
	t.Helper()
	out := map[string]emulator.UserState{}
	for _, u := range e.Snapshot().Users {
		if u.ExternalID == nil {
			t.Errorf("user %s has no external_id", u.ID)
			continue
		}
		if prev, dup := out[*u.ExternalID]; dup {
			t.Errorf("external_id %s held by two users: %s and %s", *u.ExternalID, prev.ID, u.ID)
		}
		out[*u.ExternalID] = u
	}
	return out
}

func TestEndToEndWithFaults(t *testing.T) {
	const n = 400
	emu := startEmulator(t, emulator.Config{
		RequestsPerWindow: 100000, Window: time.Second, RequiredIdentifiers: []string{"email_address"},
		Faults: emulator.Faults{Seed: 11, ErrorRate: 0.08, ResetRate: 0.04, LostResponseRate: 0.06,
			Latency: time.Millisecond, Jitter: 2 * time.Millisecond},
	})
	// u5 is in Clerk before the import (seeded through a gateway of its
	// own: a fault may hit this call too).
	seed := emuGateway(t, emu.URL(), pacer.Rate{Requests: 1000, Window: time.Second}, 1)
	if _, err := seed.CreateUser(context.Background(), &request.CreateUser{
		ExternalID: request.Value("u5"), EmailAddresses: []string{"someone-else@example.com"}}); err != nil {
		t.Fatal(err)
	}
	before := emu.Stats()
	st := openLedger(t)
	dir := t.TempDir()
	csvPath, m := writeUsersCSV(t, dir, n, 50, 40), loadMapping(t, dir)
	cfg := Config{
		Source: openCSV(t, csvPath), Mapper: m, MappingFingerprint: m.Fingerprint(), Store: st,
		Gateway: emuGateway(t, emu.URL(), pacer.Rate{Requests: 5000, Window: time.Second}, 8),
		Target:  emu.URL(), Workers: 8, Logger: discardLogger(), TempDir: dir,
	}
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rows := checkEveryRowOnce(t, st, sum.RunID, n)
	users := emulatorUsers(t, emu.Emulator)
	stats := emu.Stats()
	t.Logf("summary: %+v", sum)
	t.Logf("faults: %+v, 429s %d", stats.Faults, stats.RateLimited)
	if stats.Faults.LostResponses-before.Faults.LostResponses == 0 || stats.Faults.Errors == 0 || stats.Faults.Resets == 0 {
		t.Fatalf("faults were not injected: %+v", stats.Faults)
	}
	if sum.Recovered == 0 {
		t.Error("no lost response was recovered by a lookup")
	}
	for pos := int64(1); pos <= n; pos++ {
		r := rows[pos]
		u, inClerk := users[fmt.Sprintf("u%d", pos)]
		switch {
		case pos == 5:
			if r.Outcome != checkpoint.Exists || !inClerk || u.ID != r.ClerkID {
				t.Errorf("row 5 (already in Clerk): %+v, want exists with id %s", r.Settlement, u.ID)
			}
		case pos%40 == 0: // no email: the mapping refuses it
			if r.Outcome != checkpoint.Invalid || r.Field != "email_address" || r.Attempts != 0 || inClerk {
				t.Errorf("row %d (no email): %+v, want invalid on email_address, never sent", pos, r.Settlement)
			}
		case pos%50 == 0:
			// Rows 49 and 50 share an email: row 49, the first, is
			// created; row 50 is a duplicate of it and never sent.
			want := fmt.Sprintf("duplicate of row %d", pos-1)
			if r.Outcome != checkpoint.Invalid || r.ErrorCode != verdict.CodeDuplicateEmail || r.Field != "email_address" ||
				!strings.Contains(r.Message, want) || r.Attempts != 0 || inClerk {
				t.Errorf("row %d (the email of row %d): %+v, in the emulator %v; want invalid, %s, never sent",
					pos, pos-1, r.Settlement, inClerk, want)
			}
		default:
			if r.Outcome != checkpoint.Created || !inClerk || u.ID != r.ClerkID {
				t.Errorf("row %d: %+v, want created as emulator user %q", pos, r.Settlement, u.ID)
			}
		}
	}
	if wantUsers := n - n/40 - n/50 + n/200; len(users) != wantUsers {
		t.Errorf("emulator holds %d users, want %d (every valid row once)", len(users), wantUsers)
	}
}

// TestRateLimitHoldsEveryWorker overdrives the pacer (three times the
// emulator's budget) so that 429s happen, and checks that each window that
// overflowed saw only as many 429s as requests could already be under way
// when the first came back: one hold for all workers, not one per worker.
func TestRateLimitHoldsEveryWorker(t *testing.T) {
	const (
		budget      = 20
		window      = time.Second
		maxInFlight = 6
		n           = 100
	)
	if testing.Short() {
		t.Skip("takes about 5 s")
	}
	emu := startEmulator(t, emulator.Config{RequestsPerWindow: budget, Window: window,
		Faults: emulator.Faults{Latency: 2 * time.Millisecond}})
	st := openLedger(t)
	cfg := Config{
		Source: rowsSource(n), Mapper: fakeMapper{}, MappingFingerprint: "simple", Store: st,
		Gateway: emuGateway(t, emu.URL(), pacer.Rate{Requests: 3 * budget, Window: window}, maxInFlight),
		Target:  emu.URL(), Workers: maxInFlight, Logger: discardLogger(), TempDir: t.TempDir(),
	}
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkEveryRowOnce(t, st, sum.RunID, n)
	if got := len(emulatorUsers(t, emu.Emulator)); got != n {
		t.Errorf("emulator holds %d users, want %d", got, n)
	}
	stats := emu.Stats()
	perWindow := map[time.Time]int{}
	for _, at := range emu.limitedAt() {
		perWindow[at.Truncate(window)]++
	}
	t.Logf("summary: %+v; emulator 429s %d, per window %v", sum, stats.RateLimited, perWindow)
	if stats.RateLimited == 0 || sum.Holds == 0 {
		t.Fatalf("no 429 happened (%d) or no hold (%d): the test did not overdrive the budget", stats.RateLimited, sum.Holds)
	}
	if int64(stats.RateLimited) != sum.RateLimited {
		t.Errorf("emulator answered %d 429s, importer counted %d", stats.RateLimited, sum.RateLimited)
	}
	for w, c := range perWindow {
		if c > maxInFlight {
			t.Errorf("window %s: %d 429s, more than the %d requests that can be under way: workers went on during the hold",
				w.Format("15:04:05.000"), c, maxInFlight)
		}
	}
	// n creates over budget-sized windows: at most a few more windows than
	// the minimum overflowed.
	if minWindows := n / budget; len(perWindow) > minWindows+2 {
		t.Errorf("%d windows saw 429s; with holds working at most %d should", len(perWindow), minWindows+2)
	}
}

// TestPacedRunStaysUnderTheBudget paces at the emulator's own budget: the
// pacer's token bucket must keep every fixed window under it, so the run
// meets no 429 that the machine does not explain (a stall of this
// process's goroutines on the way to the emulator's counter, beyond the
// pacer's allowance: see pacertest).
func TestPacedRunStaysUnderTheBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 3 s")
	}
	const budget, n = 40, 100
	stalls := pacertest.Watch(t)
	emu := startEmulator(t, emulator.Config{RequestsPerWindow: budget, Window: time.Second})
	st := openLedger(t)
	rec := &refusalRecorder{base: http.DefaultTransport}
	c, err := clerk.New(clerk.Config{BaseURL: emu.URL(), SecretKey: testSecretKey, Timeout: 5 * time.Second,
		HTTPClient: &http.Client{Transport: rec}})
	if err != nil {
		t.Fatal(err)
	}
	p := pacer.New(pacer.NewBudget(pacer.Rate{Requests: budget, Window: time.Second}, 8, 5*time.Second))
	cfg := Config{
		Source: rowsSource(n), Mapper: fakeMapper{}, MappingFingerprint: "simple", Store: st,
		Gateway: gateway.New(c, gateway.Config{Pacer: p, Retry: gateway.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond}}),
		Target:  emu.URL(), Workers: 8, Logger: discardLogger(), TempDir: t.TempDir(),
	}
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkEveryRowOnce(t, st, sum.RunID, n)
	refused := rec.all()
	if stats := emu.Stats(); stats.RateLimited != len(refused) {
		t.Errorf("the emulator answered %d 429s, the client saw %d", stats.RateLimited, len(refused))
	}
	rate := p.Policy().(*pacer.Budget).Report().Rate
	if bad := stalls.Unexplained(t, refused, time.Second, rate, pacer.JitterFloor/2); len(bad) > 0 {
		t.Errorf("%d 429s while pacing at the budget that no stall of the machine explains", len(bad))
	}
	// The bucket admits at most 1 + r·t requests in t, r under the budget.
	if sum.RequestsPerSec > budget {
		t.Errorf("achieved %.1f requests/s, over the budget of %d/s", sum.RequestsPerSec, budget)
	}
}

// refusalRecorder is a RoundTripper that notes the span of every request
// answered 429.
type refusalRecorder struct {
	base  http.RoundTripper
	mu    sync.Mutex
	spans []pacertest.Span
}

func (r *refusalRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	sent := time.Now()
	resp, err := r.base.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		r.mu.Lock()
		r.spans = append(r.spans, pacertest.Span{Sent: sent, Answered: time.Now()})
		r.mu.Unlock()
	}
	return resp, err
}

func (r *refusalRecorder) all() []pacertest.Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]pacertest.Span(nil), r.spans...)
}
