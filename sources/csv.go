package sources

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// CSVConfig says how to read a CSV file.
type CSVConfig struct {
	// Path is the file to read.
	Path string
	// Delimiter separates fields; 0 means ','.
	Delimiter rune
	// KeyColumn names the column holding the legacy user id; it must be in
	// the header. Empty: records have no Key.
	KeyColumn string
	// LazyQuotes lets a quote appear in an unquoted field and a non-doubled
	// quote in a quoted field (encoding/csv's LazyQuotes).
	LazyQuotes bool
}

// CSV streams the rows of a CSV file with a header line. Columns are whatever
// the header names (trimmed of surrounding spaces); every value is a string.
//
// What happens with bad rows:
//   - A row with more or fewer fields than the header is an error for that row
//     (a *FieldCountError inside the *RecordError); later rows are still read.
//   - A bare or stray quote is an error for that row; encoding/csv has already
//     read to the end of the line it was on, so reading goes on with the next
//     line. When the bad quote opened a quoted field that never closes, the
//     field runs to the end of the file: that is one error record saying so,
//     and then io.EOF — the rows after it cannot be told apart from the field.
//   - Empty lines are skipped (encoding/csv does so); they still count for
//     line numbers.
type CSV struct {
	cfg    CSVConfig
	file   *os.File
	reader *csv.Reader
	buf    *bufio.Reader
	cols   *csvColumns
	keyIdx int   // -1 without a key column
	skew   int64 // bytes before the csv.Reader's input: the BOM
	index  int64
	info   Info

	// Slabs amortise the allocation of rows: a record's Values point into
	// them, so a slab lives as long as one of its records does.
	rowSlab   []csvRow
	fieldSlab []string
}

// csvColumns is the header of a CSV file, shared by every row.
type csvColumns struct {
	names []string
	index map[string]int
}

// csvRow is the Values of one CSV row: fields share one backing string.
type csvRow struct {
	cols   *csvColumns
	fields []string
}

// Lookup returns the cell of the named column; false for an unknown column.
func (r *csvRow) Lookup(column string) (Value, bool) {
	i, ok := r.cols.index[column]
	if !ok || i >= len(r.fields) {
		return nil, false
	}
	return r.fields[i], true
}

// FieldCountError is a CSV row whose field count differs from the header's.
type FieldCountError struct {
	Got, Want int
}

func (e *FieldCountError) Error() string {
	return fmt.Sprintf("has %d fields, header has %d", e.Got, e.Want)
}

const (
	csvReadBufferSize = 256 << 10
	csvSlabRows       = 256
)

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// OpenCSV opens the file, hashes it for Info().Fingerprint, and reads and
// checks the header: empty or duplicate column names and a KeyColumn missing
// from the header are refused here, before any row is read.
func OpenCSV(cfg CSVConfig) (*CSV, error) {
	if cfg.Delimiter == 0 {
		cfg.Delimiter = ','
	}
	if cfg.Delimiter == '"' || cfg.Delimiter == '\r' || cfg.Delimiter == '\n' {
		return nil, fmt.Errorf("csv %s: delimiter %q cannot be used", cfg.Path, cfg.Delimiter)
	}
	var lines lineCounter
	fp, err := fileFingerprint(cfg.Path, &lines)
	if err != nil {
		return nil, fmt.Errorf("csv: %w", err)
	}
	f, err := os.Open(cfg.Path)
	if err != nil {
		return nil, fmt.Errorf("csv: %w", err)
	}
	c := &CSV{cfg: cfg, file: f, keyIdx: -1,
		info: Info{Kind: "csv", Name: cfg.Path, Fingerprint: fp, Rows: max(lines.lines()-1, 0)}}
	if err := c.start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("csv %s: %w", cfg.Path, err)
	}
	return c, nil
}

// start skips a BOM, sets up the csv.Reader and reads the header.
func (c *CSV) start() error {
	c.buf = bufio.NewReaderSize(c.file, csvReadBufferSize)
	if head, _ := c.buf.Peek(len(utf8BOM)); string(head) == string(utf8BOM) {
		c.buf.Discard(len(utf8BOM))
		c.skew = int64(len(utf8BOM))
	}
	r := csv.NewReader(c.buf)
	r.Comma = c.cfg.Delimiter
	r.LazyQuotes = c.cfg.LazyQuotes
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	c.reader = r
	header, err := r.Read()
	if err == io.EOF {
		return errors.New("file is empty: a header line is needed")
	}
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	cols, err := newCSVColumns(header)
	if err != nil {
		return err
	}
	c.cols = cols
	if c.cfg.KeyColumn != "" {
		i, ok := cols.index[strings.TrimSpace(c.cfg.KeyColumn)]
		if !ok {
			return fmt.Errorf("key column %q is not in the header (columns: %s)",
				c.cfg.KeyColumn, strings.Join(cols.names, ", "))
		}
		c.keyIdx = i
	}
	return nil
}

