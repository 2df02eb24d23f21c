package reconcile

import (
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
)

// MetadataMode says how changed metadata is written.
type MetadataMode string

// The metadata modes.
const (
	// Merge deep-merges the source's metadata into Clerk's (PATCH
	// /metadata): keys that Clerk-side code added are kept, and a key the
	// source dropped is kept too.
	Merge MetadataMode = "merge"
	// Replace makes each metadata field equal to the source's (PUT
	// /metadata): keys the source does not have are removed.
	Replace MetadataMode = "replace"
)

// Secret field groups, whose fingerprints the ledger keeps.
const (
	GroupPassword    = runner.GroupPassword
	GroupTOTP        = runner.GroupTOTP
	GroupBackupCodes = runner.GroupBackupCodes
)

// addIdent is an email address or phone number to add to a user.
type addIdent struct {
	Value   string
	Primary bool
	// Verified is the source's word: an address it did not verify is added
	// unverified (POST /v1/email_addresses has no "reserved").
	Verified bool
}

// change is what one user needs: nothing, a create, or some writes.
type change struct {
	create    bool
	fields    []string // the names of what changed, for the plan and the ledger
	addEmails []addIdent
	addPhones []addIdent
	// delEmails and delPhones are the addresses the source no longer lists
	// (Config.PruneIdentifiers), deleted after the adds and the primary
	// switch.
	delEmails []ident
	delPhones []ident
	// notes are what the ledger's message should say besides the fields:
	// addresses kept although the source does not list them.
	notes    []string
	update   *clerk.UpdateUserParams
	metadata *clerk.MetadataParams
	ban      *bool // true: ban, false: unban
	lock     *bool
	// fps are the fingerprints to record once the writes succeed (those of
	// secrets sent, and baselines recorded without sending; the fields
	// record of the three-way diff).
	fps []checkpoint.Fingerprint
	// drift names the fields edited in Clerk that the source did not
	// change: Clerk's value is kept. conflicts names those both changed:
	// Clerk's is kept, or the source's sent with SourceWins (then the
	// field is among fields too).
	drift, conflicts []string
}

// writes counts the API calls the change makes.
func (c *change) writes() int {
	if c.create {
		return 1
	}
	n := len(c.addEmails) + len(c.addPhones) + len(c.delEmails) + len(c.delPhones)
	for _, b := range []bool{c.update != nil, c.metadata != nil, c.ban != nil, c.lock != nil} {
		if b {
			n++
		}
	}
	return n
}

// differ computes changes under one set of options.
type differ struct {
	*runner.Fingerprinter
	managed    func(prop string) bool
	mode       MetadataMode
	prune      bool
	sourceWins bool
	keyID      string
}

func newDiffer(managed []string, mode MetadataMode, fpKey []byte, prune, sourceWins bool) *differ {
	fp := runner.NewFingerprinter(fpKey)
	d := &differ{Fingerprinter: fp, mode: mode, prune: prune, sourceWins: sourceWins, keyID: fp.KeyID()}
	if managed != nil {
		set := map[string]bool{}
		for _, p := range managed {
			set[p] = true
		}
		d.managed = func(p string) bool { return set[p] }
	} else {
		d.managed = func(string) bool { return false }
	}
	return d
}

// forCreate is the change of a user Clerk does not have.
func (d *differ) forCreate(ext string, p *request.CreateUser) change {
	return change{create: true, fields: []string{"user"}, fps: d.Created(ext, p)}
}

