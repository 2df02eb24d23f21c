package validate

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"

	"github.com/clerkmigrate/clerkmigrate/importer/verdict"
	"github.com/clerkmigrate/clerkmigrate/reports"
)

// reportFinding converts a finding for the reports package.
func reportFinding(f verdict.Finding) reports.Finding {
	reason := f.Reason
	if f.Severity == verdict.SeverityWarning {
		reason = "warning (the row stays valid): " + reason
	}
	return reports.Finding{Pos: f.Pos, Key: f.Key, Field: f.Field, Code: f.Code, Reason: reason}
}

// Codes of the findings this package adds to the mapping's and verdict's.
const (
	CodeHasherAmbiguous = "hasher_ambiguous" // --detect-hasher: the digest fits several hashers
	CodeExistsInTarget  = "exists_in_target" // --check-target: a Clerk user already has this external_id
	CodeEmailInTarget   = "email_exists_in_target"
)

// Names of the findings files written in the run's directory.
const (
	FindingsJSONLName = "findings.jsonl"
	FindingsCSVName   = "findings.csv"
)

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

func (ff *findingsFiles) write(f *verdict.Finding) error {
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
