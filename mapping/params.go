package mapping

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// ParamEnvPrefix starts the environment variables that give parameters:
// CLERKMIGRATE_PARAM_BASE64_SIGNER_KEY gives {param:base64_signer_key}.
const ParamEnvPrefix = "CLERKMIGRATE_PARAM_"

// Params are the named values a mapping's templates use ({param:name}):
// secrets that belong to the run, not to the mapping file, such as a
// Firebase project's password-hash parameters. They never enter the
// mapping's fingerprint, the ledger, the reports or an error message.
type Params map[string]string

// String never prints a value.
func (p Params) String() string {
	names := make([]string, 0, len(p))
	for k := range p {
		names = append(names, k)
	}
	slices.Sort(names)
	return "Params[" + strings.Join(names, " ") + "]"
}

// GoString never prints a value.
func (p Params) GoString() string { return p.String() }

// Format never prints a value, whatever the verb.
func (p Params) Format(f fmt.State, _ rune) { io.WriteString(f, p.String()) }

// validParamName reports whether s is a parameter name: lower-case ASCII
// letters, digits and _.
func validParamName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// ParamsFromEnv collects CLERKMIGRATE_PARAM_<NAME>=value entries of an
// environment (os.Environ()) as parameter <name> (lower case).
func ParamsFromEnv(environ []string) Params {
	p := Params{}
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			continue
		}
		if name, ok := strings.CutPrefix(k, ParamEnvPrefix); ok && validParamName(strings.ToLower(name)) {
			p[strings.ToLower(name)] = v
		}
	}
	return p
}

// ParamFileError is a line of a parameter file that could not be read. It
// names the line, never its value.
type ParamFileError struct {
	File string
	Line int
	Msg  string
}

func (e *ParamFileError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg) }

// ReadParamFile reads parameters from a file, one a line, as `name=value`
// or `name: value` (a trailing comma is dropped). Blank lines, # comments
// and brace lines are skipped, so the hash_config block the Firebase
// console shows (Authentication > Users > ⋮ > Password hash parameters)
// can be pasted as it is:
//
//	hash_config {
//	  algorithm: SCRYPT,
//	  base64_signer_key: jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA==,
//	  base64_salt_separator: Bw==,
//	  rounds: 8,
//	  mem_cost: 14,
//	}
//
// Names may carry the CLERKMIGRATE_PARAM_ prefix and an `export ` before
// them (a shell env file); they are lower-cased. Values may be quoted.
func ReadParamFile(path string) (Params, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p := Params{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line == "}" || strings.HasSuffix(line, "{") {
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i <= 0 {
			return nil, &ParamFileError{path, n, "want name=value or name: value"}
		}
		name := strings.ToLower(strings.TrimSpace(strings.TrimPrefix(line[:i], "export ")))
		name = strings.TrimPrefix(name, strings.ToLower(ParamEnvPrefix))
		if !validParamName(name) {
			return nil, &ParamFileError{path, n, "a parameter name is letters, digits and _"}
		}
		val := strings.TrimSuffix(strings.TrimSpace(line[i+1:]), ",")
		val = strings.TrimSpace(val)
		if len(val) >= 2 && (val[0] == '"' || val[0] == '\'') && val[len(val)-1] == val[0] {
			val = val[1 : len(val)-1]
		}
		p[name] = val
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// ParamNames lists the parameters the mapping's templates use, sorted.
func (m *Mapping) ParamNames() []string {
	var names []string
	for i := range m.fields {
		if t := m.fields[i].tmpl; t != nil {
			for _, n := range t.params {
				if !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
		}
	}
	slices.Sort(names)
	return names
}

// MissingParamsError names the parameters a mapping needs and was not
// given, and how to give them; it never holds a value.
type MissingParamsError struct {
	Names []string
}

func (e *MissingParamsError) Error() string {
	envs := make([]string, len(e.Names))
	for i, n := range e.Names {
		envs[i] = ParamEnvPrefix + strings.ToUpper(n)
	}
	return fmt.Sprintf("the mapping needs parameter(s) %s: set %s in the environment or pass --param-file",
		strings.Join(e.Names, ", "), strings.Join(envs, ", "))
}

// WithParams returns a copy of the mapping whose templates use params. It
// fails, naming them, when a parameter a template uses is missing or
// empty. Parameters the mapping does not use are ignored. The fingerprint
// does not change: parameters are run-time secrets, not the mapping's
// meaning.
func (m *Mapping) WithParams(params Params) (*Mapping, error) {
	var missing []string
	for _, n := range m.ParamNames() {
		if params[n] == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) > 0 {
		return nil, &MissingParamsError{Names: missing}
	}
	c := *m
	c.fields = slices.Clone(m.fields)
	c.byProp = make(map[string]*field, len(c.fields))
	for i := range c.fields {
		f := &c.fields[i]
		if f.tmpl != nil {
			f.params = Params{}
			for _, n := range f.tmpl.params {
				f.params[n] = params[n]
			}
		}
		c.byProp[f.prop.name] = f
	}
	return &c, nil
}
