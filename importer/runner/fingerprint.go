package runner

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"hash"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
)

// Secret field groups, whose fingerprints the ledger keeps (Clerk never
// returns a secret, so the sync compares the source with what was last
// sent).
const (
	GroupPassword    = "password"
	GroupTOTP        = "totp"
	GroupBackupCodes = "backup_codes"
)

// Fingerprinter makes the keyed fingerprints the ledger keeps in place of
// values it must not hold in clear: an HMAC-SHA256 under a key derived
// from the instance's secret key (never stored), so that the ledger alone
// does not let anyone test a guess. The import records those of what it
// created, the sync compares the source's with them.
type Fingerprinter struct {
	key   []byte
	keyID string
	macs  sync.Pool // of *keyedMAC, Reset between uses (no re-keying)
}

// keyedMAC is a keyed HMAC and a buffer for what it hashes.
type keyedMAC struct {
	hash.Hash
	buf []byte
}

// NewFingerprinter keys fingerprints with key.
func NewFingerprinter(key []byte) *Fingerprinter {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("clerkmigrate fingerprint key id"))
	f := &Fingerprinter{key: key, keyID: hex.EncodeToString(mac.Sum(nil))[:8]}
	f.macs.New = func() any { return &keyedMAC{Hash: hmac.New(sha256.New, key), buf: make([]byte, 0, 128)} }
	return f
}

// KeyID names the key: every fingerprint starts with it and ":", so one
// recorded under another key (a rotated secret key) is told apart.
func (f *Fingerprinter) KeyID() string { return f.keyID }

// Sum is the keyed hash of parts under label, n hex digits long.
func (f *Fingerprinter) Sum(n int, label string, parts ...string) string {
	mac := f.macs.Get().(*keyedMAC)
	defer f.macs.Put(mac)
	mac.Reset()
	mac.buf = append(mac.buf[:0], label...)
	for _, p := range parts {
		mac.buf = append(append(mac.buf, 0), p...)
	}
	mac.Write(mac.buf)
	var sum [sha256.Size]byte
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], mac.Sum(sum[:0]))
	return string(out[:n])
}

// appendSum appends Sum(n, kind+"\x00"+code, v) to b, without building the
// label or the string (a user's record takes a dozen).
func (f *Fingerprinter) appendSum(b []byte, n int, kind, code, v string) []byte {
	mac := f.macs.Get().(*keyedMAC)
	mac.Reset()
	mac.buf = append(append(append(append(append(mac.buf[:0], kind...), 0), code...), 0), v...)
	mac.Write(mac.buf)
	var sum [sha256.Size]byte
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], mac.Sum(sum[:0]))
	f.macs.Put(mac)
	return append(b, out[:n]...)
}

// sum is appendSum as a string.
func (f *Fingerprinter) sum(n int, kind, code, v string) string {
	var b [2 * sha256.Size]byte
	return string(f.appendSum(b[:0], n, kind, code, v))
}

// Secret is the fingerprint of one secret group's value: "<key id>:" and
// 32 hex digits, or "<key id>:-" when the source has no such secret.
func (f *Fingerprinter) Secret(group string, parts ...string) string {
	empty := true
	for _, p := range parts {
		if p != "" {
			empty = false
		}
	}
	if empty {
		return f.keyID + ":-"
	}
	return f.keyID + ":" + f.Sum(32, group, parts...)
}

// Secrets are the fingerprints of a request's secret groups.
func (f *Fingerprinter) Secrets(p *request.CreateUser) map[string]string {
	pw, totp, codes := f.secrets(p)
	return map[string]string{GroupPassword: pw, GroupTOTP: totp, GroupBackupCodes: codes}
}

// secrets are the fingerprints of the password, TOTP and backup code groups.
func (f *Fingerprinter) secrets(p *request.CreateUser) (pw, totp, codes string) {
	plain, _ := p.Password.Get()
	digest, _ := p.PasswordDigest.Get()
	secret, _ := p.TOTPSecret.Get()
	return f.Secret(GroupPassword, plain, digest, p.PasswordHasher),
		f.Secret(GroupTOTP, secret),
		f.Secret(GroupBackupCodes, strings.Join(p.BackupCodes, "\x00"))
}

