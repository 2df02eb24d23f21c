package reports

import (
	"regexp"
	"strings"
)

// Redacted replaces what Scrub takes out.
const Redacted = "[redacted]"

// digestRe matches the password digest formats Clerk accepts (see
// CLERK_API.md) and the usual modular-crypt strings, whole.
var digestRe = regexp.MustCompile(strings.Join([]string{
	`\$2[abxy]?\$\d{1,2}\$[./A-Za-z0-9]{8,}(?:\$\S*)?`,                // bcrypt, bcrypt_peppered
	`\$argon2(?:id|i|d)\$\S+`,                                         // argon2 PHC strings
	`\$(?:scrypt|pbkdf2[-\w]*|sha(?:1|256|512)|[1567]|y|gy|md5)\$\S+`, // PHC and crypt(3)
	`\$[PH]\$[./0-9A-Za-z]{8,}`,                                       // phpass, md5_phpass
	`(?i:pbkdf2_sha(?:1|256|512)(?:_hex)?|bcrypt_sha256|sha512_symfony|scrypt|argon2(?:id|i)?)[$:]\S+`,
	`\{S?SHA\d*\}[A-Za-z0-9+/=]+`, // ldap_ssha
	`(?i:awscognito)#\S+`,         // awscognito
}, "|"))

// tokenRe finds the candidates for a long token; looksLikeToken decides.
// '=' only ends a token (base64 padding), so "secret=TOKEN" keeps its name.
var tokenRe = regexp.MustCompile(`[A-Za-z0-9+/_-]{16,}={0,6}`)

var (
	clerkIDRe = regexp.MustCompile(`^[a-z]{2,8}_[A-Za-z0-9]{20,40}$`)
	uuidRe    = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	hexRe     = regexp.MustCompile(`^[0-9a-fA-F]{32,}$`)
	base32Re  = regexp.MustCompile(`^(?:[A-Z2-7]{16,}|[a-z2-7]{16,})={0,6}$`)
)

// Scrub redacts from free text anything that looks like a secret: bcrypt,
// argon2, pbkdf2, scrypt, phpass, SSHA and other digests, and long
// hex, base32 (TOTP secrets) or base64 tokens. Clerk ids (user_...) and
// UUIDs are kept. It cannot recognise a plain password in a sentence:
// nothing upstream may put one there.
func Scrub(s string) string {
	if s == "" {
		return s
	}
	if strings.ContainsAny(s, "${#:") { // every digest pattern has one of these
		s = digestRe.ReplaceAllString(s, Redacted)
	}
	if !hasTokenRun(s) {
		return s
	}
	return tokenRe.ReplaceAllStringFunc(s, func(tok string) string {
		if looksLikeToken(tok) {
			return Redacted
		}
		return tok
	})
}

// looksLikeToken reports whether a run of token characters is likely a
// secret rather than a word, an error code or an identifier.
func looksLikeToken(tok string) bool {
	if clerkIDRe.MatchString(tok) || uuidRe.MatchString(tok) {
		return false
	}
	if hexRe.MatchString(tok) || base32Re.MatchString(tok) && hasBase32Digit(tok) {
		return true
	}
	if base32Re.MatchString(tok) && strings.ToUpper(tok) == tok {
		return true // an all-capitals run of 16+ letters is no word either
	}
	return len(tok) >= 24 && hasDigit(tok) && hasLetter(tok)
}

// hasTokenRun reports whether s has 16 token characters in a row, the
// least tokenRe matches: most messages have none and skip the regexp.
func hasTokenRun(s string) bool {
	run := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '_' || c == '-' {
			if run++; run >= 16 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }

func hasBase32Digit(s string) bool { return strings.ContainsAny(s, "234567") }

func hasLetter(s string) bool {
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return true
		}
	}
	return false
}
