package mapping

import (
	"encoding/json"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/clerkmigrate/clerkmigrate/sources"
)

// No silent rewrites: a value is sent as the source holds it, or its row
// gets a finding naming the field and why. This file holds the checks for
// what would otherwise reach Clerk changed, or not at all:
//
//   - text that is not UTF-8 (a Latin-1 export), or a JSON cell with a
//     \u escape of a lone surrogate: encoding/json would send U+FFFD in
//     its place (utf8_invalid);
//   - timestamps before 1970 or after tomorrow (timestamp_implausible),
//     which is also how a number read in the wrong unit shows; and eight
//     digits that read both as Unix seconds and as a date, 20230115
//     (timestamp_ambiguous);
//   - values over Clerk's limits (too_long, request_too_large), which
//     validate would pass and Clerk refuse mid-import.
//
// Phone numbers with letters or an extension are refused in checkPhone.
// Normalisations that keep the value's meaning are not rewrites and stay:
// E.164 for phones, base32 TOTP secrets without spaces, RFC 3339 UTC
// timestamps. Emails keep their case (Clerk compares them in any case).
// White space around an identifier and a repeated identifier are dropped
// with a warning (value_trimmed, value_repeated: property.trimmed, dedupe).

// Clerk's limits on one CreateUser request, and where each comes from.
const (
	// nameMaxChars: first_name and last_name. The spec gives no maxLength;
	// Clerk's own UI strings for its errors form_param_max_length_exceeded__
	// first_name / __last_name say "should not exceed 256 characters"
	// (clerk/javascript, packages/localizations/src/en-US.ts).
	nameMaxChars = 256
	// passwordMaxBytes: Clerk refuses longer passwords with
	// form_password_size_in_bytes_exceeded (same file); 72 bytes is the
	// input limit of bcrypt, with which Clerk stores passwords (Go's
	// golang.org/x/crypto/bcrypt refuses longer input).
	passwordMaxBytes = 72
	// requestMaxBytes bounds the JSON body of one request. Clerk documents
	// no body limit; the largest body whose every field is within the
	// documented limits above and in validate.go (three metadata objects of
	// 8 KB, 50 backup codes, names of 256 characters...) is about 30 KB, so
	// a body past 64 KiB can only come from fields Clerk sets no documented
	// limit for (the key, a digest, hundreds of addresses): it is refused
	// here rather than by a 413 in the middle of an import.
	requestMaxBytes = 64 << 10
)

// minTimestamp is the earliest plausible created_at or legal_accepted_at.
var minTimestamp = time.Unix(0, 0).UTC()

// checkName refuses a first or last name over Clerk's 256 characters.
func checkName(s string, _ *Options) (string, *problem) {
	if len(s) > nameMaxChars && utf8.RuneCountInString(s) > nameMaxChars {
		return "", &problem{CodeTooLong, quote(s) + " has " + strconv.Itoa(utf8.RuneCountInString(s)) +
			" characters; Clerk takes at most 256"}
	}
	return s, nil
}

// checkPassword refuses a plaintext password over Clerk's 72 bytes; it
// never quotes the password.
func checkPassword(s string, _ *Options) (string, *problem) {
	if len(s) > passwordMaxBytes {
		return "", &problem{CodeTooLong, "the password is " + strconv.Itoa(len(s)) +
			" bytes long; Clerk takes at most 72 (form_password_size_in_bytes_exceeded)"}
	}
	return s, nil
}

// textProblem says why s cannot be sent as it is, or nil: bytes that are
// not UTF-8. A secret is never quoted.
func textProblem(s string, secret bool) *problem {
	if utf8.ValidString(s) {
		return nil
	}
	i := 0
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			break
		}
		i += size
	}
	what := "the value"
	if !secret {
		what = quote(s)
	}
	return &problem{CodeUTF8Invalid, what + " holds bytes that are not UTF-8 (0x" + strconv.FormatUint(uint64(s[i]), 16) +
		" at byte " + strconv.Itoa(i) + "), which would reach Clerk as U+FFFD: re-export the source as UTF-8 (is it Latin-1?)"}
}

// jsonTextProblem says why a cell holding JSON (metadata, a split: json
// list) cannot be read as it is written, or nil: bytes that are not UTF-8,
// or a \u escape of a lone surrogate, which decoding turns into U+FFFD.
func jsonTextProblem(s string, secret bool) *problem {
	if utf8.ValidString(s) && !strings.Contains(s, `\u`) {
		return nil
	}
	path, why, bad := sources.InvalidJSONText([]byte(s))
	if !bad {
		return nil
	}
	where := "the JSON"
	if path != "" {
		where = "the value at " + path + " in the JSON"
	}
	if secret {
		return &problem{CodeUTF8Invalid, where + " holds text that decoding would not keep (U+FFFD in its place)"}
	}
	return &problem{CodeUTF8Invalid, where + " " + why + ", which would reach Clerk as U+FFFD: re-export the source as UTF-8"}
}

