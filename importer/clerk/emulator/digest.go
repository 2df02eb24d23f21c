package emulator

import (
	"errors"
	"regexp"
)

// knownHasher and checkDigest decide the password_hasher allow-list and
// digest formats (CLERK_API.md).
var (
	knownHasher = fallbackKnown
	checkDigest = fallbackCheckDigest
)

// fallbackDigests are the digest grammars of CLERK_API.md, one per hasher.
var fallbackDigests = map[string]*regexp.Regexp{
	"argon2i":               regexp.MustCompile(`^\$argon2i\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$`),
	"argon2id":              regexp.MustCompile(`^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+={0,2}\$[A-Za-z0-9+/]+={0,2}$`),
	"awscognito":            regexp.MustCompile(`^awscognito#[^#]+#[^#]+#[^#]+$`),
	"bcrypt":                regexp.MustCompile(`^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$`),
	"bcrypt_peppered":       regexp.MustCompile(`^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}\$.+$`),
	"bcrypt_sha256_django":  regexp.MustCompile(`^bcrypt_sha256\$\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$`),
	"hmac_sha256_utf16_b64": regexp.MustCompile(`^[A-Za-z0-9+/]{43}=$`),
	"ldap_ssha":             regexp.MustCompile(`^\{SSHA\}[A-Za-z0-9+/]{28,}={0,2}$`),
	"md5":                   regexp.MustCompile(`^[0-9a-fA-F]{32}$`),
	"md5_phpass":            regexp.MustCompile(`^\$H\$[./0-9A-Za-z]{31}$`),
	"md5_salted":            regexp.MustCompile(`^[^$]+\$[0-9a-fA-F]{32}$`),
	"pbkdf2_sha1":           regexp.MustCompile(`^pbkdf2_sha1\$\d+\$[^$]+\$[0-9a-fA-F]+(\$\d+)?$`),
	"pbkdf2_sha256":         regexp.MustCompile(`^pbkdf2_sha256\$\d+\$[A-Za-z0-9+/._-]+={0,2}\$[A-Za-z0-9+/_-]+={0,2}$`),
	"pbkdf2_sha256_django":  regexp.MustCompile(`^pbkdf2_sha256\$\d+\$[^$]+\$[A-Za-z0-9+/]+={0,2}$`),
	"pbkdf2_sha512":         regexp.MustCompile(`^pbkdf2_sha512\$\d+\$[^$]+\$[0-9a-fA-F]+$`),
	"pbkdf2_sha512_hex":     regexp.MustCompile(`^pbkdf2_sha512_hex\$\d+\$[0-9a-fA-F]+\$[0-9a-fA-F]+$`),
	"phpass":                regexp.MustCompile(`^\$P\$[./0-9A-Za-z]{31}$`),
	"scrypt_firebase":       regexp.MustCompile(`^[A-Za-z0-9+/_-]+={0,2}\$[A-Za-z0-9+/_-]+={0,2}\$[A-Za-z0-9+/_-]+={0,2}\$[A-Za-z0-9+/_-]+={0,2}\$\d+\$\d+$`),
	"scrypt_werkzeug":       regexp.MustCompile(`^scrypt:\d+:\d+:\d+\$[^$]+\$[0-9a-fA-F]+$`),
	"sha256":                regexp.MustCompile(`^[0-9a-fA-F]{64}$`),
	"sha256_salted":         regexp.MustCompile(`^[^$]+\$[0-9a-fA-F]{64}$`),
	"sha512_symfony":        regexp.MustCompile(`^sha512_symfony\$\d+\$[^$]+\$[A-Za-z0-9+/]+={0,2}$`),
}

func fallbackKnown(name string) bool { _, ok := fallbackDigests[name]; return ok }

var errDigestFormat = errors.New("digest does not fit the hasher's format")

func fallbackCheckDigest(name, digest string) error {
	re, ok := fallbackDigests[name]
	if !ok || !re.MatchString(digest) {
		return errDigestFormat
	}
	return nil
}
