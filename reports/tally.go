package reports

import (
	"sort"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// Bounds of the aggregates kept while streaming: whatever the number of
// rows, a tally holds at most this many codes, fields and examples.
const (
	maxCodes         = 500 // distinct error codes counted; more fold into OtherCode
	maxFieldsPerCode = 20  // distinct fields counted per code; more fold into OtherCode
	maxListedUsers   = 100 // orphans and users not ours listed in report.html, each
)

// OtherCode collects the error codes (or fields) past the tally's bounds.
const OtherCode = "(other)"

// NoCode stands for a failed or invalid row without an error code.
const NoCode = "(none)"

// AllOutcomes lists every outcome a row can have in a report, in the order
// reports show them.
var AllOutcomes = []string{
	string(checkpoint.Created), string(checkpoint.Exists), string(checkpoint.Updated),
	string(checkpoint.Unchanged), string(checkpoint.Drift), string(checkpoint.Conflict), string(checkpoint.Valid), string(checkpoint.Skipped),
	string(checkpoint.Deleted), string(checkpoint.Banned), string(checkpoint.Orphan),
	string(checkpoint.NotOurs), string(checkpoint.Invalid), string(checkpoint.Failed), InFlight,
}

// tally aggregates the rows of a run while they stream by.
type tally struct {
	maxExamples int
	rows        int64
	notListed   int64 // counted by the ledger without a row (a sync's unchanged rows)
	byOutcome   map[string]int64
	failures    int64 // failed + invalid
	retryable   int64 // failed rows a --retry-failed may fix as they are
	attempts    int64
	minPos      int64
	maxPos      int64
	codes       map[string]*codeGroup
	// orphans and notOurs are the first rows of a sync's two lists of
	// users in Clerk that the source does not list.
	orphans, notOurs []OutcomeLine
	// edits are the first rows of a sync whose users were edited in
	// Clerk since the tool wrote them (drift, conflict).
	edits []OutcomeLine
}

// codeGroup is every failed or invalid row with one error code.
type codeGroup struct {
	Code      string
	Count     int64
	Retryable int64
	Outcomes  map[string]int64
	Fields    map[string]int64
	Examples  []OutcomeLine
}

func newTally(maxExamples int) *tally {
	return &tally{
		maxExamples: maxExamples,
		byOutcome:   make(map[string]int64),
		codes:       make(map[string]*codeGroup),
	}
}

// add counts one row.
func (t *tally) add(r checkpoint.RowState, l OutcomeLine) {
	if t.rows == 0 || r.Pos < t.minPos {
		t.minPos = r.Pos
	}
	if t.rows == 0 || r.Pos > t.maxPos {
		t.maxPos = r.Pos
	}
	t.rows++
	t.byOutcome[l.Outcome]++
	t.attempts += int64(r.Attempts)
	switch r.Outcome {
	case checkpoint.Orphan, checkpoint.Banned, checkpoint.Deleted:
		if len(t.orphans) < maxListedUsers {
			t.orphans = append(t.orphans, l)
		}
	case checkpoint.NotOurs:
		if len(t.notOurs) < maxListedUsers {
			t.notOurs = append(t.notOurs, l)
		}
	case checkpoint.Drift, checkpoint.Conflict:
		if len(t.edits) < maxListedUsers {
			t.edits = append(t.edits, l)
		}
	}
	if !isFailure(r) {
		return
	}
	t.failures++
	if r.Outcome == checkpoint.Failed && r.Retryable {
		t.retryable++
	}
	g := t.group(r.ErrorCode)
	g.Count++
	g.Outcomes[l.Outcome]++
	if r.Outcome == checkpoint.Failed && r.Retryable {
		g.Retryable++
	}
	field := r.Field
	if _, ok := g.Fields[field]; !ok && len(g.Fields) >= maxFieldsPerCode {
		field = OtherCode
	}
	g.Fields[field]++
	if len(g.Examples) < t.maxExamples {
		g.Examples = append(g.Examples, l)
	}
}

// group finds or makes the group of a code, folding codes past the bound.
func (t *tally) group(code string) *codeGroup {
	if code == "" {
		code = NoCode
	}
	g, ok := t.codes[code]
	if ok {
		return g
	}
	if len(t.codes) >= maxCodes-1 {
		code = OtherCode
		if g, ok := t.codes[code]; ok {
			return g
		}
	}
	g = &codeGroup{Code: code, Outcomes: map[string]int64{}, Fields: map[string]int64{}}
	t.codes[code] = g
	return g
}

// groups returns the code groups, largest first, then by code.
func (t *tally) groups() []*codeGroup {
	gs := make([]*codeGroup, 0, len(t.codes))
	for _, g := range t.codes {
		gs = append(gs, g)
	}
	sort.Slice(gs, func(i, j int) bool {
		if gs[i].Count != gs[j].Count {
			return gs[i].Count > gs[j].Count
		}
		return gs[i].Code < gs[j].Code
	})
	return gs
}

// sortedCounts turns a map into Counts, largest first, then by name.
func sortedCounts(m map[string]int64) []Count {
	cs := make([]Count, 0, len(m))
	for k, v := range m {
		cs = append(cs, Count{Name: k, Count: v})
	}
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Count != cs[j].Count {
			return cs[i].Count > cs[j].Count
		}
		return cs[i].Name < cs[j].Name
	})
	return cs
}
