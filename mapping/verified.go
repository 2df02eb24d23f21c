package mapping

// Verified identifiers.
//
// Clerk's CreateUser creates every email address and phone number verified
// unless email_address_identification_status / phone_number_identification_status
// say "reserved" for it. An address the legacy system never verified, sent as
// verified, is an account-takeover path: whoever registered someone else's
// address in the legacy system gets an account Clerk links to that address
// (an OAuth sign-in with a verified email of the same value, for one). So a
// mapping must say, for every email_address and phone_number field, how the
// source tells which values are verified:
//
//	email_address: { from: email, verified: { from: email_verified } }                   # a yes/no column or JSON path
//	email_address: { from: email, verified: { from: email_verified, default: false } }   # an empty flag means unverified
//	email_address: { from: email, verified: { from: confirmed_at, parse: timestamp } }   # a time: set means verified
//	email_address: { from: [primary, verified, unverified], split: "|",
//	                 verified: { in: [verified] } }                                      # per value: listed there means verified
//	phone_number:  { from: phone, verified: true }                                       # every value (the source verified them all)
//
// or map the identification_status property itself (by position). A mapping
// that says none of these is refused when it is loaded. A value the source
// did not verify is created "reserved" (CreateUser's only other status:
// unverified, still usable for sign-in, and held so that no other user can
// claim it); a row whose flag is empty (without a default) or unreadable gets
// a finding and is not sent.

import (
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/clerkmigrate/clerkmigrate/sources"
)

// Codes of the verification findings.
const (
	CodeVerifiedUnknown = "verified_unknown" // the row's verified flag is empty and the mapping gives no default
	CodeVerifiedInvalid = "verified_invalid" // the row's verified flag is not a boolean (or, parse: timestamp, a time)
)

// verifiedSpec is `verified:` of an email_address or phone_number field, as
// written (its JSON form is what the fingerprint hashes).
type verifiedSpec struct {
	Value   *bool    `json:"value,omitempty"`   // every value of the field: verified: true|false, or { value: ... }
	From    []string `json:"from,omitempty"`    // a flag for every value of the row: the first non-empty path
	Parse   string   `json:"parse,omitempty"`   // "" (a boolean) or "timestamp" (a time: set means verified)
	Default *bool    `json:"default,omitempty"` // for rows whose flag is empty
	In      []string `json:"in,omitempty"`      // per value: verified when one of these paths lists it
}

// verifiedKeys are the keys `verified:` may hold.
var verifiedKeys = []string{"from", "value", "default", "parse", "in"}

// verifiedHelp says how to write `verified:`, for load errors.
const verifiedHelp = "verified: { from: <column> } (true/false, 1/0, yes/no), " +
	"verified: { from: <column>, parse: timestamp } (a verification time, empty when unverified), " +
	"verified: { in: [<column>] } (the values listed in that column are verified), " +
	"or verified: true|false (every value)"

// readVerified reads `verified:` of field name.
func (l *loader) readVerified(name string, k, v *yaml.Node) *verifiedSpec {
	if name != propEmail && name != propPhone {
		l.errorf(k.Line, "%s: verified is for %s and %s", name, propEmail, propPhone)
		return nil
	}
	spec := &verifiedSpec{}
	switch v.Kind {
	case yaml.ScalarNode:
		b, ok := yamlBool(v)
		if !ok {
			l.errorf(v.Line, "%s: verified: write %s", name, verifiedHelp)
			return nil
		}
		spec.Value = &b
		return spec
	case yaml.MappingNode:
	default:
		l.errorf(v.Line, "%s: verified: write %s", name, verifiedHelp)
		return nil
	}
	before := len(l.errs)
	paths := map[string]*[]string{"from": &spec.From, "in": &spec.In}
	bools := map[string]**bool{"value": &spec.Value, "default": &spec.Default}
	l.eachKey(name+": verified", v, func(key, val *yaml.Node) {
		switch dst := paths[key.Value]; {
		case dst != nil:
			if *dst, _ = yamlPaths(val); *dst == nil {
				l.errorf(val.Line, "%s: verified: %s: a column/path, or a list of them", name, key.Value)
			}
		case bools[key.Value] != nil:
			b, ok := yamlBool(val)
			if !ok {
				l.errorf(val.Line, "%s: verified: %s: true or false", name, key.Value)
				return
			}
			*bools[key.Value] = &b
		case key.Value == "parse":
			switch val.Value {
			case "bool":
			case "timestamp":
				spec.Parse = val.Value
			default:
				l.errorf(val.Line, "%s: verified: parse: bool (the default) or timestamp (set means verified)", name)
			}
		default:
			l.errorf(key.Line, "%s: verified: unknown key %q; valid: %s", name, key.Value, strings.Join(verifiedKeys, ", "))
		}
	})
	if len(l.errs) > before {
		return nil
	}
	n := 0
	for _, given := range []bool{spec.Value != nil, spec.From != nil, spec.In != nil} {
		if given {
			n++
		}
	}
	switch {
	case n != 1:
		l.errorf(v.Line, "%s: verified: give one of from, in and value: %s", name, verifiedHelp)
	case spec.From == nil && (spec.Default != nil || spec.Parse != ""):
		l.errorf(v.Line, "%s: verified: default and parse go with from", name)
	case spec.Parse == "timestamp" && spec.Default != nil:
		l.errorf(v.Line, "%s: verified: with parse: timestamp an empty time already means unverified; remove default", name)
	}
	if len(l.errs) > before {
		return nil
	}
	return spec
}

