package hashers

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"strings"
	"unicode/utf16"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
	"golang.org/x/crypto/pbkdf2"
	"golang.org/x/crypto/scrypt"
)

// ErrNotVerifiable is returned by Verify for a hasher whose digest holds
// nothing a password can be checked against locally.
var ErrNotVerifiable = errors.New("hashers: this hasher's digest cannot be verified locally")

// ErrTooCostly is returned by Verify when a digest's parameters would need
// more than MaxVerifyMemory bytes of memory to check.
var ErrTooCostly = errors.New("hashers: the digest's cost parameters need too much memory to verify here")

// MaxVerifyMemory caps the memory Verify lets one scrypt or argon2 check use.
const MaxVerifyMemory = 1 << 30

// Verify reports whether password matches digest under hasher name. It
// checks the digest's grammar first and returns its *DigestError when the
// digest does not fit. For awscognito it returns ErrNotVerifiable: that
// "digest" only names the Cognito user pool, app client and user, and the
// password is checked against Cognito itself at the user's first sign-in.
// Comparisons of derived values are constant-time.
func Verify(name, digest, password string) (bool, error) {
	if err := CheckDigest(name, digest); err != nil {
		return false, err
	}
	return byName[name].verify(digest, password)
}

// equal compares two byte strings in constant time (for equal lengths).
func equal(a, b []byte) bool {
	return subtle.ConstantTimeCompare(a, b) == 1
}

func verifyBcrypt(d, pw string) (bool, error) {
	err := bcrypt.CompareHashAndPassword([]byte(d), []byte(pw))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	return false, err
}

// verifyBcryptSHA256Django follows Django's BCryptSHA256PasswordHasher: the
// bcrypt input is the hex SHA-256 of the password.
func verifyBcryptSHA256Django(d, pw string) (bool, error) {
	sum := sha256.Sum256([]byte(pw))
	return verifyBcrypt(d[len(djangoBcryptPrefix):], hex.EncodeToString(sum[:]))
}

// verifyBcryptPeppered follows Devise: bcrypt of the password followed by
// the pepper, which Clerk's format carries after the bcrypt digest.
func verifyBcryptPeppered(d, pw string) (bool, error) {
	return verifyBcrypt(d[:60], pw+d[61:])
}

func verifyHexDigest(d string, sum []byte) (bool, error) {
	want, err := hex.DecodeString(d)
	if err != nil {
		return false, err
	}
	return equal(want, sum), nil
}

func verifyMD5(d, pw string) (bool, error) {
	sum := md5.Sum([]byte(pw))
	return verifyHexDigest(d, sum[:])
}

func verifySHA256(d, pw string) (bool, error) {
	sum := sha256.Sum256([]byte(pw))
	return verifyHexDigest(d, sum[:])
}

// verifySalted checks <salt>$<hex>. Clerk does not document whether the salt
// goes before or after the password, so both orders are tried (see
// FORMATS.md); either match means the hasher mapping is right.
func verifySalted(d, pw string, newHash func() hash.Hash) (bool, error) {
	salt, hexSum, _ := cut(d, '$')
	want, err := hex.DecodeString(hexSum)
	if err != nil {
		return false, err
	}
	h := newHash()
	h.Write([]byte(salt + pw))
	saltFirst := equal(want, h.Sum(nil))
	h.Reset()
	h.Write([]byte(pw + salt))
	saltLast := equal(want, h.Sum(nil))
	return saltFirst || saltLast, nil
}

func verifyMD5Salted(d, pw string) (bool, error)    { return verifySalted(d, pw, md5.New) }
func verifySHA256Salted(d, pw string) (bool, error) { return verifySalted(d, pw, sha256.New) }

// pbkdf2Parts splits <prefix>$<iterations>$<rest…> (already checked).
func pbkdf2Parts(d string) (iter int, parts []string) {
	all := strings.Split(d, "$")
	return parseUint(all[1]), all[2:]
}

func verifyPBKDF2(pw string, salt []byte, iter int, want []byte, h func() hash.Hash) bool {
	got := pbkdf2.Key([]byte(pw), salt, iter, len(want), h)
	return equal(want, got)
}

