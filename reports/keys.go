package reports

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/gocarina/gocsv"
)

// KeysError is a problem in a keys file, with the line it was found on.
type KeysError struct {
	Path string
	Line int
	Err  error
}

func (e *KeysError) Error() string {
	return fmt.Sprintf("reports: keys file %s, line %d: %v", e.Path, e.Line, e.Err)
}

func (e *KeysError) Unwrap() error { return e.Err }

// ReadKeys reads the keys of a keys file (see EachKey) into a set.
func ReadKeys(path string) (map[string]struct{}, error) {
	keys := make(map[string]struct{})
	err := EachKeyInFile(path, func(key string) error {
		keys[key] = struct{}{}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return keys, nil
}

// EachKeyInFile opens path and calls EachKey on it.
func EachKeyInFile(path string, fn func(key string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("reports: keys file: %w", err)
	}
	defer f.Close()
	return EachKey(path, f, fn)
}

// EachKey streams the keys of a keys file to fn, in file order. Two forms
// are read:
//
//   - a CSV file whose header has a column named "key" (failures.csv puts
//     it first): the values of that column;
//   - otherwise, one key per line (surrounding spaces trimmed).
//
// Blank lines are skipped, as are lines starting with '#' in the plain
// form. name only labels errors.
func EachKey(name string, r io.Reader, fn func(key string) error) error {
	br := bufio.NewReader(r)
	first, err := br.Peek(4096)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		return &KeysError{Path: name, Line: 1, Err: err}
	}
	if col, ok := keyColumn(first); ok {
		return eachCSVKey(name, br, col, fn)
	}
	return eachPlainKey(name, br, fn)
}

// keyColumn finds the "key" column in the header line of a CSV, if the
// first line is one.
func keyColumn(head []byte) (int, bool) {
	line, _, _ := strings.Cut(string(head), "\n")
	line = strings.TrimPrefix(strings.TrimRight(line, "\r"), "\ufeff")
	rec, err := csv.NewReader(strings.NewReader(line)).Read()
	if err != nil {
		return 0, false
	}
	for i, f := range rec {
		if strings.EqualFold(strings.TrimSpace(f), "key") {
			return i, true
		}
	}
	return 0, false
}

// keyRow is a row of a keys CSV as gocsv reads it: the key column, and
// the line the row starts on (added by keyRows).
type keyRow struct {
	Key  string `csv:"key"`
	Line int    `csv:"__line"`
}

// eachCSVKey reads the key column through gocsv, one row at a time.
func eachCSVKey(name string, r io.Reader, col int, fn func(string) error) error {
	rows := &keyRows{r: csv.NewReader(r), col: col}
	rows.r.FieldsPerRecord = -1
	ch := make(chan keyRow)
	done := make(chan error, 1)
	go func() { done <- gocsv.UnmarshalDecoderToChan(rows, ch) }()
	var ferr error
	for row := range ch { // read to the end, so that the decoder finishes
		if ferr != nil {
			continue
		}
		key := strings.TrimSpace(row.Key)
		if key == "" {
			ferr = &KeysError{Path: name, Line: row.Line, Err: errors.New("empty key")}
			continue
		}
		ferr = fn(key)
	}
	if err := <-done; err != nil {
		var ke *KeysError
		if errors.As(err, &ke) {
			ke.Path = name
		}
		return err
	}
	return ferr
}

// keyRows is a gocsv.SimpleDecoder over encoding/csv that names the key
// column "key" in the header (whatever its case and spaces) and adds to
// every row a column __line with the line the row starts on, so that a
// problem found in a row decoded ahead of the caller still names its line.
// A row too short to hold the key column, or one encoding/csv cannot
// parse, is a *KeysError with its line.
type keyRows struct {
	r      *csv.Reader
	col    int
	header bool
}

// GetCSVRow returns the next row with its line appended.
func (k *keyRows) GetCSVRow() ([]string, error) {
	rec, err := k.r.Read()
	if errors.Is(err, io.EOF) {
		return nil, io.EOF
	}
	if err != nil {
		line := 0
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			line = pe.StartLine
		}
		return nil, &KeysError{Line: line, Err: err}
	}
	line, _ := k.r.FieldPos(0)
	if !k.header {
		k.header = true
		rec[k.col] = "key"
		return append(rec, "__line"), nil
	}
	if k.col >= len(rec) {
		return nil, &KeysError{Line: line, Err: fmt.Errorf("no key column (want column %d, found %d)", k.col+1, len(rec))}
	}
	return append(rec, strconv.Itoa(line)), nil
}

// GetCSVRows is not used by the streaming decode.
func (k *keyRows) GetCSVRows() ([][]string, error) {
	return nil, errors.New("reports: keyRows streams; use GetCSVRow")
}

func eachPlainKey(name string, r io.Reader, fn func(string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		key := strings.TrimSpace(sc.Text())
		if line == 1 {
			key = strings.TrimSpace(strings.TrimPrefix(key, "\ufeff"))
		}
		if key == "" || strings.HasPrefix(key, "#") {
			continue
		}
		if err := fn(key); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return &KeysError{Path: name, Line: 0, Err: err}
	}
	return nil
}
