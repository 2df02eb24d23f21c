package sources

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// TestInfoEstimatesRows checks Info().Rows, the record count a progress
// display's ETA uses, learnt in the fingerprint pass: a CSV's and a JSON
// Lines file's lines (a quoted field with a newline makes it an
// overestimate, never an underestimate), a JSON file's records counted
// where they are (the elements of the users array, however it is laid out).
func TestInfoEstimatesRows(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Brackets, braces, commas and escaped quotes inside strings, nested
	// arrays and objects in records: none of them is a record.
	const pretty = `[
  {
    "id": 1,
    "note": "a [bracket], a {brace}, a \"quote\" and a comma,", "dir": "C:\\[x]\\",
    "roles": ["admin", "user"],
    "meta": {"tags": [1, 2, {"x": []}]}
  },
  {
    "id": 2,
    "roles": []
  },
  {"id": 3}
]
`
	const wrapped = `{
  "kind": "export",
  "users": [
    {"id": 1, "groups": [[1], [2]]},
    {"id": 2},
    {"id": 3}
  ],
  "meta": {"count": [9, 9, 9, 9]}
}`
	const nested = `{"data": {"total": 2, "other": [1, 2, 3], "users": [{"id": 1, "users": [5, 6, 7]}, {"id": 2}]}, "users": [1, 2, 3, 4]}`
	tests := []struct {
		name string
		spec Spec
		want int64
	}{
		{"csv with header", Spec{Location: write("a.csv", "id,email\n1,a@x\n2,b@x\n"), KeyPath: "id"}, 2},
		{"csv without final newline", Spec{Location: write("b.csv", "id,email\n1,a@x\n2,b@x"), KeyPath: "id"}, 2},
		{"csv with a quoted newline overestimates", Spec{Location: write("c.csv", "id,note\n1,\"a\nb\"\n"), KeyPath: "id"}, 2},
		{"csv header only", Spec{Location: write("d.csv", "id,email\n"), KeyPath: "id"}, 0},
		{"jsonl", Spec{Location: write("e.jsonl", "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n"), KeyPath: "id"}, 3},
		{"json array", Spec{Location: write("f.json", "[{\"id\":1},{\"id\":2}]"), KeyPath: "id"}, 2},
		{"pretty-printed json array", Spec{Location: write("g.json", pretty), KeyPath: "id"}, 3},
		{"json array of one", Spec{Location: write("h.json", "\ufeff[ {\"id\":1} ]\n"), KeyPath: "id"}, 1},
		{"empty json array", Spec{Location: write("i.json", "[\n]\n"), KeyPath: "id"}, 0},
		{"users array in an object", Spec{Location: write("j.json", wrapped), KeyPath: "id"}, 3},
		{"users array at a path", Spec{Location: write("k.json", nested), KeyPath: "id", ArrayPath: "data.users"}, 2},
		{"users array at a one-key path", Spec{Location: write("l.json", wrapped), KeyPath: "id", ArrayPath: "users"}, 3},
		{"records that are not objects count too", Spec{Location: write("n.json", `[{"id":1}, 2, "x", [3], null, true]`), KeyPath: "id"}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src, err := Open(t.Context(), tt.spec)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if got := src.Info().Rows; got != tt.want {
				t.Errorf("Info().Rows = %d, want %d", got, tt.want)
			}
			if src.Info().Kind != "json" {
				return
			}
			var read int64 // a JSON array's count is exact: what Next yields
			for {
				_, err := src.Next(t.Context())
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				read++
			}
			if read != tt.want {
				t.Errorf("Next yields %d records, Info().Rows said %d", read, tt.want)
			}
		})
	}
}
