package clerk_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/spectest"
)

const testKey = "sk_test_Zm9vYmFyU0VDUkVUa2V5MTIz"

// userJSON is a spec-valid User object.
func userJSON(id string) string {
	return fmt.Sprintf(`{
  "id": %q, "object": "user", "external_id": "legacy-1",
  "primary_email_address_id": "idn_1", "primary_phone_number_id": null, "primary_web3_wallet_id": null,
  "username": null, "first_name": "Ada", "last_name": "Lovelace", "has_image": false,
  "public_metadata": {"plan": "pro"}, "private_metadata": {}, "unsafe_metadata": {},
  "email_addresses": [%s], "phone_numbers": [], "web3_wallets": [], "passkeys": [],
  "external_accounts": [], "saml_accounts": [], "enterprise_accounts": [],
  "password_enabled": true, "two_factor_enabled": false, "totp_enabled": false, "backup_code_enabled": false,
  "last_sign_in_at": null, "banned": false, "locked": false,
  "lockout_expires_in_seconds": null, "verification_attempts_remaining": null,
  "created_at": 1700000000000, "updated_at": 1700000000001,
  "delete_self_enabled": true, "create_organization_enabled": true,
  "last_active_at": null, "mfa_enabled_at": null, "mfa_disabled_at": null, "legal_accepted_at": null
}`, id, emailJSON("idn_1", "ada@example.com"))
}

func emailJSON(id, addr string) string {
	return fmt.Sprintf(`{"id": %q, "object": "email_address", "email_address": %q, "reserved": false,
  "verification": {"object": "verification_admin", "status": "verified", "strategy": "admin", "attempts": null, "expire_at": null},
  "linked_to": [], "created_at": 1700000000000, "updated_at": 1700000000000}`, id, addr)
}

func phoneJSON(id, number string) string {
	return fmt.Sprintf(`{"id": %q, "object": "phone_number", "phone_number": %q, "reserved": false,
  "reserved_for_second_factor": false, "default_second_factor": false,
  "verification": {"object": "verification_admin", "status": "verified", "strategy": "admin", "attempts": null, "expire_at": null},
  "linked_to": [], "created_at": 1700000000000, "updated_at": 1700000000000}`, id, number)
}

// seen is one request as the fake server received it.
type seen struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     string
}

// fakeClerk is a loopback server that records requests and answers with
// canned, spec-valid bodies (or with answer, when set).
type fakeClerk struct {
	*httptest.Server
	mu     sync.Mutex
	seen   []seen
	answer func(w http.ResponseWriter, r *http.Request) // nil: canned
}

func newFakeClerk(t testing.TB) *fakeClerk {
	f := &fakeClerk{}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeClerk) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	f.seen = append(f.seen, seen{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone(), string(body)})
	answer := f.answer
	f.mu.Unlock()
	if answer != nil {
		answer(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case strings.HasPrefix(r.URL.Path, "/v1/users/missing"):
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"errors":[{"code":"resource_not_found","message":"not found","long_message":"User not found"}],"clerk_trace_id":"trace-404"}`)
	case r.URL.Path == "/v1/users" && r.Method == http.MethodGet:
		io.WriteString(w, "["+userJSON("user_1")+","+userJSON("user_2")+"]")
	case r.URL.Path == "/v1/instance":
		io.WriteString(w, `{"object":"instance","id":"ins_1","environment_type":"production","allowed_origins":null,"workspace_id":null}`)
	case r.URL.Path == "/v1/users/count":
		io.WriteString(w, `{"object":"total_count","total_count":42}`)
	case r.URL.Path == "/v1/email_addresses":
		io.WriteString(w, emailJSON("idn_2", "second@example.com"))
	case r.URL.Path == "/v1/phone_numbers":
		io.WriteString(w, phoneJSON("idn_3", "+15555550100"))
	case r.Method == http.MethodDelete:
		io.WriteString(w, `{"object":"user","id":"user_1","deleted":true}`)
	case strings.HasPrefix(r.URL.Path, "/v1/users"):
		io.WriteString(w, userJSON("user_1"))
	default:
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"errors":[{"code":"resource_not_found","message":"not found","long_message":"not found"}]}`)
	}
}

func (f *fakeClerk) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.seen...)
}

func (f *fakeClerk) last(t testing.TB) seen {
	t.Helper()
	rs := f.requests()
	if len(rs) == 0 {
		t.Fatal("the server received no request")
	}
	return rs[len(rs)-1]
}

// newValidatedClient returns a client for baseURL whose every request and
// response is checked against the spec by v.
func newValidatedClient(t testing.TB, v *spectest.Validator, baseURL string) *clerk.Client {
	t.Helper()
	c, err := clerk.New(clerk.Config{
		BaseURL:    baseURL,
		SecretKey:  testKey,
		HTTPClient: &http.Client{Transport: v.Transport(t, clerk.NewTransport())},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// jsonEqual compares two values by their JSON encoding (maps sort keys).
func jsonEqual(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && string(ja) == string(jb)
}
