package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

//go:embed report.html.tmpl
var reportTemplateText string

var reportTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"count": formatCount,
	"share": share,
	"short": func(s string) string { return ellipsis(s, 16) },
}).Parse(reportTemplateText))

// htmlData is what report.html.tmpl renders.
type htmlData struct {
	Summary     Summary
	GeneratedAt string
	StartedAt   string
	UpdatedAt   string
	MetaPairs   [][2]string
	Outcomes    []outcomeTotal
	OutcomeBar  template.HTML
	Stats       *statsView
	Throughput  template.HTML
	Latency     template.HTML
	Groups      []groupView
	Validation  *validationView
	Unlisted    *unlistedView
	Edits       *editsView
	MaxExamples int
}

// editsView is a sync's users edited in Clerk since the tool last wrote
// them: drift (Clerk's edit kept) and conflicts (edited on both sides).
type editsView struct {
	Lines                            []OutcomeLine
	DriftCount, ConflictCount, Total int64
}

// unlistedView is a sync's users in Clerk that the source does not list,
// on their two lists: orphans (ours) and not ours.
type unlistedView struct {
	Orphans      []OutcomeLine
	OrphanCount  int64
	NotOurs      []OutcomeLine
	NotOursCount int64
}

type outcomeTotal struct {
	Name  string
	Count int64
	Class string
}

type statsView struct {
	Duration    string
	Rate        string
	Target      string
	Requests    int64
	RateLimited int64
	Retries     int64
	ExitCode    int
	Points      int
}

type groupView struct {
	Code      string
	Count     int64
	Retryable int64
	Outcomes  string
	Fields    string
	Examples  []OutcomeLine
}

type validationView struct {
	Total        int64
	Listed       []Finding
	ByCode       []Count
	Rows         int64
	Fields       template.HTML
	Hashers      template.HTML
	People       template.HTML
	HasFields    bool
	HasHashers   bool
	FindingsMore int64
}

func newHTMLData(run checkpoint.Run, sum Summary, t *tally, opts Options) htmlData {
	d := htmlData{
		Summary:     sum,
		GeneratedAt: sum.GeneratedAt.Format(time.RFC3339),
		StartedAt:   formatTime(sum.Run.StartedAt),
		UpdatedAt:   formatTime(sum.Run.UpdatedAt),
		MaxExamples: opts.MaxExamples,
	}
	for _, k := range sortedKeys(sum.Run.Meta) {
		d.MetaPairs = append(d.MetaPairs, [2]string{k, sum.Run.Meta[k]})
	}
	var bars []barItem
	for _, o := range AllOutcomes {
		n := sum.CountsByOutcome[o]
		if n == 0 {
			continue
		}
		d.Outcomes = append(d.Outcomes, outcomeTotal{Name: o, Count: n, Class: "o-" + o})
		bars = append(bars, barItem{Label: o, Value: n, Class: "o-" + o})
	}
	d.OutcomeBar = stackedBar("chart-outcomes", "Rows by outcome", bars, sum.Rows.Total)
	if opts.Stats != nil {
		d.Stats = newStatsView(opts.Stats)
		d.Throughput, d.Latency = seriesCharts(opts.Stats.Series)
	}
	for _, g := range t.groups() {
		d.Groups = append(d.Groups, groupView{
			Code:      g.Code,
			Count:     g.Count,
			Retryable: g.Retryable,
			Outcomes:  joinCounts(sortedCounts(g.Outcomes)),
			Fields:    joinCounts(sortedCounts(g.Fields)),
			Examples:  g.Examples,
		})
	}
	if opts.Validation != nil {
		d.Validation = newValidationView(opts.Validation, sum.Validation, opts.MaxFindings)
	}
	if strings.HasPrefix(run.Kind, "sync") {
		c := sum.CountsByOutcome
		d.Unlisted = &unlistedView{Orphans: t.orphans, NotOurs: t.notOurs, NotOursCount: c[string(checkpoint.NotOurs)],
			OrphanCount: c[string(checkpoint.Orphan)] + c[string(checkpoint.Banned)] + c[string(checkpoint.Deleted)]}
		d.Edits = &editsView{Lines: t.edits, DriftCount: c[string(checkpoint.Drift)], ConflictCount: c[string(checkpoint.Conflict)]}
		d.Edits.Total = d.Edits.DriftCount + d.Edits.ConflictCount
	}
	return d
}

func newStatsView(st *RunStats) *statsView {
	v := &statsView{
		Duration:    st.Duration().Round(time.Second).String(),
		Rate:        fmt.Sprintf("%.1f rows/s", st.AchievedRate),
		Target:      "unlimited",
		Requests:    st.Requests,
		RateLimited: st.RateLimited,
		Retries:     st.Retries,
		ExitCode:    st.ExitCode,
		Points:      len(st.Series),
	}
	if st.TargetRate > 0 {
		v.Target = fmt.Sprintf("%.1f req/s", st.TargetRate)
	}
	return v
}

