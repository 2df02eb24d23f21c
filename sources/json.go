package sources

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// JSONConfig says how to read a JSON or JSON Lines file.
type JSONConfig struct {
	// Path is the file to read.
	Path string
	// Lines forces JSON Lines (one object per line). Without it, a .jsonl or
	// .ndjson file, or a file holding several top-level objects, is read as
	// JSON Lines too.
	Lines bool
	// ArrayPath names the array of users inside a top-level object, with dots
	// for nested objects: "users" for Firebase's {"users":[...]}, "data.users".
	// Empty: a top-level array, or the one array a top-level object holds.
	ArrayPath string
	// KeyPath is the path of the legacy user id in each object ("id",
	// "localId", "meta.id"); see LookupPath. Empty: records have no Key.
	KeyPath string
}

// JSON streams the objects of a JSON array (top-level or inside an object) or
// of a JSON Lines file, one at a time: the file is never loaded whole.
// Numbers are kept as json.Number, so ids and big integers keep their digits.
//
// What happens with bad records:
//   - JSON Lines: a line that is not one JSON object is an error for that
//     line; the next line is read as usual. Blank lines are skipped.
//   - Array: an element that is valid JSON but not an object (a number, a
//     string, an array, null) is an error for that element, and reading goes
//     on. A syntax error or a truncated file cannot be resynchronised by
//     encoding/json: Next returns an error naming the byte offset and the
//     record number, and the source stops.
type JSON struct {
	cfg   JSONConfig
	file  *os.File
	info  Info
	index int64
	fatal error

	// JSON Lines
	lines   bool
	br      *bufio.Reader
	lineNo  int64
	offset  int64
	lineBuf []byte

	// array
	dec       *json.Decoder
	skew      int64 // bytes before the decoder's input: the BOM
	done      bool
	arrayPath string // the path of the users array found at the start ("" for the top level)

	// Schema's read-ahead: the sampled records, handed out by Next first,
	// then the error (io.EOF or fatal) that ended the sampling, if any.
	schema     *Schema
	pending    []Record
	replayed   int
	pendingErr error
}

// jsonObject is the Values of one JSON record.
type jsonObject map[string]any

// Lookup walks a path into the object (see LookupPath). A top-level key that
// itself holds dots is found too, when the path does not match otherwise.
func (o jsonObject) Lookup(path string) (Value, bool) {
	if v, ok := LookupPath(map[string]any(o), path); ok {
		return v, true
	}
	v, ok := o[path]
	return v, ok
}

const jsonReadBufferSize = 256 << 10

// OpenJSON opens the file, hashes it for Info().Fingerprint (learning its
// shape in the same pass), and positions the reader on the first record.
func OpenJSON(cfg JSONConfig) (*JSON, error) {
	ext := strings.ToLower(filepath.Ext(cfg.Path))
	lines := cfg.Lines || ext == ".jsonl" || ext == ".ndjson"
	var path []string
	if cfg.ArrayPath != "" {
		path = splitArrayPath(cfg.ArrayPath)
	}
	shape := newJSONShape(path)
	counter := &lineCounter{}
	extra := []io.Writer{counter}
	scanShape := !lines && cfg.ArrayPath == ""
	if !lines {
		extra = append(extra, shape) // it counts the records too
	}
	fp, err := fileFingerprint(cfg.Path, extra...)
	if err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	if scanShape && shape.first == '{' && shape.topValues > 1 {
		lines = true
	}
	f, err := os.Open(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("json: %w", err)
	}
	j := &JSON{cfg: cfg, file: f, lines: lines, info: Info{Kind: "json", Name: cfg.Path, Fingerprint: fp}}
	j.startReading()
	if lines {
		j.info.Kind = "jsonl"
		j.info.Rows = counter.lines() // the reader's records: one a line
		return j, nil
	}
	if err := j.startArray(shape, scanShape); err != nil {
		f.Close()
		return nil, fmt.Errorf("json %s: %w", cfg.Path, err)
	}
	j.info.Rows = shape.records(j.arrayPath)
	return j, nil
}

