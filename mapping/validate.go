package mapping

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

// This file holds the checks a dry run needs for single values. Each check
// validates one value (one element of a list) and returns it normalised, or
// a problem. A check of a secret property never quotes the value.

// Limits Clerk applies.
const (
	usernameMin       = 4
	usernameMax       = 64
	totpMin           = 16 // base32 characters: 80 bits
	totpMax           = 128
	backupCodesMax    = 50
	backupCodeMin     = 4
	backupCodeMax     = 64
	metadataMaxBytes  = 8 << 10 // per metadata object, serialised
	passwordMinLength = 8
	emailMaxLength    = 254
	emailLocalMax     = 64
	quoteMax          = 64 // longest value quoted in a reason
)

// quote renders a non-secret value for a reason, cut to a readable length.
func quote(s string) string {
	if len(s) > quoteMax {
		cut := quoteMax
		for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

// checkEmail accepts a plain address (no display name, no quoted local part,
// no comments): a dot-atom local part of RFC 5322 and a DNS domain with at
// least two labels. The address is returned as the source wrote it, in its
// case: Clerk compares addresses in any case (its user filters match them
// case-insensitively), and so do the duplicates rule, the sync's diff and
// the emulator, so no case is changed behind the user's back (a mapping
// that wants lower case says transform: lower). White space around it is
// dropped before, with a warning (property.trimmed).
func checkEmail(s string, _ *Options) (string, *problem) {
	if reason := emailProblem(s); reason != "" {
		return "", &problem{CodeEmailInvalid, "not an email address " + quote(s) + ": " + reason}
	}
	return s, nil
}

// emailProblem says what is wrong with an address, "" when nothing is.
func emailProblem(s string) string {
	if len(s) > emailMaxLength {
		return "longer than 254 characters"
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "no @"
	}
	local, domain := s[:at], s[at+1:]
	switch {
	case local == "":
		return "nothing before the @"
	case len(local) > emailLocalMax:
		return "more than 64 characters before the @"
	case local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, ".."):
		return "a dot at the start or end of the name, or two dots in a row"
	}
	for i := 0; i < len(local); i++ {
		if !isAtext(local[i]) && local[i] != '.' {
			return "a character not allowed before the @ (" + quote(string(local[i])) + ")"
		}
	}
	return domainProblem(domain)
}

// isAtext reports whether c may appear in a dot-atom (RFC 5322 atext).
func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}

// domainProblem checks a DNS name: labels of letters, digits and hyphens,
// 1-63 long, not starting or ending with a hyphen, a non-numeric top label.
func domainProblem(d string) string {
	if d == "" {
		return "nothing after the @"
	}
	if len(d) > 253 {
		return "a domain longer than 253 characters"
	}
	labels := 0
	start := 0
	for i := 0; i <= len(d); i++ {
		if i < len(d) && d[i] != '.' {
			c := d[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				if c >= 0x80 {
					return "a domain with non-ASCII letters (write it in punycode, xn--...)"
				}
				return "a character not allowed in a domain (" + quote(string(c)) + ")"
			}
			continue
		}
		label := d[start:i]
		if label == "" || len(label) > 63 {
			return "an empty or over-long domain label"
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "a domain label starting or ending with a hyphen"
		}
		labels++
		if i == len(d) && isDigits(label) {
			return "a numeric top-level domain"
		}
		start = i + 1
	}
	if labels < 2 {
		return "a domain without a dot"
	}
	return ""
}

// isDigits reports whether s is one or more ASCII digits.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// checkPhone parses a number written in any common way and returns it in
// E.164. Numbers without a leading + are read in Options.DefaultPhoneRegion.
func checkPhone(s string, o *Options) (string, *problem) {
	return checkPhoneWith(s, o, true)
}

// checkPhoneWith is checkPhone, with or without the fast path (the
// equivalence test compares the two).
func checkPhoneWith(s string, o *Options, fast bool) (string, *problem) {
	s = strings.TrimSpace(s)
	region := ""
	if o != nil {
		region = o.DefaultPhoneRegion
	}
	if !strings.HasPrefix(s, "+") && !strings.HasPrefix(s, "00") && region == "" {
		return "", &problem{CodePhoneInvalid, "phone number " + quote(s) +
			" has no country code: write it as +<country><number> or set options.default_phone_region"}
	}
	if strings.HasPrefix(s, "00") { // the international prefix of most countries
		s = "+" + s[2:]
	}
	if region == "" {
		region = "ZZ"
	}
	if fast {
		if e164, ok := fastPhone(s, region); ok {
			return e164, nil
		}
	}
	if pr := phoneTextProblem(s); pr != nil { // fastPhone takes no such input: the fast path stays as it was
		return "", pr
	}
	return checkPhoneFull(s, region)
}

