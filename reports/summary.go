package reports

import (
	"encoding/json"
	"math"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// SchemaVersion is the version of summary.json's layout. It changes only
// when a field is renamed, removed or changes meaning; new fields may appear
// without a change.
const SchemaVersion = 1

// Summary is summary.json. Every field is documented in SUMMARY.md.
type Summary struct {
	SchemaVersion   int                `json:"schema_version"`
	GeneratedAt     time.Time          `json:"generated_at"`
	Run             SummaryRun         `json:"run"`
	Rows            SummaryRows        `json:"rows"`
	CountsByOutcome map[string]int64   `json:"counts_by_outcome"`
	ErrorsByCode    map[string]int64   `json:"errors_by_code"`
	Timing          SummaryTiming      `json:"timing"`
	Throughput      SummaryThroughput  `json:"throughput"`
	ExitCode        *int               `json:"exit_code"`
	Validation      *SummaryValidation `json:"validation"`
	Files           SummaryFiles       `json:"files"`
}

// SummaryRun is the run as the ledger knows it.
type SummaryRun struct {
	ID                 string            `json:"id"`
	Kind               string            `json:"kind"`
	Status             string            `json:"status"`
	StartedAt          time.Time         `json:"started_at"`
	UpdatedAt          time.Time         `json:"updated_at"`
	SourceFingerprint  string            `json:"source_fingerprint"`
	MappingFingerprint string            `json:"mapping_fingerprint"`
	Meta               map[string]string `json:"meta"`
}

// SummaryRows counts the run's rows.
type SummaryRows struct {
	Total             int64 `json:"total"`
	Settled           int64 `json:"settled"`
	InFlight          int64 `json:"in_flight"`
	Failures          int64 `json:"failures"`
	RetryableFailures int64 `json:"retryable_failures"`
	Attempts          int64 `json:"attempts"`
	FirstPosition     int64 `json:"first_position"`
	LastPosition      int64 `json:"last_position"`
	// NotListed counts the rows the ledger counted without recording them
	// one by one (a sync's unchanged rows of users already ours): in the
	// counts, not in the outcome files.
	NotListed int64 `json:"not_listed"`
}

// SummaryTiming is when the run ran.
type SummaryTiming struct {
	Source          string    `json:"source"` // "importer" or "ledger"
	StartedAt       time.Time `json:"started_at"`
	FinishedAt      time.Time `json:"finished_at"`
	DurationSeconds float64   `json:"duration_seconds"`
}

// SummaryThroughput is how fast the run went; nil fields are unknown.
type SummaryThroughput struct {
	AchievedRate   float64  `json:"achieved_rate"`
	TargetRate     *float64 `json:"target_rate"`
	Requests       *int64   `json:"requests"`
	RateLimited429 *int64   `json:"rate_limited_429"`
	Retries        *int64   `json:"retries"`
	Lookups        *int64   `json:"lookups"`
	// InFlightLimited is set when --max-in-flight limited the rate.
	InFlightLimited *InFlightLimit `json:"in_flight_limited"`
}

// SummaryValidation is what a dry run found.
type SummaryValidation struct {
	Findings          int64            `json:"findings"`
	FindingsListed    int64            `json:"findings_listed"`
	FindingsByCode    map[string]int64 `json:"findings_by_code"`
	CoverageRows      int64            `json:"coverage_rows"`
	FieldCoverage     map[string]int64 `json:"field_coverage"`
	Hashers           map[string]int64 `json:"hashers"`
	WithMFA           int64            `json:"with_mfa"`
	WithoutPassword   int64            `json:"without_password"`
	WithSeveralEmails int64            `json:"with_several_emails"`
}

// SummaryFiles names the run's other report files, relative to summary.json.
type SummaryFiles struct {
	OutcomesJSONL string `json:"outcomes_jsonl"`
	OutcomesCSV   string `json:"outcomes_csv"`
	FailuresCSV   string `json:"failures_csv"`
	HTML          string `json:"html"`
}

// buildSummary assembles summary.json from the run, the tally and opts.
func buildSummary(run checkpoint.Run, t *tally, opts Options, now time.Time) Summary {
	s := Summary{
		SchemaVersion:   SchemaVersion,
		GeneratedAt:     now.UTC(),
		Run:             summaryRun(run),
		CountsByOutcome: make(map[string]int64, len(AllOutcomes)),
		ErrorsByCode:    make(map[string]int64, len(t.codes)),
		Files:           SummaryFiles{OutcomesJSONLName, OutcomesCSVName, FailuresCSVName, HTMLName},
	}
	for _, o := range AllOutcomes {
		s.CountsByOutcome[o] = 0
	}
	for o, n := range t.byOutcome {
		s.CountsByOutcome[o] = n
	}
	for code, g := range t.codes {
		s.ErrorsByCode[code] = g.Count
	}
	s.Rows = SummaryRows{
		Total:             t.rows,
		Settled:           t.rows - t.byOutcome[InFlight],
		InFlight:          t.byOutcome[InFlight],
		Failures:          t.failures,
		RetryableFailures: t.retryable,
		Attempts:          t.attempts,
		FirstPosition:     t.minPos,
		LastPosition:      t.maxPos,
		NotListed:         t.notListed,
	}
	s.Timing, s.Throughput, s.ExitCode = summaryStats(run, s.Rows.Settled, opts.Stats)
	if opts.Validation != nil {
		s.Validation = summaryValidation(opts.Validation)
	}
	return s
}

func summaryRun(run checkpoint.Run) SummaryRun {
	meta := make(map[string]string, len(run.Meta))
	for k, v := range run.Meta {
		meta[k] = Scrub(v)
	}
	return SummaryRun{
		ID:                 run.ID,
		Kind:               run.Kind,
		Status:             string(run.Status),
		StartedAt:          run.StartedAt.UTC(),
		UpdatedAt:          run.UpdatedAt.UTC(),
		SourceFingerprint:  run.SourceFingerprint,
		MappingFingerprint: run.MappingFingerprint,
		Meta:               meta,
	}
}

// summaryStats takes timings and rates from the importer's figures when
// there are some, else from the ledger's run times.
func summaryStats(run checkpoint.Run, settled int64, st *RunStats) (SummaryTiming, SummaryThroughput, *int) {
	if st == nil {
		tm := SummaryTiming{Source: "ledger", StartedAt: run.StartedAt.UTC(), FinishedAt: run.UpdatedAt.UTC()}
		if d := run.UpdatedAt.Sub(run.StartedAt); d > 0 {
			tm.DurationSeconds = round3(d.Seconds())
		}
		var th SummaryThroughput
		if tm.DurationSeconds > 0 {
			th.AchievedRate = round3(float64(settled) / tm.DurationSeconds)
		}
		return tm, th, nil
	}
	tm := SummaryTiming{
		Source:          "importer",
		StartedAt:       st.StartedAt.UTC(),
		FinishedAt:      st.FinishedAt.UTC(),
		DurationSeconds: round3(st.Duration().Seconds()),
	}
	th := SummaryThroughput{
		AchievedRate:   round3(st.AchievedRate),
		Requests:       &st.Requests,
		RateLimited429: &st.RateLimited,
		Retries:        &st.Retries,
		Lookups:        &st.Lookups,
	}
	if l := st.InFlightLimited; l != nil {
		c := *l
		c.Since = c.Since.UTC()
		th.InFlightLimited = &c
	}
	if st.TargetRate > 0 {
		target := round3(st.TargetRate)
		th.TargetRate = &target
	}
	exit := st.ExitCode
	return tm, th, &exit
}

func summaryValidation(v *Validation) *SummaryValidation {
	sv := &SummaryValidation{
		Findings:          v.FindingsTotal,
		FindingsListed:    int64(len(v.Findings)),
		FindingsByCode:    map[string]int64{},
		CoverageRows:      v.Coverage.Rows,
		FieldCoverage:     countsMap(v.Coverage.Fields),
		Hashers:           countsMap(v.Coverage.Hashers),
		WithMFA:           v.Coverage.WithMFA,
		WithoutPassword:   v.Coverage.WithoutPassword,
		WithSeveralEmails: v.Coverage.WithSeveralEmails,
	}
	if sv.Findings < sv.FindingsListed {
		sv.Findings = sv.FindingsListed
	}
	for _, f := range v.Findings {
		sv.FindingsByCode[f.Code]++
	}
	return sv
}

func countsMap(cs []Count) map[string]int64 {
	m := make(map[string]int64, len(cs))
	for _, c := range cs {
		m[c.Name] += c.Count
	}
	return m
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }

// writeSummary writes s as indented JSON.
func writeSummary(f *atomicFile, s Summary) error {
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(s)
}
