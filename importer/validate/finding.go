package validate

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/clerkmigrate/clerkmigrate/reports"
)

// Finding is one problem of one row. It never holds a secret value: reasons
// come from the mapping (which names no secret) or from this package (which
// names identifiers such as emails, never passwords, digests, TOTP secrets
// or backup codes).
type Finding struct {
	Pos    int64  `json:"pos"`            // the row's 1-based index in the source
	Line   int64  `json:"line,omitempty"` // the line where the row starts, when the format has lines
	Key    string `json:"key"`            // the legacy user id
	Field  string `json:"field"`          // the CreateUser property at fault
	Source string `json:"source,omitempty"`
	Code   string `json:"code"`
	Reason string `json:"reason"`
	// Severity is SeverityError, or SeverityWarning for a finding that
	// leaves its row valid (mapping.FieldError.Warning).
	Severity string `json:"severity"`
}

// Severities of a Finding.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

func severityOf(warning bool) string {
	if warning {
		return SeverityWarning
	}
	return SeverityError
}

// Report converts the finding for the reports package.
func (f Finding) Report() reports.Finding {
	reason := f.Reason
	if f.Severity == SeverityWarning {
		reason = "warning (the row stays valid): " + reason
	}
	return reports.Finding{Pos: f.Pos, Key: f.Key, Field: f.Field, Code: f.Code, Reason: reason}
}

// Names of the findings files written in the run's directory.
const (
	FindingsJSONLName = "findings.jsonl"
	FindingsCSVName   = "findings.csv"
)

// Codes of the findings this package adds to the mapping's.
const (
	CodeDuplicateEmail      = "duplicate_email"       // an email address (any case) on several rows
	CodeDuplicatePhone      = "duplicate_phone"       // a phone number (E.164) on several rows
	CodeDuplicateUsername   = "duplicate_username"    // a username (any case) on several rows
	CodeDuplicateExternalID = "duplicate_external_id" // a legacy key on several rows
	CodeHasherAmbiguous     = "hasher_ambiguous"      // --detect-hasher: the digest fits several hashers
	CodeExistsInTarget      = "exists_in_target"      // --check-target: a Clerk user already has this external_id
	CodeEmailInTarget       = "email_exists_in_target"
)

// Finding flags carried through the sorters.
const (
	flagInvalidates = 1 // the finding makes a row that mapped cleanly invalid
	flagWarning     = 2 // the finding is a warning
)

