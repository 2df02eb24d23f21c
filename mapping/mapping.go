// Package mapping reads mapping files, which say how a legacy user record
// becomes a Clerk CreateUser request, and applies them to records: a pure,
// fast function from sources.Record to *request.CreateUser, or to every
// problem of the row as FieldErrors. The request type is mapping/request's,
// a leaf below this package: the mapping never depends on the client that
// sends the request (importer/clerk depends on it instead).
//
// A mapping file (YAML):
//
//	version: 1
//	key: id                          # legacy user id; always becomes external_id
//	options:
//	  required_identifiers: [email_address]
//	  default_phone_region: US
//	fields:
//	  first_name: fname              # shorthand for { from: fname }
//	  email_address: { from: [email, other_emails], split: "|", transform: [trim, lower] }
//	  password_hasher: { value: bcrypt }
//	  created_at: { from: signup, parse: timestamp }
//	  private_metadata: { from: { plan: plan, role: role } }
//	  locale: { from: locale, default: en-US }
//
// Conversion follows each property's type: text properties take the first
// non-empty source (after transforms), list properties concatenate every
// source (splitting cells on `split`), bool/int/timestamp/metadata properties
// parse their first non-empty source. An empty cell means "not given": the
// property is left out of the request, or takes its default.
//
// Beyond from/value/default, a field may be
//
//	phone_number: { template: "+{phone}" }          # composed of row fields and {param:name}
//	password_hasher: { from: hasher, when: digest } # filled only where digest is non-empty
//	banned: { from: banned_until, parse: future }   # a bool: the timestamp is still to come
//	first_name: { from: name, transform: [first_word] }  # and rest_words for the last name
//
// Template parameters are run-time secrets (Params, bound with WithParams):
// never in the file, the fingerprint or an error message.
package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"maps"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/nyaruka/phonenumbers"
	"gopkg.in/yaml.v3"

	"github.com/clerkmigrate/clerkmigrate/mapping/hashers"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// Mapping is a compiled mapping file. It is immutable and safe for
// concurrent use.
type Mapping struct {
	key         string
	options     Options
	fields      []field
	byProp      map[string]*field
	required    []string
	columns     []string
	fingerprint string
	file        string // the path Load read, for messages
	keyLine     int    // the line of `key:`
}

// transform ops, applied in order.
type textOp uint8

const (
	opTrim textOp = iota
	opLower
	opUpper
	opFirstWord
	opRestWords
)

// field is one compiled field spec.
type field struct {
	prop      *property
	bit       uint64
	line      int // of the field in the mapping file
	from      []string
	object    []objectPart // from: {key: path}, sorted by key
	sourceTag string       // how errors name the sources: "email, secondary_emails"
	split     string
	splitJSON bool
	ops       []textOp
	opts      *Options
	// fixed holds a value: constant or a default: a one-value Values that
	// runs through the same conversion as the row's cells.
	fixed     sources.Values
	fixedPath []string // {"value"} or {"default"}
	// tmpl composes the value from the row and params (template:); params
	// are bound by WithParams.
	tmpl   *template
	params Params
	// future: a bool read from a timestamp, true when after now (parse: future).
	future bool
	now    time.Time
	// when: the field is filled only for rows where this path is non-empty.
	when string
	// verified says which of an identifier's values the source verified
	// (email_address and phone_number only; see verified.go).
	verified *verifiedSpec
	// overlap: the mapping says its columns list some values twice
	// (repeats: expected); see dedupe.
	overlap bool
}

type objectPart struct {
	key, path string
}

// constValues is the Values of a value: or default: constant.
type constValues struct{ v any }

func (c constValues) Lookup(string) (sources.Value, bool) { return c.v, true }

// rowState gathers what Map learns about one row.
type rowState struct {
	errs    FieldErrors
	given   uint64 // properties given a value, valid or not
	failed  uint64 // properties with a FieldError
	fromRow uint64 // properties whose value came from the row, not value/default
}

func (st *rowState) fail(f *field, src string, pr *problem) {
	warning := warningCodes[pr.code]
	st.errs = append(st.errs, FieldError{Field: f.prop.name, Source: src, Code: pr.code, Reason: pr.reason, Warning: warning})
	st.given |= f.bit
	if !warning {
		st.failed |= f.bit
	}
}