func verifyPBKDF2SHA1(d, pw string) (bool, error) {
	iter, p := pbkdf2Parts(d)
	if len(p) == 2 { // text salt, hex hash
		want, err := hex.DecodeString(p[1])
		if err != nil {
			return false, err
		}
		return verifyPBKDF2(pw, []byte(p[0]), iter, want, sha1.New), nil
	}
	// "If the salt is not a valid hex string, the raw bytes will be used
	// instead" (Clerk's docs).
	salt, err := hex.DecodeString(p[0])
	if err != nil {
		salt = []byte(p[0])
	}
	want, err := hex.DecodeString(p[1])
	if err != nil {
		return false, err
	}
	return verifyPBKDF2(pw, salt, iter, want, sha1.New), nil
}

func verifyPBKDF2SHA256(d, pw string) (bool, error) {
	iter, p := pbkdf2Parts(d)
	salt, err := base64.StdEncoding.DecodeString(p[0])
	if err != nil {
		return false, err
	}
	want, err := base64.StdEncoding.DecodeString(p[1])
	if err != nil {
		return false, err
	}
	return verifyPBKDF2(pw, salt, iter, want, sha256.New), nil
}

// verifyPBKDF2SHA256Django follows Django: the salt is used as its text.
func verifyPBKDF2SHA256Django(d, pw string) (bool, error) {
	iter, p := pbkdf2Parts(d)
	want, err := base64.StdEncoding.DecodeString(p[1])
	if err != nil {
		return false, err
	}
	return verifyPBKDF2(pw, []byte(p[0]), iter, want, sha256.New), nil
}

func verifyPBKDF2SHA512(d, pw string) (bool, error) {
	iter, p := pbkdf2Parts(d)
	want, err := hex.DecodeString(p[1])
	if err != nil {
		return false, err
	}
	return verifyPBKDF2(pw, []byte(p[0]), iter, want, sha512.New), nil
}

func verifyPBKDF2SHA512Hex(d, pw string) (bool, error) {
	iter, p := pbkdf2Parts(d)
	salt, err := hex.DecodeString(p[0])
	if err != nil {
		return false, err
	}
	want, err := hex.DecodeString(p[1])
	if err != nil {
		return false, err
	}
	return verifyPBKDF2(pw, salt, iter, want, sha512.New), nil
}

// verifyPhpass follows phpass's portable hashes ($P$ and phpBB's $H$):
// 2^rounds iterations of MD5 over the previous sum and the password.
func verifyPhpass(d, pw string) (bool, error) {
	rounds := 1 << phpassRounds(d[3])
	salt := d[4:12]
	sum := md5.Sum([]byte(salt + pw))
	buf := make([]byte, 0, md5.Size+len(pw))
	for i := 0; i < rounds; i++ {
		buf = append(append(buf[:0], sum[:]...), pw...)
		sum = md5.Sum(buf)
	}
	got := d[:12] + phpassEncode(sum[:])
	return equal([]byte(got), []byte(d)), nil
}

// phpassEncode is phpass's encode64: little-endian groups of 3 bytes in
// itoa64, 22 characters for 16 bytes.
func phpassEncode(in []byte) string {
	var out []byte
	for i := 0; i < len(in); {
		v := int(in[i])
		i++
		out = append(out, itoa64[v&0x3f])
		if i < len(in) {
			v |= int(in[i]) << 8
		}
		out = append(out, itoa64[(v>>6)&0x3f])
		if i >= len(in) {
			break
		}
		i++
		if i < len(in) {
			v |= int(in[i]) << 16
		}
		out = append(out, itoa64[(v>>12)&0x3f])
		if i >= len(in) {
			break
		}
		i++
		out = append(out, itoa64[(v>>18)&0x3f])
	}
	return string(out)
}

// verifyScryptFirebase follows Firebase's modified scrypt: the scrypt key of
// the password with salt+separator (N=2^memcost, r=rounds, p=1, 32 bytes)
// AES-256-CTR-encrypts the signer key under a zero IV; that is the hash.
func verifyScryptFirebase(d, pw string) (bool, error) {
	p, _ := firebaseParts(d)
	var dec [4][]byte
	for i := range dec {
		b, err := base64.StdEncoding.DecodeString(p[i])
		if err != nil {
			return false, err
		}
		dec[i] = b
	}
	want, salt, signer, sep := dec[0], dec[1], dec[2], dec[3]
	rounds, mem := parseUint(p[4]), parseUint(p[5])
	key, err := scrypt.Key([]byte(pw), append(salt, sep...), 1<<mem, rounds, 1, 32)
	if err != nil {
		return false, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return false, err
	}
	got := make([]byte, len(signer))
	cipher.NewCTR(block, make([]byte, aes.BlockSize)).XORKeyStream(got, signer)
	return equal(want, got), nil
}

