package reconcile

import (
	"bytes"
	"encoding/json"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
)

// ident is an email address or phone number of a Clerk user.
type ident struct {
	ID    string `json:"id"`
	Value string `json:"value"`
	// Verified: Clerk renders its verification as verified (an index entry
	// written before this was kept reads false).
	Verified bool `json:"verified,omitempty"`
}

// userState is what the sync compares of a Clerk user, as the index keeps
// it (JSON in IndexedUser.State). Clerk returns no secret, so it holds none.
type userState struct {
	FirstName    *string         `json:"first_name,omitempty"`
	LastName     *string         `json:"last_name,omitempty"`
	Username     *string         `json:"username,omitempty"`
	Locale       *string         `json:"locale,omitempty"`
	Emails       []ident         `json:"emails,omitempty"`
	PrimaryEmail string          `json:"primary_email,omitempty"` // an id in Emails
	Phones       []ident         `json:"phones,omitempty"`
	PrimaryPhone string          `json:"primary_phone,omitempty"` // an id in Phones
	Public       json.RawMessage `json:"public_metadata,omitempty"`
	Private      json.RawMessage `json:"private_metadata,omitempty"`
	Unsafe       json.RawMessage `json:"unsafe_metadata,omitempty"`
	Banned       bool            `json:"banned,omitempty"`
	Locked       bool            `json:"locked,omitempty"`
	// The fields below are nil when unknown (not compared); an index
	// written before they were kept is rebuilt anyway (stateVersion).
	CreatedAt       *int64 `json:"created_at,omitempty"`
	LegalAcceptedAt *int64 `json:"legal_accepted_at,omitempty"`
	DeleteSelf      *bool  `json:"delete_self_enabled,omitempty"`
	CreateOrg       *bool  `json:"create_organization_enabled,omitempty"`
	// OrgLimit is Clerk's create_organizations_limit; -1 for none (null).
	OrgLimit *int `json:"create_organizations_limit,omitempty"`
}

// stateOf takes the comparable fields of a Clerk user.
func stateOf(u *clerk.User) userState {
	s := userState{
		FirstName: u.FirstName, LastName: u.LastName, Username: u.Username, Locale: u.Locale,
		Banned: u.Banned, Locked: u.Locked,
		Public: rawMetadata(u.PublicMetadata), Private: rawMetadata(u.PrivateMetadata), Unsafe: rawMetadata(u.UnsafeMetadata),
		CreatedAt: &u.CreatedAt, LegalAcceptedAt: u.LegalAcceptedAt, DeleteSelf: &u.DeleteSelfEnabled,
		CreateOrg: &u.CreateOrganizationEnabled, OrgLimit: u.CreateOrganizationsLimit,
	}
	if s.LegalAcceptedAt == nil {
		none := int64(0)
		s.LegalAcceptedAt = &none
	}
	if s.OrgLimit == nil {
		none := -1
		s.OrgLimit = &none
	}
	for _, e := range u.EmailAddresses {
		s.Emails = append(s.Emails, ident{ID: e.ID, Value: e.EmailAddress, Verified: isVerified(e.Verification)})
	}
	for _, p := range u.PhoneNumbers {
		s.Phones = append(s.Phones, ident{ID: p.ID, Value: p.PhoneNumber, Verified: isVerified(p.Verification)})
	}
	if u.PrimaryEmailAddressID != nil {
		s.PrimaryEmail = *u.PrimaryEmailAddressID
	}
	if u.PrimaryPhoneNumberID != nil {
		s.PrimaryPhone = *u.PrimaryPhoneNumberID
	}
	return s
}

// isVerified reports whether Clerk renders a verification as verified.
func isVerified(v *clerk.Verification) bool { return v != nil && v.Status == request.StatusVerified }

// rawMetadata encodes a metadata object; nil for an empty one.
func rawMetadata(m map[string]any) json.RawMessage {
	if len(m) == 0 {
		return nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil
	}
	return b
}

// indexed turns a Clerk user into its index entry.
func indexed(u *clerk.User) (checkpoint.IndexedUser, error) {
	st, err := json.Marshal(stateOf(u))
	if err != nil {
		return checkpoint.IndexedUser{}, err
	}
	x := checkpoint.IndexedUser{ClerkID: u.ID, UpdatedAt: u.UpdatedAt, State: st}
	if u.ExternalID != nil {
		x.ExternalID = *u.ExternalID
	}
	for _, e := range u.EmailAddresses {
		x.Emails = append(x.Emails, strings.ToLower(e.EmailAddress))
	}
	return x, nil
}

// decodeState reads an index entry's state.
func decodeState(x checkpoint.IndexedUser) (userState, error) {
	var s userState
	err := json.Unmarshal(x.State, &s)
	return s, err
}

// canonical encodes a JSON value so that equal values give equal bytes
// (object keys sorted, numbers as float64); nil and {} are both "{}".
func canonical(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return canonicalRaw(b)
}

func canonicalRaw(raw []byte) []byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return []byte("{}")
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw
	}
	b, _ := json.Marshal(v)
	return b
}

// decodeObject reads a metadata object (nil for none).
func decodeObject(raw []byte) map[string]any {
	var m map[string]any
	if len(raw) > 0 {
		_ = json.Unmarshal(raw, &m)
	}
	return m
}

// contains reports whether merging patch into have (RFC 7386, as PATCH
// /metadata does) would leave have as it is.
func contains(have, patch map[string]any) bool {
	for k, pv := range patch {
		hv, ok := have[k]
		switch p := pv.(type) {
		case nil:
			if ok {
				return false
			}
		case map[string]any:
			h, isObj := hv.(map[string]any)
			if !ok || !isObj || !contains(h, p) {
				return false
			}
		default:
			if !ok || !bytes.Equal(canonicalValue(hv), canonicalValue(pv)) {
				return false
			}
		}
	}
	return true
}

func canonicalValue(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var back any
	if json.Unmarshal(b, &back) != nil {
		return b
	}
	out, _ := json.Marshal(back)
	return out
}
