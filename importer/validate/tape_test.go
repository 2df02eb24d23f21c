package validate

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// TestTapeRoundTrip: the reports read back every settlement as handed,
// the late ones in place of the first, whatever the length of a text (one
// longer than the reader's buffer included) and the outcome.
func TestTapeRoundTrip(t *testing.T) {
	tp, err := newTape(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer tp.close()
	long := strings.Repeat("é,\n\"", 100_000) // 700 kB: past the 256 KiB buffer
	var pass []checkpoint.Settlement
	for p := int64(1); p <= 5000; p++ {
		s := checkpoint.Settlement{Pos: p, Key: "k" + strings.Repeat("x", int(p%300)), Outcome: checkpoint.Valid}
		switch p % 7 {
		case 3:
			s = checkpoint.Settlement{Pos: p, Key: "", Outcome: checkpoint.Invalid, ErrorCode: "code", Field: "email",
				Message: "m" + strings.Repeat("y", int(p)), Attempts: int(p), Retryable: true, ClerkID: "user_1", RequestHash: "h"}
		case 5:
			s.Outcome = checkpoint.Failed
		}
		if p == 4242 {
			s.Message = long
		}
		pass = append(pass, s)
	}
	late := []checkpoint.Settlement{{Pos: 2, Key: "k", Outcome: checkpoint.Invalid, Message: long}, {Pos: 4999, Outcome: checkpoint.Invalid}}
	if err := tp.add(pass[:1234]); err != nil {
		t.Fatal(err)
	}
	if err := tp.add(pass[1234:]); err != nil {
		t.Fatal(err)
	}
	tp.markLate()
	if err := tp.add(late); err != nil {
		t.Fatal(err)
	}
	want := append([]checkpoint.Settlement(nil), pass...)
	want[1], want[4998] = late[0], late[1]
	var got []checkpoint.Settlement
	if err := tp.rows(context.Background(), func(r checkpoint.RowState) error {
		got = append(got, r.Settlement)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Fatalf("row %d: got %+.80v, want %+.80v", i+1, got[i], want[i])
		}
	}
}
