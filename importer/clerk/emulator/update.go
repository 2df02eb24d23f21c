package emulator

import (
	"net/http"
	"slices"
)

// updateSchema is UpdateUser's body (required; additionalProperties: false).
var updateSchema = bodySchema(true, "external_id?", "first_name?", "last_name?", "locale?", "primary_email_address_id?",
	"notify_primary_email_address_changed?", "primary_phone_number_id?", "primary_web3_wallet_id?", "username?",
	"profile_image_id?", "password?", "password_digest", "password_hasher", "skip_password_checks?",
	"sign_out_of_other_sessions?", "totp_secret?", "backup_codes", "delete_self_enabled?",
	"create_organization_enabled?", "legal_accepted_at?", "skip_legal_checks?", "create_organizations_limit?",
	"created_at?", "bypass_client_trust?")

// userPatch is an UpdateUser body as read and checked; nil pointers and
// false has* leave a property alone.
type userPatch struct {
	f                             *form
	pw                            passwordInput
	username                      *string
	totp                          bool
	backupCodes                   []string
	legal, created                *int64
	orgLimit                      *int
	primaryEmail, primaryPhone    string
	primaryWallet                 string
	deleteSelf, createOrg, bypass *bool
}

// readUpdate reads and checks an UpdateUser body.
func readUpdate(f *form, usernameAllows string) (userPatch, []apiError) {
	p := userPatch{f: f, pw: readPassword(f)}
	var errs []apiError
	add := func(e *apiError) {
		if e != nil {
			errs = append(errs, *e)
		}
	}
	for _, name := range []string{"skip_password_checks", "sign_out_of_other_sessions"} {
		if _, ok := f.boolean(name); ok && !p.pw.hasPassword {
			errs = append(errs, errNeeds("password", name))
		}
	}
	if s, ok := f.str("username"); ok && s != "" {
		add(checkUsername(s, usernameAllows))
		p.username = &s
	}
	if s, ok := f.str("totp_secret"); ok {
		add(checkTOTPSecret(s))
		p.totp = true
	}
	p.backupCodes = f.strs("backup_codes")
	add(checkBackupCodes(p.backupCodes))
	for name, dst := range map[string]**int64{"legal_accepted_at": &p.legal, "created_at": &p.created} {
		if s, ok := f.str(name); ok {
			ms, err := parseTime(name, s)
			add(err)
			*dst = &ms
		}
	}
	if n, ok := f.integer("create_organizations_limit"); ok {
		if n < 0 {
			errs = append(errs, errValue("create_organizations_limit", "create_organizations_limit must be 0 or more."))
		}
		p.orgLimit = &n
	}
	p.primaryEmail, _ = f.str("primary_email_address_id")
	p.primaryPhone, _ = f.str("primary_phone_number_id")
	p.primaryWallet, _ = f.str("primary_web3_wallet_id")
	for name, dst := range map[string]**bool{"delete_self_enabled": &p.deleteSelf,
		"create_organization_enabled": &p.createOrg, "bypass_client_trust": &p.bypass} {
		if b, ok := f.boolean(name); ok {
			*dst = &b
		}
	}
	f.str("profile_image_id")
	f.boolean("notify_primary_email_address_changed")
	f.boolean("skip_legal_checks")
	errs = append(errs, p.pw.check()...)
	return p, append(f.errs, errs...)
}

// primaryErr says why id cannot become the primary one of ids: not one of
// them, or not verified.
func primaryErr(param string, ids []Identifier, id string) *apiError {
	i := slices.IndexFunc(ids, func(x Identifier) bool { return x.ID == id })
	switch {
	case i < 0:
		e := errNoResource(param)
		return &e
	case !ids[i].Verified:
		e := errUnverified(param)
		return &e
	}
	return nil
}

// conflicts checks the patch against u and the other users. Emulator.mu
// is held.
func (p *userPatch) conflicts(s *store, u *UserState) []apiError {
	var errs []apiError
	if p.username != nil {
		errs = append(errs, s.uniqueErrs(kindUsername, []string{*p.username}, u.ID)...)
	}
	if ext := optStr(p.f, "external_id"); ext != nil {
		errs = append(errs, s.uniqueErrs(kindExternalID, []string{*ext}, u.ID)...)
	}
	for _, c := range []struct {
		param, id string
		ids       []Identifier
	}{{"primary_email_address_id", p.primaryEmail, u.EmailAddresses},
		{"primary_phone_number_id", p.primaryPhone, u.PhoneNumbers},
		{"primary_web3_wallet_id", p.primaryWallet, u.Web3Wallets}} {
		if c.id == "" {
			continue
		}
		if e := primaryErr(c.param, c.ids, c.id); e != nil {
			errs = append(errs, *e)
		}
	}
	return errs
}