// Created are the fingerprints to record for a user created with p under
// the external id ext: those of its secrets, so that a secret the source
// changes before the first sync is sent by that sync, and its managed
// fields as created (GroupFields), so that the first sync tells an edit
// made in Clerk since from one made in the source.
func (f *Fingerprinter) Created(ext string, p *request.CreateUser) []checkpoint.Fingerprint {
	pw, totp, codes := f.secrets(p)
	return []checkpoint.Fingerprint{
		{ExternalID: ext, Group: GroupPassword, Value: pw},
		{ExternalID: ext, Group: GroupTOTP, Value: totp},
		{ExternalID: ext, Group: GroupBackupCodes, Value: codes},
		{ExternalID: ext, Group: GroupFields, Value: f.baseRecord(p)},
	}
}

// GroupFields is the fingerprint group of a user's managed fields as the
// tool last wrote them (or found them equal to the source): the base of
// the sync's three-way diff. Its value is Fields.Encode.
const GroupFields = "fields"

// Field codes of a Fields record, short to keep it small (one record per
// user): the plan's and the mapping's field names in FieldNames.
const (
	FieldFirstName   = "fn"
	FieldLastName    = "ln"
	FieldUsername    = "un"
	FieldLocale      = "lo"
	FieldCreatedAt   = "ca"
	FieldLegal       = "la"
	FieldDeleteSelf  = "ds"
	FieldCreateOrg   = "co"
	FieldOrgLimit    = "ol"
	FieldBanned      = "bn"
	FieldLocked      = "lk"
	FieldPrimaryMail = "pe"
	FieldPrimaryTel  = "pp"
	FieldEmails      = "em"
	FieldPhones      = "ph"
	FieldPublic      = "pm"
	FieldPrivate     = "vm"
	FieldUnsafe      = "um"
	// FieldAll is not a field: the hash of all the source's values
	// (SourceHash) when every field's base is the source's value, so that
	// a sync finding the source unchanged compares Clerk's values with
	// the source's without hashing them field by field.
	FieldAll = "al"
)

// FieldNames names each field code as the mapping, the plan and the
// ledger's messages do.
var FieldNames = map[string]string{
	FieldFirstName: "first_name", FieldLastName: "last_name", FieldUsername: "username", FieldLocale: "locale",
	FieldCreatedAt: "created_at", FieldLegal: "legal_accepted_at", FieldDeleteSelf: "delete_self_enabled",
	FieldCreateOrg: "create_organization_enabled", FieldOrgLimit: "create_organizations_limit",
	FieldBanned: "banned", FieldLocked: "locked", FieldPrimaryMail: "primary_email_address_id",
	FieldPrimaryTel: "primary_phone_number_id", FieldEmails: "email_address", FieldPhones: "phone_number",
	FieldPublic: "public_metadata", FieldPrivate: "private_metadata", FieldUnsafe: "unsafe_metadata",
}

// Fields is a user's managed fields as keyed fingerprints: for a scalar
// field one hash of its normalised value ("" hashes too: an empty value is
// a value); for email_address and phone_number one hash per value; for a
// metadata field one "key hash.value hash" per top-level key. Field code →
// items. It holds no value in clear.
type Fields map[string][]string

// Value is the normalised text a Fields hash is taken of.
func (f *Fingerprinter) Value(code, v string) string { return f.sum(12, "field", code, v) }

// Item is the hash of one email address (lower-cased) or phone number.
func (f *Fingerprinter) Item(code, v string) string { return f.sum(10, "item", code, v) }

// MetaKey and MetaValue hash one top-level metadata key and its value
// (canonical JSON).
func (f *Fingerprinter) MetaKey(code, k string) string { return f.sum(8, "key", code, k) }

