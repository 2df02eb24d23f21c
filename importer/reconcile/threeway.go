package reconcile

import (
	"slices"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/importer/runner"
)

// judgement is what the three-way diff makes of one field: the source's
// value (s), Clerk's (c) and the one the tool last wrote or found equal to
// the source's, the base (b: the ledger's runner.Fields record).
type judgement int

const (
	agree    judgement = iota // s equals c: nothing to write
	write                     // only the source changed (or no base): send s
	drift                     // only Clerk changed: a Clerk-side edit, kept and reported
	conflict                  // both changed: kept and reported, or s sent with SourceWins
)

// judge decides from whether s and c are equal (the field's own
// comparison: case, E.164, a metadata merge) and whether each changed
// since the base (their fingerprints against the recorded ones). Without a
// base (a user the tool has not recorded yet: an import by an earlier
// version, a user it adopted, a rotated key) the source wins, as a two-way
// diff.
func judge(equal, sourceChanged, clerkChanged, hasBase bool) judgement {
	switch {
	case equal:
		return agree
	case !hasBase || !clerkChanged:
		return write
	case !sourceChanged:
		return drift
	}
	return conflict
}

// threeWay is one user's three-way diff in progress: the recorded base,
// the record to keep once the writes succeed, and the drift and conflicts
// found.
type threeWay struct {
	fp         *runner.Fingerprinter
	base       runner.Fields // nil: none recorded under this key
	next       runner.Fields
	sourceWins bool
	c          *change
}

func (d *differ) newThreeWay(recorded string, c *change) *threeWay {
	t := &threeWay{fp: d.Fingerprinter, next: runner.Fields{}, sourceWins: d.sourceWins, c: c}
	if recorded != "" {
		if b, ok := runner.DecodeFields(d.keyID, recorded); ok {
			t.base = b
		}
	}
	return t
}

// baseOf is the recorded base of a scalar field.
func (t *threeWay) baseOf(code string) (string, bool) {
	items, ok := t.base[code]
	if !ok || len(items) != 1 {
		return "", false
	}
	return items[0], true
}

// keep carries a field's base over unchanged (not compared this time).
func (t *threeWay) keep(code string) {
	if items, ok := t.base[code]; ok {
		t.next[code] = items
	}
}

// scalar judges one scalar field whose source value is s and Clerk's c,
// records its next base and says whether to send s. A drift or a conflict
// is noted on the change under the field's name.
func (t *threeWay) scalar(code, s, c string, equal bool) bool {
	hs, hc := t.fp.Value(code, s), t.fp.Value(code, c)
	b, hasBase := t.baseOf(code)
	return t.resolve(runner.FieldNames[code], judge(equal, hs != b, hc != b, hasBase), func(kept bool) {
		if kept {
			t.next[code] = []string{b}
		} else {
			t.next[code] = []string{hs}
		}
	})
}

// resolve turns a judgement into whether to send the source's value,
// noting drift and conflicts under name; record is told whether Clerk's
// value was kept (the base stays) or the source's holds (it becomes the
// base).
func (t *threeWay) resolve(name string, j judgement, record func(kept bool)) bool {
	switch j {
	case drift:
		t.c.drift = appendOnce(t.c.drift, name)
		record(true)
		return false
	case conflict:
		t.c.conflicts = appendOnce(t.c.conflicts, name)
		if !t.sourceWins {
			record(true)
			return false
		}
	}
	record(false)
	return j != agree
}

func appendOnce(list []string, v string) []string {
	if slices.Contains(list, v) {
		return list
	}
	return append(list, v)
}

// hasItem reports whether the base of a set field holds the item's hash.
func (t *threeWay) hasItem(code, item string) (in, hasBase bool) {
	items, ok := t.base[code]
	if !ok {
		return false, false
	}
	return slices.Contains(items, item), true
}

// metaBase is the recorded base of one metadata key: the hash of the
// source's value and of Clerk's when they differed (a merge that Clerk's
// value contains with more), absent ("", "") when the key was not there.
func (t *threeWay) metaBase(code, keyHash string) (src, clerk string, hasBase bool) {
	items, ok := t.base[code]
	if !ok {
		return "", "", false
	}
	for _, it := range items {
		parts := strings.Split(it, ".")
		if parts[0] != keyHash || len(parts) < 2 {
			continue
		}
		if len(parts) == 3 {
			return parts[1], parts[2], true
		}
		return parts[1], parts[1], true
	}
	return "", "", true
}

// encoded is the next record, or "" when it equals the recorded one.
func (t *threeWay) encoded(recorded string) string {
	e := t.next.Encode(t.fp.KeyID())
	if e == recorded {
		return ""
	}
	return e
}
