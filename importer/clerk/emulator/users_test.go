package emulator

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
)

var idShape = regexp.MustCompile(`^(user|idn)_[0-9A-Za-z]{27}$`)

func TestCreateUserAnswersTheSpecUser(t *testing.T) {
	h := newHarness(t, Config{})
	u := h.create(map[string]any{
		"external_id":                         "legacy-1",
		"first_name":                          "Ada",
		"email_address":                       []string{"Ada@Example.com", "ada2@example.com"},
		"email_address_identification_status": []string{"verified", "reserved"},
		"phone_number":                        []string{"+14155550100"},
		"web3_wallet":                         []string{"0x52908400098527886E0F7030069857D2E4169EE7"},
		"username":                            "ada_l",
		"password_digest":                     "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"password_hasher":                     "bcrypt",
		"totp_secret":                         "JBSWY3DPEHPK3PXP",
		"backup_codes":                        []string{"one", "two"},
		"public_metadata":                     map[string]any{"plan": "pro"},
		"created_at":                          "2012-10-20T07:15:20.902Z",
		"skip_legal_checks":                   true,
	})
	if id, _ := u["id"].(string); !idShape.MatchString(id) || !strings.HasPrefix(id, "user_") {
		t.Errorf("id %q is not a Clerk user id", id)
	}
	if u["created_at"] != float64(1350717320902) {
		t.Errorf("created_at %v, want the given time in ms", u["created_at"])
	}
	for _, k := range []string{"password_enabled", "totp_enabled", "backup_code_enabled", "two_factor_enabled"} {
		if u[k] != true {
			t.Errorf("%s = %v, want true", k, u[k])
		}
	}
	emails := u["email_addresses"].([]any)
	first, second := emails[0].(map[string]any), emails[1].(map[string]any)
	if first["email_address"] != "ada@example.com" || u["primary_email_address_id"] != first["id"] {
		t.Errorf("primary email %v (%v), want the first, lower-cased", first["email_address"], u["primary_email_address_id"])
	}
	if second["reserved"] != true || second["verification"] != nil {
		t.Errorf("reserved email rendered %v", second)
	}
	if !idShape.MatchString(first["id"].(string)) {
		t.Errorf("email id %v", first["id"])
	}
	got := h.do("GET", "/v1/users/"+u["id"].(string), nil)
	if got.status != 200 || got.object(t)["external_id"] != "legacy-1" {
		t.Fatalf("GetUser: %d %s", got.status, got.body)
	}
	for _, secret := range []string{"N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "JBSWY3DPEHPK3PXP", `"one"`} {
		if strings.Contains(string(got.body), secret) {
			t.Errorf("GetUser leaks a secret %q", secret)
		}
	}
	if h.v.ResponseCount() < 2 {
		t.Errorf("spectest validated %d responses", h.v.ResponseCount())
	}
	h.do("GET", "/v1/users/user_missing", nil).expectError(t, 404, "resource_not_found/")
}

func TestUniqueIdentifiers(t *testing.T) {
	h := newHarness(t, Config{})
	h.create(map[string]any{
		"external_id": "ext-1", "email_address": []string{"taken@example.com"}, "phone_number": []string{"+14155550100"},
		"username": "Taken_Name", "web3_wallet": []string{"0x52908400098527886E0F7030069857D2E4169EE7"},
	})
	tests := []struct {
		name string
		body map[string]any
		want string
	}{
		{"email", map[string]any{"email_address": []string{"taken@example.com"}}, "form_identifier_exists/email_address"},
		{"email case-insensitive", map[string]any{"email_address": []string{"TAKEN@Example.COM"}}, "form_identifier_exists/email_address"},
		{"phone", map[string]any{"phone_number": []string{"+14155550100"}}, "form_identifier_exists/phone_number"},
		{"username case-insensitive", map[string]any{"username": "taken_name"}, "form_identifier_exists/username"},
		{"external_id", map[string]any{"external_id": "ext-1"}, "form_identifier_exists/external_id"},
		{"web3 wallet", map[string]any{"web3_wallet": []string{"0x52908400098527886e0f7030069857d2e4169ee7"}}, "form_identifier_exists/web3_wallet"},
		{"email twice in one request", map[string]any{"email_address": []string{"new@example.com", "NEW@example.com"}}, "form_identifier_exists/email_address"},
		{"phone twice in one request", map[string]any{"phone_number": []string{"+14155550111", "+14155550111"}}, "form_identifier_exists/phone_number"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			h.do("POST", "/v1/users", tc.body).expectError(t, 422, tc.want)
		})
	}
	if n := len(h.emu.Snapshot().Users); n != 1 {
		t.Errorf("%d users after refused creates, want 1", n)
	}
}

