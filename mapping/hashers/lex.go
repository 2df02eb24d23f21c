package hashers

import "strings"

// Lexical helpers for digest grammars. They scan without allocating, so that
// CheckDigest stays allocation-free on valid input (it runs once per row of a
// dry run).

// bcryptAlphabet is the bcrypt (and phpass "itoa64") base-64 alphabet order.
const itoa64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// charClass bits.
const (
	clsHex    = 1 << iota // 0-9 a-f A-F
	clsAlnum              // 0-9 A-Z a-z
	clsB64                // A-Z a-z 0-9 + /
	clsCrypt              // ./0-9A-Za-z (bcrypt, phpass)
	clsText               // printable ASCII except space and '$'
	clsB64URL             // - or _ (URL-safe base64 extras)
	clsPrint              // printable ASCII except space
)

var charClass [256]uint8

func init() {
	for c := 0x21; c <= 0x7e; c++ {
		charClass[c] |= clsPrint
		if c != '$' {
			charClass[c] |= clsText
		}
	}
	for c := '0'; c <= '9'; c++ {
		charClass[c] |= clsHex | clsAlnum | clsB64 | clsCrypt
	}
	for c := 'a'; c <= 'z'; c++ {
		charClass[c] |= clsAlnum | clsB64 | clsCrypt
		charClass[c-'a'+'A'] |= clsAlnum | clsB64 | clsCrypt
	}
	for c := 'a'; c <= 'f'; c++ {
		charClass[c] |= clsHex
		charClass[c-'a'+'A'] |= clsHex
	}
	charClass['+'] |= clsB64
	charClass['/'] |= clsB64 | clsCrypt
	charClass['.'] |= clsCrypt
	charClass['-'] |= clsB64URL
	charClass['_'] |= clsB64URL
}

// allOf reports whether every byte of s is in class cls (one class bit). It ANDs the classes
// of all bytes without branching (valid input, the hot path, scans to the
// end anyway).
func allOf(s string, cls uint8) bool {
	acc0, acc1 := uint8(0xff), uint8(0xff)
	i := 0
	for ; i+1 < len(s); i += 2 {
		acc0 &= charClass[s[i]]
		acc1 &= charClass[s[i+1]]
	}
	if i < len(s) {
		acc0 &= charClass[s[i]]
	}
	return (acc0&acc1)&cls == cls
}

// anyOf reports whether some byte of s is in class cls.
func anyOf(s string, cls uint8) bool {
	for i := 0; i < len(s); i++ {
		if charClass[s[i]]&cls != 0 {
			return true
		}
	}
	return false
}

// isHex reports whether s is non-empty, of even length and all hex digits.
func isHex(s string) bool {
	return len(s) > 0 && len(s)%2 == 0 && allOf(s, clsHex)
}

// isHexLen reports whether s is exactly n hex digits.
func isHexLen(s string, n int) bool {
	return len(s) == n && allOf(s, clsHex)
}

// isTextSalt reports whether s is a salt stored as text: printable ASCII,
// no space and no '$' (the field separator), between min and max bytes.
func isTextSalt(s string, min, max int) bool {
	return len(s) >= min && len(s) <= max && allOf(s, clsText)
}

// isAlnum reports whether s is between min and max ASCII letters and digits.
func isAlnum(s string, min, max int) bool {
	return len(s) >= min && len(s) <= max && allOf(s, clsAlnum)
}

// stdB64Len validates s as padded standard base64 (RFC 4648 §4, the form of
// encoding/base64.StdEncoding) and returns its decoded length, or -1.
func stdB64Len(s string) int {
	if len(s)%4 != 0 {
		return -1
	}
	pad := 0
	if len(s) > 0 && s[len(s)-1] == '=' {
		pad = 1
		if s[len(s)-2] == '=' {
			pad = 2
		}
	}
	if !allOf(s[:len(s)-pad], clsB64) {
		return -1
	}
	return len(s)/4*3 - pad
}

// rawB64Len validates s as unpadded standard base64 (the form PHC strings
// use, encoding/base64.RawStdEncoding) and returns its decoded length, or -1.
func rawB64Len(s string) int {
	if len(s)%4 == 1 || !allOf(s, clsB64) {
		return -1
	}
	return len(s) * 3 / 4
}

// parseUint parses a decimal number without sign or leading zeros, of at most
// 9 digits (so it never overflows). It returns -1 when s is not one.
func parseUint(s string) int {
	if len(s) == 0 || len(s) > 9 || (s[0] == '0' && len(s) > 1) {
		return -1
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// cut splits s at the first sep: before, after, and whether sep was found.
func cut(s string, sep byte) (string, string, bool) {
	if i := strings.IndexByte(s, sep); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// count returns the number of sep bytes in s.
func count(s string, sep byte) int {
	return strings.Count(s, string(rune(sep)))
}

// hasPrefix is strings.HasPrefix, kept local so the hot path reads as one file.
func hasPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && s[:len(prefix)] == prefix
}
