package clerk_test

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/spectest"
)

// TestEveryMethodMatchesSpec sends every method's request through the spec
// validator and checks what the server received.
func TestEveryMethodMatchesSpec(t *testing.T) {
	v := spectest.Load(t)
	srv := newFakeClerk(t)
	c := newValidatedClient(t, v, srv.URL+"/v1")
	ctx := context.Background()

	type check struct {
		method, path, query string
		body                map[string]any // nil: no body expected
	}
	tests := []struct {
		name string
		call func() error
		want check
	}{
		{"CreateUser", func() error {
			u, err := c.CreateUser(ctx, &request.CreateUser{
				ExternalID:                       request.Value("legacy-1"),
				FirstName:                        request.Value("Ada"),
				LastName:                         request.Null[string](),
				Locale:                           request.Value("en-GB"),
				EmailAddresses:                   []string{"ada@example.com", "ada2@example.com"},
				EmailAddressIdentificationStatus: []string{request.StatusVerified, request.StatusReserved},
				PhoneNumbers:                     []string{"+15555550100"},
				PhoneNumberIdentificationStatus:  []string{request.StatusVerified},
				Web3Wallets:                      []string{"0x0000000000000000000000000000000000000001"},
				Username:                         request.Value("ada"),
				PasswordDigest:                   request.Value("$2a$10$abcdefghijklmnopqrstuu5Y0n1S2M5m0uVSi3Kq6aW8yqpvKx2hG"),
				PasswordHasher:                   "bcrypt",
				SkipPasswordChecks:               request.Value(true),
				SkipPasswordRequirement:          request.Value(false),
				TOTPSecret:                       request.Value("JBSWY3DPEHPK3PXP"),
				BackupCodes:                      []string{"code-1"},
				PublicMetadata:                   map[string]any{"plan": "pro"},
				PrivateMetadata:                  map[string]any{"legacy": map[string]any{"id": 1}},
				UnsafeMetadata:                   map[string]any{},
				DeleteSelfEnabled:                request.Value(true),
				LegalAcceptedAt:                  request.Value("2020-01-01T00:00:00Z"),
				SkipLegalChecks:                  request.Value(true),
				SkipUserRequirement:              request.Value(true),
				CreateOrganizationEnabled:        request.Value(false),
				CreateOrganizationsLimit:         request.Value(3),
				CreatedAt:                        request.Value("2019-01-01T00:00:00Z"),
				BypassClientTrust:                request.Value(false),
				Banned:                           request.Value(false),
				Locked:                           request.Value(false),
			})
			if err == nil && (u.ID != "user_1" || *u.ExternalID != "legacy-1" || u.CreatedAt != 1700000000000 ||
				u.UpdatedAt != 1700000000001 || u.EmailAddresses != nil || u.PublicMetadata != nil) {
				t.Errorf("decoded user = %+v, want id, external_id and times only", u)
			}
			return err
		}, check{method: "POST", path: "/v1/users", body: map[string]any{"external_id": "legacy-1", "last_name": nil}}},
		{"GetInstance", func() error {
			in, err := c.GetInstance(ctx)
			if err == nil && (in.ID != "ins_1" || in.EnvironmentType != "production") {
				t.Errorf("GetInstance = %+v", in)
			}
			return err
		}, check{method: "GET", path: "/v1/instance"}},
		{"GetUser", func() error {
			u, err := c.GetUser(ctx, "user_1")
			if err == nil && u.ID != "user_1" {
				t.Errorf("GetUser id = %q", u.ID)
			}
			return err
		}, check{method: "GET", path: "/v1/users/user_1"}},
		{"ListUsers", func() error {
			users, err := c.ListUsers(ctx, clerk.ListUsersParams{
				EmailAddress: []string{"a+1@example.com", "b@example.com"},
				PhoneNumber:  []string{"+15555550100"},
				ExternalID:   []string{"legacy-1", "legacy-2"},
				Username:     []string{"ada"},
				Web3Wallet:   []string{"0x01"},
				UserID:       []string{"user_1"},
				Query:        "ada",
				OrderBy:      "+created_at",
				Limit:        500,
				// Offset is 0: StartingAfter forbids it.
				StartingAfter: "user_0",
			})
			if err == nil && (len(users) != 2 || users[1].ID != "user_2") {
				t.Errorf("ListUsers = %d users", len(users))
			}
			return err
		}, check{method: "GET", path: "/v1/users", query: "email_address=a%2B1%40example.com&email_address=b%40example.com" +
			"&external_id=legacy-1&external_id=legacy-2&limit=500&order_by=%2Bcreated_at&phone_number=%2B15555550100" +
			"&query=ada&starting_after=user_0&user_id=user_1&username=ada&web3_wallet=0x01"}},
		{"ListUsersLazy", func() error {
			listed, err := c.ListUsersLazy(ctx, clerk.ListUsersParams{Limit: 500, OrderBy: "+created_at", StartingAfter: "user_0"})
			if err != nil {
				return err
			}
			var full []clerk.User // what ListUsers decodes from the same answer
			if err := json.Unmarshal([]byte("["+userJSON("user_1")+","+userJSON("user_2")+"]"), &full); err != nil {
				t.Fatal(err)
			}
			if len(listed) != 2 || listed[1].ID != "user_2" || listed[1].UpdatedAt != 1700000000001 {
				t.Fatalf("ListUsersLazy = %+v", listed)
			}
			for i := range listed {
				u, err := listed[i].User()
				if err != nil || !reflect.DeepEqual(u, full[i]) {
					t.Errorf("ListedUser.User() = %+v, %v; ListUsers read %+v", u, err, full[i])
				}
			}
			return nil
		}, check{method: "GET", path: "/v1/users", query: "limit=500&order_by=%2Bcreated_at&starting_after=user_0"}},
		{"ListUsers with offset", func() error {
			_, err := c.ListUsers(ctx, clerk.ListUsersParams{Limit: 10, Offset: 20})
			return err
		}, check{method: "GET", path: "/v1/users", query: "limit=10&offset=20"}},
		{"CountUsers", func() error {
			n, err := c.CountUsers(ctx, clerk.ListUsersParams{ExternalID: []string{"a", "b"}, Query: "x"})
			if err == nil && n != 42 {
				t.Errorf("CountUsers = %d, want 42", n)
			}
			return err
		}, check{method: "GET", path: "/v1/users/count", query: "external_id=a&external_id=b&query=x"}},
		{"UpdateUser", func() error {
			_, err := c.UpdateUser(ctx, "user_1", &clerk.UpdateUserParams{
				ExternalID:                       request.Value("legacy-1"),
				FirstName:                        request.Value("Ada"),
				LastName:                         request.Value("L"),
				Locale:                           request.Null[string](),
				PrimaryEmailAddressID:            request.Value("idn_1"),
				NotifyPrimaryEmailAddressChanged: request.Value(false),
				PrimaryPhoneNumberID:             request.Value("idn_2"),
				PrimaryWeb3WalletID:              request.Value("idn_3"),
				Username:                         request.Null[string](),
				ProfileImageID:                   request.Value("img_1"),
				Password:                         request.Value("correct horse battery staple"),
				PasswordDigest:                   "",
				SkipPasswordChecks:               request.Value(true),
				SignOutOfOtherSessions:           request.Value(true),
				TOTPSecret:                       request.Value("JBSWY3DPEHPK3PXP"),
				BackupCodes:                      []string{"c1", "c2"},
				DeleteSelfEnabled:                request.Value(false),
				CreateOrganizationEnabled:        request.Value(true),
				LegalAcceptedAt:                  request.Value("2020-01-01T00:00:00Z"),
				SkipLegalChecks:                  request.Value(true),
				CreateOrganizationsLimit:         request.Null[int](),
				CreatedAt:                        request.Value("2019-01-01T00:00:00Z"),
				BypassClientTrust:                request.Value(true),
			})
			return err
		}, check{method: "PATCH", path: "/v1/users/user_1", body: map[string]any{"username": nil, "first_name": "Ada"}}},
		{"UpdateUser with a digest", func() error {
			_, err := c.UpdateUser(ctx, "user_1", &clerk.UpdateUserParams{
				PasswordDigest: "$2a$10$abcdefghijklmnopqrstuu5Y0n1S2M5m0uVSi3Kq6aW8yqpvKx2hG", PasswordHasher: "bcrypt"})
			return err
		}, check{method: "PATCH", path: "/v1/users/user_1", body: map[string]any{"password_hasher": "bcrypt"}}},
		{"UpdateUserMetadata", func() error {
			_, err := c.UpdateUserMetadata(ctx, "user_1", &clerk.MetadataParams{
				PublicMetadata:  map[string]any{"plan": "pro", "old": nil},
				PrivateMetadata: map[string]any{"nested": map[string]any{"gone": nil}},
			})
			return err
		}, check{method: "PATCH", path: "/v1/users/user_1/metadata", body: map[string]any{
			"public_metadata": map[string]any{"plan": "pro", "old": nil}}}},
		{"ReplaceUserMetadata", func() error {
			_, err := c.ReplaceUserMetadata(ctx, "user_1", &clerk.MetadataParams{
				PublicMetadata: map[string]any{}, UnsafeMetadata: map[string]any{"x": 1}})
			return err
		}, check{method: "PUT", path: "/v1/users/user_1/metadata", body: map[string]any{
			"public_metadata": map[string]any{}, "unsafe_metadata": map[string]any{"x": 1.0}}}},
		{"DeleteUser", func() error { return c.DeleteUser(ctx, "user_1") },
			check{method: "DELETE", path: "/v1/users/user_1"}},
		{"BanUser", func() error { _, err := c.BanUser(ctx, "user_1"); return err },
			check{method: "POST", path: "/v1/users/user_1/ban"}},
		{"UnbanUser", func() error { _, err := c.UnbanUser(ctx, "user_1"); return err },
			check{method: "POST", path: "/v1/users/user_1/unban"}},
		{"LockUser", func() error { _, err := c.LockUser(ctx, "user_1"); return err },
			check{method: "POST", path: "/v1/users/user_1/lock"}},
		{"UnlockUser", func() error { _, err := c.UnlockUser(ctx, "user_1"); return err },
			check{method: "POST", path: "/v1/users/user_1/unlock"}},
		{"CreateEmailAddress", func() error {
			e, err := c.CreateEmailAddress(ctx, clerk.CreateEmailAddressParams{UserID: "user_1", EmailAddress: "second@example.com",
				Verified: request.Value(false), Primary: request.Value(false), NotifyPrimaryEmailAddressChanged: request.Null[bool]()})
			if err == nil && (e.ID != "idn_2" || e.EmailAddress != "second@example.com") {
				t.Errorf("CreateEmailAddress = %+v", e)
			}
			return err
		}, check{method: "POST", path: "/v1/email_addresses", body: map[string]any{
			"user_id": "user_1", "email_address": "second@example.com", "verified": false, "notify_primary_email_address_changed": nil}}},
		{"CreatePhoneNumber", func() error {
			n, err := c.CreatePhoneNumber(ctx, clerk.CreatePhoneNumberParams{UserID: "user_1", PhoneNumber: "+15555550100",
				Verified: request.Value(true), Primary: request.Value(true), ReservedForSecondFactor: request.Value(false)})
			if err == nil && (n.ID != "idn_3" || n.PhoneNumber != "+15555550100") {
				t.Errorf("CreatePhoneNumber = %+v", n)
			}
			return err
		}, check{method: "POST", path: "/v1/phone_numbers", body: map[string]any{"user_id": "user_1", "reserved_for_second_factor": false}}},
		{"DeleteEmailAddress", func() error { return c.DeleteEmailAddress(ctx, "idn_2") },
			check{method: "DELETE", path: "/v1/email_addresses/idn_2"}},
		{"DeletePhoneNumber", func() error { return c.DeletePhoneNumber(ctx, "idn_3") },
			check{method: "DELETE", path: "/v1/phone_numbers/idn_3"}},
		{"id that needs escaping", func() error { _, err := c.GetUser(ctx, "user 1/x"); return err },
			check{method: "GET", path: "/v1/users/user 1/x"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := v.Count()
			if err := tc.call(); err != nil {
				t.Fatalf("call failed: %v", err)
			}
			if got := v.Count() - before; got != 1 {
				t.Fatalf("the validator checked %d requests, want 1", got)
			}
			got := srv.last(t)
			if got.Method != tc.want.method || got.Path != tc.want.path {
				t.Errorf("sent %s %s, want %s %s", got.Method, got.Path, tc.want.method, tc.want.path)
			}
			if got.RawQuery != tc.want.query {
				t.Errorf("query\n got %s\nwant %s", got.RawQuery, tc.want.query)
			}
			checkHeaders(t, got, tc.want.body != nil)
			checkBody(t, got.Body, tc.want.body)
		})
	}
	if v.Count() != int64(len(tests)) || v.ResponseCount() != int64(len(tests)) {
		t.Errorf("validated %d requests and %d responses, want %d each", v.Count(), v.ResponseCount(), len(tests))
	}
}

