package sources

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// encoding/json decodes two things it cannot keep as written without a
// word: bytes that are not UTF-8 and \u escapes of a lone UTF-16 surrogate
// ("\ud800") both become U+FFFD. JSON text must be UTF-8 (RFC 8259 §8.1),
// so such a record is refused (a RecordError naming the key that holds the
// string) instead of reaching Clerk altered.

// InvalidJSONText finds the first string (a value or a key) of a JSON text
// that decoding would not keep as written. path says where it is
// ("profile.name", "tags[2]"; a key is named by its object's path and the
// key as far as it can be read), reason says why; found is false when there
// is none. It scans, it does not validate: raw is expected to be JSON
// (outside strings, JSON is ASCII).
func InvalidJSONText(raw []byte) (path, reason string, found bool) {
	if utf8.Valid(raw) && !hasSurrogateEscape(raw) {
		return "", "", false
	}
	var stack []jsonFrame
	for i := 0; i < len(raw); i++ {
		switch c := raw[i]; c {
		case '{':
			stack = append(stack, jsonFrame{object: true, wantKey: true})
		case '[':
			stack = append(stack, jsonFrame{})
		case '}', ']':
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		case ',':
			if n := len(stack); n > 0 {
				if stack[n-1].object {
					stack[n-1].wantKey = true
				} else {
					stack[n-1].index++
				}
			}
		case ':':
			if n := len(stack); n > 0 {
				stack[n-1].wantKey = false
			}
		case '"':
			end, why := jsonStringProblem(raw, i)
			isKey := len(stack) > 0 && stack[len(stack)-1].object && stack[len(stack)-1].wantKey
			if isKey {
				stack[len(stack)-1].key = lenientUnquote(raw[i:min(end+1, len(raw))])
			}
			if why != "" {
				where := framePath(stack)
				if isKey {
					where = framePath(stack[:len(stack)-1])
					why = "a key " + why
				}
				return where, why, true
			}
			i = end
		}
	}
	return "", "", false
}

// jsonFrame is one open object or array during the scan.
type jsonFrame struct {
	object  bool
	wantKey bool   // object: the next string is a key
	key     string // object: the last key read
	index   int    // array: the index of the current element
}

// framePath renders the path of the innermost value: a.b[2].c.
func framePath(stack []jsonFrame) string {
	var b strings.Builder
	for i, f := range stack {
		if f.object {
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
			continue
		}
		b.WriteString("[" + strconv.Itoa(f.index) + "]")
	}
	return b.String()
}

// hasSurrogateEscape reports whether raw holds something like a \u escape
// of a surrogate (\ud800-\udfff); a pair is fine, but telling takes a scan.
func hasSurrogateEscape(raw []byte) bool {
	for {
		i := bytes.Index(raw, []byte(`\u`))
		if i < 0 || i+2 >= len(raw) {
			return false
		}
		if c := raw[i+2] | 0x20; c == 'd' {
			return true
		}
		raw = raw[i+2:]
	}
}

// jsonStringProblem reads the string literal starting at raw[start] == '"'
// and returns the index of its closing quote (len(raw) when it has none)
// and what decoding would change in it ("" when nothing).
func jsonStringProblem(raw []byte, start int) (end int, why string) {
	high := -1 // the offset of a high surrogate escape waiting for its low half
	flushHigh := func() {
		if high >= 0 && why == "" {
			why = loneSurrogate(raw[high : high+6])
		}
		high = -1
	}
	for i := start + 1; i < len(raw); {
		switch c := raw[i]; {
		case c == '"':
			flushHigh()
			return i, why
		case c == '\\' && i+5 < len(raw) && raw[i+1] == 'u':
			r, err := strconv.ParseUint(string(raw[i+2:i+6]), 16, 32)
			switch {
			case err == nil && r >= 0xDC00 && r < 0xE000: // a low half
				if high < 0 && why == "" {
					why = loneSurrogate(raw[i : i+6])
				}
				high = -1
			case err == nil && r >= 0xD800 && r < 0xDC00: // a high half
				flushHigh()
				high = i
			default:
				flushHigh()
			}
			i += 6
		case c == '\\':
			flushHigh()
			i += 2
		case c >= 0x80:
			flushHigh()
			r, size := utf8.DecodeRune(raw[i:])
			if r == utf8.RuneError && size == 1 && why == "" {
				why = fmt.Sprintf("holds bytes that are not UTF-8 (0x%02x at byte %d of the string)", c, i-start)
			}
			i += size
		default:
			flushHigh()
			i++
		}
	}
	return len(raw), why
}

func loneSurrogate(esc []byte) string {
	return "holds " + string(esc) + ", half of a UTF-16 surrogate pair without the other half"
}

// lenientUnquote reads a key for a path: its text, with what cannot be
// decoded left escaped.
func lenientUnquote(lit []byte) string {
	if s, err := strconv.Unquote(string(lit)); err == nil && utf8.ValidString(s) {
		return s
	}
	s := strings.Trim(string(lit), `"`)
	return strings.ToValidUTF8(s, "?")
}
