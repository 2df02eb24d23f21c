package mapping

import (
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/sources"
)

// TestDigestsClerkAcceptsAreNeverRefused: a digest that fits the format
// Clerk documents is sent; where Clerk's documentation leaves the form
// open, with a warning that says why; a broken digest is still refused.
func TestDigestsClerkAcceptsAreNeverRefused(t *testing.T) {
	m := mustParse(t, "version: 1\nkey: id\nfields:\n  password_digest: hash\n  password_hasher: hasher\n")
	hex := func(n int) string { return strings.Repeat("ab", n) }
	for _, tc := range []struct {
		name, hasher, digest string
		want                 string // "" valid, "warn" valid with a warning, else the refusal's code
	}{
		{"pbkdf2_sha1, 32-byte hash", "pbkdf2_sha1", "pbkdf2_sha1$1000$salt$" + hex(32), ""},
		{"pbkdf2_sha1, 20-byte hash", "pbkdf2_sha1", "pbkdf2_sha1$1000$salt$" + hex(20), ""},
		{"pbkdf2_sha1, text salt with a key length", "pbkdf2_sha1", "pbkdf2_sha1$1000$salt$" + hex(20) + "$20", ""},
		{"pbkdf2_sha1, 17-byte hash", "pbkdf2_sha1", "pbkdf2_sha1$1000$salt$" + hex(17), "warn"},
		{"phpass with $H$", "phpass", "$H$9" + strings.Repeat("a", 30), "warn"},
		{"md5_phpass with $P$", "md5_phpass", "$P$9" + strings.Repeat("a", 30), "warn"},
		{"Werkzeug's scrypt", "scrypt_werkzeug", "scrypt:32768:8:1$abcDEF$" + hex(64), "warn"},
		{"scrypt with Clerk's leading $", "scrypt_werkzeug", "$scrypt:32768:8:1$abcDEF$" + hex(64), "warn"},
		{"argon2 without v=", "argon2id", "$argon2id$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A", "warn"},
		{"hmac_sha256_utf16_b64", "hmac_sha256_utf16_b64", "a2V5$" + strings.Repeat("A", 43) + "=", "warn"},
		{"broken bcrypt", "bcrypt", "$2b$10$short", CodeDigestInvalid},
		{"broken pbkdf2_sha1", "pbkdf2_sha1", "pbkdf2_sha1$1000$salt$abc", CodeDigestInvalid},
	} {
		p, errs := m.Map(sources.Record{Key: "k", Values: vals{"hash": tc.digest, "hasher": tc.hasher}})
		switch tc.want {
		case "":
			if p == nil || len(errs) != 0 {
				t.Errorf("%s: %v %v, want valid without findings", tc.name, p, errs)
			}
		case "warn":
			if p == nil || len(errs) != 1 || !errs[0].Warning || errs[0].Code != CodeDigestOpen {
				t.Errorf("%s: %v %v, want valid with one %s warning", tc.name, p, errs, CodeDigestOpen)
				continue
			}
			if d, _ := p.PasswordDigest.Get(); d != tc.digest || strings.Contains(errs.Error(), tc.digest) {
				t.Errorf("%s: the digest is not sent as given, or the warning holds it: %s", tc.name, errs.Error())
			}
		default:
			if p != nil || len(errs) != 1 || errs[0].Code != tc.want {
				t.Errorf("%s: %v %v, want refused with %s", tc.name, p, errs, tc.want)
			}
		}
	}
}
