package reports

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strconv"

	"github.com/gocarina/gocsv"
)

// The files with a line for every row of a run (outcomes.jsonl and
// outcomes.csv) are written by the encoders below rather than by
// encoding/json and gocsv row by row: on a million rows those spent about
// 0.3 and 0.6 s of CPU on reflection and boxing, the longest part of the
// reports' tail after a validation (docs/BENCHMARKS.md). The columns are
// still stated once, by the struct's json and csv tags, read here once per
// type; the tests compare every line with what encoding/json and gocsv
// write for the same rows. Files of a few lines (failures.csv, the
// findings) keep gocsv.

// column is one field of a flat line struct, named by its tag.
type column struct {
	name  string
	index int
	kind  reflect.Kind
}

// columnsOf lists the fields of struct type t in order, each named by its
// tag (json or csv). It accepts only what both encoders here write the
// way encoding/json and gocsv do: a tag on every field with no option,
// and string, int, int64 or bool fields.
func columnsOf(t reflect.Type, tag string) []column {
	cols := make([]column, 0, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, ok := f.Tag.Lookup(tag)
		if !ok || !plainName(name) || f.Anonymous || !f.IsExported() {
			panic(fmt.Sprintf("reports: field %s of %s needs a plain %s tag", f.Name, t, tag))
		}
		switch f.Type.Kind() {
		case reflect.String, reflect.Int, reflect.Int64, reflect.Bool:
		default:
			panic(fmt.Sprintf("reports: field %s of %s: kind %s not supported", f.Name, t, f.Type.Kind()))
		}
		if f.Type.PkgPath() != "" { // a named type might marshal itself
			panic(fmt.Sprintf("reports: field %s of %s: named type %s not supported", f.Name, t, f.Type))
		}
		cols = append(cols, column{name: name, index: i, kind: f.Type.Kind()})
	}
	return cols
}

// plainName reports whether a tag is a bare column name (lower-case
// letters, digits, underscores), which both formats write as it is.
func plainName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// jsonLines writes values of struct type T as JSON Lines, byte for byte
// what a json.Encoder with SetEscapeHTML(false) writes.
type jsonLines[T any] struct {
	cols []column
	keys []string // `{"name":` then `,"name":` ...
	// slow encodes a string that needs escaping, through encoding/json.
	slowBuf bytes.Buffer
	slow    *json.Encoder
}

func newJSONLines[T any]() *jsonLines[T] {
	j := &jsonLines[T]{cols: columnsOf(reflect.TypeFor[T](), "json")}
	for i, c := range j.cols {
		sep := ","
		if i == 0 {
			sep = "{"
		}
		j.keys = append(j.keys, sep+`"`+c.name+`":`)
	}
	j.slow = json.NewEncoder(&j.slowBuf)
	j.slow.SetEscapeHTML(false)
	return j
}

// appendLine appends v's line, newline included.
func (j *jsonLines[T]) appendLine(dst []byte, v *T) []byte {
	rv := reflect.ValueOf(v).Elem()
	for i, c := range j.cols {
		dst = append(dst, j.keys[i]...)
		f := rv.Field(c.index)
		switch c.kind {
		case reflect.String:
			dst = j.appendString(dst, f.String())
		case reflect.Int, reflect.Int64:
			dst = strconv.AppendInt(dst, f.Int(), 10)
		case reflect.Bool:
			dst = strconv.AppendBool(dst, f.Bool())
		}
	}
	return append(dst, '}', '\n')
}

// appendString quotes s as encoding/json does: printable ASCII without a
// quote or a backslash is copied; anything else goes through
// encoding/json itself.
func (j *jsonLines[T]) appendString(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			return j.appendSlow(dst, s)
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

func (j *jsonLines[T]) appendSlow(dst []byte, s string) []byte {
	j.slowBuf.Reset()
	if err := j.slow.Encode(s); err != nil { // a string always encodes
		panic(err)
	}
	return append(dst, bytes.TrimSuffix(j.slowBuf.Bytes(), []byte{'\n'})...)
}

// csvLines writes values of struct type T as CSV records, byte for byte
// what gocsv writes: the header is gocsv's; a record whose cells need no
// quoting (printable ASCII without a quote or a comma, no leading space,
// not \.) is joined here, any other goes through the encoding/csv writer
// gocsv uses, its cells taken from the fields in tag order as gocsv
// formats them.
type csvLines[T any] struct {
	out     io.Writer
	buf     []byte
	cols    []column
	rec     []string
	scratch bytes.Buffer
	slow    *gocsv.SafeCSVWriter // writes to scratch
}

// csvFlushAt is how many bytes a csvLines holds before writing them out.
const csvFlushAt = 64 << 10

// newCSVLines starts a CSV file on w with gocsv's header line for T.
func newCSVLines[T any](w io.Writer) (*csvLines[T], error) {
	c := &csvLines[T]{out: w, cols: columnsOf(reflect.TypeFor[T](), "csv")}
	c.slow = gocsv.NewSafeCSVWriter(csv.NewWriter(&c.scratch))
	c.rec = make([]string, len(c.cols))
	if err := gocsv.MarshalCSV([]T{}, c.slow); err != nil {
		return nil, err
	}
	c.buf = append(c.buf, c.scratch.Bytes()...)
	c.scratch.Reset()
	return c, nil
}

// Write adds one record.
func (c *csvLines[T]) Write(v *T) error {
	rv := reflect.ValueOf(v).Elem()
	plain := true
	for i, col := range c.cols {
		f := rv.Field(col.index)
		switch col.kind {
		case reflect.String:
			c.rec[i] = f.String()
			plain = plain && plainCell(c.rec[i])
		case reflect.Int, reflect.Int64:
			c.rec[i] = strconv.FormatInt(f.Int(), 10)
		case reflect.Bool:
			c.rec[i] = strconv.FormatBool(f.Bool())
		}
	}
	if plain {
		for i, cell := range c.rec {
			if i > 0 {
				c.buf = append(c.buf, ',')
			}
			c.buf = append(c.buf, cell...)
		}
		c.buf = append(c.buf, '\n')
	} else {
		if err := c.slow.Write(c.rec); err != nil {
			return err
		}
		c.slow.Flush()
		if err := c.slow.Error(); err != nil {
			return err
		}
		c.buf = append(c.buf, c.scratch.Bytes()...)
		c.scratch.Reset()
	}
	if len(c.buf) < csvFlushAt {
		return nil
	}
	return c.Flush()
}

// plainCell reports whether encoding/csv writes s as it is: printable
// ASCII without a quote or a comma, not starting with a space, not \.
// (anything else may be quoted, and goes through encoding/csv).
func plainCell(s string) bool {
	if s == `\.` || s != "" && s[0] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == ',' {
			return false
		}
	}
	return true
}

// Flush writes the records held so far through to the writer.
func (c *csvLines[T]) Flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	_, err := c.out.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}