// yamlBool reads a YAML boolean scalar.
func yamlBool(n *yaml.Node) (bool, bool) {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
		return false, false
	}
	var b bool
	return b, n.Decode(&b) == nil
}

// yamlPaths reads a path or a list of paths.
func yamlPaths(n *yaml.Node) ([]string, bool) {
	items := []*yaml.Node{n}
	if n.Kind == yaml.SequenceNode {
		items = n.Content
	}
	var out []string
	for _, item := range items {
		if item.Kind != yaml.ScalarNode || item.Value == "" {
			return nil, false
		}
		out = append(out, item.Value)
	}
	return out, len(out) > 0
}

// checkVerifiedStated refuses a mapping that maps an email address or a
// phone number without saying which values are verified, or says it twice.
func (l *loader) checkVerifiedStated(specs []*fieldSpec) {
	byName := map[string]*fieldSpec{}
	for _, s := range specs {
		byName[s.name] = s
	}
	for _, pair := range [][2]string{{propEmail, propEmailStatus}, {propPhone, propPhoneStatus}} {
		id, status := byName[pair[0]], byName[pair[1]]
		switch {
		case id == nil:
		case id.verified != nil && status != nil:
			l.errorf(status.line, "fields: %s and %s's verified: both say which values are verified; keep one", pair[1], pair[0])
		case id.verified == nil && status == nil:
			l.errorf(id.line, "%s: say which values the source verified (else Clerk creates them verified, and an "+
				"address nobody proved becomes a way into the account): verified: { from: COLUMN } (yes/no), "+
				"{ from: COLUMN, parse: timestamp } (a verification time), { in: [COLUMN] } (the verified values "+
				"listed there) or true|false (all); values not verified are created reserved", pair[0])
		}
	}
}

// verifiedPaths lists the paths a verified spec reads.
func (v *verifiedSpec) paths() []string {
	if v == nil {
		return nil
	}
	return append(slices.Clone(v.From), v.In...)
}

// verifiedStatuses gives each of ids its identification status from the
// row, as the field's verified spec says: "verified", or "reserved" for a
// value the source did not verify. When every value is verified it returns
// nil: Clerk's documented default for an omitted status list, so such a
// request is the same as one without statuses. ok is false when the row
// cannot tell (a FieldError was added).
func (f *field) verifiedStatuses(vals sources.Values, ids []string, st *rowState) ([]string, bool) {
	v := f.verified
	status := func(verified bool) string {
		if verified {
			return request.StatusVerified
		}
		return request.StatusReserved
	}
	out := make([]string, len(ids))
	switch {
	case v.Value != nil:
		for i := range out {
			out[i] = status(*v.Value)
		}
	case v.In != nil:
		listed := f.listValues(vals, v.In)
		for i, id := range ids {
			out[i] = status(slices.ContainsFunc(listed, func(x string) bool { return f.sameValue(x, id) }))
		}
	default:
		verified, ok := f.rowFlag(vals, st)
		if !ok {
			return nil, false
		}
		for i := range out {
			out[i] = status(verified)
		}
	}
	if !slices.Contains(out, request.StatusReserved) {
		return nil, true
	}
	return out, true
}

// rowFlag reads the row's verified flag (verified: { from: ... }).
func (f *field) rowFlag(vals sources.Values, st *rowState) (verified, ok bool) {
	v := f.verified
	for _, path := range v.From {
		x, found := vals.Lookup(path)
		if !found || isAbsent(x) || isBlank(x) {
			continue
		}
		if v.Parse == "timestamp" {
			if _, given, pr := parseTimestamp(x); pr != nil {
				f.failVerified(path, &problem{CodeVerifiedInvalid, withValue(pr, x).reason +
					"; verified: { parse: timestamp } reads a verification time"}, st)
				return false, false
			} else if given {
				return true, true
			}
			continue
		}
		b, pr := parseBool(x)
		if pr != nil {
			f.failVerified(path, &problem{CodeVerifiedInvalid, withValue(pr, x).reason}, st)
			return false, false
		}
		return b, true
	}
	switch {
	case v.Parse == "timestamp":
		return false, true // no verification time: unverified
	case v.Default != nil:
		return *v.Default, true
	}
	f.failVerified(strings.Join(v.From, ", "), &problem{CodeVerifiedUnknown, "the row does not say whether its " +
		f.prop.name + " values are verified (" + strings.Join(v.From, ", ") + " is empty); fill it, or give the " +
		"mapping's verified a default (default: false creates them reserved)"}, st)
	return false, false
}

// failVerified records a verification finding on the identifier field.
func (f *field) failVerified(src string, pr *problem, st *rowState) {
	st.errs = append(st.errs, FieldError{Field: f.prop.name, Source: src, Code: pr.code, Reason: pr.reason})
	st.failed |= f.bit
}

// listValues collects the values at paths the way the field reads its own
// (split, transforms, checks), dropping those that do not pass.
func (f *field) listValues(vals sources.Values, paths []string) []string {
	var scratch rowState
	out, _ := f.collectList(vals, paths, &scratch)
	return out
}

// sameValue compares two checked values of the field: email addresses in
// any case, phone numbers (E.164 by then) exactly.
func (f *field) sameValue(a, b string) bool {
	if f.prop.name == propEmail {
		return strings.EqualFold(a, b)
	}
	return a == b
}
