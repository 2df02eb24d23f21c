package hashers

// Digest grammars, one checker per hasher. A checker returns "" when the
// digest fits, else a reason for people. Reasons are constant text: they never
// quote the digest, so they are safe in logs and reports.

// Ranges that count as sane. A digest outside them is far more likely a
// mangled column than a real hash.
const (
	minPBKDF2Iter   = 1
	maxPBKDF2Iter   = 10_000_000
	minSymfonyIter  = 1
	maxSymfonyIter  = 1_000_000
	maxArgon2Memory = 4 * 1024 * 1024 // KiB: 4 GiB
	maxArgon2Time   = 1000
	maxArgon2Par    = 255 // x/crypto/argon2 takes the lanes as a uint8
	maxTextSalt     = 1024
	maxPepper       = 1024
)

const (
	rEmpty = "the digest is empty"

	rBcryptPrefix = "a bcrypt digest starts with $2a$, $2b$ or $2y$"
	rBcryptCost   = "the bcrypt cost must be two digits from 04 to 31, followed by $"
	rBcryptLength = "a bcrypt digest is exactly 60 characters: prefix, cost, $ and 53 characters of salt and hash"
	rBcryptChars  = "the bcrypt salt and hash use only the alphabet ./0-9A-Za-z"

	rDjangoBcryptPrefix = "a Django bcrypt_sha256 digest starts with bcrypt_sha256$ followed by a bcrypt digest"
	rPepperMissing      = "a bcrypt_peppered digest is a bcrypt digest followed by $ and the pepper"
	rPepperChars        = "the pepper must be printable characters without spaces"

	rMD5Hex         = "an md5 digest is exactly 32 hex characters"
	rSHA256Hex      = "a sha256 digest is exactly 64 hex characters"
	rSaltedShape    = "a salted digest is <salt>$<hash hex>"
	rSaltText       = "the salt must be printable characters without spaces or $"
	rSaltedMD5Hex   = "the md5_salted hash must be exactly 32 hex characters"
	rSaltedSHA256Hx = "the sha256_salted hash must be exactly 64 hex characters"

	rPBKDF2Parts     = "the digest must have the parts <prefix>$<iterations>$<salt>$<hash>"
	rPBKDF2SHA1Parts = "a pbkdf2_sha1 digest is pbkdf2_sha1$<iterations>$<salt>$<hash hex> or pbkdf2_sha1$<iterations>$<salt hex>$<hash hex>$<key length>"
	rIterations      = "the iteration count must be a whole number from 1 to 10000000, without leading zeros"
	rSaltB64         = "the salt must be standard base64 with padding"
	rHashB64SHA256   = "the hash must be the standard base64 (with padding) of 32 bytes: 44 characters"
	rSaltB64Hex      = "the salt looks hex-encoded; it must be standard base64"
	rSaltDjango      = "a Django salt is letters and digits only"
	rHashHexSHA1     = "the hash must be 40 hex characters (20 bytes, PBKDF2-SHA1's own length) or 64 (32 bytes, Clerk's default key length)"
	rHashHexSHA512   = "the hash must be 128 hex characters (64 bytes of PBKDF2-SHA512)"
	rSaltHex         = "the salt must be hex (an even number of hex digits)"
	rHashHex         = "the hash must be hex (an even number of hex digits)"
	rKeyLength       = "the key length must be a number from 8 to 128 and equal the hash's length in bytes"

	rPhpassPrefix   = "a phpass digest starts with $P$"
	rMD5PhpassPfx   = "an md5_phpass digest starts with $H$"
	rPhpassLength   = "a phpass digest is exactly 34 characters"
	rPhpassRounds   = "the phpass rounds character must stand for 7 to 30 (one of 5-9, A-S)"
	rPhpassAlphabet = "phpass salt and hash use only the alphabet ./0-9A-Za-z"

	rFirebaseParts   = "a scrypt_firebase digest has 6 parts: <hash>$<salt>$<signer key>$<salt separator>$<rounds>$<mem cost>"
	rFirebaseB64     = "the hash, salt, signer key and salt separator must be standard base64 with padding"
	rFirebaseURLB64  = "URL-safe base64 (- or _) found: convert the hash, salt, signer key and salt separator to standard base64"
	rFirebaseHash    = "the hash must decode to as many bytes as the signer key (64 bytes for Firebase)"
	rFirebaseSigner  = "the signer key must decode to 16 to 128 bytes"
	rFirebaseSalt    = "the salt must decode to at least 1 byte"
	rFirebaseSaltHex = "the salt looks hex-encoded; it must be standard base64"
	rFirebaseRounds  = "rounds must be a number from 1 to 8"
	rFirebaseMem     = "mem cost must be a number from 1 to 14"

	rWerkzeugPrefix = "a Werkzeug scrypt digest starts with scrypt:<n>:<r>:<p>$"
	rWerkzeugParams = "the scrypt parameters must be n a power of two from 2 to 1048576, r from 1 to 32 and p from 1 to 16"
	rWerkzeugParts  = "a Werkzeug scrypt digest is scrypt:<n>:<r>:<p>$<salt>$<hash hex>"
	rWerkzeugSalt   = "a Werkzeug salt is 1 to 64 letters and digits"
	rWerkzeugHash   = "the hash must be 128 hex characters (64 bytes of scrypt)"

	rArgon2iPrefix  = "an argon2i digest starts with $argon2i$"
	rArgon2idPrefix = "an argon2id digest starts with $argon2id$"
	rArgon2Version  = "the argon2 version must be v=19"
	rArgon2Params   = "the argon2 parameters must read m=<memory KiB>,t=<passes>,p=<lanes>"
	rArgon2Ranges   = "argon2 parameters out of range: p from 1 to 255, t from 1 to 1000, m from 8×p to 4194304 KiB"
	rArgon2Parts    = "a PHC argon2 string is $argon2…$v=19$m=…,t=…,p=…$<salt>$<hash>"
	rArgon2Salt     = "the argon2 salt must be unpadded standard base64 of 8 to 64 bytes"
	rArgon2Hash     = "the argon2 hash must be unpadded standard base64 of 16, 32 or 64 bytes"

	rSymfonyParts = "a sha512_symfony digest is sha512_symfony$<iterations>$<salt>$<hash base64>"
	rSymfonyIter  = "the iteration count must be a whole number from 1 to 1000000, without leading zeros"
	rSymfonySalt  = "a Symfony salt must be printable characters without spaces, $, { or }"
	rSymfonyHash  = "the hash must be the standard base64 (with padding) of 64 bytes: 88 characters"

	rSSHAPrefix = "an ldap_ssha digest starts with {SSHA}"
	rSSHAB64    = "after {SSHA} comes standard base64 with padding"
	rSSHAHex    = "the payload after {SSHA} looks hex-encoded; it must be base64"
	rSSHALength = "{SSHA} must hold a 20-byte SHA-1 digest and a salt of 4 to 64 bytes"

	rCognitoPrefix = "an awscognito digest is awscognito#<user pool id>#<client id>#<identifier>"
	rCognitoPool   = "the user pool id must be <region>_<id>: a region such as us-east-1, an underscore, letters and digits"
	rCognitoClient = "the app client id must be 1 to 128 letters, digits, _ or +"
	rCognitoIdent  = "the identifier must be 1 to 256 printable characters without spaces"

	rHMACParts = "an hmac_sha256_utf16_b64 digest is <key base64>$<hash base64>"
	rHMACKey   = "the HMAC key must be non-empty standard base64 with padding"
	rHMACHash  = "the hash must be the standard base64 (with padding) of 32 bytes: 44 characters"
)

