package emulator

// The JSON shapes of the spec's User, EmailAddress, PhoneNumber,
// Web3Wallet, DeletedObject and TotalCount, with every required property.

type userJSON struct {
	ID                            string         `json:"id"`
	Object                        string         `json:"object"`
	ExternalID                    *string        `json:"external_id"`
	PrimaryEmailAddressID         *string        `json:"primary_email_address_id"`
	PrimaryPhoneNumberID          *string        `json:"primary_phone_number_id"`
	PrimaryWeb3WalletID           *string        `json:"primary_web3_wallet_id"`
	Username                      *string        `json:"username"`
	FirstName                     *string        `json:"first_name"`
	LastName                      *string        `json:"last_name"`
	Locale                        *string        `json:"locale"`
	ProfileImageURL               string         `json:"profile_image_url"`
	ImageURL                      string         `json:"image_url"`
	HasImage                      bool           `json:"has_image"`
	PublicMetadata                map[string]any `json:"public_metadata"`
	PrivateMetadata               map[string]any `json:"private_metadata"`
	UnsafeMetadata                map[string]any `json:"unsafe_metadata"`
	EmailAddresses                []emailJSON    `json:"email_addresses"`
	PhoneNumbers                  []phoneJSON    `json:"phone_numbers"`
	Web3Wallets                   []walletJSON   `json:"web3_wallets"`
	Passkeys                      []struct{}     `json:"passkeys"`
	PasswordEnabled               bool           `json:"password_enabled"`
	TwoFactorEnabled              bool           `json:"two_factor_enabled"`
	TOTPEnabled                   bool           `json:"totp_enabled"`
	BackupCodeEnabled             bool           `json:"backup_code_enabled"`
	MFAEnabledAt                  *int64         `json:"mfa_enabled_at"`
	MFADisabledAt                 *int64         `json:"mfa_disabled_at"`
	PasswordLastUpdatedAt         *int64         `json:"password_last_updated_at"`
	ExternalAccounts              []struct{}     `json:"external_accounts"`
	SAMLAccounts                  []struct{}     `json:"saml_accounts"`
	EnterpriseAccounts            []struct{}     `json:"enterprise_accounts"`
	OrganizationMemberships       []struct{}     `json:"organization_memberships"`
	LastSignInAt                  *int64         `json:"last_sign_in_at"`
	Banned                        bool           `json:"banned"`
	Locked                        bool           `json:"locked"`
	Deprovisioned                 bool           `json:"deprovisioned"`
	LockoutExpiresInSeconds       *int64         `json:"lockout_expires_in_seconds"`
	VerificationAttemptsRemaining *int64         `json:"verification_attempts_remaining"`
	UpdatedAt                     int64          `json:"updated_at"`
	CreatedAt                     int64          `json:"created_at"`
	DeleteSelfEnabled             bool           `json:"delete_self_enabled"`
	CreateOrganizationEnabled     bool           `json:"create_organization_enabled"`
	CreateOrganizationsLimit      *int           `json:"create_organizations_limit"`
	LastActiveAt                  *int64         `json:"last_active_at"`
	LegalAcceptedAt               *int64         `json:"legal_accepted_at"`
	BypassClientTrust             bool           `json:"bypass_client_trust"`
}

// verificationJSON is the spec's verification_admin: how identifiers
// created through the Backend API are verified.
type verificationJSON struct {
	Object   string `json:"object"`
	Status   string `json:"status"`
	Strategy string `json:"strategy"`
	Attempts *int   `json:"attempts"`
	ExpireAt *int64 `json:"expire_at"`
}

var adminVerification = &verificationJSON{Object: "verification_admin", Status: "verified", Strategy: "admin"}

type linkJSON struct {
	Type string `json:"type"`
	ID   string `json:"id"`
}

type emailJSON struct {
	ID                   string            `json:"id"`
	Object               string            `json:"object"`
	EmailAddress         string            `json:"email_address"`
	Reserved             bool              `json:"reserved"`
	Verification         *verificationJSON `json:"verification"`
	LinkedTo             []linkJSON        `json:"linked_to"`
	MatchesSSOConnection bool              `json:"matches_sso_connection"`
	CreatedAt            int64             `json:"created_at"`
	UpdatedAt            int64             `json:"updated_at"`
}

type phoneJSON struct {
	ID                      string            `json:"id"`
	Object                  string            `json:"object"`
	PhoneNumber             string            `json:"phone_number"`
	ReservedForSecondFactor bool              `json:"reserved_for_second_factor"`
	DefaultSecondFactor     bool              `json:"default_second_factor"`
	Reserved                bool              `json:"reserved"`
	Verification            *verificationJSON `json:"verification"`
	LinkedTo                []linkJSON        `json:"linked_to"`
	BackupCodes             []string          `json:"backup_codes"`
	CreatedAt               int64             `json:"created_at"`
	UpdatedAt               int64             `json:"updated_at"`
}

