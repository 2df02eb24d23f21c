package main

import (
	"cmp"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
	"github.com/clerkmigrate/clerkmigrate/reports"
)

// maxSeries bounds the time series kept for the report; older samples are
// merged pairwise when it fills, so a run of any length keeps a fixed size.
const maxSeries = 512

// defaultStats is how often the progress is logged by default.
const defaultStats = 10 * time.Second

// progressFlags are the flags of the commands that run rows: how their
// progress is shown and logged. Their conflicts are usage errors before the
// command does anything.
func progressFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "no-progress", Usage: "no progress line on a terminal"},
		&cli.BoolFlag{Name: "progress",
			Usage: "draw the progress line even when stderr is not a terminal (not with --log-format json, where it could not be JSON)",
			Action: func(c *cli.Context, on bool) error {
				switch {
				case on && c.Bool("no-progress"):
					return usageErrorf("--progress and --no-progress exclude each other")
				case on && consoleOf(c).isJSON():
					return usageErrorf("--progress draws a line that is not JSON; under --log-format json the progress is logged every --stats")
				}
				return nil
			}},
		&cli.DurationFlag{Name: "stats", Value: defaultStats,
			Usage: "log the progress this often (0: never); while a progress line is drawn, only when this flag is given",
			Action: func(c *cli.Context, every time.Duration) error {
				if every < 0 {
					return usageErrorf("--stats must not be negative")
				}
				return nil
			}},
	}
}

// progressView shows a run's progress: a line drawn on the terminal (done
// and total, percent, rates and ETA), a log line every --stats, and the
// throughput over time recorded for the HTML report.
type progressView struct {
	mu       sync.Mutex
	con      *console
	draw     bool
	width    int           // the terminal's width; 0 when unknown
	logEvery time.Duration // 0: no progress log lines
	lastLog  time.Time
	total    int64 // rows expected, when the job's Progress does not say
	last     runner.Progress
	lastAt   time.Time
	series   []reports.Sample
	// Started says what the job is about to do (logEstimate), once: the
	// engines call it once the ledger holds the run and its target, so a
	// refused run prints no estimate of work it does not do.
	Started func()
}

// newProgressView reads --progress, --no-progress and --stats (checked by
// their flag actions); total is the rows the job is expected to settle (0
// when unknown).
func newProgressView(c *cli.Context, total int64) *progressView {
	con := consoleOf(c)
	now := time.Now()
	v := &progressView{con: con, total: total, lastAt: now, lastLog: now, logEvery: c.Duration("stats")}
	if !c.Bool("no-progress") && !con.isJSON() {
		tty, width := con.isTerminal()
		v.draw, v.width = tty || c.Bool("progress"), width
	}
	if v.draw && !c.IsSet("stats") {
		v.logEvery = 0 // the line says it all
	}
	return v
}

// Update takes a progress snapshot from the job.
func (v *progressView) Update(p runner.Progress) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := time.Now()
	if now.Sub(v.lastAt) >= time.Second {
		v.record(now, p)
	}
	f := v.figures(p)
	if v.draw {
		v.con.setStatus(f.line(v.width))
	}
	if v.logEvery > 0 && now.Sub(v.lastLog) >= v.logEvery {
		v.lastLog = now
		v.con.logger().Info("progress", f.attrs()...)
	}
}

// progressFigures are what the line and the log say of a snapshot.
type progressFigures struct {
	runner.Progress
	done, total int64         // rows settled by this and earlier invocations; expected (0: unknown)
	eta         time.Duration // 0: unknown
}

func (v *progressView) figures(p runner.Progress) progressFigures {
	f := progressFigures{Progress: p, done: p.Settled + p.AlreadySettled, total: cmp.Or(p.Total, v.total)}
	if f.done > f.total {
		f.total = 0 // the estimate fell short: say nothing rather than over 100 %
	}
	if f.total > 0 && p.RowsPerSec > 0 {
		f.eta = time.Duration(float64(f.total-f.done) / p.RowsPerSec * float64(time.Second))
	}
	return f
}

func (f progressFigures) percent() float64 { return 100 * float64(f.done) / float64(f.total) }

// line is the progress line, cut to width.
func (f progressFigures) line(width int) string {
	var b strings.Builder
	if f.total > 0 {
		fmt.Fprintf(&b, "%s/%s rows (%.1f%%)", groupDigits(f.done), groupDigits(f.total), f.percent())
	} else {
		fmt.Fprintf(&b, "%s rows", groupDigits(f.done))
	}
	fmt.Fprintf(&b, ", %.0f rows/s", f.RowsPerSec)
	if f.Requests > 0 {
		fmt.Fprintf(&b, ", %.0f req/s", f.RequestsPerSec)
	}
	if f.Failures > 0 {
		fmt.Fprintf(&b, ", %s failed", groupDigits(f.Failures))
	}
	if f.RateLimited > 0 {
		fmt.Fprintf(&b, ", %s rate-limited", groupDigits(f.RateLimited))
	}
	if f.eta > 0 {
		fmt.Fprintf(&b, ", ETA %s", humanDuration(f.eta))
	}
	s := b.String()
	if width > 1 && len(s) >= width {
		s = s[:width-1] // one terminal line, or "\r" would not return to its start
	}
	return s
}

// attrs are the figures for a log line: counts, rates as numbers,
// durations in seconds with the unit in the key.
func (f progressFigures) attrs() []any {
	a := []any{"run", f.RunID, "done", f.done}
	if f.total > 0 {
		a = append(a, "total", f.total, "percent", round1(f.percent()))
	}
	a = append(a, "read", f.Read, "settled", f.Settled, "already_settled", f.AlreadySettled, "failures", f.Failures,
		"requests", f.Requests, "rate_limited", f.RateLimited, "rows_per_sec", round1(f.RowsPerSec),
		"requests_per_sec", round1(f.RequestsPerSec), "elapsed_s", round1(f.Elapsed.Seconds()))
	if f.eta > 0 {
		a = append(a, "eta_s", round1(f.eta.Seconds()))
	}
	return a
}