// looksHex reports whether s, read as base64, is far likelier hex: at least
// 16 characters, all hex digits (random base64 of that length is all hex
// digits with a chance below 1 in 25 million).
func looksHex(s string) bool {
	return len(s) >= 16 && allOf(s, clsHex)
}

func checkBcrypt(d string) string {
	if len(d) < 4 || d[0] != '$' || d[1] != '2' || (d[2] != 'a' && d[2] != 'b' && d[2] != 'y') || d[3] != '$' {
		return rBcryptPrefix
	}
	if len(d) < 7 || d[6] != '$' || d[4] < '0' || d[4] > '3' || d[5] < '0' || d[5] > '9' {
		return rBcryptCost
	}
	if cost := int(d[4]-'0')*10 + int(d[5]-'0'); cost < 4 || cost > 31 {
		return rBcryptCost
	}
	if len(d) != 60 {
		return rBcryptLength
	}
	if !allOf(d[7:], clsCrypt) {
		return rBcryptChars
	}
	return ""
}

const djangoBcryptPrefix = "bcrypt_sha256$"

func checkBcryptSHA256Django(d string) string {
	if !hasPrefix(d, djangoBcryptPrefix) {
		return rDjangoBcryptPrefix
	}
	return checkBcrypt(d[len(djangoBcryptPrefix):])
}

