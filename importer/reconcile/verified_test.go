package reconcile

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

// verifiedMappingYAML maps a source whose "verified" column lists the
// addresses and numbers the legacy system verified.
const verifiedMappingYAML = `version: 1
key: id
fields:
  email_address: { from: email, split: "|", transform: [trim, lower], verified: { in: verified } }
  phone_number: { from: phone, split: "|", verified: { in: verified } }
`

// writeVerified writes rows of id, emails, phones and the verified ones.
func writeVerified(t *testing.T, dir, name string, rows [][4]string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,email,phone,verified\n")
	for _, r := range rows {
		b.WriteString(strings.Join(r[:], ",") + "\n")
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSyncAddsUnverifiedAsUnverified: the addresses a sync adds carry the
// source's verified flag, and one the source did not verify is never made
// primary (Clerk makes only verified addresses primary): the note says so,
// as it says of an address Clerk holds verified and the source does not.
func TestSyncAddsUnverifiedAsUnverified(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	e.useMapping(t, "verified.yaml", verifiedMappingYAML)
	seed := [][4]string{
		{"v1", "a1@example.com", "+14155550101", "a1@example.com|+14155550101"},
		{"v2", "old2@example.com", "", "old2@example.com"},
		{"v3", "x3@example.com", "", "x3@example.com"},
	}
	e.importFile(t, writeVerified(t, e.dir, "seed.csv", seed), len(seed))
	now := [][4]string{
		// A second address and number, neither verified.
		{"v1", "a1@example.com|new1@example.com", "+14155550101|+14155550191", "a1@example.com|+14155550101"},
		// A new primary address the source did not verify.
		{"v2", "new2@example.com|old2@example.com", "", "old2@example.com"},
		// Verified in Clerk (an import before the flag was mapped), not in the source.
		{"v3", "x3@example.com", "", ""},
	}
	cfg := e.config(t, writeVerified(t, e.dir, "seed.csv", seed))
	cfg.Managed = nil
	if _, err := Run(context.Background(), cfg); err != nil { // the baseline
		t.Fatal(err)
	}
	cfg = e.config(t, writeVerified(t, e.dir, "now.csv", now))
	cfg.Managed = nil
	sum2, err := Run(context.Background(), cfg)
	if err != nil || sum2.ByOutcome[checkpoint.Failed] != 0 || sum2.Emails != 2 || sum2.Phones != 1 {
		t.Fatalf("sync: %v %+v", err, sum2)
	}
	got := users(t, e.srv.Emulator())
	status := func(u emulator.UserState, value string) string {
		for _, list := range [][]emulator.Identifier{u.EmailAddresses, u.PhoneNumbers} {
			for _, x := range list {
				if x.Value == value {
					switch {
					case x.Verified:
						return "verified"
					case x.Reserved:
						return "reserved"
					}
					return "unverified"
				}
			}
		}
		return "absent"
	}
	for _, tt := range []struct{ key, value, want string }{
		{"v1", "a1@example.com", "verified"},
		{"v1", "new1@example.com", "unverified"},
		{"v1", "+14155550101", "verified"},
		{"v1", "+14155550191", "unverified"},
		{"v2", "old2@example.com", "verified"},
		{"v2", "new2@example.com", "unverified"},
		{"v3", "x3@example.com", "verified"},
	} {
		if s := status(got[tt.key], tt.value); s != tt.want {
			t.Errorf("%s %s: %s, want %s", tt.key, tt.value, s, tt.want)
		}
	}
	if emails, _ := identifiers(got["v2"]); emails != "old2@example.com|new2@example.com" {
		t.Errorf("v2's primary changed to an unverified address: %s", emails)
	}
	if note := e.rowMessage(t, sum2.RunID, "v2"); !strings.Contains(note, "new2@example.com not made primary: the source did not verify it") {
		t.Errorf("v2's row says %q", note)
	}
	if note := e.rowMessage(t, sum2.RunID, "v3"); !strings.Contains(note, "email_address x3@example.com is verified in Clerk but not in the source") {
		t.Errorf("v3's row says %q", note)
	}
}
