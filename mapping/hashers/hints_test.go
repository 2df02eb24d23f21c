package hashers

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// firstVector returns the first real digest for hasher h whose source
// contains from (any source when from is "").
func firstVector(t *testing.T, h, from string) string {
	t.Helper()
	for _, v := range loadVectors(t) {
		if v.Hasher == h && strings.Contains(v.Source, from) {
			return v.Digest
		}
	}
	t.Fatalf("no %s vector from %q", h, from)
	return ""
}

func digestError(t *testing.T, name, digest string) *DigestError {
	t.Helper()
	err := CheckDigest(name, digest)
	var de *DigestError
	if !errors.As(err, &de) {
		t.Fatalf("CheckDigest(%s) = %v, want a *DigestError", name, err)
	}
	return de
}

func TestHints(t *testing.T) {
	django := firstVector(t, "pbkdf2_sha256_django", "(iterations=260000)")
	argon2id := firstVector(t, "argon2id", "argon2-cffi")
	argon2i := firstVector(t, "argon2i", "argon2-cffi")
	bcryptD := firstVector(t, "bcrypt", "python3-bcrypt")
	cases := []struct {
		name, hasher, digest string
		hint                 string // a substring the hint must hold
	}{
		{"Django pbkdf2 named pbkdf2_sha256", "pbkdf2_sha256", django, "pbkdf2_sha256_django"},
		{"generic pbkdf2 named Django", "pbkdf2_sha256_django", firstVector(t, "pbkdf2_sha256", "passlib"), "pbkdf2_sha256 digest"},
		{"argon2id named argon2i", "argon2i", argon2id, "argon2id"},
		{"argon2i named argon2id", "argon2id", argon2i, "argon2i digest"},
		{"$H$ named phpass", "phpass", firstVector(t, "md5_phpass", ""), "md5_phpass"},
		{"$P$ named md5_phpass", "md5_phpass", firstVector(t, "phpass", ""), "a phpass digest"},
		{"sha256 named md5", "md5", firstVector(t, "sha256", ""), "a sha256 digest"},
		{"md5 named sha256", "sha256", firstVector(t, "md5", ""), "an md5 digest"},
		{"Django bcrypt_sha256 named bcrypt", "bcrypt", firstVector(t, "bcrypt_sha256_django", ""), "bcrypt_sha256_django"},
		{"peppered named bcrypt", "bcrypt", firstVector(t, "bcrypt_peppered", ""), "bcrypt_peppered"},
		{"plain bcrypt named peppered", "bcrypt_peppered", bcryptD, "a bcrypt digest"},
		{"werkzeug named firebase", "scrypt_firebase", firstVector(t, "scrypt_werkzeug", ""), "scrypt_werkzeug"},
		{"pbkdf2_sha512 named _hex", "pbkdf2_sha512_hex", firstVector(t, "pbkdf2_sha512", ""), "pbkdf2_sha512_hex$"},
		{"_hex named pbkdf2_sha512", "pbkdf2_sha512", firstVector(t, "pbkdf2_sha512_hex", ""), "pbkdf2_sha512_hex digest"},
		{"Django argon2", "argon2id", "argon2" + argon2id, "drop the leading \"argon2\""},
		{"Django bcrypt", "bcrypt", "bcrypt$" + bcryptD, "drop the leading \"bcrypt$\""},
		{"Django pbkdf2_sha1", "pbkdf2_sha1", "pbkdf2_sha1$260000$Yx0ZC3SNRgsXMtjEHKXj0L$9Bk3ZH6zb2QzD5l7y5LDg0yWVlM=", "base64"},
		{"Werkzeug pbkdf2", "pbkdf2_sha256", "pbkdf2:sha256:600000$hB1YpX9T$0f1e", "Werkzeug pbkdf2"},
		{"passlib bcrypt_sha256", "bcrypt_sha256_django", "$bcrypt-sha256$v=2,t=2b,r=12$n79VH.0Q2TMWmt3Oqt9uku$Kq4Noyk3094Y2QlB8NdRT8SvGiI4ft2", "passlib"},
		{"argon2d", "argon2id", "$argon2d$v=19$m=512,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA", "argon2d"},
		{"sha512-crypt", "bcrypt", "$6$rounds=5000$saltsalt$abc", "sha512-crypt"},
		{"{SSHA256}", "ldap_ssha", "{SSHA256}c2FsdHNhbHRzYWx0c2FsdHNhbHRzYWx0c2FsdHNhbHQ=", "only {SSHA}"},
		{"trailing newline", "bcrypt", bcryptD + "\n", "whitespace"},
		{"leading space", "md5", " " + firstVector(t, "md5", ""), "whitespace"},
		{"quoted", "bcrypt", `"` + bcryptD + `"`, "quotes"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			de := digestError(t, c.hasher, c.digest)
			if !strings.Contains(de.Hint, c.hint) {
				t.Errorf("Hint = %q, want it to contain %q (reason %q)", de.Hint, c.hint, de.Reason)
			}
			if de.Hasher != c.hasher {
				t.Errorf("Hasher = %q, want %q", de.Hasher, c.hasher)
			}
			if !strings.Contains(de.Error(), de.Hint) || !strings.Contains(de.Error(), de.Reason) {
				t.Errorf("Error() %q lacks the reason or the hint", de.Error())
			}
		})
	}
}

