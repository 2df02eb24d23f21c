package sources

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
)

// JSONSampleRecords is how many records a JSON source reads ahead for its
// Schema (fewer when the file is shorter, or when JSONSampleBytes of it
// have been read first): JSON has no header, so what its records hold is
// learnt from the first ones. They are handed out by Next as usual
// afterwards; nothing is read twice.
const (
	JSONSampleRecords = 1000
	JSONSampleBytes   = 16 << 20
)

// Schema is what a source can say of its records' fields before the first
// row, so that a mapping can be checked against the source before anything
// is read or written (see mapping.Mapping.CheckSource).
//
// A CSV file's header and a Postgres result's columns are exact: a column
// outside them is in no record. A JSON file has no header: its Schema is the
// first JSONSampleRecords records, and a key that none of them has may still
// be in a later one (exports leave out keys whose value is empty).
type Schema struct {
	// Kind is the source's kind, as Info().Kind says it.
	Kind string
	// Where says what the columns were learnt from, for messages: "the CSV
	// header", "table users", "the query's result", "the first 1000
	// records".
	Where string
	// SampleWhere names the sampled records, for messages: "the first 1000
	// records", "the 12 rows".
	SampleWhere string
	// Columns are the source's columns (CSV, Postgres) in order, or the
	// top-level keys the sampled JSON records have, by the record that
	// first has each, then by name.
	Columns []string
	// Exact says Columns are every field of every record (CSV, Postgres).
	Exact bool
	// Sampled is how many records were looked at (JSON: up to
	// JSONSampleRecords; Postgres: its first batch; CSV: none).
	Sampled int
	// All says the sampled records are all the source has.
	All bool

	colSet    map[string]bool
	walksInto bool     // a path may go on inside a column's value (Postgres json columns)
	sample    []Values // records to look paths up in (JSON records; Postgres: the first batch)
}

// PathCheck is a Schema's answer about one path.
type PathCheck struct {
	// Found: a column of that name exists, or a sampled record has the path.
	Found bool
	// Unknown: nothing could be looked at (a path into a Postgres json
	// column of a result without rows).
	Unknown bool
	// Certain: the path is in no record at all (a header or a result's
	// columns lack it), not only in none of the sampled ones.
	Certain bool
	// Near are the paths the source does have where this one left the data
	// (the header's columns, or the keys beside the missing one), for a
	// "did you mean"; nil when the path left the data inside an array or a
	// value that is not an object.
	Near []string
}

// Schemer is a Source that can give its Schema before the first Next.
type Schemer interface {
	Schema(ctx context.Context) (*Schema, error)
}

// SchemaOf returns the source's Schema, or nil when the source cannot say
// one before reading.
func SchemaOf(ctx context.Context, src Source) (*Schema, error) {
	s, ok := src.(Schemer)
	if !ok {
		return nil, nil
	}
	return s.Schema(ctx)
}

func newSchema(kind, where string, cols []string, exact bool) *Schema {
	s := &Schema{Kind: kind, Where: where, Columns: cols, Exact: exact, colSet: make(map[string]bool, len(cols))}
	for _, c := range cols {
		s.colSet[c] = true
	}
	return s
}

// Check says whether records have path (see PathCheck).
func (s *Schema) Check(path string) PathCheck {
	if s.Exact {
		if s.colSet[path] {
			return PathCheck{Found: true}
		}
		if !s.walksInto || !s.colSet[path[:columnEnd(path)]] {
			return PathCheck{Certain: true, Near: s.Columns}
		}
		if len(s.sample) == 0 {
			return PathCheck{Unknown: true}
		}
	}
	for _, v := range s.sample {
		if _, ok := v.Lookup(path); ok {
			return PathCheck{Found: true}
		}
	}
	return PathCheck{Near: s.near(path)}
}

// columnEnd is the end of a path's first key: "meta.roles" -> 4.
func columnEnd(path string) int {
	if i := strings.IndexAny(path, ".["); i > 0 {
		return i
	}
	return len(path)
}

