package gateway_test

import (
	"context"
	"errors"
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"net/http"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/spectest"
)

const testKey = "sk_test_gateway"

// fast is a retry policy for tests: many quick retries.
var fast = gateway.RetryPolicy{MaxRetries: 20, BaseDelay: time.Millisecond, MaxDelay: 5 * time.Millisecond}

// env is an emulator, a spec-checked client of it and a gateway around
// the client.
type env struct {
	srv *emulator.Server
	raw *clerk.Client
	g   *gateway.Gateway
}

func newEnv(t *testing.T, ecfg emulator.Config, gcfg gateway.Config) env {
	t.Helper()
	srv, err := emulator.Start(ecfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	v := spectest.Load(t)
	raw, err := clerk.New(clerk.Config{BaseURL: srv.URL(), SecretKey: testKey,
		HTTPClient: &http.Client{Transport: v.Transport(t, clerk.NewTransport())}})
	if err != nil {
		t.Fatal(err)
	}
	if gcfg.Pacer == nil {
		gcfg.Pacer = pacer.New(pacer.NewBudget(pacer.Rate{Requests: 100000, Window: time.Second}, 16, 5*time.Second))
	}
	return env{srv: srv, raw: raw, g: gateway.New(raw, gcfg)}
}

func unlimited() emulator.Config {
	return emulator.Config{RequestsPerWindow: 1 << 30, UserUpdatesPerWindow: 1 << 30}
}

// sameCounts checks that the gateway, its pacer and the target counted the
// same requests, call by call.
func (e env) sameCounts(t *testing.T) gateway.Stats {
	t.Helper()
	gs, es := e.g.Stats(), e.srv.Emulator().Stats()
	if gs.Requests() != int64(es.Total) || gs.Pacer.Requests != int64(es.Total) {
		t.Errorf("gateway counted %d requests, its pacer %d, the target saw %d", gs.Requests(), gs.Pacer.Requests, es.Total)
	}
	byRoute := map[string]int64{} // ListUsers and ListUsersLazy send one route
	for _, op := range gateway.Ops() {
		byRoute[op.String()] += gs.Of(op)
	}
	for route, got := range byRoute {
		if want := int64(es.Routes[route].Total); got != want {
			t.Errorf("%s: gateway counted %d, the target saw %d", route, got, want)
		}
	}
	return gs
}

// TestEveryCallPassesTheLayers calls every method of clerk.API through the
// gateway: each reaches the target once, counted by the gateway and its
// pacer under its own call.
func TestEveryCallPassesTheLayers(t *testing.T) {
	if n, m := len(gateway.Ops()), reflect.TypeFor[clerk.API]().NumMethod(); n != m {
		t.Fatalf("%d gateway calls for the %d methods of clerk.API", n, m)
	}
	e := newEnv(t, unlimited(), gateway.Config{Retry: fast})
	ctx := context.Background()
	g := e.g
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	u, err := g.CreateUser(ctx, &request.CreateUser{ExternalID: request.Value("k1"), EmailAddresses: []string{"a@example.com"},
		PhoneNumbers: []string{"+15555550199"}})
	must(err)
	_, err = g.GetUser(ctx, u.ID)
	must(err)
	_, err = g.GetInstance(ctx)
	must(err)
	_, err = g.ListUsers(ctx, clerk.ListUsersParams{Limit: 10})
	must(err)
	_, err = g.ListUsersLazy(ctx, clerk.ListUsersParams{Limit: 10})
	must(err)
	_, err = g.CountUsers(ctx, clerk.ListUsersParams{})
	must(err)
	_, err = g.UpdateUser(ctx, u.ID, &clerk.UpdateUserParams{FirstName: request.Value("Ada")})
	must(err)
	_, err = g.UpdateUserMetadata(ctx, u.ID, &clerk.MetadataParams{PublicMetadata: map[string]any{"a": 1}})
	must(err)
	_, err = g.ReplaceUserMetadata(ctx, u.ID, &clerk.MetadataParams{PublicMetadata: map[string]any{"b": 2}})
	must(err)
	for _, f := range []func(context.Context, string) (*clerk.User, error){g.BanUser, g.UnbanUser, g.LockUser, g.UnlockUser} {
		_, err = f(ctx, u.ID)
		must(err)
	}
	_, err = g.BanUsers(ctx, []string{u.ID})
	must(err)
	em, err := g.CreateEmailAddress(ctx, clerk.CreateEmailAddressParams{UserID: u.ID, EmailAddress: "b@example.com", Verified: request.Value(true)})
	must(err)
	ph, err := g.CreatePhoneNumber(ctx, clerk.CreatePhoneNumberParams{UserID: u.ID, PhoneNumber: "+15555550100", Verified: request.Value(true)})
	must(err)
	must(g.DeleteEmailAddress(ctx, em.ID))
	must(g.DeletePhoneNumber(ctx, ph.ID))
	must(g.DeleteUser(ctx, u.ID))

	gs := e.sameCounts(t)
	for _, op := range gateway.Ops() {
		if gs.Of(op) != 1 {
			t.Errorf("%s sent %d times, want once", op, gs.Of(op))
		}
	}
}

// TestPreflightSaysWhoTheInstanceIs: the pre-flight is one GET
// /v1/instance through the layers, answering the instance the key reaches;
// asked again, the gateway answers what it learnt without a request.
func TestPreflightSaysWhoTheInstanceIs(t *testing.T) {
	cfg := unlimited()
	cfg.InstanceID = "ins_preflight"
	e := newEnv(t, cfg, gateway.Config{Retry: fast})
	for range 2 {
		in, err := e.g.Preflight(context.Background())
		if err != nil || in.ID != "ins_preflight" || in.EnvironmentType != "development" {
			t.Fatalf("Preflight = %+v, %v; want ins_preflight, development", in, err)
		}
	}
	if gs := e.sameCounts(t); gs.Requests() != 1 || gs.Of(gateway.OpGetInstance) != 1 {
		t.Errorf("two pre-flights sent %d requests (%d GET /v1/instance), want one", gs.Requests(), gs.Of(gateway.OpGetInstance))
	}
}

// TestRetriesThroughFaults: with a fifth of the answers 5xx and a tenth of
// the connections reset before anything is applied, every call ends well,
// the failed attempts are retried, and every attempt is counted.
func TestRetriesThroughFaults(t *testing.T) {
	cfg := unlimited()
	cfg.Faults = emulator.Faults{Seed: 7, ErrorRate: 0.2, ResetRate: 0.1}
	e := newEnv(t, cfg, gateway.Config{Retry: fast})
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			if _, err := e.g.CreateUser(ctx, &request.CreateUser{ExternalID: request.Value(fmt.Sprintf("k%d", i))}); err != nil {
				t.Errorf("CreateUser k%d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if n, err := e.g.CountUsers(ctx, clerk.ListUsersParams{}); err != nil || n != 40 {
		t.Errorf("%d users in Clerk (%v), want 40", n, err)
	}
	gs := e.sameCounts(t)
	if f := e.srv.Emulator().Stats().Faults; gs.Retries != int64(f.Errors+f.Resets) || gs.Retries == 0 {
		t.Errorf("%d retries for %d injected errors and %d resets", gs.Retries, f.Errors, f.Resets)
	}
}

// TestLostCreatesAreLookedUpNotResent: half the answers are lost after
// the change was applied; a create whose answer was lost is looked up by
// external_id before it is sent again, so no user is made twice and none
// is missing.
func TestLostCreatesAreLookedUpNotResent(t *testing.T) {
	cfg := unlimited()
	cfg.Faults = emulator.Faults{Seed: 3, LostResponseRate: 0.5}
	e := newEnv(t, cfg, gateway.Config{Retry: fast})
	ctx := context.Background()
	const users = 30
	var wg sync.WaitGroup
	for i := range users {
		wg.Go(func() {
			ext := fmt.Sprintf("k%d", i)
			u, err := e.g.CreateUser(ctx, &request.CreateUser{ExternalID: request.Value(ext), EmailAddresses: []string{ext + "@example.com"}})
			if err != nil || u == nil || *u.ExternalID != ext {
				t.Errorf("CreateUser %s = %v, %v", ext, u, err)
			}
		})
	}
	wg.Wait()
	if n, err := e.g.CountUsers(ctx, clerk.ListUsersParams{}); err != nil || n != users {
		t.Errorf("%d users in Clerk (%v), want %d", n, err, users)
	}
	gs := e.sameCounts(t)
	if gs.Recovered == 0 {
		t.Error("no create was recovered by a lookup: the test lost no create's answer")
	}
	if creates := gs.Of(gateway.OpCreateUser); creates != users {
		t.Errorf("%d creates sent for %d users: a create whose answer was lost was sent again", creates, users)
	}
}

// TestLostAddressAddsAreFoundOnTheUser: an address added whose answer
// was lost is found on its user instead of being sent again.
func TestLostAddressAddsAreFoundOnTheUser(t *testing.T) {
	cfg := unlimited()
	cfg.Faults = emulator.Faults{Seed: 5, LostResponseRate: 0.5}
	e := newEnv(t, cfg, gateway.Config{Retry: fast})
	ctx := context.Background()
	u, err := e.g.CreateUser(ctx, &request.CreateUser{ExternalID: request.Value("k"), EmailAddresses: []string{"k@example.com"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 8 {
		addr := fmt.Sprintf("k%d@example.com", i)
		if _, err := e.g.CreateEmailAddress(ctx, clerk.CreateEmailAddressParams{UserID: u.ID, EmailAddress: addr}); err != nil {
			t.Errorf("CreateEmailAddress %s: %v", addr, err)
		}
		phone := fmt.Sprintf("+1555555010%d", i)
		if _, err := e.g.CreatePhoneNumber(ctx, clerk.CreatePhoneNumberParams{UserID: u.ID, PhoneNumber: phone}); err != nil {
			t.Errorf("CreatePhoneNumber %s: %v", phone, err)
		}
	}
	gs := e.g.Stats()
	if gs.Recovered < 2 || gs.Of(gateway.OpCreateEmailAddress) != 8 || gs.Of(gateway.OpCreatePhoneNumber) != 8 {
		t.Errorf("recovered %d; %d email and %d phone adds sent: want some recovered, each add sent once",
			gs.Recovered, gs.Of(gateway.OpCreateEmailAddress), gs.Of(gateway.OpCreatePhoneNumber))
	}
	got, err := e.g.GetUser(ctx, u.ID)
	if err != nil || len(got.EmailAddresses) != 9 || len(got.PhoneNumbers) != 8 {
		t.Fatalf("user has %d emails and %d phones (%v), want 9 and 8", len(got.EmailAddresses), len(got.PhoneNumbers), err)
	}
}

// TestUpdatesAreSpacedPerUser: many workers updating one user, whose
// budget is 4 updates in 500 ms, meet no 429; another user's updates do
// not wait behind them.
func TestUpdatesAreSpacedPerUser(t *testing.T) {
	cfg := emulator.Config{RequestsPerWindow: 1 << 30, UserUpdatesPerWindow: 4, Window: 500 * time.Millisecond}
	e := newEnv(t, cfg, gateway.Config{Retry: fast, PerUser: pacer.Rate{Requests: 4, Window: 500 * time.Millisecond}})
	ctx := context.Background()
	var ids []string
	for _, ext := range []string{"busy", "quiet"} {
		u, err := e.g.CreateUser(ctx, &request.CreateUser{ExternalID: request.Value(ext)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = e.g.UpdateUser(ctx, ids[0], &clerk.UpdateUserParams{FirstName: request.Value(fmt.Sprint(i))})
			} else {
				_, err = e.g.UpdateUserMetadata(ctx, ids[0], &clerk.MetadataParams{PublicMetadata: map[string]any{"i": i}})
			}
			if err != nil {
				t.Error(err)
			}
		})
	}
	time.Sleep(50 * time.Millisecond) // the busy user's burst is spent
	start := time.Now()
	if _, err := e.g.UpdateUser(ctx, ids[1], &clerk.UpdateUserParams{FirstName: request.Value("q")}); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited > 300*time.Millisecond {
		t.Errorf("the quiet user's update waited %s behind the busy one's", waited)
	}
	wg.Wait()
	if es := e.srv.Emulator().Stats(); es.RateLimited != 0 {
		t.Errorf("%d 429s: the per-user budget was overrun", es.RateLimited)
	}
	e.sameCounts(t)
}

// TestRowCallsAndClasses: a row's attempts are counted in its Calls; a
// refused key is fatal after one attempt, a refused request permanent
// after one attempt, and neither is retried.
func TestRowCallsAndClasses(t *testing.T) {
	cfg := unlimited()
	cfg.Faults = emulator.Faults{Seed: 11, ErrorRate: 0.5}
	e := newEnv(t, cfg, gateway.Config{Retry: fast})
	ctx, calls := gateway.CountCalls(context.Background())
	if _, err := e.g.CreateUser(ctx, &request.CreateUser{ExternalID: request.Value("k")}); err != nil {
		t.Fatal(err)
	}
	if calls.Of(gateway.OpCreateUser) != int(e.g.Stats().Of(gateway.OpCreateUser)) || calls.Sent() != int(e.g.Stats().Requests()) {
		t.Errorf("the row counted %d creates of %d sent", calls.Of(gateway.OpCreateUser), e.g.Stats().Of(gateway.OpCreateUser))
	}

	e = newEnv(t, unlimited(), gateway.Config{Retry: fast})
	bad := gateway.New(mustClient(t, e.srv.URL(), "not-a-key"), gateway.Config{Retry: fast})
	_, err := bad.CountUsers(context.Background(), clerk.ListUsersParams{})
	if clerk.Classify(err) != clerk.Fatal || bad.Stats().Requests() != 1 {
		t.Errorf("a refused key: %v (%s) after %d attempts; want fatal after one", err, clerk.Classify(err), bad.Stats().Requests())
	}
	before := e.g.Stats().Requests()
	_, err = e.g.CreateUser(context.Background(), &request.CreateUser{EmailAddresses: []string{"not an email"}})
	var ae *clerk.Error
	if !errors.As(err, &ae) || clerk.Classify(err) != clerk.Permanent || e.g.Stats().Requests() != before+1 {
		t.Errorf("a refused request: %v (%s) after %d attempts; want permanent after one", err, clerk.Classify(err), e.g.Stats().Requests()-before)
	}
}

func mustClient(t *testing.T, url, key string) *clerk.Client {
	t.Helper()
	c, err := clerk.New(clerk.Config{BaseURL: url, SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
