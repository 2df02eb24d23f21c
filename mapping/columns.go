package mapping

import (
	"fmt"
	"slices"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/sources"
)

// A mapping is checked against its source before any row (CheckSource): a
// column the mapping reads that the source does not have would otherwise
// leave its property out of every request without a word.
//
// The rule, by kind of source:
//
//   - CSV and Postgres say their columns before the first row (the header;
//     the columns of the table or of the query's result, even when it has
//     no row). A column outside them is refused, with the closest one
//     ("did you mean first_name?"). A path into a Postgres json column
//     ("raw_user_meta_data.full_name") is checked as JSON is, below, in
//     the first batch of rows.
//   - JSON has no header, and exports leave out keys whose value is empty:
//     the first sources.JSONSampleRecords records (1000) are read ahead. A
//     path that none of them has is refused when they have a key that looks
//     like it (a typo: "firstname" beside "first_name", "emial" beside
//     "email"), unless that key is one the same field already reads (from:
//     [given_name, givenName] names the spellings of two export versions).
//     Otherwise it is a warning: the path may be a key only later records
//     have, and it is read where they do. The key is never optional: a key
//     path none of the first records has is refused.

// checkedPath is one column or path the mapping reads, with where it is
// written.
type checkedPath struct {
	path   string
	field  *field // nil for the key
	how    string // `from "x"`, `template {x}`...
	target string // what it fills: "first_name", "private_metadata.plan"
	line   int
}

// paths lists every column or path the mapping reads, in file order.
func (m *Mapping) paths() []checkedPath {
	out := []checkedPath{{path: m.key, how: fmt.Sprintf("key %q", m.key), line: m.keyLine}}
	for i := range m.fields {
		f := &m.fields[i]
		name := f.prop.name
		add := func(p, how, target string) {
			out = append(out, checkedPath{path: p, field: f, how: how, target: target, line: f.line})
		}
		for _, p := range f.from {
			add(p, fmt.Sprintf("from %q", p), name)
		}
		for _, o := range f.object {
			add(o.path, fmt.Sprintf("from {%s: %q}", o.key, o.path), name+"."+o.key)
		}
		if f.tmpl != nil {
			for _, p := range f.tmpl.paths {
				add(p, fmt.Sprintf("template {%s}", p), name)
			}
		}
		if f.when != "" {
			add(f.when, fmt.Sprintf("when %q", f.when), name)
		}
		if v := f.verified; v != nil {
			for _, p := range v.From {
				add(p, fmt.Sprintf("verified from %q", p), name+"'s verified flag")
			}
			for _, p := range v.In {
				add(p, fmt.Sprintf("verified in %q", p), name+"'s verified list")
			}
		}
	}
	return out
}

// readsPath reports whether the field reads path (in from, an object part,
// its template or its when).
func (f *field) readsPath(path string) bool {
	for _, p := range f.paths() {
		if p == path {
			return true
		}
	}
	return false
}

// paths lists what the field reads.
func (f *field) paths() []string {
	out := append([]string(nil), f.from...)
	for _, o := range f.object {
		out = append(out, o.path)
	}
	if f.tmpl != nil {
		out = append(out, f.tmpl.paths...)
	}
	if f.when != "" {
		out = append(out, f.when)
	}
	return append(out, f.verified.paths()...)
}

