package reports

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// Write regenerates every report file of run runID in dir (created 0700
// when missing) from the ledger, in one streaming pass over its rows. It
// reads the ledger and never writes it, so it may run while the run is
// going on; rows still in flight are reported with outcome "in_flight".
// Either all files are replaced or, on error, none is.
func Write(ctx context.Context, store checkpoint.Store, runID string, dir string, opts Options) (Files, error) {
	run, err := checkpoint.FindRun(ctx, store, runID)
	if err != nil {
		return Files{}, fmt.Errorf("reports: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Files{}, fmt.Errorf("reports: %w", err)
	}
	opts = opts.withDefaults()
	files := Files{
		OutcomesJSONL: filepath.Join(dir, OutcomesJSONLName),
		OutcomesCSV:   filepath.Join(dir, OutcomesCSVName),
		FailuresCSV:   filepath.Join(dir, FailuresCSVName),
		Summary:       filepath.Join(dir, SummaryName),
		HTML:          filepath.Join(dir, HTMLName),
	}
	var out [5]*atomicFile
	defer func() {
		for _, f := range out {
			f.abort() // after commit, only closes what is already closed
		}
	}()
	for i, p := range files.All() {
		if out[i], err = createAtomic(p); err != nil {
			return Files{}, err
		}
	}
	t, err := streamRows(ctx, store, runID, opts, out[0], out[1], out[2])
	if err != nil {
		return Files{}, err
	}
	sum := buildSummary(run, t, opts, opts.Now())
	if err := writeSummary(out[3], sum); err != nil {
		return Files{}, fmt.Errorf("reports: %s: %w", SummaryName, err)
	}
	if err := writeHTML(out[4], newHTMLData(run, sum, t, opts)); err != nil {
		return Files{}, fmt.Errorf("reports: %s: %w", HTMLName, err)
	}
	for _, f := range out {
		if err := f.commit(); err != nil {
			return Files{}, err
		}
	}
	return files, nil
}

func (o Options) withDefaults() Options {
	if o.MaxExamples <= 0 {
		o.MaxExamples = DefaultMaxExamples
	}
	if o.MaxFindings <= 0 {
		o.MaxFindings = DefaultMaxFindings
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// streamRows passes every row of the run once through the row writers and
// the tally.
func streamRows(ctx context.Context, store checkpoint.Store, runID string, opts Options, jsonl, outcomesCSV, failuresCSV *atomicFile) (*tally, error) {
	w, err := newRowWriters(jsonl, outcomesCSV, failuresCSV)
	if err != nil {
		return nil, fmt.Errorf("reports: %w", err)
	}
	t := newTally(opts.MaxExamples)
	rows := opts.Rows
	if rows == nil {
		rows = func(ctx context.Context, fn func(checkpoint.RowState) error) error {
			return store.Rows(ctx, runID, checkpoint.Filter{}, fn)
		}
	}
	err = rows(ctx, func(r checkpoint.RowState) error {
		l := lineOf(r)
		t.add(r, l)
		w.add(r, l)
		return nil
	})
	werr := w.close()
	switch {
	case err != nil:
		return nil, fmt.Errorf("reports: read rows of run %q: %w", runID, err)
	case werr != nil:
		return nil, fmt.Errorf("reports: write rows: %w", werr)
	}
	if opts.Rows == nil {
		if err := addTallied(ctx, store, runID, t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// addTallied counts the rows the ledger counted without recording them
// one by one (checkpoint.Tallier: a sync's unchanged rows): its counts less
// the rows read. They are in summary.json's counts and rows.not_listed,
// not in the outcome files.
func addTallied(ctx context.Context, store checkpoint.Store, runID string, t *tally) error {
	if _, ok := store.(checkpoint.Tallier); !ok {
		return nil
	}
	p, err := store.Progress(ctx, runID)
	if err != nil {
		return fmt.Errorf("reports: counts of run %q: %w", runID, err)
	}
	for o, n := range p.ByOutcome {
		if d := n - t.byOutcome[string(o)]; d > 0 {
			t.byOutcome[string(o)] += d
			t.rows += d
			t.notListed += d
		}
	}
	return nil
}
