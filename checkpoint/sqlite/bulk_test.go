package sqlite_test

import (
	"context"
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