func TestFirebaseURLSafeBase64Reason(t *testing.T) {
	d := firstVector(t, "scrypt_firebase", "README")
	urlSafe := strings.NewReplacer("+", "-", "/", "_").Replace(d)
	de := digestError(t, "scrypt_firebase", urlSafe)
	if !strings.Contains(de.Reason, "URL-safe") {
		t.Errorf("Reason = %q, want it to name URL-safe base64", de.Reason)
	}
}

func TestUnknownHasher(t *testing.T) {
	bcryptD := firstVector(t, "bcrypt", "")
	cases := []struct {
		name        string
		wantHasher  string
		hintHolds   string
		mustNotHold string
	}{
		{"PBKDF2-SHA256", "PBKDF2-SHA256", "did you mean pbkdf2_sha256?", ""},
		{"argon2", "argon2", "argon2i or argon2id", ""},
		{"sha1", "sha1", "not among", ""},
		{"nonsense", "nonsense", "Clerk accepts", ""},
		{bcryptD, "", "columns swapped", bcryptD[7:]},
		{"", "", "", ""},
	}
	for _, c := range cases {
		de := digestError(t, c.name, "whatever")
		if de.Hasher != c.wantHasher {
			t.Errorf("unknown hasher %.12q: Hasher = %q, want %q", c.name, de.Hasher, c.wantHasher)
		}
		if !strings.Contains(de.Hint, c.hintHolds) {
			t.Errorf("unknown hasher %.12q: Hint = %q, want %q", c.name, de.Hint, c.hintHolds)
		}
		if c.mustNotHold != "" && strings.Contains(de.Error(), c.mustNotHold) {
			t.Errorf("unknown hasher error quotes the digest given as the name: %q", de.Error())
		}
	}
}

func TestEmptyDigest(t *testing.T) {
	for _, n := range Names() {
		de := digestError(t, n, "")
		if de.Reason != rEmpty {
			t.Errorf("%s: Reason = %q", n, de.Reason)
		}
	}
	if got := Detect(""); len(got) != 0 {
		t.Errorf("Detect(\"\") = %v", got)
	}
}

// ambiguousGroups are the hashers whose grammars overlap: a digest may fit
// all of a group. Any other digest fits exactly one hasher.
var ambiguousGroups = [][]string{
	{"pbkdf2_sha256_django", "pbkdf2_sha256"}, // Django salts of 12 letters and digits are also valid base64
}

func TestDetect(t *testing.T) {
	for i, v := range loadVectors(t) {
		got := Detect(v.Digest)
		if !slices.Contains(got, v.Hasher) {
			t.Errorf("%s/%d: Detect = %v, lacks its own hasher", v.Hasher, i, got)
			continue
		}
		if len(got) == 1 {
			continue
		}
		allowed := false
		for _, g := range ambiguousGroups {
			if slices.Equal(got, g) {
				allowed = true
			}
		}
		if !allowed {
			t.Errorf("%s/%d: Detect = %v, an ambiguity not in ambiguousGroups", v.Hasher, i, got)
		}
	}
}

