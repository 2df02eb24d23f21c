package mapping

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// parseFlatObject reads the commonest metadata cell, a JSON object whose
// values are strings without escapes, numbers, true, false or null, into
// what encoding/json with UseNumber gives, without its reflection. ok is
// false for anything else (nesting, escapes, invalid UTF-8 or control
// characters, any syntax error, a key given twice): the caller then runs
// encoding/json, so answers and error messages stay encoding/json's. s is
// trimmed.
func parseFlatObject(s string) (map[string]any, bool) {
	i := skipSpace(s, 1) // s[0] == '{'
	m := make(map[string]any, 4)
	if i < len(s) && s[i] == '}' {
		return m, skipSpace(s, i+1) == len(s)
	}
	for {
		key, j, ok := flatString(s, i)
		if !ok {
			return nil, false
		}
		i = skipSpace(s, j)
		if i >= len(s) || s[i] != ':' {
			return nil, false
		}
		i = skipSpace(s, i+1)
		if i >= len(s) {
			return nil, false
		}
		var v any
		switch c := s[i]; {
		case c == '"':
			v, i, ok = flatString(s, i)
		case c == '-' || c >= '0' && c <= '9':
			j := numberEnd(s, i)
			if j < 0 {
				return nil, false
			}
			v, i, ok = json.Number(s[i:j]), j, true
		case hasWord(s, i, "true"):
			v, i, ok = true, i+4, true
		case hasWord(s, i, "false"):
			v, i, ok = false, i+5, true
		case hasWord(s, i, "null"):
			v, i, ok = nil, i+4, true
		default:
			return nil, false
		}
		if !ok {
			return nil, false
		}
		if _, dup := m[key]; dup {
			return nil, false
		}
		m[key] = v
		i = skipSpace(s, i)
		if i >= len(s) {
			return nil, false
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
		case '}':
			return m, skipSpace(s, i+1) == len(s)
		default:
			return nil, false
		}
	}
}

func hasWord(s string, i int, w string) bool {
	return len(s)-i >= len(w) && s[i:i+len(w)] == w
}

// flatString reads a JSON string at s[i] without escapes, valid UTF-8 and
// no control characters; it returns the text and the index after it.
func flatString(s string, i int) (string, int, bool) {
	if i >= len(s) || s[i] != '"' {
		return "", 0, false
	}
	for j := i + 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			v := s[i+1 : j]
			return v, j + 1, utf8.ValidString(v)
		case c == '\\' || c < 0x20:
			return "", 0, false
		}
	}
	return "", 0, false
}

// numberEnd returns the end of the JSON number at s[i], or -1 when it is
// not one by JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
func numberEnd(s string, i int) int {
	digits := func(i int) int {
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		return j
	}
	if s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i = digits(i)
	default:
		return -1
	}
	if i < len(s) && s[i] == '.' {
		j := digits(i + 1)
		if j == i+1 {
			return -1
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		j := digits(i)
		if j == i {
			return -1
		}
		i = j
	}
	return i
}

// mayHaveDuplicateKey is a cheap first look for duplicateKey: a JSON
// text's colons outside strings are its keys; when the decoded value holds
// as many, no key was given twice.
func mayHaveDuplicateKey(s string, decoded any) bool {
	colons, inString := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case inString && c == '\\':
			i++
		case c == '"':
			inString = !inString
		case c == ':' && !inString:
			colons++
		}
	}
	return colons != countKeys(decoded)
}

// countKeys counts the keys of every object in a decoded JSON value.
func countKeys(v any) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		n += len(v)
		for _, x := range v {
			n += countKeys(x)
		}
	case []any:
		for _, x := range v {
			n += countKeys(x)
		}
	}
	return n
}

// duplicateKey finds a key given twice in one object of a JSON text, which
// decoders answer with the last value, dropping the others without a word.
// path is the object's path ("" at the top). It expects valid JSON.
func duplicateKey(s string) (path, key string, found bool) {
	dec := json.NewDecoder(strings.NewReader(s))
	type frame struct {
		keys    map[string]bool // nil for an array
		wantKey bool
		name    string // the path to this value
	}
	var stack []frame
	var last string // the last key read
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", "", false
		}
		top := len(stack) - 1
		if d, ok := tok.(json.Delim); ok {
			switch d {
			case '{', '[':
				name := ""
				if top >= 0 {
					name = stack[top].name
					if stack[top].keys != nil {
						name = strings.TrimPrefix(name+"."+last, ".")
					}
				}
				f := frame{name: name}
				if d == '{' {
					f.keys, f.wantKey = map[string]bool{}, true
				}
				stack = append(stack, f)
				continue
			default:
				stack = stack[:top]
				if len(stack) == 0 {
					return "", "", false
				}
				if t := &stack[len(stack)-1]; t.keys != nil {
					t.wantKey = true
				}
				continue
			}
		}
		if top < 0 || stack[top].keys == nil {
			continue
		}
		if stack[top].wantKey {
			k, _ := tok.(string)
			if stack[top].keys[k] {
				return stack[top].name, k, true
			}
			stack[top].keys[k] = true
			last, stack[top].wantKey = k, false
			continue
		}
		stack[top].wantKey = true
	}
}