func checkBcryptPeppered(d string) string {
	if len(d) <= 60 {
		if r := checkBcrypt(d); r != "" && r != rBcryptLength {
			return r
		}
		return rPepperMissing
	}
	if r := checkBcrypt(d[:60]); r != "" {
		return r
	}
	if d[60] != '$' {
		return rBcryptLength
	}
	if p := d[61:]; len(p) < 1 || len(p) > maxPepper || !allOf(p, clsPrint) {
		return rPepperChars
	}
	return ""
}

func checkMD5(d string) string {
	if !isHexLen(d, 32) {
		return rMD5Hex
	}
	return ""
}

func checkSHA256(d string) string {
	if !isHexLen(d, 64) {
		return rSHA256Hex
	}
	return ""
}

func checkSalted(d string, hexLen int, hashReason string) string {
	if count(d, '$') != 1 {
		return rSaltedShape
	}
	salt, hash, _ := cut(d, '$')
	if !isTextSalt(salt, 1, maxTextSalt) {
		return rSaltText
	}
	if !isHexLen(hash, hexLen) {
		return hashReason
	}
	return ""
}

func checkMD5Salted(d string) string    { return checkSalted(d, 32, rSaltedMD5Hex) }
func checkSHA256Salted(d string) string { return checkSalted(d, 64, rSaltedSHA256Hx) }

// pbkdf2Fields splits <prefix>$<iterations>$<rest> and checks the iterations.
func pbkdf2Fields(d, prefix, prefixReason string) (rest string, reason string) {
	if !hasPrefix(d, prefix) {
		return "", prefixReason
	}
	iter, rest, ok := cut(d[len(prefix):], '$')
	if !ok {
		return "", rPBKDF2Parts
	}
	if n := parseUint(iter); n < minPBKDF2Iter || n > maxPBKDF2Iter {
		return "", rIterations
	}
	return rest, ""
}

// saltHash splits <salt>$<hash> where neither holds a '$'.
func saltHash(rest string) (salt, hash string, ok bool) {
	if count(rest, '$') != 1 {
		return "", "", false
	}
	salt, hash, _ = cut(rest, '$')
	return salt, hash, true
}

