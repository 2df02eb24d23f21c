package emulator

import (
	"net/http"
	"testing"
)

// counted wraps a harness so that a test can require that spectest
// validated every request answered 2xx and every answer.
type counted struct {
	*harness
	reqs, resps    int64
	ok2xx, answers int
}

func countFrom(h *harness) *counted {
	return &counted{harness: h, reqs: h.v.Count(), resps: h.v.ResponseCount()}
}

func (c *counted) do(method, path string, body any) response {
	c.t.Helper()
	r := c.harness.do(method, path, body)
	c.answers++
	if r.status/100 == 2 {
		c.ok2xx++
	}
	return r
}

// check requires spectest's counters to match what was sent.
func (c *counted) check(t *testing.T) {
	t.Helper()
	if n := c.v.Count() - c.reqs; n != int64(c.ok2xx) {
		t.Errorf("spectest validated %d requests, want the %d answered 2xx", n, c.ok2xx)
	}
	if n := c.v.ResponseCount() - c.resps; n != int64(c.answers) {
		t.Errorf("spectest validated %d responses, want %d", n, c.answers)
	}
}

// TestDeleteIdentifiers drives DELETE /v1/email_addresses/{id} and
// /v1/phone_numbers/{id} as Clerk behaves: 404 for an unknown id; the
// primary one goes and another verified one of its kind becomes primary
// (none when none is verified); a user's last identification stays (400
// identification_deletion_failed); the value is free afterwards.
func TestDeleteIdentifiers(t *testing.T) {
	c := countFrom(newHarness(t, Config{}))
	u := c.do("POST", "/v1/users", map[string]any{"email_address": []string{"old@example.com", "two@example.com", "res@example.com"},
		"email_address_identification_status": []string{"verified", "verified", "reserved"},
		"phone_number":                        []string{"+14155550100"}, "external_id": "x1"}).object(t)
	id := u["id"].(string)
	emails := u["email_addresses"].([]any)
	old, two, res := emails[0].(map[string]any)["id"].(string), emails[1].(map[string]any)["id"].(string), emails[2].(map[string]any)["id"].(string)
	phone := u["primary_phone_number_id"].(string)

	c.do("DELETE", "/v1/email_addresses/idn_nobody", nil).expectError(t, http.StatusNotFound, "resource_not_found/")
	c.do("DELETE", "/v1/phone_numbers/"+old, nil).expectError(t, http.StatusNotFound, "resource_not_found/")

	// The primary email goes; the other verified one takes its place.
	r := c.do("DELETE", "/v1/email_addresses/"+old, nil)
	if got := r.object(t); r.status != http.StatusOK || got["deleted"] != true || got["id"] != old || got["object"] != "email_address" {
		t.Fatalf("delete the primary email: %d %s", r.status, r.body)
	}
	if got := c.do("GET", "/v1/users/"+id, nil).object(t); got["primary_email_address_id"] != two {
		t.Errorf("primary after deleting it: %v, want the other verified address %s", got["primary_email_address_id"], two)
	}
	// Only a reserved (unverified) one is left after this: no primary email.
	c.do("DELETE", "/v1/email_addresses/"+two, nil)
	if got := c.do("GET", "/v1/users/"+id, nil).object(t); got["primary_email_address_id"] != nil {
		t.Errorf("primary with only an unverified address left: %v, want none", got["primary_email_address_id"])
	}
	c.do("DELETE", "/v1/email_addresses/"+res, nil)
	// The phone is the user's last identification now.
	c.do("DELETE", "/v1/phone_numbers/"+phone, nil).expectError(t, http.StatusBadRequest, "identification_deletion_failed/")
	if got := c.do("GET", "/v1/users/"+id, nil).object(t); got["primary_phone_number_id"] != phone {
		t.Errorf("the refused delete changed the user: %v", got)
	}
	// With a username, the phone is no longer the last identification.
	c.do("PATCH", "/v1/users/"+id, map[string]any{"username": "still_here"})
	if r := c.do("DELETE", "/v1/phone_numbers/"+phone, nil); r.status != http.StatusOK {
		t.Errorf("delete a phone beside a username: %d %s", r.status, r.body)
	}
	// The deleted values are free for another user.
	c.do("POST", "/v1/users", map[string]any{"email_address": []string{"OLD@example.com", "two@example.com"},
		"phone_number": []string{"+14155550100"}, "external_id": "x2"}).object(t)
	c.check(t)
}

