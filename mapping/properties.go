package mapping

import (
	"sort"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/mapping/request"
)

// Codes of FieldError: stable, for machines (reports, tests, filters).
const (
	CodeMissing           = "missing"             // a required value is absent (the key, a required identifier)
	CodeRecordUnreadable  = "record_unreadable"   // the source could not read the record at all
	CodeTypeInvalid       = "type_invalid"        // a typed source value of the wrong shape (a list for first_name)
	CodeListInvalid       = "list_invalid"        // a `split: json` cell that is not a JSON array of scalars
	CodeJSONInvalid       = "json_invalid"        // metadata that is not JSON
	CodeJSONNotObject     = "json_not_object"     // metadata JSON that is not an object
	CodeTimestampInvalid  = "timestamp_invalid"   // a timestamp in no format we know
	CodeBoolInvalid       = "bool_invalid"        // not one of true/false/1/0/yes/no/t/f/y/n
	CodeIntInvalid        = "int_invalid"         // not an integer
	CodeHasherUnknown     = "hasher_unknown"      // password_hasher not on Clerk's list
	CodeHasherMissing     = "hasher_missing"      // a digest without a hasher
	CodeDigestMissing     = "digest_missing"      // a hasher (from the row) without a digest
	CodeDigestInvalid     = "digest_invalid"      // the digest does not fit its hasher's format
	CodePasswordConflict  = "password_conflict"   // both password and password_digest
	CodePasswordTooShort  = "password_too_short"  // a plaintext password under 8 characters
	CodeTOTPInvalid       = "totp_invalid"        // not a usable base32 TOTP secret
	CodeBackupCodesCount  = "backup_codes_count"  // more than 50 backup codes
	CodeBackupCodeInvalid = "backup_code_invalid" // an empty, odd or malformed-digest backup code
	CodeEmailInvalid      = "email_invalid"       // not an email address
	CodePhoneInvalid      = "phone_invalid"       // not a phone number (in the default region)
	CodeUsernameInvalid   = "username_invalid"    // not 4-64 Latin letters, digits and punctuation, or digits only
	CodeLocaleInvalid     = "locale_invalid"      // not a language tag like en-US
	CodeWeb3WalletInvalid = "web3_wallet_invalid" // not an Ethereum (0x...) or Solana address
	CodeMetadataTooLarge  = "metadata_too_large"  // metadata over 8 KB serialised
	CodeStatusInvalid     = "status_invalid"      // an identification status other than verified/reserved
	CodeStatusLength      = "status_length"       // status array length differs from its identifiers
	CodeParamMissing      = "param_missing"       // a template's {param:name} was not given at run time

	// Warnings: the row stays valid and the value is sent (FieldError.Warning).
	CodeDigestOpen        = "digest_form_open"      // the digest fits Clerk's documented format, not the form its software writes, or a form Clerk's docs leave open
	CodeUsernameCharacter = "username_customizable" // a character Clerk refuses by default and an instance can allow
	// The row stays valid and the value is sent changed as the Reason says:
	// an email, phone, locale, wallet or external_id with white space around
	// it is sent without it (Clerk refuses the padded form as a format
	// error); an email or phone given twice in one row is sent once.
	CodeValueTrimmed  = "value_trimmed"  // white space around a value, dropped
	CodeValueRepeated = "value_repeated" // an identifier given twice in one row, sent once
	// Values that would reach Clerk other than as the source holds them, or
	// that Clerk cannot take (see rewrites.go).
	CodeUTF8Invalid          = "utf8_invalid"          // text that is not UTF-8 (or a lone surrogate escape): JSON would carry U+FFFD
	CodeTimestampImplausible = "timestamp_implausible" // before 1970 or after tomorrow
	CodeTimestampAmbiguous   = "timestamp_ambiguous"   // 8 digits that read as Unix seconds and as YYYYMMDD
	CodeTooLong              = "too_long"              // over Clerk's limit for the field (names 256 characters, passwords 72 bytes)
	CodeRequestTooLarge      = "request_too_large"     // the whole request over the body bound
	CodeTemplateIncomplete   = "template_incomplete"   // a template with some of its fields and not others
)

// warningCodes are the codes of warnings.
var warningCodes = map[string]bool{CodeDigestOpen: true, CodeUsernameCharacter: true, CodeValueTrimmed: true,
	CodeValueRepeated: true}

// kind is the type of a CreateUser property, which decides how a source value
// is converted.
type kind uint8

const (
	kindString    kind = iota // a text value
	kindList                  // an array of text values
	kindBool                  // a boolean, parsed from text
	kindInt                   // an integer, parsed from text
	kindTimestamp             // an RFC 3339 UTC string, parsed from many formats
	kindObject                // a JSON object (metadata)
)

