package spectest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk/spectest"
)

// validUser is a User object with every property the spec requires.
const validUser = `{
  "id": "user_1", "object": "user", "external_id": "legacy-1",
  "primary_email_address_id": null, "primary_phone_number_id": null, "primary_web3_wallet_id": null,
  "username": null, "first_name": "Ada", "last_name": null, "has_image": false,
  "public_metadata": {}, "private_metadata": {}, "unsafe_metadata": {},
  "email_addresses": [], "phone_numbers": [], "web3_wallets": [], "passkeys": [],
  "external_accounts": [], "saml_accounts": [], "enterprise_accounts": [],
  "password_enabled": false, "two_factor_enabled": false, "totp_enabled": false, "backup_code_enabled": false,
  "last_sign_in_at": null, "banned": false, "locked": false,
  "lockout_expires_in_seconds": null, "verification_attempts_remaining": null,
  "created_at": 1700000000000, "updated_at": 1700000000000,
  "delete_self_enabled": true, "create_organization_enabled": true,
  "last_active_at": null, "mfa_enabled_at": null, "mfa_disabled_at": null, "legal_accepted_at": null
}`

func newRequest(t *testing.T, method, target, body string) *http.Request {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target, r)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk_test_x")
	req.Header.Set("Clerk-API-Version", "2026-05-12")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	return req
}

func TestValidateRequest(t *testing.T) {
	v := spectest.Load(t)
	tests := []struct {
		name    string
		method  string
		target  string
		body    string
		noAuth  bool
		wantErr string // "" for valid
	}{
		{name: "valid CreateUser", method: "POST", target: "http://127.0.0.1:1/v1/users",
			body: `{"external_id":"legacy-1","email_address":["a@example.com"],"first_name":null,"password_digest":"$2a$10$x","password_hasher":"bcrypt","public_metadata":{"a":1}}`},
		{name: "valid path-only CreateUser", method: "POST", target: "/v1/users", body: `{}`},
		{name: "valid ListUsers with exploded arrays", method: "GET",
			target: "http://127.0.0.1:1/v1/users?email_address=a%40x.com&email_address=b%40x.com&limit=500&order_by=-created_at"},
		{name: "valid GetUser", method: "GET", target: "http://127.0.0.1:1/v1/users/user_1"},
		{name: "unknown body field", method: "POST", target: "/v1/users",
			body: `{"external_id":"x","nickname":"y"}`, wantErr: "nickname"},
		{name: "wrong type", method: "POST", target: "/v1/users",
			body: `{"email_address":"a@example.com"}`, wantErr: "email_address"},
		{name: "wrong enum", method: "POST", target: "/v1/users",
			body: `{"email_address":["a@example.com"],"email_address_identification_status":["pending"]}`, wantErr: "email_address_identification_status/0"},
		{name: "metadata on UpdateUser (removed in 2026-05-12)", method: "PATCH", target: "/v1/users/user_1",
			body: `{"public_metadata":{"a":1}}`, wantErr: "public_metadata"},
		{name: "limit over maximum", method: "GET", target: "/v1/users?limit=501", wantErr: "limit"},
		{name: "unknown query parameter", method: "GET", target: "/v1/users/count?limit=10", wantErr: "limit"},
		{name: "version as query parameter", method: "GET", target: "/v1/users?__clerk_api_version=2026-05-12", wantErr: "__clerk_api_version"},
		{name: "unknown route", method: "GET", target: "/v1/no_such_thing", wantErr: "no operation"},
		{name: "unknown method", method: "PUT", target: "/v1/users", body: `{}`, wantErr: "no operation"},
		{name: "outside /v1", method: "GET", target: "/users", wantErr: "no operation"},
		{name: "missing bearer", method: "GET", target: "/v1/users/user_1", noAuth: true, wantErr: "Authorization"},
		{name: "body on a route without one", method: "POST", target: "/v1/users/user_1/ban", body: `{"x":1}`, wantErr: "body"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := newRequest(t, tc.method, tc.target, tc.body)
			if tc.noAuth {
				req.Header.Del("Authorization")
			}
			before := v.Count()
			err := v.ValidateRequest(req, []byte(tc.body))
			if got := v.Count() - before; got != 1 {
				t.Errorf("Count advanced by %d, want 1", got)
			}
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("want valid, got %v", err)
			case tc.wantErr != "" && err == nil:
				t.Fatalf("want an error naming %q, got none", tc.wantErr)
			case tc.wantErr != "" && !strings.Contains(err.Error(), tc.wantErr):
				t.Fatalf("want an error naming %q, got %v", tc.wantErr, err)
			}
		})
	}
}

