package mapping

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/sources"
)

// vals is a map-backed sources.Values for tests.
type vals map[string]any

func (v vals) Lookup(path string) (sources.Value, bool) {
	x, ok := v[path]
	return x, ok
}

// rec builds a record with key "u1" unless v holds "_key".
func rec(v vals) sources.Record {
	key := "u1"
	if k, ok := v["_key"]; ok {
		key = k.(string)
	}
	return sources.Record{Pos: sources.Position{Index: 1, Line: 2}, Key: key, Values: v}
}

// mustParse compiles a mapping written in a test.
func mustParse(t testing.TB, yaml string) *Mapping {
	t.Helper()
	m, err := Parse([]byte(yaml))
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, yaml)
	}
	return m
}

// oneField compiles a mapping of a single field spec, with no required
// identifiers.
func oneField(t testing.TB, name, spec string) *Mapping {
	t.Helper()
	return mustParse(t, "version: 1\nkey: id\nfields:\n  "+name+": "+spec+"\n")
}

// requestJSON renders a request as the client would send it.
func requestJSON(t testing.TB, p any) string {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// codes lists field:code of errors, for compact comparisons.
func codes(errs FieldErrors) []string {
	var out []string
	for _, e := range errs {
		out = append(out, e.Field+":"+e.Code)
	}
	return out
}

// sampleRecords reads the sample CSV through the real CSV source.
func sampleRecords(t testing.TB, m *Mapping) []sources.Record {
	t.Helper()
	src, err := sources.OpenCSV(sources.CSVConfig{Path: "../samples/legacy_users.csv", KeyColumn: m.Key()})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var out []sources.Record
	for {
		r, err := src.Next(context.Background())
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Err != nil {
			t.Fatalf("sample row %s: %v", r.Pos, r.Err)
		}
		out = append(out, r)
	}
}

func loadSample(t testing.TB) *Mapping {
	t.Helper()
	m, err := Load("../samples/legacy_users.mapping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func joinErrs(errs FieldErrors) string {
	var b strings.Builder
	for _, e := range errs {
		b.WriteString(e.Field + "|" + e.Source + "|" + e.Code + "|" + e.Reason + "\n")
	}
	return b.String()
}
