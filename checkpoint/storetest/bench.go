package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// Bench runs the ledger benchmarks against the Store open returns; open is
// called once per sub-benchmark, with a fresh ledger each time.
//
//   - Settle/batch=500: settlements written per second, 500 per call.
//   - MarkSettle/batch=N: rows per second through MarkInFlight then Settle of
//     the same N rows, as the importer does (a mark before sending, a
//     settlement after the answer).
//   - Resume1M: a 1,000,000-row run interrupted at its midpoint; each op is
//     what a resume does first: Progress, then Rows from MaxSettledPos+1
//     until the first row arrives.
func Bench(b *testing.B, open func(b *testing.B) checkpoint.Store) {
	b.Run("Settle/batch=500", func(b *testing.B) { benchSettle(b, open(b), 500) })
	for _, n := range []int{10, 500} {
		b.Run(fmt.Sprintf("MarkSettle/batch=%d", n), func(b *testing.B) { benchMarkSettle(b, open(b), n) })
	}
	b.Run("Resume1M", func(b *testing.B) { benchResume(b, open(b), 1_000_000) })
}

func benchSettle(b *testing.B, s checkpoint.Store, n int) {
	defer s.Close()
	ctx := context.Background()
	if _, err := s.BeginRun(ctx, spec("bench")); err != nil {
		b.Fatal(err)
	}
	batch := make([]checkpoint.Settlement, n)
	var next int64 = 1
	for b.Loop() {
		for i := range batch {
			batch[i] = settlement(next)
			next++
		}
		if err := s.Settle(ctx, "bench", batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(next-1)/b.Elapsed().Seconds(), "settlements/s")
}

func benchMarkSettle(b *testing.B, s checkpoint.Store, n int) {
	defer s.Close()
	ctx := context.Background()
	if _, err := s.BeginRun(ctx, spec("bench")); err != nil {
		b.Fatal(err)
	}
	rows := make([]checkpoint.Row, n)
	batch := make([]checkpoint.Settlement, n)
	var next int64 = 1
	for b.Loop() {
		for i := range batch {
			rows[i] = checkpoint.Row{Pos: next, Key: fmt.Sprintf("legacy-%d", next), RequestHash: "sha256:0123456789abcdef"}
			batch[i] = settlement(next)
			next++
		}
		if err := s.MarkInFlight(ctx, "bench", rows); err != nil {
			b.Fatal(err)
		}
		if err := s.Settle(ctx, "bench", batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(next-1)/b.Elapsed().Seconds(), "rows/s")
}

// settlement is a realistic settlement of row pos: mostly created, some
// failed.
func settlement(pos int64) checkpoint.Settlement {
	x := checkpoint.Settlement{Pos: pos, Key: fmt.Sprintf("legacy-%d", pos), Outcome: checkpoint.Created,
		ClerkID: fmt.Sprintf("user_2x%024d", pos), Attempts: 1, RequestHash: "sha256:0123456789abcdef"}
	if pos%97 == 0 {
		x.Outcome, x.ClerkID, x.ErrorCode, x.Field, x.Message, x.Retryable =
			checkpoint.Failed, "", "form_param_format_invalid", "email_address", "email_address must be a valid email address.", false
	}
	return x
}

var errFirstRow = errors.New("first row")

func benchResume(b *testing.B, s checkpoint.Store, total int64) {
	defer s.Close()
	ctx := context.Background()
	if _, err := s.BeginRun(ctx, spec("resume")); err != nil {
		b.Fatal(err)
	}
	mid := total / 2
	start := time.Now()
	const chunk = 10_000
	// 1..mid settled, mid+1..mid+50 in flight, the rest settled out of order.
	for from := int64(1); from <= total; from += chunk {
		to := min(from+chunk-1, total)
		batch := make([]checkpoint.Settlement, 0, chunk)
		for p := from; p <= to; p++ {
			if p <= mid || p > mid+50 {
				batch = append(batch, settlement(p))
			}
		}
		if err := s.Settle(ctx, "resume", batch); err != nil {
			b.Fatal(err)
		}
	}
	rows := make([]checkpoint.Row, 50)
	for i := range rows {
		rows[i] = checkpoint.Row{Pos: mid + 1 + int64(i)}
	}
	if err := s.MarkInFlight(ctx, "resume", rows); err != nil {
		b.Fatal(err)
	}
	built := time.Since(start)
	b.Logf("built a %d-row ledger in %v (%.0f rows/s, batches of %d)", total, built.Round(time.Millisecond),
		float64(total)/built.Seconds(), chunk)

	for b.Loop() {
		p, err := s.Progress(ctx, "resume")
		if err != nil {
			b.Fatal(err)
		}
		if p.MaxSettledPos != mid || p.InFlight != 50 || p.Settled() != total-50 {
			b.Fatalf("Progress = %+v, want max settled %d", p, mid)
		}
		var first int64
		err = s.Rows(ctx, "resume", checkpoint.Filter{FromPos: p.MaxSettledPos + 1}, func(r checkpoint.RowState) error {
			first = r.Pos
			return errFirstRow
		})
		if !errors.Is(err, errFirstRow) || first != mid+1 {
			b.Fatalf("Rows = %v, first row %d; want row %d", err, first, mid+1)
		}
	}
}