// diff compares what the source wants with what Clerk has and with what
// the tool last wrote (the fields record among recorded: the fingerprints
// the ledger holds for the user, group → value; nil for none), field by
// field (see "Three-way diff" in the package doc).
func (d *differ) diff(ext string, want *request.CreateUser, have userState, recorded map[string]string) change {
	var c change
	up := &clerk.UpdateUserParams{}
	touched := false
	sv := runner.SourceOf(want)
	t := d.newThreeWay(recorded[runner.GroupFields], &c, sv)

	// Text: a managed field the source leaves empty clears Clerk's value.
	text := func(code string, h *string, set func(request.Field[string])) {
		prop := runner.FieldNames[code]
		v, ok := sv.Scalar(code)
		if !ok && !d.managed(prop) {
			t.keep(code)
			return
		}
		cur := textOf(h)
		if !t.scalar(code, v, cur, v == cur) {
			return
		}
		if v == "" {
			set(request.Null[string]())
		} else {
			set(request.Value(v))
		}
		c.fields = append(c.fields, prop)
		touched = true
	}
	text(runner.FieldFirstName, have.FirstName, func(f request.Field[string]) { up.FirstName = f })
	text(runner.FieldLastName, have.LastName, func(f request.Field[string]) { up.LastName = f })
	text(runner.FieldUsername, have.Username, func(f request.Field[string]) { up.Username = f })
	text(runner.FieldLocale, have.Locale, func(f request.Field[string]) { up.Locale = f })

	// Compared only when the source gives them (Clerk always holds a
	// value: an empty cell cannot clear it), and only when the index knows
	// Clerk's (cur nil: an entry from before they were kept).
	given := func(code string, cur *string, send func()) {
		v, ok := sv.Scalar(code)
		if !ok || cur == nil {
			t.keep(code)
			t.mixed = t.mixed || ok // a base not of the source's value: no FieldAll
			return
		}
		if t.scalar(code, v, *cur, v == *cur) {
			send()
			c.fields = append(c.fields, runner.FieldNames[code])
		}
	}
	patch := func(f func()) func() { return func() { f(); touched = true } }
	given(runner.FieldCreatedAt, millisText(have.CreatedAt), patch(func() { up.CreatedAt = want.CreatedAt }))
	given(runner.FieldLegal, millisText(have.LegalAcceptedAt), patch(func() { up.LegalAcceptedAt = want.LegalAcceptedAt }))
	given(runner.FieldDeleteSelf, boolText(have.DeleteSelf), patch(func() { up.DeleteSelfEnabled = want.DeleteSelfEnabled }))
	given(runner.FieldCreateOrg, boolText(have.CreateOrg), patch(func() { up.CreateOrganizationEnabled = want.CreateOrganizationEnabled }))
	given(runner.FieldOrgLimit, limitText(have.OrgLimit), patch(func() { up.CreateOrganizationsLimit = want.CreateOrganizationsLimit }))
	given(runner.FieldBanned, boolText(&have.Banned), func() { b, _ := want.Banned.Get(); c.ban = &b })
	given(runner.FieldLocked, boolText(&have.Locked), func() { l, _ := want.Locked.Get(); c.lock = &l })

	emails := identSpec{kind: kindEmail, set: runner.FieldEmails, primary: runner.FieldPrimaryMail,
		want: want.EmailAddresses, status: want.EmailAddressIdentificationStatus, have: have.Emails, havePrimary: have.PrimaryEmail,
		norm: strings.ToLower, eq: strings.EqualFold}
	phones := identSpec{kind: kindPhone, set: runner.FieldPhones, primary: runner.FieldPrimaryTel,
		want: want.PhoneNumbers, status: want.PhoneNumberIdentificationStatus, have: have.Phones, havePrimary: have.PrimaryPhone,
		norm: func(v string) string { return v }, eq: samePhone}
	var primary string
	c.addEmails, primary, c.delEmails = d.identifiers(t, &c, emails)
	if primary != "" {
		up.PrimaryEmailAddressID = request.Value(primary)
		c.fields = append(c.fields, "primary_email_address_id")
		touched = true
	}
	c.addPhones, primary, c.delPhones = d.identifiers(t, &c, phones)
	if primary != "" {
		up.PrimaryPhoneNumberID = request.Value(primary)
		c.fields = append(c.fields, "primary_phone_number_id")
		touched = true
	}

	if d.secrets(ext, want, recorded, up, &c) {
		touched = true
	}
	if touched {
		c.update = up
	}
	c.metadata = d.metadataDiff(t, want, have, &c)
	if e := t.encoded(recorded[runner.GroupFields]); e != "" {
		c.fps = append(c.fps, checkpoint.Fingerprint{ExternalID: ext, Group: runner.GroupFields, Value: e})
	}
	slices.Sort(c.fields)
	slices.Sort(c.drift)
	slices.Sort(c.conflicts)
	return c
}

