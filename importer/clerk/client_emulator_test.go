package clerk_test

import (
	"context"
	"errors"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/spectest"
)

// startEmulator starts an emulator for the test and closes it afterwards.
func startEmulator(tb testing.TB, cfg emulator.Config) *emulator.Server {
	tb.Helper()
	srv, err := emulator.Start(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { srv.Close() })
	return srv
}

// unlimited is an emulator configuration whose rate limits never bite.
func unlimited() emulator.Config {
	return emulator.Config{RequestsPerWindow: 1 << 30, UserUpdatesPerWindow: 1 << 30}
}

// TestClientAgainstEmulator drives every client method end to end against
// the emulator, with every request and response checked against the spec.
func TestClientAgainstEmulator(t *testing.T) {
	v := spectest.Load(t)
	srv := startEmulator(t, unlimited())
	c := newValidatedClient(t, v, srv.URL())
	ctx := context.Background()
	calls := 0
	must := func(err error) {
		t.Helper()
		calls++
		if err != nil {
			t.Fatal(err)
		}
	}

	u, err := c.CreateUser(ctx, &request.CreateUser{
		ExternalID:      request.Value("legacy-42"),
		FirstName:       request.Value("Ada"),
		LastName:        request.Value("Lovelace"),
		EmailAddresses:  []string{"ada@example.com"},
		Username:        request.Value("ada_l"),
		PasswordDigest:  request.Value("$2a$10$abcdefghijklmnopqrstuu5Y0n1S2M5m0uVSi3Kq6aW8yqpvKx2hG"),
		PasswordHasher:  "bcrypt",
		PublicMetadata:  map[string]any{"plan": "pro", "prefs": map[string]any{"theme": "dark", "lang": "en"}},
		PrivateMetadata: map[string]any{"legacy_id": 42},
	})
	must(err)
	// CreateUser decodes what its callers read; GetUser the whole user.
	if u.ID == "" || u.Object != "user" || deref(u.ExternalID) != "legacy-42" || u.CreatedAt == 0 || u.UpdatedAt == 0 {
		t.Fatalf("created user = %+v", u)
	}
	id := u.ID

	got, err := c.GetUser(ctx, id)
	must(err)
	primary := deref(got.PrimaryEmailAddressID)
	if got.ID != id || deref(got.FirstName) != "Ada" || deref(got.Username) != "ada_l" || !got.PasswordEnabled ||
		len(got.EmailAddresses) != 1 || got.EmailAddresses[0].EmailAddress != "ada@example.com" ||
		deref(got.PrimaryEmailAddressID) != got.EmailAddresses[0].ID || got.UpdatedAt != u.UpdatedAt {
		t.Errorf("GetUser = %+v", got)
	}

	list, err := c.ListUsers(ctx, clerk.ListUsersParams{ExternalID: []string{"legacy-42", "legacy-nope"}, Limit: 10})
	must(err)
	if len(list) != 1 || list[0].ID != id {
		t.Errorf("ListUsers by external_id = %d users", len(list))
	}
	list, err = c.ListUsers(ctx, clerk.ListUsersParams{EmailAddress: []string{"ada@example.com"}})
	must(err)
	if len(list) != 1 || list[0].ID != id {
		t.Errorf("ListUsers by email = %d users", len(list))
	}
	n, err := c.CountUsers(ctx, clerk.ListUsersParams{ExternalID: []string{"legacy-42"}})
	must(err)
	if n != 1 {
		t.Errorf("CountUsers = %d", n)
	}

	got, err = c.UpdateUser(ctx, id, &clerk.UpdateUserParams{FirstName: request.Value("Augusta"), Username: request.Null[string]()})
	must(err)
	if deref(got.FirstName) != "Augusta" || got.Username != nil || deref(got.LastName) != "Lovelace" {
		t.Errorf("UpdateUser: first %q username %v last %q", deref(got.FirstName), got.Username, deref(got.LastName))
	}

	got, err = c.UpdateUserMetadata(ctx, id, &clerk.MetadataParams{
		PublicMetadata: map[string]any{"plan": nil, "prefs": map[string]any{"theme": "light"}, "new": true},
	})
	must(err)
	want := map[string]any{"prefs": map[string]any{"theme": "light", "lang": "en"}, "new": true}
	if !jsonEqual(got.PublicMetadata, want) {
		t.Errorf("after deep merge public_metadata = %v, want %v", got.PublicMetadata, want)
	}
	if !jsonEqual(got.PrivateMetadata, map[string]any{"legacy_id": 42}) {
		t.Errorf("PATCH touched private_metadata: %v", got.PrivateMetadata)
	}

	got, err = c.ReplaceUserMetadata(ctx, id, &clerk.MetadataParams{PublicMetadata: map[string]any{}})
	must(err)
	if len(got.PublicMetadata) != 0 || !jsonEqual(got.PrivateMetadata, map[string]any{"legacy_id": 42}) {
		t.Errorf("after PUT public %v private %v", got.PublicMetadata, got.PrivateMetadata)
	}

	email, err := c.CreateEmailAddress(ctx, clerk.CreateEmailAddressParams{UserID: id, EmailAddress: "augusta@example.com",
		Verified: request.Value(true), Primary: request.Value(false)})
	must(err)
	if email.ID == "" || email.EmailAddress != "augusta@example.com" {
		t.Errorf("CreateEmailAddress = %+v", email)
	}
	phone, err := c.CreatePhoneNumber(ctx, clerk.CreatePhoneNumberParams{UserID: id, PhoneNumber: "+14155550100",
		Verified: request.Value(true)})
	must(err)
	if phone.ID == "" || phone.PhoneNumber != "+14155550100" {
		t.Errorf("CreatePhoneNumber = %+v", phone)
	}
	got, err = c.GetUser(ctx, id)
	must(err)
	if len(got.EmailAddresses) != 2 || len(got.PhoneNumbers) != 1 || deref(got.PrimaryEmailAddressID) != primary {
		t.Errorf("after adding identifiers: %d emails, %d phones, primary %q", len(got.EmailAddresses), len(got.PhoneNumbers), deref(got.PrimaryEmailAddressID))
	}

	// A secondary address can be deleted, and so can the primary phone
	// (Clerk refuses only a user's last identification); an unknown id is
	// 404.
	must(c.DeleteEmailAddress(ctx, email.ID))
	must(c.DeletePhoneNumber(ctx, phone.ID))
	err = c.DeleteEmailAddress(ctx, email.ID)
	calls++
	var refused *clerk.Error
	if !errors.As(err, &refused) || refused.Status != 404 || !refused.HasCode(clerk.CodeResourceNotFound) {
		t.Errorf("DeleteEmailAddress twice: %v", err)
	}
	got, err = c.GetUser(ctx, id)
	must(err)
	if len(got.EmailAddresses) != 1 || got.EmailAddresses[0].EmailAddress != "ada@example.com" || len(got.PhoneNumbers) != 0 ||
		got.PrimaryPhoneNumberID != nil {
		t.Errorf("after the deletes: %d emails, %d phones, primary phone %v", len(got.EmailAddresses), len(got.PhoneNumbers), got.PrimaryPhoneNumberID)
	}

	for _, step := range []struct {
		name           string
		call           func(context.Context, string) (*clerk.User, error)
		banned, locked bool
	}{
		{"BanUser", c.BanUser, true, false},
		{"UnbanUser", c.UnbanUser, false, false},
		{"LockUser", c.LockUser, false, true},
		{"UnlockUser", c.UnlockUser, false, false},
	} {
		got, err := step.call(ctx, id)
		must(err)
		if got.Banned != step.banned || got.Locked != step.locked {
			t.Errorf("%s: banned %v locked %v", step.name, got.Banned, got.Locked)
		}
	}
	// In bulk: the users banned are answered; an unknown id is not.
	banned, err := c.BanUsers(ctx, []string{id, "user_nobody"})
	must(err)
	if len(banned) != 1 || banned[0].ID != id || !banned[0].Banned {
		t.Errorf("BanUsers: %+v", banned)
	}
	if _, err := c.BanUsers(ctx, make([]string, clerk.MaxBulkBan+1)); err == nil {
		t.Error("BanUsers sent more than 50 ids")
	}
	_, err = c.UnbanUser(ctx, id)
	must(err)

	// A second user with the same external_id is refused, naming it.
	_, err = c.CreateUser(ctx, &request.CreateUser{ExternalID: request.Value("legacy-42"), EmailAddresses: []string{"other@example.com"}})
	calls++
	var ae *clerk.Error
	if !errors.As(err, &ae) || ae.Status != 422 {
		t.Fatalf("duplicate external_id: %v", err)
	}
	if p, ok := ae.IdentifierExists(); !ok || p != "external_id" || clerk.Classify(err) != clerk.Permanent {
		t.Errorf("duplicate external_id: param %q ok %v class %v", p, ok, clerk.Classify(err))
	}

	must(c.DeleteUser(ctx, id))
	_, err = c.GetUser(ctx, id)
	calls++
	if !errors.As(err, &ae) || ae.Status != 404 || !ae.HasCode(clerk.CodeResourceNotFound) {
		t.Errorf("GetUser after delete: %v", err)
	}

	if v.Count() != int64(calls) || v.ResponseCount() != int64(calls) {
		t.Errorf("validated %d requests and %d responses, want %d each", v.Count(), v.ResponseCount(), calls)
	}
}