func TestDetectRanksDjangoFirstForDjangoDigests(t *testing.T) {
	for _, v := range loadVectors(t) {
		if v.Hasher != "pbkdf2_sha256_django" {
			continue
		}
		if got := Detect(v.Digest); got[0] != "pbkdf2_sha256_django" {
			t.Errorf("Detect = %v, want pbkdf2_sha256_django first", got)
		}
	}
}

func TestDetectNonDigests(t *testing.T) {
	for _, d := range []string{"hunter2", "$2b$", "{SSHA}", "pbkdf2_sha256$", "$argon2id$v=19$", "null", "NULL", "-", "0"} {
		if got := Detect(d); len(got) != 0 {
			t.Errorf("Detect(%q) = %v, want none", d, got)
		}
	}
}

// formatLabels are digest fields that name a format, not a secret.
var formatLabels = []string{"cognito", "argon2", "argon2i", "argon2id", "argon2d", "awscognito", "bcrypt_sha256", "bcrypt_sha512", "scrypt", "pbkdf2", "sha256_symfony"}

// secretParts returns the parts of a digest that are secret-bearing: the
// whole digest and each field of 6 characters or more (salts, hashes, keys),
// less the fields that only name a format.
func secretParts(d string) []string {
	parts := []string{d}
	for _, f := range strings.FieldsFunc(d, func(r rune) bool { return r == '$' || r == '#' || r == ':' || r == ',' }) {
		f = strings.TrimSpace(f)
		if len(f) >= 6 && !Known(f) && !slices.Contains(formatLabels, f) {
			parts = append(parts, f)
		}
	}
	return parts
}

// TestErrorsNeverQuoteTheDigest runs every real digest, truncated and
// mutated, and under every wrong hasher, through CheckDigest and Verify, and
// checks no error text holds the digest or a salt or hash of it.
func TestErrorsNeverQuoteTheDigest(t *testing.T) {
	check := func(name, d string, err error) {
		if err == nil {
			return
		}
		msg := err.Error()
		for _, p := range secretParts(d) {
			if strings.Contains(msg, p) {
				t.Fatalf("error for %s quotes part of the digest: %q", name, msg)
			}
		}
	}
	n := 0
	for _, v := range loadVectors(t) {
		digests := []string{v.Digest, v.Digest[:len(v.Digest)-1], v.Digest[:len(v.Digest)/2], " " + v.Digest}
		for _, m := range mutations[v.Hasher] {
			if d, ok := m.apply(v.Digest); ok {
				digests = append(digests, d)
			}
		}
		for _, d := range digests {
			for _, name := range Names() {
				check(name, d, CheckDigest(name, d))
				n++
			}
			check("unknown", d, CheckDigest(d, d))
			check("unknown", d, CheckDigest("bcrypt2", d))
		}
	}
	if n < 1000 {
		t.Fatalf("only %d errors checked", n)
	}
}

func TestVerifyRefusesCostlyParameters(t *testing.T) {
	argon := firstVector(t, "argon2id", "argon2-cffi")
	argon = strings.Replace(argon, "m=256,", "m=4194304,", 1)
	werk := firstVector(t, "scrypt_werkzeug", "")
	werk = "scrypt:1048576:32:1" + werk[strings.IndexByte(werk, '$'):]
	for name, d := range map[string]string{"argon2id": argon, "scrypt_werkzeug": werk} {
		if err := CheckDigest(name, d); err != nil {
			t.Fatalf("%s: costly but valid digest rejected: %v", name, err)
		}
		if ok, err := Verify(name, d, "x"); ok || !errors.Is(err, ErrTooCostly) {
			t.Errorf("%s: Verify = %v, %v; want ErrTooCostly", name, ok, err)
		}
	}
}

func TestVerifyUnknownAndMalformed(t *testing.T) {
	if ok, err := Verify("sha1", "abc", "x"); ok || err == nil {
		t.Errorf("Verify(unknown hasher) = %v, %v", ok, err)
	}
	var de *DigestError
	if ok, err := Verify("bcrypt", "$2b$04$short", "x"); ok || !errors.As(err, &de) {
		t.Errorf("Verify(malformed) = %v, %v; want a *DigestError", ok, err)
	}
}
