package sources

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// Spec says which source to open, in the terms of the command line.
type Spec struct {
	// Kind is "csv", "tsv", "json", "jsonl" or "postgres". Empty: from the
	// location, a postgres:// or postgresql:// URL, or the file extension
	// (.csv, .tsv, .json, .jsonl, .ndjson).
	Kind string
	// Location is the file path, or the Postgres connection string (empty
	// with Kind "postgres": the PG* environment variables).
	Location string
	// KeyPath is the key column (CSV, Postgres) or key path (JSON).
	KeyPath string

	// Delimiter separates CSV fields; 0: ',' (a tab for .tsv / "tsv").
	Delimiter rune
	// LazyQuotes relaxes CSV quoting (see CSVConfig).
	LazyQuotes bool

	// ArrayPath finds the users array inside a JSON object (see JSONConfig).
	ArrayPath string

	// Table or Query selects the Postgres rows (see PostgresConfig).
	Table, Query string
	// UpdatedAtColumn and Since select rows changed since a previous run.
	UpdatedAtColumn string
	Since           time.Time
	// BatchSize is the Postgres rows per round trip; 0 means 1000.
	BatchSize int
	// BytesEncoding renders bytea: "hex" (default) or "base64".
	BytesEncoding string
}

// Open opens the source a Spec describes.
func Open(ctx context.Context, spec Spec) (Source, error) {
	kind, err := specKind(spec)
	if err != nil {
		return nil, err
	}
	// Each branch returns nil explicitly on error: a typed nil pointer in the
	// Source interface would not compare equal to nil.
	switch kind {
	case "csv", "tsv":
		delim := spec.Delimiter
		if delim == 0 && kind == "tsv" {
			delim = '\t'
		}
		src, err := OpenCSV(CSVConfig{Path: spec.Location, Delimiter: delim, KeyColumn: spec.KeyPath, LazyQuotes: spec.LazyQuotes})
		if err != nil {
			return nil, err
		}
		return src, nil
	case "json", "jsonl":
		src, err := OpenJSON(JSONConfig{Path: spec.Location, Lines: kind == "jsonl", ArrayPath: spec.ArrayPath, KeyPath: spec.KeyPath})
		if err != nil {
			return nil, err
		}
		return src, nil
	default: // postgres
		src, err := OpenPostgres(ctx, PostgresConfig{ConnString: spec.Location, Table: spec.Table, Query: spec.Query,
			KeyColumn: spec.KeyPath, UpdatedAtColumn: spec.UpdatedAtColumn, Since: spec.Since,
			BatchSize: spec.BatchSize, BytesEncoding: spec.BytesEncoding})
		if err != nil {
			return nil, err
		}
		return src, nil
	}
}

// KindOf says which kind of source a Spec names: "csv", "tsv", "json",
// "jsonl" or "postgres" (a .json file that turns out to hold one object a
// line is read as JSON Lines all the same).
func KindOf(spec Spec) (string, error) { return specKind(spec) }

// specKind settles the kind of a Spec.
func specKind(spec Spec) (string, error) {
	switch kind := strings.ToLower(spec.Kind); kind {
	case "csv", "tsv", "json", "jsonl", "postgres":
		return kind, nil
	case "ndjson":
		return "jsonl", nil
	case "postgresql", "pg":
		return "postgres", nil
	case "":
	default:
		return "", fmt.Errorf("source kind %q: want csv, tsv, json, jsonl or postgres", spec.Kind)
	}
	loc := strings.ToLower(spec.Location)
	if strings.HasPrefix(loc, "postgres://") || strings.HasPrefix(loc, "postgresql://") {
		return "postgres", nil
	}
	switch ext := filepath.Ext(loc); ext {
	case ".csv", ".tsv", ".json", ".jsonl":
		return ext[1:], nil
	case ".ndjson":
		return "jsonl", nil
	}
	return "", fmt.Errorf("source %q: cannot tell its kind from the name; give the kind (csv, tsv, json, jsonl or postgres)", spec.Location)
}