// textOf is *h, or "" for nil.
func textOf(h *string) string {
	if h == nil {
		return ""
	}
	return *h
}

// millisText, boolText and limitText are Clerk's values as the source's
// are normalised (runner.SourceOf): Unix ms ("" for none), true/false, a
// limit ("" for none); nil stays nil (unknown).
func millisText(v *int64) *string {
	if v == nil {
		return nil
	}
	s := ""
	if *v != 0 {
		s = strconv.FormatInt(*v, 10)
	}
	return &s
}

func boolText(v *bool) *string {
	if v == nil {
		return nil
	}
	s := strconv.FormatBool(*v)
	return &s
}

func limitText(v *int) *string {
	if v == nil {
		return nil
	}
	s := ""
	if *v >= 0 {
		s = strconv.Itoa(*v)
	}
	return &s
}

// identSpec is one kind of identifier to diff: the source's values (the
// first is the primary one) and statuses, Clerk's, and how to compare.
type identSpec struct {
	kind, set, primary string // plan name, Fields codes
	want, status       []string
	have               []ident
	havePrimary        string
	norm               func(string) string
	eq                 func(a, b string) bool
}

// identifiers diffs one kind of identifier three ways: the primary as a
// scalar (a switch made in Clerk is kept), each value as a member of a set:
// a value the tool wrote that Clerk no longer has was removed in Clerk and
// is not added back (drift); with PruneIdentifiers a value Clerk has that
// the source does not is deleted when the tool wrote it, and kept (drift)
// when it was added in Clerk. Without a base, as before: every missing
// value is added, every extra one pruned.
func (d *differ) identifiers(t *threeWay, c *change, s identSpec) (add []addIdent, switchTo string, del []ident) {
	allowPrimary := false
	if len(s.want) > 0 {
		cur := ""
		for _, h := range s.have {
			if h.ID == s.havePrimary {
				cur = s.norm(h.Value)
			}
		}
		allowPrimary = t.scalar(s.primary, s.norm(s.want[0]), cur, s.eq(s.want[0], cur))
	} else {
		t.keep(s.primary)
	}
	removed := func(w string) bool {
		in, hasBase := t.hasItem(s.set, t.fp.Item(s.set, s.norm(w)))
		if !hasBase || !in || slices.ContainsFunc(s.have, func(h ident) bool { return s.eq(h.Value, w) }) {
			return false
		}
		c.drift = appendOnce(c.drift, s.kind)
		c.notes = append(c.notes, fmt.Sprintf("%s %s was removed in Clerk: not added back (a Clerk-side edit)", s.kind, w))
		return true
	}
	var blocked bool
	add, switchTo, blocked = identDiff(c, s.kind, s.want, s.status, s.have, s.havePrimary, s.eq, allowPrimary, removed)
	if blocked { // not switched: what Clerk holds stays the base
		t.mixed = true
		cur := ""
		for _, h := range s.have {
			if h.ID == s.havePrimary {
				cur = s.norm(h.Value)
			}
		}
		t.set(s.primary, []string{t.fp.Value(s.primary, cur)})
	}
	if len(add) > 0 {
		c.fields = append(c.fields, s.kind)
	}
	if d.prune {
		del = d.pruneDiff(c, s.kind, s.want, s.have, s.eq, func(h ident) bool {
			in, hasBase := t.hasItem(s.set, t.fp.Item(s.set, s.norm(h.Value)))
			if !hasBase || in {
				return true
			}
			c.drift = appendOnce(c.drift, s.kind)
			c.notes = append(c.notes, fmt.Sprintf("%s %s was added in Clerk: kept (a Clerk-side edit)", s.kind, h.Value))
			return false
		})
	}
	// The next base: the source's values, and those the tool wrote that
	// Clerk still has although the source dropped them (not pruned). When
	// the source is unchanged and Clerk holds exactly its values, the base.
	if t.unchanged(s.set) && len(add) == 0 && len(del) == 0 && sameSet(s.want, s.have, s.eq) {
		return add, switchTo, del // the base stands
	}
	next := make([]string, 0, len(s.want))
	for _, w := range s.want {
		next = append(next, t.fp.Item(s.set, s.norm(w)))
	}
	for _, h := range s.have {
		it := t.fp.Item(s.set, s.norm(h.Value))
		in, _ := t.hasItem(s.set, it)
		if in && !slices.Contains(next, it) && !slices.ContainsFunc(del, func(x ident) bool { return x.ID == h.ID }) {
			next = append(next, it)
		}
	}
	slices.Sort(next)
	t.set(s.set, slices.Compact(next))
	return add, switchTo, del
}