type walletJSON struct {
	ID           string            `json:"id"`
	Object       string            `json:"object"`
	Web3Wallet   string            `json:"web3_wallet"`
	Verification *verificationJSON `json:"verification"`
	CreatedAt    int64             `json:"created_at"`
	UpdatedAt    int64             `json:"updated_at"`
}

type deletedJSON struct {
	Object  string `json:"object"`
	ID      string `json:"id"`
	Deleted bool   `json:"deleted"`
}

type totalCountJSON struct {
	Object     string `json:"object"`
	TotalCount int    `json:"total_count"`
}

// defaultImageURL is what Clerk shows for a user without an image.
const defaultImageURL = "https://img.clerk.com/eyJ0eXBlIjoiZGVmYXVsdCJ9"

func verification(id Identifier) *verificationJSON {
	if id.Verified {
		return adminVerification
	}
	return nil
}

func renderEmail(id Identifier) emailJSON {
	return emailJSON{ID: id.ID, Object: "email_address", EmailAddress: id.Value, Reserved: id.Reserved,
		Verification: verification(id), LinkedTo: []linkJSON{}, CreatedAt: id.CreatedAt, UpdatedAt: id.UpdatedAt}
}

func renderPhone(id Identifier) phoneJSON {
	return phoneJSON{ID: id.ID, Object: "phone_number", PhoneNumber: id.Value, Reserved: id.Reserved,
		ReservedForSecondFactor: id.ReservedForSecondFactor, DefaultSecondFactor: id.DefaultSecondFactor,
		Verification: verification(id), LinkedTo: []linkJSON{}, CreatedAt: id.CreatedAt, UpdatedAt: id.UpdatedAt}
}

func renderWallet(id Identifier) walletJSON {
	return walletJSON{ID: id.ID, Object: "web3_wallet", Web3Wallet: id.Value,
		Verification: verification(id), CreatedAt: id.CreatedAt, UpdatedAt: id.UpdatedAt}
}

func optID(id string) *string {
	if id == "" {
		return nil
	}
	return &id
}

func optMillis(ms int64) *int64 {
	if ms == 0 {
		return nil
	}
	return &ms
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// renderUser builds the spec's User from u; it copies what it shares so
// the result can be encoded after the lock is released.
func renderUser(u *UserState) userJSON {
	j := userJSON{
		ID: u.ID, Object: "user",
		ExternalID: u.ExternalID, Username: u.Username, FirstName: u.FirstName, LastName: u.LastName, Locale: u.Locale,
		PrimaryEmailAddressID: optID(u.PrimaryEmailAddressID), PrimaryPhoneNumberID: optID(u.PrimaryPhoneNumberID),
		PrimaryWeb3WalletID: optID(u.PrimaryWeb3WalletID),
		ProfileImageURL:     defaultImageURL, ImageURL: defaultImageURL,
		PublicMetadata:  orEmpty(cloneMap(u.PublicMetadata)),
		PrivateMetadata: orEmpty(cloneMap(u.PrivateMetadata)),
		UnsafeMetadata:  orEmpty(cloneMap(u.UnsafeMetadata)),
		EmailAddresses:  make([]emailJSON, len(u.EmailAddresses)),
		PhoneNumbers:    make([]phoneJSON, len(u.PhoneNumbers)),
		Web3Wallets:     make([]walletJSON, len(u.Web3Wallets)),
		Passkeys:        []struct{}{}, ExternalAccounts: []struct{}{}, SAMLAccounts: []struct{}{},
		EnterpriseAccounts: []struct{}{}, OrganizationMemberships: []struct{}{},
		PasswordEnabled: u.PasswordEnabled, TOTPEnabled: u.TOTPEnabled, BackupCodeEnabled: u.BackupCodeEnabled,
		MFAEnabledAt: optMillis(u.MFAEnabledAt), PasswordLastUpdatedAt: optMillis(u.PasswordLastUpdatedAt),
		Banned: u.Banned, Locked: u.Locked,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
		DeleteSelfEnabled: u.DeleteSelfEnabled, CreateOrganizationEnabled: u.CreateOrganizationEnabled,
		CreateOrganizationsLimit: u.CreateOrganizationsLimit, LegalAcceptedAt: u.LegalAcceptedAt,
		BypassClientTrust: u.BypassClientTrust,
	}
	for i, x := range u.EmailAddresses {
		j.EmailAddresses[i] = renderEmail(x)
	}
	for i, x := range u.PhoneNumbers {
		j.PhoneNumbers[i] = renderPhone(x)
		j.TwoFactorEnabled = j.TwoFactorEnabled || x.ReservedForSecondFactor
	}
	for i, x := range u.Web3Wallets {
		j.Web3Wallets[i] = renderWallet(x)
	}
	j.TwoFactorEnabled = j.TwoFactorEnabled || u.TOTPEnabled || u.BackupCodeEnabled
	return j
}
