package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/clerkmigrate/clerkmigrate/importer"
	"github.com/clerkmigrate/clerkmigrate/reports"
)

// maxSeries bounds the time series kept for the report; older samples are
// merged pairwise when it fills, so a run of any length keeps a fixed size.
const maxSeries = 512

// progressView draws a one-line progress display on a terminal and records
// the run's throughput over time for the HTML report. Off a terminal it
// draws nothing: the importer's periodic log lines say the same.
type progressView struct {
	mu     sync.Mutex
	w      io.Writer
	tty    bool
	drawn  bool
	last   importer.Progress
	lastAt time.Time
	series []reports.Sample
}

func newProgressView(w io.Writer, enabled bool) *progressView {
	tty := false
	if f, ok := w.(*os.File); ok && enabled {
		tty = term.IsTerminal(int(f.Fd()))
	}
	return &progressView{w: w, tty: tty, lastAt: time.Now()}
}

// Update takes a progress snapshot from the importer.
func (v *progressView) Update(p importer.Progress) {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := time.Now()
	if now.Sub(v.lastAt) >= time.Second {
		v.record(now, p)
	}
	if v.tty {
		v.draw(p)
	}
}

// record appends the interval since the last sample to the series.
func (v *progressView) record(now time.Time, p importer.Progress) {
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

func (v *progressView) draw(p importer.Progress) {
	line := fmt.Sprintf("\r%d rows done (%d earlier), %.0f rows/s, %.0f req/s, %d failures, %d rate-limited",
		p.Settled, p.AlreadySettled, p.RowsPerSec, p.RequestsPerSec, p.Failures, p.RateLimited)
	if p.ETA > 0 {
		line += fmt.Sprintf(", ETA %s", p.ETA.Round(time.Second))
	}
	fmt.Fprintf(v.w, "%s\x1b[K", line)
	v.drawn = true
}

// Finish ends the progress line.
func (v *progressView) Finish() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.drawn {
		fmt.Fprintln(v.w)
	}
}

// Stats are the figures the report needs that the ledger does not hold.
func (v *progressView) Stats(started time.Time, s importer.Summary, exitCode int) reports.RunStats {
	v.mu.Lock()
	defer v.mu.Unlock()
	return reports.RunStats{
		StartedAt:    started,
		FinishedAt:   time.Now(),
		TargetRate:   s.Budget.PerSecond(),
		AchievedRate: s.RowsPerSec,
		Requests:     s.Requests,
		RateLimited:  s.RateLimited,
		Retries:      s.Retries,
		ExitCode:     exitCode,
		Series:       append([]reports.Sample(nil), v.series...),
	}
}
