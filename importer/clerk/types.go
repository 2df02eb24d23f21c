package clerk

import (
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
)

// APIVersion is the Clerk Backend API version every request pins with the
// Clerk-API-Version header. It is the version of ../shared/clerk-openapi/bapi.yml.
const APIVersion = "2026-05-12"

// Instance is Clerk's Instance object (GET /v1/instance), with the
// properties this project reads: who the instance a secret key reaches is.
type Instance struct {
	Object string `json:"object"`
	// ID is Clerk's id of the instance ("ins_…"): what tells two instances
	// behind one API URL apart, and what stays when a key is rotated.
	ID string `json:"id"`
	// EnvironmentType is "production" or "development" (the spec's example;
	// it lists no values).
	EnvironmentType string `json:"environment_type"`
}

// User is Clerk's User object, with the properties this project reads.
type User struct {
	ID                        string         `json:"id"`
	Object                    string         `json:"object"`
	ExternalID                *string        `json:"external_id"`
	PrimaryEmailAddressID     *string        `json:"primary_email_address_id"`
	PrimaryPhoneNumberID      *string        `json:"primary_phone_number_id"`
	PrimaryWeb3WalletID       *string        `json:"primary_web3_wallet_id"`
	Username                  *string        `json:"username"`
	FirstName                 *string        `json:"first_name"`
	LastName                  *string        `json:"last_name"`
	Locale                    *string        `json:"locale,omitempty"`
	PublicMetadata            map[string]any `json:"public_metadata"`
	PrivateMetadata           map[string]any `json:"private_metadata"`
	UnsafeMetadata            map[string]any `json:"unsafe_metadata"`
	EmailAddresses            []EmailAddress `json:"email_addresses"`
	PhoneNumbers              []PhoneNumber  `json:"phone_numbers"`
	Web3Wallets               []Web3Wallet   `json:"web3_wallets"`
	PasswordEnabled           bool           `json:"password_enabled"`
	TwoFactorEnabled          bool           `json:"two_factor_enabled"`
	TOTPEnabled               bool           `json:"totp_enabled"`
	BackupCodeEnabled         bool           `json:"backup_code_enabled"`
	Banned                    bool           `json:"banned"`
	Locked                    bool           `json:"locked"`
	CreatedAt                 int64          `json:"created_at"`
	UpdatedAt                 int64          `json:"updated_at"`
	LegalAcceptedAt           *int64         `json:"legal_accepted_at,omitempty"`
	DeleteSelfEnabled         bool           `json:"delete_self_enabled"`
	CreateOrganizationEnabled bool           `json:"create_organization_enabled"`
	CreateOrganizationsLimit  *int           `json:"create_organizations_limit,omitempty"`
}

// EmailAddress is Clerk's EmailAddress object (the properties we read).
type EmailAddress struct {
	ID           string        `json:"id"`
	Object       string        `json:"object"`
	EmailAddress string        `json:"email_address"`
	Reserved     bool          `json:"reserved"`
	Verification *Verification `json:"verification"`
}

// PhoneNumber is Clerk's PhoneNumber object (the properties we read).
type PhoneNumber struct {
	ID           string        `json:"id"`
	Object       string        `json:"object"`
	PhoneNumber  string        `json:"phone_number"`
	Reserved     bool          `json:"reserved"`
	Verification *Verification `json:"verification"`
}

// Web3Wallet is Clerk's Web3Wallet object (the properties we read).
type Web3Wallet struct {
	ID           string        `json:"id"`
	Object       string        `json:"object"`
	Web3Wallet   string        `json:"web3_wallet"`
	Verification *Verification `json:"verification"`
}

// Verification is the verification attached to an identifier.
type Verification struct {
	Object   string `json:"object,omitempty"`
	Status   string `json:"status"`
	Strategy string `json:"strategy"`
}

// ListUsersParams are the query parameters of GET /v1/users (and of
// /v1/users/count, which takes the same filters). The slices are exact-match
// filters of up to 100 values each.
type ListUsersParams struct {
	EmailAddress []string
	PhoneNumber  []string
	ExternalID   []string
	Username     []string
	Web3Wallet   []string
	UserID       []string
	Query        string
	// OrderBy defaults to "-created_at" (newest first); the StartingAfter
	// cursor works only with created_at orderings.
	OrderBy string
	// Limit is the page size, 1 to 500 (Clerk's default is 10).
	Limit int
	// Offset must be 0 when StartingAfter is set.
	Offset int
	// StartingAfter is the id of the last user of the previous page.
	StartingAfter string
}

