package emulator

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// State is every user of the emulator, oldest first. It is what Snapshot
// returns, GET /__emulator/state answers, and SaveState/LoadState write and
// read. It holds no secret: only whether a password, digest, TOTP secret or
// backup codes are set, and the hasher's name.
type State struct {
	// InstanceID is the emulator's instance (GET /v1/instance); LoadState
	// keeps the emulator's own when a file has none (an older file).
	InstanceID string      `json:"instance_id,omitempty"`
	Users      []UserState `json:"users"`
}

// UserState is one user. Timestamps are Unix milliseconds, as Clerk
// renders them.
type UserState struct {
	ID         string  `json:"id"`
	ExternalID *string `json:"external_id,omitempty"`
	Username   *string `json:"username,omitempty"`
	FirstName  *string `json:"first_name,omitempty"`
	LastName   *string `json:"last_name,omitempty"`
	Locale     *string `json:"locale,omitempty"`

	EmailAddresses        []Identifier `json:"email_addresses,omitempty"`
	PhoneNumbers          []Identifier `json:"phone_numbers,omitempty"`
	Web3Wallets           []Identifier `json:"web3_wallets,omitempty"`
	PrimaryEmailAddressID string       `json:"primary_email_address_id,omitempty"`
	PrimaryPhoneNumberID  string       `json:"primary_phone_number_id,omitempty"`
	PrimaryWeb3WalletID   string       `json:"primary_web3_wallet_id,omitempty"`

	PublicMetadata  map[string]any `json:"public_metadata,omitempty"`
	PrivateMetadata map[string]any `json:"private_metadata,omitempty"`
	UnsafeMetadata  map[string]any `json:"unsafe_metadata,omitempty"`

	// PasswordEnabled: a plaintext password or a digest was set.
	PasswordEnabled bool `json:"password_enabled"`
	// PasswordHasher names the hasher of an imported digest ("" for a
	// plaintext password or none).
	PasswordHasher        string `json:"password_hasher,omitempty"`
	HasPasswordDigest     bool   `json:"has_password_digest"`
	PasswordLastUpdatedAt int64  `json:"password_last_updated_at,omitempty"`
	TOTPEnabled           bool   `json:"totp_enabled"`
	BackupCodeEnabled     bool   `json:"backup_code_enabled"`
	MFAEnabledAt          int64  `json:"mfa_enabled_at,omitempty"`

	Banned                    bool   `json:"banned"`
	Locked                    bool   `json:"locked"`
	DeleteSelfEnabled         bool   `json:"delete_self_enabled"`
	CreateOrganizationEnabled bool   `json:"create_organization_enabled"`
	CreateOrganizationsLimit  *int   `json:"create_organizations_limit,omitempty"`
	LegalAcceptedAt           *int64 `json:"legal_accepted_at,omitempty"`
	BypassClientTrust         bool   `json:"bypass_client_trust"`

	CreatedAt int64 `json:"created_at"`
	UpdatedAt int64 `json:"updated_at"`
}

// Identifier is an email address, phone number or web3 wallet.
type Identifier struct {
	ID                      string `json:"id"`
	Value                   string `json:"value"`
	Verified                bool   `json:"verified"`
	Reserved                bool   `json:"reserved,omitempty"`
	ReservedForSecondFactor bool   `json:"reserved_for_second_factor,omitempty"`
	DefaultSecondFactor     bool   `json:"default_second_factor,omitempty"`
	CreatedAt               int64  `json:"created_at"`
	UpdatedAt               int64  `json:"updated_at"`
}

// Identifier kinds, named as Clerk's meta.param_name names them.
const (
	kindEmail      = "email_address"
	kindPhone      = "phone_number"
	kindWallet     = "web3_wallet"
	kindUsername   = "username"
	kindExternalID = "external_id"
)

// normalize is the form an identifier is compared in: emails, usernames
// and wallets case-insensitively, phones and external ids exactly.
func normalize(kind, v string) string {
	switch kind {
	case kindEmail, kindUsername, kindWallet:
		return strings.ToLower(v)
	}
	return v
}

// store is the users and their unique indexes. Callers hold Emulator.mu.
type store struct {
	users map[string]*UserState
	order []*UserState // by (CreatedAt, ID) ascending
	index map[string]map[string]string
	// identOwner maps the id of every email address, phone number and web3
	// wallet to its user's id.
	identOwner map[string]string
}

func newStore() *store {
	s := &store{users: map[string]*UserState{}, index: map[string]map[string]string{}, identOwner: map[string]string{}}
	for _, k := range []string{kindEmail, kindPhone, kindWallet, kindUsername, kindExternalID} {
		s.index[k] = map[string]string{}
	}
	return s
}

// owner returns the id of the user holding the identifier, if any.
func (s *store) owner(kind, v string) (string, bool) {
	id, ok := s.index[kind][normalize(kind, v)]
	return id, ok
}

// before orders users by (CreatedAt, ID).
func before(a, b *UserState) int {
	if a.CreatedAt != b.CreatedAt {
		if a.CreatedAt < b.CreatedAt {
			return -1
		}
		return 1
	}
	return strings.Compare(a.ID, b.ID)
}

// position is where u sits (or would sit) in s.order.
func (s *store) position(u *UserState) int {
	i, _ := slices.BinarySearchFunc(s.order, u, before)
	return i
}

// insert adds u and indexes its identifiers; the caller checked uniqueness.
func (s *store) insert(u *UserState) {
	s.users[u.ID] = u
	s.order = slices.Insert(s.order, s.position(u), u)
	s.indexUser(u, true)
}