// phoneTextProblem refuses what the phonenumbers library would read past
// without a word: letters (it turns 1-800-FLOWERS into digits), an
// extension (x12, ext. 7: E.164 has none, so it would be dropped), a label
// (tel:), a second number after a comma. A number is digits, a leading +,
// and the separators people write (spaces, - . ( ) / [ ] and their
// typographic forms).
func phoneTextProblem(s string) *problem {
	for i, r := range s {
		switch {
		case unicode.IsDigit(r), r == '+' && i == 0, r == '＋' && i == 0, isPhoneSeparator(r):
			continue
		case unicode.IsLetter(r) && isExtension(s[i:]):
			return &problem{CodePhoneInvalid, "phone number " + quote(s) + " has an extension (" + quote(strings.TrimSpace(s[i:])) +
				"), which a Clerk phone number cannot hold: it would be dropped; keep the number alone"}
		case unicode.IsLetter(r):
			return &problem{CodePhoneInvalid, "phone number " + quote(s) + " has letters (a vanity number, a label?): " +
				"it would be sent as other digits or cut; write the number in digits"}
		default:
			return &problem{CodePhoneInvalid, "phone number " + quote(s) + " has " + quote(string(r)) +
				", which is not part of a phone number (an extension, a second number?)"}
		}
	}
	return nil
}

// isPhoneSeparator reports whether r is punctuation people write inside a
// phone number.
func isPhoneSeparator(r rune) bool {
	switch r {
	case ' ', '\t', '\u00a0', '-', '.', '(', ')', '/', '[', ']',
		'\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212', '\u30fc', '\uff0d', '\uff0f',
		'\u2000', '\u2001', '\u2002', '\u2003', '\u2004', '\u2005', '\u2006', '\u2007', '\u2008', '\u2009', '\u200a',
		'\u200b', '\u2060', '\u3000', '\uff08', '\uff09', '\uff3b', '\uff3d', '\uff0e':
		return true
	}
	return false
}

// isExtension reports whether s, from its first letter on, is an
// extension: x, ext, extn or extension (any case, an optional dot or #),
// then digits.
func isExtension(s string) bool {
	l := strings.ToLower(s)
	for _, marker := range []string{"extension", "extn", "ext", "x"} {
		if rest, ok := strings.CutPrefix(l, marker); ok {
			rest = strings.TrimLeft(rest, ".:# ")
			return rest != "" && isDigits(strings.TrimSpace(rest))
		}
	}
	return false
}

// checkPhoneFull is checkPhone's full check with the phonenumbers library:
// the answer for every number fastPhone cannot confirm valid.
func checkPhoneFull(s, region string) (string, *problem) {
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", &problem{CodePhoneInvalid, "not a phone number " + quote(s) + ": " + err.Error()}
	}
	if !phonenumbers.IsValidNumber(num) {
		return "", &problem{CodePhoneInvalid, "not a valid phone number " + quote(s) + " (wrong length or unknown area code)"}
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// checkUsername applies Clerk's username rules. Clerk's docs
// (clerk.com/docs/guides/configure/auth-strategies/sign-up-sign-in-options,
// "Username"): usernames "must be between 4 and 64 characters long and do
// not allow special characters (^$!.`#+~), but this can be customized", and
// "only support Latin-based characters"; its error catalogue adds
// form_username_needs_non_number_char. So letters of the Latin script,
// digits, _ and - pass; ^ $ ! . ` # + ~ are a warning (refused unless the
// instance allows them: john.doe imports only where dots are allowed), and
// so is other ASCII punctuation, which the docs neither list nor allow;
// white space, other scripts and symbols, a username of digits only, and a
// length outside 4 to 64 are refused.
func checkUsername(s string, _ *Options) (string, *problem) {
	if n := utf8.RuneCountInString(s); n < usernameMin || n > usernameMax {
		return "", &problem{CodeUsernameInvalid, "username " + quote(s) + " must be 4 to 64 characters long"}
	}
	digits, warn := true, ""
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			continue
		case r == '_' || r == '-' || unicode.Is(unicode.Latin, r):
		case strings.ContainsRune(usernameDenied, r):
			warn = "username " + quote(s) + " holds " + quote(string(r)) + ", which Clerk refuses by default (it does not allow " +
				usernameDenied + " unless the instance is set to); the row is sent as it is"
		case r < utf8.RuneSelf && unicode.IsPunct(r) || unicode.IsSymbol(r) && r < utf8.RuneSelf:
			if warn == "" {
				warn = "username " + quote(s) + " holds " + quote(string(r)) + ": Clerk's docs neither list nor allow it (they refuse " +
					usernameDenied + " by default); the row is sent as it is"
			}
		default:
			return "", &problem{CodeUsernameInvalid, "username " + quote(s) + " may hold only Latin letters, digits and punctuation, not " +
				quote(string(r))}
		}
		digits = false
	}
	if digits {
		return "", &problem{CodeUsernameInvalid, "username " + quote(s) + " must hold a character that is not a digit"}
	}
	if warn != "" {
		return s, &problem{CodeUsernameCharacter, warn}
	}
	return s, nil
}