func checkPBKDF2SHA1(d string) string {
	rest, r := pbkdf2Fields(d, "pbkdf2_sha1$", "the digest must start with pbkdf2_sha1$")
	if r != "" {
		return r
	}
	switch count(rest, '$') {
	case 1: // <salt>$<hash hex>
		salt, hash, _ := cut(rest, '$')
		if !isTextSalt(salt, 1, maxTextSalt) {
			return rSaltText
		}
		if !isHexLen(hash, 40) && !isHexLen(hash, 64) {
			return rHashHexSHA1
		}
		return ""
	case 2: // <salt hex, or text used as raw bytes>$<hash hex>$<key length>
		salt, rest, _ := cut(rest, '$')
		hash, keyLen, _ := cut(rest, '$')
		if !isHex(salt) && !isTextSalt(salt, 1, maxTextSalt) {
			return rSaltText
		}
		if !isHex(hash) {
			return rHashHex
		}
		if n := parseUint(keyLen); n < 8 || n > 128 || n*2 != len(hash) {
			return rKeyLength
		}
		return ""
	}
	return rPBKDF2SHA1Parts
}

func checkPBKDF2SHA256(d string) string {
	rest, r := pbkdf2Fields(d, "pbkdf2_sha256$", "the digest must start with pbkdf2_sha256$")
	if r != "" {
		return r
	}
	salt, hash, ok := saltHash(rest)
	if !ok {
		return rPBKDF2Parts
	}
	if n := stdB64Len(salt); n < 1 {
		return rSaltB64
	}
	if looksHex(salt) {
		return rSaltB64Hex
	}
	if stdB64Len(hash) != 32 {
		return rHashB64SHA256
	}
	return ""
}

func checkPBKDF2SHA256Django(d string) string {
	rest, r := pbkdf2Fields(d, "pbkdf2_sha256$", "the digest must start with pbkdf2_sha256$")
	if r != "" {
		return r
	}
	salt, hash, ok := saltHash(rest)
	if !ok {
		return rPBKDF2Parts
	}
	if !isAlnum(salt, 1, 128) {
		return rSaltDjango
	}
	if stdB64Len(hash) != 32 {
		return rHashB64SHA256
	}
	return ""
}

func checkPBKDF2SHA512(d string) string {
	rest, r := pbkdf2Fields(d, "pbkdf2_sha512$", "the digest must start with pbkdf2_sha512$")
	if r != "" {
		return r
	}
	salt, hash, ok := saltHash(rest)
	if !ok {
		return rPBKDF2Parts
	}
	if !isTextSalt(salt, 1, maxTextSalt) {
		return rSaltText
	}
	if !isHexLen(hash, 128) {
		return rHashHexSHA512
	}
	return ""
}

func checkPBKDF2SHA512Hex(d string) string {
	rest, r := pbkdf2Fields(d, "pbkdf2_sha512_hex$", "the digest must start with pbkdf2_sha512_hex$")
	if r != "" {
		return r
	}
	salt, hash, ok := saltHash(rest)
	if !ok {
		return rPBKDF2Parts
	}
	if !isHex(salt) {
		return rSaltHex
	}
	if !isHexLen(hash, 128) {
		return rHashHexSHA512
	}
	return ""
}

// phpassRounds returns log2 of the iteration count a phpass rounds character
// stands for, or -1.
func phpassRounds(c byte) int {
	for i := 0; i < len(itoa64); i++ {
		if itoa64[i] == c {
			return i
		}
	}
	return -1
}

func checkPhpassWith(d, prefix, prefixReason string) string {
	if !hasPrefix(d, prefix) {
		return prefixReason
	}
	if len(d) != 34 {
		return rPhpassLength
	}
	if n := phpassRounds(d[3]); n < 7 || n > 30 {
		return rPhpassRounds
	}
	if !allOf(d[4:], clsCrypt) {
		return rPhpassAlphabet
	}
	return ""
}

func checkPhpass(d string) string    { return checkPhpassWith(d, "$P$", rPhpassPrefix) }
func checkMD5Phpass(d string) string { return checkPhpassWith(d, "$H$", rMD5PhpassPfx) }

// firebaseParts splits a scrypt_firebase digest into its 6 parts.
func firebaseParts(d string) (p [6]string, ok bool) {
	if count(d, '$') != 5 {
		return p, false
	}
	rest := d
	for i := 0; i < 5; i++ {
		p[i], rest, _ = cut(rest, '$')
	}
	p[5] = rest
	return p, true
}

