package emulator

import (
	"encoding/base64"
	"regexp"
	"strconv"
	"strings"
)

// The emulator's own statement of the digest formats Clerk documents for
// each password_hasher, written from Clerk's documentation (the
// CreateUserParams reference of clerk.com/docs, the PasswordHasher schema
// of the spec and CLERK_API.md), not from package mapping/hashers: the
// validator and the emulator are two judges, and a test runs both over the
// same digests and names every case where they differ.
//
// Each hasher has its documented form and, where the documentation leaves
// a form open (its template and the software it names disagree, or it
// gives no layout at all), the open forms the emulator also accepts, each
// with the reason. Where Clerk's template names a field of a standard
// scheme (bcrypt's cost, phpass's rounds character, a PHC argon2 string),
// the scheme's own definition, which Clerk links, reads the field.

// digestForm is one accepted form of a digest.
type digestForm struct {
	re    *regexp.Regexp
	check func(m []string) bool // further checks on the submatches; nil for none
}

func (f digestForm) fits(d string) bool {
	m := f.re.FindStringSubmatch(d)
	return m != nil && (f.check == nil || f.check(m))
}

// openForm is a form Clerk's documentation leaves open, accepted with why.
type openForm struct {
	digestForm
	why string
}

// digestRule is one hasher's documented format.
type digestRule struct {
	doc        string // what Clerk documents, in its words
	documented []digestForm
	open       []openForm
}

// Building blocks of the patterns.
const (
	reHex       = `[0-9a-fA-F]`
	reHexBytes  = `(?:[0-9a-fA-F]{2})+`                                            // hex of a whole number of bytes
	reB64       = `(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?` // standard, padded
	reB64Raw    = `[A-Za-z0-9+/]+`                                                 // standard alphabet, no padding (rawB64 checks the length)
	reB64Any    = `[A-Za-z0-9+/]+={0,2}`                                           // padded or not (anyB64 checks it)
	reCrypt     = `[./0-9A-Za-z]`                                                  // bcrypt's and phpass's alphabet
	rePositive  = `0*[1-9][0-9]*`                                                  // a whole number of 1 or more
	reField     = `[^$]+`                                                          // a non-empty field between $s
	reBcryptStr = `\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$` + reCrypt + `{53}`
)

func digestPattern(re string, check func([]string) bool) digestForm {
	return digestForm{re: regexp.MustCompile(`^(?:` + re + `)$`), check: check}
}

func docs(forms ...digestForm) []digestForm { return forms }

func open(re, why string, check func([]string) bool) openForm {
	return openForm{digestForm: digestPattern(re, check), why: why}
}

// nonEmpty requires every submatch from index 1 to be non-empty.
func nonEmpty(m []string) bool {
	for _, s := range m[1:] {
		if s == "" {
			return false
		}
	}
	return true
}

// rawB64 reports whether s is non-empty unpadded standard base64 (PHC).
func rawB64(s string) bool {
	_, err := base64.RawStdEncoding.DecodeString(s)
	return s != "" && err == nil
}

// anyB64 reports whether s is non-empty standard base64, padded or not.
func anyB64(s string) bool {
	_, err := base64.StdEncoding.DecodeString(s)
	return s != "" && (err == nil || rawB64(s))
}

// allOf joins checks.
func allOf(checks ...func([]string) bool) func([]string) bool {
	return func(m []string) bool {
		for _, c := range checks {
			if !c(m) {
				return false
			}
		}
		return true
	}
}

// fields applies ok to the submatches at the given indexes.
func fields(ok func(string) bool, at ...int) func([]string) bool {
	return func(m []string) bool {
		for _, i := range at {
			if !ok(m[i]) {
				return false
			}
		}
		return true
	}
}

// phpassRounds: phpass reads the fourth character as log2 of the
// iteration count and refuses anything outside 7 to 30.
func phpassRounds(m []string) bool {
	n := strings.IndexByte("./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz", m[1][0])
	return n >= 7 && n <= 30
}

// argon2Params: RFC 9106 requires p ≥ 1, t ≥ 1 and m ≥ 8·p KiB.
func argon2Params(m []string) bool {
	mem, _ := strconv.Atoi(m[1])
	t, _ := strconv.Atoi(m[2])
	p, _ := strconv.Atoi(m[3])
	return p >= 1 && t >= 1 && mem >= 8*p
}

// ssha: {SSHA} holds a 20-byte SHA-1 digest and a salt of at least one byte.
func ssha(m []string) bool {
	b, err := base64.StdEncoding.DecodeString(m[1])
	return err == nil && len(b) > 20
}

// werkzeugN: scrypt's N is a power of two above 1.
func werkzeugN(m []string) bool {
	n, err := strconv.Atoi(m[1])
	return err == nil && n > 1 && n&(n-1) == 0
}

