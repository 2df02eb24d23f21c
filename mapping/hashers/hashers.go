// Package hashers knows every password hasher Clerk accepts for imported
// password digests (CreateUser's password_hasher and password_digest): the
// allow-list, the digest grammar of each hasher, hints when a digest fits a
// different hasher than the one named, detection, and verifiers that check a
// known password against a digest (a canary for a hasher mapping before an
// import).
//
// The grammar is the one in CLERK_API.md, made strict enough that a digest cut
// short, re-encoded or from another hasher fails before it reaches Clerk
// (which refuses it with form_password_digest_invalid_code). Where Clerk's
// table leaves a choice open, FORMATS.md beside this file records the choice.
// Judge, the verdict validate gives, refuses only what Clerk's documented
// format refuses: a digest that fits it but not the strict grammar is a
// warning (documented.go).
//
// Nothing in this package puts a digest, or any part of one, into an error
// message.
package hashers

import (
	"sort"
	"strings"
)

// hasher describes one Clerk password hasher.
type hasher struct {
	name   string
	check  func(digest string) string // "" when the digest fits, else a reason
	verify func(digest, password string) (bool, error)
}

// detectOrder lists the hashers in the order Detect reports them: the most
// specific grammars first, so that where a digest fits several the likelier
// one leads (a Django pbkdf2_sha256 string before the generic base64 form).
var detectOrder = []*hasher{
	{"argon2id", checkArgon2id, verifyArgon2id},
	{"argon2i", checkArgon2i, verifyArgon2i},
	{"bcrypt", checkBcrypt, verifyBcrypt},
	{"bcrypt_sha256_django", checkBcryptSHA256Django, verifyBcryptSHA256Django},
	{"bcrypt_peppered", checkBcryptPeppered, verifyBcryptPeppered},
	{"phpass", checkPhpass, verifyPhpass},
	{"md5_phpass", checkMD5Phpass, verifyPhpass},
	{"pbkdf2_sha256_django", checkPBKDF2SHA256Django, verifyPBKDF2SHA256Django},
	{"pbkdf2_sha256", checkPBKDF2SHA256, verifyPBKDF2SHA256},
	{"pbkdf2_sha1", checkPBKDF2SHA1, verifyPBKDF2SHA1},
	{"pbkdf2_sha512_hex", checkPBKDF2SHA512Hex, verifyPBKDF2SHA512Hex},
	{"pbkdf2_sha512", checkPBKDF2SHA512, verifyPBKDF2SHA512},
	{"scrypt_werkzeug", checkScryptWerkzeug, verifyScryptWerkzeug},
	{"scrypt_firebase", checkScryptFirebase, verifyScryptFirebase},
	{"sha512_symfony", checkSHA512Symfony, verifySHA512Symfony},
	{"ldap_ssha", checkLDAPSSHA, verifyLDAPSSHA},
	{"hmac_sha256_utf16_b64", checkHMACSHA256UTF16B64, verifyHMACSHA256UTF16B64},
	{"awscognito", checkAWSCognito, verifyAWSCognito},
	{"md5", checkMD5, verifyMD5},
	{"sha256", checkSHA256, verifySHA256},
	{"md5_salted", checkMD5Salted, verifyMD5Salted},
	{"sha256_salted", checkSHA256Salted, verifySHA256Salted},
}

var (
	byName = map[string]*hasher{}
	names  []string
)

func init() {
	for _, h := range detectOrder {
		byName[h.name] = h
		names = append(names, h.name)
	}
	sort.Strings(names)
}

// Names returns the password hashers Clerk accepts, sorted. The caller owns
// the returned slice.
func Names() []string {
	return append([]string(nil), names...)
}

// Known reports whether Clerk accepts name as a password_hasher.
func Known(name string) bool {
	_, ok := byName[name]
	return ok
}

// DigestError says why a password digest does not fit a hasher's grammar. It
// never holds the digest or any part of it.
type DigestError struct {
	Hasher string // the hasher named (as given, when it is a plausible name)
	Reason string // what is wrong, for people
	Hint   string // a better fit, e.g. "looks like a bcrypt digest"; may be empty
	// Open, set only by Judge's warnings, says why the digest is sent
	// anyway: Clerk's documentation leaves its form open.
	Open string
}

// Error implements error. It holds no part of the digest.
func (e *DigestError) Error() string {
	var b strings.Builder
	if e.Hasher != "" {
		b.WriteString("password digest does not fit hasher ")
		b.WriteString(e.Hasher)
	} else {
		b.WriteString("password digest rejected")
	}
	b.WriteString(": ")
	b.WriteString(e.Reason)
	if e.Hint != "" {
		b.WriteString(" (")
		b.WriteString(e.Hint)
		b.WriteString(")")
	}
	if e.Open != "" {
		b.WriteString("; ")
		b.WriteString(e.Open)
	}
	return b.String()
}