// TestDeleteTheLastRequiredIdentifier: an instance that requires email
// addresses keeps a user's last one (400
// last_required_identification_deletion_failed), even beside a phone.
func TestDeleteTheLastRequiredIdentifier(t *testing.T) {
	c := countFrom(newHarness(t, Config{RequiredIdentifiers: []string{"email_address"}}))
	u := c.do("POST", "/v1/users", map[string]any{"email_address": []string{"only@example.com"}, "phone_number": []string{"+14155550100"}}).object(t)
	c.do("DELETE", "/v1/email_addresses/"+u["primary_email_address_id"].(string), nil).
		expectError(t, http.StatusBadRequest, "last_required_identification_deletion_failed/")
	if r := c.do("DELETE", "/v1/phone_numbers/"+u["primary_phone_number_id"].(string), nil); r.status != http.StatusOK {
		t.Errorf("delete a phone the instance does not require: %d %s", r.status, r.body)
	}
	c.check(t)
}

// TestGetAndUpdateIdentifiers: GET and PATCH on /v1/email_addresses/{id}
// and /v1/phone_numbers/{id} exist (they answered 404 as if the address
// did not), with the spec's shapes and Clerk's refusals.
func TestGetAndUpdateIdentifiers(t *testing.T) {
	c := countFrom(newHarness(t, Config{}))
	u := c.do("POST", "/v1/users", map[string]any{"email_address": []string{"a@example.com", "b@example.com"},
		"email_address_identification_status": []string{"verified", "reserved"},
		"phone_number":                        []string{"+14155550100"}, "external_id": "g1"}).object(t)
	id := u["id"].(string)
	emails := u["email_addresses"].([]any)
	a, b := emails[0].(map[string]any)["id"].(string), emails[1].(map[string]any)["id"].(string)
	phone := u["primary_phone_number_id"].(string)

	if got := c.do("GET", "/v1/email_addresses/"+b, nil).object(t); got["email_address"] != "b@example.com" || got["reserved"] != true {
		t.Errorf("GET email: %v", got)
	}
	if got := c.do("GET", "/v1/phone_numbers/"+phone, nil).object(t); got["phone_number"] != "+14155550100" {
		t.Errorf("GET phone: %v", got)
	}
	c.do("GET", "/v1/email_addresses/"+phone, nil).expectError(t, http.StatusNotFound, "resource_not_found/")
	c.do("PATCH", "/v1/phone_numbers/idn_nobody", map[string]any{"verified": true}).expectError(t, http.StatusNotFound, "resource_not_found/")

	// An unverified address cannot become primary; verified, it can.
	c.do("PATCH", "/v1/email_addresses/"+b, map[string]any{"primary": true}).expectError(t, 422, "form_verification_needed/primary")
	r := c.do("PATCH", "/v1/email_addresses/"+b, map[string]any{"verified": true, "primary": true})
	if got := r.object(t); r.status != 200 || got["reserved"] != false || got["verification"] == nil {
		t.Fatalf("PATCH email verified+primary: %d %s", r.status, r.body)
	}
	if got := c.do("GET", "/v1/users/"+id, nil).object(t); got["primary_email_address_id"] != b {
		t.Errorf("primary after PATCH: %v, want %s", got["primary_email_address_id"], b)
	}
	c.do("PATCH", "/v1/email_addresses/"+a, map[string]any{"verified": nil, "primary": nil}) // nullable: no change
	c.do("PATCH", "/v1/email_addresses/"+a, map[string]any{"reserved": true}).expectError(t, 422, "form_param_unknown/reserved")
	c.do("PATCH", "/v1/email_addresses/"+a, "[]").expectError(t, 400, "request_body_invalid/")

	// A phone becomes a second factor only verified.
	c.do("PATCH", "/v1/phone_numbers/"+phone, map[string]any{"verified": false}).object(t)
	c.do("PATCH", "/v1/phone_numbers/"+phone, map[string]any{"reserved_for_second_factor": true}).
		expectError(t, http.StatusBadRequest, "identification_update_second_factor_unverified/")
	r = c.do("PATCH", "/v1/phone_numbers/"+phone, map[string]any{"verified": true, "reserved_for_second_factor": true})
	if got := r.object(t); r.status != 200 || got["reserved_for_second_factor"] != true || got["default_second_factor"] != true {
		t.Fatalf("PATCH phone second factor: %d %s", r.status, r.body)
	}
	if got := c.do("GET", "/v1/users/"+id, nil).object(t); got["two_factor_enabled"] != true {
		t.Errorf("two_factor_enabled after reserving a phone: %v", got["two_factor_enabled"])
	}
	c.check(t)
}