// appendFinding encodes f after an 8-byte big-endian position key.
func appendFinding(buf []byte, f *Finding, flags byte) []byte {
	buf = binary.BigEndian.AppendUint64(buf, uint64(f.Pos))
	if f.Severity == SeverityWarning {
		flags |= flagWarning
	}
	buf = append(buf, flags)
	buf = binary.AppendUvarint(buf, uint64(f.Line))
	for _, s := range [...]string{f.Key, f.Field, f.Source, f.Code, f.Reason} {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	return buf
}

// decodeFinding reverses appendFinding.
func decodeFinding(rec []byte) (Finding, byte, error) {
	bad := errors.New("validate: corrupt finding record")
	if len(rec) < 9 {
		return Finding{}, 0, bad
	}
	f := Finding{Pos: int64(binary.BigEndian.Uint64(rec))}
	flags := rec[8]
	f.Severity = severityOf(flags&flagWarning != 0)
	rec = rec[9:]
	line, w := binary.Uvarint(rec)
	if w <= 0 {
		return Finding{}, 0, bad
	}
	f.Line, rec = int64(line), rec[w:]
	for _, dst := range [...]*string{&f.Key, &f.Field, &f.Source, &f.Code, &f.Reason} {
		n, w := binary.Uvarint(rec)
		if w <= 0 || uint64(len(rec)-w) < n {
			return Finding{}, 0, bad
		}
		*dst, rec = string(rec[w:w+int(n)]), rec[w+int(n):]
	}
	return f, flags, nil
}

// spillFile is an anonymous temporary file of length-prefixed records,
// written once and read back once.
type spillFile struct {
	f   *os.File
	w   *bufio.Writer
	r   *bufio.Reader
	cur []byte
	n   int64
}

func newSpillFile(dir string) (*spillFile, error) {
	f, err := os.CreateTemp(dir, "clerkmigrate-validate-*.spill")
	if err != nil {
		return nil, fmt.Errorf("validate: temporary file: %w", err)
	}
	os.Remove(f.Name())
	return &spillFile{f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

func (s *spillFile) Add(rec []byte) error {
	var lb [binary.MaxVarintLen32]byte
	s.w.Write(lb[:binary.PutUvarint(lb[:], uint64(len(rec)))])
	_, err := s.w.Write(rec)
	s.n++
	return err
}

// rewind ends writing and starts reading from the beginning.
func (s *spillFile) rewind() error {
	if err := s.w.Flush(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	s.r = bufio.NewReaderSize(s.f, 64<<10)
	return nil
}

// Next returns the next record, valid until the following call.
func (s *spillFile) Next() ([]byte, bool, error) {
	n, err := binary.ReadUvarint(s.r)
	if errors.Is(err, io.EOF) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if cap(s.cur) < int(n) {
		s.cur = make([]byte, n)
	}
	s.cur = s.cur[:n]
	if _, err := io.ReadFull(s.r, s.cur); err != nil {
		return nil, false, err
	}
	return s.cur, true, nil
}

func (s *spillFile) Close() error { return s.f.Close() }

// findingsFiles writes findings.jsonl and findings.csv side by side, each to
// a temporary name renamed into place by Close.
type findingsFiles struct {
	jsonlPath, csvPath string
	jf, cf             *os.File
	jw                 *bufio.Writer
	enc                *json.Encoder
	cw                 *reports.CSV[findingRow]
	cbuf               *bufio.Writer
}

// findingRow is a line of findings.csv.
type findingRow struct {
	Pos      int64    `csv:"pos"`
	Line     lineCell `csv:"line"`
	Key      string   `csv:"key"`
	Field    string   `csv:"field"`
	Source   string   `csv:"source"`
	Code     string   `csv:"code"`
	Reason   string   `csv:"reason"`
	Severity string   `csv:"severity"`
}

// lineCell is a line number, empty when the format has no lines.
type lineCell int64

// MarshalCSV writes the number, or nothing for 0.
func (l lineCell) MarshalCSV() (string, error) {
	if l <= 0 {
		return "", nil
	}
	return strconv.FormatInt(int64(l), 10), nil
}

func createFindingsFiles(dir string) (*findingsFiles, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	ff := &findingsFiles{jsonlPath: filepath.Join(dir, FindingsJSONLName), csvPath: filepath.Join(dir, FindingsCSVName)}
	var err error
	if ff.jf, err = os.OpenFile(ff.jsonlPath+".tmp", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600); err != nil {
		return nil, err
	}
	if ff.cf, err = os.OpenFile(ff.csvPath+".tmp", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600); err != nil {
		ff.jf.Close()
		return nil, err
	}
	ff.jw = bufio.NewWriterSize(ff.jf, 256<<10)
	ff.enc = json.NewEncoder(ff.jw)
	ff.enc.SetEscapeHTML(false)
	ff.cbuf = bufio.NewWriterSize(ff.cf, 256<<10)
	if ff.cw, err = reports.NewCSV[findingRow](ff.cbuf); err != nil {
		ff.jf.Close()
		ff.cf.Close()
		return nil, err
	}
	return ff, nil
}

func (ff *findingsFiles) write(f *Finding) error {
	g := *f
	g.Reason = reports.Scrub(g.Reason)
	if err := ff.enc.Encode(&g); err != nil {
		return err
	}
	return ff.cw.Write(findingRow{Pos: g.Pos, Line: lineCell(g.Line), Key: csvSafe(g.Key), Field: g.Field,
		Source: g.Source, Code: g.Code, Reason: g.Reason, Severity: g.Severity})
}

// csvSafe keeps a spreadsheet from reading a key as a formula.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}

// close flushes both files and renames them into place; with abort it
// removes them.
func (ff *findingsFiles) close(abort bool) error {
	errs := []error{ff.jw.Flush(), ff.cw.Flush(), ff.cbuf.Flush(), ff.jf.Close(), ff.cf.Close()}
	if err := errors.Join(errs...); err != nil || abort {
		os.Remove(ff.jsonlPath + ".tmp")
		os.Remove(ff.csvPath + ".tmp")
		return err
	}
	return errors.Join(os.Rename(ff.jsonlPath+".tmp", ff.jsonlPath), os.Rename(ff.csvPath+".tmp", ff.csvPath))
}