// UpdateUserParams is the body of PATCH /v1/users/{user_id}. It carries every
// property of the spec's request schema; nullable properties are Fields so
// that a request can leave them out or send an explicit null (a null
// username removes it). Since 2026-05-12 the endpoint takes no metadata: use
// MetadataParams with UpdateUserMetadata or ReplaceUserMetadata.
type UpdateUserParams struct {
	ExternalID                       request.Field[string] `json:"external_id,omitzero"`
	FirstName                        request.Field[string] `json:"first_name,omitzero"`
	LastName                         request.Field[string] `json:"last_name,omitzero"`
	Locale                           request.Field[string] `json:"locale,omitzero"`
	PrimaryEmailAddressID            request.Field[string] `json:"primary_email_address_id,omitzero"`
	NotifyPrimaryEmailAddressChanged request.Field[bool]   `json:"notify_primary_email_address_changed,omitzero"`
	PrimaryPhoneNumberID             request.Field[string] `json:"primary_phone_number_id,omitzero"`
	PrimaryWeb3WalletID              request.Field[string] `json:"primary_web3_wallet_id,omitzero"`
	Username                         request.Field[string] `json:"username,omitzero"`
	ProfileImageID                   request.Field[string] `json:"profile_image_id,omitzero"`
	Password                         request.Field[string] `json:"password,omitzero"`
	// PasswordDigest is not nullable in this schema.
	PasswordDigest            string                `json:"password_digest,omitempty"`
	PasswordHasher            string                `json:"password_hasher,omitempty"`
	SkipPasswordChecks        request.Field[bool]   `json:"skip_password_checks,omitzero"`
	SignOutOfOtherSessions    request.Field[bool]   `json:"sign_out_of_other_sessions,omitzero"`
	TOTPSecret                request.Field[string] `json:"totp_secret,omitzero"`
	BackupCodes               []string              `json:"backup_codes,omitempty"`
	DeleteSelfEnabled         request.Field[bool]   `json:"delete_self_enabled,omitzero"`
	CreateOrganizationEnabled request.Field[bool]   `json:"create_organization_enabled,omitzero"`
	LegalAcceptedAt           request.Field[string] `json:"legal_accepted_at,omitzero"`
	SkipLegalChecks           request.Field[bool]   `json:"skip_legal_checks,omitzero"`
	CreateOrganizationsLimit  request.Field[int]    `json:"create_organizations_limit,omitzero"`
	CreatedAt                 request.Field[string] `json:"created_at,omitzero"`
	BypassClientTrust         request.Field[bool]   `json:"bypass_client_trust,omitzero"`
}

// Redacted returns a copy with every secret (password, digest, TOTP secret,
// backup codes) replaced by a marker, safe to log or show in a plan.
func (p UpdateUserParams) Redacted() UpdateUserParams {
	const mark = "[redacted]"
	if _, ok := p.Password.Get(); ok {
		p.Password = request.Value(mark)
	}
	if p.PasswordDigest != "" {
		p.PasswordDigest = mark
	}
	if _, ok := p.TOTPSecret.Get(); ok {
		p.TOTPSecret = request.Value(mark)
	}
	if len(p.BackupCodes) > 0 {
		p.BackupCodes = []string{mark}
	}
	return p
}

// MetadataParams is the body of PATCH and PUT /v1/users/{user_id}/metadata.
// A nil map leaves that metadata untouched; an empty non-nil map is sent as
// {} (with PUT it clears the field). With PATCH (deep merge) a key whose
// value is nil is sent as JSON null, which removes the key.
type MetadataParams struct {
	PublicMetadata  map[string]any `json:"public_metadata,omitzero"`
	PrivateMetadata map[string]any `json:"private_metadata,omitzero"`
	UnsafeMetadata  map[string]any `json:"unsafe_metadata,omitzero"`
}

// CreateEmailAddressParams is the body of POST /v1/email_addresses.
type CreateEmailAddressParams struct {
	UserID       string `json:"user_id"`
	EmailAddress string `json:"email_address"`
	// Verified creates the address verified.
	Verified request.Field[bool] `json:"verified,omitzero"`
	// Primary makes it the primary address (default: only if it is the first).
	Primary request.Field[bool] `json:"primary,omitzero"`
	// NotifyPrimaryEmailAddressChanged notifies the previous primary address.
	NotifyPrimaryEmailAddressChanged request.Field[bool] `json:"notify_primary_email_address_changed,omitzero"`
}

// CreatePhoneNumberParams is the body of POST /v1/phone_numbers.
type CreatePhoneNumberParams struct {
	UserID string `json:"user_id"`
	// PhoneNumber is in E.164 form.
	PhoneNumber string `json:"phone_number"`
	// Verified creates the number verified.
	Verified request.Field[bool] `json:"verified,omitzero"`
	// Primary makes it the primary number (default: only if it is the first).
	Primary request.Field[bool] `json:"primary,omitzero"`
	// ReservedForSecondFactor reserves the number for MFA (it must be verified).
	ReservedForSecondFactor request.Field[bool] `json:"reserved_for_second_factor,omitzero"`
}
