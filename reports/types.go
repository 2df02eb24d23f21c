// Package reports regenerates the files people and machines read after a
// run, from the run's ledger alone (plus the figures the importer or the
// validate command hands over in Options):
//
//   - outcomes.jsonl and outcomes.csv: one line per row;
//   - failures.csv: the failed and invalid rows, first column key, ready for
//     `clerkmigrate import --only-keys failures.csv` once the data is fixed;
//   - summary.json: counts, timings, rate, exit code (see SUMMARY.md);
//   - report.html: one self-contained page with tables and SVG charts.
//
// Write streams the ledger's rows once and keeps only bounded aggregates, so
// a million-row run costs no more memory than a ten-row one. It only reads
// the ledger and may run while the run is still going on. Every file is
// written with mode 0600 to a temporary name and renamed into place.
//
// Free text (messages, reasons, metadata values) goes through Scrub, which
// redacts anything that looks like a password digest or a long token, even
// though the ledger is not supposed to hold one.
package reports

import (
	"context"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// The names of the files Write produces in its directory.
const (
	OutcomesJSONLName = "outcomes.jsonl"
	OutcomesCSVName   = "outcomes.csv"
	FailuresCSVName   = "failures.csv"
	SummaryName       = "summary.json"
	HTMLName          = "report.html"
)

// Files are the paths Write produced.
type Files struct {
	OutcomesJSONL string
	OutcomesCSV   string
	FailuresCSV   string
	Summary       string
	HTML          string
}

// All lists the paths in a stable order.
func (f Files) All() []string {
	return []string{f.OutcomesJSONL, f.OutcomesCSV, f.FailuresCSV, f.Summary, f.HTML}
}

// Options carry what the ledger does not hold. The zero Options is valid:
// timings then come from the ledger's run times and the importer's figures
// are reported as unknown.
type Options struct {
	// Stats are the importer's figures for the run; nil when unknown (a
	// report regenerated later from the ledger alone).
	Stats *RunStats
	// Validation holds the validate command's findings and coverage; nil
	// for runs that were not dry runs.
	Validation *Validation
	// Rows, when set, streams the run's rows in position order instead of
	// the ledger: a run that just settled them keeps them in order already
	// (validate), and reading a million rows back from the ledger costs
	// more than the rest of the reports. It must give what the ledger
	// holds, row for row; `clerkmigrate report` regenerates the same files
	// from the ledger.
	Rows func(ctx context.Context, fn func(checkpoint.RowState) error) error
	// MaxExamples bounds the example rows kept per error code in the HTML
	// report; 0 means DefaultMaxExamples.
	MaxExamples int
	// MaxFindings bounds the validation findings listed in the HTML report
	// (all are counted); 0 means DefaultMaxFindings.
	MaxFindings int
	// Now stamps generated_at; nil means time.Now.
	Now func() time.Time
}

// Defaults for the bounds of Options.
const (
	DefaultMaxExamples = 5
	DefaultMaxFindings = 200
)

// RunStats are the importer's figures for one run (or one resumption of
// it), which the ledger does not record.
type RunStats struct {
	StartedAt  time.Time
	FinishedAt time.Time
	// TargetRate is the configured request rate limit, requests/s; 0 when
	// unlimited or unknown.
	TargetRate float64
	// AchievedRate is the rows settled per second over the run's wall time.
	AchievedRate float64
	// Requests is the number of HTTP requests sent to Clerk, retries included.
	Requests int64
	// RateLimited is the number of 429 answers.
	RateLimited int64
	// Retries is the number of requests sent again after a retryable error.
	Retries int64
	// Lookups is the number of reads sent (users looked up by external_id
	// before a resend or on resume, lists, counts).
	Lookups int64
	// InFlightLimited is set when the ceiling on requests in flight, not
	// the budget, limited the rate.
	InFlightLimited *InFlightLimit
	// ExitCode is the process's exit code.
	ExitCode int
	// Series is the throughput and latency per interval, oldest first. The
	// importer keeps it bounded (a few hundred points); the report
	// downsamples longer series before drawing them.
	Series []Sample
}

// InFlightLimit is a ceiling on requests in flight (--max-in-flight) that
// held the rate below the budget: Little's law asked for Wanted requests
// at once at the latency seen.
type InFlightLimit struct {
	MaxInFlight int `json:"max_in_flight"`
	Wanted      int `json:"wanted"`
	// Since is when it began to hold the rate down.
	Since time.Time `json:"since"`
	// LatencyMS is the average request latency then; MostPerSecond the
	// most requests per second MaxInFlight allow at it; BudgetPerSecond the
	// rate the budget allowed.
	LatencyMS       float64 `json:"latency_ms"`
	MostPerSecond   float64 `json:"most_requests_per_sec"`
	BudgetPerSecond float64 `json:"budget_requests_per_sec"`
}

// Duration is FinishedAt - StartedAt, or 0 when either is unset.
func (s RunStats) Duration() time.Duration {
	if s.StartedAt.IsZero() || s.FinishedAt.IsZero() || s.FinishedAt.Before(s.StartedAt) {
		return 0
	}
	return s.FinishedAt.Sub(s.StartedAt)
}

// Sample is one interval of the run's time series.
type Sample struct {
	// At is the end of the interval.
	At time.Time
	// Interval is the interval's length.
	Interval time.Duration
	// Settled is the number of rows settled during the interval.
	Settled int64
	// Requests is the number of requests sent during the interval.
	Requests int64
	// RateLimited is the number of 429 answers during the interval.
	RateLimited int64
	// Errors is the number of rows that failed during the interval.
	Errors int64
	// Latency percentiles of the requests answered during the interval.
	P50, P90, P99 time.Duration
}

// RowsPerSecond is Settled over Interval, 0 for an empty interval.
func (s Sample) RowsPerSecond() float64 {
	if s.Interval <= 0 {
		return 0
	}
	return float64(s.Settled) / s.Interval.Seconds()
}

// Validation is what a dry run found: the refused rows and how well the
// source covers Clerk's fields.
type Validation struct {
	// Findings are the problems found, in source order. The validate
	// command may keep only the first ones and count the rest in
	// FindingsTotal.
	Findings []Finding
	// FindingsTotal is the number of findings in all, when more were found
	// than Findings holds; 0 means len(Findings).
	FindingsTotal int64
	Coverage      Coverage
}

// Finding is one validation problem of one row.
type Finding struct {
	Pos    int64
	Key    string
	Field  string // the CreateUser property at fault
	Code   string // a stable machine code, e.g. "missing", "hasher_unknown"
	Reason string // for people; never the value when it is a secret
}

// Coverage describes the source as a whole.
type Coverage struct {
	// Rows is the number of rows examined.
	Rows int64
	// Fields is how many rows had each CreateUser field set.
	Fields []Count
	// Hashers is how many rows used each password hasher.
	Hashers []Count
	// WithMFA is the number of rows with a TOTP secret or backup codes.
	WithMFA int64
	// WithoutPassword is the number of rows with neither a password nor a
	// digest.
	WithoutPassword int64
	// WithSeveralEmails is the number of rows with more than one email.
	WithSeveralEmails int64
}

// Count is a named count.
type Count struct {
	Name  string
	Count int64
}
