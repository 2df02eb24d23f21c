package sources

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeTemp writes content to a file named name in a fresh temporary directory.
func writeTemp(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readAll drains a source, failing the test on a fatal error.
func readAll(t testing.TB, src Source) []Record {
	t.Helper()
	var recs []Record
	for {
		rec, err := src.Next(context.Background())
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Fatalf("Next after %d records: %v", len(recs), err)
		}
		recs = append(recs, rec)
	}
}

// lookupString returns a field as a string, or "<missing>".
func lookupString(v Values, path string) string {
	if v == nil {
		return "<no values>"
	}
	got, ok := v.Lookup(path)
	if !ok {
		return "<missing>"
	}
	s, ok := got.(string)
	if !ok {
		return "<not a string>"
	}
	return s
}

func openCSVT(t *testing.T, cfg CSVConfig) *CSV {
	t.Helper()
	c, err := OpenCSV(cfg)
	if err != nil {
		t.Fatalf("OpenCSV: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCSVReadsAwkwardFile(t *testing.T) {
	content := "\xEF\xBB\xBFid,email,name\r\n" + // line 1: BOM, CRLF
		" u1 ,a@example.com,Zoë\r\n" + // line 2: key with spaces, unicode
		"u2,b@example.com,\"two\r\nline\"\r\n" + // lines 3-4: embedded newline
		"u3,c@example.com\r\n" + // line 5: ragged (too few)
		"\r\n" + // line 6: empty, skipped
		"u4,d@example.com,D,extra\r\n" + // line 7: ragged (too many)
		"u5,,\"quoted \"\"name\"\"\"\r\n" // line 8: empty cell, doubled quotes
	path := writeTemp(t, "users.csv", content)
	c := openCSVT(t, CSVConfig{Path: path, KeyColumn: "id"})
	if got := strings.Join(c.Columns(), "|"); got != "id|email|name" {
		t.Fatalf("Columns = %q", got)
	}
	recs := readAll(t, c)
	type want struct {
		index, line int64
		key, name   string
		fieldErr    string
	}
	wants := []want{
		{1, 2, "u1", "Zoë", ""},
		{2, 3, "u2", "two\nline", ""},
		{3, 5, "u3", "<no values>", "line 5 (key \"u3\"): has 2 fields, header has 3"},
		{4, 7, "u4", "<no values>", "line 7 (key \"u4\"): has 4 fields, header has 3"},
		{5, 8, "u5", `quoted "name"`, ""},
	}
	if len(recs) != len(wants) {
		t.Fatalf("got %d records, want %d", len(recs), len(wants))
	}
	for i, w := range wants {
		r := recs[i]
		if r.Pos.Index != w.index || r.Pos.Line != w.line || r.Key != w.key {
			t.Errorf("record %d: pos %+v key %q, want index %d line %d key %q", i, r.Pos, r.Key, w.index, w.line, w.key)
		}
		if got := lookupString(r.Values, "name"); got != w.name {
			t.Errorf("record %d: name %q, want %q", i, got, w.name)
		}
		if w.fieldErr == "" && r.Err != nil {
			t.Errorf("record %d: unexpected error %v", i, r.Err)
		}
		if w.fieldErr != "" {
			var re *RecordError
			var fc *FieldCountError
			if !errors.As(r.Err, &re) || !errors.As(r.Err, &fc) || r.Err.Error() != w.fieldErr {
				t.Errorf("record %d: error %v, want %q", i, r.Err, w.fieldErr)
			}
		}
	}
	// Kept records are not overwritten by later reads, and empty cells are "".
	if got := lookupString(recs[0].Values, "email"); got != "a@example.com" {
		t.Errorf("first record email changed to %q", got)
	}
	if got := lookupString(recs[4].Values, "email"); got != "" {
		t.Errorf("empty cell = %q", got)
	}
	if _, ok := recs[0].Values.Lookup("nope"); ok {
		t.Error("Lookup of an unknown column returned true")
	}
	// Offsets point at each record's first byte (or, before a record that
	// follows skipped empty lines, at those lines).
	for i, prefix := range []string{" u1 ,", "u2,", "u3,", "\r\nu4,", "u5,"} {
		if want := int64(strings.Index(content, prefix)); recs[i].Pos.Offset != want {
			t.Errorf("record %d: offset %d, want %d", i+1, recs[i].Pos.Offset, want)
		}
	}
}

func TestCSVDelimiters(t *testing.T) {
	tests := []struct {
		name      string
		delimiter rune
		content   string
	}{
		{"semicolon", ';', "id;email\n1;a@x.io\n"},
		{"tab", '\t', "id\temail\n1\ta@x.io\n"},
		{"pipe", '|', "id|email\n1|a@x.io\n"},
		{"default comma", 0, "id,email\n1,a@x.io\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := openCSVT(t, CSVConfig{Path: writeTemp(t, "u.csv", tt.content), Delimiter: tt.delimiter, KeyColumn: "id"})
			recs := readAll(t, c)
			if len(recs) != 1 || recs[0].Key != "1" || lookupString(recs[0].Values, "email") != "a@x.io" {
				t.Fatalf("records %+v", recs)
			}
		})
	}
}

func TestCSVRefusesBadHeaders(t *testing.T) {
	tests := []struct {
		name, content, key, wantErr string
	}{
		{"duplicate", "id,email,id\n", "", `header names column "id" twice (columns 1 and 3)`},
		{"duplicate after trim", "id,email, email\n", "", `column "email" twice`},
		{"empty name", "id,,email\n", "", "header column 2 has no name"},
		{"missing key column", "id,email\n", "user_id", `key column "user_id" is not in the header (columns: id, email)`},
		{"empty file", "", "", "file is empty"},
		{"only a BOM", "\xEF\xBB\xBF", "", "file is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenCSV(CSVConfig{Path: writeTemp(t, "u.csv", tt.content), KeyColumn: tt.key})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
	if _, err := OpenCSV(CSVConfig{Path: filepath.Join(t.TempDir(), "absent.csv")}); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: err = %v", err)
	}
}

func TestCSVBadQuotes(t *testing.T) {
	t.Run("bare quote is an error for its row only", func(t *testing.T) {
		content := "id,name\n1,ok\n2,bad\"quote\n3,\"stray\"x\n4,fine\n"
		recs := readAll(t, openCSVT(t, CSVConfig{Path: writeTemp(t, "u.csv", content), KeyColumn: "id"}))
		if len(recs) != 4 {
			t.Fatalf("got %d records, want 4", len(recs))
		}
		for i, wantErr := range []string{"", "line 3: column 6: " + csv.ErrBareQuote.Error(), "line 4: column 9: " + csv.ErrQuote.Error(), ""} {
			r := recs[i]
			if r.Pos.Index != int64(i+1) || r.Pos.Line != int64(i+2) {
				t.Errorf("record %d: pos %+v", i, r.Pos)
			}
			got := ""
			if r.Err != nil {
				got = r.Err.Error()
			}
			if got != wantErr {
				t.Errorf("record %d: err %q, want %q", i, got, wantErr)
			}
		}
		if recs[3].Key != "4" || lookupString(recs[3].Values, "name") != "fine" {
			t.Errorf("row after the bad ones: %+v", recs[3])
		}
	})
	t.Run("lazy quotes accept them", func(t *testing.T) {
		content := "id,name\n1,bad\"quote\n"
		recs := readAll(t, openCSVT(t, CSVConfig{Path: writeTemp(t, "u.csv", content), LazyQuotes: true}))
		if len(recs) != 1 || lookupString(recs[0].Values, "name") != `bad"quote` {
			t.Fatalf("records %+v", recs)
		}
	})
	t.Run("unclosed quote swallows the rest and says so", func(t *testing.T) {
		content := "id,name\n1,ok\n2,\"never closed\n3,lost\n4,lost\n"
		recs := readAll(t, openCSVT(t, CSVConfig{Path: writeTemp(t, "u.csv", content)}))
		if len(recs) != 2 || recs[0].Err != nil || recs[1].Err == nil {
			t.Fatalf("records %+v", recs)
		}
		if msg := recs[1].Err.Error(); !strings.Contains(msg, "quoted field opened on line 3 never closes") ||
			!strings.Contains(msg, "rest of the file is lost") {
			t.Fatalf("error %q", msg)
		}
	})
}

func TestCSVHugeFieldAndHeaderOnly(t *testing.T) {
	big := strings.Repeat("é", 1<<19) // 1 MiB of UTF-8
	path := writeTemp(t, "u.csv", "id,blob\n1,\""+big+"\"\n2,small\n")
	recs := readAll(t, openCSVT(t, CSVConfig{Path: path, KeyColumn: "id"}))
	if len(recs) != 2 || lookupString(recs[0].Values, "blob") != big || recs[1].Pos.Line != 3 {
		t.Fatalf("huge field not read back whole (%d records)", len(recs))
	}
	if recs := readAll(t, openCSVT(t, CSVConfig{Path: writeTemp(t, "h.csv", "id,email\n")})); len(recs) != 0 {
		t.Fatalf("header-only file gave %d records", len(recs))
	}
}

func TestCSVFingerprintIsSHA256OfFile(t *testing.T) {
	content := "id\n1\n"
	path := writeTemp(t, "u.csv", content)
	sum := sha256.Sum256([]byte(content))
	c := openCSVT(t, CSVConfig{Path: path})
	if got, want := c.Info(), (Info{Kind: "csv", Name: path, Fingerprint: "sha256:" + hex.EncodeToString(sum[:]), Rows: 1}); got != want {
		t.Fatalf("Info = %+v, want %+v", got, want)
	}
	other := openCSVT(t, CSVConfig{Path: writeTemp(t, "u.csv", "id\n2\n")})
	if other.Info().Fingerprint == c.Info().Fingerprint {
		t.Fatal("different files share a fingerprint")
	}
}

func TestCSVStopsOnCancelledContextAndAfterClose(t *testing.T) {
	c := openCSVT(t, CSVConfig{Path: writeTemp(t, "u.csv", "id\n1\n")})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Next(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled: err = %v", err)
	}
	c.Close()
	if _, err := c.Next(context.Background()); err == nil || err == io.EOF {
		t.Fatalf("after Close: err = %v", err)
	}
}

// TestCSVBrokenRowsAreKeyedByLine: a row whose key cannot be read (a
// stray quote, a ragged row with an empty key cell) is keyed "line:N", so
// that reports list it and --only-keys can select it once fixed; a ragged
// row with its key keeps it.
func TestCSVBrokenRowsAreKeyedByLine(t *testing.T) {
	path := writeTemp(t, "users.csv", "id,email\n1,a@b.co\n2,c\"d@e.co\n,f@g.co,extra\n4,h@i.co,extra\n")
	c, err := OpenCSV(CSVConfig{Path: path, KeyColumn: "id"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var got []string
	for {
		rec, err := c.Next(context.Background())
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, fmt.Sprintf("%s/%v", rec.Key, rec.Err != nil))
	}
	if want := "1/false line:3/true line:4/true 4/true"; strings.Join(got, " ") != want {
		t.Errorf("keys %v, want %s", got, want)
	}
}