// seriesCharts draws throughput (with the 429s) and latency over time: no
// throughput chart for fewer than two samples (a line needs two points), no
// latency chart when no request was sent (a dry run).
func seriesCharts(series []Sample) (throughput, latency template.HTML) {
	if len(series) < 2 {
		return "", ""
	}
	series = downsample(series, maxChartPoints)
	start := series[0].At.Add(-series[0].Interval)
	at := make([]time.Duration, len(series))
	rate := make([]float64, len(series))
	p50 := make([]float64, len(series))
	p90 := make([]float64, len(series))
	p99 := make([]float64, len(series))
	marks := make([]int64, len(series))
	for i, s := range series {
		at[i] = s.At.Sub(start)
		rate[i] = s.RowsPerSecond()
		p50[i] = ms(s.P50)
		p90[i] = ms(s.P90)
		p99[i] = ms(s.P99)
		marks[i] = s.RateLimited
	}
	throughput = lineChart("chart-throughput", "Throughput over time", "rows/s", at,
		[]lineSeries{{Name: "rows/s", Class: "s-rate", Values: rate, Area: true}}, marks, "429")
	if !anyRequests(series) {
		return throughput, ""
	}
	latency = lineChart("chart-latency", "Request latency over time", "ms", at, []lineSeries{
		{Name: "p50", Class: "s-p50", Values: p50},
		{Name: "p90", Class: "s-p90", Values: p90},
		{Name: "p99", Class: "s-p99", Values: p99},
	}, nil, "")
	return throughput, latency
}

func anyRequests(series []Sample) bool {
	for _, s := range series {
		if s.Requests > 0 {
			return true
		}
	}
	return false
}

// downsample merges consecutive samples into at most n: counts add up,
// latency percentiles keep the worst of the bucket.
func downsample(s []Sample, n int) []Sample {
	if len(s) <= n {
		return s
	}
	out := make([]Sample, 0, n)
	for b := range n {
		lo, hi := b*len(s)/n, (b+1)*len(s)/n
		m := Sample{}
		for _, x := range s[lo:hi] {
			m.At = x.At
			m.Interval += x.Interval
			m.Settled += x.Settled
			m.Requests += x.Requests
			m.RateLimited += x.RateLimited
			m.Errors += x.Errors
			m.P50, m.P90, m.P99 = max(m.P50, x.P50), max(m.P90, x.P90), max(m.P99, x.P99)
		}
		out = append(out, m)
	}
	return out
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func newValidationView(v *Validation, sv *SummaryValidation, maxFindings int) *validationView {
	vv := &validationView{Total: sv.Findings, ByCode: sortedCounts(sv.FindingsByCode), Rows: v.Coverage.Rows}
	for i, f := range v.Findings {
		if i >= maxFindings {
			break
		}
		f.Reason = Scrub(f.Reason)
		vv.Listed = append(vv.Listed, f)
	}
	vv.FindingsMore = vv.Total - int64(len(vv.Listed))
	rows := v.Coverage.Rows
	var fields []barItem
	for _, c := range sortedCountsSlice(v.Coverage.Fields) {
		fields = append(fields, barItem{Label: c.Name, Value: c.Count, Class: "b-field"})
	}
	var hashers []barItem
	for _, c := range sortedCountsSlice(v.Coverage.Hashers) {
		hashers = append(hashers, barItem{Label: c.Name, Value: c.Count, Class: "b-hasher"})
	}
	vv.HasFields, vv.HasHashers = len(fields) > 0, len(hashers) > 0
	vv.Fields = barChart("chart-fields", "Field coverage", fields, rows)
	vv.Hashers = barChart("chart-hashers", "Password hashers", hashers, rows)
	vv.People = barChart("chart-people", "Users", []barItem{
		{Label: "with MFA", Value: v.Coverage.WithMFA, Class: "b-mfa"},
		{Label: "without password", Value: v.Coverage.WithoutPassword, Class: "b-nopw"},
		{Label: "with several emails", Value: v.Coverage.WithSeveralEmails, Class: "b-emails"},
	}, rows)
	return vv
}

func sortedCountsSlice(cs []Count) []Count { return sortedCounts(countsMap(cs)) }

func joinCounts(cs []Count) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		name := c.Name
		if name == "" {
			name = "(no field)"
		}
		parts[i] = fmt.Sprintf("%s (%s)", name, formatCount(c.Count))
	}
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func formatTime(t time.Time) string {
	if t.IsZero() || t.Year() <= 1 {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// writeHTML renders the report.
func writeHTML(w io.Writer, d htmlData) error {
	return reportTemplate.Execute(w, d)
}