// usernameDenied are the characters Clerk's usernames refuse by default.
const usernameDenied = "^$!.`#+~"

// checkLocale accepts a language tag such as en, en-US, pt-BR or zh-Hant-TW;
// underscores (en_US) become hyphens.
func checkLocale(s string, _ *Options) (string, *problem) {
	s = strings.TrimSpace(s)
	bad := &problem{CodeLocaleInvalid, "not a locale " + quote(s) + " (use a language tag like en-US)"}
	if s == "" {
		return "", bad
	}
	s = strings.ReplaceAll(s, "_", "-")
	for i, part := range strings.Split(s, "-") {
		if i == 0 && (len(part) < 2 || len(part) > 3 || !isLetters(part)) {
			return "", bad
		}
		if i > 0 && (len(part) < 1 || len(part) > 8 || !isAlnum(part)) {
			return "", bad
		}
	}
	return s, nil
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func isAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9') && !isLetters(s[i:i+1]) {
			return false
		}
	}
	return true
}

// checkWeb3Wallet accepts an Ethereum address (0x and 40 hex digits) or a
// Solana address (32-44 base58 characters).
func checkWeb3Wallet(s string, _ *Options) (string, *problem) {
	s = strings.TrimSpace(s)
	if len(s) == 42 && (strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X")) && isHex(s[2:]) {
		return "0x" + s[2:], nil
	}
	if len(s) >= 32 && len(s) <= 44 && isBase58(s) {
		return s, nil
	}
	return "", &problem{CodeWeb3WalletInvalid, "not a wallet address " + quote(s) + " (0x and 40 hex digits, or a Solana address)"}
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}

func isBase58(s string) bool {
	const alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(alphabet, s[i]) < 0 {
			return false
		}
	}
	return true
}

// checkStatus accepts an identification status: verified or reserved.
func checkStatus(s string, _ *Options) (string, *problem) {
	switch v := strings.ToLower(strings.TrimSpace(s)); v {
	case "verified", "reserved":
		return v, nil
	}
	return "", &problem{CodeStatusInvalid, "identification status " + quote(s) + " must be verified or reserved"}
}

// checkTOTPSecret normalises a TOTP secret (drops spaces and padding, upper
// case) and checks it is RFC 4648 base32 of a sensible length. It never
// quotes the secret.
func checkTOTPSecret(s string, _ *Options) (string, *problem) {
	norm := normaliseBase32(s)
	if norm == "" {
		return "", &problem{CodeTOTPInvalid, "the TOTP secret is empty once spaces and padding are removed"}
	}
	for i := 0; i < len(norm); i++ {
		c := norm[i]
		if !(c >= 'A' && c <= 'Z' || c >= '2' && c <= '7') {
			if isHex(norm) {
				return "", &problem{CodeTOTPInvalid, "the TOTP secret looks hex-encoded; Clerk wants base32 (RFC 4648): decode the hex and encode the bytes as base32"}
			}
			return "", &problem{CodeTOTPInvalid, "the TOTP secret is not base32 (RFC 4648 letters A-Z and digits 2-7 only)"}
		}
	}
	if len(norm) < totpMin || len(norm) > totpMax {
		return "", &problem{CodeTOTPInvalid, "the TOTP secret has " + strconv.Itoa(len(norm)) +
			" base32 characters; a usable one has 16 to 128"}
	}
	switch len(norm) % 8 {
	case 1, 3, 6:
		return "", &problem{CodeTOTPInvalid, "the TOTP secret has a base32 length no byte string encodes to (cut short?)"}
	}
	return norm, nil
}