// startReading reads the file from its first byte, past a BOM.
func (j *JSON) startReading() {
	j.br = bufio.NewReaderSize(j.file, jsonReadBufferSize)
	j.skew = 0
	if head, _ := j.br.Peek(len(utf8BOM)); bytes.Equal(head, utf8BOM) {
		j.br.Discard(len(utf8BOM))
		j.skew = int64(len(utf8BOM))
	}
	j.offset = j.skew
}

// Rewind starts the file over: the next record is the first one again.
func (j *JSON) Rewind(context.Context) error {
	if j.file == nil {
		return errors.New("json: Rewind after Close")
	}
	if _, err := j.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("json %s: rewind: %w", j.cfg.Path, err)
	}
	j.index, j.fatal, j.lineNo, j.done = 0, nil, 0, false
	j.pending, j.replayed, j.pendingErr = nil, 0, nil
	j.startReading()
	if j.lines {
		return nil
	}
	if err := j.enterArray(j.arrayPath); err != nil {
		return fmt.Errorf("json %s: rewind: %w", j.cfg.Path, err)
	}
	return nil
}

// startArray moves the decoder onto the first element of the users array.
func (j *JSON) startArray(shape *jsonShape, shapeKnown bool) error {
	arrayPath := j.cfg.ArrayPath
	if shapeKnown {
		switch {
		case shape.first == 0:
			return errors.New("file is empty: a JSON array or object is needed")
		case shape.first == '[':
		case shape.first != '{':
			return errors.New("file holds neither a JSON array nor an object")
		case len(shape.arrayKeys) == 1:
			arrayPath = strconv.Quote(shape.arrayKeys[0])
		case len(shape.arrayKeys) == 0:
			return errors.New("the top-level object holds no array of users; set the array path")
		default:
			return fmt.Errorf("the top-level object holds several arrays (%s); set the array path to the one holding users",
				strings.Join(shape.arrayKeys, ", "))
		}
	}
	return j.enterArray(arrayPath)
}

// enterArray consumes the file up to the opening bracket of the array at
// arrayPath ("" for the top level).
func (j *JSON) enterArray(arrayPath string) error {
	j.arrayPath = arrayPath
	j.dec = json.NewDecoder(j.br)
	j.dec.UseNumber()
	if arrayPath == "" {
		return j.expectDelim('[', "the top level")
	}
	return j.descend(arrayPath)
}

// descend walks object keys down arrayPath (dot-separated keys, or one quoted
// key) and consumes the opening bracket of the array found there. Values
// passed on the way are skipped token by token, never loaded.
func (j *JSON) descend(arrayPath string) error {
	keys := splitArrayPath(arrayPath)
	for depth, want := range keys {
		where := "the top level"
		if depth > 0 {
			where = strconv.Quote(strings.Join(keys[:depth], "."))
		}
		if err := j.expectDelim('{', where); err != nil {
			return err
		}
		if err := j.findKey(want); err != nil {
			return err
		}
	}
	return j.expectDelim('[', strconv.Quote(arrayPath))
}

// splitArrayPath splits "a.b" into keys; a quoted path ("\"a.b\"") is one key.
func splitArrayPath(p string) []string {
	if k, err := strconv.Unquote(p); err == nil && strings.HasPrefix(p, `"`) {
		return []string{k}
	}
	return strings.Split(p, ".")
}

// findKey reads keys of the current object until want, skipping other values.
func (j *JSON) findKey(want string) error {
	for j.dec.More() {
		tok, err := j.dec.Token()
		if err != nil {
			return j.positioned(err)
		}
		if key, _ := tok.(string); key == want {
			return nil
		}
		if err := j.skipValue(); err != nil {
			return err
		}
	}
	return fmt.Errorf("no key %q in the object", want)
}