func TestClientAgainstEmulatorRateLimit(t *testing.T) {
	v := spectest.Load(t)
	srv := startEmulator(t, emulator.Config{RequestsPerWindow: 2, Window: time.Minute})
	c := newValidatedClient(t, v, srv.URL())
	ctx := context.Background()
	for i := 0; i < 2; i++ {
		if _, err := c.CountUsers(ctx, clerk.ListUsersParams{}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.CountUsers(ctx, clerk.ListUsersParams{})
	var ae *clerk.Error
	if !errors.As(err, &ae) || !ae.RateLimited() {
		t.Fatalf("third request in the window: %v", err)
	}
	if ae.RetryAfter <= 0 || ae.RetryAfter > time.Minute {
		t.Errorf("RetryAfter = %s", ae.RetryAfter)
	}
	if clerk.Classify(err) != clerk.Retry || clerk.MaybeApplied(err) {
		t.Errorf("429: class %v maybe applied %v", clerk.Classify(err), clerk.MaybeApplied(err))
	}
}

func TestClientAgainstEmulatorBadKey(t *testing.T) {
	srv := startEmulator(t, emulator.Config{SecretKey: "sk_test_the_right_one"})
	c := benchClient(t, srv.URL())
	_, err := c.GetUser(context.Background(), "user_1")
	var ae *clerk.Error
	if !errors.As(err, &ae) || ae.Status != 401 || clerk.Classify(err) != clerk.Fatal {
		t.Fatalf("wrong key: %v (class %v)", err, clerk.Classify(err))
	}
}

// BenchmarkClientCreateUser measures CreateUser end to end against the
// emulator (its validation and store included), rate limits off.
func BenchmarkClientCreateUser(b *testing.B) {
	srv := startEmulator(b, unlimited())
	c := benchClient(b, srv.URL())
	benchmarkParallel(b, func(ctx context.Context, i int64) error {
		_, err := c.CreateUser(ctx, createParams(i))
		return err
	})
}

// BenchmarkClientGetUser measures GetUser end to end against the emulator,
// rate limits off.
func BenchmarkClientGetUser(b *testing.B) {
	srv := startEmulator(b, unlimited())
	c := benchClient(b, srv.URL())
	u, err := c.CreateUser(context.Background(), createParams(0))
	if err != nil {
		b.Fatal(err)
	}
	benchmarkParallel(b, func(ctx context.Context, _ int64) error {
		_, err := c.GetUser(ctx, u.ID)
		return err
	})
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// TestClientNeverResendsOnItsOwn: net/http replays a bodiless GET when a
// reused connection breaks; the client turns that off, so each call is one
// request at Clerk (the one its caller paced and counted) and a lost
// answer is the caller's to retry.
func TestClientNeverResendsOnItsOwn(t *testing.T) {
	cfg := unlimited()
	cfg.Faults = emulator.Faults{Seed: 1, LostResponseRate: 0.5}
	srv := startEmulator(t, cfg)
	c, err := clerk.New(clerk.Config{BaseURL: srv.URL(), SecretKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const calls = 40
	lost := 0
	for i := range calls {
		var err error
		if i%2 == 0 {
			_, err = c.ListUsers(ctx, clerk.ListUsersParams{Limit: 1})
		} else {
			_, err = c.CountUsers(ctx, clerk.ListUsersParams{})
		}
		if err != nil {
			if !clerk.MaybeApplied(err) {
				t.Fatalf("call %d: %v is not a lost answer", i, err)
			}
			lost++
		}
	}
	st := srv.Emulator().Stats()
	if st.Total != calls || lost != st.Faults.LostResponses || lost == 0 {
		t.Errorf("%d calls reached the emulator as %d requests (%d answers lost, %d calls failed): want one request a call",
			calls, st.Total, st.Faults.LostResponses, lost)
	}
}