// Load reads and compiles a mapping file. Errors are LoadErrors naming the
// file and line of every problem.
func Load(path string) (*Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := Parse(data)
	var les LoadErrors
	if errors.As(err, &les) {
		for _, e := range les {
			e.File = path
		}
	}
	if m != nil {
		m.file = path
	}
	return m, err
}

// Parse compiles a mapping file's bytes. Errors are LoadErrors naming the
// line of every problem.
func Parse(data []byte) (*Mapping, error) {
	l := &loader{}
	doc, specs := l.readFile(data)
	if doc == nil {
		return nil, l.errs
	}
	var root yaml.Node
	_ = yaml.Unmarshal(data, &root) // for the lines of options; it decoded once already
	l.checkVerifiedStated(specs)
	m := &Mapping{key: strings.TrimSpace(doc.Key), byProp: map[string]*field{}, keyLine: nodeLine(&root, "key")}
	m.options = l.compileOptions(doc.Options, &root)
	m.fields = make([]field, 0, len(specs))
	for _, spec := range specs {
		m.fields = append(m.fields, l.compileField(spec, &m.options))
	}
	for i := range m.fields {
		m.byProp[m.fields[i].prop.name] = &m.fields[i]
	}
	for _, id := range m.options.RequiredIdentifiers {
		if _, ok := m.byProp[id]; !ok && slices.Contains(identifierProps, id) {
			l.errorf(nodeLine(&root, "options", "required_identifiers"),
				"options: required_identifiers names %s, which fields does not map", id)
		}
	}
	m.required = m.options.RequiredIdentifiers
	l.checkPairs(m.byProp, &root)
	if len(l.errs) > 0 {
		sort.SliceStable(l.errs, func(i, j int) bool { return l.errs[i].Line < l.errs[j].Line })
		return nil, l.errs
	}
	m.columns = columnsOf(m.key, m.fields)
	m.fingerprint = fingerprintOf(doc, m, specs)
	return m, nil
}

// pairs are properties that make sense only together with another.
var pairs = [][2]string{
	{propDigest, propHasher},
	{propHasher, propDigest},
	{propEmailStatus, propEmail},
	{propPhoneStatus, propPhone},
}

// checkPairs refuses a property mapped without its partner.
func (l *loader) checkPairs(byProp map[string]*field, root *yaml.Node) {
	for _, pair := range pairs {
		if byProp[pair[0]] != nil && byProp[pair[1]] == nil {
			l.errorf(nodeLine(root, "fields", pair[0]), "fields: %s is mapped but %s is not; map both", pair[0], pair[1])
		}
	}
}

// compileOptions checks and normalises the options.
func (l *loader) compileOptions(o Options, root *yaml.Node) Options {
	var ids []string
	for _, id := range o.RequiredIdentifiers {
		if !slices.Contains(identifierProps, id) {
			l.errorf(nodeLine(root, "options", "required_identifiers"),
				"options: required_identifiers: %q is not an identifier; valid: %s", id, strings.Join(identifierProps, ", "))
			continue
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	o.RequiredIdentifiers = ids
	o.DefaultPhoneRegion = strings.ToUpper(strings.TrimSpace(o.DefaultPhoneRegion))
	if r := o.DefaultPhoneRegion; r != "" && !phonenumbers.GetSupportedRegions()[r] {
		l.errorf(nodeLine(root, "options", "default_phone_region"),
			"options: default_phone_region: %q is not a region phone numbers know (use ISO 3166 codes: US, GB, DE...)", r)
	}
	return o
}

// nodeLine finds the line of a key path in a document, 0 when absent.
func nodeLine(root *yaml.Node, keys ...string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, k := range keys {
		if n.Kind != yaml.MappingNode {
			return line
		}
		found := false
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				line, n, found = n.Content[i].Line, n.Content[i+1], true
				break
			}
		}
		if !found {
			return line
		}
	}
	return line
}

