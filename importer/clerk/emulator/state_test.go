package emulator

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

func TestSaveAndLoadState(t *testing.T) {
	h := newHarness(t, Config{})
	h.create(map[string]any{"external_id": "s1", "email_address": []string{"s1@example.com"}, "username": "state_one",
		"password": "correct horse battery", "totp_secret": "JBSWY3DPEHPK3PXP", "backup_codes": []string{"bk-123456"},
		"public_metadata": map[string]any{"n": 1.5, "deep": map[string]any{"x": []any{1, "a"}}}})
	h.create(map[string]any{"external_id": "s2", "phone_number": []string{"+14155550100"},
		"password_hasher": "md5", "password_digest": "0123456789abcdef0123456789abcdef"})
	var buf bytes.Buffer
	if err := h.emu.SaveState(&buf); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"correct horse", "JBSWY3DPEHPK3PXP", "bk-123456", "0123456789abcdef0123456789abcdef"} {
		if strings.Contains(buf.String(), secret) {
			t.Errorf("the state file holds a secret (%q)", secret)
		}
	}
	saved := buf.String()
	fresh := New(Config{})
	if err := fresh.LoadState(strings.NewReader(saved)); err != nil {
		t.Fatal(err)
	}
	if want, got := h.emu.Snapshot(), fresh.Snapshot(); !reflect.DeepEqual(want, got) {
		t.Errorf("state after a round trip differs:\nwant %+v\ngot  %+v", want, got)
	}
	var u UserState
	for _, x := range fresh.Snapshot().Users {
		if *x.ExternalID == "s1" {
			u = x
		}
	}
	if !u.PasswordEnabled || !u.TOTPEnabled || !u.BackupCodeEnabled || u.HasPasswordDigest {
		t.Errorf("loaded flags: %+v", u)
	}
	// The loaded state still enforces uniqueness.
	loaded := newHarness(t, Config{})
	if err := loaded.emu.LoadState(strings.NewReader(saved)); err != nil {
		t.Fatal(err)
	}
	loaded.do("POST", "/v1/users", map[string]any{"email_address": []string{"S1@example.com"}}).expectError(t, 422, "form_identifier_exists/email_address")
	// A file whose users share an identifier is refused.
	dup := strings.Replace(saved, `"value": "+14155550100"`, `"value": "s1@example.com"`, 1)
	dup = strings.Replace(dup, `"phone_numbers"`, `"email_addresses"`, 1)
	if err := fresh.LoadState(strings.NewReader(dup)); err == nil || !strings.Contains(err.Error(), "already held") {
		t.Errorf("a state with a shared email loaded: %v", err)
	}
	if err := fresh.LoadState(strings.NewReader(`{"users":[]}`)); err == nil {
		t.Error("a file without the format tag loaded")
	}
}

func TestControlRoutes(t *testing.T) {
	h := newHarness(t, Config{})
	h.create(map[string]any{"external_id": "c1", "password": "a secret password"})
	auth := map[string]string{"Authorization": "Bearer " + testKey}
	if s := stateOverHTTP(t, h); len(s.Users) != 1 || *s.Users[0].ExternalID != "c1" {
		t.Errorf("state %+v", s)
	}
	r, _ := h.send("GET", "/__emulator/stats", nil, auth)
	if r.status != 200 || !strings.Contains(string(r.body), `"POST /v1/users"`) || strings.Contains(string(r.body), "a secret password") {
		t.Errorf("stats: %d %s", r.status, r.body)
	}
	r, _ = h.send("POST", "/__emulator/reset", nil, auth)
	if r.status != 204 {
		t.Errorf("reset: %d", r.status)
	}
	if s := stateOverHTTP(t, h); len(s.Users) != 0 {
		t.Errorf("%d users after reset", len(s.Users))
	}
	if s := h.emu.Stats(); s.Total != 0 {
		t.Errorf("stats after reset: %+v", s)
	}
	h.create(map[string]any{"external_id": "c1"}) // identifiers were freed
}

func TestStartServesOnLoopback(t *testing.T) {
	srv, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if !strings.HasPrefix(srv.URL(), "http://127.0.0.1:") || !strings.HasSuffix(srv.URL(), "/v1") {
		t.Errorf("URL %q", srv.URL())
	}
	h := &harness{t: t, emu: srv.Emulator(), client: &http.Client{}}
	h.srv = &httptest.Server{URL: strings.TrimSuffix(srv.URL(), "/v1")}
	h.create(map[string]any{"external_id": "started"})
	if s := srv.Emulator().Stats(); s.PeakConcurrency < 1 || s.Routes["POST /v1/users"].Status[200] != 1 {
		t.Errorf("stats %+v", s)
	}
}
