package hashers

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// vector is one digest written by real software (testdata/gen says which).
type vector struct {
	Hasher   string `json:"hasher"`
	Password string `json:"password"`
	Digest   string `json:"digest"`
	Source   string `json:"source"`
}

func loadVectors(tb testing.TB) []vector {
	tb.Helper()
	raw, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		tb.Fatal(err)
	}
	var vs []vector
	if err := json.Unmarshal(raw, &vs); err != nil {
		tb.Fatal(err)
	}
	return vs
}

func TestVectorsCoverEveryHasher(t *testing.T) {
	seen := map[string]int{}
	for _, v := range loadVectors(t) {
		if !Known(v.Hasher) {
			t.Errorf("vector for unknown hasher %q", v.Hasher)
		}
		if v.Source == "" {
			t.Errorf("vector for %s has no source", v.Hasher)
		}
		seen[v.Hasher]++
	}
	for _, n := range Names() {
		if seen[n] < 3 {
			t.Errorf("hasher %s has %d vectors, want at least 3", n, seen[n])
		}
	}
}

// TestVectorsVerify: every real digest fits its grammar, verifies with its
// password and not with another.
func TestVectorsVerify(t *testing.T) {
	for i, v := range loadVectors(t) {
		t.Run(fmt.Sprintf("%s/%d", v.Hasher, i), func(t *testing.T) {
			if err := CheckDigest(v.Hasher, v.Digest); err != nil {
				t.Fatalf("CheckDigest: %v (source %s)", err, v.Source)
			}
			ok, err := Verify(v.Hasher, v.Digest, v.Password)
			if v.Hasher == "awscognito" {
				if !errors.Is(err, ErrNotVerifiable) || ok {
					t.Fatalf("Verify = %v, %v; want false, ErrNotVerifiable", ok, err)
				}
				return
			}
			if err != nil || !ok {
				t.Fatalf("Verify(right password) = %v, %v (source %s)", ok, err, v.Source)
			}
			for _, wrong := range []string{v.Password + "!", ""} {
				if ok, err := Verify(v.Hasher, v.Digest, wrong); err != nil || ok {
					t.Errorf("Verify(wrong password %q) = %v, %v", wrong, ok, err)
				}
			}
		})
	}
}

func TestCheckDigestAllocatesNothingForValidDigests(t *testing.T) {
	for _, v := range loadVectors(t) {
		allocs := testing.AllocsPerRun(50, func() {
			if CheckDigest(v.Hasher, v.Digest) != nil {
				panic("vector rejected")
			}
		})
		if allocs != 0 {
			t.Errorf("CheckDigest(%s) allocates %.0f times per call", v.Hasher, allocs)
		}
	}
}

// trailingFreeField names hashers whose digest ends in a field of free length
// (a pepper, a user name, a number): cutting a few characters off it leaves
// a well-formed digest, which Verify must then reject.
var trailingFreeField = map[string]bool{
	"bcrypt_peppered": true, // <bcrypt>$<pepper>
	"scrypt_firebase": true, // …$<rounds>$<mem cost>: 14 cut to 1 is still a mem cost
	"awscognito":      true, // …#<identifier>
}

// TestTruncatedDigestsFail cuts 1, 5 and half of the characters off every
// real digest.
func TestTruncatedDigestsFail(t *testing.T) {
	for i, v := range loadVectors(t) {
		for _, drop := range []int{1, 2, 5, len(v.Digest) / 2, len(v.Digest) - 1} {
			cutDigest := v.Digest[:len(v.Digest)-drop]
			err := CheckDigest(v.Hasher, cutDigest)
			if err != nil {
				var de *DigestError
				if !errors.As(err, &de) {
					t.Errorf("%s/%d: error is %T, want *DigestError", v.Hasher, i, err)
				}
				continue
			}
			if !trailingFreeField[v.Hasher] {
				t.Errorf("%s/%d: digest cut by %d of %d characters passes CheckDigest", v.Hasher, i, drop, len(v.Digest))
				continue
			}
			if v.Hasher == "awscognito" {
				if drop >= len(v.Digest)/2 {
					t.Errorf("%s/%d: half a digest passes CheckDigest", v.Hasher, i)
				}
				continue
			}
			if ok, _ := Verify(v.Hasher, cutDigest, v.Password); ok {
				t.Errorf("%s/%d: digest cut by %d verifies", v.Hasher, i, drop)
			}
		}
	}
}

