package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Version is the mapping file format this package reads.
const Version = 1

// Options are the instance's settings that the mapping checks rows against.
type Options struct {
	// RequiredIdentifiers are the identifiers the Clerk instance requires of
	// every user: any of email_address, phone_number, username, web3_wallet.
	// A row without one is refused, unless skip_user_requirement is true.
	RequiredIdentifiers []string `yaml:"required_identifiers" json:"required_identifiers,omitempty"`
	// DefaultPhoneRegion is the ISO 3166 region (US, GB, DE...) for phone
	// numbers written without a country code.
	DefaultPhoneRegion string `yaml:"default_phone_region" json:"default_phone_region,omitempty"`
}

// fileDoc is the top of a mapping file. Unknown keys are refused by the
// decoder (KnownFields); the fields are walked by hand to keep their order
// and lines.
type fileDoc struct {
	Version int       `yaml:"version"`
	Key     string    `yaml:"key"`
	Options Options   `yaml:"options"`
	Fields  yaml.Node `yaml:"fields"`
}

// fieldSpec is one entry of `fields:` as written.
type fieldSpec struct {
	name      string
	line      int
	from      []string          // from: a path, or a list of paths
	object    map[string]string // from: {metadata key: path}
	value     any               // value: a constant for every row
	hasValue  bool
	def       any // default: when the sources give nothing
	hasDef    bool
	split     string // split: a separator, or "json"
	transform []string
	template  string // template: "{col}$...{param:name}"
	hasTmpl   bool
	parse     string // parse: as written, when it changes the conversion ("future")
	when      string // when: a path; the field is filled only for rows where it is non-empty
	verified  *verifiedSpec
	// overlap: repeats: expected, the field's columns list some values
	// twice by design (dedupe warns of no copy that agrees with the first).
	overlap bool
}

// LoadError is one problem in a mapping file, with its line.
type LoadError struct {
	File string // the file's path; empty for Parse
	Line int    // 1-based; 0 when unknown
	Msg  string
}

func (e *LoadError) Error() string {
	where := e.File
	if where == "" {
		where = "mapping"
	}
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", where, e.Line, e.Msg)
	}
	return where + ": " + e.Msg
}

// LoadErrors are all the problems found in a mapping file, in line order.
type LoadErrors []*LoadError

func (es LoadErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "\n")
}

// loader collects problems while reading a file.
type loader struct {
	errs LoadErrors
}

func (l *loader) errorf(line int, format string, args ...any) {
	l.errs = append(l.errs, &LoadError{Line: line, Msg: fmt.Sprintf(format, args...)})
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

// yamlError turns yaml.v3's errors into LoadErrors with their lines.
func (l *loader) yamlError(err error) {
	var te *yaml.TypeError
	msgs := []string{err.Error()}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for _, msg := range msgs {
		msg = strings.Replace(msg, "in type mapping.fileDoc", "at the top level", 1)
		msg = strings.Replace(msg, "in type mapping.Options", "in options", 1)
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			n, _ := strconv.Atoi(m[1])
			l.errorf(n, "%s", m[2])
			continue
		}
		l.errorf(0, "%s", strings.TrimPrefix(msg, "yaml: "))
	}
}

// readFile decodes the document strictly and reads every field spec.
func (l *loader) readFile(data []byte) (*fileDoc, []*fieldSpec) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var doc fileDoc
	if err := dec.Decode(&doc); err != nil {
		if err == io.EOF {
			l.errorf(0, "the file is empty")
		} else {
			l.yamlError(err)
		}
		return nil, nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); err != io.EOF {
		l.errorf(extra.Line, "a mapping file holds one YAML document; remove the second (---)")
	}
	if doc.Version != Version {
		l.errorf(0, "version: must be %d (got %d)", Version, doc.Version)
	}
	if strings.TrimSpace(doc.Key) == "" {
		l.errorf(0, "key: name the column or path holding the legacy user id (it becomes external_id)")
	}
	if doc.Fields.Kind == 0 {
		l.errorf(0, "fields: missing; map at least one CreateUser property")
		return &doc, nil
	}
	if doc.Fields.Kind != yaml.MappingNode {
		l.errorf(doc.Fields.Line, "fields: must be a mapping of CreateUser property to spec")
		return &doc, nil
	}
	var specs []*fieldSpec
	seen := map[string]int{}
	for i := 0; i+1 < len(doc.Fields.Content); i += 2 {
		k, v := doc.Fields.Content[i], doc.Fields.Content[i+1]
		name := k.Value
		if first, dup := seen[name]; dup {
			l.errorf(k.Line, "fields: %q is mapped twice (first at line %d)", name, first)
			continue
		}
		seen[name] = k.Line
		if name == propExternalID {
			l.errorf(k.Line, "fields: external_id is always the record's key; set `key:` instead")
			continue
		}
		if _, ok := propertyIndex[name]; !ok {
			l.errorf(k.Line, "fields: %q is not a CreateUser property; valid: %s", name, strings.Join(propertyNames(), ", "))
			continue
		}
		if spec := l.readField(name, v); spec != nil {
			specs = append(specs, spec)
		}
	}
	if len(specs) == 0 && len(l.errs) == 0 {
		l.errorf(doc.Fields.Line, "fields: map at least one CreateUser property")
	}
	return &doc, specs
}

