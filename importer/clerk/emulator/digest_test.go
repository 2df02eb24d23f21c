package emulator

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/mapping/hashers"
)

// goodDigests holds one well-formed digest per hasher Clerk accepts.
func goodDigests() map[string]string {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{0xab}, n)) }
	raw := func(n int) string { return base64.RawStdEncoding.EncodeToString(bytes.Repeat([]byte{0xcd}, n)) }
	hex := func(n int) string { return strings.Repeat("ab", n) }
	const bcrypt = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
	return map[string]string{
		"argon2i":               "$argon2i$v=19$m=65536,t=3,p=4$" + raw(16) + "$" + raw(32),
		"argon2id":              "$argon2id$v=19$m=65536,t=3,p=4$" + raw(16) + "$" + raw(32),
		"awscognito":            "awscognito#us-east-1_AbC123#clientid123#ada@example.com",
		"bcrypt":                bcrypt,
		"bcrypt_peppered":       bcrypt + "$pepper",
		"bcrypt_sha256_django":  "bcrypt_sha256$" + bcrypt,
		"hmac_sha256_utf16_b64": b64(16) + "$" + b64(32),
		"ldap_ssha":             "{SSHA}" + b64(28),
		"md5":                   hex(16),
		"md5_phpass":            "$H$9" + strings.Repeat("a", 30),
		"md5_salted":            "salt$" + hex(16),
		"pbkdf2_sha1":           "pbkdf2_sha1$10000$salt$" + hex(20),
		"pbkdf2_sha256":         "pbkdf2_sha256$10000$" + b64(16) + "$" + b64(32),
		"pbkdf2_sha256_django":  "pbkdf2_sha256$260000$abcdefSALT123$" + b64(32),
		"pbkdf2_sha512":         "pbkdf2_sha512$10000$salt$" + hex(64),
		"pbkdf2_sha512_hex":     "pbkdf2_sha512_hex$10000$" + hex(16) + "$" + hex(64),
		"phpass":                "$P$B" + strings.Repeat("a", 30),
		"scrypt_firebase":       b64(32) + "$" + b64(16) + "$" + b64(32) + "$" + b64(1) + "$8$14",
		"scrypt_werkzeug":       "scrypt:32768:8:1$abcdefSALT$" + hex(64),
		"sha256":                hex(32),
		"sha256_salted":         "salt$" + hex(32),
		"sha512_symfony":        "sha512_symfony$5000$salt$" + b64(64),
	}
}

// badDigest is a near miss of good for hasher that no reading of Clerk's
// documented format takes: cut short where the format fixes the length,
// else broken in its structure (the edges are TestTheTwoDigestJudges').
func badDigest(hasher, good string) string {
	switch hasher {
	case "awscognito":
		return "awscognito#us-east-1_AbC123#clientid123" // no identifier
	case "scrypt_firebase":
		return strings.Replace(good, "$8$14", "$8$fourteen", 1)
	case "bcrypt_peppered":
		return good[:60] // no pepper
	case "argon2i", "argon2id":
		return good[:strings.LastIndexByte(good, '$')] // no hash
	case "hmac_sha256_utf16_b64":
		return "" // Clerk documents no layout: only an empty digest is refused
	case "scrypt_werkzeug":
		return strings.Replace(good, "scrypt:32768", "scrypt:32767", 1) // n not a power of two
	case "pbkdf2_sha1", "pbkdf2_sha512", "pbkdf2_sha512_hex":
		return good[:len(good)-1] // an odd number of hex digits
	}
	return good[:len(good)-3]
}

func TestPasswordDigestPerHasher(t *testing.T) {
	h := newHarness(t, Config{})
	good := goodDigests()
	for _, name := range hashers.Names() {
		if _, ok := good[name]; !ok {
			t.Errorf("hasher %s has no test digest", name)
		}
	}
	i := 0
	for hasher, digest := range good {
		t.Run(hasher, func(t *testing.T) {
			h.t = t
			i++
			ok := h.do("POST", "/v1/users", map[string]any{"external_id": "d-" + hasher, "password_hasher": hasher, "password_digest": digest})
			if ok.status != 200 || ok.object(t)["password_enabled"] != true {
				t.Fatalf("good %s digest refused: %d %s", hasher, ok.status, ok.body)
			}
			bad := h.do("POST", "/v1/users", map[string]any{"password_hasher": hasher, "password_digest": badDigest(hasher, digest)})
			bad.expectError(t, 422, "form_password_digest_invalid_code/password_digest")
			if b := badDigest(hasher, digest); b != "" && strings.Contains(string(bad.body), b) {
				t.Errorf("the error echoes the digest")
			}
		})
	}
	snap := h.emu.Snapshot()
	for _, u := range snap.Users {
		if !u.HasPasswordDigest || !hashers.Known(u.PasswordHasher) || !u.PasswordEnabled {
			t.Errorf("user %s: hasher %q digest %v", u.ID, u.PasswordHasher, u.HasPasswordDigest)
		}
	}
	if len(snap.Users) != len(good) {
		t.Errorf("%d users, want %d", len(snap.Users), len(good))
	}
}
