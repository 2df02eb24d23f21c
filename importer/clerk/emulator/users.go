package emulator

import (
	"fmt"
	"net/http"
	"time"
)

// labels name identifier kinds in messages.
var labels = map[string]string{
	kindEmail: "email address", kindPhone: "phone number", kindWallet: "web3 wallet",
	kindUsername: "username", kindExternalID: "external ID",
}

// uniqueErrs reports the values of kind that another user than self
// holds, or that repeat within values. Emulator.mu is held.
func (s *store) uniqueErrs(kind string, values []string, self string) []apiError {
	var errs []apiError
	seen := make(map[string]bool, len(values))
	for _, v := range values {
		n := normalize(kind, v)
		owner, taken := s.index[kind][n]
		if seen[n] || (taken && owner != self) {
			errs = append(errs, errExists(kind, labels[kind]))
		}
		seen[n] = true
	}
	return errs
}

// createSchema is CreateUser's body (required; additionalProperties: false).
var createSchema = bodySchema(true, "external_id?", "first_name?", "last_name?", "locale?",
	"email_address", "email_address_identification_status", "phone_number", "phone_number_identification_status",
	"web3_wallet", "username?", "password?", "password_digest?", "password_hasher", "skip_password_checks?",
	"skip_password_requirement?", "totp_secret?", "backup_codes", "public_metadata", "private_metadata",
	"unsafe_metadata", "delete_self_enabled?", "legal_accepted_at?", "skip_legal_checks?", "skip_user_requirement?",
	"create_organization_enabled?", "create_organizations_limit?", "created_at?", "bypass_client_trust?", "banned?", "locked?")

// createInput is a CreateUser body as read.
type createInput struct {
	emails, emailStatus, phones, phoneStatus, wallets []string
	username                                          string
	hasUsername                                       bool
	pw                                                passwordInput
	skipPasswordRequirement, skipUserRequirement      bool
	totp                                              string
	hasTOTP                                           bool
	backupCodes                                       []string
	legal, created                                    string
	hasLegal, hasCreated                              bool
	orgLimit                                          int
	hasOrgLimit                                       bool
}

// optStr reads a nullable string property into a pointer (nil for absent,
// null or "").
func optStr(f *form, name string) *string {
	if s, ok := f.str(name); ok && s != "" {
		return &s
	}
	return nil
}

// readCreate reads a CreateUser body into in and the parts of u that need
// no checking.
func readCreate(f *form, u *UserState) createInput {
	var in createInput
	u.ExternalID = optStr(f, "external_id")
	u.FirstName = optStr(f, "first_name")
	u.LastName = optStr(f, "last_name")
	u.Locale = optStr(f, "locale")
	in.emails = f.strs("email_address")
	in.emailStatus = f.strs("email_address_identification_status")
	in.phones = f.strs("phone_number")
	in.phoneStatus = f.strs("phone_number_identification_status")
	in.wallets = f.strs("web3_wallet")
	in.username, in.hasUsername = f.str("username")
	in.hasUsername = in.hasUsername && in.username != ""
	in.pw = readPassword(f)
	in.skipPasswordRequirement, _ = f.boolean("skip_password_requirement")
	in.skipUserRequirement, _ = f.boolean("skip_user_requirement")
	f.boolean("skip_legal_checks")
	in.totp, in.hasTOTP = f.str("totp_secret")
	in.backupCodes = f.strs("backup_codes")
	u.PublicMetadata, _ = f.object("public_metadata")
	u.PrivateMetadata, _ = f.object("private_metadata")
	u.UnsafeMetadata, _ = f.object("unsafe_metadata")
	if b, ok := f.boolean("delete_self_enabled"); ok {
		u.DeleteSelfEnabled = b
	}
	if b, ok := f.boolean("create_organization_enabled"); ok {
		u.CreateOrganizationEnabled = b
	}
	u.BypassClientTrust, _ = f.boolean("bypass_client_trust")
	u.Banned, _ = f.boolean("banned")
	u.Locked, _ = f.boolean("locked")
	in.orgLimit, in.hasOrgLimit = f.integer("create_organizations_limit")
	in.legal, in.hasLegal = f.str("legal_accepted_at")
	in.created, in.hasCreated = f.str("created_at")
	return in
}