const (
	whyWerkzeugDollar = "Clerk's docs write scrypt_werkzeug as $<algorithm args>$<salt>$<hash> with a Base64 hash; " +
		"Werkzeug writes scrypt:<n>:<r>:<p>$<salt>$<hash hex>, without the leading $: the docs do not say which Clerk reads"
	whyArgon2Version = "Clerk's docs describe the PHC parts (variant, options, digest) without a version and show v=19 in their examples; " +
		"a PHC string without v= is argon2 version 1.0"
	whyHMACLayout = "Clerk documents no layout for hmac_sha256_utf16_b64 digests, only the hasher's name"
	whyPhpassH    = "Clerk's docs give phpass the $P$ prefix; phpass itself (openwall) reads $H$ (phpBB's prefix) the same way"
	whyMD5PhpassP = "Clerk documents no format for md5_phpass beyond its name (CLERK_API.md: phpass with $H$); $P$ is the same scheme"
	whyPasslibB64 = "Clerk's docs say base64 and not whether padded; passlib writes it unpadded"
	whySaltDollar = "Clerk's docs write salt$hash and do not say how a salt holding $ is split"
)

// digestRules is every hasher Clerk accepts and the digests it documents.
var digestRules = map[string]digestRule{
	"bcrypt": {doc: "$<algorithm version>$<cost>$<salt & hash>", documented: docs(digestPattern(reBcryptStr, nil))},
	"bcrypt_sha256_django": {doc: "bcrypt_sha256$$<algorithm version>$<cost>$<salt & hash>, as exported from Django",
		documented: docs(digestPattern(`bcrypt_sha256\$`+reBcryptStr, nil))},
	"bcrypt_peppered": {doc: "$<algorithm version>$<cost>$<salt & hash>$<pepper>",
		documented: docs(digestPattern(reBcryptStr+`\$(.+)`, nil))},
	"md5": {doc: "32 hex characters, like 5f4dcc3b5aa765d61d8327deb882cf99", documented: docs(digestPattern(reHex+`{32}`, nil))},
	"md5_salted": {doc: "salt$hash, the hash 32 hex characters",
		documented: docs(digestPattern(reField+`\$`+reHex+`{32}`, nil)),
		open:       []openForm{open(`.+\$.*\$`+reHex+`{32}`, whySaltDollar, nil)}},
	"sha256": {doc: "64 hex characters", documented: docs(digestPattern(reHex+`{64}`, nil))},
	"sha256_salted": {doc: "salt$hash, the hash 64 hex characters",
		documented: docs(digestPattern(reField+`\$`+reHex+`{64}`, nil)),
		open:       []openForm{open(`.+\$.*\$`+reHex+`{64}`, whySaltDollar, nil)}},
	"pbkdf2_sha1": {doc: "pbkdf2_sha1$<iterations>$<salt>$<hash-as-hex-string> or " +
		"pbkdf2_sha1$<iterations>$<salt-as-hex-string>$<hash-as-hex-string>$<key-length>; a salt that is not hex is used as raw bytes; " +
		"the key length is optional (default 32)",
		documented: docs(digestPattern(`pbkdf2_sha1\$`+rePositive+`\$`+reField+`\$`+reHexBytes, nil),
			digestPattern(`pbkdf2_sha1\$`+rePositive+`\$`+reField+`\$`+reHexBytes+`\$`+rePositive, nil))},
	"pbkdf2_sha256": {doc: "pbkdf2_sha256$<iterations>$<salt>$<hash>, salt and hash base64",
		documented: docs(digestPattern(`pbkdf2_sha256\$`+rePositive+`\$(`+reB64+`)\$(`+reB64+`)`, nonEmpty)),
		open:       []openForm{open(`pbkdf2_sha256\$`+rePositive+`\$(`+reB64Any+`)\$(`+reB64Any+`)`, whyPasslibB64, fields(anyB64, 1, 2))}},
	"pbkdf2_sha256_django": {doc: "pbkdf2_sha256$<iterations>$<salt>$<hash>, as exported from Django; the salt un-encoded, the hash base64",
		documented: docs(digestPattern(`pbkdf2_sha256\$`+rePositive+`\$`+reField+`\$(`+reB64+`)`, nonEmpty))},
	"pbkdf2_sha512": {doc: "pbkdf2_sha512$<iterations>$<salt>$<hash>, the salt an unencoded string literal, the hash hex",
		documented: docs(digestPattern(`pbkdf2_sha512\$`+rePositive+`\$`+reField+`\$`+reHexBytes, nil))},
	"pbkdf2_sha512_hex": {doc: "pbkdf2_sha512_hex$<iterations>$<salt>$<hash>, salt and hash hex",
		documented: docs(digestPattern(`pbkdf2_sha512_hex\$`+rePositive+`\$`+reHexBytes+`\$`+reHexBytes, nil))},
	"phpass": {doc: "$P$<rounds><salt><encoded-checksum>: one rounds character, 8 salt and 22 checksum characters of [./0-9A-Za-z]",
		documented: docs(digestPattern(`\$P\$(`+reCrypt+`)`+reCrypt+`{30}`, phpassRounds)),
		open:       []openForm{open(`\$H\$(`+reCrypt+`)`+reCrypt+`{30}`, whyPhpassH, phpassRounds)}},
	"md5_phpass": {doc: "phpass with the $H$ prefix (CLERK_API.md; Clerk's docs name it only)",
		documented: docs(digestPattern(`\$H\$(`+reCrypt+`)`+reCrypt+`{30}`, phpassRounds)),
		open:       []openForm{open(`\$P\$(`+reCrypt+`)`+reCrypt+`{30}`, whyMD5PhpassP, phpassRounds)}},
	"scrypt_firebase": {doc: "<hash>$<salt>$<signer key>$<salt separator>$<rounds>$<memory cost>, the first four base64",
		documented: docs(digestPattern(`(`+reB64+`)\$(`+reB64+`)\$(`+reB64+`)\$(`+reB64+`)\$`+rePositive+`\$`+rePositive, nonEmpty))},
	"scrypt_werkzeug": {doc: "$<algorithm args>$<salt>$<hash>, the hash Base64",
		documented: docs(digestPattern(`\$scrypt:([0-9]+):`+rePositive+`:`+rePositive+`\$`+reField+`\$(`+reB64Any+`)`, allOf(werkzeugN, fields(anyB64, 2)))),
		open:       []openForm{open(`scrypt:([0-9]+):`+rePositive+`:`+rePositive+`\$`+reField+`\$(`+reB64Any+`)`, whyWerkzeugDollar, allOf(werkzeugN, fields(anyB64, 2)))}},
	"argon2i": {doc: "$argon2i$v=19$m=<memory>,t=<iterations>,p=<parallelism>$<salt>$<digest>",
		documented: docs(digestPattern(`\$argon2i\$v=19\$m=([0-9]+),t=([0-9]+),p=([0-9]+)\$(`+reB64Raw+`)\$(`+reB64Raw+`)`, allOf(argon2Params, fields(rawB64, 4, 5)))),
		open:       []openForm{open(`\$argon2i\$m=([0-9]+),t=([0-9]+),p=([0-9]+)\$(`+reB64Raw+`)\$(`+reB64Raw+`)`, whyArgon2Version, allOf(argon2Params, fields(rawB64, 4, 5)))}},
	"argon2id": {doc: "$argon2id$v=19$m=<memory>,t=<iterations>,p=<parallelism>$<salt>$<digest>",
		documented: docs(digestPattern(`\$argon2id\$v=19\$m=([0-9]+),t=([0-9]+),p=([0-9]+)\$(`+reB64Raw+`)\$(`+reB64Raw+`)`, allOf(argon2Params, fields(rawB64, 4, 5)))),
		open:       []openForm{open(`\$argon2id\$m=([0-9]+),t=([0-9]+),p=([0-9]+)\$(`+reB64Raw+`)\$(`+reB64Raw+`)`, whyArgon2Version, allOf(argon2Params, fields(rawB64, 4, 5)))}},
	"sha512_symfony": {doc: "sha512_symfony$iterations$salt$hash: iterations above 0, the hash Base64",
		documented: docs(digestPattern(`sha512_symfony\$`+rePositive+`\$[^${}]*\$(`+reB64+`)`, nonEmpty))},
	"ldap_ssha": {doc: "{SSHA} and the base64 of the SHA-1 digest followed by the salt (CLERK_API.md; Clerk links OpenLDAP's FAQ)",
		documented: docs(digestPattern(`\{SSHA\}(`+reB64+`)`, ssha))},
	"awscognito": {doc: "awscognito#<userpoolid>#<clientid>#<identifier>",
		documented: docs(digestPattern(`awscognito#[^#]+#[^#]+#.+`, nil))},
	"hmac_sha256_utf16_b64": {doc: "no layout documented",
		open: []openForm{open(`.+`, whyHMACLayout, nil)}},
}

// digestVerdict is what the emulator's judge says of a digest.
type digestVerdict int

const (
	digestRefused digestVerdict = iota
	digestDocumented
	digestOpen // fits a form Clerk's documentation leaves open
)

// judgeDigest says whether Clerk, as documented, takes digest for hasher,
// and for an open form why it is open.
func judgeDigest(hasher, digest string) (digestVerdict, string) {
	rule, ok := digestRules[hasher]
	if !ok {
		return digestRefused, ""
	}
	for _, f := range rule.documented {
		if f.fits(digest) {
			return digestDocumented, ""
		}
	}
	for _, f := range rule.open {
		if f.fits(digest) {
			return digestOpen, f.why
		}
	}
	return digestRefused, ""
}

// knownHasher reports whether Clerk accepts name as a password_hasher.
func knownHasher(name string) bool {
	_, ok := digestRules[name]
	return ok
}
