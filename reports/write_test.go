package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/sqlite"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// writeGolden runs Write over the golden ledger.
func writeGolden(t *testing.T) (Files, time.Time) {
	t.Helper()
	before := time.Now().Add(-time.Second)
	store, _ := newLedger(t, goldenRunID, goldenRows())
	files, err := Write(context.Background(), store, goldenRunID, t.TempDir(), Options{Stats: goldenStats(), Now: fixedNow, MaxExamples: 2})
	if err != nil {
		t.Fatal(err)
	}
	return files, before
}

// ledgerTimeRe matches the run's own times in summary.json, which the
// ledger stamps with the wall clock.
var ledgerTimeRes = []*regexp.Regexp{
	regexp.MustCompile(`("started_at": )"[^"]+"(,\n    "updated_at")`),
	regexp.MustCompile(`("updated_at": )"[^"]+"(,\n    "source_fingerprint")`),
}

func TestWriteGolden(t *testing.T) {
	files, before := writeGolden(t)
	for _, tc := range []struct {
		golden string
		path   string
	}{
		{"outcomes.jsonl.golden", files.OutcomesJSONL},
		{"outcomes.csv.golden", files.OutcomesCSV},
		{"failures.csv.golden", files.FailuresCSV},
		{"summary.json.golden", files.Summary},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			got, err := os.ReadFile(tc.path)
			if err != nil {
				t.Fatal(err)
			}
			if tc.golden == "summary.json.golden" {
				got = normalizeLedgerTimes(t, got, before)
			}
			compareGolden(t, tc.golden, got)
		})
	}
}

// normalizeLedgerTimes checks the run's ledger times are from this test
// and replaces them, so the golden file is stable.
func normalizeLedgerTimes(t *testing.T, got []byte, before time.Time) []byte {
	t.Helper()
	var s Summary
	if err := json.Unmarshal(got, &s); err != nil {
		t.Fatal(err)
	}
	for name, ts := range map[string]time.Time{"run.started_at": s.Run.StartedAt, "run.updated_at": s.Run.UpdatedAt} {
		if ts.Before(before) || ts.After(time.Now().Add(time.Second)) {
			t.Errorf("%s = %v, want the time of this test", name, ts)
		}
	}
	out := got
	for _, re := range ledgerTimeRes {
		out = re.ReplaceAll(out, []byte(`$1"<ledger time>"$2`))
	}
	if n := bytes.Count(out, []byte(`"<ledger time>"`)); n != 2 {
		t.Fatalf("normalized %d ledger times, want 2 in\n%s", n, got)
	}
	return out
}

func compareGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (rerun with -update if the change is intended)\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestWriteFilesModeAndNoTempLeft(t *testing.T) {
	files, _ := writeGolden(t)
	for _, p := range files.All() {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, want 0600", p, fi.Mode().Perm())
		}
	}
	entries, err := os.ReadDir(filepath.Dir(files.Summary))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	want := []string{FailuresCSVName, OutcomesCSVName, OutcomesJSONLName, HTMLName, SummaryName}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("dir holds %v, want exactly %v", names, want)
	}
}

func TestWriteContainsNoPlantedSecret(t *testing.T) {
	files, _ := writeGolden(t)
	var redactions int
	for _, p := range files.All() {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, secret := range plantedSecrets {
			// JSON and HTML escape some characters; look for the
			// secret's longest run of plain characters too.
			for _, needle := range []string{secret, longestAlnumRun(secret)} {
				if bytes.Contains(b, []byte(needle)) {
					t.Errorf("%s contains planted secret %q", filepath.Base(p), needle)
				}
			}
		}
		redactions += bytes.Count(b, []byte(Redacted))
	}
	if redactions == 0 {
		t.Error("no file shows a redaction: the secrets were not in the ledger?")
	}
}

func longestAlnumRun(s string) string {
	runs := regexp.MustCompile(`[A-Za-z0-9]+`).FindAllString(s, -1)
	best := ""
	for _, r := range runs {
		if len(r) > len(best) {
			best = r
		}
	}
	return best
}