func checkScryptFirebase(d string) string {
	p, ok := firebaseParts(d)
	if !ok {
		return rFirebaseParts
	}
	hash, salt, signer, sep := stdB64Len(p[0]), stdB64Len(p[1]), stdB64Len(p[2]), stdB64Len(p[3])
	if hash < 0 || salt < 0 || signer < 0 || sep < 0 {
		for i := 0; i < 4; i++ {
			if anyOf(p[i], clsB64URL) {
				return rFirebaseURLB64
			}
		}
		return rFirebaseB64
	}
	if signer < 16 || signer > 128 {
		return rFirebaseSigner
	}
	if hash != signer {
		return rFirebaseHash
	}
	if salt < 1 {
		return rFirebaseSalt
	}
	if looksHex(p[1]) {
		return rFirebaseSaltHex
	}
	if n := parseUint(p[4]); n < 1 || n > 8 {
		return rFirebaseRounds
	}
	if n := parseUint(p[5]); n < 1 || n > 14 {
		return rFirebaseMem
	}
	return ""
}

// werkzeugParams parses "scrypt:<n>:<r>:<p>" and returns n, r, p or ok=false.
func werkzeugParams(s string) (n, r, p int, ok bool) {
	if !hasPrefix(s, "scrypt:") {
		return 0, 0, 0, false
	}
	ns, rest, ok1 := cut(s[len("scrypt:"):], ':')
	rs, ps, ok2 := cut(rest, ':')
	if !ok1 || !ok2 {
		return 0, 0, 0, false
	}
	return parseUint(ns), parseUint(rs), parseUint(ps), true
}

func checkScryptWerkzeug(d string) string {
	if !hasPrefix(d, "scrypt:") {
		return rWerkzeugPrefix
	}
	if count(d, '$') != 2 {
		return rWerkzeugParts
	}
	method, rest, _ := cut(d, '$')
	salt, hash, _ := cut(rest, '$')
	n, r, p, ok := werkzeugParams(method)
	if !ok {
		return rWerkzeugPrefix
	}
	if n < 2 || n > 1<<20 || n&(n-1) != 0 || r < 1 || r > 32 || p < 1 || p > 16 {
		return rWerkzeugParams
	}
	if !isAlnum(salt, 1, 64) {
		return rWerkzeugSalt
	}
	if !isHexLen(hash, 128) {
		return rWerkzeugHash
	}
	return ""
}

// argon2Params holds the parsed fields of a PHC argon2 string.
type argon2Params struct {
	m, t, p    int
	salt, hash string
}

// parseArgon2 parses "$<variant>$v=19$m=…,t=…,p=…$<salt>$<hash>" after the
// variant prefix has been checked; rest starts at "v=".
func parseArgon2(rest string) (a argon2Params, reason string) {
	ver, rest, ok := cut(rest, '$')
	if !ok {
		return a, rArgon2Parts
	}
	if ver != "v=19" {
		return a, rArgon2Version
	}
	params, rest, ok := cut(rest, '$')
	if !ok {
		return a, rArgon2Parts
	}
	ms, rest2, ok1 := cut(params, ',')
	ts, ps, ok2 := cut(rest2, ',')
	if !ok1 || !ok2 || !hasPrefix(ms, "m=") || !hasPrefix(ts, "t=") || !hasPrefix(ps, "p=") {
		return a, rArgon2Params
	}
	a.m, a.t, a.p = parseUint(ms[2:]), parseUint(ts[2:]), parseUint(ps[2:])
	if a.m < 0 || a.t < 0 || a.p < 0 {
		return a, rArgon2Params
	}
	if a.p < 1 || a.p > maxArgon2Par || a.t < 1 || a.t > maxArgon2Time || a.m < 8*a.p || a.m > maxArgon2Memory {
		return a, rArgon2Ranges
	}
	a.salt, a.hash, ok = cut(rest, '$')
	if !ok || count(a.hash, '$') != 0 {
		return a, rArgon2Parts
	}
	if n := rawB64Len(a.salt); n < 8 || n > 64 {
		return a, rArgon2Salt
	}
	if n := rawB64Len(a.hash); n != 16 && n != 32 && n != 64 {
		return a, rArgon2Hash
	}
	return a, ""
}