// compileField turns a spec into a field and checks its constants by
// converting them once.
func (l *loader) compileField(spec *fieldSpec, opts *Options) field {
	idx := propertyIndex[spec.name]
	f := field{prop: &properties[idx], bit: 1 << idx, line: spec.line, from: spec.from, opts: opts}
	for k, p := range spec.object {
		f.object = append(f.object, objectPart{k, p})
	}
	sort.Slice(f.object, func(i, j int) bool { return f.object[i].key < f.object[j].key })
	f.sourceTag = strings.Join(spec.from, ", ")
	if spec.hasTmpl {
		f.tmpl, _ = parseTemplate(spec.template) // checked by readField
		f.sourceTag = spec.template
	}
	f.when = spec.when
	f.verified = spec.verified
	f.overlap = spec.overlap
	if spec.parse == parseFuture {
		f.future = true
	}
	f.now = time.Now() // for parse: future, and what a plausible timestamp is
	if f.object != nil {
		parts := make([]string, len(f.object))
		for i, o := range f.object {
			parts[i] = o.path
		}
		f.sourceTag = strings.Join(parts, ", ")
	}
	if spec.split == "json" {
		f.splitJSON = true
	} else {
		f.split = spec.split
	}
	for _, t := range spec.transform {
		f.ops = append(f.ops, textOp(slices.Index(transformNames, t)))
	}
	switch {
	case spec.hasValue:
		f.fixed, f.fixedPath = constValues{spec.value}, []string{"value"}
	case spec.hasDef:
		f.fixed, f.fixedPath = constValues{spec.def}, []string{"default"}
	}
	if f.fixed != nil {
		var st rowState
		if !f.applyFrom(f.fixed, f.fixedPath, &request.CreateUser{}, &st) && len(st.errs) == 0 {
			l.errorf(spec.line, "%s: %s is empty", spec.name, f.fixedPath[0])
		}
		for _, e := range st.errs.Refusals() {
			l.errorf(spec.line, "%s: %s: %s", spec.name, f.fixedPath[0], e.Reason)
		}
	}
	return f
}

// columnsOf lists the key and every source path, in file order, once each.
func columnsOf(key string, fields []field) []string {
	cols := []string{key}
	add := func(p string) {
		if !slices.Contains(cols, p) {
			cols = append(cols, p)
		}
	}
	for i := range fields {
		for _, p := range fields[i].paths() {
			add(p)
		}
	}
	return cols
}

// canonField is a field spec in the canonical form the fingerprint hashes.
type canonField struct {
	From      []string          `json:"from,omitempty"`
	Object    map[string]string `json:"object,omitempty"`
	Value     any               `json:"value,omitempty"`
	Default   any               `json:"default,omitempty"`
	Split     string            `json:"split,omitempty"`
	Transform []string          `json:"transform,omitempty"`
	Template  string            `json:"template,omitempty"` // names parameters, never their values
	Parse     string            `json:"parse,omitempty"`
	When      string            `json:"when,omitempty"`
	Verified  *verifiedSpec     `json:"verified,omitempty"`
}