// specKeys are the keys a field spec may hold.
var specKeys = []string{"from", "value", "template", "default", "split", "transform", "parse", "when", "verified", "repeats"}

// readField reads one field spec: a bare path ("first_name: fname") or a
// mapping of specKeys.
func (l *loader) readField(name string, n *yaml.Node) *fieldSpec {
	spec := &fieldSpec{name: name, line: n.Line}
	prop := &properties[propertyIndex[name]]
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag != "!!str" || n.Value == "" {
			l.errorf(n.Line, "%s: write a column/path, or { from: ... } / { value: ... }", name)
			return nil
		}
		spec.from = []string{n.Value}
		return spec
	case yaml.MappingNode:
	default:
		l.errorf(n.Line, "%s: write a column/path, or { from: ... } / { value: ... }", name)
		return nil
	}
	before := len(l.errs)
	l.eachKey(name, n, func(k, v *yaml.Node) {
		switch k.Value {
		case "from":
			l.readFrom(spec, prop, v)
		case "value":
			spec.value, spec.hasValue = l.decodeAny(name, "value", v), true
		case "when":
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				l.errorf(v.Line, "%s: when: a column/path; the field is filled only for rows where it is not empty", name)
				return
			}
			spec.when = v.Value
		case "template":
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				l.errorf(v.Line, "%s: template: text such as \"+{phone}\" or \"{hash}${salt}${param:key}\"", name)
				return
			}
			if _, err := parseTemplate(v.Value); err != nil {
				l.errorf(v.Line, "%s: template: %v", name, err)
				return
			}
			spec.template, spec.hasTmpl = v.Value, true
		case "default":
			spec.def, spec.hasDef = l.decodeAny(name, "default", v), true
		case "split":
			if prop.kind != kindList {
				l.errorf(k.Line, "%s: split is for list properties (%s); %s is %s", name, listNames(), name, prop.kind)
				return
			}
			if v.Kind != yaml.ScalarNode || v.Value == "" {
				l.errorf(v.Line, "%s: split: a separator such as \"|\" or \",\", or json", name)
				return
			}
			spec.split = v.Value
		case "transform":
			l.readTransform(spec, prop, v)
		case "verified":
			spec.verified = l.readVerified(name, k, v)
		case "repeats":
			if name != propEmail && name != propPhone {
				l.errorf(k.Line, "%s: repeats is for email_address and phone_number", name)
				return
			}
			if v.Kind != yaml.ScalarNode || v.Value != "expected" {
				l.errorf(v.Line, "%s: repeats: expected (the columns list some values twice by design, such as a "+
					"primary address also among the verified ones), or leave it out", name)
				return
			}
			spec.overlap = true
		case "parse":
			want := prop.kind.parseName()
			if prop.kind == kindBool && v.Value == parseFuture {
				spec.parse = parseFuture
			} else if want == "" {
				l.errorf(k.Line, "%s: is %s and takes no parse (parse is for bool, int, timestamp and json properties)", name, prop.kind)
			} else if v.Value != want {
				l.errorf(v.Line, "%s: is parsed as %s (got parse: %s); parse may be left out", name, want, v.Value)
			}
		default:
			l.errorf(k.Line, "%s: unknown key %q; valid: %s", name, k.Value, strings.Join(specKeys, ", "))
		}
	})
	switch {
	case spec.hasTmpl && (spec.hasValue || spec.from != nil || spec.object != nil):
		l.errorf(n.Line, "%s: give one of from, value and template (use default for a fallback)", name)
	case spec.hasValue && (spec.from != nil || spec.object != nil):
		l.errorf(n.Line, "%s: give from or value, not both (use default for a fallback)", name)
	case spec.hasValue && spec.hasDef:
		l.errorf(n.Line, "%s: value is used for every row; default makes no sense with it", name)
	case !spec.hasValue && !spec.hasTmpl && spec.from == nil && spec.object == nil && len(l.errs) == before:
		l.errorf(n.Line, "%s: say where it comes from: from: <column/path>, template: \"...{column}...\", or value: <constant>", name)
	}
	if len(l.errs) > before {
		return nil
	}
	return spec
}

