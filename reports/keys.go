package reports

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
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

func eachCSVKey(name string, r io.Reader, col int, fn func(string) error) error {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	if _, err := cr.Read(); err != nil { // the header
		return &KeysError{Path: name, Line: 1, Err: err}
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			line := 0
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.StartLine
			}
			return &KeysError{Path: name, Line: line, Err: err}
		}
		line, _ := cr.FieldPos(0)
		if col >= len(rec) {
			if len(rec) == 1 && rec[0] == "" {
				continue
			}
			return &KeysError{Path: name, Line: line, Err: fmt.Errorf("no key column (want column %d, found %d)", col+1, len(rec))}
		}
		key := strings.TrimSpace(rec[col])
		if key == "" {
			return &KeysError{Path: name, Line: line, Err: errors.New("empty key")}
		}
		if err := fn(key); err != nil {
			return err
		}
	}
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
