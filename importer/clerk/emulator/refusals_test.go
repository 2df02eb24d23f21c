package emulator

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// refusal is one request Clerk refuses and the answer it refuses it with.
type refusal struct {
	name    string
	method  string
	path    string // "{id}" stands for the test user's id
	body    any
	headers map[string]string // added to the bearer key and API version
	status  int
	want    string // code/param of the first error
}

// TestClerkRefusesWhatTheEmulatorAccepted: requests Clerk refuses, each
// with the code Clerk documents, and none of them changes anything.
func TestClerkRefusesWhatTheEmulatorAccepted(t *testing.T) {
	h := newHarness(t, Config{UserUpdatesPerWindow: 1000})
	u := h.create(map[string]any{"external_id": "base", "email_address": []string{"base@example.com"},
		"email_address_identification_status": []string{"verified"},
		"private_metadata":                    map[string]any{"keep": "me"}})
	id := u["id"].(string)
	other := h.create(map[string]any{"external_id": "other", "email_address": []string{"other@example.com"}})
	otherEmail := other["primary_email_address_id"].(string)
	reserved := h.do("POST", "/v1/email_addresses", map[string]any{"user_id": id, "email_address": "res@example.com"}).object(t)["id"].(string)
	email := []string{"new@example.com"}
	big := map[string]any{"blob": strings.Repeat("x", 8186)} // 8197 bytes as JSON
	text := map[string]string{"Content-Type": "text/plain"}
	none := map[string]string{"Content-Type": ""}
	cases := []refusal{
		// Metadata is limited to 8 KB (Clerk's metadata docs).
		{"public metadata over 8 KB", "POST", "/v1/users", map[string]any{"email_address": email, "public_metadata": big}, nil,
			422, "form_param_exceeds_allowed_size/public_metadata"},
		{"unsafe metadata over 8 KB by PUT", "PUT", "/v1/users/{id}/metadata", map[string]any{"unsafe_metadata": big}, nil,
			422, "form_param_exceeds_allowed_size/unsafe_metadata"},
		{"private metadata merged over 8 KB", "PATCH", "/v1/users/{id}/metadata", map[string]any{"private_metadata": big}, nil,
			422, "form_param_exceeds_allowed_size/private_metadata"},
		// "cannot be in any list of hacked passwords" (the spec).
		{"breached password", "POST", "/v1/users", map[string]any{"email_address": email, "password": "password123"}, nil,
			422, "form_password_pwned/password"},
		{"breached password on update", "PATCH", "/v1/users/{id}", map[string]any{"password": "qwertyuiop"}, nil,
			422, "form_password_pwned/password"},
		// bcrypt takes at most 72 bytes; Clerk documents the code.
		{"password of 73 bytes", "POST", "/v1/users", map[string]any{"email_address": email, "password": strings.Repeat("a", 73)}, nil,
			422, "form_password_size_in_bytes_exceeded/password"},
		{"password of 25 characters, 75 bytes, checks skipped", "POST", "/v1/users",
			map[string]any{"email_address": email, "password": strings.Repeat("€", 25), "skip_password_checks": true}, nil,
			422, "form_password_size_in_bytes_exceeded/password"},
		// null for properties the spec does not mark nullable.
		{"null email list", "POST", "/v1/users", map[string]any{"email_address": nil}, nil, 422, "form_param_nil/email_address"},
		{"null metadata on create", "POST", "/v1/users", map[string]any{"email_address": email, "public_metadata": nil}, nil,
			422, "form_param_nil/public_metadata"},
		{"null hasher", "POST", "/v1/users", map[string]any{"email_address": email, "password_hasher": nil}, nil,
			422, "form_param_nil/password_hasher"},
		{"null private metadata merged", "PATCH", "/v1/users/{id}/metadata", map[string]any{"private_metadata": nil}, nil,
			422, "form_param_nil/private_metadata"},
		{"null private metadata replaced", "PUT", "/v1/users/{id}/metadata", map[string]any{"private_metadata": nil}, nil,
			422, "form_param_nil/private_metadata"},
		{"null digest on update", "PATCH", "/v1/users/{id}", map[string]any{"password_digest": nil}, nil, 422, "form_param_nil/password_digest"},
		{"null backup codes on update", "PATCH", "/v1/users/{id}", map[string]any{"backup_codes": nil}, nil, 422, "form_param_nil/backup_codes"},
		{"null user_id", "POST", "/v1/email_addresses", map[string]any{"user_id": nil, "email_address": "n@example.com"}, nil,
			422, "form_param_nil/user_id"},
		// Bodies that are not a JSON object.
		{"text/plain body", "POST", "/v1/users", `{"external_id":"t1"}`, text, 415, "unsupported_content_type/"},
		{"no Content-Type", "POST", "/v1/users", `{"external_id":"t2"}`, none, 415, "unsupported_content_type/"},
		{"empty body", "POST", "/v1/users", "", nil, 400, "request_body_invalid/"},
		{"no body at all", "POST", "/v1/users", nil, none, 400, "request_body_invalid/"},
		{"empty update", "PATCH", "/v1/users/{id}", "", nil, 400, "request_body_invalid/"},
		{"a JSON array", "POST", "/v1/users", `[]`, nil, 400, "request_body_invalid/"},
		{"JSON null", "POST", "/v1/users", `null`, nil, 400, "request_body_invalid/"},
		{"malformed JSON", "POST", "/v1/users", `{"email_address": [`, nil, 400, "malformed_request_parameters/"},
		{"text/plain metadata", "PATCH", "/v1/users/{id}/metadata", `{"public_metadata":{}}`, text, 415, "unsupported_content_type/"},
		// Clerk's documented codes where the status already agreed.
		{"wrong JSON type", "POST", "/v1/users", map[string]any{"email_address": "new@example.com"}, nil,
			422, "form_param_type_invalid/email_address"},
		{"created_at not RFC 3339", "POST", "/v1/users", map[string]any{"email_address": email, "created_at": "2012-10-20 07:15"}, nil,
			422, "form_param_invalid_time/created_at"},
		{"legal_accepted_at not RFC 3339 on update", "PATCH", "/v1/users/{id}", map[string]any{"legal_accepted_at": "yesterday"}, nil,
			422, "form_param_invalid_time/legal_accepted_at"},
		{"password with a digest", "POST", "/v1/users", map[string]any{"email_address": email, "password": "long enough pass",
			"password_digest": "0123456789abcdef0123456789abcdef", "password_hasher": "md5"}, nil,
			422, "form_conditional_param_disallowed/password_digest"},
		{"digest without hasher", "POST", "/v1/users", map[string]any{"email_address": email, "password_digest": "0123456789abcdef0123456789abcdef"}, nil,
			422, "form_conditional_param_missing/password_hasher"},
		{"hasher without digest", "POST", "/v1/users", map[string]any{"email_address": email, "password_hasher": "bcrypt"}, nil,
			422, "form_conditional_param_missing/password_digest"},
		{"skip_password_checks without password", "PATCH", "/v1/users/{id}", map[string]any{"skip_password_checks": true}, nil,
			422, "form_conditional_param_missing/password"},
		{"statuses not one per address", "POST", "/v1/users", map[string]any{"email_address": email,
			"email_address_identification_status": []string{"verified", "verified"}}, nil,
			422, "form_param_array_length_mismatch/email_address_identification_status"},
		{"primary naming an unverified address", "PATCH", "/v1/users/{id}", map[string]any{"primary_email_address_id": reserved}, nil,
			422, "form_verification_needed/primary_email_address_id"},
		{"primary naming another user's address", "PATCH", "/v1/users/{id}", map[string]any{"primary_email_address_id": otherEmail}, nil,
			422, "form_resource_not_found/primary_email_address_id"},
		{"unverified address made primary", "POST", "/v1/email_addresses", map[string]any{"user_id": id,
			"email_address": "p@example.com", "primary": true}, nil, 422, "form_verification_needed/primary"},
		{"unverified phone reserved for second factor", "POST", "/v1/phone_numbers", map[string]any{"user_id": id,
			"phone_number": "+14155550177", "reserved_for_second_factor": true}, nil, 400, "identification_create_second_factor_unverified/"},
		{"101 email filters", "GET", "/v1/users?" + strings.Repeat("email_address=a%40b.co&", 101), nil, nil,
			422, "form_param_array_size_exceeded/email_address"},
		{"created_at_after not a timestamp", "GET", "/v1/users/count?created_at_after=yesterday", nil, nil,
			422, "form_param_invalid_date/created_at_after"},
	}
	before := h.emu.Snapshot()
	responses := h.v.ResponseCount()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			hdr := map[string]string{"Authorization": "Bearer " + testKey, "Clerk-API-Version": "2026-05-12"}
			for k, v := range tc.headers {
				hdr[k] = v
			}
			r, err := h.send(tc.method, strings.ReplaceAll(tc.path, "{id}", id), tc.body, hdr)
			if err != nil {
				t.Fatal(err)
			}
			r.expectError(t, tc.status, tc.want)
		})
	}
	h.t = t
	if n := h.v.ResponseCount() - responses; n != int64(len(cases)) {
		t.Errorf("spectest validated %d answers, want the %d refusals", n, len(cases))
	}
	if after := h.emu.Snapshot(); jsonOf(t, after) != jsonOf(t, before) {
		t.Errorf("a refused request changed the state:\nbefore %s\nafter  %s", jsonOf(t, before), jsonOf(t, after))
	}
}

