package sources

import (
	"os"
	"path/filepath"
	"testing"
)

// TestInfoEstimatesRows checks Info().Rows, the record count a progress
// display's ETA uses: counted from lines in the fingerprint pass, so a quoted
// field with a newline makes it an overestimate, never an underestimate.
func TestInfoEstimatesRows(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
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
		{"json array is unknown", Spec{Location: write("f.json", "[{\"id\":1},{\"id\":2}]"), KeyPath: "id"}, 0},
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
		})
	}
}
