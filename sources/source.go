// Package sources streams legacy users out of the systems they live in (CSV,
// JSON, JSON Lines, Postgres), one record at a time, with a stable position and
// key per record so that runs can resume and reports can point at rows.
//
// To add a source:
//
//  1. Write a type with Next, Info and Close (the Source interface below);
//     Next must read one record at a time: memory must not grow with the input.
//  2. Give every record its Position (Index always; Line and Offset where the
//     format has them) and its Key (the legacy user id, from the key column or path).
//  3. A problem with one record goes into Record.Err as a *RecordError; the
//     next call goes on with the next record. Only a source broken beyond
//     recovery returns an error from Next.
//  4. Run the shared adapter tests (sources_test.go) against it.
//
// The CSV reader is encoding/csv, not gocsv (the project's CSV library,
// which the reports use for their fixed columns): gocsv decodes into structs
// whose columns are known at compile time, and its only way to stream
// arbitrary headers (CSVToChanMaps) allocates a map per row, panics on a
// row shorter than the header, stops at the first malformed row, knows no
// line numbers and takes its delimiter from a process-wide setting. A
// source must stream any header, give every record its line, and turn a
// bad row into that row's error while reading on.
package sources

import (
	"context"
	"fmt"
	"strings"
)

// Position says where a record sits in its source.
type Position struct {
	// Index is the 1-based ordinal of the record in the source. It is always
	// set, is stable across runs over the same data, and orders records.
	Index int64
	// Line is the 1-based line where the record starts (CSV, JSON Lines); 0
	// where the format has no lines that matter.
	Line int64
	// Offset is the byte offset where the record starts, -1 when unknown.
	Offset int64
}

// String names the position for a person: "line 12", "record 7".
func (p Position) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("line %d", p.Line)
	}
	return fmt.Sprintf("record %d", p.Index)
}

// Key names the position as a key, for a record whose own key could not be
// read (a broken JSON Lines line, a CSV row with a stray quote): "line:17",
// or "record:7" where the format has no lines. It is what such a record's
// Key holds, so that reports list it and --only-keys can select it again
// once the line is fixed.
func (p Position) Key() string {
	if p.Line > 0 {
		return fmt.Sprintf("line:%d", p.Line)
	}
	return fmt.Sprintf("record:%d", p.Index)
}

// Value is one field's value as the source holds it: nil, string, bool,
// int64, float64, json.Number, time.Time, []byte, []any or map[string]any.
type Value = any

// Values looks up a record's fields by column name (CSV, SQL) or by path into
// nested objects and arrays (JSON: "app_metadata.roles", "identities[0].provider").
type Values interface {
	Lookup(path string) (Value, bool)
}

// Record is one legacy user as its source holds it.
type Record struct {
	Pos Position
	// Key is the legacy user id (it becomes external_id); empty when the key
	// field is missing or blank, which the mapping reports for this row.
	// A record the source could not read (Err set) and whose key it could
	// not read either has its position's key: "line:17" (Position.Key).
	Key string
	// Values are the record's fields; nil when Err says nothing could be read.
	Values Values
	// Err is a problem with this record only (a ragged CSV row, a broken JSON
	// record); the source goes on with the next one.
	Err error
}

// Source streams records. Next returns io.EOF after the last record; any other
// error means the source cannot go on (a file broken beyond recovery, a lost
// database connection) and names where it stopped.
type Source interface {
	Next(ctx context.Context) (Record, error)
	Info() Info
	Close() error
}

// Rewinder is a Source that can be read again from its first record and
// yields the same records: a file from its start, Postgres within the same
// snapshot. The importer reads its source twice (the duplicate check, then
// the import).
type Rewinder interface {
	Rewind(ctx context.Context) error
}

var (
	_ Rewinder = (*CSV)(nil)
	_ Rewinder = (*JSON)(nil)
	_ Rewinder = (*Postgres)(nil)
)

// Info describes a source for the run ledger and the reports.
type Info struct {
	Kind string // "csv", "json", "jsonl", "postgres"
	Name string // a file path or a redacted connection description; never a password
	// Fingerprint identifies the data (a hash of the file's bytes, or of the
	// query and snapshot), so that a resume over different data is refused.
	Fingerprint string
	// Rows estimates the number of records, for a progress display: a CSV's
	// or JSON Lines file's lines and a JSON array's elements, counted in the
	// fingerprint pass; a Postgres read's count(*) in its snapshot (the
	// planner's estimate when the count takes over 5 s); 0 when unknown.
	Rows int64
}

// RecordError is a problem with one record, carrying its position, like
// encoding/csv's ParseError.
type RecordError struct {
	Pos   Position
	Key   string // the legacy key, when it could be read
	Field string // the column or path at fault, when one is
	Err   error
}

func (e *RecordError) Error() string {
	var b strings.Builder
	b.WriteString(e.Pos.String())
	if e.Key != "" {
		fmt.Fprintf(&b, " (key %q)", e.Key)
	}
	if e.Field != "" {
		fmt.Fprintf(&b, ", field %q", e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *RecordError) Unwrap() error { return e.Err }