// check applies the format rules of CreateUser.
func (in *createInput) check(u *UserState, usernameAllows string) []apiError {
	var errs []apiError
	add := func(e *apiError) {
		if e != nil {
			errs = append(errs, *e)
		}
	}
	for _, v := range in.emails {
		add(checkEmail(kindEmail, v))
	}
	for _, v := range in.phones {
		add(checkPhone(kindPhone, v))
	}
	for _, v := range in.wallets {
		add(checkWallet(kindWallet, v))
	}
	add(checkStatuses("email_address_identification_status", in.emailStatus, len(in.emails)))
	add(checkStatuses("phone_number_identification_status", in.phoneStatus, len(in.phones)))
	if in.hasUsername {
		add(checkUsername(in.username, usernameAllows))
	}
	errs = append(errs, in.pw.check()...)
	if in.hasTOTP {
		add(checkTOTPSecret(in.totp))
	}
	add(checkBackupCodes(in.backupCodes))
	for name, m := range map[string]map[string]any{"public_metadata": u.PublicMetadata,
		"private_metadata": u.PrivateMetadata, "unsafe_metadata": u.UnsafeMetadata} {
		add(checkMetadataSize(name, m))
	}
	if in.hasOrgLimit && in.orgLimit < 0 {
		errs = append(errs, errValue("create_organizations_limit", "create_organizations_limit must be 0 or more."))
	}
	if in.hasLegal {
		ms, err := parseTime("legal_accepted_at", in.legal)
		add(err)
		u.LegalAcceptedAt = &ms
	}
	if in.hasCreated {
		ms, err := parseTime("created_at", in.created)
		add(err)
		u.CreatedAt = ms
	}
	return errs
}

// requirements applies the instance's required identifiers and password.
func (e *Emulator) requirements(in *createInput) []apiError {
	var errs []apiError
	if !in.skipUserRequirement {
		present := map[string]bool{kindEmail: len(in.emails) > 0, kindPhone: len(in.phones) > 0,
			kindWallet: len(in.wallets) > 0, kindUsername: in.hasUsername}
		for _, id := range e.cfg.RequiredIdentifiers {
			if !present[id] {
				errs = append(errs, errDataMissing(id))
			}
		}
	}
	if e.cfg.PasswordRequired && !in.pw.hasPassword && !in.pw.hasDigest && !in.skipPasswordRequirement {
		errs = append(errs, errDataMissing("password"))
	}
	return errs
}

// identifiers builds Identifiers for values, with their statuses.
func identifiers(values, statuses []string, now time.Time) []Identifier {
	if len(values) == 0 {
		return nil
	}
	ms := now.UnixMilli()
	out := make([]Identifier, len(values))
	for i, v := range values {
		reserved := i < len(statuses) && statuses[i] == "reserved"
		out[i] = Identifier{ID: newID("idn_", now), Value: v, Verified: !reserved, Reserved: reserved, CreatedAt: ms, UpdatedAt: ms}
	}
	return out
}

// firstID is the id of the first identifier, the primary one.
func firstID(ids []Identifier) string {
	if len(ids) == 0 {
		return ""
	}
	return ids[0].ID
}

// createUser is POST /v1/users.
func (e *Emulator) createUser(r *request) reply {
	f, rep := parseBody(r, createSchema)
	if rep != nil {
		return *rep
	}
	now := e.cfg.Now()
	ms := now.UnixMilli()
	u := &UserState{ID: newID("user_", now), DeleteSelfEnabled: true, CreateOrganizationEnabled: true, CreatedAt: ms, UpdatedAt: ms}
	in := readCreate(f, u)
	if len(f.errs) > 0 {
		return unprocessable(f.errs...)
	}
	if errs := in.check(u, e.cfg.UsernameAllows); len(errs) > 0 {
		return unprocessable(errs...)
	}
	if errs := e.requirements(&in); len(errs) > 0 {
		return unprocessable(errs...)
	}
	if in.hasUsername {
		u.Username = &in.username
	}
	if in.hasOrgLimit {
		u.CreateOrganizationsLimit = &in.orgLimit
	}
	in.pw.apply(u, ms)
	if in.hasTOTP {
		u.TOTPEnabled, u.MFAEnabledAt = true, ms
	}
	if len(in.backupCodes) > 0 {
		u.BackupCodeEnabled, u.MFAEnabledAt = true, ms
	}
	u.EmailAddresses = identifiers(lower(in.emails), in.emailStatus, now)
	u.PhoneNumbers = identifiers(in.phones, in.phoneStatus, now)
	u.Web3Wallets = identifiers(in.wallets, nil, now)
	u.PrimaryEmailAddressID = firstID(u.EmailAddresses)
	u.PrimaryPhoneNumberID = firstID(u.PhoneNumbers)
	u.PrimaryWeb3WalletID = firstID(u.Web3Wallets)

	e.mu.Lock()
	defer e.mu.Unlock()
	var errs []apiError
	errs = append(errs, e.store.uniqueErrs(kindEmail, in.emails, u.ID)...)
	errs = append(errs, e.store.uniqueErrs(kindPhone, in.phones, u.ID)...)
	errs = append(errs, e.store.uniqueErrs(kindWallet, in.wallets, u.ID)...)
	if u.Username != nil {
		errs = append(errs, e.store.uniqueErrs(kindUsername, []string{*u.Username}, u.ID)...)
	}
	if u.ExternalID != nil {
		errs = append(errs, e.store.uniqueErrs(kindExternalID, []string{*u.ExternalID}, u.ID)...)
	}
	if len(errs) > 0 {
		return unprocessable(errs...)
	}
	e.store.insert(u)
	return reply{status: http.StatusOK, body: renderUser(u)}
}

