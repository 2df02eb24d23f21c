package emulator

import (
	"bytes"
	"encoding/json"
	"mime"
	"slices"
	"strings"
)

// schema is the request body of one operation: its properties and, for
// each, whether the spec marks it nullable.
type schema struct {
	props map[string]bool // name → nullable
	// required: the spec says the operation requires a body (requestBody
	// required: true); an empty one is refused.
	required bool
}

// bodySchema lists an operation's properties as the spec does; a trailing
// "?" marks a property the spec declares nullable: true.
func bodySchema(required bool, props ...string) schema {
	s := schema{props: make(map[string]bool, len(props)), required: required}
	for _, p := range props {
		name, nullable := strings.CutSuffix(p, "?")
		s.props[name] = nullable
	}
	return s
}

// noBody is the schema of an operation without a request body.
var noBody = schema{}

// form is a JSON request body being read field by field, collecting the
// errors Clerk would answer with.
type form struct {
	fields map[string]json.RawMessage
	errs   []apiError
}

// parseBody reads r's body as a JSON object with the properties of s, in
// the order Clerk's refusals come: 415 unsupported_content_type for a body
// that is not application/json, 400 request_body_invalid for an empty body
// the operation requires or a JSON value that is not an object, 400
// malformed_request_parameters for text that is not JSON, 422
// form_param_unknown for each unknown property, 422 form_param_nil for each
// null the spec does not allow. An empty body of an operation that does
// not require one is an empty object.
func parseBody(r *request, s schema) (*form, *reply) {
	f := &form{fields: map[string]json.RawMessage{}}
	body := bytes.TrimSpace(r.body)
	if len(r.body) > 0 && !isJSONContent(r.r.Header.Get("Content-Type")) {
		rep := errorReply(415, apiError{Code: "unsupported_content_type", Message: "Content-Type is unsupported",
			LongMessage: "Content-Type " + r.r.Header.Get("Content-Type") + " is unsupported. You should use application/json instead."})
		return nil, &rep
	}
	if len(body) == 0 {
		if s.required {
			return nil, refuse(badBody())
		}
		return f, nil
	}
	if !json.Valid(body) {
		return nil, refuse(errorReply(400, apiError{Code: "malformed_request_parameters", Message: "Malformed request parameters",
			LongMessage: "The request parameters are malformed and could not be parsed"}))
	}
	if body[0] != '{' || json.Unmarshal(body, &f.fields) != nil {
		return nil, refuse(badBody())
	}
	var unknown, null []string
	for k := range f.fields {
		nullable, ok := s.props[k]
		switch {
		case !ok:
			unknown = append(unknown, k)
		case !nullable && f.isNull(k):
			null = append(null, k)
		}
	}
	if len(unknown) > 0 {
		return nil, refuse(unprocessable(each(unknown, errUnknown)...))
	}
	if len(null) > 0 {
		return nil, refuse(unprocessable(each(null, errNil)...))
	}
	return f, nil
}

// refuse is a reply as parseBody returns it.
func refuse(rep reply) *reply { return &rep }

func badBody() reply {
	return errorReply(400, apiError{Code: "request_body_invalid", Message: "Request body invalid",
		LongMessage: "The request body is invalid. Please consult the API documentation for more information."})
}

// each builds one error per name, in sorted order.
func each(names []string, build func(string) apiError) []apiError {
	slices.Sort(names)
	errs := make([]apiError, len(names))
	for i, n := range names {
		errs[i] = build(n)
	}
	return errs
}

// isJSONContent reports whether a Content-Type is application/json (any
// parameters, such as a charset).
func isJSONContent(ct string) bool {
	mt, _, err := mime.ParseMediaType(ct)
	return err == nil && mt == "application/json"
}

// has reports whether name is present (even as null).
func (f *form) has(name string) bool { _, ok := f.fields[name]; return ok }

// isNull reports whether name is present as an explicit null.
func (f *form) isNull(name string) bool {
	raw, ok := f.fields[name]
	return ok && bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// decode reads name into v; absent and null leave v alone and report false.
// A value of another JSON type is 422 form_param_type_invalid.
func (f *form) decode(name string, v any, typ string) bool {
	raw, ok := f.fields[name]
	if !ok || f.isNull(name) {
		return false
	}
	if err := json.Unmarshal(raw, v); err != nil {
		f.errs = append(f.errs, errType(name, typ))
		return false
	}
	return true
}

// str reads a string field.
func (f *form) str(name string) (string, bool) {
	var s string
	ok := f.decode(name, &s, "string")
	return s, ok
}

// strs reads an array of strings.
func (f *form) strs(name string) []string {
	var s []string
	f.decode(name, &s, "array of strings")
	return s
}

// boolean reads a boolean field.
func (f *form) boolean(name string) (bool, bool) {
	var b bool
	ok := f.decode(name, &b, "boolean")
	return b, ok
}

// integer reads an integer field.
func (f *form) integer(name string) (int, bool) {
	var n int
	ok := f.decode(name, &n, "integer")
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
		f.errs = append(f.errs, errType(name, "object"))
		return nil, false
	}
	return m, true
}
