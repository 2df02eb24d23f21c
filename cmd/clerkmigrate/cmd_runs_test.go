package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestReadOnlyCommandsCreateNoLedger runs the commands that only read the
// ledger (and rollback, which has nothing to undo without one) against an
// --out or --ledger that does not exist: each says so and leaves nothing
// behind (no directory, no empty ledger file).
func TestReadOnlyCommandsCreateNoLedger(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "nonexistent")
	ledger := filepath.Join(dir, "no-ledger.db")
	for _, args := range [][]string{
		{"status", "--out", out},
		{"status", "--out", out, "import-0123"},
		{"status", "--ledger", ledger},
		{"report", "--out", out, "import-0123"},
		{"report", "--ledger", ledger, "--dir", filepath.Join(dir, "reports"), "import-0123"},
		{"rollback", "--out", out, "--dry-run", "import-0123"},
		{"presets", "auth0"},
	} {
		res := runCLI(t, dir, nil, args...)
		if args[0] != "presets" && res.code != ExitUsage {
			t.Errorf("%v: exit %d, want %d\n%s", args, res.code, ExitUsage, res.stderr)
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			t.Errorf("%v left %s behind", args, e.Name())
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}
