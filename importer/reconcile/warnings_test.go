package reconcile

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

// TestSyncSendsRowsWithWarnings: a row whose only finding is a warning (a
// Werkzeug scrypt digest, whose layout Clerk's docs leave open) is created
// by a sync like any valid row, and its ledger message keeps the warning;
// a broken digest is invalid, as validate and import say.
func TestSyncSendsRowsWithWarnings(t *testing.T) {
	e := newEnv(t, emulator.Config{})
	e.useMapping(t, "warn.yaml", "version: 1\nkey: id\nfields:\n  email_address: { from: email, verified: true }\n"+
		"  password_digest: hash\n  password_hasher: hasher\n")
	path := filepath.Join(e.dir, "warn.csv")
	csv := "id,email,hash,hasher\n" +
		"w1,w1@example.com,scrypt:32768:8:1$abcDEF123$" + strings.Repeat("ab", 64) + ",scrypt_werkzeug\n" +
		"b1,b1@example.com,$2b$10$short,bcrypt\n"
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := e.config(t, path)
	cfg.Managed = nil
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if sum.ByOutcome[checkpoint.Created] != 1 || sum.ByOutcome[checkpoint.Invalid] != 1 {
		t.Fatalf("outcomes %v, want 1 created and 1 invalid", sum.ByOutcome)
	}
	if _, ok := users(t, e.srv.Emulator())["w1"]; !ok {
		t.Errorf("the row with a warning is not in Clerk")
	}
	if msg := e.rowMessage(t, sum.RunID, "w1"); !strings.Contains(msg, "warning: password_digest") {
		t.Errorf("w1's message %q does not keep the warning", msg)
	}
}