func TestValidateResponse(t *testing.T) {
	v := spectest.Load(t)
	json := http.Header{"Content-Type": {"application/json"}}
	tests := []struct {
		name    string
		method  string
		target  string
		status  int
		header  http.Header
		body    string
		wantErr bool
	}{
		{"valid user", "GET", "/v1/users/user_1", 200, json, validUser, false},
		{"valid list", "GET", "/v1/users", 200, json, "[" + validUser + "]", false},
		{"valid count", "GET", "/v1/users/count", 200, json, `{"object":"total_count","total_count":3}`, false},
		{"valid errors", "GET", "/v1/users/user_x", 404, json,
			`{"errors":[{"code":"resource_not_found","message":"not found","long_message":"User not found"}],"clerk_trace_id":"t1"}`, false},
		{"undocumented status passes", "GET", "/v1/users/user_1", 429, json, `{}`, false},
		{"user missing a required property", "GET", "/v1/users/user_1", 200, json, `{"id":"user_1","object":"user"}`, true},
		{"user with an unknown property", "GET", "/v1/users/user_1", 200, json,
			strings.Replace(validUser, `"id"`, `"nickname":"x","id"`, 1), true},
		{"count as a string", "GET", "/v1/users/count", 200, json, `{"object":"total_count","total_count":"3"}`, true},
		{"error missing long_message", "GET", "/v1/users/user_x", 404, json,
			`{"errors":[{"code":"resource_not_found","message":"not found"}]}`, true},
		{"wrong content type", "GET", "/v1/users/user_1", 200, http.Header{"Content-Type": {"text/html"}}, validUser, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := newRequest(t, tc.method, tc.target, "")
			err := v.ValidateResponse(req, nil, tc.status, tc.header, []byte(tc.body))
			if (err != nil) != tc.wantErr {
				t.Fatalf("wantErr=%v, got %v", tc.wantErr, err)
			}
		})
	}
}

// recordingTB captures Errorf calls instead of failing the test.
type recordingTB struct {
	testing.TB
	mu     sync.Mutex
	errors []string
}

func (r *recordingTB) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recordingTB) Helper() {}

func (r *recordingTB) messages() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.errors...)
}

func TestTransport(t *testing.T) {
	v := spectest.Load(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/v1/users" && r.Method == "POST" && strings.Contains(string(body), "bad-response"):
			io.WriteString(w, `{"id":"user_1"}`)
		case r.URL.Path == "/v1/users" && r.Method == "POST":
			io.WriteString(w, validUser)
		default:
			w.WriteHeader(404)
			io.WriteString(w, `{"errors":[{"code":"resource_not_found","message":"m","long_message":"lm"}]}`)
		}
	}))
	defer srv.Close()

	rec := &recordingTB{TB: t}
	client := &http.Client{Transport: v.Transport(rec, nil)}
	send := func(method, path, body string) string {
		req := newRequest(t, method, srv.URL+path, body)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}

	if got := send("POST", "/v1/users", `{"external_id":"x"}`); got != validUser {
		t.Errorf("the server's body did not reach the caller intact: %q", got)
	}
	if msgs := rec.messages(); len(msgs) != 0 {
		t.Fatalf("valid exchange reported: %v", msgs)
	}

	send("POST", "/v1/users", `{"external_id":"x","nickname":"y"}`)
	assertOneReport(t, rec, "request POST /v1/users", "nickname")

	send("POST", "/v1/users", `{"external_id":"bad-response"}`)
	assertOneReport(t, rec, "response 200 to POST /v1/users", "")

	send("GET", "/v1/users/user_1", "")
	if msgs := rec.messages(); len(msgs) != 0 {
		t.Fatalf("valid 404 reported: %v", msgs)
	}
	if got := v.Count(); got != 4 {
		t.Errorf("Count = %d, want 4", got)
	}
	if got := v.ResponseCount(); got != 4 {
		t.Errorf("ResponseCount = %d, want 4", got)
	}
}

func assertOneReport(t *testing.T, rec *recordingTB, prefix, detail string) {
	t.Helper()
	msgs := rec.messages()
	rec.mu.Lock()
	rec.errors = nil
	rec.mu.Unlock()
	if len(msgs) != 1 {
		t.Fatalf("want one report starting %q, got %d: %v", prefix, len(msgs), msgs)
	}
	if !strings.Contains(msgs[0], prefix) || !strings.Contains(msgs[0], detail) {
		t.Fatalf("report %q does not name %q and %q", msgs[0], prefix, detail)
	}
}

func TestHandler(t *testing.T) {
	v := spectest.Load(t)
	rec := &recordingTB{TB: t}
	// A deliberately sloppy server: it accepts anything on POST /v1/users,
	// refuses /v1/users/user_x, and writes a bad user for user_bad.
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/users":
			io.WriteString(w, validUser)
		case "/v1/users/user_bad":
			io.WriteString(w, `{"id":7}`)
		default:
			w.WriteHeader(422)
			io.WriteString(w, `{"errors":[{"code":"form_param_unknown","message":"m","long_message":"lm","meta":{"param_name":"nickname"}}]}`)
		}
	})
	srv := httptest.NewServer(v.Handler(rec, h))
	defer srv.Close()
	send := func(method, path, body string) {
		req := newRequest(t, method, srv.URL+path, body)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}

	send("POST", "/v1/users", `{"external_id":"x"}`)
	if msgs := rec.messages(); len(msgs) != 0 {
		t.Fatalf("valid exchange reported: %v", msgs)
	}
	// Accepted although invalid: reported.
	send("POST", "/v1/users", `{"external_id":"x","nickname":"y"}`)
	assertOneReport(t, rec, "handler accepted POST /v1/users", "nickname")
	// Refused: the request is not the handler's fault; its answer is valid.
	send("PATCH", "/v1/users/user_x", `{"nickname":"y"}`)
	if msgs := rec.messages(); len(msgs) != 0 {
		t.Fatalf("refused invalid request reported: %v", msgs)
	}
	// Invalid response body.
	send("GET", "/v1/users/user_bad", "")
	assertOneReport(t, rec, "response 200 to GET /v1/users/user_bad", "")
	if got := v.Count(); got != 3 {
		t.Errorf("Count = %d, want 3 (the accepted requests)", got)
	}
}