// skipValue consumes one value token by token.
func (j *JSON) skipValue() error {
	depth := 0
	for {
		tok, err := j.dec.Token()
		if err != nil {
			return j.positioned(err)
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

func (j *JSON) expectDelim(want json.Delim, where string) error {
	tok, err := j.dec.Token()
	if err != nil {
		return j.positioned(err)
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		kind := "an object"
		if want == '[' {
			kind = "an array"
		}
		return fmt.Errorf("%s is not %s (found %v)", where, kind, tok)
	}
	return nil
}

// positioned adds the byte offset to a decoder error. (The offset is where
// the decoder stood; json.SyntaxError's own Offset is not exact for a
// Decoder, so it is not used.)
func (j *JSON) positioned(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("near byte %d: %w", j.dec.InputOffset()+j.skew, err)
}

// elementStart returns the byte offset of the next array element: the
// decoder stands on whitespace already skipped by More, but before the comma
// that separates elements, which Decode consumes. It looks past that comma in
// the decoder's buffer (exact unless the buffer ends just there).
func (j *JSON) elementStart() int64 {
	start := j.dec.InputOffset() + j.skew
	var b [64]byte
	n, _ := j.dec.Buffered().Read(b[:])
	if n == 0 || b[0] != ',' {
		return start
	}
	i := 1
	for i < n && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return start + int64(i)
}

// Info describes the file; Fingerprint is the SHA-256 of its bytes.
func (j *JSON) Info() Info { return j.info }

// Close closes the file.
func (j *JSON) Close() error {
	if j.file == nil {
		return nil
	}
	err := j.file.Close()
	j.file = nil
	return err
}

// Next returns the next object, io.EOF after the last one.
func (j *JSON) Next(ctx context.Context) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	if j.replayed < len(j.pending) {
		rec := j.pending[j.replayed]
		j.pending[j.replayed] = Record{}
		j.replayed++
		return rec, nil
	}
	if j.pending != nil {
		j.pending = nil
	}
	if j.pendingErr != nil {
		return Record{}, j.pendingErr
	}
	return j.next()
}

// next reads the next object from the file.
func (j *JSON) next() (Record, error) {
	if j.fatal != nil {
		return Record{}, j.fatal
	}
	if j.file == nil {
		return Record{}, errors.New("json: Next after Close")
	}
	if j.lines {
		return j.nextLine()
	}
	return j.nextElement()
}

// nextElement decodes the next array element.
func (j *JSON) nextElement() (Record, error) {
	if j.done {
		return Record{}, io.EOF
	}
	if !j.dec.More() {
		if err := j.expectDelim(']', "the end of the array"); err != nil {
			return Record{}, j.fail(fmt.Errorf("after record %d: %w", j.index, err))
		}
		j.done = true
		return Record{}, io.EOF
	}
	start := j.elementStart()
	j.index++
	var v any
	if err := j.dec.Decode(&v); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return Record{}, j.fail(fmt.Errorf("record %d starting at byte %d: %w", j.index, start, err))
	}
	rec := j.record(Position{Index: j.index, Offset: start}, v)
	if rec.Err == nil && hasReplacement(v) {
		// U+FFFD in a value: the file's own, or decoding's stand-in for
		// bytes it could not keep; the element's bytes tell.
		raw := make([]byte, j.dec.InputOffset()+j.skew-start)
		if _, err := j.file.ReadAt(raw, start); err != nil {
			return Record{}, j.fail(fmt.Errorf("record %d starting at byte %d: reading it again: %w", j.index, start, err))
		}
		j.checkText(&rec, raw)
	}
	return rec, nil
}

// checkText makes rec a RecordError when raw, its JSON text, holds a string
// decoding did not keep as written (see InvalidJSONText).
func (j *JSON) checkText(rec *Record, raw []byte) {
	if path, why, bad := InvalidJSONText(raw); bad {
		rec.Err = &RecordError{Pos: rec.Pos, Key: rec.Key, Field: path,
			Err: fmt.Errorf("%s; JSON must be UTF-8 (RFC 8259), and reading it would put U+FFFD in its place: "+
				"fix the export's encoding", why)}
		rec.Values = nil
	}
}

// hasReplacement reports whether a decoded value holds U+FFFD anywhere (in
// a string or a key).
func hasReplacement(v any) bool {
	switch v := v.(type) {
	case string:
		return strings.Contains(v, "\uFFFD")
	case map[string]any:
		for k, x := range v {
			if hasReplacement(x) || strings.Contains(k, "\uFFFD") {
				return true
			}
		}
	case []any:
		for _, x := range v {
			if hasReplacement(x) {
				return true
			}
		}
	}
	return false
}

func (j *JSON) fail(err error) error {
	j.fatal = fmt.Errorf("json %s: %w", j.cfg.Path, err)
	return j.fatal
}

// nextLine decodes the next non-blank line.
func (j *JSON) nextLine() (Record, error) {
	for {
		line, start, err := j.readLine()
		if err == io.EOF && line == nil {
			return Record{}, io.EOF
		}
		if err != nil && err != io.EOF {
			return Record{}, j.fail(fmt.Errorf("line %d: %w", j.lineNo, err))
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		j.index++
		pos := Position{Index: j.index, Line: j.lineNo, Offset: start}
		v, derr := decodeLine(line)
		if derr != nil {
			return Record{Pos: pos, Key: pos.Key(), Err: &RecordError{Pos: pos, Err: derr}}, nil
		}
		rec := j.record(pos, v)
		if rec.Err == nil {
			j.checkText(&rec, line)
		}
		return rec, nil
	}
}

// readLine returns the next line without its line ending (nil at the end),
// and the offset where it starts. The returned bytes are valid until the
// next call.
func (j *JSON) readLine() ([]byte, int64, error) {
	start := j.offset
	j.lineBuf = j.lineBuf[:0]
	for {
		chunk, err := j.br.ReadSlice('\n')
		j.offset += int64(len(chunk))
		if err == bufio.ErrBufferFull {
			j.lineBuf = append(j.lineBuf, chunk...)
			continue
		}
		line := chunk
		if len(j.lineBuf) > 0 {
			j.lineBuf = append(j.lineBuf, chunk...)
			line = j.lineBuf
		}
		if len(line) == 0 && err == io.EOF {
			return nil, start, io.EOF
		}
		j.lineNo++
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte{'\n'}), []byte{'\r'})
		return line, start, err
	}
}

