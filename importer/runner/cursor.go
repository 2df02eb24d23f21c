package runner

import (
	"context"
	"errors"
	"fmt"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// errPageFull stops a page read of the ledger.
var errPageFull = errors.New("page full")

// Cursor walks one run's ledger rows in position order, a page at a time,
// so that a reader can merge-join the source against it without holding a
// cursor open across the writes of the run.
type Cursor struct {
	store  checkpoint.Store
	runID  string
	filter checkpoint.Filter
	page   []checkpoint.RowState
	i      int
	done   bool
}

const ledgerPage = 512

// NewCursor starts a cursor over the rows of runID that f selects.
func NewCursor(store checkpoint.Store, runID string, f checkpoint.Filter) *Cursor {
	return &Cursor{store: store, runID: runID, filter: f}
}

// Next returns the next row, false at the end.
func (c *Cursor) Next(ctx context.Context) (checkpoint.RowState, bool, error) {
	if c.i >= len(c.page) {
		if c.done {
			return checkpoint.RowState{}, false, nil
		}
		if err := c.fill(ctx); err != nil {
			return checkpoint.RowState{}, false, err
		}
		if len(c.page) == 0 {
			return checkpoint.RowState{}, false, nil
		}
	}
	r := c.page[c.i]
	c.i++
	return r, true, nil
}

// At returns the row at pos, if the ledger holds one; calls must come in
// ascending pos order.
func (c *Cursor) At(ctx context.Context, pos int64) (checkpoint.RowState, bool, error) {
	for {
		if c.i < len(c.page) {
			r := c.page[c.i]
			if r.Pos > pos {
				return checkpoint.RowState{}, false, nil
			}
			c.i++
			if r.Pos == pos {
				return r, true, nil
			}
			continue
		}
		if c.done {
			return checkpoint.RowState{}, false, nil
		}
		if err := c.fill(ctx); err != nil {
			return checkpoint.RowState{}, false, err
		}
	}
}

func (c *Cursor) fill(ctx context.Context) error {
	c.page, c.i = c.page[:0], 0
	err := c.store.Rows(ctx, c.runID, c.filter, func(r checkpoint.RowState) error {
		c.page = append(c.page, r)
		if len(c.page) >= ledgerPage {
			return errPageFull
		}
		return nil
	})
	if err != nil && !errors.Is(err, errPageFull) {
		return fmt.Errorf("reading the ledger of run %s: %w", c.runID, err)
	}
	if len(c.page) < ledgerPage {
		c.done = true
	}
	if n := len(c.page); n > 0 {
		c.filter.FromPos = c.page[n-1].Pos + 1
	}
	return nil
}