// lower lower-cases email addresses, as Clerk stores them.
func lower(vs []string) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = normalize(kindEmail, v)
	}
	return out
}

// getUser is GET /v1/users/{user_id}.
func (e *Emulator) getUser(r *request) reply {
	e.mu.RLock()
	defer e.mu.RUnlock()
	u, ok := e.store.users[r.userID]
	if !ok {
		return userNotFound()
	}
	return reply{status: http.StatusOK, body: renderUser(u)}
}

// deleteUser is DELETE /v1/users/{user_id}.
func (e *Emulator) deleteUser(r *request) reply {
	e.mu.Lock()
	defer e.mu.Unlock()
	u, ok := e.store.users[r.userID]
	if !ok {
		return userNotFound()
	}
	e.store.remove(u)
	return reply{status: http.StatusOK, body: deletedJSON{Object: "user", ID: u.ID, Deleted: true}}
}

// bulkBanSchema is the body of UsersBan and UsersUnban: user_ids, an array
// of 1 to maxBulkBan strings (required).
var bulkBanSchema = bodySchema(true, "user_ids")

// maxBulkBan is the spec's maxItems of user_ids.
const maxBulkBan = 50

// banUsers is POST /v1/users/ban (UsersBan) and /v1/users/unban
// (UsersUnban): it sets or lifts the ban of each user named, as
// POST /v1/users/{id}/ban does one (updated_at moves), and answers those
// users (User.List, in the order asked). The spec gives these routes 400
// for a bad request (no 422), so the refusals are Clerk's documented 400
// codes: bulk_size_exceeded for more than 50 ids, request_body_invalid for
// user_ids missing, null, empty or not an array of strings, or another
// property; nothing is banned then. Clerk documents no answer for an id it
// has no user for: such ids are left out of the answer (a caller checks
// which users it got back).
func (e *Emulator) banUsers(r *request, on bool) reply {
	invalid := func(long string) reply {
		return errorReply(http.StatusBadRequest, apiError{Code: "request_body_invalid", Param: "user_ids",
			Message: "Request body invalid", LongMessage: long})
	}
	f, rep := parseBody(r, bulkBanSchema)
	if rep != nil {
		if rep.status == http.StatusUnprocessableEntity { // an unknown or null property
			return invalid("The request body takes user_ids, an array of 1 to 50 user IDs, and nothing else.")
		}
		return *rep
	}
	ids := f.strs("user_ids")
	switch {
	case len(f.errs) > 0 || len(ids) == 0:
		return invalid("user_ids must be an array of 1 to 50 user IDs.")
	case len(ids) > maxBulkBan:
		return errorReply(http.StatusBadRequest, apiError{Code: "bulk_size_exceeded", Param: "user_ids",
			Message: "bulk size exceeded", LongMessage: fmt.Sprintf("user_ids should not exceed %d items.", maxBulkBan)})
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	now := e.cfg.Now().UnixMilli()
	out := make([]userJSON, 0, len(ids))
	for _, id := range ids {
		u, ok := e.store.users[id]
		if !ok {
			continue
		}
		u.Banned, u.UpdatedAt = on, now
		out = append(out, renderUser(u))
	}
	return reply{status: http.StatusOK, body: out}
}

// setFlag is POST /v1/users/{user_id}/ban|unban|lock|unlock.
func (e *Emulator) setFlag(r *request, flag string, on bool) reply {
	if _, rep := parseBody(r, noBody); rep != nil {
		return *rep
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	u, ok := e.store.users[r.userID]
	if !ok {
		return userNotFound()
	}
	if flag == "banned" {
		u.Banned = on
	} else {
		u.Locked = on
	}
	u.UpdatedAt = e.cfg.Now().UnixMilli()
	return reply{status: http.StatusOK, body: renderUser(u)}
}
