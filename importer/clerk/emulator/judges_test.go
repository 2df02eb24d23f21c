package emulator

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/mapping/hashers"
)

// The two judges of a digest: the emulator's own statement of Clerk's
// documented formats (judgeDigest, digests.go) and the validator's
// (mapping/hashers, which validate, import --dry-run and import use). The
// emulator says documented, open (a form Clerk's documentation leaves open)
// or refused; the validator says ok, warning (the row is sent, with a
// finding) or refused.
type validatorVerdict string

const (
	vOK      validatorVerdict = "ok"
	vWarning validatorVerdict = "warning"
	vRefused validatorVerdict = "refused"
)

func (v digestVerdict) String() string {
	return [...]string{"refused", "documented", "open"}[v]
}

// validatorJudges is the validator's verdict on a digest and its reason.
func validatorJudges(hasher, digest string) (validatorVerdict, string) {
	switch verdict, err := hashers.Judge(hasher, digest); verdict {
	case hashers.OK:
		return vOK, ""
	case hashers.Warning:
		return vWarning, err.Error()
	default:
		return vRefused, err.Error()
	}
}

// judgeCase is a digest both judges see; a hand-written one states what
// each judge must say.
type judgeCase struct {
	label, hasher, digest string
	emu                   digestVerdict    // hand-written cases only
	val                   validatorVerdict // hand-written cases only
}

