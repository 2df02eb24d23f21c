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
	base       runner.Record // not Valid: none recorded under this key
	next       runner.Fields // nil: the base, unchanged
	sourceWins bool
	c          *change
	// allHash is the hash of all the source's values (runner.FieldAll);
	// sourceSame says the base records it: the source did not change
	// since, so each field's base is the source's value and a field is
	// judged without hashing (equal: agree; not: drift). mixed says some
	// field's next base is not the source's value (a conflict kept, a
	// primary not switched), so the next record has no FieldAll.
	allHash    string
	sourceSame bool
	mixed      bool
}

func (d *differ) newThreeWay(recorded string, c *change, sv runner.SourceValues) *threeWay {
	t := &threeWay{fp: d.Fingerprinter, sourceWins: d.sourceWins, c: c}
	t.base = runner.ReadRecord(d.keyID, recorded)
	t.allHash = t.fp.SourceHash(sv)
	if all, ok := t.base.Get(runner.FieldAll); ok && all == t.allHash {
		t.sourceSame = true
	}
	return t
}

// unchanged reports whether the source is known unchanged for code since
// its base was recorded: the base then stands for the source's value.
func (t *threeWay) unchanged(code string) bool {
	_, ok := t.base.Get(code)
	return t.sourceSame && ok
}

// baseOf is the recorded base of a scalar field.
func (t *threeWay) baseOf(code string) (string, bool) {
	items, ok := t.base.Get(code)
	if !ok || items == "" || strings.Contains(items, ",") {
		return "", false
	}
	return items, true
}

// keep carries a field's base over unchanged (not compared this time):
// the next record is the base but for what set changes.
func (t *threeWay) keep(string) {}

// set makes items the next base of code. The next record is written (a
// copy of the base, then changed) only when it differs from the base: a
// night with nothing new builds no record.
func (t *threeWay) set(code string, items []string) {
	if old, ok := t.base.Get(code); ok && old == strings.Join(items, ",") {
		return
	}
	if t.next == nil {
		t.next = t.base.Fields()
		if t.next == nil {
			t.next = runner.Fields{}
		}
	}
	t.next[code] = items
}

// scalar judges one scalar field whose source value is s and Clerk's c,
// records its next base and says whether to send s. A drift or a conflict
// is noted on the change under the field's name.
func (t *threeWay) scalar(code, s, c string, equal bool) bool {
	if t.unchanged(code) { // no hashing: agree, or Clerk alone changed
		if !equal {
			t.c.drift = appendOnce(t.c.drift, runner.FieldNames[code])
		}
		return false
	}
	hs, hc := t.fp.Value(code, s), t.fp.Value(code, c)
	b, hasBase := t.baseOf(code)
	return t.resolve(runner.FieldNames[code], judge(equal, hs != b, hc != b, hasBase), func(kept bool) {
		if kept {
			t.set(code, []string{b})
		} else {
			t.set(code, []string{hs})
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
			t.mixed = true
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
	items, ok := t.base.Get(code)
	if !ok {
		return false, false
	}
	return runner.Has(items, item), true
}

// metaBase is the recorded base of one metadata key: the hash of the
// source's value and of Clerk's when they differed (a merge that Clerk's
// value contains with more), absent ("", "") when the key was not there.
func (t *threeWay) metaBase(code, keyHash string) (src, clerk string, hasBase bool) {
	items, ok := t.base.Get(code)
	if !ok {
		return "", "", false
	}
	for items != "" {
		var it string
		it, items, _ = strings.Cut(items, ",")
		rest, ok := strings.CutPrefix(it, keyHash+".")
		if !ok {
			continue
		}
		src, clerk, two := strings.Cut(rest, ".")
		if !two {
			clerk = src
		}
		return src, clerk, true
	}
	return "", "", true
}

// encoded is the next record, or "" when it equals the recorded one.
func (t *threeWay) encoded(recorded string) string {
	if !t.mixed {
		t.set(runner.FieldAll, []string{t.allHash})
	} else if _, ok := t.base.Get(runner.FieldAll); ok {
		t.set(runner.FieldAll, nil)
		delete(t.next, runner.FieldAll)
	}
	if t.next == nil { // the base, unchanged
		return ""
	}
	e := t.next.Encode(t.fp.KeyID())
	if e == recorded {
		return ""
	}
	return e
}