// sameSet reports whether want and have hold the same values.
func sameSet(want []string, have []ident, eq func(a, b string) bool) bool {
	if len(want) != len(have) {
		return false
	}
	for _, w := range want {
		if !slices.ContainsFunc(have, func(h ident) bool { return eq(h.Value, w) }) {
			return false
		}
	}
	return true
}

// identDiff lists the identifiers to add, each verified as the source says
// (status runs parallel to want; empty means all verified), and, when the
// wanted primary one is already the user's but not primary, its id. The
// first wanted value is the primary one (made so only when allowPrimary);
// identifiers Clerk has and the source does not are left, and so are those
// skip says not to add back. Clerk makes only a verified address primary,
// so a wanted primary the source did not verify is added (or kept) as a
// secondary one and a note on c says so (blocked); so does one Clerk holds
// verified that the source did not verify (created before the mapping said
// which were), which the sync does not change.
func identDiff(c *change, kind string, want, status []string, have []ident, havePrimary string, eq func(a, b string) bool,
	allowPrimary bool, skip func(string) bool) (add []addIdent, switchTo string, blocked bool) {
	for i, w := range want {
		verified := i >= len(status) || status[i] == request.StatusVerified
		found := ""
		for _, h := range have {
			if eq(h.Value, w) {
				found = h.ID
				if h.Verified && !verified {
					c.notes = append(c.notes, fmt.Sprintf("%s %s is verified in Clerk but not in the source; "+
						"left as it is (remove it by hand if nobody proved it)", kind, w))
				}
				break
			}
		}
		if found == "" && skip(w) {
			continue
		}
		primary := allowPrimary && i == 0 && len(have) > 0 && (found == "" || found != havePrimary)
		if primary && !verified {
			c.notes = append(c.notes, fmt.Sprintf("%s %s not made primary: the source did not verify it", kind, w))
			primary, blocked = false, true
		}
		switch {
		case found == "":
			add = append(add, addIdent{Value: w, Primary: primary, Verified: verified})
		case primary:
			switchTo = found
		}
	}
	return add, switchTo, blocked
}

// Identifier kinds, as the plan's field names and the ledger's messages
// name them.
const (
	kindEmail = "email_address"
	kindPhone = "phone_number"
	// Plan field names of deletions.
	FieldRemoveEmail = "remove_email_address"
	FieldRemovePhone = "remove_phone_number"
)

// pruneDiff lists the identifiers of one kind that Clerk has and the source
// does not. When the source lists none of that kind, nothing is deleted
// (a user must keep an identifier; the mapping may not carry that kind at
// all) and a note says how many were kept; ours says whether the tool may
// delete one (it wrote it, or no base says otherwise). The wanted primary is always in
// want, so the user's primary at delete time (after the adds and the
// switch) is never among those listed.
func (d *differ) pruneDiff(c *change, kind string, want []string, have []ident, eq func(a, b string) bool, ours func(ident) bool) []ident {
	if len(have) == 0 {
		return nil
	}
	if len(want) == 0 {
		c.notes = append(c.notes, fmt.Sprintf("kept %d %s: the source lists none, and a user's last identifier is never removed", len(have), kind))
		return nil
	}
	var del []ident
	for _, h := range have {
		if !slices.ContainsFunc(want, func(w string) bool { return eq(h.Value, w) }) && ours(h) {
			del = append(del, h)
		}
	}
	if len(del) > 0 {
		field := FieldRemoveEmail
		if kind == kindPhone {
			field = FieldRemovePhone
		}
		c.fields = append(c.fields, field)
	}
	return del
}