// handWrittenDigests pin the cases the issues name and the edges of each
// hasher's documented form.
func handWrittenDigests() []judgeCase {
	hex := func(n int) string { return strings.Repeat("ab", n) }
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString([]byte(strings.Repeat("\xa7", n))) }
	raw := func(n int) string { return base64.RawStdEncoding.EncodeToString([]byte(strings.Repeat("\xc3", n))) }
	const b53 = "N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
	const bcrypt = "$2b$10$" + b53
	phpass := strings.Repeat("a", 30)
	argon := "$argon2id$v=19$m=65536,t=3,p=4$" + raw(16) + "$"
	fb := func(hash, signer int, rounds string) string {
		return b64(hash) + "$" + b64(16) + "$" + b64(signer) + "$Bw==$" + rounds + "$14"
	}
	const doc, open, refused = digestDocumented, digestOpen, digestRefused
	return []judgeCase{
		{"pbkdf2_sha1 with a 32-byte hash (Clerk's default key length)", "pbkdf2_sha1", "pbkdf2_sha1$1000$salt$" + hex(32), doc, vOK},
		{"pbkdf2_sha1 with a 20-byte hash (PBKDF2-SHA1's own)", "pbkdf2_sha1", "pbkdf2_sha1$1000$salt$" + hex(20), doc, vOK},
		{"pbkdf2_sha1 with a 16-byte hash", "pbkdf2_sha1", "pbkdf2_sha1$1000$salt$" + hex(16), doc, vWarning},
		{"pbkdf2_sha1 key length form with a text salt", "pbkdf2_sha1", "pbkdf2_sha1$1000$salt!$" + hex(20) + "$20", doc, vOK},
		{"pbkdf2_sha1 key length other than the hash's", "pbkdf2_sha1", "pbkdf2_sha1$1000$73616c74$" + hex(20) + "$32", doc, vWarning},
		{"pbkdf2_sha1 with an odd hex hash", "pbkdf2_sha1", "pbkdf2_sha1$1000$salt$" + hex(20) + "a", refused, vRefused},
		{"pbkdf2_sha1 with 0 iterations", "pbkdf2_sha1", "pbkdf2_sha1$0$salt$" + hex(20), refused, vRefused},
		{"phpass with $H$", "phpass", "$H$9" + phpass, open, vWarning},
		{"md5_phpass with $P$", "md5_phpass", "$P$9" + phpass, open, vWarning},
		{"phpass rounds outside 7-30", "phpass", "$P$z" + phpass, refused, vRefused},
		{"phpass cut short", "phpass", "$P$9" + phpass[:29], refused, vRefused},
		{"scrypt_werkzeug as Werkzeug writes it", "scrypt_werkzeug", "scrypt:32768:8:1$abcDEF123$" + hex(64), open, vWarning},
		{"scrypt_werkzeug with the leading $ of Clerk's docs", "scrypt_werkzeug", "$scrypt:32768:8:1$abcDEF123$" + hex(64), doc, vWarning},
		{"scrypt_werkzeug with n not a power of two", "scrypt_werkzeug", "scrypt:32767:8:1$abcDEF123$" + hex(64), refused, vRefused},
		{"argon2id without v=", "argon2id", "$argon2id$m=65536,t=3,p=4$" + raw(16) + "$" + raw(32), open, vWarning},
		{"argon2id with v=16", "argon2id", "$argon2id$v=16$m=65536,t=3,p=4$" + raw(16) + "$" + raw(32), refused, vRefused},
		{"argon2id with a 24-byte hash", "argon2id", argon + raw(24), doc, vWarning},
		{"argon2id with m below 8 per lane", "argon2id", "$argon2id$v=19$m=16,t=3,p=4$" + raw(16) + "$" + raw(32), refused, vRefused},
		{"argon2id with padded base64", "argon2id", argon + b64(32), refused, vRefused},
		{"hmac_sha256_utf16_b64 as <key>$<hash>", "hmac_sha256_utf16_b64", b64(16) + "$" + b64(32), open, vWarning},
		{"hmac_sha256_utf16_b64 as <hash>$<key>", "hmac_sha256_utf16_b64", b64(32) + "$" + b64(16), open, vWarning},
		{"hmac_sha256_utf16_b64 as one base64", "hmac_sha256_utf16_b64", b64(48), open, vWarning},
		{"hmac_sha256_utf16_b64 empty", "hmac_sha256_utf16_b64", "", refused, vRefused},
		{"pbkdf2_sha256 in unpadded base64", "pbkdf2_sha256", "pbkdf2_sha256$29000$" + raw(16) + "$" + raw(32), open, vWarning},
		{"pbkdf2_sha256 with a 30-byte hash", "pbkdf2_sha256", "pbkdf2_sha256$29000$" + b64(16) + "$" + b64(30), doc, vWarning},
		{"pbkdf2_sha256 with a hex-looking salt", "pbkdf2_sha256", "pbkdf2_sha256$29000$0123456789abcdef$" + b64(32), doc, vWarning},
		{"pbkdf2_sha256 with a hash that is not base64", "pbkdf2_sha256", "pbkdf2_sha256$29000$" + b64(16) + "$!!!!", refused, vRefused},
		{"pbkdf2_sha256_django with a salt of punctuation", "pbkdf2_sha256_django", "pbkdf2_sha256$260000$s.a_l-t$" + b64(32), doc, vWarning},
		{"pbkdf2_sha512 with a 32-byte hash", "pbkdf2_sha512", "pbkdf2_sha512$10000$salt$" + hex(32), doc, vWarning},
		{"pbkdf2_sha512_hex with a text salt", "pbkdf2_sha512_hex", "pbkdf2_sha512_hex$10000$salt$" + hex(64), refused, vRefused},
		{"bcrypt cut short", "bcrypt", bcrypt[:59], refused, vRefused},
		{"bcrypt with cost 03", "bcrypt", "$2b$03$" + b53, refused, vRefused},
		{"bcrypt $2x$", "bcrypt", "$2x$10$" + b53, refused, vRefused},
		{"bcrypt_peppered with a pepper holding a space", "bcrypt_peppered", bcrypt + "$pep per", doc, vWarning},
		{"bcrypt_peppered without a pepper", "bcrypt_peppered", bcrypt + "$", refused, vRefused},
		{"md5 of 31 hex", "md5", hex(16)[:31], refused, vRefused},
		{"md5_salted with a salt holding a space", "md5_salted", "s a$" + hex(16), doc, vWarning},
		{"md5_salted with a salt holding $", "md5_salted", "s$a$" + hex(16), open, vWarning},
		{"md5_salted without a salt", "md5_salted", "$" + hex(16), refused, vRefused},
		{"sha512_symfony with a 32-byte hash", "sha512_symfony", "sha512_symfony$5000$salt$" + b64(32), doc, vWarning},
		{"sha512_symfony with 2000000 iterations", "sha512_symfony", "sha512_symfony$2000000$salt$" + b64(64), doc, vWarning},
		{"sha512_symfony with { in the salt", "sha512_symfony", "sha512_symfony$5000${salt}$" + b64(64), refused, vRefused},
		{"scrypt_firebase with 9 rounds", "scrypt_firebase", fb(64, 64, "9"), doc, vWarning},
		{"scrypt_firebase with a hash shorter than the signer key", "scrypt_firebase", fb(32, 64, "8"), doc, vWarning},
		{"scrypt_firebase in URL-safe base64", "scrypt_firebase", "-_" + fb(64, 64, "8")[2:], refused, vRefused},
		{"ldap_ssha with a 2-byte salt", "ldap_ssha", "{SSHA}" + b64(22), doc, vWarning},
		{"ldap_ssha without a salt", "ldap_ssha", "{SSHA}" + b64(20), refused, vRefused},
		{"awscognito with a pool id without region", "awscognito", "awscognito#pool#client#ada@example.com", doc, vWarning},
		{"awscognito without an identifier", "awscognito", "awscognito#us-east-1_Ab1#client", refused, vRefused},
	}
}