func TestReadKeysOfWrittenFailures(t *testing.T) {
	files, _ := writeGolden(t)
	got, err := ReadKeys(files.FailuresCSV)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]struct{}{}
	for _, r := range goldenRows() {
		if !r.inFlight && (r.Outcome == checkpoint.Failed || r.Outcome == checkpoint.Invalid) {
			want[r.Key] = struct{}{}
		}
	}
	if len(want) != 7 {
		t.Fatalf("fixture has %d failed keys, want 7", len(want))
	}
	if !equalSets(got, want) {
		t.Errorf("ReadKeys = %v, want %v", keysOf(got), keysOf(want))
	}
}

func equalSets(a, b map[string]struct{}) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			return false
		}
	}
	return true
}

func keysOf(m map[string]struct{}) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// A second Store on the same file reports a run another Store holds and is
// still writing; the report sees the rows settled so far.
func TestWriteWhileRunGoesOn(t *testing.T) {
	writer, path := newLedger(t, "live", goldenRows()[:4])
	reader, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer reader.Close()
	dir := t.TempDir()
	ctx := context.Background()
	if _, err := Write(ctx, reader, "live", dir, Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	first := readSummary(t, filepath.Join(dir, SummaryName))
	if first.Rows.Total != 4 || first.Run.Status != string(checkpoint.Running) {
		t.Fatalf("first report: rows %d status %q, want 4 running", first.Rows.Total, first.Run.Status)
	}
	more := goldenRows()[4]
	if err := writer.Settle(ctx, "live", []checkpoint.Settlement{more.Settlement}); err != nil {
		t.Fatal(err)
	}
	if _, err := Write(ctx, reader, "live", dir, Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	second := readSummary(t, filepath.Join(dir, SummaryName))
	if second.Rows.Total != 5 || second.CountsByOutcome["failed"] != 1 {
		t.Errorf("second report: rows %d failed %d, want 5 and 1", second.Rows.Total, second.CountsByOutcome["failed"])
	}
	if second.Timing.Source != "ledger" || second.ExitCode != nil || second.Throughput.Requests != nil {
		t.Errorf("without RunStats: timing source %q, exit code %v, requests %v; want ledger, null, null",
			second.Timing.Source, second.ExitCode, second.Throughput.Requests)
	}
}

func readSummary(t *testing.T, path string) Summary {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var s Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWriteUnknownRun(t *testing.T) {
	store, _ := newLedger(t, "known", nil)
	dir := t.TempDir()
	_, err := Write(context.Background(), store, "nope", dir, Options{})
	if !errors.Is(err, checkpoint.ErrRunNotFound) {
		t.Fatalf("err = %v, want ErrRunNotFound", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("dir holds %d entries after a failed Write, want none", len(entries))
	}
}

// A ledger read that fails half-way leaves the previous report in place
// and no temporary file behind.
func TestWriteFailureKeepsPreviousFiles(t *testing.T) {
	dir := t.TempDir()
	rows := goldenRows()
	ok := newFakeStore(sliceRows(rows, 0, nil))
	if _, err := Write(context.Background(), ok, "fake", dir, Options{Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, OutcomesJSONLName))
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("disk gone")
	bad := newFakeStore(sliceRows(rows, 3, boom))
	if _, err := Write(context.Background(), bad, "fake", dir, Options{Now: fixedNow}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
	after, err := os.ReadFile(filepath.Join(dir, OutcomesJSONLName))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("a failed Write changed outcomes.jsonl")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 5 {
		t.Errorf("dir holds %d entries, want the 5 report files and no temporary file", len(entries))
	}
}

func TestSummaryValidation(t *testing.T) {
	v := &Validation{
		Findings: []Finding{
			{Pos: 3, Key: "u-003", Field: "email_address", Code: "email_invalid", Reason: "not an email"},
			{Pos: 7, Key: "u-007", Field: "password_digest", Code: "digest_invalid", Reason: "digest " + plantedSecrets[0] + " is not bcrypt"},
			{Pos: 9, Key: "u-009", Field: "email_address", Code: "email_invalid", Reason: "not an email"},
		},
		FindingsTotal: 40,
		Coverage: Coverage{Rows: 100, Fields: []Count{{"email_address", 97}, {"first_name", 60}},
			Hashers: []Count{{"bcrypt", 70}, {"argon2id", 10}}, WithMFA: 12, WithoutPassword: 20, WithSeveralEmails: 5},
	}
	store, _ := newLedger(t, "dry", goldenRows()[:3])
	dir := t.TempDir()
	files, err := Write(context.Background(), store, "dry", dir, Options{Validation: v, Now: fixedNow})
	if err != nil {
		t.Fatal(err)
	}
	s := readSummary(t, files.Summary)
	got := s.Validation
	if got == nil {
		t.Fatal("summary has no validation")
	}
	if got.Findings != 40 || got.FindingsListed != 3 || got.FindingsByCode["email_invalid"] != 2 ||
		got.Hashers["bcrypt"] != 70 || got.FieldCoverage["first_name"] != 60 || got.WithMFA != 12 ||
		got.WithoutPassword != 20 || got.WithSeveralEmails != 5 || got.CoverageRows != 100 {
		t.Errorf("validation summary = %+v", got)
	}
	html, err := os.ReadFile(files.HTML)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(html, []byte(longestAlnumRun(plantedSecrets[0]))) {
		t.Error("report.html shows the digest of a finding's reason")
	}
	if n := bytes.Count(html, []byte(`<tr class="finding">`)); n != 3 {
		t.Errorf("report.html lists %d findings, want 3", n)
	}
}

// fakeStore is a ledger in memory with function fields, for failure
// injection and benchmarks. Methods a report never calls panic (nil Store).
type fakeStore struct {
	checkpoint.Store
	runs func(ctx context.Context) ([]checkpoint.Run, error)
	rows func(ctx context.Context, runID string, f checkpoint.Filter, fn func(checkpoint.RowState) error) error
}

func (f *fakeStore) Runs(ctx context.Context) ([]checkpoint.Run, error) { return f.runs(ctx) }

func (f *fakeStore) Rows(ctx context.Context, runID string, flt checkpoint.Filter, fn func(checkpoint.RowState) error) error {
	return f.rows(ctx, runID, flt, fn)
}

// newFakeStore serves run "fake" whose rows come from next, called with
// 0, 1, ... until it returns false; a non-nil error stops the stream.
func newFakeStore(next func(i int64) (checkpoint.RowState, bool, error)) *fakeStore {
	start := time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)
	return &fakeStore{
		runs: func(context.Context) ([]checkpoint.Run, error) {
			return []checkpoint.Run{{ID: "fake", Kind: "import", Status: checkpoint.Done, StartedAt: start, UpdatedAt: start.Add(time.Minute)}}, nil
		},
		rows: func(ctx context.Context, _ string, _ checkpoint.Filter, fn func(checkpoint.RowState) error) error {
			for i := int64(0); ; i++ {
				r, ok, err := next(i)
				if err != nil || !ok {
					return err
				}
				if err := fn(r); err != nil {
					return err
				}
			}
		},
	}
}

// sliceRows yields rows, failing with err at index failAt when err is set.
func sliceRows(rows []ledgerRow, failAt int64, err error) func(int64) (checkpoint.RowState, bool, error) {
	return func(i int64) (checkpoint.RowState, bool, error) {
		if err != nil && i == failAt {
			return checkpoint.RowState{}, false, err
		}
		if i >= int64(len(rows)) {
			return checkpoint.RowState{}, false, nil
		}
		return checkpoint.RowState{Settlement: rows[i].Settlement, InFlight: rows[i].inFlight}, true, nil
	}
}

// The tally stays bounded whatever the rows: codes past maxCodes and
// fields past maxFieldsPerCode fold into OtherCode, examples stop at the
// bound, and no row goes uncounted.
func TestTallyIsBounded(t *testing.T) {
	tl := newTally(3)
	const n = 5000
	for i := range int64(n) {
		r := checkpoint.RowState{Settlement: checkpoint.Settlement{Pos: i + 1, Key: "k", Outcome: checkpoint.Failed,
			ErrorCode: "code_" + strconv.FormatInt(i%1000, 10), Field: "f" + strconv.FormatInt(i, 10)}}
		tl.add(r, lineOf(r))
	}
	if len(tl.codes) > maxCodes {
		t.Errorf("%d codes kept, want at most %d", len(tl.codes), maxCodes)
	}
	var sum int64
	for code, g := range tl.codes {
		sum += g.Count
		if len(g.Examples) > 3 || len(g.Fields) > maxFieldsPerCode+1 {
			t.Errorf("code %s keeps %d examples and %d fields", code, len(g.Examples), len(g.Fields))
		}
	}
	if sum != n || tl.failures != n {
		t.Errorf("groups count %d rows, failures %d, want %d", sum, tl.failures, n)
	}
	if tl.codes[OtherCode] == nil {
		t.Error("no (other) group for the codes past the bound")
	}
}

// Every field of summary.json is documented in SUMMARY.md.
func TestSummaryFieldsDocumented(t *testing.T) {
	doc, err := os.ReadFile("SUMMARY.md")
	if err != nil {
		t.Fatal(err)
	}
	s := Summary{Validation: &SummaryValidation{}, CountsByOutcome: map[string]int64{}, ErrorsByCode: map[string]int64{}}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var paths []string
	var walk func(prefix string, v map[string]any)
	walk = func(prefix string, v map[string]any) {
		for k, x := range v {
			p := prefix + k
			if sub, ok := x.(map[string]any); ok && len(sub) > 0 && k != "counts_by_outcome" && k != "errors_by_code" {
				walk(p+".", sub)
				continue
			}
			paths = append(paths, p)
		}
	}
	walk("", m)
	if len(paths) < 40 {
		t.Fatalf("found only %d fields: %v", len(paths), paths)
	}
	for _, p := range paths {
		if !bytes.Contains(doc, []byte("`"+p+"`")) {
			t.Errorf("SUMMARY.md does not document `%s`", p)
		}
	}
}

func TestChartsOnlyWhereThereIsSomethingToDraw(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	sample := func(i int, requests int64) Sample {
		return Sample{At: t0.Add(time.Duration(i) * time.Second), Interval: time.Second, Settled: 100, Requests: requests,
			P50: 20 * time.Millisecond, P90: 30 * time.Millisecond, P99: 40 * time.Millisecond}
	}
	tests := []struct {
		name                    string
		series                  []Sample
		wantThroughput, wantLat bool
	}{
		{"an import draws both", []Sample{sample(1, 90), sample(2, 90), sample(3, 90)}, true, true},
		{"a dry run sends nothing: no latency chart", []Sample{sample(1, 0), sample(2, 0)}, true, false},
		{"one sample is no line", []Sample{sample(1, 90)}, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store, _ := newLedger(t, goldenRunID, goldenRows())
			stats := goldenStats()
			stats.Series = tt.series
			files, err := Write(context.Background(), store, goldenRunID, t.TempDir(), Options{Stats: stats, Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			b, err := os.ReadFile(files.HTML)
			if err != nil {
				t.Fatal(err)
			}
			html := string(b)
			if got := strings.Contains(html, "chart-throughput"); got != tt.wantThroughput {
				t.Errorf("throughput chart drawn = %v, want %v", got, tt.wantThroughput)
			}
			if got := strings.Contains(html, "chart-latency"); got != tt.wantLat {
				t.Errorf("latency chart drawn = %v, want %v", got, tt.wantLat)
			}
		})
	}
}
