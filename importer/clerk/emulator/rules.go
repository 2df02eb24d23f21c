package emulator

import (
	"bytes"
	"encoding/base32"
	"encoding/json"
	userreq "github.com/clerkmigrate/clerkmigrate/mapping/request"
	"net/mail"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

var (
	emailShape = regexp.MustCompile(`^[^\s@]+@[^\s@]+\.[^\s@]+$`)
	e164       = regexp.MustCompile(`^\+[0-9]{7,15}$`)
	ethWallet  = regexp.MustCompile(`^0x[0-9a-fA-F]{40}$`)
	solWallet  = regexp.MustCompile(`^[1-9A-HJ-NP-Za-km-z]{32,44}$`)
)

// checkEmail validates an email address's syntax.
func checkEmail(param, v string) *apiError {
	a, err := mail.ParseAddress(v)
	if err != nil || a.Address != v || a.Name != "" || !emailShape.MatchString(v) {
		e := errFormat(param, "email_address must be a valid email address.")
		return &e
	}
	return nil
}

// checkPhone validates E.164: "+" then 7 to 15 digits.
func checkPhone(param, v string) *apiError {
	if !e164.MatchString(v) {
		e := errFormat(param, "phone_number must be a valid phone number in E.164 format, like +14155550100.")
		return &e
	}
	return nil
}

// checkWallet accepts an Ethereum (0x + 40 hex) or Solana (base58) address.
func checkWallet(param, v string) *apiError {
	if !ethWallet.MatchString(v) && !solWallet.MatchString(v) {
		e := errFormat(param, "web3_wallet must be a valid wallet address.")
		return &e
	}
	return nil
}

// usernameDenied are the characters Clerk's usernames refuse unless the
// instance allows them (Config.UsernameAllows).
const usernameDenied = "^$!.`#+~"

// checkUsername applies Clerk's username rules, from Clerk's docs
// (clerk.com/docs/guides/configure/auth-strategies/sign-up-sign-in-options,
// "Username"): "between 4 and 64 characters long and do not allow special
// characters (^$!.`#+~), but this can be customized"; "Usernames only
// support Latin-based characters"; and the catalogue's
// form_username_needs_non_number_char. allowed holds the denied characters
// this instance allows (customized). Other ASCII punctuation, which the
// docs neither list nor allow, is accepted (see the package doc).
func checkUsername(v, allowed string) *apiError {
	if n := len([]rune(v)); n < 4 || n > 64 {
		return &apiError{Code: "form_username_invalid_length", Param: kindUsername,
			Message: "is invalid", LongMessage: "Username must be between 4 and 64 characters long."}
	}
	digits := true
	for _, r := range v {
		switch {
		case r >= '0' && r <= '9':
			continue
		case strings.ContainsRune(usernameDenied, r) && !strings.ContainsRune(allowed, r),
			r >= utf8.RuneSelf && !unicode.Is(unicode.Latin, r),
			r < utf8.RuneSelf && !unicode.IsLetter(r) && !unicode.IsPunct(r) && !unicode.IsSymbol(r):
			return &apiError{Code: "form_username_invalid_character", Param: kindUsername, Message: "is invalid",
				LongMessage: "Username can only contain Latin letters, digits and the special characters this instance allows."}
		}
		digits = false
	}
	if digits {
		return &apiError{Code: "form_username_needs_non_number_char", Param: kindUsername, Message: "is invalid",
			LongMessage: "Username must contain at least one character that is not a number."}
	}
	return nil
}

// parseTime reads an RFC 3339 timestamp into Unix milliseconds.
func parseTime(param, v string) (int64, *apiError) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		e := errTime(param)
		return 0, &e
	}
	return t.UnixMilli(), nil
}

// checkTOTPSecret accepts what a TOTP library accepts: RFC 4648 base32,
// any case, padding optional.
func checkTOTPSecret(v string) *apiError {
	s := strings.ToUpper(strings.TrimSpace(v))
	s = strings.TrimRight(s, "=")
	_, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
	if s == "" || err != nil {
		return &apiError{Code: clerk.CodeInvalidTOTPSecret, Param: "totp_secret", Message: "is invalid",
			LongMessage: "The TOTP secret must be a base32 (RFC 4648) string."}
	}
	return nil
}

