package sqlite_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/sqlite"
)

// TestBulkAndReplaceMix interleaves batches of new positions (the bulk
// path) with batches over positions already written (the replacing path),
// across a reopen by another Store, and checks the counts, the gap-free
// prefix and every row's state against a model.
func TestBulkAndReplaceMix(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "ledger.db")
	model := map[int64]checkpoint.Outcome{} // "" = in flight
	spec := checkpoint.RunSpec{ID: "r", Kind: "validate", SourceFingerprint: "s", MappingFingerprint: "m"}
	settle := func(s *sqlite.Store, from, to int64, o checkpoint.Outcome) {
		t.Helper()
		var b []checkpoint.Settlement
		for p := from; p <= to; p++ {
			b = append(b, checkpoint.Settlement{Pos: p, Key: "k", Outcome: o, Message: string(o)})
			model[p] = o
		}
		if err := s.Settle(ctx, "r", b); err != nil {
			t.Fatalf("Settle %d..%d: %v", from, to, err)
		}
	}
	mark := func(s *sqlite.Store, from, to int64) {
		t.Helper()
		var b []checkpoint.Row
		for p := from; p <= to; p++ {
			b = append(b, checkpoint.Row{Pos: p, Key: "k"})
			model[p] = ""
		}
		if err := s.MarkInFlight(ctx, "r", b); err != nil {
			t.Fatalf("MarkInFlight %d..%d: %v", from, to, err)
		}
	}
	check := func(s *sqlite.Store, wantMax int64) {
		t.Helper()
		p, err := s.Progress(ctx, "r")
		if err != nil {
			t.Fatal(err)
		}
		want := map[checkpoint.Outcome]int64{}
		var inFlight int64
		for _, o := range model {
			if o == "" {
				inFlight++
			} else {
				want[o]++
			}
		}
		if p.InFlight != inFlight || len(p.ByOutcome) != len(want) {
			t.Fatalf("progress %+v, want in flight %d, outcomes %v", p, inFlight, want)
		}
		for o, n := range want {
			if p.ByOutcome[o] != n {
				t.Fatalf("progress %+v, want %v", p, want)
			}
		}
		if p.MaxSettledPos != wantMax {
			t.Fatalf("MaxSettledPos = %d, want %d", p.MaxSettledPos, wantMax)
		}
		n := 0
		err = s.Rows(ctx, "r", checkpoint.Filter{}, func(r checkpoint.RowState) error {
			n++
			if o, ok := model[r.Pos]; !ok || o != r.Outcome || r.InFlight != (o == "") {
				t.Fatalf("row %d: %+v, model %q", r.Pos, r, o)
			}
			return nil
		})
		if err != nil || n != len(model) {
			t.Fatalf("Rows: %d rows, %v; want %d", n, err, len(model))
		}
	}
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.BeginRun(ctx, spec); err != nil {
		t.Fatal(err)
	}
	settle(s, 1, 1000, checkpoint.Valid)      // bulk, prefix 1000
	settle(s, 1001, 1700, checkpoint.Invalid) // bulk, 700 rows: one full INSERT and a rest
	check(s, 1700)
	settle(s, 1500, 2500, checkpoint.Valid) // overlaps: replacing path
	check(s, 2500)
	settle(s, 3001, 3100, checkpoint.Invalid) // bulk past a gap: prefix stays
	check(s, 2500)
	mark(s, 3101, 3200) // bulk marks
	check(s, 2500)
	settle(s, 2501, 3000, checkpoint.Valid) // fills the gap (bulk? no: below the top)
	check(s, 3100)
	if err := s.FinishRun(ctx, "r", checkpoint.Interrupted); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s2, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.BeginRun(ctx, spec); err != nil {
		t.Fatal(err)
	}
	settle(s2, 3150, 3300, checkpoint.Failed)  // straddles the top read at BeginRun
	check(s2, 3100)                            // 3101..3149 still in flight
	settle(s2, 3301, 3400, checkpoint.Created) // bulk after a reopen
	settle(s2, 1, 10, checkpoint.Invalid)
	check(s2, 3100)
	settle(s2, 3101, 3149, checkpoint.Created)
	check(s2, 3400)
}