// CheckDigest reports whether digest fits the documented grammar of hasher
// name: nil when it does, else a *DigestError whose Hint names a better fit
// where one is known. It does not allocate for a digest that fits.
func CheckDigest(name, digest string) error {
	h, ok := byName[name]
	if !ok {
		return unknownHasherError(name)
	}
	if digest == "" {
		return &DigestError{Hasher: name, Reason: rEmpty}
	}
	reason := h.check(digest)
	if reason == "" {
		return nil
	}
	return &DigestError{Hasher: name, Reason: reason, Hint: hintFor(name, digest)}
}

// Detect returns the hashers whose grammar digest fits, best first. It is for
// opt-in detection and for hints: several hashers can share a shape (a Django
// pbkdf2_sha256 string can also be read as the generic base64 form), so the
// first answer is a guess where more than one is returned.
func Detect(digest string) []string {
	var out []string
	if digest == "" {
		return out
	}
	for _, h := range detectOrder {
		if h.check(digest) == "" {
			out = append(out, h.name)
		}
	}
	return out
}

// detectFirst returns the best hasher digest fits other than except, or "".
func detectFirst(digest, except string) string {
	for _, h := range detectOrder {
		if h.name != except && h.check(digest) == "" {
			return h.name
		}
	}
	return ""
}

// unknownHasherError describes a hasher name Clerk does not accept. The name
// is echoed only when it looks like a name: a swapped column could put a
// digest there.
func unknownHasherError(name string) *DigestError {
	e := &DigestError{Reason: "unknown password hasher; Clerk accepts: " + strings.Join(names, ", ")}
	if plausibleName(name) {
		e.Hasher = name
		e.Reason = "unknown password hasher"
		norm := strings.ToLower(strings.ReplaceAll(name, "-", "_"))
		if Known(norm) {
			e.Hint = "did you mean " + norm + "?"
		} else if alias, ok := hasherAliases[norm]; ok {
			e.Hint = alias
		} else {
			e.Hint = "Clerk accepts: " + strings.Join(names, ", ")
		}
	} else if len(Detect(name)) > 0 {
		e.Hint = "the hasher field holds something shaped like a password digest: are the columns swapped?"
	}
	return e
}

// plausibleName reports whether s reads like a hasher name (at most 32
// characters of letters, digits, '_' and '-', in words of at most 12) and is
// not shaped like a digest, so that echoing it cannot leak a secret put in
// the wrong column.
func plausibleName(s string) bool {
	if len(s) == 0 || len(s) > 32 || looksHex(s) || len(Detect(s)) > 0 {
		return false
	}
	word := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || c == '-':
			word = 0
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9':
			if word++; word > 12 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

// hasherAliases maps names people use for a hasher Clerk calls differently.
var hasherAliases = map[string]string{
	"argon2":          "name the variant: argon2i or argon2id",
	"bcrypt_sha256":   "Django's BCryptSHA256PasswordHasher is bcrypt_sha256_django",
	"pbkdf2":          "name the PRF: pbkdf2_sha1, pbkdf2_sha256, pbkdf2_sha256_django, pbkdf2_sha512 or pbkdf2_sha512_hex",
	"django":          "Django's default is pbkdf2_sha256_django",
	"firebase":        "Firebase's modified scrypt is scrypt_firebase",
	"scrypt":          "name the variant: scrypt_firebase or scrypt_werkzeug",
	"werkzeug":        "Werkzeug's scrypt is scrypt_werkzeug",
	"ssha":            "LDAP {SSHA} is ldap_ssha",
	"cognito":         "awscognito",
	"wordpress":       "WordPress before 6.8 writes phpass ($P$) digests",
	"phpbb":           "phpBB3 writes md5_phpass ($H$) digests",
	"symfony":         "Symfony's legacy SHA-512 MessageDigest hasher is sha512_symfony",
	"devise":          "Devise with a pepper is bcrypt_peppered, without one bcrypt",
	"sha256_hex":      "sha256",
	"md5_hex":         "md5",
	"hmac_sha256":     "hmac_sha256_utf16_b64",
	"sha1":            "unsalted SHA-1 is not among Clerk's hashers",
	"sha512":          "plain SHA-512 is not among Clerk's hashers; Symfony's legacy hasher is sha512_symfony",
	"pbkdf2_sha1_hex": "pbkdf2_sha1",
}
