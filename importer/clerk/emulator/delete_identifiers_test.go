package emulator

import (
	"net/http"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

// TestDeleteIdentifiers drives DELETE /v1/email_addresses/{id} and
// /v1/phone_numbers/{id}: 404 for an unknown id, 422 for the primary one,
// 200 DeletedObject otherwise, and the value is free for another user.
// Every request answered 2xx and every answer is checked by spectest.
func TestDeleteIdentifiers(t *testing.T) {
	h := newHarness(t, Config{})
	reqs, resps := h.v.Count(), h.v.ResponseCount()
	ok2xx, answers := 0, 0
	do := func(method, path string, body any) response {
		t.Helper()
		r := h.do(method, path, body)
		answers++
		if r.status/100 == 2 {
			ok2xx++
		}
		return r
	}
	u := do("POST", "/v1/users", map[string]any{"email_address": []string{"old@example.com"}, "phone_number": []string{"+14155550100"},
		"external_id": "x1"}).object(t)
	id := u["id"].(string)
	oldEmail := u["primary_email_address_id"].(string)
	oldPhone := u["primary_phone_number_id"].(string)

	for _, tc := range []struct {
		kind, path, value string
		oldID             string
	}{
		{"email_address", "/v1/email_addresses", "new@example.com", oldEmail},
		{"phone_number", "/v1/phone_numbers", "+14155550101", oldPhone},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			do("DELETE", tc.path+"/idn_nobody", nil).expectError(t, http.StatusNotFound, "resource_not_found/")
			// The primary one is refused, and stays.
			do("DELETE", tc.path+"/"+tc.oldID, nil).expectError(t, http.StatusUnprocessableEntity,
				clerk.CodePrimaryIdentifierDeletion+"/"+tc.kind+"_id")
			added := do("POST", tc.path, map[string]any{"user_id": id, tc.kind: tc.value, "verified": true, "primary": true}).object(t)
			if added["id"] == nil {
				t.Fatalf("adding %s: %v", tc.kind, added)
			}
			// Now the old one is secondary and can go.
			r := do("DELETE", tc.path+"/"+tc.oldID, nil)
			if got := r.object(t); r.status != http.StatusOK || got["deleted"] != true || got["id"] != tc.oldID || got["object"] != tc.kind {
				t.Fatalf("delete secondary %s: %d %s", tc.kind, r.status, r.body)
			}
			do("DELETE", tc.path+"/"+tc.oldID, nil).expectError(t, http.StatusNotFound, "resource_not_found/")
		})
	}
	got := do("GET", "/v1/users/"+id, nil).object(t)
	emails, phones := got["email_addresses"].([]any), got["phone_numbers"].([]any)
	if len(emails) != 1 || emails[0].(map[string]any)["email_address"] != "new@example.com" ||
		len(phones) != 1 || phones[0].(map[string]any)["phone_number"] != "+14155550101" {
		t.Errorf("after the deletes: emails %v phones %v", emails, phones)
	}
	// The deleted values are free for another user.
	do("POST", "/v1/users", map[string]any{"email_address": []string{"OLD@example.com"}, "phone_number": []string{"+14155550100"},
		"external_id": "x2"}).object(t)
	if n := h.v.Count() - reqs; n != int64(ok2xx) {
		t.Errorf("spectest validated %d requests, want the %d answered 2xx", n, ok2xx)
	}
	if n := h.v.ResponseCount() - resps; n != int64(answers) {
		t.Errorf("spectest validated %d responses, want %d", n, answers)
	}
}
