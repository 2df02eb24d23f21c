package sources

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// checkStream drains src and checks the invariants every source keeps: no
// panic, Index increasing by 1 from 1, offsets inside the file, lines not
// going backwards, and a stable end (io.EOF or the same fatal error again).
func checkStream(t *testing.T, src Source, size int64) {
	t.Helper()
	ctx := context.Background()
	var last Position
	for n := 0; ; n++ {
		if n > int(size)+2 {
			t.Fatalf("more records (%d) than bytes (%d)", n, size)
		}
		rec, err := src.Next(ctx)
		if err != nil {
			if _, again := src.Next(ctx); again != err {
				t.Fatalf("Next after %v returned %v", err, again)
			}
			return
		}
		if rec.Pos.Index != last.Index+1 {
			t.Fatalf("index %d after %d", rec.Pos.Index, last.Index)
		}
		if rec.Pos.Offset < 0 || rec.Pos.Offset > size {
			t.Fatalf("record %d: offset %d outside a %d-byte file", rec.Pos.Index, rec.Pos.Offset, size)
		}
		if rec.Pos.Line < last.Line {
			t.Fatalf("record %d: line %d after line %d", rec.Pos.Index, rec.Pos.Line, last.Line)
		}
		if rec.Err == nil && rec.Values == nil {
			t.Fatalf("record %d: neither values nor error", rec.Pos.Index)
		}
		if rec.Values != nil {
			rec.Values.Lookup("id")
			rec.Values.Lookup("a.b[0].c")
		}
		last = rec.Pos
	}
}

func fuzzFile(t *testing.T, name string, data []byte) string {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func FuzzCSV(f *testing.F) {
	seeds := []string{
		"id,email\n1,a@x.io\n",
		"\xEF\xBB\xBFid,name\r\n1,\"two\r\nlines\"\r\n2,x\r\n",
		"id,name\n1,bad\"quote\n2,\"open\n3,x\n",
		"id,a,b\n1\n2,3,4,5\n\n\n3,4,5\n",
		"id;name\n1;x\n",
		"a,a\n",
		"",
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
	}
	f.Fuzz(func(t *testing.T, data []byte, lazy bool) {
		path := fuzzFile(t, "f.csv", data)
		src, err := OpenCSV(CSVConfig{Path: path, LazyQuotes: lazy})
		if err != nil {
			return
		}
		defer src.Close()
		checkStream(t, src, int64(len(data)))
	})
}

func FuzzJSON(f *testing.F) {
	seeds := []string{
		`[{"id":1},{"id":"2","a":{"b":[{"c":3}]}}]`,
		`{"users":[{"id":1},42,{"id":3}]}`,
		`{"users":[{"id":1},{"id": tru}]}`,
		"{\"id\":1}\n\n{\"id\":2\n[1]\n{\"id\":3} x\n",
		"\xEF\xBB\xBF[{\"id\":1}]",
		`{"a":[],"b":[]}`,
		`[{"id":1},`,
		"",
	}
	for _, s := range seeds {
		f.Add([]byte(s), false)
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, lines bool) {
		path := fuzzFile(t, "f.json", data)
		src, err := OpenJSON(JSONConfig{Path: path, Lines: lines, KeyPath: "id"})
		if err != nil {
			return
		}
		defer src.Close()
		checkStream(t, src, int64(len(data)))
	})
}
