package verdict

import (
	"context"
	"errors"
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"io"
	"sync"

	"github.com/clerkmigrate/clerkmigrate/sources"
)

// batchSize is how many records a worker maps at once.
const batchSize = 256

// Batch is a run of records in source order and what a worker made of
// each.
type Batch[R any] struct {
	Recs []sources.Record
	Res  []R
	done chan struct{}
}

// Pass reads src to its end and hands every record to one of workers
// goroutines, which judge it with judge (p is the worker's own request,
// reused from row to row), then gives the batches to collect in source
// order, on the calling goroutine. A batch is reused once collect returns.
// Memory holds a few batches per worker, whatever the source's length.
func Pass[R any](ctx context.Context, src sources.Source, workers int,
	judge func(rec sources.Record, p *request.CreateUser) R, collect func(b *Batch[R]) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers = max(1, workers)
	nb := workers * 4
	free := make(chan *Batch[R], nb)
	for range nb {
		free <- &Batch[R]{Recs: make([]sources.Record, 0, batchSize), Res: make([]R, batchSize)}
	}
	work := make(chan *Batch[R], nb)
	order := make(chan *Batch[R], nb)
	var readErr error
	go func() {
		defer close(work)
		defer close(order)
		readErr = read(ctx, src, free, work, order)
	}()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			p := &request.CreateUser{}
			for b := range work {
				for i := range b.Recs {
					b.Res[i] = judge(b.Recs[i], p)
				}
				close(b.done)
			}
		})
	}
	var collectErr error
	for b := range order {
		<-b.done
		if collectErr == nil {
			if collectErr = collect(b); collectErr != nil {
				cancel()
			}
		}
		clear(b.Recs)
		clear(b.Res)
		b.Recs = b.Recs[:0]
		free <- b
	}
	wg.Wait()
	if collectErr != nil {
		return collectErr
	}
	if readErr != nil {
		return readErr
	}
	return ctx.Err()
}

// read fills batches from the source, in order.
func read[R any](ctx context.Context, src sources.Source, free chan *Batch[R], work, order chan<- *Batch[R]) error {
	var b *Batch[R]
	send := func() {
		b.Res = b.Res[:len(b.Recs)]
		b.done = make(chan struct{})
		work <- b
		order <- b
		b = nil
	}
	for {
		if b == nil {
			select {
			case b = <-free:
				b.Res = b.Res[:cap(b.Res)]
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		rec, err := src.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("reading %s: %w", src.Info().Name, err)
		}
		b.Recs = append(b.Recs, rec)
		if len(b.Recs) == batchSize {
			send()
		}
	}
	if len(b.Recs) > 0 {
		send()
	} else {
		free <- b
	}
	return nil
}

// ScanOptions tune Scan.
type ScanOptions struct {
	// Workers map rows in parallel; 0 means 1.
	Workers int
	// TempDir holds the spill files; empty means os.TempDir().
	TempDir string
	// Hash hashes identifier values; nil means maphash with a per-run seed.
	Hash func(string) uint64
}

// Scan reads src to its end and returns the rows the duplicate rule
// refuses, the same rows validate refuses for duplicates.
func Scan(ctx context.Context, src sources.Source, m Mapper, opts ScanOptions) (*Rejections, error) {
	d := NewDuplicates(opts.TempDir, opts.Hash, 0)
	defer d.Close()
	judge := func(rec sources.Record, p *request.CreateUser) Row { return Check(m, rec, p) }
	err := Pass(ctx, src, opts.Workers, judge, func(b *Batch[Row]) error {
		for i := range b.Recs {
			r := &b.Res[i]
			if !r.Mapped {
				continue
			}
			if err := d.Add(b.Recs[i].Pos.Index, b.Recs[i].Pos.Line, &r.IDs, !r.Valid()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	rj, _, err := d.Rejections()
	return rj, err
}