func checkArgon2With(d, prefix, prefixReason string) string {
	if !hasPrefix(d, prefix) {
		return prefixReason
	}
	_, r := parseArgon2(d[len(prefix):])
	return r
}

func checkArgon2i(d string) string  { return checkArgon2With(d, "$argon2i$", rArgon2iPrefix) }
func checkArgon2id(d string) string { return checkArgon2With(d, "$argon2id$", rArgon2idPrefix) }

func checkSHA512Symfony(d string) string {
	const prefix = "sha512_symfony$"
	if !hasPrefix(d, prefix) || count(d, '$') != 3 {
		return rSymfonyParts
	}
	iter, rest, _ := cut(d[len(prefix):], '$')
	salt, hash, _ := cut(rest, '$')
	if n := parseUint(iter); n < minSymfonyIter || n > maxSymfonyIter {
		return rSymfonyIter
	}
	if len(salt) > maxTextSalt || !allOf(salt, clsText) || count(salt, '{') != 0 || count(salt, '}') != 0 {
		return rSymfonySalt
	}
	if stdB64Len(hash) != 64 {
		return rSymfonyHash
	}
	return ""
}

func checkLDAPSSHA(d string) string {
	const prefix = "{SSHA}"
	if !hasPrefix(d, prefix) {
		return rSSHAPrefix
	}
	n := stdB64Len(d[len(prefix):])
	if n < 0 {
		return rSSHAB64
	}
	if looksHex(d[len(prefix):]) {
		return rSSHAHex
	}
	if n < 20+4 || n > 20+64 {
		return rSSHALength
	}
	return ""
}

func checkAWSCognito(d string) string {
	const prefix = "awscognito#"
	if !hasPrefix(d, prefix) {
		return rCognitoPrefix
	}
	pool, rest, ok1 := cut(d[len(prefix):], '#')
	client, ident, ok2 := cut(rest, '#')
	if !ok1 || !ok2 {
		return rCognitoPrefix
	}
	if !isCognitoPool(pool) {
		return rCognitoPool
	}
	if !isCognitoClient(client) {
		return rCognitoClient
	}
	if len(ident) < 1 || len(ident) > 256 || !allOf(ident, clsPrint) {
		return rCognitoIdent
	}
	return ""
}

// isCognitoPool reports whether s looks like a Cognito user pool id,
// <region>_<id>: region is lower-case letters, digits and '-', id letters and
// digits (AWS: [\w-]+_[0-9a-zA-Z]+, at most 55 characters).
func isCognitoPool(s string) bool {
	if len(s) > 55 {
		return false
	}
	region, id, ok := cut(s, '_')
	if !ok || len(region) < 1 || !isAlnum(id, 1, 55) {
		return false
	}
	for i := 0; i < len(region); i++ {
		c := region[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// isCognitoClient reports whether s looks like a Cognito app client id
// (AWS: [\w+]+, at most 128 characters).
func isCognitoClient(s string) bool {
	if len(s) < 1 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; charClass[c]&clsAlnum == 0 && c != '_' && c != '+' {
			return false
		}
	}
	return true
}

func checkHMACSHA256UTF16B64(d string) string {
	key, hash, ok := saltHash(d)
	if !ok {
		return rHMACParts
	}
	if stdB64Len(key) < 1 {
		return rHMACKey
	}
	if stdB64Len(hash) != 32 {
		return rHMACHash
	}
	return ""
}