// normaliseBase32 drops white space, hyphens and trailing "=" padding and
// upper-cases, allocating only when something changes.
func normaliseBase32(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' || c == '-' || c == '=' || c == '\n' || c == '\r' || (c >= 'a' && c <= 'z') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '-' || c == '=' || c == '\n' || c == '\r':
		case c >= 'a' && c <= 'z':
			b.WriteByte(c - 'a' + 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// checkBackupCode accepts a plain backup code (4-64 printable ASCII
// characters without spaces) or a bcrypt digest of one. It never quotes the
// code.
func checkBackupCode(s string, _ *Options) (string, *problem) {
	if strings.HasPrefix(s, "$2") {
		if !isBcryptDigest(s) {
			return "", &problem{CodeBackupCodeInvalid, "a backup code looks like a bcrypt digest but is malformed ($2a$/$2b$/$2y$, 2-digit cost, 53 characters)"}
		}
		return s, nil
	}
	if s == "" {
		return "", &problem{CodeBackupCodeInvalid, "a backup code is empty"}
	}
	if len(s) < backupCodeMin || len(s) > backupCodeMax {
		return "", &problem{CodeBackupCodeInvalid, "a backup code has " + strconv.Itoa(len(s)) + " characters; codes have 4 to 64"}
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return "", &problem{CodeBackupCodeInvalid, "a backup code holds a space, control or non-ASCII character"}
		}
	}
	return s, nil
}

// isBcryptDigest reports whether s has bcrypt's modular-crypt shape.
func isBcryptDigest(s string) bool {
	if len(s) != 60 || s[0] != '$' || s[1] != '2' || s[3] != '$' || s[6] != '$' {
		return false
	}
	if v := s[2]; v != 'a' && v != 'b' && v != 'y' {
		return false
	}
	if !isDigits(s[4:6]) {
		return false
	}
	for i := 7; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '/') {
			return false
		}
	}
	return true
}

// checkBackupCodeCount checks how many codes a user has.
func checkBackupCodeCount(n int) *problem {
	if n > backupCodesMax {
		return &problem{CodeBackupCodesCount, strconv.Itoa(n) + " backup codes; Clerk takes at most 50"}
	}
	return nil
}

// checkMetadataSize refuses metadata whose JSON is over Clerk's 8 KB. text
// is the JSON it was parsed from ("" for a typed map): JSON re-encoding at
// most multiplies its length by 6 (\u escapes), so short text needs no check.
func checkMetadataSize(m map[string]any, text string) *problem {
	if text != "" && len(text)*6 <= metadataMaxBytes {
		return nil
	}
	if text == "" && flatSizeBound(m) <= metadataMaxBytes {
		return nil
	}
	var n countWriter
	enc := json.NewEncoder(&n)
	enc.SetEscapeHTML(false) // count the data, not json.Marshal's \u003c escapes
	if err := enc.Encode(m); err != nil {
		return &problem{CodeJSONInvalid, "metadata cannot be written as JSON: " + err.Error()}
	}
	if size := int(n) - 1; size > metadataMaxBytes { // Encode ends with a newline
		return &problem{CodeMetadataTooLarge, "metadata is " + strconv.Itoa(size) + " bytes as JSON; Clerk takes at most 8192"}
	}
	return nil
}

// flatSizeBound is an upper bound of the JSON size of an object whose
// values are all strings (every byte escaped to 6); a large number when
// another value type makes it unknown.
func flatSizeBound(m map[string]any) int {
	n := 2
	for k, v := range m {
		s, ok := v.(string)
		if !ok {
			return metadataMaxBytes + 1
		}
		n += 6*len(k) + 6*len(s) + 6 // quotes, colon, comma
	}
	return n
}

// countWriter counts the bytes written to it.
type countWriter int

func (c *countWriter) Write(p []byte) (int, error) {
	*c += countWriter(len(p))
	return len(p), nil
}