// Rewind starts the file over: the next record is the first row again.
func (c *CSV) Rewind(context.Context) error {
	if c.file == nil {
		return errors.New("csv: Rewind after Close")
	}
	if _, err := c.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("csv %s: rewind: %w", c.cfg.Path, err)
	}
	c.index, c.skew = 0, 0
	if err := c.start(); err != nil {
		return fmt.Errorf("csv %s: rewind: %w", c.cfg.Path, err)
	}
	return nil
}

// newCSVColumns checks a header and indexes its names.
func newCSVColumns(header []string) (*csvColumns, error) {
	cols := &csvColumns{names: make([]string, len(header)), index: make(map[string]int, len(header))}
	for i, h := range header {
		name := strings.TrimSpace(h)
		if name == "" {
			return nil, fmt.Errorf("header column %d has no name", i+1)
		}
		if j, dup := cols.index[name]; dup {
			return nil, fmt.Errorf("header names column %q twice (columns %d and %d)", name, j+1, i+1)
		}
		cols.names[i] = name
		cols.index[name] = i
	}
	return cols, nil
}

// Columns returns the header's column names, in file order.
func (c *CSV) Columns() []string {
	return append([]string(nil), c.cols.names...)
}

// Info describes the file; Fingerprint is the SHA-256 of its bytes.
func (c *CSV) Info() Info { return c.info }

// Close closes the file.
func (c *CSV) Close() error {
	if c.file == nil {
		return nil
	}
	err := c.file.Close()
	c.file = nil
	return err
}

// Next returns the next row, io.EOF after the last one.
func (c *CSV) Next(ctx context.Context) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	if c.file == nil {
		return Record{}, errors.New("csv: Next after Close")
	}
	start := c.reader.InputOffset() + c.skew
	fields, err := c.reader.Read()
	if err == io.EOF {
		return Record{}, io.EOF
	}
	c.index++
	pos := Position{Index: c.index, Offset: start}
	if err != nil { // errors.As only here: its target escapes, an allocation per row otherwise
		var parseErr *csv.ParseError
		if errors.As(err, &parseErr) {
			pos.Line = int64(parseErr.StartLine)
			return Record{Pos: pos, Key: pos.Key(), Err: &RecordError{Pos: pos, Err: c.describeParseError(parseErr)}}, nil
		}
		return Record{}, fmt.Errorf("csv %s: reading record %d after byte %d: %w", c.cfg.Path, c.index, start, err)
	}
	line, _ := c.reader.FieldPos(0)
	pos.Line = int64(line)
	key := ""
	if c.keyIdx >= 0 && c.keyIdx < len(fields) {
		key = strings.TrimSpace(fields[c.keyIdx])
	}
	if len(fields) != len(c.cols.names) {
		err := &RecordError{Pos: pos, Key: key, Err: &FieldCountError{Got: len(fields), Want: len(c.cols.names)}}
		if key == "" {
			key = pos.Key()
		}
		return Record{Pos: pos, Key: key, Err: err}, nil
	}
	return Record{Pos: pos, Key: key, Values: c.keep(fields)}, nil
}

// keep copies a reused field slice into the slabs. The strings themselves
// are already fresh: encoding/csv slices each record out of one new string.
func (c *CSV) keep(fields []string) *csvRow {
	if len(c.rowSlab) == 0 {
		c.rowSlab = make([]csvRow, csvSlabRows)
	}
	if len(c.fieldSlab) < len(fields) {
		c.fieldSlab = make([]string, csvSlabRows*len(c.cols.names))
	}
	row := &c.rowSlab[0]
	c.rowSlab = c.rowSlab[1:]
	n := len(fields)
	row.cols = c.cols
	row.fields = c.fieldSlab[:n:n]
	c.fieldSlab = c.fieldSlab[n:]
	copy(row.fields, fields)
	return row
}

// describeParseError turns encoding/csv's error into one that says what the
// person must fix, noticing when an unclosed quote swallowed the file's end.
func (c *CSV) describeParseError(e *csv.ParseError) error {
	if errors.Is(e.Err, csv.ErrQuote) && e.Line > e.StartLine {
		if _, err := c.buf.Peek(1); err == io.EOF {
			return fmt.Errorf("quoted field opened on line %d never closes: lines %d-%d were read as one field and the rest of the file is lost: %w",
				e.StartLine, e.StartLine, e.Line, e.Err)
		}
	}
	if e.Line == e.StartLine {
		return fmt.Errorf("column %d: %w", e.Column, e.Err)
	}
	return fmt.Errorf("line %d, column %d: %w", e.Line, e.Column, e.Err)
}