// fingerprintOf hashes the meaning of the file, not its text: comments,
// layout, key order and shorthand do not change it.
func fingerprintOf(doc *fileDoc, m *Mapping, specs []*fieldSpec) string {
	fields := make(map[string]canonField, len(specs))
	for _, s := range specs {
		fields[s.name] = canonField{From: s.from, Object: s.object, Value: s.value, Default: s.def,
			Split: s.split, Transform: s.transform, Template: s.template, Parse: s.parse, When: s.when, Verified: s.verified}
	}
	canon := struct {
		Version int                   `json:"version"`
		Key     string                `json:"key"`
		Options Options               `json:"options"`
		Fields  map[string]canonField `json:"fields"`
	}{doc.Version, m.key, m.options, fields}
	b, err := json.Marshal(canon)
	if err != nil { // constants are jsonable by construction
		panic("mapping: fingerprint: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Key is the column or path of the legacy user id, for the source.
func (m *Mapping) Key() string { return m.key }

// Fingerprint is the hex sha256 of the canonical mapping, for the run ledger:
// it changes when the meaning of the file changes, not with comments.
func (m *Mapping) Fingerprint() string { return m.fingerprint }

// Properties lists the CreateUser properties the mapping sets (its fields'
// names), sorted: the properties a sync manages.
func (m *Mapping) Properties() []string {
	out := make([]string, 0, len(m.fields))
	for i := range m.fields {
		out = append(out, m.fields[i].prop.name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Columns lists the key and every column or path the mapping reads, once
// each, so that a source can check its header before the first row.
func (m *Mapping) Columns() []string { return slices.Clone(m.columns) }

// Options returns the mapping's options (normalised: sorted identifiers,
// upper-case region).
func (m *Mapping) Options() Options {
	o := m.options
	o.RequiredIdentifiers = slices.Clone(o.RequiredIdentifiers)
	return o
}

// Map turns one record into a CreateUser request, or returns every problem
// of the row. It is pure and safe for concurrent use. external_id is always
// the record's Key. A record whose Err is set yields one record_unreadable
// FieldError. When the row is Invalid the request is nil; otherwise the
// errors returned, if any, are warnings, and the request is sent with them.
func (m *Mapping) Map(rec sources.Record) (*request.CreateUser, FieldErrors) {
	p, errs := m.MapAll(rec)
	if errs.Invalid() {
		return nil, errs
	}
	return p, errs
}

// MapAll is Map for a dry run: it returns every problem of the row and,
// unless the record could not be read, the request with the fields that
// converted, even when other fields failed (a failed field is left out).
// The validator uses it to check a broken row's good identifiers for
// duplicates too; such a request must never be sent.
func (m *Mapping) MapAll(rec sources.Record) (*request.CreateUser, FieldErrors) {
	p := &request.CreateUser{}
	mapped, errs := m.MapAllInto(rec, p)
	if !mapped {
		return nil, errs
	}
	return p, errs
}

// MapAllInto is MapAll writing the request into p, which it clears first,
// so that a caller that keeps no request (the validator) reuses one p per
// worker instead of allocating ~500 bytes a row; what p's fields refer to
// (slices, maps) is fresh on every call. mapped is false when the record
// could not be read (p is then left cleared).
func (m *Mapping) MapAllInto(rec sources.Record, p *request.CreateUser) (mapped bool, errs FieldErrors) {
	*p = request.CreateUser{}
	if rec.Err != nil {
		var re *sources.RecordError
		field := ""
		if errors.As(rec.Err, &re) {
			field = re.Field
		}
		return false, FieldErrors{{Field: field, Source: field, Code: CodeRecordUnreadable, Reason: rec.Err.Error()}}
	}
	vals := rec.Values
	if vals == nil {
		vals = noValues{}
	}
	var st rowState
	if key := strings.TrimSpace(rec.Key); key != "" {
		if pr := textProblem(key, false); pr != nil {
			st.errs = append(st.errs, FieldError{Field: propExternalID, Source: m.key, Code: pr.code, Reason: pr.reason})
		} else {
			p.ExternalID = request.Value(key)
			st.errs = m.keyTrimmed(vals, key, st.errs)
		}
	} else {
		st.errs = append(st.errs, FieldError{Field: propExternalID, Source: m.key, Code: CodeMissing,
			Reason: "the legacy user id is empty; every user needs one (it becomes external_id)"})
	}
	for i := range m.fields {
		m.fields[i].apply(vals, p, &st)
	}
	m.crossCheck(vals, p, &st)
	return true, st.errs
}

// noValues stands in for a record without values.
type noValues struct{}

func (noValues) Lookup(string) (sources.Value, bool) { return nil, false }

// apply fills the field from the row, or from its constant or default.
func (f *field) apply(vals sources.Values, p *request.CreateUser, st *rowState) {
	if f.when != "" {
		if v, ok := vals.Lookup(f.when); !ok || isAbsent(v) || isBlank(v) {
			return
		}
	}
	var given bool
	switch {
	case f.tmpl != nil:
		given = f.applyTemplate(vals, p, st)
	case f.object != nil:
		given = f.applyObjectParts(vals, p, st)
	default:
		given = f.applyFrom(vals, f.from, p, st)
	}
	if given {
		st.fromRow |= f.bit
		return
	}
	if f.fixed != nil && st.failed&f.bit == 0 {
		f.applyFrom(f.fixed, f.fixedPath, p, st)
	}
}

// applyFrom converts the values at paths into the property; it reports
// whether any was given (set, or refused with a FieldError).
func (f *field) applyFrom(vals sources.Values, paths []string, p *request.CreateUser, st *rowState) bool {
	if f.prop.kind == kindList {
		return f.applyList(vals, paths, p, st)
	}
	for _, path := range paths {
		v, ok := vals.Lookup(path)
		if !ok || isAbsent(v) {
			continue
		}
		if f.setScalar(v, path, p, st) {
			st.given |= f.bit
			return true
		}
	}
	return false
}

// setScalar converts one value of a non-list property; false when it turns
// out empty (blank text, MySQL zero date, JSON null).
func (f *field) setScalar(v any, src string, p *request.CreateUser, st *rowState) bool {
	prop := f.prop
	switch prop.kind {
	case kindString:
		s, ok := toText(v)
		if !ok {
			st.fail(f, src, &problem{CodeTypeInvalid, "expected one text value, got " + describe(v)})
			return true
		}
		raw := s
		if !prop.refusesNonUTF8 {
			if pr := textProblem(s, prop.secret); pr != nil {
				st.fail(f, src, pr)
				return true
			}
		}
		if s = f.transform(s); s == "" {
			return false
		}
		if t, pr := prop.trimmed(s); pr != nil {
			st.fail(f, src, pr)
			s = t
		}
		if prop.check != nil {
			var pr *problem
			if s, pr = prop.check(s, f.opts); pr != nil {
				pr = prop.notUTF8(raw, pr)
				st.fail(f, src, pr)
				if !warningCodes[pr.code] { // a warning's value is sent as it is
					return true
				}
			}
		}
		prop.setString(p, s)
	case kindBool:
		if isBlank(v) {
			return false
		}
		if f.future {
			return f.setFuture(v, src, p, st)
		}
		b, pr := parseBool(v)
		if pr != nil {
			st.fail(f, src, withValue(pr, v))
			return true
		}
		prop.setBool(p, b)
	case kindInt:
		if isBlank(v) {
			return false
		}
		n, pr := parseInt(v)
		if pr != nil {
			st.fail(f, src, withValue(pr, v))
			return true
		}
		prop.setInt(p, n)
	case kindTimestamp:
		t, given, pr := parseTime(v)
		if pr == nil && given {
			pr = timestampProblem(t, f.now)
		}
		if pr != nil {
			st.fail(f, src, withValue(pr, v))
			return true
		}
		if !given {
			return false
		}
		prop.setString(p, formatTimestamp(t))
	case kindObject:
		switch v.(type) {
		case string, []byte: // JSON text, checked for what decoding would not keep
			text, _ := toText(v)
			if pr := jsonTextProblem(text, prop.secret); pr != nil {
				st.fail(f, src, pr)
				return true
			}
		}
		obj, given, pr := parseObject(v)
		if pr == nil && given {
			text, _ := v.(string)
			pr = checkMetadataSize(obj, text)
		}
		if pr != nil {
			st.fail(f, src, pr)
			return true
		}
		if !given {
			return false
		}
		if src == "value" || src == "default" {
			obj = maps.Clone(obj) // each request owns its metadata, not the mapping's constant
		}
		prop.setObject(p, obj)
	}
	return true
}

// isBlank reports whether a value is text holding only white space.
func isBlank(v any) bool {
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) == ""
}

// withValue adds the refused value to a reason (only non-secret kinds call it).
func withValue(pr *problem, v any) *problem {
	if s, ok := toText(v); ok {
		return &problem{pr.code, quote(s) + " is " + pr.reason}
	}
	return &problem{pr.code, describe(v) + " is " + pr.reason}
}

// applyObjectParts builds metadata from several paths: {key: path}.
func (f *field) applyObjectParts(vals sources.Values, p *request.CreateUser, st *rowState) bool {
	var obj map[string]any
	for _, part := range f.object {
		v, ok := vals.Lookup(part.path)
		if !ok || isAbsent(v) {
			continue
		}
		if b, isBytes := v.([]byte); isBytes {
			v = string(b)
		}
		if text, isText := v.(string); isText {
			if pr := textProblem(text, false); pr != nil {
				st.fail(f, part.path, pr)
				return true
			}
		}
		if obj == nil {
			obj = make(map[string]any, len(f.object))
		}
		obj[part.key] = v
	}
	if obj == nil {
		return false
	}
	if pr := checkMetadataSize(obj, ""); pr != nil {
		st.fail(f, f.sourceTag, pr)
		return true
	}
	f.prop.setObject(p, obj)
	st.given |= f.bit
	return true
}

// transform applies the field's text ops.
func (f *field) transform(s string) string {
	for _, op := range f.ops {
		switch op {
		case opTrim:
			s = strings.TrimSpace(s)
		case opLower:
			s = strings.ToLower(s)
		case opUpper:
			s = strings.ToUpper(s)
		case opFirstWord:
			s, _ = splitFirstWord(s)
		case opRestWords:
			_, s = splitFirstWord(s)
		}
	}
	return s
}

// applyList collects the elements of every path into a list property.
func (f *field) applyList(vals sources.Values, paths []string, p *request.CreateUser, st *rowState) bool {
	out, failed := f.collectList(vals, paths, st)
	if failed {
		return true
	}
	if len(out) == 0 {
		return false
	}
	if f.prop.name == "backup_codes" {
		if pr := checkBackupCodeCount(len(out)); pr != nil {
			st.fail(f, f.sourceTag, pr)
			return true
		}
	}
	f.prop.setList(p, out)
	st.given |= f.bit
	return true
}

// collectList converts, transforms and checks the elements of every path;
// failed is true when any was refused (with a FieldError in st).
func (f *field) collectList(vals sources.Values, paths []string, st *rowState) (out []string, failed bool) {
	before := len(st.errs)
	for _, path := range paths {
		v, ok := vals.Lookup(path)
		if !ok || isAbsent(v) {
			continue
		}
		if items, isList := v.([]any); isList {
			for i, item := range items {
				out = f.addItem(out, item, i+1, path, true, st)
			}
			continue
		}
		s, ok := toText(v)
		if !ok {
			st.fail(f, path, &problem{CodeTypeInvalid, "expected text or a list, got " + describe(v)})
			continue
		}
		switch {
		case f.splitJSON:
			if pr := jsonTextProblem(s, f.prop.secret); pr != nil {
				st.fail(f, path, pr)
				continue
			}
			items, pr := splitJSONArray(s)
			if pr != nil {
				st.fail(f, path, pr)
				continue
			}
			for i, item := range items {
				out = f.addItem(out, item, i+1, path, true, st)
			}
		case f.split != "":
			// White space beside a separator is the list's layout; around
			// the whole cell it is the value's, as for a single value.
			if t := strings.TrimSpace(s); t != s && t != "" && !slices.Contains(f.ops, opTrim) {
				if _, pr := f.prop.trimmed(s); pr != nil {
					st.fail(f, path, pr)
				}
			}
			for n := 1; s != ""; n++ {
				part, rest, _ := strings.Cut(s, f.split)
				if part = strings.TrimSpace(part); part != "" {
					out = f.addItem(out, part, n, path, false, st)
				}
				s = rest
			}
		default:
			out = f.addItem(out, s, 1, path, false, st)
		}
	}
	return out, st.errs[before:].Invalid() // a warning keeps the list
}

// addItem converts, transforms and checks one list element, the n-th of its
// cell. Empty elements are dropped, except in JSON lists of properties that
// keep them to refuse them (backup codes).
func (f *field) addItem(out []string, item any, n int, src string, fromJSON bool, st *rowState) []string {
	if item == nil {
		item = ""
	}
	s, ok := toText(item)
	if !ok {
		st.fail(f, src, &problem{CodeTypeInvalid, "a list item is " + describe(item) + "; items must be text"})
		return out
	}
	raw := s
	if !f.prop.refusesNonUTF8 {
		if pr := textProblem(s, f.prop.secret); pr != nil {
			if f.prop.secret {
				pr = &problem{pr.code, "item " + strconv.Itoa(n) + ": " + pr.reason}
			}
			st.fail(f, src, pr)
			return out
		}
	}
	s = f.transform(s)
	if s == "" && !(fromJSON && f.prop.keepEmpty) {
		return out
	}
	if t, pr := f.prop.trimmed(s); pr != nil {
		st.fail(f, src, pr)
		s = t
	}
	if f.prop.check != nil {
		var pr *problem
		if s, pr = f.prop.check(s, f.opts); pr != nil {
			pr = f.prop.notUTF8(raw, pr)
			if f.prop.secret {
				pr = &problem{pr.code, "item " + strconv.Itoa(n) + ": " + pr.reason}
			}
			st.fail(f, src, pr)
			if !warningCodes[pr.code] { // a warning's value is sent as it is
				return out
			}
		}
	}
	if out == nil {
		out = make([]string, 0, 2)
	}
	return append(out, s)
}

// crossCheck runs the checks that look at several properties of the row.
func (m *Mapping) crossCheck(vals sources.Values, p *request.CreateUser, st *rowState) {
	m.checkIdentifiers(vals, propEmail, propEmailStatus, p, st)
	m.checkIdentifiers(vals, propPhone, propPhoneStatus, p, st)
	m.checkPasswords(p, st)
	checkRequestSize(p, st)
	if skip, _ := p.SkipUserRequirement.Get(); !skip {
		for _, id := range m.required {
			f := m.byProp[id]
			if st.given&f.bit == 0 {
				st.errs = append(st.errs, FieldError{Field: id, Source: f.sourceTag, Code: CodeMissing,
					Reason: "the instance requires " + id + " and the row has none (or set skip_user_requirement)"})
			}
		}
	}
}

// checkIdentifiers drops repeated addresses (keeping the first, so the
// primary stays primary), gives each address its status from the field's
// verified spec or spreads a constant status over every address, and checks
// the status list runs parallel to the addresses.
func (m *Mapping) checkIdentifiers(vals sources.Values, idName, statusName string, p *request.CreateUser, st *rowState) {
	idf, sf := m.byProp[idName], m.byProp[statusName]
	if idf == nil {
		return
	}
	ids := idf.prop.getList(p)
	if idf.verified != nil {
		ids, _ = dedupe(idf, ids, nil, st)
		idf.prop.setList(p, ids)
		if len(ids) == 0 && st.failed&idf.bit == 0 {
			return
		}
		status, ok := idf.verifiedStatuses(vals, ids, st)
		if ok && st.failed&idf.bit == 0 {
			properties[propertyIndex[statusName]].setList(p, status)
		}
		return
	}
	var status []string
	if sf != nil {
		status = sf.prop.getList(p)
		if st.fromRow&sf.bit == 0 && len(status) == 1 && len(ids) != 1 { // a constant for every address
			status = slices.Repeat(status, len(ids))
			if len(ids) == 0 {
				status = nil
			}
		}
	}
	ids, status = dedupe(idf, ids, status, st)
	idf.prop.setList(p, ids)
	if sf == nil || st.failed&(sf.bit|idf.bit) != 0 {
		return
	}
	sf.prop.setList(p, status)
	if len(status) > 0 && len(status) != len(ids) {
		st.fail(sf, sf.sourceTag, &problem{CodeStatusLength, strconv.Itoa(len(status)) + " statuses for " +
			strconv.Itoa(len(ids)) + " " + idName + " values; give one per address, in the same order"})
	}
}

// checkPasswords pairs digests with hashers and checks each digest against
// its hasher's format, and plaintext passwords against Clerk's minimum.
func (m *Mapping) checkPasswords(p *request.CreateUser, st *rowState) {
	digestF, hasherF := m.byProp[propDigest], m.byProp[propHasher]
	digest, hasDigest := p.PasswordDigest.Get()
	hasher := p.PasswordHasher
	switch {
	case hasDigest && hasher == "" && (hasherF == nil || st.failed&hasherF.bit == 0):
		tag := ""
		if hasherF != nil {
			tag = hasherF.sourceTag
		}
		st.errs = append(st.errs, FieldError{Field: propHasher, Source: tag, Code: CodeHasherMissing,
			Reason: "the row has a password digest but no hasher; map password_hasher (a column, or value: bcrypt)"})
	case hasher != "" && !hasDigest && st.failed&digestF.bit == 0:
		if st.fromRow&hasherF.bit != 0 {
			st.fail(digestF, digestF.sourceTag, &problem{CodeDigestMissing,
				"the row names hasher " + hasher + " but has no password digest"})
		} else {
			p.PasswordHasher = "" // a constant hasher; this user has no password
		}
	case hasDigest && hasher != "":
		switch verdict, err := hashers.Judge(hasher, digest); verdict {
		case hashers.Refused:
			st.fail(digestF, digestF.sourceTag, &problem{CodeDigestInvalid, digestReason(err)})
		case hashers.Warning: // Clerk may take it: sent as it is, with the reason
			st.fail(digestF, digestF.sourceTag, &problem{CodeDigestOpen, digestReason(err)})
		}
	}
	if pw, ok := p.Password.Get(); ok {
		pf := m.byProp[propPassword]
		if hasDigest {
			st.fail(pf, pf.sourceTag, &problem{CodePasswordConflict, "the row has both a password and a password digest; map one"})
		}
		if skip, _ := p.SkipPasswordChecks.Get(); !skip && len([]rune(pw)) < passwordMinLength {
			st.fail(pf, pf.sourceTag, &problem{CodePasswordTooShort,
				"the password is shorter than 8 characters; Clerk refuses it unless skip_password_checks is true"})
		}
	}
}

// digestReason says why a digest was refused, or why it is sent with a
// warning, with the hashers package's hint; it never holds the digest.
func digestReason(err error) string {
	var de *hashers.DigestError
	if !errors.As(err, &de) {
		return err.Error()
	}
	r := "the digest does not fit hasher " + de.Hasher + ": " + de.Reason
	if de.Open != "" {
		r = "hasher " + de.Hasher + ": "
		if de.Reason != "" {
			r += "the digest is not the form its software writes (" + de.Reason + "); "
		}
		r += de.Open
	}
	if de.Hint != "" {
		r += " (" + de.Hint + ")"
	}
	return r
}

// checkHasher normalises a hasher name and checks Clerk accepts it.
func checkHasher(s string, _ *Options) (string, *problem) {
	name := strings.ToLower(strings.TrimSpace(s))
	if hashers.Known(name) {
		return name, nil
	}
	return "", &problem{CodeHasherUnknown, "unknown password hasher " + quote(s) + "; Clerk accepts " +
		strings.Join(hashers.Names(), ", ")}
}

// splitFirstWord cuts a name at its first run of white space: "Ada King
// Lovelace" is "Ada" and "King Lovelace".
func splitFirstWord(s string) (first, rest string) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

// setFuture sets a bool property from a timestamp: true when it is after
// the moment the mapping was loaded (parse: future).
func (f *field) setFuture(v any, src string, p *request.CreateUser, st *rowState) bool {
	t, given, pr := parseTime(v)
	if pr != nil {
		st.fail(f, src, withValue(pr, v))
		return true
	}
	if !given {
		return false
	}
	f.prop.setBool(p, t.After(f.now))
	return true
}

// dedupe drops the later copies of a value the row's list ids holds twice
// (sameIdentifier), keeping the first, each with a value_repeated warning
// naming the copy's position and the first's in the list as the source gave
// it. With status parallel to ids (one status per value), a copy's status
// goes with it; when the copies disagree, the first is sent reserved, the
// safer: an address one copy says is not verified is never made verified.
// A mapping that says its columns overlap (repeats: expected) gets no
// warning for a copy that agrees with the first.
func dedupe(f *field, ids, status []string, st *rowState) ([]string, []string) {
	if len(ids) < 2 {
		return ids, status
	}
	parallel := len(status) == len(ids)
	keptIDs, keptStatus := ids[:0:0], status[:0:0]
	var pos []int // 1-based positions of keptIDs
	for i, v := range ids {
		first := slices.IndexFunc(keptIDs, func(k string) bool { return sameIdentifier(f.prop.name, k, v) })
		if first < 0 {
			keptIDs, pos = append(keptIDs, v), append(pos, i+1)
			if parallel {
				keptStatus = append(keptStatus, status[i])
			}
			continue
		}
		reason := "value " + strconv.Itoa(i+1) + " " + quote(v) + " repeats value " + strconv.Itoa(pos[first]) + " " +
			quote(keptIDs[first]) + ": sent once"
		differ := parallel && status[i] != keptStatus[first]
		if differ {
			reason += "; the copies say " + keptStatus[first] + " and " + status[i] + ": sent " + request.StatusReserved +
				", the safer (an address one copy does not verify is not made verified)"
			keptStatus[first] = request.StatusReserved
		}
		if differ || !f.overlap {
			st.fail(f, f.sourceTag, &problem{CodeValueRepeated, reason})
		}
	}
	if !parallel {
		keptStatus = status
	}
	return keptIDs, keptStatus
}

// sameIdentifier says whether two values of an identifier property are
// the same identifier: emails in any case (Clerk, the duplicates rule and
// the emulator compare them so), others as they are (phones are in E.164
// by then).
func sameIdentifier(prop, a, b string) bool {
	if prop == propEmail {
		return strings.EqualFold(a, b)
	}
	return a == b
}

// keyTrimmed adds a value_trimmed warning to errs when the key the row's
// source gave (the column m.key) has white space around it: the sources
// read the key trimmed (it is the ledger's key and external_id), so the
// external_id sent is not the cell as written.
func (m *Mapping) keyTrimmed(vals sources.Values, key string, errs FieldErrors) FieldErrors {
	v, ok := vals.Lookup(m.key)
	if !ok {
		return errs
	}
	raw, ok := toText(v)
	if !ok || raw == key || strings.TrimSpace(raw) != key {
		return errs
	}
	return append(errs, FieldError{Field: propExternalID, Source: m.key, Code: CodeValueTrimmed, Warning: true,
		Reason: quote(raw) + " has white space around it, which is no part of the legacy user id: external_id " +
			quote(key) + " is sent without it"})
}
