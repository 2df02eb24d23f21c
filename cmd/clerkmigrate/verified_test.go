package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

// TestUnverifiedStaysUnverified imports a CSV whose email_verified and
// phone_verified columns say which addresses the legacy system verified,
// and reads the users back from the emulator over HTTP: an address the
// source did not verify is not verified in Clerk. validate, import
// --dry-run and import give the row that cannot say the same verdict.
func TestUnverifiedStaysUnverified(t *testing.T) {
	const key = "sk_test_verified_0123456789"
	srv, err := emulator.Start(emulator.Config{SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	src := filepath.Join(dir, "users.csv")
	os.WriteFile(src, []byte("id,email,email_verified,phone,phone_verified\n"+
		"1,ada@example.com,true,+14155550101,true\n"+
		"2,eve@example.com,false,+14155550102,0\n"+
		"3,mallory@example.com,,,\n"+ // cannot tell
		"4,bob@example.com,yes,+14155550104,\n"), 0o600) // an empty phone flag: the mapping's default
	mapFile := filepath.Join(dir, "users.mapping.yaml")
	os.WriteFile(mapFile, []byte(`version: 1
key: id
options: { required_identifiers: [email_address] }
fields:
  email_address: { from: email, verified: { from: email_verified } }
  phone_number: { from: phone, verified: { from: phone_verified, default: false } }
`), 0o600)
	env := map[string]string{secretKeyEnv: key}
	args := []string{"--no-progress", "--source", src, "--mapping", mapFile}

	validate := runCLI(t, dir, env, append([]string{"validate"}, args...)...)
	if validate.code != ExitRowsFailed || !strings.Contains(validate.stdout, "3 valid, 1 invalid") {
		t.Fatalf("validate: exit %d\n%s\n%s", validate.code, validate.stdout, validate.stderr)
	}
	findings, _ := filepath.Glob(filepath.Join(dir, defaultOutDir, "validate-*", "findings.csv"))
	if b, _ := os.ReadFile(findings[0]); !strings.Contains(string(b), "verified_unknown") || strings.Count(string(b), "\n") != 2 {
		t.Errorf("findings.csv:\n%s", b)
	}
	// Each command in its own ledger: its own verdict, not the one before.
	dry := runCLI(t, dir, env, append([]string{"import", "--dry-run", "--out", "dry", "--target", srv.URL()}, args...)...)
	if dry.code != ExitRowsFailed || !strings.Contains(dry.stdout, "3 valid, 1 invalid") {
		t.Fatalf("import --dry-run: exit %d\n%s\n%s", dry.code, dry.stdout, dry.stderr)
	}
	imp := runCLI(t, dir, env, append([]string{"import", "--out", "real", "--target", srv.URL()}, args...)...)
	if imp.code != ExitRowsFailed || !strings.Contains(imp.stdout, "created  3") || !strings.Contains(imp.stdout, "invalid  1") {
		t.Fatalf("import: exit %d\n%s\n%s", imp.code, imp.stdout, imp.stderr)
	}

	// What Clerk holds, as its API renders it.
	api, err := clerk.New(clerk.Config{BaseURL: srv.URL(), SecretKey: key, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	users, err := api.ListUsers(context.Background(), clerk.ListUsersParams{ExternalID: []string{"1", "2", "3", "4"}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, u := range users {
		var parts []string
		for _, e := range u.EmailAddresses {
			parts = append(parts, e.EmailAddress+":"+verificationOf(e.Verification, e.Reserved))
		}
		for _, p := range u.PhoneNumbers {
			parts = append(parts, p.PhoneNumber+":"+verificationOf(p.Verification, p.Reserved))
		}
		got[*u.ExternalID] = strings.Join(parts, " ")
	}
	want := map[string]string{
		"1": "ada@example.com:verified +14155550101:verified",
		"2": "eve@example.com:reserved +14155550102:reserved",
		"4": "bob@example.com:verified +14155550104:reserved",
	}
	if len(got) != len(want) {
		t.Errorf("users %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("user %s: %q, want %q", k, got[k], w)
		}
	}
}

// verificationOf names an identifier's state as Clerk renders it.
func verificationOf(v *clerk.Verification, reserved bool) string {
	switch {
	case v != nil && v.Status == "verified":
		return "verified"
	case reserved:
		return "reserved"
	}
	return "unverified"
}
