package sources

import (
	"os"
	"path/filepath"
	"testing"
)

func TestEstimateRows(t *testing.T) {
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
		{"csv with header", Spec{Location: write("a.csv", "id,email\n1,a@x\n2,b@x\n")}, 2},
		{"csv without final newline", Spec{Location: write("b.csv", "id,email\n1,a@x\n2,b@x")}, 2},
		{"csv header only", Spec{Location: write("c.csv", "id,email\n")}, 0},
		{"jsonl", Spec{Location: write("d.jsonl", "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n")}, 3},
		{"json array cannot be told", Spec{Location: write("e.json", "[{\"id\":1}]")}, 0},
		{"missing file", Spec{Location: filepath.Join(dir, "nope.csv")}, 0},
		{"postgres cannot be told", Spec{Location: "postgres://localhost/x"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EstimateRows(tt.spec); got != tt.want {
				t.Errorf("EstimateRows = %d, want %d", got, tt.want)
			}
		})
	}
}