// samePhone compares phone numbers in E.164: equal strings, or equal once
// both are parsed (Clerk stores E.164; a source may keep another form that
// the mapping did not normalise).
func samePhone(a, b string) bool {
	if a == b {
		return true
	}
	if isE164(a) && isE164(b) {
		return false // two different E.164 strings: no parse needed
	}
	return e164(a) == e164(b)
}

// isE164 reports whether v is "+" and digits only: already in the form
// Clerk stores, so comparing it as a string is enough.
func isE164(v string) bool {
	if len(v) < 2 || v[0] != '+' {
		return false
	}
	for _, r := range v[1:] {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// e164 is a phone number in E.164 form, or the trimmed input when it does
// not parse (an international number needs its leading +).
func e164(v string) string {
	v = strings.TrimSpace(v)
	n, err := phonenumbers.Parse(v, "")
	if err != nil {
		return v
	}
	return phonenumbers.Format(n, phonenumbers.E164)
}

// secrets decides, per secret group, whether to send it (the source changed
// it since the fingerprint was recorded) or only to record a fingerprint
// (none was recorded: the import just set it; see the package doc).
func (d *differ) secrets(ext string, want *request.CreateUser, recorded map[string]string, up *clerk.UpdateUserParams, c *change) bool {
	sent := false
	for g, now := range d.Secrets(want) {
		old, ok := recorded[g]
		if ok && old == now {
			continue
		}
		c.fps = append(c.fps, checkpoint.Fingerprint{ExternalID: ext, Group: g, Value: now})
		if ok && strings.HasPrefix(old, d.keyID+":") && !strings.HasSuffix(old, ":-") && strings.HasSuffix(now, ":-") {
			c.notes = append(c.notes, fmt.Sprintf("%s removed in the source: not synced, Clerk keeps the one it has "+
				"(the sync cannot remove it)", g))
		}
		if !ok || !strings.HasPrefix(old, d.keyID+":") || strings.HasSuffix(now, ":-") {
			// Baseline (no fingerprint under this key), or the source
			// dropped the secret, which the API cannot take back: record.
			continue
		}
		sent = true
		c.fields = append(c.fields, g)
		switch g {
		case GroupPassword:
			if pw, ok := want.Password.Get(); ok {
				up.Password = request.Value(pw)
				if skip, ok := want.SkipPasswordChecks.Get(); ok {
					up.SkipPasswordChecks = request.Value(skip)
				}
			} else {
				up.PasswordDigest, _ = want.PasswordDigest.Get()
				up.PasswordHasher = want.PasswordHasher
			}
		case GroupTOTP:
			up.TOTPSecret = want.TOTPSecret
		case GroupBackupCodes:
			up.BackupCodes = want.BackupCodes
		}
	}
	return sent
}

// metadataDiff returns the metadata write the user needs, or nil. Each
// top-level key is a field of its own for the three-way diff (a key Clerk's
// code set is not a conflict with one the source changed); in Merge mode
// only the source's keys are compared, and Clerk's value is equal when it
// contains the source's (RFC 7386: keys added inside it in Clerk stay). In
// Replace mode every key is: one the source dropped is removed when Clerk
// still holds what the tool wrote, one added in Clerk is kept (drift).
func (d *differ) metadataDiff(t *threeWay, want *request.CreateUser, have userState, c *change) *clerk.MetadataParams {
	var mp clerk.MetadataParams
	some := false
	for _, f := range []struct {
		code string
		want map[string]any
		have []byte
		dst  *map[string]any
	}{
		{runner.FieldPublic, want.PublicMetadata, have.Public, &mp.PublicMetadata},
		{runner.FieldPrivate, want.PrivateMetadata, have.Private, &mp.PrivateMetadata},
		{runner.FieldUnsafe, want.UnsafeMetadata, have.Unsafe, &mp.UnsafeMetadata},
	} {
		prop := runner.FieldNames[f.code]
		if f.want == nil && !d.managed(prop) {
			t.keep(f.code)
			continue
		}
		if t.unchanged(f.code) && d.metadataEqual(f.want, f.have) {
			continue // the base stands
		}
		if w, ok := d.metadataField(t, f.code, f.want, decodeObject(f.have)); ok {
			*f.dst = w
			c.fields = append(c.fields, prop)
			some = true
		}
	}
	if !some {
		return nil
	}
	return &mp
}

// metadataEqual reports whether Clerk's metadata object holds the
// source's: equal in Replace mode, containing it in Merge mode.
func (d *differ) metadataEqual(want map[string]any, have []byte) bool {
	if want == nil {
		want = map[string]any{}
	}
	if d.mode == Replace {
		return string(canonical(want)) == string(canonicalRaw(have))
	}
	return contains(decodeObject(have), want)
}

// metadataField diffs one metadata object key by key and returns the body
// to write (Merge: the keys to patch; Replace: the whole object), if any.
func (d *differ) metadataField(t *threeWay, code string, want, have map[string]any) (map[string]any, bool) {
	if want == nil {
		want = map[string]any{}
	}
	keys := slices.Collect(maps.Keys(want))
	if d.mode == Replace {
		for k := range have {
			if _, ok := want[k]; !ok {
				keys = append(keys, k)
			}
		}
	}
	slices.Sort(keys)
	patch, resolved := map[string]any{}, maps.Clone(have)
	if resolved == nil {
		resolved = map[string]any{}
	}
	var next []string
	wrote := false
	for _, k := range keys {
		wv, inWant := want[k]
		hv, inHave := have[k]
		hs, hc := "", ""
		if inWant {
			hs = t.fp.MetaValue(code, runner.CanonicalJSON(wv))
		}
		if inHave {
			hc = t.fp.MetaValue(code, runner.CanonicalJSON(hv))
		}
		kh := t.fp.MetaKey(code, k)
		bs, bc, hasBase := t.metaBase(code, kh)
		var equal bool
		after := hs // Clerk's value once the source's is written
		if d.mode == Replace {
			equal = hs == hc
		} else {
			equal = contains(have, map[string]any{k: wv})
			if merged, ok := mergePatch(hv, wv, inHave); ok {
				after = t.fp.MetaValue(code, runner.CanonicalJSON(merged))
			} else {
				after = ""
			}
		}
		name := runner.FieldNames[code] + "." + k
		send := t.resolve(name, judge(equal, hs != bs, hc != bc, hasBase), func(kept bool) {
			switch {
			case kept && (bs != "" || bc != ""):
				next = append(next, metaItem(kh, bs, bc))
			case kept:
			case equal:
				if hs != "" || hc != "" {
					next = append(next, metaItem(kh, hs, hc))
				}
			case after != "" || hs != "":
				next = append(next, metaItem(kh, hs, after))
			}
		})
		if !send {
			continue
		}
		wrote = true
		patch[k] = wv
		if inWant {
			resolved[k] = wv
		} else {
			delete(resolved, k)
		}
	}
	// Keys of the base that were not compared (Merge: dropped by the
	// source, which Merge keeps in Clerk) are forgotten.
	slices.Sort(next)
	t.set(code, next)
	if !wrote {
		return nil, false
	}
	if d.mode == Replace {
		return resolved, true
	}
	return patch, true
}

// metaItem is one key's entry in the fields record: the key's hash, the
// source's value's hash, and Clerk's when it differs.
func metaItem(kh, src, clerk string) string {
	if src == clerk {
		return kh + "." + src
	}
	return kh + "." + src + "." + clerk
}

// mergePatch is Clerk's value at a key after PATCH /metadata merged the
// source's into it (RFC 7386); false when the key is then gone (a null).
func mergePatch(have, patch any, inHave bool) (any, bool) {
	p, isObj := patch.(map[string]any)
	switch {
	case patch == nil:
		return nil, false
	case !isObj:
		return patch, true
	}
	h, ok := have.(map[string]any)
	if !inHave || !ok {
		h = map[string]any{}
	}
	out := maps.Clone(h)
	for k, v := range p {
		hv, in := h[k]
		if m, ok := mergePatch(hv, v, in); ok {
			out[k] = m
		} else {
			delete(out, k)
		}
	}
	return out, true
}
