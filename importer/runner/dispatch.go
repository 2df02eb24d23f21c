package runner

import (
	"context"
	"fmt"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// DefaultMarkBatch is how many rows a Dispatcher marks in flight in one
// ledger transaction by default. A transaction costs about as much as a
// few dozen rows in it, so 256 rows per mark cost a tenth of 32 in
// transactions (the ledger was a sixth of an import's CPU per row); a run
// that crashes leaves at most this many more rows in flight, each looked
// up once by the re-run.
const DefaultMarkBatch = 256

// Dispatcher marks rows in flight in batches, durably, before any of them
// is handed to a worker (the dirty flag goes down before the write).
type Dispatcher[J Job] struct {
	p     *Pipeline[J]
	size  int
	batch []J
	rows  []checkpoint.Row
}

// Dispatcher makes a dispatcher that marks size rows at a time (0:
// DefaultMarkBatch).
func (p *Pipeline[J]) Dispatcher(size int) *Dispatcher[J] {
	if size <= 0 {
		size = DefaultMarkBatch
	}
	return &Dispatcher[J]{p: p, size: size}
}

// Add queues a job; a full batch is marked and dispatched.
func (d *Dispatcher[J]) Add(ctx context.Context, j J) error {
	d.batch = append(d.batch, j)
	if len(d.batch) >= d.size {
		return d.Flush(ctx)
	}
	return nil
}

// Flush marks the queued jobs in flight and hands them to the workers.
// After ctx ends it returns nil and hands nothing more: the rows marked
// stay in flight, for a resume to look up.
func (d *Dispatcher[J]) Flush(ctx context.Context) error {
	if len(d.batch) == 0 {
		return nil
	}
	defer func() {
		clear(d.batch)
		d.batch = d.batch[:0]
	}()
	d.rows = d.rows[:0]
	for _, j := range d.batch {
		d.rows = append(d.rows, j.Mark())
	}
	if err := d.p.cfg.Store.MarkInFlight(ctx, d.p.cfg.RunID, d.rows); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("marking rows in flight in run %s: %w", d.p.cfg.RunID, err)
	}
	for _, j := range d.batch {
		select {
		case d.p.jobs <- j:
		case <-ctx.Done():
			return nil
		}
	}
	return nil
}
