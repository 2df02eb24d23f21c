package reconcile

import (
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"slices"
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
	// secrets sent, and baselines recorded without sending).
	fps []checkpoint.Fingerprint
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
	managed func(prop string) bool
	mode    MetadataMode
	prune   bool
	keyID   string
}

func newDiffer(managed []string, mode MetadataMode, fpKey []byte, prune bool) *differ {
	fp := runner.NewFingerprinter(fpKey)
	d := &differ{Fingerprinter: fp, mode: mode, prune: prune, keyID: fp.KeyID()}
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

// diff compares what the source wants with what Clerk has. recorded are the
// fingerprints the ledger holds for the user (nil for none).
func (d *differ) diff(ext string, want *request.CreateUser, have userState, recorded map[string]string) change {
	var c change
	up := &clerk.UpdateUserParams{}
	touched := false
	text := func(prop string, w request.Field[string], h *string, set func(request.Field[string])) {
		v, ok := w.Get()
		cur := ""
		if h != nil {
			cur = *h
		}
		switch {
		case ok && v != cur:
			set(request.Value(v))
		case !ok && cur != "" && d.managed(prop):
			set(request.Null[string]())
		default:
			return
		}
		c.fields = append(c.fields, prop)
		touched = true
	}
	text("first_name", want.FirstName, have.FirstName, func(f request.Field[string]) { up.FirstName = f })
	text("last_name", want.LastName, have.LastName, func(f request.Field[string]) { up.LastName = f })
	text("username", want.Username, have.Username, func(f request.Field[string]) { up.Username = f })
	text("locale", want.Locale, have.Locale, func(f request.Field[string]) { up.Locale = f })

	var primary string
	c.addEmails, primary = identDiff(&c, kindEmail, want.EmailAddresses, want.EmailAddressIdentificationStatus, have.Emails, have.PrimaryEmail, strings.EqualFold)
	if len(c.addEmails) > 0 {
		c.fields = append(c.fields, "email_address")
	}
	if primary != "" {
		up.PrimaryEmailAddressID = request.Value(primary)
		c.fields = append(c.fields, "primary_email_address_id")
		touched = true
	}
	c.addPhones, primary = identDiff(&c, kindPhone, want.PhoneNumbers, want.PhoneNumberIdentificationStatus, have.Phones, have.PrimaryPhone, samePhone)
	if len(c.addPhones) > 0 {
		c.fields = append(c.fields, "phone_number")
	}
	if primary != "" {
		up.PrimaryPhoneNumberID = request.Value(primary)
		c.fields = append(c.fields, "primary_phone_number_id")
		touched = true
	}

	if d.prune {
		c.delEmails = d.pruneDiff(&c, kindEmail, want.EmailAddresses, have.Emails, strings.EqualFold)
		c.delPhones = d.pruneDiff(&c, kindPhone, want.PhoneNumbers, have.Phones, samePhone)
	}

	if d.secrets(ext, want, recorded, up, &c) {
		touched = true
	}
	if touched {
		c.update = up
	}
	c.metadata = d.metadataDiff(want, have, &c)
	if b, ok := want.Banned.Get(); ok && b != have.Banned {
		c.ban = &b
		c.fields = append(c.fields, "banned")
	}
	if l, ok := want.Locked.Get(); ok && l != have.Locked {
		c.lock = &l
		c.fields = append(c.fields, "locked")
	}
	slices.Sort(c.fields)
	return c
}

// identDiff lists the identifiers to add, each verified as the source says
// (status runs parallel to want; empty means all verified), and, when the
// wanted primary one is already the user's but not primary, its id. The
// first wanted value is the primary one; identifiers Clerk has and the
// source does not are left. Clerk makes only a verified address primary, so
// a wanted primary the source did not verify is added (or kept) as a
// secondary one and a note on c says so; so does one Clerk holds verified
// that the source did not verify (created before the mapping said which
// were), which the sync does not change.
func identDiff(c *change, kind string, want, status []string, have []ident, havePrimary string, eq func(a, b string) bool) (add []addIdent, switchTo string) {
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
		primary := i == 0 && len(have) > 0 && (found == "" || found != havePrimary)
		if primary && !verified {
			c.notes = append(c.notes, fmt.Sprintf("%s %s not made primary: the source did not verify it", kind, w))
			primary = false
		}
		switch {
		case found == "":
			add = append(add, addIdent{Value: w, Primary: primary, Verified: verified})
		case primary:
			switchTo = found
		}
	}
	return add, switchTo
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
// all) and a note says how many were kept. The wanted primary is always in
// want, so the user's primary at delete time (after the adds and the
// switch) is never among those listed.
func (d *differ) pruneDiff(c *change, kind string, want []string, have []ident, eq func(a, b string) bool) []ident {
	if len(have) == 0 {
		return nil
	}
	if len(want) == 0 {
		c.notes = append(c.notes, fmt.Sprintf("kept %d %s: the source lists none, and a user's last identifier is never removed", len(have), kind))
		return nil
	}
	var del []ident
	for _, h := range have {
		if !slices.ContainsFunc(want, func(w string) bool { return eq(h.Value, w) }) {
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

// metadataDiff returns the metadata write the user needs, or nil.
func (d *differ) metadataDiff(want *request.CreateUser, have userState, c *change) *clerk.MetadataParams {
	var mp clerk.MetadataParams
	some := false
	for _, f := range []struct {
		prop string
		want map[string]any
		have []byte
		dst  *map[string]any
	}{
		{"public_metadata", want.PublicMetadata, have.Public, &mp.PublicMetadata},
		{"private_metadata", want.PrivateMetadata, have.Private, &mp.PrivateMetadata},
		{"unsafe_metadata", want.UnsafeMetadata, have.Unsafe, &mp.UnsafeMetadata},
	} {
		if f.want == nil && !d.managed(f.prop) {
			continue
		}
		w := f.want
		if w == nil {
			w = map[string]any{}
		}
		var changed bool
		if d.mode == Replace {
			changed = string(canonical(w)) != string(canonicalRaw(f.have))
		} else {
			changed = !contains(decodeObject(f.have), w)
		}
		if changed {
			*f.dst = w
			c.fields = append(c.fields, f.prop)
			some = true
		}
	}
	if !some {
		return nil
	}
	return &mp
}
