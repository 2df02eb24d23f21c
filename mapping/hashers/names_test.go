package hashers

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// clerkAllowList is the list of names in CLERK_API.md ("Names Clerk accepts").
var clerkAllowList = []string{
	"argon2i", "argon2id", "awscognito", "bcrypt", "bcrypt_peppered",
	"bcrypt_sha256_django", "hmac_sha256_utf16_b64", "ldap_ssha", "md5",
	"md5_phpass", "md5_salted", "pbkdf2_sha1", "pbkdf2_sha256",
	"pbkdf2_sha256_django", "pbkdf2_sha512", "pbkdf2_sha512_hex", "phpass",
	"scrypt_firebase", "scrypt_werkzeug", "sha256", "sha256_salted", "sha512_symfony",
}

func TestNamesIsClerksAllowList(t *testing.T) {
	got := Names()
	if !slices.Equal(got, clerkAllowList) {
		t.Fatalf("Names() = %v\nwant %v", got, clerkAllowList)
	}
	if !slices.IsSorted(got) {
		t.Errorf("Names() is not sorted")
	}
	got[0] = "mutated"
	if Names()[0] == "mutated" {
		t.Errorf("Names() returns shared storage")
	}
	for _, n := range clerkAllowList {
		if !Known(n) {
			t.Errorf("Known(%q) = false", n)
		}
	}
	for _, n := range []string{"", "BCRYPT", "argon2", "argon2d", "pbkdf2_sha256_hex", "bcrypt "} {
		if Known(n) {
			t.Errorf("Known(%q) = true", n)
		}
	}
}

// TestNamesMatchSharedDoc re-reads the allow-list from CLERK_API.md when the
// shared folder is beside the checkout, so a change there is noticed; it
// skips without the folder, except under CI=true, where it fails.
func TestNamesMatchSharedDoc(t *testing.T) {
	raw, err := os.ReadFile("../../../shared/CLERK_API.md")
	if err != nil {
		if os.Getenv("CI") == "true" { // CI runs with ../shared beside the checkout
			t.Fatalf("CI=true and shared/CLERK_API.md is not beside the checkout: %v", err)
		}
		t.Skipf("shared/CLERK_API.md not beside the checkout: %v", err)
	}
	m := regexp.MustCompile(`Names Clerk accepts: ([a-z0-9_, \n]+)\.`).FindSubmatch(raw)
	if m == nil {
		t.Fatal("allow-list sentence not found in CLERK_API.md")
	}
	var doc []string
	for _, n := range strings.Split(string(m[1]), ",") {
		doc = append(doc, strings.TrimSpace(n))
	}
	slices.Sort(doc)
	if !slices.Equal(doc, Names()) {
		t.Fatalf("CLERK_API.md lists %v\nNames() = %v", doc, Names())
	}
}