// MetaValue hashes the canonical JSON of one metadata value.
func (f *Fingerprinter) MetaValue(code, v string) string { return f.sum(10, "val", code, v) }

// Encode is the record as the ledger keeps it: "<key id>:" then
// "code=item,item" entries, sorted, joined by ";".
func (fs Fields) Encode(keyID string) string {
	codes := make([]string, 0, len(fs))
	for c := range fs {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	var b strings.Builder
	b.WriteString(keyID + ":")
	for i, c := range codes {
		if i > 0 {
			b.WriteByte(';')
		}
		b.WriteString(c + "=" + strings.Join(fs[c], ","))
	}
	return b.String()
}

// DecodeFields reads a record Encode wrote under keyID; ok is false when
// it is empty or was written under another key (a rotated secret key).
func DecodeFields(keyID, s string) (Fields, bool) {
	rest, ok := strings.CutPrefix(s, keyID+":")
	if !ok {
		return nil, false
	}
	fs := make(Fields, strings.Count(rest, ";")+1)
	for _, e := range strings.Split(rest, ";") {
		code, items, ok := strings.Cut(e, "=")
		if !ok {
			continue
		}
		fs[code] = []string{}
		if items != "" {
			fs[code] = strings.Split(items, ",")
		}
	}
	return fs, true
}

// CanonicalJSON encodes v so that equal values give equal bytes (object
// keys sorted, numbers as float64).
func CanonicalJSON(v any) string {
	switch v := v.(type) {
	case string:
		if plainJSON(v) {
			return `"` + v + `"`
		}
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	var back any
	if json.Unmarshal(b, &back) != nil {
		return string(b)
	}
	out, _ := json.Marshal(back)
	return string(out)
}

// plainJSON reports whether s encodes in JSON as itself between quotes:
// printable ASCII with nothing encoding/json escapes (it escapes <, > and
// & too).
func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20, c >= 0x7f, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// appendObjectJSON appends m as json.Marshal writes it (keys sorted).
func appendObjectJSON(b []byte, m map[string]any) []byte {
	keys := make([]string, 0, len(m))
	plain := true
	for k, v := range m {
		keys = append(keys, k)
		if s, ok := v.(string); !ok || !plainJSON(k) || !plainJSON(s) {
			plain = false
		}
	}
	if !plain {
		js, _ := json.Marshal(m) // map keys sorted
		return append(b, js...)
	}
	slices.Sort(keys)
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(append(append(append(append(b, '"'), k...), `":"`...), m[k].(string)...), '"')
	}
	return append(b, '}')
}

// Millis is an RFC 3339 time as Unix milliseconds in decimal ("" for none
// or an unreadable one), the form Clerk returns times in.
func Millis(v string) string {
	if v == "" {
		return ""
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return ""
	}
	return strconv.FormatInt(t.UnixMilli(), 10)
}

// SourceValues are the request's managed values, normalised as the sync
// compares them, by field code: a scalar's value (absent when the
// request does not give it), the lower-cased emails and the phones in
// order, each metadata object's top-level keys and canonical values.
type SourceValues struct {
	scalars  []scalar // in scalarCodes order
	Emails   []string
	Phones   []string
	metadata [3]map[string]any // public, private, unsafe
}

type scalar struct{ code, value string }

// Scalar is the source's value of a scalar field, and whether it gives one.
func (sv *SourceValues) Scalar(code string) (string, bool) {
	for _, x := range sv.scalars {
		if x.code == code {
			return x.value, true
		}
	}
	return "", false
}

func (sv *SourceValues) setScalar(code, v string) { sv.scalars = append(sv.scalars, scalar{code, v}) }

// Metadata is the source's metadata object of code (FieldPublic,
// FieldPrivate, FieldUnsafe); nil when it gives none.
func (sv *SourceValues) Metadata(code string) map[string]any {
	switch code {
	case FieldPublic:
		return sv.metadata[0]
	case FieldPrivate:
		return sv.metadata[1]
	case FieldUnsafe:
		return sv.metadata[2]
	}
	return nil
}

// SourceOf takes the values of p the sync manages.
func SourceOf(p *request.CreateUser) SourceValues {
	sv := SourceValues{scalars: make([]scalar, 0, len(scalarCodes))}
	str := func(code string, fv request.Field[string]) {
		if v, ok := fv.Get(); ok {
			sv.setScalar(code, v)
		}
	}
	boolean := func(code string, fv request.Field[bool]) {
		if v, ok := fv.Get(); ok {
			sv.setScalar(code, strconv.FormatBool(v))
		}
	}
	str(FieldFirstName, p.FirstName)
	str(FieldLastName, p.LastName)
	str(FieldUsername, p.Username)
	str(FieldLocale, p.Locale)
	if v, ok := p.CreatedAt.Get(); ok {
		sv.setScalar(FieldCreatedAt, Millis(v))
	}
	if v, ok := p.LegalAcceptedAt.Get(); ok {
		sv.setScalar(FieldLegal, Millis(v))
	}
	boolean(FieldDeleteSelf, p.DeleteSelfEnabled)
	boolean(FieldCreateOrg, p.CreateOrganizationEnabled)
	if v, ok := p.CreateOrganizationsLimit.Get(); ok {
		sv.setScalar(FieldOrgLimit, strconv.Itoa(v))
	}
	boolean(FieldBanned, p.Banned)
	boolean(FieldLocked, p.Locked)
	for _, e := range p.EmailAddresses {
		sv.Emails = append(sv.Emails, strings.ToLower(e))
	}
	sv.Phones = append(sv.Phones, p.PhoneNumbers...)
	if len(sv.Emails) > 0 {
		sv.setScalar(FieldPrimaryMail, sv.Emails[0])
	}
	if len(sv.Phones) > 0 {
		sv.setScalar(FieldPrimaryTel, sv.Phones[0])
	}
	sv.metadata = [3]map[string]any{p.PublicMetadata, p.PrivateMetadata, p.UnsafeMetadata}
	return sv
}

// scalarCodes are the codes of the scalar fields, in a fixed order.
var scalarCodes = []string{FieldFirstName, FieldLastName, FieldUsername, FieldLocale, FieldCreatedAt, FieldLegal,
	FieldDeleteSelf, FieldCreateOrg, FieldOrgLimit, FieldBanned, FieldLocked, FieldPrimaryMail, FieldPrimaryTel}

// SourceHash is one hash of all of sv, for FieldAll.
func (f *Fingerprinter) SourceHash(sv SourceValues) string {
	b := make([]byte, 0, 256)
	for _, x := range sv.scalars { // in scalarCodes order
		b = append(append(append(append(b, x.code...), '='), x.value...), 0)
	}
	b = append(b, "em="...)
	for i, e := range sv.Emails {
		if i > 0 {
			b = append(b, 1)
		}
		b = append(b, e...)
	}
	b = append(b, "\x00ph="...)
	for i, p := range sv.Phones {
		if i > 0 {
			b = append(b, 1)
		}
		b = append(b, p...)
	}
	b = append(b, 0)
	for _, c := range []string{FieldPublic, FieldPrivate, FieldUnsafe} {
		if m := sv.Metadata(c); m != nil {
			b = append(append(b, c...), '=')
			b = append(appendObjectJSON(b, m), 0)
		}
	}
	return f.Sum(12, "all", string(b))
}

// Base is the Fields record of a user created from p: every field as the
// create set it (a field p does not give as Clerk then holds it: empty).
func (f *Fingerprinter) Base(p *request.CreateUser) Fields {
	fs, _ := DecodeFields(f.keyID, f.baseRecord(p))
	return fs
}

// recordCodes are the codes of a created user's record in the order
// Encode writes them (sorted).
var recordCodes = func() []string {
	codes := []string{FieldAll}
	for c := range FieldNames {
		codes = append(codes, c)
	}
	slices.Sort(codes)
	return codes
}()

// baseRecord is Base(p).Encode(keyID), written as it is hashed.
func (f *Fingerprinter) baseRecord(p *request.CreateUser) string {
	sv := SourceOf(p)
	b := make([]byte, 0, 384)
	b = append(append(b, f.keyID...), ':')
	var items []string
	first := true
	for _, code := range recordCodes {
		switch code {
		case FieldBanned, FieldLocked, FieldDeleteSelf, FieldCreateOrg, FieldOrgLimit, FieldCreatedAt, FieldLegal:
			if _, ok := sv.Scalar(code); !ok { // not given: Clerk's default, which the sync does not compare
				continue
			}
		}
		if !first {
			b = append(b, ';')
		}
		first = false
		b = append(append(b, code...), '=')
		switch code {
		case FieldAll:
			b = append(b, f.SourceHash(sv)...)
		case FieldEmails, FieldPhones:
			vs := sv.Emails
			if code == FieldPhones {
				vs = sv.Phones
			}
			items = f.appendItems(items[:0], code, vs)
			b = appendJoined(b, items)
		case FieldPublic, FieldPrivate, FieldUnsafe:
			items = f.appendMeta(items[:0], code, sv.Metadata(code))
			b = appendJoined(b, items)
		default:
			v, _ := sv.Scalar(code)
			b = f.appendSum(b, 12, "field", code, v) // Value
		}
	}
	return string(b)
}

// appendJoined appends items joined by ",".
func appendJoined(b []byte, items []string) []byte {
	for i, it := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, it...)
	}
	return b
}

