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
//   - UnseenOwners: the sync's orphan step over a ledger holding an import
//     of 200,000 users and an index of 50,000 users the source does not
//     list, 10,000 of them the import's (orphans) and 40,000 not ours;
//     each op is CountUnseen, then Unseen over all of them (the ownership
//     probe of every user).
func Bench(b *testing.B, open func(b *testing.B) checkpoint.Store) {
	b.Run("Settle/batch=500", func(b *testing.B) { benchSettle(b, open(b), 500) })
	for _, n := range []int{10, 500} {
		b.Run(fmt.Sprintf("MarkSettle/batch=%d", n), func(b *testing.B) { benchMarkSettle(b, open(b), n) })
	}
	b.Run("Resume1M", func(b *testing.B) { benchResume(b, open(b), 1_000_000) })
	b.Run("UnseenOwners", func(b *testing.B) { benchUnseenOwners(b, open(b)) })
}

func benchUnseenOwners(b *testing.B, s checkpoint.Store) {
	defer s.Close()
	x, ok := s.(checkpoint.ClerkIndex)
	if !ok {
		b.Skipf("%T is not a ClerkIndex", s)
	}
	ctx := context.Background()
	const imported, owned, foreign = 200_000, 10_000, 40_000
	sp := spec("import-bench")
	sp.Meta = map[string]string{checkpoint.MetaTarget: "bench"}
	if _, err := s.BeginRun(ctx, sp); err != nil {
		b.Fatal(err)
	}
	for from := int64(1); from <= imported; from += 10_000 {
		batch := make([]checkpoint.Settlement, 0, 10_000)
		for p := from; p < from+10_000; p++ {
			batch = append(batch, settlement(p))
		}
		if err := s.Settle(ctx, "import-bench", batch); err != nil {
			b.Fatal(err)
		}
	}
	var users []checkpoint.IndexedUser
	for i := int64(1); i <= owned+foreign; i++ {
		u := checkpoint.IndexedUser{ClerkID: fmt.Sprintf("user_3y%024d", i), ExternalID: fmt.Sprintf("crm-%d", i),
			UpdatedAt: 1, State: []byte("{}")}
		if i <= owned {
			p := (i-1)*int64(imported/owned) + 1 // a created row of the import (one at a multiple of 97 failed)
			if p%97 == 0 {
				p++
			}
			u.ClerkID, u.ExternalID = settlement(p).ClerkID, settlement(p).Key
		}
		users = append(users, u)
	}
	for from := 0; from < len(users); from += 500 {
		if err := x.PutUsers(ctx, "bench", users[from:min(len(users), from+500)]); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		c, err := x.CountUnseen(ctx, "bench")
		if err != nil || c != (checkpoint.UnseenCounts{Owned: owned, NotOwned: foreign}) {
			b.Fatalf("CountUnseen = %+v, %v", c, err)
		}
		n := 0
		if err := x.Unseen(ctx, "bench", func(u checkpoint.IndexedUser) error {
			if u.Owner != "" {
				n++
			}
			return nil
		}); err != nil || n != owned {
			b.Fatalf("Unseen: %d owned, %v", n, err)
		}
	}
	b.ReportMetric(float64(b.N*(owned+foreign))/b.Elapsed().Seconds(), "unseen-users/s")
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
