package emulator

import (
	"bytes"
	"strings"
	"testing"
)

// TestInstanceIsOnePerState: GET /v1/instance answers (spec-valid, as the
// harness checks every answer) the emulator's one id whatever the key,
// with the key's environment type; the id is the configured one, or a new
// "ins_" id, and it travels with the state file, so that an emulator
// restarted from it is the same instance; a reset keeps it.
func TestInstanceIsOnePerState(t *testing.T) {
	h := newHarness(t, Config{InstanceID: "ins_configured"})
	instance := func(key string) (id, env string) {
		t.Helper()
		r, err := h.send("GET", "/v1/instance", nil, map[string]string{"Authorization": "Bearer " + key, "Clerk-API-Version": "2026-05-12"})
		if err != nil || r.status != 200 {
			t.Fatalf("GET /v1/instance with %s: %v %d %s", key[:8], err, r.status, r.body)
		}
		o := r.object(t)
		if o["object"] != "instance" {
			t.Errorf("object %v", o["object"])
		}
		return o["id"].(string), o["environment_type"].(string)
	}
	if id, env := instance("sk_test_one"); id != "ins_configured" || env != "development" {
		t.Errorf("with a test key: %s %s, want ins_configured development", id, env)
	}
	if id, env := instance("sk_live_two"); id != "ins_configured" || env != "production" {
		t.Errorf("with a live key: %s %s, want the same instance, production", id, env)
	}
	h.do("POST", "/v1/users", map[string]any{"external_id": "i1"})
	var saved bytes.Buffer
	if err := h.emu.SaveState(&saved); err != nil {
		t.Fatal(err)
	}
	restarted := New(Config{})
	if id := restarted.InstanceID(); !strings.HasPrefix(id, "ins_") || len(id) != len("ins_")+27 || id == "ins_configured" {
		t.Errorf("a new emulator's instance id is %q, want a fresh ins_ KSUID", id)
	}
	if err := restarted.LoadState(bytes.NewReader(saved.Bytes())); err != nil {
		t.Fatal(err)
	}
	if id := restarted.InstanceID(); id != "ins_configured" {
		t.Errorf("restarted from the state file: instance %s, want ins_configured", id)
	}
	old := New(Config{InstanceID: "ins_mine"})
	if err := old.LoadState(strings.NewReader(`{"format":"clerkmigrate-emulator-state/1","users":[]}`)); err != nil {
		t.Fatal(err)
	}
	if id := old.InstanceID(); id != "ins_mine" {
		t.Errorf("a state file without an instance id changed the emulator's to %s", id)
	}
	h.emu.Reset()
	if id, _ := instance("sk_test_one"); id != "ins_configured" {
		t.Errorf("after a reset: instance %s", id)
	}
}