// TestClerkAcceptsTheEdges: what lies just inside Clerk's limits passes.
func TestClerkAcceptsTheEdges(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.create(map[string]any{"external_id": "edge"})["id"].(string)
	for _, tc := range []struct {
		name, method, path string
		body               any
		headers            map[string]string
	}{
		{"metadata of exactly 8192 bytes", "POST", "/v1/users", map[string]any{"external_id": "m",
			"public_metadata": map[string]any{"blob": strings.Repeat("x", 8181)}}, nil},
		{"a breached password with checks skipped", "POST", "/v1/users", map[string]any{"external_id": "p",
			"password": "password123", "skip_password_checks": true}, nil},
		{"a password of 72 bytes", "POST", "/v1/users", map[string]any{"external_id": "l", "password": strings.Repeat("€", 24)}, nil},
		{"null for nullable properties", "POST", "/v1/users", map[string]any{"external_id": "n", "first_name": nil,
			"username": nil, "created_at": nil, "skip_password_checks": nil}, nil},
		{"JSON with a charset", "POST", "/v1/users", `{"external_id":"c"}`, map[string]string{"Content-Type": "application/json; charset=utf-8"}},
		{"a null key inside merged metadata", "PATCH", "/v1/users/" + id + "/metadata", map[string]any{"public_metadata": map[string]any{"gone": nil}}, nil},
		{"a ban without a body", "POST", "/v1/users/" + id + "/ban", nil, map[string]string{"Content-Type": ""}},
		{"null first name clears it", "PATCH", "/v1/users/" + id, map[string]any{"first_name": nil}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			hdr := map[string]string{"Authorization": "Bearer " + testKey, "Clerk-API-Version": "2026-05-12"}
			for k, v := range tc.headers {
				hdr[k] = v
			}
			r, err := h.send(tc.method, tc.path, tc.body, hdr)
			if err != nil {
				t.Fatal(err)
			}
			if r.status != http.StatusOK {
				t.Fatalf("%d %s", r.status, r.body)
			}
		})
	}
}

