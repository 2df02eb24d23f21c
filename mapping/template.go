package mapping

import (
	"errors"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"sort"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/sources"
)

// A template composes one value out of the row's fields and named
// parameters:
//
//	password_digest: { template: "{passwordHash}${salt}${param:base64_signer_key}$..." }
//
// {path} is the row's value at path (a column or a JSON path), {param:name}
// a parameter given at run time (mapping.Params: the environment or a
// parameter file, never the mapping file), {{ and }} are literal braces and
// everything else is literal text. The template's first {path} says
// whether the row has a value: when it is absent or empty the template
// gives nothing and the property is left out (or takes its default), so a
// user without a password hash gets no digest rather than "$$key$...".
// When it is there and a later {path} is not (a hash without its salt),
// the row gets a template_incomplete finding: the value is neither
// composed without its part nor quietly dropped.

// templatePart is one piece of a template: literal text, a row path or a
// parameter name.
type templatePart struct {
	text  string // literal text, when path and param are empty
	path  string
	param string
}

// template is a compiled `template:`.
type template struct {
	source string // as written: names the source in FieldErrors (holds no value)
	parts  []templatePart
	paths  []string // the row paths, in order, once each
	params []string // the parameter names, sorted, once each
}

// parseTemplate compiles a template's text; the error says what is wrong
// with the text (which holds no secret: parameters appear by name).
func parseTemplate(s string) (*template, error) {
	t := &template{source: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.parts = append(t.parts, templatePart{text: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '{' && i+1 < len(s) && s[i+1] == '{':
			lit.WriteByte('{')
			i++
		case c == '}' && i+1 < len(s) && s[i+1] == '}':
			lit.WriteByte('}')
			i++
		case c == '}':
			return nil, errors.New("a lone } (write }} for a literal brace)")
		case c == '{':
			end := strings.IndexByte(s[i+1:], '}')
			if end < 0 {
				return nil, errors.New("a { without its } (write {{ for a literal brace)")
			}
			ref := strings.TrimSpace(s[i+1 : i+1+end])
			i += end + 1
			if strings.ContainsAny(ref, "{") {
				return nil, errors.New("a { inside {...}")
			}
			flush()
			if name, ok := strings.CutPrefix(ref, "param:"); ok {
				name = strings.TrimSpace(name)
				if !validParamName(name) {
					return nil, errors.New("{param:" + name + "}: a parameter name is lower-case letters, digits and _")
				}
				t.parts = append(t.parts, templatePart{param: name})
				if !contains(t.params, name) {
					t.params = append(t.params, name)
				}
				continue
			}
			if ref == "" {
				return nil, errors.New("an empty {} (name a column or path, or {param:name})")
			}
			t.parts = append(t.parts, templatePart{path: ref})
			if !contains(t.paths, ref) {
				t.paths = append(t.paths, ref)
			}
		default:
			lit.WriteByte(c)
		}
	}
	flush()
	if len(t.paths) == 0 {
		return nil, errors.New("reads no field of the row; use value: for a constant")
	}
	sort.Strings(t.params)
	return t, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// render composes the template for one row. It returns given=false when
// the first row field is absent or empty, absent=path when a later one is,
// missing=name when a parameter is not bound, and badPath when a field
// holds a list or an object.
func (t *template) render(vals sources.Values, params Params) (s string, given bool, absent, missing, badPath string) {
	var b strings.Builder
	first, present := true, false
	for _, part := range t.parts {
		switch {
		case part.path != "":
			v, ok := vals.Lookup(part.path)
			var text string
			if ok && !isAbsent(v) {
				if text, ok = toText(v); !ok {
					return "", true, "", "", part.path
				}
			}
			if text == "" && first {
				return "", false, "", "", ""
			}
			first = false
			if text == "" {
				if absent == "" {
					absent = part.path
				}
				continue
			}
			present = true
			b.WriteString(text)
		case part.param != "":
			val, ok := params[part.param]
			if !ok || val == "" {
				return "", true, "", part.param, ""
			}
			b.WriteString(val)
		default:
			b.WriteString(part.text)
		}
	}
	switch {
	case !present:
		return "", false, "", "", ""
	case absent != "":
		return "", true, absent, "", ""
	}
	return b.String(), true, "", "", ""
}

// applyTemplate fills the field from its template. Problems never carry a
// parameter's value: reasons are scrubbed of every bound value the template
// uses (values shorter than minRedactLen, such as rounds "8", are numbers
// that would garble reasons and are not secrets).
func (f *field) applyTemplate(vals sources.Values, p *request.CreateUser, st *rowState) bool {
	s, given, absent, missing, badPath := f.tmpl.render(vals, f.params)
	switch {
	case absent != "":
		st.fail(f, absent, &problem{CodeTemplateIncomplete, "the template needs {" + absent +
			"}, which this row leaves empty while it has the template's other fields: the value would be cut or dropped"})
		return true
	case missing != "":
		st.fail(f, "param:"+missing, &problem{CodeParamMissing, "parameter " + missing +
			" is not given; set " + ParamEnvPrefix + strings.ToUpper(missing) + " or pass --param-file"})
		return true
	case badPath != "":
		st.fail(f, badPath, &problem{CodeTypeInvalid, "a template takes text values; " + badPath + " holds a list or an object"})
		return true
	case !given:
		return false
	}
	before := len(st.errs)
	got := f.applyFrom(constValues{s}, []string{f.sourceTag}, p, st)
	for i := before; i < len(st.errs); i++ {
		st.errs[i].Reason = f.redact(st.errs[i].Reason)
	}
	return got
}

// minRedactLen is the shortest parameter value scrubbed from reasons.
const minRedactLen = 3

// redact replaces the template's bound parameter values in a reason.
func (f *field) redact(reason string) string {
	for _, name := range f.tmpl.params {
		if v := f.params[name]; len(v) >= minRedactLen {
			reason = strings.ReplaceAll(reason, v, "{param:"+name+"}")
		}
	}
	return reason
}
