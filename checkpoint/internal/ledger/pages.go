package ledger

import (
	"context"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// PageSize is how many rows a store's Rows reads per query.
const PageSize = 1000

// EachPage walks a keyset-paginated listing: read returns the page after
// cursor (the zero C for the first), fn is called for each item, and the
// walk ends on a page shorter than size. Each page is its own short query,
// so a walk that lasts hours holds neither a connection nor a snapshot
// while fn runs: an item written meanwhile shows its newest state when its
// page is read. fn may call the store's other methods.
func EachPage[T, C any](ctx context.Context, size int, read func(after C) ([]T, error), cursor func(T) C, fn func(T) error) error {
	var after C
	for {
		page, err := read(after)
		if err != nil {
			return err
		}
		for _, item := range page {
			if err := fn(item); err != nil {
				return err
			}
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if len(page) < size {
			return nil
		}
		after = cursor(page[len(page)-1])
	}
}

// ReadPage appends to page the first PageSize rows matching f, ordered by
// position; a store implements it with one short query.
type ReadPage func(ctx context.Context, f checkpoint.Filter, page []checkpoint.RowState) ([]checkpoint.RowState, error)

// EachRow calls fn for each row matching f, ordered by position, a page of
// PageSize rows at a time (EachPage, keyed on the position).
func EachRow(ctx context.Context, f checkpoint.Filter, read ReadPage, fn func(checkpoint.RowState) error) error {
	from := f.FromPos
	page := make([]checkpoint.RowState, 0, PageSize)
	return EachPage(ctx, PageSize, func(after int64) ([]checkpoint.RowState, error) {
		f.FromPos = max(from, after+1)
		var err error
		page, err = read(ctx, f, page[:0])
		return page, err
	}, func(r checkpoint.RowState) int64 { return r.Pos }, fn)
}

// Rows is what both drivers' result sets offer (*sql.Rows, pgx.Rows).
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// CountsByKey reads (text, count) pairs from rows into m, adding sign times
// each count; the caller closes rows.
func CountsByKey(rows Rows, m map[string]int64, sign int64) error {
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		m[k] += sign * n
	}
	return rows.Err()
}

// StringPairs reads (key, value) text pairs from rows into a new map; the
// caller closes rows.
func StringPairs(rows Rows) (map[string]string, error) {
	m := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return nil, err
		}
		m[k] = v
	}
	return m, rows.Err()
}