// decodeLine decodes one JSON Lines line, which must hold exactly one value.
func decodeLine(line []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		var syn *json.SyntaxError
		if errors.As(err, &syn) {
			return nil, fmt.Errorf("column %d: %w", syn.Offset, err)
		}
		if err == io.ErrUnexpectedEOF {
			return nil, errors.New("the line ends inside a JSON value (truncated?)")
		}
		return nil, err
	}
	after := line[dec.InputOffset():]
	if rest := bytes.TrimLeft(after, " \t\r"); len(rest) > 0 {
		return nil, fmt.Errorf("column %d: data after the JSON value", len(line)-len(rest)+1)
	}
	return v, nil
}

// record turns a decoded value into a Record: an object with its key, or an
// error for anything else.
func (j *JSON) record(pos Position, v any) Record {
	obj, ok := v.(map[string]any)
	if !ok {
		return Record{Pos: pos, Key: pos.Key(), Err: &RecordError{Pos: pos, Err: fmt.Errorf("is %s, not an object", jsonKind(v))}}
	}
	rec := Record{Pos: pos, Values: jsonObject(obj)}
	if j.cfg.KeyPath == "" {
		return rec
	}
	key, err := jsonKey(jsonObject(obj), j.cfg.KeyPath)
	rec.Key = key
	if err != nil {
		rec.Key = pos.Key()
		rec.Err = &RecordError{Pos: pos, Field: j.cfg.KeyPath, Err: err}
	}
	return rec
}

// jsonKey renders the key value: strings trimmed, numbers as their literal
// text (never 1e+06), missing or null as "".
func jsonKey(v Values, path string) (string, error) {
	raw, ok := v.Lookup(path)
	if !ok || raw == nil {
		return "", nil
	}
	switch k := raw.(type) {
	case string:
		return strings.TrimSpace(k), nil
	case json.Number:
		return k.String(), nil
	default:
		return "", fmt.Errorf("key is %s, not a string or number", jsonKind(raw))
	}
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	default:
		return fmt.Sprintf("a %T", v)
	}
}
