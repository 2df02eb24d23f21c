package verdict

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestExtSorterMatchesAStableSort sorts the same records in memory and
// through many spilled runs; both must equal a stable sort by key.
func TestExtSorterMatchesAStableSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var recs [][]byte
	for i := range 5000 {
		rec := binary.BigEndian.AppendUint32(nil, uint32(rng.IntN(300))) // many equal keys
		rec = binary.BigEndian.AppendUint32(rec, uint32(i))              // the order added, to check stability
		rec = append(rec, bytes.Repeat([]byte{'x'}, rng.IntN(40))...)
		recs = append(recs, rec)
	}
	want := slices.Clone(recs)
	slices.SortStableFunc(want, func(a, b []byte) int { return bytes.Compare(a[:4], b[:4]) })
	for _, chunk := range []int{0, 512, 4096} {
		s := newExtSorter(t.TempDir(), 4, chunk)
		for _, r := range recs {
			if err := s.Add(r); err != nil {
				t.Fatal(err)
			}
		}
		it, err := s.Sorted()
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		for rec, ok := it.Next(); ok; rec, ok = it.Next() {
			if i >= len(want) || !bytes.Equal(rec, want[i]) {
				t.Fatalf("chunk %d: record %d out of order", chunk, i)
			}
			i++
		}
		if it.Err() != nil || i != len(want) {
			t.Fatalf("chunk %d: %d records, %v", chunk, i, it.Err())
		}
		if chunk == 512 && len(s.runs) < 10 {
			t.Errorf("chunk 512 wrote %d runs; the test meant to spill", len(s.runs))
		}
		s.Close()
	}
}

// TestExtSorterTwoWordKeys sorts 16-byte keys whose first words repeat
// (so the second word decides among them, in no particular order of
// adding) and whose bytes vary at every radix pass, in memory and spilled;
// the result must equal a stable sort by key.
func TestExtSorterTwoWordKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var recs [][]byte
	for i := range 20000 {
		hi := rng.Uint64() >> (rng.IntN(8) * 8) // some words with leading zero bytes
		if rng.IntN(4) > 0 {
			hi = uint64(rng.IntN(50)) << 40 // many equal first words
		}
		rec := binary.BigEndian.AppendUint64(nil, hi)
		rec = binary.BigEndian.AppendUint64(rec, uint64(rng.IntN(20))) // ties on the whole key too
		rec = binary.BigEndian.AppendUint32(rec, uint32(i))
		recs = append(recs, rec)
	}
	want := slices.Clone(recs)
	slices.SortStableFunc(want, func(a, b []byte) int { return bytes.Compare(a[:16], b[:16]) })
	for _, chunk := range []int{0, 1000, 64 << 10} {
		s := newExtSorter(t.TempDir(), 16, chunk)
		for _, r := range recs {
			if err := s.Add(r); err != nil {
				t.Fatal(err)
			}
		}
		it, err := s.Sorted()
		if err != nil {
			t.Fatal(err)
		}
		i := 0
		for rec, ok := it.Next(); ok; rec, ok = it.Next() {
			if i >= len(want) || !bytes.Equal(rec, want[i]) {
				t.Fatalf("chunk %d: record %d is %x, want %x", chunk, i, rec, want[i])
			}
			i++
		}
		if it.Err() != nil || i != len(want) {
			t.Fatalf("chunk %d: %d records, %v", chunk, i, it.Err())
		}
		s.Close()
	}
}