// mutation changes a real digest into one that must fail its hasher's grammar.
type mutation struct {
	name  string
	apply func(d string) (string, bool) // false: does not apply to this digest
}

// replacePrefix returns a mutation that swaps prefix old for new.
func replacePrefix(name, old, new string) mutation {
	return mutation{name, func(d string) (string, bool) {
		if !strings.HasPrefix(d, old) {
			return "", false
		}
		return new + d[len(old):], true
	}}
}

// replaceField returns a mutation that replaces the field at index i (negative:
// from the end) of d split at sep.
func replaceField(name string, sep string, i int, f func(string) string) mutation {
	return mutation{name, func(d string) (string, bool) {
		parts := strings.Split(d, sep)
		if i < 0 {
			i += len(parts)
		}
		if i < 0 || i >= len(parts) {
			return "", false
		}
		parts[i] = f(parts[i])
		return strings.Join(parts, sep), true
	}}
}

func constant(s string) func(string) string { return func(string) string { return s } }

// b64ToHex and hexToB64 re-encode a field in the other encoding.
func b64ToHex(s string) string {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(s)
	}
	if err != nil {
		return "!" + s
	}
	return hex.EncodeToString(raw)
}

func hexToB64(s string) string {
	raw, err := hex.DecodeString(s)
	if err != nil {
		return "!" + s
	}
	return base64.StdEncoding.EncodeToString(raw)
}

func padB64(s string) string {
	for len(s)%4 != 0 {
		s += "="
	}
	return s
}

var pbkdf2Mutations = []mutation{
	replaceField("iterations 0", "$", 1, constant("0")),
	replaceField("iterations 10000001", "$", 1, constant("10000001")),
	replaceField("iterations leading zero", "$", 1, func(s string) string { return "0" + s }),
	replaceField("iterations negative", "$", 1, func(s string) string { return "-" + s }),
	replaceField("iterations empty", "$", 1, constant("")),
	replacePrefix("wrong prefix", "pbkdf2_sha", "pbkdf2_shb"),
	mutation{"extra field", func(d string) (string, bool) { return d + "$00", true }},
}

var bcryptMutations = []mutation{
	replaceField("cost 03", "$", 2, constant("03")),
	replaceField("cost 32", "$", 2, constant("32")),
	replaceField("cost one digit", "$", 2, constant("5")),
	replaceField("version 2c", "$", 1, constant("2c")),
	replaceField("version 2x", "$", 1, constant("2x")),
	replaceField("base64 with +", "$", 3, func(s string) string { return "+" + s[1:] }),
	replaceField("one char too many", "$", 3, func(s string) string { return s + "a" }),
}

var argon2Mutations = []mutation{
	replaceField("version 16", "$", 2, constant("v=16")),
	replaceField("no version", "$", 2, constant("")),
	replaceField("t=0", "$", 3, func(s string) string { return strings.Replace(s, "t=", "t=0", 1) }),
	replaceField("p=0", "$", 3, func(s string) string { p := strings.Index(s, "p="); return s[:p] + "p=0" }),
	replaceField("m=1", "$", 3, func(s string) string { t := strings.Index(s, ",t="); return "m=1" + s[t:] }),
	replaceField("m too large", "$", 3, func(s string) string { t := strings.Index(s, ",t="); return "m=4194305" + s[t:] }),
	replaceField("params out of order", "$", 3, func(s string) string {
		p := strings.Split(s, ",")
		return p[1] + "," + p[0] + "," + p[2]
	}),
	replaceField("padded salt", "$", 4, padB64),
	replaceField("padded hash", "$", -1, func(s string) string { return padB64(s + "A") }),
	replaceField("hash as hex", "$", -1, b64ToHex),
	replaceField("salt too short", "$", 4, constant("AAAAAAA")),
	replacePrefix("argon2d", "$argon2i", "$argon2d"),
}

var phpassMutations = []mutation{
	mutation{"rounds 6", func(d string) (string, bool) { return d[:3] + "4" + d[4:], true }},
	mutation{"rounds 31", func(d string) (string, bool) { return d[:3] + "T" + d[4:], true }},
	mutation{"base64 +", func(d string) (string, bool) { return d[:12] + "+" + d[13:], true }},
	mutation{"wrong prefix", func(d string) (string, bool) { return "$Q$" + d[3:], true }},
}