// CheckSource checks every column and path the mapping reads (its key,
// from, template and when paths) against what the source says of its
// records before the first row (see the rule above). refused are the
// problems that must stop a run before it reads a row (a usage error);
// warnings are to be shown and the run goes on. Both name the mapping
// file's line. optional paths are read only where the source has them and
// are not checked (a preset's, whose findings say so). A nil schema, or a
// JSON file without records, checks nothing.
func (m *Mapping) CheckSource(s *sources.Schema, optional ...string) (refused, warnings LoadErrors) {
	if s == nil || !s.Exact && s.Sampled == 0 {
		return nil, nil
	}
	for _, cp := range m.paths() {
		if slices.Contains(optional, cp.path) {
			continue
		}
		c := s.Check(cp.path)
		if c.Found || c.Unknown {
			continue
		}
		name := "key"
		if cp.field != nil {
			name = cp.field.prop.name
		}
		guess := closestPath(cp.path, c.Near)
		e := &LoadError{File: m.file, Line: cp.line}
		switch {
		case c.Certain && guess != "":
			e.Msg = fmt.Sprintf("%s: %s: %s has no such column; did you mean %q?", name, cp.how, s.Where, guess)
		case c.Certain:
			e.Msg = fmt.Sprintf("%s: %s: %s has no such column (it has %s)", name, cp.how, s.Where, listSome(s.Columns, 20))
		case guess != "" && (cp.field == nil || !cp.field.readsPath(guess)):
			e.Msg = fmt.Sprintf("%s: %s: none of %s has it, and they have %q: did you mean %q?",
				name, cp.how, s.SampleWhere, guess, guess)
		case cp.field == nil:
			e.Msg = fmt.Sprintf("key: %s: none of %s has it; every user needs it (it becomes external_id)", cp.how, s.SampleWhere)
		case s.All:
			e.Msg = fmt.Sprintf("%s: %s: none of %s has it: %s is left out of every request",
				name, cp.how, s.SampleWhere, cp.target)
			warnings = append(warnings, e)
			continue
		default:
			e.Msg = fmt.Sprintf("%s: %s: none of %s has it; it is read where later records have it "+
				"(a key the export leaves out when empty?)", name, cp.how, s.SampleWhere)
			warnings = append(warnings, e)
			continue
		}
		refused = append(refused, e)
	}
	return refused, warnings
}

// listSome joins up to n names, saying how many more there are.
func listSome(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}

// closestPath returns the path the user most likely meant: the candidate
// closest to path's prefix of the same depth (with the rest of path after
// it), when it is close enough to be a slip: the same name but for case,
// _ - . and spaces ("firstName", "first_name", "firstname"), or at most one
// edit in four characters (a letter missed, added, changed or two
// swapped). "" when none is.
func closestPath(path string, cands []string) string {
	best, bestDist := "", -1
	for _, c := range cands {
		depth := len(pathSteps(c))
		pre := pathPrefixAt(path, depth)
		if pre == "" || pre == c {
			continue
		}
		d := nameDistance(lastStep(pre), lastStep(c))
		if d < 0 {
			continue
		}
		if bestDist < 0 || d < bestDist {
			best, bestDist = c+path[len(pre):], d
		}
	}
	return best
}

// pathSteps splits a path at its dots (brackets stay with their key):
// enough to compare the depth of two paths.
func pathSteps(p string) []string { return strings.Split(p, ".") }

// pathPrefixAt is path's prefix made of its first n dot-separated steps,
// "" when it has fewer.
func pathPrefixAt(path string, n int) string {
	steps := pathSteps(path)
	if len(steps) < n {
		return ""
	}
	return strings.Join(steps[:n], ".")
}

// lastStep is the last dot-separated step of a path.
func lastStep(p string) string { return p[strings.LastIndexByte(p, '.')+1:] }

// nameDistance says how far apart two names are: the edit distance
// (optimal string alignment) of their squashed forms (0 when they differ
// only in case and separators) when it is small enough for a slip (one
// edit per four characters, at least one), -1 otherwise.
func nameDistance(a, b string) int {
	sa, sb := squash(a), squash(b)
	if d := osaDistance(sa, sb); d <= max(1, len(sa)/4) {
		return d
	}
	return -1
}

// squash lower-cases a name and drops _ - . and spaces.
func squash(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if r != '_' && r != '-' && r != '.' && r != ' ' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// osaDistance is the optimal string alignment distance of a and b (bytes):
// insertions, deletions, substitutions and swaps of neighbours.
func osaDistance(a, b string) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