// verifyScryptWerkzeug follows werkzeug.security: hashlib.scrypt of the
// password with the salt's text, 64 bytes, hex.
func verifyScryptWerkzeug(d, pw string) (bool, error) {
	method, rest, _ := cut(d, '$')
	salt, hexSum, _ := cut(rest, '$')
	n, r, p, _ := werkzeugParams(method)
	if 128*n*r > MaxVerifyMemory {
		return false, ErrTooCostly
	}
	want, err := hex.DecodeString(hexSum)
	if err != nil {
		return false, err
	}
	got, err := scrypt.Key([]byte(pw), []byte(salt), n, r, p, len(want))
	if err != nil {
		return false, err
	}
	return equal(want, got), nil
}

func verifyArgon2With(d, pw, prefix string, id bool) (bool, error) {
	a, reason := parseArgon2(d[len(prefix):])
	if reason != "" {
		return false, &DigestError{Reason: reason}
	}
	if a.m*1024 > MaxVerifyMemory {
		return false, ErrTooCostly
	}
	salt, err := base64.RawStdEncoding.DecodeString(a.salt)
	if err != nil {
		return false, err
	}
	want, err := base64.RawStdEncoding.DecodeString(a.hash)
	if err != nil {
		return false, err
	}
	kdf := argon2.Key
	if id {
		kdf = argon2.IDKey
	}
	got := kdf([]byte(pw), salt, uint32(a.t), uint32(a.m), uint8(a.p), uint32(len(want)))
	return equal(want, got), nil
}

func verifyArgon2i(d, pw string) (bool, error)  { return verifyArgon2With(d, pw, "$argon2i$", false) }
func verifyArgon2id(d, pw string) (bool, error) { return verifyArgon2With(d, pw, "$argon2id$", true) }

// verifySHA512Symfony follows Symfony's legacy MessageDigestPasswordHasher
// (sha512, base64, the given iterations): salted = password{salt} (the
// password alone for an empty salt); digest = sha512(salted), then
// iterations-1 times digest = sha512(digest + salted).
func verifySHA512Symfony(d, pw string) (bool, error) {
	p := strings.Split(d, "$")
	iter, salt := parseUint(p[1]), p[2]
	want, err := base64.StdEncoding.DecodeString(p[3])
	if err != nil {
		return false, err
	}
	salted := []byte(pw)
	if salt != "" {
		salted = []byte(pw + "{" + salt + "}")
	}
	sum := sha512.Sum512(salted)
	buf := make([]byte, 0, sha512.Size+len(salted))
	for i := 1; i < iter; i++ {
		buf = append(append(buf[:0], sum[:]...), salted...)
		sum = sha512.Sum512(buf)
	}
	return equal(want, sum[:]), nil
}

// verifyLDAPSSHA follows RFC 2307 {SSHA}: base64(sha1(password+salt)+salt).
func verifyLDAPSSHA(d, pw string) (bool, error) {
	raw, err := base64.StdEncoding.DecodeString(d[len("{SSHA}"):])
	if err != nil {
		return false, err
	}
	want, salt := raw[:sha1.Size], raw[sha1.Size:]
	h := sha1.New()
	h.Write([]byte(pw))
	h.Write(salt)
	return equal(want, h.Sum(nil)), nil
}

// verifyHMACSHA256UTF16B64 checks <key base64>$<hash base64> where hash =
// HMAC-SHA256(key, UTF-16LE(password)) (the layout this package assumes; see
// FORMATS.md).
func verifyHMACSHA256UTF16B64(d, pw string) (bool, error) {
	k, h, _ := cut(d, '$')
	key, err := base64.StdEncoding.DecodeString(k)
	if err != nil {
		return false, err
	}
	want, err := base64.StdEncoding.DecodeString(h)
	if err != nil {
		return false, err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(utf16LE(pw))
	return equal(want, mac.Sum(nil)), nil
}

// utf16LE encodes s as UTF-16, little-endian, without a byte-order mark (as
// .NET's Encoding.Unicode does).
func utf16LE(s string) []byte {
	units := utf16.Encode([]rune(s))
	out := make([]byte, 0, 2*len(units))
	for _, u := range units {
		out = append(out, byte(u), byte(u>>8))
	}
	return out
}

func verifyAWSCognito(string, string) (bool, error) {
	return false, ErrNotVerifiable
}