// checkBackupCodes requires non-empty codes.
func checkBackupCodes(codes []string) *apiError {
	for _, c := range codes {
		if strings.TrimSpace(c) == "" {
			e := errValue("backup_codes", "backup_codes must not hold empty codes.")
			return &e
		}
	}
	return nil
}

// checkStatuses checks an identification_status array against the
// identifiers it runs parallel to.
func checkStatuses(param string, statuses []string, n int) *apiError {
	if len(statuses) == 0 {
		return nil
	}
	if len(statuses) != n {
		other := strings.TrimSuffix(param, "_identification_status")
		return &apiError{Code: "form_param_array_length_mismatch", Param: param, Message: "is invalid",
			LongMessage: param + " must contain exactly one item for each item in " + other + "."}
	}
	for _, s := range statuses {
		if s != userreq.StatusVerified && s != userreq.StatusReserved {
			e := errValue(param, param+` items must be "verified" or "reserved".`)
			return &e
		}
	}
	return nil
}

// passwordInput is what a request says about the password.
type passwordInput struct {
	password, digest, hasher        string
	hasPassword, hasDigest, hasHash bool
	skipChecks                      bool
}

// readPassword reads password, password_digest, password_hasher and
// skip_password_checks from f.
func readPassword(f *form) passwordInput {
	var p passwordInput
	p.password, p.hasPassword = f.str("password")
	p.digest, p.hasDigest = f.str("password_digest")
	p.hasher, p.hasHash = f.str("password_hasher")
	if p.hasher == "" {
		p.hasHash = false
	}
	p.skipChecks, _ = f.boolean("skip_password_checks")
	return p
}

// check applies the password rules; it never echoes a secret.
func (p passwordInput) check() []apiError {
	var e apiError
	switch {
	case p.hasPassword && p.hasDigest:
		e = errExcludes("password_digest", "password")
	case p.hasPassword && p.hasHash:
		e = errExcludes("password_hasher", "password")
	case p.hasHash && !p.hasDigest:
		e = errNeeds("password_digest", "password_hasher")
	case p.hasDigest && !p.hasHash:
		e = errNeeds("password_hasher", "password_digest")
	case p.hasHash && !knownHasher(p.hasher):
		e = errValue("password_hasher", "password_hasher does not match one of the allowed values.")
	case p.hasHash:
		if v, _ := judgeDigest(p.hasher, p.digest); v != digestRefused {
			return nil
		}
		e = apiError{Code: clerk.CodePasswordDigestInvalid, Param: "password_digest", Message: "is invalid",
			LongMessage: "The password digest does not match the format of the " + p.hasher + " hasher."}
	case p.hasPassword:
		return checkPassword(p.password, p.skipChecks)
	default:
		return nil
	}
	return []apiError{e}
}

// apply records the password's presence on u (never the secret).
func (p passwordInput) apply(u *UserState, now int64) {
	switch {
	case p.hasPassword:
		u.PasswordEnabled, u.PasswordHasher, u.HasPasswordDigest = true, "", false
	case p.hasDigest:
		u.PasswordEnabled, u.PasswordHasher, u.HasPasswordDigest = true, p.hasher, true
	default:
		return
	}
	u.PasswordLastUpdatedAt = now
}

// maxMetadataBytes is Clerk's limit on each metadata object ("Metadata is
// limited to 8KB maximum", Clerk's metadata docs), measured as compact
// JSON without HTML escapes, as validate measures it.
const maxMetadataBytes = 8 << 10

// checkMetadataSize refuses a metadata object over maxMetadataBytes.
func checkMetadataSize(param string, m map[string]any) *apiError {
	if m == nil {
		return nil
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(m) != nil || buf.Len()-1 <= maxMetadataBytes { // Encode ends with a newline
		return nil
	}
	e := errTooLarge(param, param+" exceeds the maximum allowed size of 8KB ("+itoa(buf.Len()-1)+" bytes).")
	return &e
}
