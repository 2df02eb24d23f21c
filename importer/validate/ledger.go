package validate

import (
	"context"
	"fmt"
	"sync"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// ledgerWriter settles batches of rows in the background, so that the pass
// maps the next rows while the ledger commits the last ones. At most two
// batches wait; a failure stops the pass at its next batch.
type ledgerWriter struct {
	store checkpoint.Store
	runID string
	tape  *tape // every batch, kept for the reports
	in    chan []checkpoint.Settlement
	free  chan []checkpoint.Settlement
	done  chan struct{}

	mu      sync.Mutex
	failure error
}

func newLedgerWriter(ctx context.Context, store checkpoint.Store, runID string, t *tape) *ledgerWriter {
	w := &ledgerWriter{store: store, runID: runID, tape: t, in: make(chan []checkpoint.Settlement, 2),
		free: make(chan []checkpoint.Settlement, 4), done: make(chan struct{})}
	go w.loop(ctx)
	return w
}

func (w *ledgerWriter) loop(ctx context.Context) {
	defer close(w.done)
	for batch := range w.in {
		if batch == nil {
			w.tape.markLate()
			continue
		}
		if w.err() == nil {
			if err := w.tape.add(batch); err != nil {
				w.fail(fmt.Errorf("validate: keeping outcomes for the reports: %w", err))
			} else if err := w.store.Settle(ctx, w.runID, batch); err != nil {
				w.fail(fmt.Errorf("validate: recording outcomes in the ledger: %w", err))
			}
		}
		clear(batch)
		select {
		case w.free <- batch[:0]:
		default:
		}
	}
}

func (w *ledgerWriter) fail(err error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.failure = err
}

// markLate says that the batches from now on settle rows a second time
// (the rows late findings refuse).
func (w *ledgerWriter) markLate(ctx context.Context) error {
	select {
	case w.in <- nil:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// settle hands a batch over; the caller must not touch it afterwards.
func (w *ledgerWriter) settle(ctx context.Context, batch []checkpoint.Settlement) error {
	if err := w.err(); err != nil {
		return err
	}
	select {
	case w.in <- batch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// buffer returns an empty batch to fill.
func (w *ledgerWriter) buffer(size int) []checkpoint.Settlement {
	select {
	case b := <-w.free:
		return b
	default:
		return make([]checkpoint.Settlement, 0, size)
	}
}

func (w *ledgerWriter) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failure
}

// close waits for every batch handed over and returns the first failure.
func (w *ledgerWriter) close() error {
	select {
	case <-w.done:
	default:
		close(w.in)
		<-w.done
	}
	return w.err()
}