func checkHeaders(t *testing.T, got seen, withBody bool) {
	t.Helper()
	h := got.Header
	if h.Get("Authorization") != "Bearer "+testKey {
		t.Errorf("Authorization = %q", h.Get("Authorization"))
	}
	if h.Get("Clerk-API-Version") != clerk.APIVersion {
		t.Errorf("Clerk-API-Version = %q", h.Get("Clerk-API-Version"))
	}
	if strings.Contains(got.RawQuery, "__clerk_api_version") {
		t.Errorf("the version was sent as a query parameter too: %s", got.RawQuery)
	}
	if h.Get("Accept") != "application/json" {
		t.Errorf("Accept = %q", h.Get("Accept"))
	}
	if !strings.HasPrefix(h.Get("User-Agent"), "clerkmigrate/") {
		t.Errorf("User-Agent = %q", h.Get("User-Agent"))
	}
	if ct := h.Get("Content-Type"); withBody != (ct == "application/json") {
		t.Errorf("Content-Type = %q with body=%v", ct, withBody)
	}
	if !withBody && got.Body != "" {
		t.Errorf("unexpected body %q", got.Body)
	}
}

// checkBody asserts that body holds want's keys with want's values
// (explicit nulls included).
func checkBody(t *testing.T, body string, want map[string]any) {
	t.Helper()
	if want == nil {
		return
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("body lacks %q: %s", k, body)
			continue
		}
		gb, _ := json.Marshal(g)
		wb, _ := json.Marshal(w)
		if string(gb) != string(wb) {
			t.Errorf("body[%q] = %s, want %s", k, gb, wb)
		}
	}
}

