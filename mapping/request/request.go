// Package request is the body of Clerk's CreateUser call (POST /v1/users)
// as the mapping builds it: CreateUser, and Field, a property that can be
// left out, sent as an explicit null or sent with a value.
//
// It is a leaf of its own, below mapping, because of which way the house
// points: cmd → importer → mapping → sources. The mapping's job is to turn
// a legacy record into this request, and it must not depend on the HTTP
// client that sends it (importer/clerk), which sits above it, beside the
// engines. So the request type belongs to the mapping's side, and the
// client depends on it: importer/clerk takes a *request.CreateUser and
// builds its own update bodies from request.Field. Nothing here knows of
// HTTP, pacing or the ledger; it holds the JSON shape of the spec's
// CreateUser schema and how to redact its secrets.
package request

import (
	"bytes"
	"encoding/json"
	"strconv"
)

// Identification statuses for email_address_identification_status and
// phone_number_identification_status.
const (
	StatusVerified = "verified"
	StatusReserved = "reserved"
)

// CreateUser is the body of POST /v1/users. It carries every property of
// the spec's request schema; nullable properties are Fields so that a request
// can leave them out or send an explicit null.
type CreateUser struct {
	ExternalID                       Field[string]  `json:"external_id,omitzero"`
	FirstName                        Field[string]  `json:"first_name,omitzero"`
	LastName                         Field[string]  `json:"last_name,omitzero"`
	Locale                           Field[string]  `json:"locale,omitzero"`
	EmailAddresses                   []string       `json:"email_address,omitempty"`
	EmailAddressIdentificationStatus []string       `json:"email_address_identification_status,omitempty"`
	PhoneNumbers                     []string       `json:"phone_number,omitempty"`
	PhoneNumberIdentificationStatus  []string       `json:"phone_number_identification_status,omitempty"`
	Web3Wallets                      []string       `json:"web3_wallet,omitempty"`
	Username                         Field[string]  `json:"username,omitzero"`
	Password                         Field[string]  `json:"password,omitzero"`
	PasswordDigest                   Field[string]  `json:"password_digest,omitzero"`
	PasswordHasher                   string         `json:"password_hasher,omitempty"`
	SkipPasswordChecks               Field[bool]    `json:"skip_password_checks,omitzero"`
	SkipPasswordRequirement          Field[bool]    `json:"skip_password_requirement,omitzero"`
	TOTPSecret                       Field[string]  `json:"totp_secret,omitzero"`
	BackupCodes                      []string       `json:"backup_codes,omitempty"`
	PublicMetadata                   map[string]any `json:"public_metadata,omitempty"`
	PrivateMetadata                  map[string]any `json:"private_metadata,omitempty"`
	UnsafeMetadata                   map[string]any `json:"unsafe_metadata,omitempty"`
	DeleteSelfEnabled                Field[bool]    `json:"delete_self_enabled,omitzero"`
	LegalAcceptedAt                  Field[string]  `json:"legal_accepted_at,omitzero"`
	SkipLegalChecks                  Field[bool]    `json:"skip_legal_checks,omitzero"`
	SkipUserRequirement              Field[bool]    `json:"skip_user_requirement,omitzero"`
	CreateOrganizationEnabled        Field[bool]    `json:"create_organization_enabled,omitzero"`
	CreateOrganizationsLimit         Field[int]     `json:"create_organizations_limit,omitzero"`
	CreatedAt                        Field[string]  `json:"created_at,omitzero"`
	BypassClientTrust                Field[bool]    `json:"bypass_client_trust,omitzero"`
	Banned                           Field[bool]    `json:"banned,omitzero"`
	Locked                           Field[bool]    `json:"locked,omitzero"`
}

// Redacted returns a copy with every secret (password, digest, TOTP secret,
// backup codes) replaced by a marker, safe to log or show in a plan.
func (p CreateUser) Redacted() CreateUser {
	const mark = "[redacted]"
	if _, ok := p.Password.Get(); ok {
		p.Password = Value(mark)
	}
	if _, ok := p.PasswordDigest.Get(); ok {
		p.PasswordDigest = Value(mark)
	}
	if _, ok := p.TOTPSecret.Get(); ok {
		p.TOTPSecret = Value(mark)
	}
	if len(p.BackupCodes) > 0 {
		p.BackupCodes = []string{mark}
	}
	return p
}

// Field is an optional request property that can be left out, sent as an
// explicit JSON null, or sent with a value. The zero Field is left out of the
// request body (it is tagged `omitzero`), so a request type can tell "don't
// touch" from "clear this" where the spec allows null.
type Field[T any] struct {
	set  bool
	null bool
	v    T
}

// Value returns a Field that sends v.
func Value[T any](v T) Field[T] { return Field[T]{set: true, v: v} }

// Null returns a Field that sends an explicit JSON null.
func Null[T any]() Field[T] { return Field[T]{set: true, null: true} }

// IsZero reports whether the field is left out of the request (for omitzero).
func (f Field[T]) IsZero() bool { return !f.set }

// IsNull reports whether the field is sent as an explicit null.
func (f Field[T]) IsNull() bool { return f.set && f.null }

// Get returns the value and whether one is set (false for unset and null).
func (f Field[T]) Get() (T, bool) { return f.v, f.set && !f.null }

// MarshalJSON writes the value, or null.
func (f Field[T]) MarshalJSON() ([]byte, error) {
	if !f.set || f.null {
		return []byte("null"), nil
	}
	switch v := any(f.v).(type) {
	case string:
		if b, ok := plainString(v); ok {
			return b, nil
		}
	case bool:
		return strconv.AppendBool(nil, v), nil
	case int:
		return strconv.AppendInt(nil, int64(v), 10), nil
	}
	return json.Marshal(f.v)
}

// plainString quotes s when it needs no escape at all (printable ASCII
// without the quote, the backslash and the <, > and & that encoding/json
// escapes): the same bytes json.Marshal writes, without its encoder (a
// request's fields were a third of the cost of encoding it); false
// otherwise.
func plainString(s string) ([]byte, bool) {
	if !isPlain(s) {
		return nil, false
	}
	b := make([]byte, 0, len(s)+2)
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"'), true
}

// UnmarshalJSON reads a value or an explicit null.
func (f *Field[T]) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*f = Null[T]()
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Value(v)
	return nil
}