// remove deletes u and frees its identifiers.
func (s *store) remove(u *UserState) {
	delete(s.users, u.ID)
	if i := s.position(u); i < len(s.order) && s.order[i] == u {
		s.order = slices.Delete(s.order, i, i+1)
	}
	s.indexUser(u, false)
}

// setCreatedAt changes u's CreatedAt and keeps s.order sorted: u leaves
// its place while the order still holds (the binary search compares u's
// current CreatedAt), then enters at its new one.
func (s *store) setCreatedAt(u *UserState, at int64) {
	if i := s.position(u); i < len(s.order) && s.order[i] == u {
		s.order = slices.Delete(s.order, i, i+1)
	}
	u.CreatedAt = at
	s.order = slices.Insert(s.order, s.position(u), u)
}

// indexUser adds (or, with add false, removes) u's identifiers.
func (s *store) indexUser(u *UserState, add bool) {
	set := func(kind, v string) {
		if add {
			s.index[kind][normalize(kind, v)] = u.ID
		} else {
			delete(s.index[kind], normalize(kind, v))
		}
	}
	idents := func(kind string, ids []Identifier) {
		for _, x := range ids {
			set(kind, x.Value)
			if add {
				s.identOwner[x.ID] = u.ID
			} else {
				delete(s.identOwner, x.ID)
			}
		}
	}
	idents(kindEmail, u.EmailAddresses)
	idents(kindPhone, u.PhoneNumbers)
	idents(kindWallet, u.Web3Wallets)
	if u.Username != nil {
		set(kindUsername, *u.Username)
	}
	if u.ExternalID != nil {
		set(kindExternalID, *u.ExternalID)
	}
}

// setUnique changes a single-valued identifier (username, external id) of
// u, keeping the index right.
func (s *store) setUnique(u *UserState, kind string, field **string, v *string) {
	if *field != nil {
		delete(s.index[kind], normalize(kind, **field))
	}
	*field = v
	if v != nil {
		s.index[kind][normalize(kind, *v)] = u.ID
	}
}

// Snapshot returns a deep copy of every user, oldest first.
func (e *Emulator) Snapshot() State {
	e.mu.RLock()
	defer e.mu.RUnlock()
	st := State{InstanceID: e.instanceID, Users: make([]UserState, len(e.store.order))}
	for i, u := range e.store.order {
		st.Users[i] = cloneUser(u)
	}
	return st
}

// cloneUser deep-copies u.
func cloneUser(u *UserState) UserState {
	c := *u
	c.EmailAddresses = slices.Clone(u.EmailAddresses)
	c.PhoneNumbers = slices.Clone(u.PhoneNumbers)
	c.Web3Wallets = slices.Clone(u.Web3Wallets)
	c.PublicMetadata = cloneMap(u.PublicMetadata)
	c.PrivateMetadata = cloneMap(u.PrivateMetadata)
	c.UnsafeMetadata = cloneMap(u.UnsafeMetadata)
	return c
}

// cloneMap deep-copies JSON metadata.
func cloneMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = cloneValue(v)
	}
	return c
}

func cloneValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		return cloneMap(t)
	case []any:
		c := make([]any, len(t))
		for i, x := range t {
			c[i] = cloneValue(x)
		}
		return c
	}
	return v
}

// stateFormat tags the file SaveState writes.
const stateFormat = "clerkmigrate-emulator-state/1"

type stateFile struct {
	Format string `json:"format"`
	State
}

// SaveState writes every user as JSON (no secret is kept, so none is
// written), for LoadState to read back after a restart.
func (e *Emulator) SaveState(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(stateFile{Format: stateFormat, State: e.Snapshot()})
}

// LoadState replaces every user with those read from r, as SaveState
// wrote them, and takes the file's instance id (a file without one, from
// an older version, leaves the emulator's). It refuses a file whose users
// share an identifier or an id.
func (e *Emulator) LoadState(r io.Reader) error {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var f stateFile
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("emulator: read state: %w", err)
	}
	if f.Format != stateFormat {
		return fmt.Errorf("emulator: read state: format %q, want %q", f.Format, stateFormat)
	}
	s := newStore()
	for i := range f.Users {
		u := cloneUser(&f.Users[i])
		if u.ID == "" {
			return fmt.Errorf("emulator: read state: user %d has no id", i)
		}
		if _, dup := s.users[u.ID]; dup {
			return fmt.Errorf("emulator: read state: user %s appears twice", u.ID)
		}
		if kind, v, taken := s.conflict(&u); taken {
			return fmt.Errorf("emulator: read state: user %s: %s %q is already held by another user", u.ID, kind, v)
		}
		s.insert(&u)
	}
	e.mu.Lock()
	e.store = s
	if f.InstanceID != "" {
		e.instanceID = f.InstanceID
	}
	e.mu.Unlock()
	return nil
}

// conflict reports the first identifier of u that another user holds.
func (s *store) conflict(u *UserState) (kind, value string, taken bool) {
	check := func(kind, v string) bool {
		id, ok := s.owner(kind, v)
		return ok && id != u.ID
	}
	for _, l := range []struct {
		kind string
		ids  []Identifier
	}{{kindEmail, u.EmailAddresses}, {kindPhone, u.PhoneNumbers}, {kindWallet, u.Web3Wallets}} {
		for _, x := range l.ids {
			if check(l.kind, x.Value) {
				return l.kind, x.Value, true
			}
		}
	}
	if u.Username != nil && check(kindUsername, *u.Username) {
		return kindUsername, *u.Username, true
	}
	if u.ExternalID != nil && check(kindExternalID, *u.ExternalID) {
		return kindExternalID, *u.ExternalID, true
	}
	return "", "", false
}