func (k kind) String() string {
	return [...]string{"text", "list", "bool", "int", "timestamp", "object"}[k]
}

// parseName is the `parse:` word that names a kind's conversion.
func (k kind) parseName() string {
	return [...]string{"", "", "bool", "int", "timestamp", "json"}[k]
}

// property is one CreateUser body property the mapping can fill.
type property struct {
	name   string
	kind   kind
	secret bool // never put the value in a FieldError
	// keepEmpty keeps empty elements of JSON/typed lists so that check can
	// refuse them (backup codes); otherwise empty elements are dropped.
	keepEmpty bool
	// check validates and normalises one value (one element of a list).
	check func(s string, o *Options) (string, *problem)
	// refusesNonUTF8: check refuses text that is not UTF-8 by itself (it takes
	// ASCII only, or runes of its own kind, which U+FFFD is not: usernames'
	// Latin letters, phones' digits and separators); such a refusal is
	// named utf8_invalid (notUTF8), and good rows skip the separate check.
	refusesNonUTF8 bool
	// trims: white space around a value is no part of it (an address, a
	// number, a tag): it is dropped before check, with a value_trimmed
	// warning (trimmed). Other text is checked, and sent, as it is.
	trims bool
	// one setter, by kind
	setString func(p *request.CreateUser, s string)
	setList   func(p *request.CreateUser, l []string)
	getList   func(p *request.CreateUser) []string
	setBool   func(p *request.CreateUser, b bool)
	setInt    func(p *request.CreateUser, n int)
	setObject func(p *request.CreateUser, m map[string]any)
}

// problem is what a check found wrong, before it is given a field and source.
type problem struct {
	code   string
	reason string
}

// Property names used by the cross-field checks.
const (
	propEmail          = "email_address"
	propEmailStatus    = "email_address_identification_status"
	propPhone          = "phone_number"
	propPhoneStatus    = "phone_number_identification_status"
	propWeb3Wallet     = "web3_wallet"
	propUsername       = "username"
	propPassword       = "password"
	propDigest         = "password_digest"
	propHasher         = "password_hasher"
	propSkipUserReq    = "skip_user_requirement"
	propSkipPassChecks = "skip_password_checks"
	propExternalID     = "external_id"
)

// identifierProps are the identifiers an instance can require.
var identifierProps = []string{propEmail, propPhone, propUsername, propWeb3Wallet}