// realDigests are the digests real software wrote (mapping/hashers'
// vectors), whole and cut short.
func realDigests(t *testing.T) []judgeCase {
	raw, err := os.ReadFile(filepath.Join("..", "..", "..", "mapping", "hashers", "testdata", "vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vs []struct{ Hasher, Digest, Source string }
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	var out []judgeCase
	for i, v := range vs {
		out = append(out, judgeCase{label: fmt.Sprintf("vector %d (%s)", i, v.Source), hasher: v.Hasher, digest: v.Digest})
		for _, drop := range []int{1, 5, len(v.Digest) / 2} {
			out = append(out, judgeCase{label: fmt.Sprintf("vector %d cut by %d", i, drop), hasher: v.Hasher, digest: v.Digest[:len(v.Digest)-drop]})
		}
	}
	return out
}

// TestTheTwoDigestJudges runs the emulator's judge and the validator's
// over the same digests. They must never clash (one refuses what the
// other takes as it is). Every other difference is named, with its
// reason: a form Clerk's documentation leaves open, which the emulator
// accepts and the validator sends with a warning.
func TestTheTwoDigestJudges(t *testing.T) {
	for _, name := range hashers.Names() {
		if !knownHasher(name) {
			t.Errorf("the validator knows hasher %s, the emulator does not", name)
		}
	}
	for name := range digestRules {
		if !hashers.Known(name) {
			t.Errorf("the emulator knows hasher %s, the validator does not", name)
		}
	}
	hand := handWrittenDigests()
	cases := append(append([]judgeCase{}, hand...), realDigests(t)...)
	type difference struct{ hasher, verdicts, why string }
	named := map[difference][]string{} // → the labels of its digests
	var order []difference
	for i, c := range cases {
		emu, why := judgeDigest(c.hasher, c.digest)
		val, reason := validatorJudges(c.hasher, c.digest)
		if i < len(hand) && (emu != c.emu || val != c.val) {
			t.Errorf("%s: emulator %s, validator %s (%s); want %s and %s", c.label, emu, val, reason, c.emu, c.val)
		}
		switch {
		case emu == digestRefused && val == vRefused, emu == digestDocumented && val == vOK:
			continue // the same verdict
		case emu == digestRefused || val == vRefused, emu == digestOpen && val == vOK:
			t.Errorf("%s: the judges clash: emulator %s%s, validator %s %s", c.label, emu, orNone(why), val, reason)
			continue
		}
		if why == "" {
			why = "Clerk's docs do not fix this; the validator warns: " + reason
		}
		d := difference{c.hasher, fmt.Sprintf("emulator %s, validator %s", emu, val), why}
		if named[d] == nil {
			order = append(order, d)
		}
		named[d] = append(named[d], c.label)
	}
	var b strings.Builder
	for _, d := range order {
		fmt.Fprintf(&b, "\n  %s, %s, %d digests (%s): %s", d.hasher, d.verdicts, len(named[d]), named[d][0], d.why)
	}
	t.Logf("%d digests; judged differently, each a form Clerk's documentation leaves open:%s", len(cases), b.String())
}

func orNone(why string) string {
	if why == "" {
		return ""
	}
	return " (" + why + ")"
}
