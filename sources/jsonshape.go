package sources

import (
	"bytes"
	"encoding/json"
)

// jsonShape learns the top-level shape of a JSON file from its bytes, as an
// io.Writer fed during the fingerprint pass (so it costs no extra read): how
// many top-level values there are (more than one object means JSON Lines),
// what the first one opens with, and which keys of a top-level object hold
// arrays. It is a byte-level state machine, not a validator: a broken file is
// found later, by the decoder, with a position.
type jsonShape struct {
	depth      int
	inString   bool
	escape     bool
	inScalar   bool // inside a top-level or depth-1 number/literal
	topValues  int
	first      byte // '{', '[' or the first byte of a scalar; 0 for an empty file
	expectKey  bool // at depth 1 of the top object, a key comes next
	capturing  bool // reading a top-level key's bytes
	awaitValue bool // a top-level key was read, its value comes next
	key        []byte
	arrayKeys  []string
}

const maxShapeKey = 1 << 10

func (s *jsonShape) Write(p []byte) (int, error) {
	for i := 0; i < len(p); {
		if s.inString {
			i += s.stringBytes(p[i:])
			continue
		}
		s.structureByte(p[i])
		i++
	}
	return len(p), nil
}

// stringBytes consumes string content up to and including the next
// unescaped quote, jumping to quotes and backslashes with IndexByte (most of
// a JSON file's bytes are inside strings). It returns the bytes consumed.
func (s *jsonShape) stringBytes(p []byte) int {
	if s.escape {
		s.escape = false
		s.capture(p[:1])
		return 1
	}
	end := bytes.IndexByte(p, '"')
	limit := end
	if limit < 0 {
		limit = len(p)
	}
	if bs := bytes.IndexByte(p[:limit], '\\'); bs >= 0 {
		s.capture(p[:bs+1])
		s.escape = true
		return bs + 1
	}
	if end < 0 {
		s.capture(p)
		return len(p)
	}
	s.capture(p[:end])
	s.inString, s.capturing = false, false
	return end + 1
}

func (s *jsonShape) capture(b []byte) {
	if s.capturing && len(s.key) < maxShapeKey {
		s.key = append(s.key, b[:min(len(b), maxShapeKey-len(s.key))]...)
	}
}

func (s *jsonShape) structureByte(b byte) {
	switch b {
	case ' ', '\t', '\n', '\r':
		s.inScalar = false
	case '"':
		s.inScalar = false
		s.inString = true
		if s.depth == 0 {
			s.startTopValue(b)
		}
		if s.depth == 1 && s.first == '{' && s.expectKey {
			s.capturing, s.expectKey, s.key = true, false, s.key[:0]
		}
		s.awaitValue = false
	case ':':
		if s.depth == 1 && s.first == '{' {
			s.awaitValue = true
		}
	case ',':
		s.inScalar = false
		if s.depth == 1 && s.first == '{' {
			s.expectKey = true
		}
	case '{', '[':
		s.inScalar = false
		if s.depth == 0 {
			s.startTopValue(b)
			s.expectKey = b == '{'
		}
		if s.depth == 1 && s.awaitValue && b == '[' && s.topValues == 1 {
			s.arrayKeys = append(s.arrayKeys, unquoteShapeKey(s.key))
		}
		s.awaitValue = false
		s.depth++
	case '}', ']':
		s.inScalar = false
		if s.depth > 0 {
			s.depth--
		}
	default:
		s.awaitValue = false
		if s.depth == 0 && !s.inScalar && b < 0x80 { // bytes >= 0x80 here: a BOM
			s.inScalar = true
			s.startTopValue(b)
		}
	}
}

func (s *jsonShape) startTopValue(b byte) {
	s.topValues++
	if s.topValues == 1 {
		s.first = b
	}
}

func unquoteShapeKey(raw []byte) string {
	var k string
	if err := json.Unmarshal(append(append([]byte{'"'}, raw...), '"'), &k); err != nil {
		return string(raw)
	}
	return k
}