func TestFormatAndBodyRules(t *testing.T) {
	h := newHarness(t, Config{RequiredIdentifiers: []string{"email_address"}})
	email := []string{"ok@example.com"}
	tests := []struct {
		name   string
		method string
		body   any
		status int
		want   string
	}{
		{"bad email", "POST", map[string]any{"email_address": []string{"not-an-email"}}, 422, "form_param_format_invalid/email_address"},
		{"phone without plus", "POST", map[string]any{"email_address": email, "phone_number": []string{"14155550100"}}, 422, "form_param_format_invalid/phone_number"},
		{"phone too short", "POST", map[string]any{"email_address": email, "phone_number": []string{"+123456"}}, 422, "form_param_format_invalid/phone_number"},
		{"bad wallet", "POST", map[string]any{"email_address": email, "web3_wallet": []string{"0x12"}}, 422, "form_param_format_invalid/web3_wallet"},
		{"username too short", "POST", map[string]any{"email_address": email, "username": "abc"}, 422, "form_username_invalid_length/username"},
		{"username too long", "POST", map[string]any{"email_address": email, "username": strings.Repeat("a", 65)}, 422, "form_username_invalid_length/username"},
		{"username bad character", "POST", map[string]any{"email_address": email, "username": "ada.l"}, 422, "form_username_invalid_character/username"},
		{"created_at not RFC 3339", "POST", map[string]any{"email_address": email, "created_at": "2012-10-20 07:15"}, 422, "form_param_invalid_time/created_at"},
		{"legal_accepted_at not RFC 3339", "POST", map[string]any{"email_address": email, "legal_accepted_at": "yesterday"}, 422, "form_param_invalid_time/legal_accepted_at"},
		{"status array length", "POST", map[string]any{"email_address": email, "email_address_identification_status": []string{"verified", "verified"}}, 422, "form_param_array_length_mismatch/email_address_identification_status"},
		{"status value", "POST", map[string]any{"email_address": email, "phone_number": []string{"+14155550100"}, "phone_number_identification_status": []string{"pending"}}, 422, "form_param_value_invalid/phone_number_identification_status"},
		{"totp not base32", "POST", map[string]any{"email_address": email, "totp_secret": "not base32!"}, 422, "invalid_totp_secret_code/totp_secret"},
		{"empty backup code", "POST", map[string]any{"email_address": email, "backup_codes": []string{"a", ""}}, 422, "form_param_value_invalid/backup_codes"},
		{"short password", "POST", map[string]any{"email_address": email, "password": "short"}, 422, "form_password_length_too_short/password"},
		{"password and digest", "POST", map[string]any{"email_address": email, "password": "long enough", "password_digest": "0123456789abcdef0123456789abcdef", "password_hasher": "md5"}, 422, "form_conditional_param_disallowed/password_digest"},
		{"hasher without digest", "POST", map[string]any{"email_address": email, "password_hasher": "bcrypt"}, 422, "form_conditional_param_missing/password_digest"},
		{"digest without hasher", "POST", map[string]any{"email_address": email, "password_digest": "0123456789abcdef0123456789abcdef"}, 422, "form_conditional_param_missing/password_hasher"},
		{"unknown hasher", "POST", map[string]any{"email_address": email, "password_digest": "x", "password_hasher": "rot13"}, 422, "form_param_value_invalid/password_hasher"},
		{"unknown field", "POST", map[string]any{"email_address": email, "nickname": "x"}, 422, "form_param_unknown/nickname"},
		{"wrong type", "POST", map[string]any{"email_address": "ok@example.com"}, 422, "form_param_type_invalid/email_address"},
		{"malformed JSON", "POST", `{"email_address": [`, 400, "malformed_request_parameters/"},
		{"required identifier missing", "POST", map[string]any{"username": "ada_l"}, 422, "form_data_missing/email_address"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			h.do(tc.method, "/v1/users", tc.body).expectError(t, tc.status, tc.want)
		})
	}
	t.Run("skip_user_requirement", func(t *testing.T) {
		h.t = t
		h.create(map[string]any{"username": "ada_l", "skip_user_requirement": true, "password": "short", "skip_password_checks": true})
	})
	t.Run("UpdateUser rules", func(t *testing.T) {
		h.t = t
		u := h.create(map[string]any{"email_address": []string{"upd@example.com"}})
		path := "/v1/users/" + u["id"].(string)
		h.do("PATCH", path, map[string]any{"public_metadata": map[string]any{"a": 1}}).expectError(t, 422, "form_param_unknown/public_metadata")
		h.do("PATCH", path, map[string]any{"skip_password_checks": true}).expectError(t, 422, "form_conditional_param_missing/password")
		h.do("PATCH", path, map[string]any{"sign_out_of_other_sessions": true}).expectError(t, 422, "form_conditional_param_missing/password")
		h.do("PATCH", path, map[string]any{"username": "ada_l"}).expectError(t, 422, "form_identifier_exists/username")
		r := h.do("PATCH", path, map[string]any{"password": "short", "skip_password_checks": true, "first_name": "Up", "external_id": "e-9"})
		if r.status != 200 || r.object(t)["password_enabled"] != true || r.object(t)["external_id"] != "e-9" {
			t.Fatalf("UpdateUser: %d %s", r.status, r.body)
		}
		h.do("PATCH", "/v1/users/user_nobody", map[string]any{"first_name": "x"}).expectError(t, 404, "resource_not_found/")
	})
}