func TestUnsetFieldsAreLeftOut(t *testing.T) {
	srv := newFakeClerk(t)
	c, err := clerk.New(clerk.Config{BaseURL: srv.URL + "/v1", SecretKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.UpdateUser(context.Background(), "user_1", &clerk.UpdateUserParams{FirstName: request.Value("A")}); err != nil {
		t.Fatal(err)
	}
	if got := srv.last(t).Body; got != `{"first_name":"A"}` {
		t.Errorf("body = %s, want only first_name", got)
	}
	if _, err := c.CreateUser(context.Background(), &request.CreateUser{}); err != nil {
		t.Fatal(err)
	}
	if got := srv.last(t).Body; got != `{}` {
		t.Errorf("empty CreateUser body = %s", got)
	}
	if _, err := c.UpdateUserMetadata(context.Background(), "user_1", &clerk.MetadataParams{PublicMetadata: map[string]any{"k": nil}}); err != nil {
		t.Fatal(err)
	}
	if got := srv.last(t).Body; got != `{"public_metadata":{"k":null}}` {
		t.Errorf("metadata body = %s", got)
	}
}

// TestFieldNullRoundTrip: an explicit null survives encoding and decoding,
// distinct from a value and from absence.
func TestFieldNullRoundTrip(t *testing.T) {
	type body struct {
		A request.Field[string] `json:"a,omitzero"`
		B request.Field[string] `json:"b,omitzero"`
		C request.Field[string] `json:"c,omitzero"`
		D request.Field[int]    `json:"d,omitzero"`
	}
	in := body{A: request.Null[string](), B: request.Value("x"), D: request.Value(0)}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != `{"a":null,"b":"x","d":0}` {
		t.Fatalf("encoded %s", b)
	}
	var out body
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !out.A.IsNull() || out.A.IsZero() {
		t.Errorf("a: want explicit null, got %+v", out.A)
	}
	if v, ok := out.B.Get(); !ok || v != "x" || out.B.IsNull() {
		t.Errorf("b: want value x, got %q %v", v, ok)
	}
	if !out.C.IsZero() || out.C.IsNull() {
		t.Errorf("c: want absent")
	}
	if v, ok := out.D.Get(); !ok || v != 0 {
		t.Errorf("d: want value 0 (set, not absent), got %v %v", v, ok)
	}
}

func TestListUsersParamsRefusedBeforeSending(t *testing.T) {
	srv := newFakeClerk(t)
	c, err := clerk.New(clerk.Config{BaseURL: srv.URL + "/v1", SecretKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	many := make([]string, 101)
	for i := range many {
		many[i] = "x"
	}
	calls := map[string]func() error{
		"limit over 500":  func() error { _, err := c.ListUsers(ctx, clerk.ListUsersParams{Limit: 501}); return err },
		"negative offset": func() error { _, err := c.ListUsers(ctx, clerk.ListUsersParams{Offset: -1}); return err },
		"cursor with offset": func() error {
			_, err := c.ListUsers(ctx, clerk.ListUsersParams{Offset: 1, StartingAfter: "u"})
			return err
		},
		"101 filter values":      func() error { _, err := c.ListUsers(ctx, clerk.ListUsersParams{ExternalID: many}); return err },
		"count with limit":       func() error { _, err := c.CountUsers(ctx, clerk.ListUsersParams{Limit: 10}); return err },
		"empty user id":          func() error { _, err := c.GetUser(ctx, ""); return err },
		"empty id on delete":     func() error { return c.DeleteUser(ctx, "") },
		"empty email address id": func() error { return c.DeleteEmailAddress(ctx, "") },
		"empty phone number id":  func() error { return c.DeletePhoneNumber(ctx, "") },
		"email without user": func() error {
			_, err := c.CreateEmailAddress(ctx, clerk.CreateEmailAddressParams{EmailAddress: "a@b.c"})
			return err
		},
		"phone without number": func() error {
			_, err := c.CreatePhoneNumber(ctx, clerk.CreatePhoneNumberParams{UserID: "u"})
			return err
		},
		"metadata not encodable": func() error {
			_, err := c.UpdateUserMetadata(ctx, "u", &clerk.MetadataParams{PublicMetadata: map[string]any{"f": func() {}}})
			return err
		},
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			err := call()
			var re *clerk.RequestError
			if !asRequestError(err, &re) {
				t.Fatalf("want *RequestError, got %T %v", err, err)
			}
			if clerk.Classify(err) != clerk.Permanent || clerk.MaybeApplied(err) {
				t.Errorf("class %v, maybe applied %v", clerk.Classify(err), clerk.MaybeApplied(err))
			}
		})
	}
	if n := len(srv.requests()); n != 0 {
		t.Errorf("%d invalid requests reached the server", n)
	}
}

func asRequestError(err error, re **clerk.RequestError) bool {
	r, ok := err.(*clerk.RequestError)
	*re = r
	return ok
}

func TestNewRejectsBadConfig(t *testing.T) {
	tests := []clerk.Config{
		{BaseURL: "http://127.0.0.1/v1"},
		{BaseURL: "http://127.0.0.1/v1", SecretKey: "sk_test_a b"},
		{BaseURL: "http://127.0.0.1/v1", SecretKey: "sk_test_a\nX-Evil: 1"},
		{BaseURL: "127.0.0.1/v1", SecretKey: testKey},
		{BaseURL: "ftp://127.0.0.1/v1", SecretKey: testKey},
		{BaseURL: "http://127.0.0.1/v1?x=1", SecretKey: testKey},
	}
	for _, cfg := range tests {
		if _, err := clerk.New(cfg); err == nil {
			t.Errorf("New(%v) succeeded", cfg)
		} else if strings.Contains(err.Error(), "sk_test_a") {
			t.Errorf("error shows the key: %v", err)
		}
	}
	c, err := clerk.New(clerk.Config{SecretKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	if c.BaseURL() != clerk.DefaultBaseURL {
		t.Errorf("default base URL = %q", c.BaseURL())
	}
	c, err = clerk.New(clerk.Config{SecretKey: testKey, BaseURL: "http://127.0.0.1:1/v1/"})
	if err != nil || c.BaseURL() != "http://127.0.0.1:1/v1" {
		t.Errorf("trailing slash: %v %v", c, err)
	}
}

func TestConnectionsAreReused(t *testing.T) {
	f := &fakeClerk{}
	var newConns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(f.serve))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	c, err := clerk.New(clerk.Config{BaseURL: srv.URL + "/v1", SecretKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := 0; i < 10; i++ {
		if _, err := c.GetUser(ctx, "user_1"); err != nil {
			t.Fatal(err)
		}
		// An error answer's body must be drained too.
		if _, err := c.GetUser(ctx, "missing"); err == nil {
			t.Fatal("want a 404")
		}
	}
	if n := newConns.Load(); n != 1 {
		t.Errorf("20 sequential calls opened %d connections, want 1", n)
	}
}

// TestListUsersLazyRefusesABrokenPage: a page ListUsersLazy cannot split
// into user objects is a *TransportError, as ListUsers' would be, and an
// empty page is no users.
func TestListUsersLazyRefusesABrokenPage(t *testing.T) {
	for name, tc := range map[string]struct {
		body  string
		users int
	}{
		"empty":            {body: " [ ] ", users: 0},
		"one":              {body: `[{"id":"user_1","updated_at":5,"first_name":"A\"]}"}]`, users: 1},
		"not an array":     {body: `{"id":"user_1"}`, users: -1},
		"unterminated":     {body: `[{"id":"user_1","updated_at":5}`, users: -1},
		"unbalanced":       {body: `[{"id":"user_1","x":[1,2}]`, users: -1},
		"not an object":    {body: `["user_1"]`, users: -1},
		"trailing data":    {body: `[{"id":"user_1"}] x`, users: -1},
		"bad updated_at":   {body: `[{"id":"user_1","updated_at":"soon"}]`, users: -1},
		"missing comma":    {body: `[{"id":"user_1"} {"id":"user_2"}]`, users: -1},
		"unterminated str": {body: `[{"id":"user_1}]`, users: -1},
	} {
		t.Run(name, func(t *testing.T) {
			srv := newFakeClerk(t)
			srv.answer = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, tc.body)
			}
			c, err := clerk.New(clerk.Config{BaseURL: srv.URL + "/v1", SecretKey: testKey})
			if err != nil {
				t.Fatal(err)
			}
			users, err := c.ListUsersLazy(context.Background(), clerk.ListUsersParams{Limit: 10})
			if tc.users < 0 {
				var te *clerk.TransportError
				if !errors.As(err, &te) || !te.Sent {
					t.Fatalf("ListUsersLazy(%s) = %v, %v; want a *TransportError", tc.body, users, err)
				}
				return
			}
			if err != nil || len(users) != tc.users {
				t.Fatalf("ListUsersLazy(%s) = %v, %v; want %d users", tc.body, users, err, tc.users)
			}
			if tc.users == 1 {
				u, err := users[0].User()
				if err != nil || u.ID != "user_1" || u.UpdatedAt != 5 || *u.FirstName != `A"]}` {
					t.Errorf("User() = %+v, %v", u, err)
				}
			}
		})
	}
}