// TestSlimAndFullRows writes batches mixing rows that only have an outcome
// (written through the two-parameter statements) with rows that carry
// every column, and in-flight marks with and without a request hash, in
// batch sizes that need the largest statement and every power of two below
// it, fresh and replacing; every column of every row is checked against a
// model after each batch.
func TestSlimAndFullRows(t *testing.T) {
	ctx := context.Background()
	s, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.BeginRun(ctx, checkpoint.RunSpec{ID: "r", Kind: "import", SourceFingerprint: "s", MappingFingerprint: "m"}); err != nil {
		t.Fatal(err)
	}
	type state struct {
		s        checkpoint.Settlement
		inFlight bool
	}
	model := map[int64]state{}
	outcomes := []checkpoint.Outcome{checkpoint.Valid, checkpoint.Invalid, checkpoint.Created, checkpoint.Failed}
	settle := func(from, to int64, salt int) {
		t.Helper()
		var b []checkpoint.Settlement
		for p := from; p <= to; p++ {
			x := checkpoint.Settlement{Pos: p, Key: fmt.Sprintf("k%d-%d", p, salt), Outcome: outcomes[(int(p)+salt)%len(outcomes)]}
			if (int(p)+salt)%7 == 0 { // a full row
				x.ClerkID, x.ErrorCode, x.Field, x.Message = "user_"+x.Key, "code", "email_address", "why "+x.Key
				x.Attempts, x.Retryable, x.RequestHash = int(p%5)+1, p%2 == 0, "h"+x.Key
			}
			b = append(b, x)
			model[p] = state{s: x}
		}
		if err := s.Settle(ctx, "r", b); err != nil {
			t.Fatalf("Settle %d..%d: %v", from, to, err)
		}
	}
	mark := func(from, to int64) {
		t.Helper()
		var b []checkpoint.Row
		for p := from; p <= to; p++ {
			r := checkpoint.Row{Pos: p, Key: fmt.Sprintf("m%d", p)}
			if p%3 == 0 {
				r.RequestHash = fmt.Sprintf("rh%d", p)
			}
			b = append(b, r)
			model[p] = state{s: checkpoint.Settlement{Pos: p, Key: r.Key, RequestHash: r.RequestHash}, inFlight: true}
		}
		if err := s.MarkInFlight(ctx, "r", b); err != nil {
			t.Fatalf("MarkInFlight %d..%d: %v", from, to, err)
		}
	}
	check := func() {
		t.Helper()
		n := 0
		err := s.Rows(ctx, "r", checkpoint.Filter{}, func(r checkpoint.RowState) error {
			n++
			m, ok := model[r.Pos]
			if !ok || r.Settlement != m.s || r.InFlight != m.inFlight {
				t.Fatalf("row %d: %+v in flight %v, model %+v", r.Pos, r.Settlement, r.InFlight, m)
			}
			return nil
		})
		if err != nil || n != len(model) {
			t.Fatalf("Rows: %d rows, %v; want %d", n, err, len(model))
		}
		p, err := s.Progress(ctx, "r")
		if err != nil {
			t.Fatal(err)
		}
		var inFlight int64
		for _, m := range model {
			if m.inFlight {
				inFlight++
			}
		}
		if p.InFlight != inFlight || p.Settled()+inFlight != int64(len(model)) {
			t.Fatalf("progress %+v, model %d rows, %d in flight", p, len(model), inFlight)
		}
	}
	settle(1, 1, 0)    // one row
	settle(2, 2100, 0) // fresh: the largest statements and a rest of every size
	check()
	settle(1000, 2600, 1) // replacing
	check()
	mark(2601, 3300) // fresh marks, some slim
	mark(500, 1200)  // replacing marks
	check()
	settle(3, 5, 2)
	settle(600, 3300, 3)
	check()
}
