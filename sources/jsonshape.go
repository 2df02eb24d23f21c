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
//
// In the same pass it counts the records, for Info().Rows: the values
// directly inside the top-level array, inside each top-level key's array, or,
// when path is set (an explicit array path), inside the array at path. So a
// pretty-printed file counts what it holds, not its lines.
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

	// Counting (see the type's comment).
	path      []string         // the array path's keys; nil: the top-level array or each top-level key's
	elems     int64            // values directly inside the top-level array, or the array at path
	keyElems  map[string]int64 // values directly inside each top-level key's array (path nil)
	target    int              // depth inside the array being counted while it is open; 0 otherwise
	targetKey string           // the top-level key whose array is being counted ("" for elems)
	counted   bool             // the array at path was counted (a second one is not the users array)
	onPath    int              // path: depth of the deepest open object on the path; 0 for none
	pathKey   bool             // path: a key is expected next in that object
	pathValue bool             // path: that object's key just read is the path's; its value comes next
}

// newJSONShape is a jsonShape counting the array at path (nil: detect it).
func newJSONShape(path []string) *jsonShape { return &jsonShape{path: path} }

// records is how many records the pass counted, for the array the reader
// found: at arrayPath (a quoted top-level key after detection, or the path
// the shape was made for), or the top-level array ("").
func (s *jsonShape) records(arrayPath string) int64 {
	if s.path == nil && arrayPath != "" {
		keys := splitArrayPath(arrayPath)
		if len(keys) == 1 {
			return s.keyElems[keys[0]]
		}
	}
	return s.elems
}

// value counts a value starting at the current depth when it is directly
// inside the array being counted.
func (s *jsonShape) value() {
	if s.target == 0 || s.depth != s.target {
		return
	}
	if s.targetKey != "" {
		if s.keyElems == nil {
			s.keyElems = map[string]int64{}
		}
		s.keyElems[s.targetKey]++
	} else {
		s.elems++
	}
}

// open follows the path into a container b ('{' or '[') opening at the
// current depth (before it is entered), and starts counting an array.
func (s *jsonShape) open(b byte) {
	switch {
	case s.path == nil && s.depth == 0 && b == '[' && s.topValues == 1:
		s.target = 1
	case s.path == nil && s.depth == 1 && s.first == '{' && s.awaitValue && b == '[' && s.topValues == 1:
		s.target, s.targetKey = 2, unquoteShapeKey(s.key)
	case s.path != nil && s.depth == 0 && b == '{' && s.topValues == 1:
		s.onPath, s.pathKey = 1, true
	case s.path != nil && s.pathValue && s.depth == s.onPath:
		switch {
		case s.depth == len(s.path) && b == '[' && !s.counted:
			s.target = s.depth + 1
		case s.depth < len(s.path) && b == '{':
			s.onPath, s.pathKey = s.depth+1, true
		}
	}
	s.pathValue = false
}

// close notes that a container closed, the depth already lowered.
func (s *jsonShape) close() {
	if s.target > s.depth {
		s.target, s.targetKey = 0, ""
		s.counted = s.path != nil
	}
	if s.onPath > s.depth {
		s.onPath, s.pathKey, s.pathValue = s.depth, false, false
	}
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
		switch {
		case s.depth == 1 && s.first == '{' && s.expectKey && s.path == nil:
			s.capturing, s.expectKey, s.key = true, false, s.key[:0]
		case s.path != nil && s.depth == s.onPath && s.pathKey:
			s.capturing, s.pathKey, s.key = true, false, s.key[:0]
		default:
			s.value()
			s.pathValue = false
		}
		s.awaitValue = false
	case ':':
		if s.depth == 1 && s.first == '{' {
			s.awaitValue = true
		}
		if s.path != nil && s.depth == s.onPath && s.onPath <= len(s.path) {
			s.pathValue = unquoteShapeKey(s.key) == s.path[s.onPath-1]
		}
	case ',':
		s.inScalar = false
		if s.depth == 1 && s.first == '{' {
			s.expectKey = true
		}
		if s.path != nil && s.depth == s.onPath {
			s.pathKey = true
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
		s.value()
		s.open(b)
		s.awaitValue = false
		s.depth++
	case '}', ']':
		s.inScalar = false
		if s.depth > 0 {
			s.depth--
		}
		s.close()
	default:
		s.awaitValue = false
		if !s.inScalar && b < 0x80 { // bytes >= 0x80 here: a BOM
			s.inScalar = true
			if s.depth == 0 {
				s.startTopValue(b)
			}
			s.value()
			s.pathValue = false
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