func TestAuthentication(t *testing.T) {
	h := newHarness(t, Config{SecretKey: "sk_live_right"})
	for hdr, want := range map[string]string{
		"":                     "authorization_header_format_invalid/",
		"Bearer sk_live_wrong": "clerk_key_invalid/",
		"Basic sk_live_right":  "authorization_header_format_invalid/",
	} {
		r, err := h.send("GET", "/v1/users", nil, map[string]string{"Authorization": hdr})
		if err != nil {
			t.Fatal(err)
		}
		r.expectError(t, 401, want)
	}
	r, _ := h.send("GET", "/v1/users", nil, map[string]string{"Authorization": "Bearer sk_live_right"})
	if r.status != 200 {
		t.Fatalf("right key: %d", r.status)
	}
	r, _ = h.send("GET", "/__emulator/state", nil, nil)
	if r.status != 401 {
		t.Fatalf("control route without key: %d", r.status)
	}

	open := newHarness(t, Config{})
	for key, want := range map[string]int{"sk_test_abc": 200, "sk_live_abc": 200, "pk_test_abc": 401, "sk_test_": 401} {
		r, _ := open.send("GET", "/v1/users/count", nil, map[string]string{"Authorization": "Bearer " + key})
		if r.status != want {
			t.Errorf("key %q: %d, want %d", key, r.status, want)
		}
	}
	if s := open.emu.Stats(); s.MissingAPIVersion != 2 || s.Status[401] != 2 {
		t.Errorf("stats %+v: want the 2 accepted requests without Clerk-API-Version counted", s)
	}
}