// mutations lists, per hasher, the hand-made ways a real digest must fail:
// wrong prefix, wrong encoding (hex for base64 and back), out-of-range costs.
var mutations = map[string][]mutation{
	"bcrypt": bcryptMutations,
	"bcrypt_sha256_django": {
		replacePrefix("wrong prefix", "bcrypt_sha256$", "bcrypt_sha512$"),
		replacePrefix("passlib prefix", "bcrypt_sha256$", "$bcrypt-sha256$"),
		replacePrefix("no prefix", "bcrypt_sha256$", ""),
		replaceField("cost 03", "$", 3, constant("03")),
	},
	"bcrypt_peppered": {
		replaceField("cost 32", "$", 2, constant("32")),
		replacePrefix("version 2c", "$2", "$2c"),
		mutation{"no pepper", func(d string) (string, bool) { return d[:60], true }},
		mutation{"empty pepper", func(d string) (string, bool) { return d[:61], true }},
		mutation{"space in pepper", func(d string) (string, bool) { return d + " x", true }},
	},
	"md5": {
		mutation{"base64 for hex", func(d string) (string, bool) { return hexToB64(d), true }},
		mutation{"0x prefix", func(d string) (string, bool) { return "0x" + d, true }},
		mutation{"non-hex", func(d string) (string, bool) { return "g" + d[1:], true }},
	},
	"sha256": {
		mutation{"base64 for hex", func(d string) (string, bool) { return hexToB64(d), true }},
		mutation{"0x prefix", func(d string) (string, bool) { return "0x" + d, true }},
	},
	"md5_salted": {
		replaceField("hash base64", "$", -1, hexToB64),
		replaceField("empty salt", "$", 0, constant("")),
		replaceField("salt with space", "$", 0, func(s string) string { return s + " x" }),
		mutation{"no salt", func(d string) (string, bool) { return d[strings.IndexByte(d, '$')+1:], true }},
	},
	"sha256_salted": {
		replaceField("hash base64", "$", -1, hexToB64),
		replaceField("empty salt", "$", 0, constant("")),
		mutation{"md5 sized", func(d string) (string, bool) { return d[:len(d)-32], true }},
	},
	"pbkdf2_sha1": append(slices.Clip(pbkdf2Mutations),
		mutation{"hash base64", func(d string) (string, bool) {
			p := strings.Split(d, "$")
			p[3] = hexToB64(p[3])
			return strings.Join(p, "$"), true
		}},
		mutation{"key length 0", func(d string) (string, bool) {
			if strings.Count(d, "$") != 4 {
				return "", false
			}
			return d[:strings.LastIndexByte(d, '$')] + "$0", true
		}},
		mutation{"key length off by one", func(d string) (string, bool) {
			if strings.Count(d, "$") != 4 {
				return "", false
			}
			return d[:strings.LastIndexByte(d, '$')] + "$21", true
		}},
	),
	"pbkdf2_sha256": append(slices.Clip(pbkdf2Mutations),
		replaceField("hash hex", "$", -1, b64ToHex),
		mutation{"salt unpadded", func(d string) (string, bool) {
			p := strings.Split(d, "$")
			if !strings.HasSuffix(p[2], "=") {
				return "", false
			}
			p[2] = strings.TrimRight(p[2], "=")
			return strings.Join(p, "$"), true
		}},
		replaceField("salt as hex", "$", 2, func(s string) string { return b64ToHex(s) + b64ToHex(s) }),
		replacePrefix("_django prefix", "pbkdf2_sha256$", "pbkdf2_sha256_django$"),
	),
	"pbkdf2_sha256_django": append(slices.Clip(pbkdf2Mutations),
		replaceField("hash hex", "$", -1, b64ToHex),
		replaceField("hash unpadded", "$", -1, func(s string) string { return strings.TrimRight(s, "=") }),
		replaceField("salt with +", "$", 2, func(s string) string { return s + "+" }),
		replacePrefix("_django prefix", "pbkdf2_sha256$", "pbkdf2_sha256_django$"),
	),
	"pbkdf2_sha512": append(slices.Clip(pbkdf2Mutations),
		replaceField("hash base64", "$", -1, hexToB64),
		replaceField("hash sha256-sized", "$", -1, func(s string) string { return s[:64] }),
	),
	"pbkdf2_sha512_hex": append(slices.Clip(pbkdf2Mutations),
		replaceField("hash base64", "$", -1, hexToB64),
		replaceField("salt base64", "$", 2, hexToB64),
		replaceField("salt odd length", "$", 2, func(s string) string { return s + "a" }),
		replacePrefix("without _hex", "pbkdf2_sha512_hex$", "pbkdf2_sha512$"),
	),
	"phpass":     phpassMutations,
	"md5_phpass": phpassMutations,
	"scrypt_firebase": {
		replaceField("hash hex", "$", 0, b64ToHex),
		replaceField("hash URL-safe", "$", 0, func(s string) string { return "-_" + s[2:] }),
		replaceField("salt hex", "$", 1, func(s string) string { return b64ToHex(s) + "!" }),
		replaceField("signer key shorter", "$", 2, func(s string) string { return s[4:] }),
		replaceField("rounds 0", "$", 4, constant("0")),
		replaceField("rounds 9", "$", 4, constant("9")),
		replaceField("mem cost 0", "$", 5, constant("0")),
		replaceField("mem cost 15", "$", 5, constant("15")),
		mutation{"5 parts", func(d string) (string, bool) { return d[:strings.LastIndexByte(d, '$')], true }},
	},
	"scrypt_werkzeug": {
		replacePrefix("pbkdf2 prefix", "scrypt:", "pbkdf2:"),
		replacePrefix("no params", "scrypt:", "scrypt$"),
		replaceField("n not a power of two", ":", 1, constant("30000")),
		replaceField("n too large", ":", 1, constant("2097152")),
		replaceField("r 0", ":", 2, constant("0")),
		replaceField("hash base64", "$", -1, hexToB64),
		replaceField("hash sha256-sized", "$", -1, func(s string) string { return s[:64] }),
		replaceField("salt with dot", "$", 1, func(s string) string { return s + "." }),
	},
	"argon2i": argon2Mutations,
	"argon2id": append(slices.Clip(argon2Mutations),
		replacePrefix("argon2id as argon2d", "$argon2id", "$argon2d"),
		replacePrefix("Django prefix", "$argon2id", "argon2$argon2id"),
	),
	"sha512_symfony": {
		replacePrefix("wrong prefix", "sha512_symfony$", "sha256_symfony$"),
		replaceField("iterations 0", "$", 1, constant("0")),
		replaceField("iterations too many", "$", 1, constant("1000001")),
		replaceField("hash hex", "$", -1, b64ToHex),
		replaceField("salt with brace", "$", 2, func(s string) string { return s + "}" }),
	},
	"ldap_ssha": {
		replacePrefix("{SHA}", "{SSHA}", "{SHA}"),
		replacePrefix("lower case", "{SSHA}", "{ssha}"),
		mutation{"hex payload", func(d string) (string, bool) { return "{SSHA}" + b64ToHex(d[6:]), true }},
		mutation{"salt missing", func(d string) (string, bool) {
			raw, _ := base64.StdEncoding.DecodeString(d[6:])
			return "{SSHA}" + base64.StdEncoding.EncodeToString(raw[:20]), true
		}},
	},
	"awscognito": {
		replacePrefix("wrong prefix", "awscognito#", "cognito#"),
		replaceField("pool without region", "#", 1, func(s string) string { return s[strings.IndexByte(s, '_')+1:] }),
		replaceField("client with dash", "#", 2, func(s string) string { return s + "-x" }),
		replaceField("empty identifier", "#", 3, constant("")),
		replaceField("identifier with space", "#", 3, func(s string) string { return s + " x" }),
	},
	"hmac_sha256_utf16_b64": {
		replaceField("hash hex", "$", -1, b64ToHex),
		replaceField("key hex with odd length", "$", 0, func(s string) string { return b64ToHex(s) + "0" }),
		replaceField("empty key", "$", 0, constant("")),
		mutation{"no key", func(d string) (string, bool) { return d[strings.IndexByte(d, '$')+1:], true }},
	},
}

func TestMutatedDigestsFail(t *testing.T) {
	applied := map[string]int{}
	for i, v := range loadVectors(t) {
		ms, ok := mutations[v.Hasher]
		if !ok {
			t.Fatalf("no mutations for hasher %s", v.Hasher)
		}
		for _, m := range ms {
			d, ok := m.apply(v.Digest)
			if !ok {
				continue
			}
			applied[v.Hasher+"/"+m.name]++
			if err := CheckDigest(v.Hasher, d); err == nil {
				t.Errorf("%s/%d: mutation %q passes CheckDigest", v.Hasher, i, m.name)
			}
		}
	}
	for h, ms := range mutations {
		for _, m := range ms {
			if applied[h+"/"+m.name] == 0 {
				t.Errorf("mutation %s/%q applied to no vector", h, m.name)
			}
		}
	}
}