// apply changes u. Emulator.mu is held.
func (p *userPatch) apply(s *store, u *UserState, now int64) {
	f := p.f
	if f.has("external_id") {
		s.setUnique(u, kindExternalID, &u.ExternalID, optStr(f, "external_id"))
	}
	if f.has("username") {
		s.setUnique(u, kindUsername, &u.Username, p.username)
	}
	for name, dst := range map[string]**string{"first_name": &u.FirstName, "last_name": &u.LastName, "locale": &u.Locale} {
		if f.has(name) {
			*dst = optStr(f, name)
		}
	}
	setIf(&u.PrimaryEmailAddressID, p.primaryEmail)
	setIf(&u.PrimaryPhoneNumberID, p.primaryPhone)
	setIf(&u.PrimaryWeb3WalletID, p.primaryWallet)
	p.pw.apply(u, now)
	if p.totp {
		u.TOTPEnabled, u.MFAEnabledAt = true, now
	}
	if len(p.backupCodes) > 0 {
		u.BackupCodeEnabled, u.MFAEnabledAt = true, now
	}
	if p.legal != nil {
		u.LegalAcceptedAt = p.legal
	}
	if p.orgLimit != nil {
		u.CreateOrganizationsLimit = p.orgLimit
	}
	for _, b := range []struct {
		v   *bool
		dst *bool
	}{{p.deleteSelf, &u.DeleteSelfEnabled}, {p.createOrg, &u.CreateOrganizationEnabled}, {p.bypass, &u.BypassClientTrust}} {
		if b.v != nil {
			*b.dst = *b.v
		}
	}
	if p.created != nil && *p.created != u.CreatedAt {
		s.setCreatedAt(u, *p.created)
	}
	u.UpdatedAt = now
}

func setIf(dst *string, v string) {
	if v != "" {
		*dst = v
	}
}

// updateUser is PATCH /v1/users/{user_id}. Since 2026-05-12 it refuses
// metadata (form_param_unknown): use the metadata endpoints.
func (e *Emulator) updateUser(r *request) reply {
	f, rep := parseBody(r, updateSchema)
	if rep != nil {
		return *rep
	}
	p, errs := readUpdate(f, e.cfg.UsernameAllows)
	e.mu.Lock()
	defer e.mu.Unlock()
	u, ok := e.store.users[r.userID]
	if !ok {
		return userNotFound()
	}
	if len(errs) > 0 {
		return unprocessable(errs...)
	}
	if errs := p.conflicts(e.store, u); len(errs) > 0 {
		return unprocessable(errs...)
	}
	p.apply(e.store, u, e.cfg.Now().UnixMilli())
	return reply{status: http.StatusOK, body: renderUser(u)}
}

// metadataSchema is the body of PATCH and PUT /v1/users/{id}/metadata: no
// field is nullable (a null key inside an object is how PATCH removes it).
var metadataSchema = bodySchema(false, "public_metadata", "private_metadata", "unsafe_metadata")

// mergeMetadata is PATCH /v1/users/{user_id}/metadata: a deep merge in
// which a null removes the key (RFC 7386 JSON merge patch).
func (e *Emulator) mergeMetadata(r *request) reply {
	return e.changeMetadata(r, mergePatch)
}

// replaceMetadata is PUT /v1/users/{user_id}/metadata: each given
// top-level field is replaced whole; the others stay.
func (e *Emulator) replaceMetadata(r *request) reply {
	return e.changeMetadata(r, func(_ any, patch map[string]any) map[string]any { return cloneMap(patch) })
}

// changeMetadata applies change to each metadata field the body gives.
func (e *Emulator) changeMetadata(r *request, change func(old any, patch map[string]any) map[string]any) reply {
	f, rep := parseBody(r, metadataSchema)
	if rep != nil {
		return *rep
	}
	patches := map[string]map[string]any{}
	for name := range metadataSchema.props {
		if m, ok := f.object(name); ok {
			patches[name] = m
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	u, ok := e.store.users[r.userID]
	if !ok {
		return userNotFound()
	}
	if len(f.errs) > 0 {
		return unprocessable(f.errs...)
	}
	fields := map[string]*map[string]any{"public_metadata": &u.PublicMetadata,
		"private_metadata": &u.PrivateMetadata, "unsafe_metadata": &u.UnsafeMetadata}
	next := map[string]map[string]any{}
	var errs []apiError
	for name, patch := range patches {
		next[name] = change(*fields[name], patch)
		if e := checkMetadataSize(name, next[name]); e != nil {
			errs = append(errs, *e)
		}
	}
	if len(errs) > 0 {
		return unprocessable(errs...)
	}
	for name, m := range next {
		*fields[name] = m
	}
	u.UpdatedAt = e.cfg.Now().UnixMilli()
	return reply{status: http.StatusOK, body: renderUser(u)}
}

// mergePatch merges patch into target as RFC 7386 does: objects merge
// recursively, null removes a key, anything else replaces. target is not
// modified.
func mergePatch(target any, patch map[string]any) map[string]any {
	base, _ := target.(map[string]any)
	out := cloneMap(base)
	if out == nil {
		out = map[string]any{}
	}
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(out, k)
		case map[string]any:
			out[k] = mergePatch(out[k], pv)
		default:
			out[k] = cloneValue(v)
		}
	}
	return out
}