func TestBanLockDeleteAndIdentifiers(t *testing.T) {
	h := newHarness(t, Config{})
	u := h.create(map[string]any{"email_address": []string{"a@example.com"}, "external_id": "x1"})
	id := u["id"].(string)
	for action, check := range map[string][2]any{"ban": {"banned", true}, "unban": {"banned", false}, "lock": {"locked", true}, "unlock": {"locked", false}} {
		r := h.do("POST", "/v1/users/"+id+"/"+action, nil)
		if r.status != 200 || r.object(t)[check[0].(string)] != check[1] {
			t.Errorf("%s: %d %s", action, r.status, r.body)
		}
	}
	r := h.do("POST", "/v1/email_addresses", map[string]any{"user_id": id, "email_address": "B@example.com", "verified": true, "primary": true})
	if r.status != 200 || r.object(t)["email_address"] != "b@example.com" {
		t.Fatalf("CreateEmailAddress: %d %s", r.status, r.body)
	}
	h.do("POST", "/v1/email_addresses", map[string]any{"user_id": id, "email_address": "a@EXAMPLE.com"}).expectError(t, 422, "form_identifier_exists/email_address")
	h.do("POST", "/v1/email_addresses", map[string]any{"user_id": "user_nobody", "email_address": "c@example.com"}).expectError(t, 404, "resource_not_found/")
	h.do("POST", "/v1/email_addresses", map[string]any{"user_id": id}).expectError(t, 422, "form_param_missing/email_address")
	r = h.do("POST", "/v1/phone_numbers", map[string]any{"user_id": id, "phone_number": "+14155550199", "verified": true, "reserved_for_second_factor": true})
	if r.status != 200 || r.object(t)["default_second_factor"] != true {
		t.Fatalf("CreatePhoneNumber: %d %s", r.status, r.body)
	}
	h.do("POST", "/v1/phone_numbers", map[string]any{"user_id": id, "phone_number": "555"}).expectError(t, 422, "form_param_format_invalid/phone_number")
	got := h.do("GET", "/v1/users/"+id, nil).object(t)
	if got["two_factor_enabled"] != true || len(got["email_addresses"].([]any)) != 2 || got["primary_phone_number_id"] == nil {
		t.Errorf("user after adding identifiers: %v", got)
	}
	del := h.do("DELETE", "/v1/users/"+id, nil)
	if del.status != 200 || del.object(t)["deleted"] != true {
		t.Fatalf("DeleteUser: %d %s", del.status, del.body)
	}
	h.do("DELETE", "/v1/users/"+id, nil).expectError(t, 404, "resource_not_found/")
	// The identifiers are free again.
	h.create(map[string]any{"email_address": []string{"b@example.com"}, "external_id": "x1", "phone_number": []string{"+14155550199"}})
	h.do("GET", "/v1/nothing_here", nil).expectError(t, 404, "resource_not_found/")
}

// TestBulkBan: POST /v1/users/ban and /unban (UsersBan, UsersUnban) set the
// flag of every user named and answer those users, a bare list in the
// order asked; an id with no user is left out. A bad request is refused
// whole with 400, the only error the spec gives these routes.
func TestBulkBan(t *testing.T) {
	h := newHarness(t, Config{})
	var ids []string
	for i := range 3 {
		u := h.create(map[string]any{"email_address": []string{fmt.Sprintf("bulk%d@example.com", i)}})
		ids = append(ids, u["id"].(string))
	}
	for _, c := range []struct {
		path string
		ban  bool
	}{{"/v1/users/ban", true}, {"/v1/users/unban", false}} {
		r := h.do("POST", c.path, map[string]any{"user_ids": []string{ids[2], "user_nobody", ids[0]}})
		var got []map[string]any
		if err := json.Unmarshal(r.body, &got); r.status != 200 || err != nil || len(got) != 2 ||
			got[0]["id"] != ids[2] || got[1]["id"] != ids[0] || got[0]["banned"] != c.ban || got[1]["banned"] != c.ban {
			t.Fatalf("%s: %d %s", c.path, r.status, r.body)
		}
		if u := h.do("GET", "/v1/users/"+ids[1], nil).object(t); u["banned"] != false {
			t.Errorf("%s banned a user it was not given: %v", c.path, u["banned"])
		}
	}
	many := make([]string, 51)
	for i := range many {
		many[i] = ids[0]
	}
	h.do("POST", "/v1/users/ban", map[string]any{"user_ids": many}).expectError(t, 400, "bulk_size_exceeded/user_ids")
	for _, body := range []map[string]any{{"user_ids": []string{}}, {"user_ids": "x"}, {"user_ids": nil}, {"ids": []string{ids[0]}}, {}} {
		h.do("POST", "/v1/users/ban", body).expectError(t, 400, "request_body_invalid/user_ids")
	}
	if u := h.do("GET", "/v1/users/"+ids[0], nil).object(t); u["banned"] != false {
		t.Error("a refused bulk ban banned a user")
	}
}