func (f *Fingerprinter) items(code string, vs []string) []string {
	return f.appendItems(make([]string, 0, len(vs)), code, vs)
}

// appendItems appends the sorted Item hashes of vs to out.
func (f *Fingerprinter) appendItems(out []string, code string, vs []string) []string {
	for _, v := range vs {
		out = append(out, f.Item(code, v))
	}
	slices.Sort(out)
	return out
}

// Meta are the "key hash.value hash" items of a metadata object, sorted.
func (f *Fingerprinter) Meta(code string, m map[string]any) []string {
	return f.appendMeta(make([]string, 0, len(m)), code, m)
}

func (f *Fingerprinter) appendMeta(out []string, code string, m map[string]any) []string {
	var b [8 + 1 + 10]byte
	for k, v := range m {
		h := f.appendSum(b[:0], 8, "key", code, k) // MetaKey
		h = f.appendSum(append(h, '.'), 10, "val", code, CanonicalJSON(v))
		out = append(out, string(h))
	}
	slices.Sort(out)
	return out
}

// Record is an encoded Fields record, read entry by entry without being
// decoded whole (a sync reads one for every user each night).
type Record struct {
	body string // after "<key id>:"
	ok   bool
}

// ReadRecord reads a record Encode wrote under keyID; Valid is false when
// it is empty or was written under another key (a rotated secret key).
func ReadRecord(keyID, s string) Record {
	body, ok := strings.CutPrefix(s, keyID+":")
	return Record{body: body, ok: ok}
}

// Valid reports whether the record was read.
func (r Record) Valid() bool { return r.ok }

// Get is the items of code as encoded ("a,b"; "" for none), and whether
// the record has code.
func (r Record) Get(code string) (string, bool) {
	if !r.ok {
		return "", false
	}
	rest := r.body
	for rest != "" {
		var e string
		e, rest, _ = strings.Cut(rest, ";")
		if c, items, ok := strings.Cut(e, "="); ok && c == code {
			return items, true
		}
	}
	return "", false
}

// Has reports whether items (as Get returns them) hold item.
func Has(items, item string) bool {
	for items != "" {
		var it string
		it, items, _ = strings.Cut(items, ",")
		if it == item {
			return true
		}
	}
	return false
}

// Fields decodes the whole record (nil when not Valid).
func (r Record) Fields() Fields {
	if !r.ok {
		return nil
	}
	fs, _ := DecodeFields("", ":"+r.body)
	return fs
}