// TestAuthenticationCodes: Clerk answers a missing or malformed
// Authorization header and a wrong secret key with the codes it documents.
func TestAuthenticationCodes(t *testing.T) {
	h := newHarness(t, Config{SecretKey: "sk_live_right"})
	for _, tc := range []struct {
		name, header, want string
	}{
		{"no header", "", "authorization_header_format_invalid/"},
		{"not a bearer", "Basic sk_live_right", "authorization_header_format_invalid/"},
		{"bearer without a key", "Bearer ", "authorization_header_format_invalid/"},
		{"wrong key", "Bearer sk_live_wrong", "clerk_key_invalid/"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			r, err := h.send("GET", "/v1/users", nil, map[string]string{"Authorization": tc.header})
			if err != nil {
				t.Fatal(err)
			}
			r.expectError(t, 401, tc.want)
		})
	}
}

// TestUsernamesAsClerkDocumentsThem: Clerk's docs refuse ^$!.`#+~ by
// default ("but this can be customized") and support Latin-based
// characters only; an instance set to allow dots takes john.doe.
func TestUsernamesAsClerkDocumentsThem(t *testing.T) {
	plain := newHarness(t, Config{})
	dots := newHarness(t, Config{UsernameAllows: "."})
	for i, tc := range []struct {
		user       string
		want, dots string // code/param, or "" for accepted
	}{
		{"john_doe-1", "", ""},
		{"José_Müller", "", ""},
		{"mail@home", "", ""},
		{"john.doe", "form_username_invalid_character/username", ""},
		{"tilde~one", "form_username_invalid_character/username", "form_username_invalid_character/username"},
		{"a b c d", "form_username_invalid_character/username", "form_username_invalid_character/username"},
		{"иван_петров", "form_username_invalid_character/username", "form_username_invalid_character/username"},
		{"123456", "form_username_needs_non_number_char/username", "form_username_needs_non_number_char/username"},
		{"a.b", "form_username_invalid_length/username", "form_username_invalid_length/username"},
	} {
		for _, h := range []struct {
			h    *harness
			want string
		}{{plain, tc.want}, {dots, tc.dots}} {
			h.h.t = t
			r := h.h.do("POST", "/v1/users", map[string]any{"external_id": fmt.Sprint("u", i), "username": tc.user})
			if h.want == "" {
				if r.status != 200 || r.object(t)["username"] != tc.user {
					t.Errorf("%q (allows %q): %d %s, want it created as given", tc.user, h.h.emu.cfg.UsernameAllows, r.status, r.body)
				}
				continue
			}
			if r.status != 422 || r.apiErr(t) != h.want {
				t.Errorf("%q (allows %q): %d %s, want 422 %s", tc.user, h.h.emu.cfg.UsernameAllows, r.status, r.body, h.want)
			}
		}
	}
}