// near lists the keys found, in the sampled records, beside the step where
// path left the data: for "profile.frist_name" the keys of the records'
// profile objects ("profile.first_name", "profile.age"...). The deepest
// step any record reaches decides.
func (s *Schema) near(path string) []string {
	prefixes := pathPrefixes(path)
	best, seen := -1, map[string]bool{}
	var out []string
	for _, v := range s.sample {
		// the longest prefix this record has, and the object there
		depth, obj := -1, map[string]any(nil)
		if jo, ok := v.(jsonObject); ok {
			obj = jo
		}
		for i, pre := range prefixes {
			x, ok := v.Lookup(pre)
			if !ok {
				break
			}
			depth, obj = i, nil
			if m, isMap := x.(map[string]any); isMap {
				obj = m
			}
		}
		if depth < best || obj == nil {
			continue
		}
		if depth > best {
			best, out, seen = depth, nil, map[string]bool{}
		}
		base := ""
		if depth >= 0 {
			base = prefixes[depth] + "."
		}
		for k := range obj {
			if p := base + k; !seen[p] {
				seen[p] = true
				out = append(out, p)
			}
		}
	}
	if best < 0 && s.Exact {
		return s.Columns
	}
	slices.Sort(out) // the same answer every run
	return out
}

// pathPrefixes lists a path's proper prefixes at step boundaries:
// "a.b[0].c" gives "a", "a.b", "a.b[0]". Brackets may hold quoted keys
// with dots in them (`["a.b"].c`).
func pathPrefixes(path string) []string {
	var out []string
	for i := 0; i < len(path); i++ {
		switch path[i] {
		case '.':
			if i > 0 {
				out = append(out, path[:i])
			}
		case '[':
			if i > 0 {
				out = append(out, path[:i])
			}
			j := i + 1
			if j < len(path) && path[j] == '"' {
				_, end, ok := quotedKey(path, j)
				if !ok {
					return out
				}
				j = end
			}
			for j < len(path) && path[j] != ']' {
				j++
			}
			i = j
		}
	}
	return out
}

// Schema of a CSV file: its header.
func (c *CSV) Schema(context.Context) (*Schema, error) {
	return newSchema("csv", "the CSV header", c.Columns(), true), nil
}

// Columns returns the result's column names, in order.
func (p *Postgres) Columns() []string { return append([]string(nil), p.cols.names...) }

// Schema of a Postgres source: the columns of the table or of the query's
// result (known even when it has no row), and the first batch of rows for
// paths into json columns ("raw_user_meta_data.full_name"). Call it before
// the first Next.
func (p *Postgres) Schema(context.Context) (*Schema, error) {
	where := "the query's result"
	if p.cfg.Table != "" {
		where = "table " + p.cfg.Table
	}
	s := newSchema("postgres", where, p.Columns(), true)
	s.walksInto = true
	for _, raw := range p.batch[p.pos:] {
		if raw != nil {
			s.sample = append(s.sample, &pgRow{cols: p.cols, vals: raw})
		}
	}
	s.Sampled, s.All = len(s.sample), p.drained
	s.SampleWhere = sampleWhere(s.Sampled, s.All, "row")
	return s, nil
}

// Schema of a JSON or JSON Lines file: the first JSONSampleRecords records
// (or as many as JSONSampleBytes hold), read ahead and kept for Next. Call
// it before the first Next.
func (j *JSON) Schema(ctx context.Context) (*Schema, error) {
	if j.schema != nil {
		return j.schema, nil
	}
	if j.index > 0 {
		return nil, fmt.Errorf("json %s: the schema is read before the first record", j.cfg.Path)
	}
	var cols []string
	seen := map[string]bool{}
	var sample []Values
	for len(j.pending) < JSONSampleRecords && j.consumed() < JSONSampleBytes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rec, err := j.next()
		if err != nil { // io.EOF, or a fatal error Next will return after the sampled records
			j.pendingErr = err
			break
		}
		j.pending = append(j.pending, rec)
		obj, ok := rec.Values.(jsonObject)
		if !ok {
			continue
		}
		sample = append(sample, obj)
		n := len(cols)
		for k := range obj {
			if !seen[k] {
				seen[k] = true
				cols = append(cols, k)
			}
		}
		slices.Sort(cols[n:]) // a record's new keys in order: decoding keeps none

	}
	all := errors.Is(j.pendingErr, io.EOF)
	where := sampleWhere(len(j.pending), all, "record")
	j.schema = newSchema(j.info.Kind, where, cols, false)
	j.schema.sample, j.schema.Sampled, j.schema.All, j.schema.SampleWhere = sample, len(sample), all, where
	return j.schema, nil
}

// consumed is how many bytes of the file the reader has used.
func (j *JSON) consumed() int64 {
	if j.lines {
		return j.offset
	}
	return j.dec.InputOffset()
}

// sampleWhere names n sampled records (or rows): "the first 1000 records",
// "the 12 records", "the only record".
func sampleWhere(n int, all bool, noun string) string {
	switch {
	case !all:
		return fmt.Sprintf("the first %d %ss", n, noun)
	case n == 1:
		return "the only " + noun
	}
	return fmt.Sprintf("the %d %ss", n, noun)
}
