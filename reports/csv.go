package reports

import (
	"encoding/csv"
	"io"

	"github.com/gocarina/gocsv"
)

// CSV writes a CSV file of rows of type T, a struct whose `csv` tags name
// the columns in order, through gocsv: the header when created, then rows
// in batches of csvBatch (one reflection pass over the struct type, then a
// walk of its fields per row).
type CSV[T any] struct {
	w   *gocsv.SafeCSVWriter
	buf []T
}

// csvBatch is how many rows a CSV hands gocsv at once.
const csvBatch = 256

// NewCSV starts a CSV file on w with its header line.
func NewCSV[T any](w io.Writer) (*CSV[T], error) {
	c := &CSV[T]{w: gocsv.NewSafeCSVWriter(csv.NewWriter(w)), buf: make([]T, 0, csvBatch)}
	if err := gocsv.MarshalCSV([]T{}, c.w); err != nil {
		return nil, err
	}
	return c, nil
}

// Write adds one row.
func (c *CSV[T]) Write(row T) error {
	c.buf = append(c.buf, row)
	if len(c.buf) < csvBatch {
		return nil
	}
	return c.Flush()
}

// Flush writes the rows held so far through to w.
func (c *CSV[T]) Flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	err := gocsv.MarshalCSVWithoutHeaders(c.buf, c.w)
	clear(c.buf)
	c.buf = c.buf[:0]
	return err
}