// eachKey calls fn with each key and value of the mapping node n, refusing
// a key given twice (what names the node in the error).
func (l *loader) eachKey(what string, n *yaml.Node, fn func(k, v *yaml.Node)) {
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if seen[k.Value] {
			l.errorf(k.Line, "%s: %q given twice", what, k.Value)
			continue
		}
		seen[k.Value] = true
		fn(k, v)
	}
}

// readFrom reads `from:`: a path, a list of paths, or (metadata only) a
// mapping of metadata key to path.
func (l *loader) readFrom(spec *fieldSpec, prop *property, v *yaml.Node) {
	switch v.Kind {
	case yaml.ScalarNode:
		if v.Value == "" {
			l.errorf(v.Line, "%s: from: an empty column/path", spec.name)
			return
		}
		spec.from = []string{v.Value}
	case yaml.SequenceNode:
		if len(v.Content) == 0 {
			l.errorf(v.Line, "%s: from: an empty list", spec.name)
			return
		}
		for _, item := range v.Content {
			if item.Kind != yaml.ScalarNode || item.Value == "" {
				l.errorf(item.Line, "%s: from: each item must be a column/path", spec.name)
				return
			}
			spec.from = append(spec.from, item.Value)
		}
	case yaml.MappingNode:
		if prop.kind != kindObject {
			l.errorf(v.Line, "%s: from: {key: column} builds an object and is for metadata properties only", spec.name)
			return
		}
		spec.object = map[string]string{}
		for i := 0; i+1 < len(v.Content); i += 2 {
			k, p := v.Content[i], v.Content[i+1]
			if p.Kind != yaml.ScalarNode || p.Value == "" {
				l.errorf(p.Line, "%s: from: %s: must be a column/path", spec.name, k.Value)
				return
			}
			if _, dup := spec.object[k.Value]; dup {
				l.errorf(k.Line, "%s: from: key %q given twice", spec.name, k.Value)
				return
			}
			spec.object[k.Value] = p.Value
		}
		if len(spec.object) == 0 {
			l.errorf(v.Line, "%s: from: an empty object", spec.name)
		}
	default:
		l.errorf(v.Line, "%s: from: a column/path, a list of them, or {key: column}", spec.name)
	}
}

// transformNames are the transforms of text values, in textOp order.
// first_word and rest_words cut a full name ("Ada King Lovelace") into the
// first word ("Ada") and the rest ("King Lovelace"), for first_name and
// last_name out of one display-name column; a one-word name is all
// first_word and no rest_words.
var transformNames = []string{"trim", "lower", "upper", "first_word", "rest_words"}

// parseFuture is the `parse:` of a bool property read from a timestamp: true
// when the timestamp is after the moment the mapping was loaded (Supabase's
// banned_until), false when before.
const parseFuture = "future"

func (l *loader) readTransform(spec *fieldSpec, prop *property, v *yaml.Node) {
	if prop.kind != kindString && prop.kind != kindList {
		l.errorf(v.Line, "%s: transform is for text and list properties; %s is %s (parsing already trims)", spec.name, spec.name, prop.kind)
		return
	}
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	for _, item := range items {
		if item.Kind != yaml.ScalarNode || !slices.Contains(transformNames, item.Value) {
			l.errorf(item.Line, "%s: unknown transform %q; valid: %s", spec.name, item.Value, strings.Join(transformNames, ", "))
			continue
		}
		spec.transform = append(spec.transform, item.Value)
	}
}

// decodeAny reads a constant, refusing objects whose keys are not text.
func (l *loader) decodeAny(name, what string, n *yaml.Node) any {
	var v any
	if err := n.Decode(&v); err != nil {
		l.errorf(n.Line, "%s: %s: %v", name, what, err)
		return nil
	}
	out, err := jsonable(v)
	if err != nil {
		l.errorf(n.Line, "%s: %s: %v", name, what, err)
	}
	return out
}

// jsonable turns a decoded YAML value into the shapes sources produce
// (map[string]any, []any, string, bool, int64, float64, nil).
func jsonable(v any) (any, error) {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, x := range v {
			j, err := jsonable(x)
			if err != nil {
				return nil, err
			}
			out[k] = j
		}
		return out, nil
	case map[any]any:
		return nil, errors.New("object keys must be text")
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			j, err := jsonable(x)
			if err != nil {
				return nil, err
			}
			out[i] = j
		}
		return out, nil
	case int:
		return int64(v), nil
	case uint64:
		return float64(v), nil
	case string, bool, int64, float64, time.Time, nil:
		return v, nil
	}
	return fmt.Sprint(v), nil
}

// listNames names the list properties, for error messages.
func listNames() string {
	var names []string
	for _, p := range properties {
		if p.kind == kindList {
			names = append(names, p.name)
		}
	}
	return strings.Join(names, ", ")
}
