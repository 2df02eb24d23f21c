package emulator

import (
	"bytes"
	"encoding/json"
	"slices"
)

// form is a JSON request body being read field by field, collecting the
// errors Clerk would answer with.
type form struct {
	fields map[string]json.RawMessage
	errs   []apiError
}

// parseForm reads body as a JSON object whose keys must all be in allowed.
// An empty body is an empty object. It answers 400 for malformed JSON and
// 422 form_param_unknown (one error per unknown key) for unknown keys.
func parseForm(body []byte, allowed map[string]bool) (*form, *reply) {
	f := &form{fields: map[string]json.RawMessage{}}
	if len(bytes.TrimSpace(body)) == 0 {
		return f, nil
	}
	if err := json.Unmarshal(body, &f.fields); err != nil || f.fields == nil {
		rep := malformed("The request body is not a JSON object.")
		return nil, &rep
	}
	var unknown []string
	for k := range f.fields {
		if !allowed[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		errs := make([]apiError, len(unknown))
		for i, k := range unknown {
			errs[i] = errUnknown(k)
		}
		rep := unprocessable(errs...)
		return nil, &rep
	}
	return f, nil
}

// fieldSet makes an allow-list.
func fieldSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// has reports whether name is present (even as null).
func (f *form) has(name string) bool { _, ok := f.fields[name]; return ok }

// isNull reports whether name is present as an explicit null.
func (f *form) isNull(name string) bool {
	raw, ok := f.fields[name]
	return ok && bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// decode reads name into v; absent and null leave v alone and report false.
func (f *form) decode(name string, v any, what string) bool {
	raw, ok := f.fields[name]
	if !ok || f.isNull(name) {
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		f.errs = append(f.errs, errFormat(name, name+" must be "+what+"."))
		return false
	}
	return true
}

// str reads a string field.
func (f *form) str(name string) (string, bool) {
	var s string
	ok := f.decode(name, &s, "a string")
	return s, ok
}

// strs reads an array of strings.
func (f *form) strs(name string) []string {
	var s []string
	f.decode(name, &s, "an array of strings")
	return s
}

// boolean reads a boolean field.
func (f *form) boolean(name string) (bool, bool) {
	var b bool
	ok := f.decode(name, &b, "a boolean")
	return b, ok
}

// integer reads an integer field.
func (f *form) integer(name string) (int, bool) {
	var n int
	ok := f.decode(name, &n, "an integer")
	return n, ok
}

// object reads a JSON object, keeping numbers exact.
func (f *form) object(name string) (map[string]any, bool) {
	raw, ok := f.fields[name]
	if !ok || f.isNull(name) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil || m == nil {
		f.errs = append(f.errs, errFormat(name, name+" must be an object."))
		return nil, false
	}
	return m, true
}

// fail records an error.
func (f *form) fail(e apiError) { f.errs = append(f.errs, e) }