// properties are the CreateUser properties a mapping can fill, in the
// spec's order; external_id is missing on purpose: it is always the key.
var properties = []property{
	{name: "first_name", kind: kindString, check: checkName, setString: func(p *request.CreateUser, s string) { p.FirstName = request.Value(s) }},
	{name: "last_name", kind: kindString, check: checkName, setString: func(p *request.CreateUser, s string) { p.LastName = request.Value(s) }},
	{name: "locale", kind: kindString, check: checkLocale, refusesNonUTF8: true, trims: true, setString: func(p *request.CreateUser, s string) { p.Locale = request.Value(s) }},
	{name: propEmail, kind: kindList, check: checkEmail, refusesNonUTF8: true, trims: true,
		setList: func(p *request.CreateUser, l []string) { p.EmailAddresses = l },
		getList: func(p *request.CreateUser) []string { return p.EmailAddresses }},
	{name: propEmailStatus, kind: kindList, check: checkStatus, refusesNonUTF8: true,
		setList: func(p *request.CreateUser, l []string) { p.EmailAddressIdentificationStatus = l },
		getList: func(p *request.CreateUser) []string { return p.EmailAddressIdentificationStatus }},
	{name: propPhone, kind: kindList, check: checkPhone, refusesNonUTF8: true, trims: true,
		setList: func(p *request.CreateUser, l []string) { p.PhoneNumbers = l },
		getList: func(p *request.CreateUser) []string { return p.PhoneNumbers }},
	{name: propPhoneStatus, kind: kindList, check: checkStatus, refusesNonUTF8: true,
		setList: func(p *request.CreateUser, l []string) { p.PhoneNumberIdentificationStatus = l },
		getList: func(p *request.CreateUser) []string { return p.PhoneNumberIdentificationStatus }},
	{name: propWeb3Wallet, kind: kindList, check: checkWeb3Wallet, refusesNonUTF8: true, trims: true,
		setList: func(p *request.CreateUser, l []string) { p.Web3Wallets = l },
		getList: func(p *request.CreateUser) []string { return p.Web3Wallets }},
	{name: propUsername, kind: kindString, check: checkUsername, refusesNonUTF8: true, setString: func(p *request.CreateUser, s string) { p.Username = request.Value(s) }},
	{name: propPassword, kind: kindString, secret: true, check: checkPassword, setString: func(p *request.CreateUser, s string) { p.Password = request.Value(s) }},
	{name: propDigest, kind: kindString, secret: true, setString: func(p *request.CreateUser, s string) { p.PasswordDigest = request.Value(s) }},
	{name: propHasher, kind: kindString, check: checkHasher, refusesNonUTF8: true, setString: func(p *request.CreateUser, s string) { p.PasswordHasher = s }},
	{name: propSkipPassChecks, kind: kindBool, setBool: func(p *request.CreateUser, b bool) { p.SkipPasswordChecks = request.Value(b) }},
	{name: "skip_password_requirement", kind: kindBool, setBool: func(p *request.CreateUser, b bool) { p.SkipPasswordRequirement = request.Value(b) }},
	{name: "totp_secret", kind: kindString, secret: true, check: checkTOTPSecret, refusesNonUTF8: true, setString: func(p *request.CreateUser, s string) { p.TOTPSecret = request.Value(s) }},
	{name: "backup_codes", kind: kindList, secret: true, keepEmpty: true, check: checkBackupCode, refusesNonUTF8: true,
		setList: func(p *request.CreateUser, l []string) { p.BackupCodes = l },
		getList: func(p *request.CreateUser) []string { return p.BackupCodes }},
	{name: "public_metadata", kind: kindObject, setObject: func(p *request.CreateUser, m map[string]any) { p.PublicMetadata = m }},
	{name: "private_metadata", kind: kindObject, setObject: func(p *request.CreateUser, m map[string]any) { p.PrivateMetadata = m }},
	{name: "unsafe_metadata", kind: kindObject, setObject: func(p *request.CreateUser, m map[string]any) { p.UnsafeMetadata = m }},
	{name: "delete_self_enabled", kind: kindBool, setBool: func(p *request.CreateUser, b bool) { p.DeleteSelfEnabled = request.Value(b) }},
	{name: "legal_accepted_at", kind: kindTimestamp, setString: func(p *request.CreateUser, s string) { p.LegalAcceptedAt = request.Value(s) }},
	{name: "skip_legal_checks", kind: kindBool, setBool: func(p *request.CreateUser, b bool) { p.SkipLegalChecks = request.Value(b) }},
	{name: propSkipUserReq, kind: kindBool, setBool: func(p *request.CreateUser, b bool) { p.SkipUserRequirement = request.Value(b) }},
	{name: "create_organization_enabled", kind: kindBool, setBool: func(p *request.CreateUser, b bool) { p.CreateOrganizationEnabled = request.Value(b) }},
	{name: "create_organizations_limit", kind: kindInt, setInt: func(p *request.CreateUser, n int) { p.CreateOrganizationsLimit = request.Value(n) }},
	{name: "created_at", kind: kindTimestamp, setString: func(p *request.CreateUser, s string) { p.CreatedAt = request.Value(s) }},
	{name: "bypass_client_trust", kind: kindBool, setBool: func(p *request.CreateUser, b bool) { p.BypassClientTrust = request.Value(b) }},
	{name: "banned", kind: kindBool, setBool: func(p *request.CreateUser, b bool) { p.Banned = request.Value(b) }},
	{name: "locked", kind: kindBool, setBool: func(p *request.CreateUser, b bool) { p.Locked = request.Value(b) }},
}

// propertyIndex finds a property by name.
var propertyIndex = func() map[string]int {
	idx := make(map[string]int, len(properties))
	for i, p := range properties {
		idx[p.name] = i
	}
	return idx
}()

// propertyNames lists the names a mapping may use, sorted, for error messages.
func propertyNames() []string {
	names := make([]string, 0, len(properties))
	for _, p := range properties {
		names = append(names, p.name)
	}
	sort.Strings(names)
	return names
}

// Properties lists the CreateUser properties a mapping file can fill, sorted
// (every property of the request body but external_id, which is the key).
func Properties() []string { return propertyNames() }

// notUTF8 turns a check's refusal of raw (the value before transforms) into
// utf8_invalid when raw is not UTF-8: that is what is wrong with it.
func (p *property) notUTF8(raw string, pr *problem) *problem {
	if !p.refusesNonUTF8 {
		return pr
	}
	if tp := textProblem(raw, p.secret); tp != nil {
		return tp
	}
	return pr
}

// trimmed drops the white space around s when the property's values do
// not hold any (property.trims), and says so: a value_trimmed warning
// naming the value as the source holds it, unless the property is secret.
// A value of white space only is left for check to judge.
func (p *property) trimmed(s string) (string, *problem) {
	t := strings.TrimSpace(s)
	if !p.trims || t == s || t == "" {
		return s, nil
	}
	what := "the value"
	if !p.secret {
		what = quote(s)
	}
	return t, &problem{CodeValueTrimmed, what + " has white space around it, which is no part of a " + p.name +
		": sent without it"}
}
