package sources

import (
	"strconv"
	"strings"
)

// LookupPath walks a path into a decoded JSON value (map[string]any, []any and
// scalars). The grammar:
//
//	path    = segment { "." key | "[" index "]" | "[" quoted "]" }
//	segment = key | "[" quoted "]"
//	key     = any characters but "." and "["
//	index   = decimal digits (0-based)
//	quoted  = a JSON string literal, for keys holding dots or brackets: ["a.b"]
//
// Examples: "email", "app_metadata.roles", "identities[0].provider",
// `["user.name"].first`. A malformed path, a missing key, an index out of
// range or a step into a scalar all return false.
func LookupPath(root any, path string) (any, bool) {
	return walkPath(root, path, true)
}

// walkPath follows path from cur. With bareFirst the path starts with a key
// ("a.b"); without it, with a step (".b", "[0]"), as the rest of a path
// whose first key was resolved elsewhere (a SQL column holding JSON).
func walkPath(cur any, path string, bareFirst bool) (any, bool) {
	if path == "" {
		return nil, false
	}
	i := 0
	for i < len(path) {
		switch {
		case path[i] == '[':
			next, end, ok := bracketStep(cur, path, i)
			if !ok {
				return nil, false
			}
			cur, i = next, end
		case (i == 0 && bareFirst) || path[i] == '.':
			if path[i] == '.' {
				if i == 0 && bareFirst {
					return nil, false // ".a"
				}
				i++
			}
			j := i
			for j < len(path) && path[j] != '.' && path[j] != '[' {
				j++
			}
			if j == i {
				return nil, false // empty key: "a..b", "a.", ".a"
			}
			m, isMap := cur.(map[string]any)
			if !isMap {
				return nil, false
			}
			v, found := m[path[i:j]]
			if !found {
				return nil, false
			}
			cur, i = v, j
		default:
			return nil, false // e.g. "a[0]b"
		}
	}
	return cur, true
}

// bracketStep applies one "[...]" step starting at path[i] == '['. It returns
// the value reached and the index just past the closing bracket.
func bracketStep(cur any, path string, i int) (any, int, bool) {
	if i+1 >= len(path) {
		return nil, 0, false
	}
	if path[i+1] == '"' {
		key, end, ok := quotedKey(path, i+1)
		if !ok || end >= len(path) || path[end] != ']' {
			return nil, 0, false
		}
		m, isMap := cur.(map[string]any)
		if !isMap {
			return nil, 0, false
		}
		v, found := m[key]
		return v, end + 1, found
	}
	closing := strings.IndexByte(path[i:], ']')
	if closing < 0 {
		return nil, 0, false
	}
	n, err := strconv.Atoi(path[i+1 : i+closing])
	if err != nil || n < 0 {
		return nil, 0, false
	}
	arr, isArr := cur.([]any)
	if !isArr || n >= len(arr) {
		return nil, 0, false
	}
	return arr[n], i + closing + 1, true
}

// quotedKey reads the JSON string literal starting at path[start] == '"' and
// returns its value and the index just past the closing quote.
func quotedKey(path string, start int) (string, int, bool) {
	for j := start + 1; j < len(path); j++ {
		switch path[j] {
		case '\\':
			j++
		case '"':
			key, err := strconv.Unquote(path[start : j+1])
			if err != nil {
				return "", 0, false
			}
			return key, j + 1, true
		}
	}
	return "", 0, false
}