// record appends the interval since the last sample to the series.
func (v *progressView) record(now time.Time, p runner.Progress) {
	lat := p.Latency.Sub(v.last.Latency)
	v.series = append(v.series, reports.Sample{
		At:          now,
		Interval:    now.Sub(v.lastAt),
		Settled:     p.Settled - v.last.Settled,
		Requests:    p.Requests - v.last.Requests,
		RateLimited: p.RateLimited - v.last.RateLimited,
		Errors:      p.Failures - v.last.Failures,
		P50:         lat.Quantile(0.50),
		P90:         lat.Quantile(0.90),
		P99:         lat.Quantile(0.99),
	})
	v.last, v.lastAt = p, now
	if len(v.series) >= maxSeries {
		v.series = halveSeries(v.series)
	}
}

// halveSeries merges neighbouring samples.
func halveSeries(s []reports.Sample) []reports.Sample {
	out := s[:0]
	for i := 0; i+1 < len(s); i += 2 {
		a, b := s[i], s[i+1]
		out = append(out, reports.Sample{
			At: b.At, Interval: a.Interval + b.Interval,
			Settled: a.Settled + b.Settled, Requests: a.Requests + b.Requests,
			RateLimited: a.RateLimited + b.RateLimited, Errors: a.Errors + b.Errors,
		})
	}
	return out
}

// Finish erases the progress line: the summary that follows says it all.
func (v *progressView) Finish() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.con.clearStatus()
}

// Stats are the figures the report needs that the ledger does not hold.
func (v *progressView) Stats(started time.Time, s runner.Summary, exitCode int) reports.RunStats {
	v.mu.Lock()
	defer v.mu.Unlock()
	var limited *reports.InFlightLimit
	if c := s.Capped; c != nil {
		limited = &reports.InFlightLimit{MaxInFlight: c.MaxInFlight, Wanted: c.Wanted, Since: c.At,
			LatencyMS: float64(c.Latency.Microseconds()) / 1000, MostPerSecond: c.MostPerSecond(), BudgetPerSecond: c.Rate}
	}
	return reports.RunStats{
		InFlightLimited: limited,
		StartedAt:       started,
		FinishedAt:      time.Now(),
		TargetRate:      s.Budget.PerSecond(),
		AchievedRate:    s.RowsPerSec,
		Requests:        s.Requests,
		RateLimited:     s.RateLimited,
		Retries:         s.Retries,
		Lookups:         s.Lookups,
		ExitCode:        exitCode,
		Series:          append([]reports.Sample(nil), v.series...),
	}
}

// workload is what a job is about to do: for the estimate printed before
// its first row and the total on its progress line.
type workload struct {
	rows int64      // rows to settle (an estimate; 0 when unknown)
	rate pacer.Rate // the request budget; zero when nothing is sent
	// atMost: a row costs at most one call (a sync calls only for users
	// who changed), so the estimate is an upper bound.
	atMost bool
	// upTo: rows is a bound on the rows that run (import --only-keys: the
	// keys given, of which the source may hold fewer).
	upTo bool
}

// logEstimate says how long the rows take at the budget, e.g.
// "1,000,000 rows at 100 req/s: about 2 h 47 min".
func logEstimate(c *cli.Context, w workload) {
	perSec := w.rate.PerSecond()
	if perSec <= 0 || w.rows <= 0 {
		return
	}
	took := time.Duration(float64(w.rows) / perSec * float64(time.Second))
	msg := fmt.Sprintf("%s rows at %s req/s: about %s", groupDigits(w.rows),
		strconv.FormatFloat(perSec, 'f', -1, 64), humanDuration(took))
	switch {
	case w.atMost:
		msg = fmt.Sprintf("%s rows at %s req/s: at most about %s (a user who did not change costs no call)",
			groupDigits(w.rows), strconv.FormatFloat(perSec, 'f', -1, 64), humanDuration(took))
	case w.upTo:
		msg = fmt.Sprintf("up to %s rows at %s req/s: at most about %s (--only-keys: the keys given that the source holds)",
			groupDigits(w.rows), strconv.FormatFloat(perSec, 'f', -1, 64), humanDuration(took))
	}
	consoleOf(c).notice(slog.LevelInfo, msg, "rows", w.rows, "budget_requests_per_sec", perSec,
		"estimate_s", round1(took.Seconds()), "upper_bound", w.atMost || w.upTo)
}

// humanDuration writes d for a person, to the second under ten minutes and
// to the minute above: "47 s", "3 min 5 s", "2 h 47 min", "3 d 4 h".
func humanDuration(d time.Duration) string {
	switch {
	case d < 60*time.Second:
		return fmt.Sprintf("%d s", max(int64(math.Ceil(d.Seconds())), 1))
	case d < 10*time.Minute:
		s := int64(d.Round(time.Second).Seconds())
		return fmt.Sprintf("%d min %d s", s/60, s%60)
	case d < 48*time.Hour:
		m := int64(d.Round(time.Minute).Minutes())
		if m < 60 {
			return fmt.Sprintf("%d min", m)
		}
		return fmt.Sprintf("%d h %d min", m/60, m%60)
	}
	h := int64(d.Round(time.Hour).Hours())
	return fmt.Sprintf("%d d %d h", h/24, h%24)
}

// groupDigits writes n with thousands separators: 1,000,000.
func groupDigits(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// round1 rounds to one decimal, for figures in logs.
func round1(x float64) float64 { return math.Round(x*10) / 10 }
