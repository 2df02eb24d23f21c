package ledger

import (
	"context"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// PageSize is how many rows a store's Rows reads per query.
const PageSize = 1000

// ReadPage appends to page the first PageSize rows matching f, ordered by
// position; a store implements it with one short query.
type ReadPage func(ctx context.Context, f checkpoint.Filter, page []checkpoint.RowState) ([]checkpoint.RowState, error)

// EachRow calls fn for each row matching f, ordered by position, reading a
// page at a time (keyset pagination on pos, each page its own query), so
// that a Rows walking a run for hours holds neither a connection nor a
// snapshot while fn runs: a row written meanwhile shows its newest state
// when its page is read. fn may call the store's other methods.
func EachRow(ctx context.Context, f checkpoint.Filter, read ReadPage, fn func(checkpoint.RowState) error) error {
	page := make([]checkpoint.RowState, 0, PageSize)
	for {
		var err error
		if page, err = read(ctx, f, page[:0]); err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if len(page) < PageSize {
			return nil
		}
		f.FromPos = page[len(page)-1].Pos + 1
	}
}