// timestampProblem checks that a created_at or legal_accepted_at is
// plausible: not before 1970, not after a day past now (the moment the
// mapping was loaded). A date outside means a wrong unit or a wrong year,
// not a signup: it is reported rather than sent.
func timestampProblem(t, now time.Time) *problem {
	switch {
	case t.Before(minTimestamp):
		return &problem{CodeTimestampImplausible, "before 1970 (" + formatTimestamp(t) + "): a wrong unit or year?"}
	case t.After(now.Add(24 * time.Hour)):
		return &problem{CodeTimestampImplausible, "in the future (" + formatTimestamp(t) + "): a wrong unit or year?"}
	}
	return nil
}

// ambiguousDigits reports whether s, all digits, is eight of them that
// read as a date (YYYYMMDD, 1900-2099) as well as Unix seconds in 1970-73.
func ambiguousDigits(s string) (time.Time, bool) {
	if len(s) != 8 || !isDigits(s) {
		return time.Time{}, false
	}
	d, err := time.Parse("20060102", s)
	if err != nil || d.Year() < 1900 || d.Year() > 2099 {
		return time.Time{}, false
	}
	return d, true
}

// ambiguousProblem explains an 8-digit timestamp (the caller adds the
// value: "20230115" is ambiguous...).
func ambiguousProblem(s string, date time.Time) *problem {
	n, _ := strconv.ParseInt(s, 10, 64)
	return &problem{CodeTimestampAmbiguous, "ambiguous: Unix seconds (" + formatTimestamp(time.Unix(n, 0)) +
		") or the date " + date.Format(time.DateOnly) + "; write it as " + date.Format(time.DateOnly) + " (or in RFC 3339)"}
}

// checkRequestSize refuses a request whose JSON body would exceed
// requestMaxBytes, naming its largest field. A cheap upper bound of the
// body decides for nearly every row; only a row past it is encoded.
func checkRequestSize(p *request.CreateUser, st *rowState) {
	if requestSizeBound(p) <= requestMaxBytes {
		return
	}
	b, err := json.Marshal(p)
	if err != nil || len(b) <= requestMaxBytes {
		return
	}
	field, size := largestField(p)
	st.errs = append(st.errs, FieldError{Field: field, Code: CodeRequestTooLarge,
		Reason: "the request would be " + strconv.Itoa(len(b)) + " bytes of JSON, " + field + " " + strconv.Itoa(size) +
			" of them; clerkmigrate sends at most 65536 (Clerk documents no limit, and every documented field limit keeps a request far below it)"})
}

// requestSizeBound is at least the JSON size of p: every text byte may be
// escaped to six, every metadata object is at most 8 KB (checked before),
// and the property names and punctuation of the whole schema come to less
// than 1 KB.
func requestSizeBound(p *request.CreateUser) int {
	n := len(p.PasswordHasher)
	for _, f := range [...]*request.Field[string]{&p.ExternalID, &p.FirstName, &p.LastName, &p.Locale, &p.Username,
		&p.Password, &p.PasswordDigest, &p.TOTPSecret, &p.LegalAcceptedAt, &p.CreatedAt} {
		if s, ok := f.Get(); ok {
			n += len(s)
		}
	}
	for _, l := range [...][]string{p.EmailAddresses, p.EmailAddressIdentificationStatus, p.PhoneNumbers,
		p.PhoneNumberIdentificationStatus, p.Web3Wallets, p.BackupCodes} {
		for _, s := range l {
			n += len(s) + 1 // and a comma, within the six
		}
	}
	return 6*n + 1024 + 3*(metadataMaxBytes+32)
}

// eachText calls fn with each text value of a request and its property
// (the slow path: largestField).
func eachText(p *request.CreateUser, fn func(prop, text string)) {
	field := func(name string, v request.Field[string]) {
		if s, ok := v.Get(); ok {
			fn(name, s)
		}
	}
	field(propExternalID, p.ExternalID)
	field("first_name", p.FirstName)
	field("last_name", p.LastName)
	field("locale", p.Locale)
	field(propUsername, p.Username)
	field(propPassword, p.Password)
	field(propDigest, p.PasswordDigest)
	field("totp_secret", p.TOTPSecret)
	field("legal_accepted_at", p.LegalAcceptedAt)
	field("created_at", p.CreatedAt)
	fn(propHasher, p.PasswordHasher)
	list := func(name string, v []string) {
		for _, s := range v {
			fn(name, s)
		}
	}
	list(propEmail, p.EmailAddresses)
	list(propEmailStatus, p.EmailAddressIdentificationStatus)
	list(propPhone, p.PhoneNumbers)
	list(propPhoneStatus, p.PhoneNumberIdentificationStatus)
	list(propWeb3Wallet, p.Web3Wallets)
	list("backup_codes", p.BackupCodes)
}

// largestField names the property taking the most bytes of the request.
func largestField(p *request.CreateUser) (string, int) {
	sizes := map[string]int{}
	eachText(p, func(prop, text string) { sizes[prop] += len(text) + 3 })
	for name, m := range map[string]map[string]any{"public_metadata": p.PublicMetadata,
		"private_metadata": p.PrivateMetadata, "unsafe_metadata": p.UnsafeMetadata} {
		if b, err := json.Marshal(m); err == nil && m != nil {
			sizes[name] = len(b)
		}
	}
	best, size := "", -1
	for name, n := range sizes {
		if n > size || n == size && name < best {
			best, size = name, n
		}
	}
	return best, size
}
