package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

// TestWarningsGetOneVerdict: rows whose only findings are warnings (a
// digest in a form Clerk's documentation leaves open, a username with a dot
// on an instance that allows dots) are valid for validate and import
// --dry-run, and created by import; none of them exits 1, and every one
// keeps the warning in its row's message. A broken digest is refused by all
// three alike.
func TestWarningsGetOneVerdict(t *testing.T) {
	const key = "sk_test_warnings"
	srv, err := emulator.Start(emulator.Config{SecretKey: key, UsernameAllows: "."})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hex := func(n int) string { return strings.Repeat("ab", n) }
	csv := "id,email,username,hash,hasher\n" +
		"w1,w1@example.com,john.doe,,\n" +
		"w2,w2@example.com,,scrypt:32768:8:1$abcDEF123$" + hex(64) + ",scrypt_werkzeug\n" +
		"w3,w3@example.com,,$H$9" + strings.Repeat("a", 30) + ",phpass\n" +
		"w4,w4@example.com,,pbkdf2_sha1$1000$salt$" + hex(32) + ",pbkdf2_sha1\n"
	mapping := "version: 1\nkey: id\nfields:\n  email_address: { from: email, verified: true }\n  username: user\n" +
		"  password_digest: hash\n  password_hasher: { from: hasher, when: hash }\n"
	mapping = strings.Replace(mapping, "username: user", "username: username", 1)
	// Each command in its own directory: validate and a dry run share
	// their run (and so its ledger rows) by design.
	dirs := map[string]string{}
	for _, cmd := range []string{"validate", "dry-run", "import"} {
		dirs[cmd] = t.TempDir()
		for name, text := range map[string]string{"users.csv": csv, "map.yaml": mapping,
			"broken.csv": "id,email,username,hash,hasher\nb1,b1@example.com,,$2b$10$short,bcrypt\n"} {
			if err := os.WriteFile(filepath.Join(dirs[cmd], name), []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	env := map[string]string{secretKeyEnv: key}
	args := []string{"--no-progress", "--source", "users.csv", "--mapping", "map.yaml"}

	v := runCLI(t, dirs["validate"], env, append([]string{"validate"}, args...)...)
	if v.code != ExitOK || !strings.Contains(v.stdout, "4 valid, 0 invalid, 3 findings (3 of them warnings)") ||
		!strings.Contains(v.stdout, "warnings (the rows stay valid") {
		t.Errorf("validate: exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}
	d := runCLI(t, dirs["dry-run"], env, append([]string{"import", "--dry-run"}, args...)...)
	if d.code != ExitOK || !strings.Contains(d.stdout, "4 valid, 0 invalid, 3 findings (3 of them warnings)") {
		t.Errorf("import --dry-run: exit %d\n%s%s", d.code, d.stdout, d.stderr)
	}
	i := runCLI(t, dirs["import"], env, append([]string{"import", "--target", srv.URL()}, args...)...)
	if i.code != ExitOK || !strings.Contains(i.stdout, "created  4") {
		t.Errorf("import: exit %d\n%s%s", i.code, i.stdout, i.stderr)
	}
	// Each run's outcomes keep the warnings as the rows' messages.
	var outs []string
	for _, dir := range dirs {
		found, _ := filepath.Glob(filepath.Join(dir, defaultOutDir, "*", "outcomes.csv"))
		outs = append(outs, found...)
	}
	if len(outs) != 3 {
		t.Fatalf("outcomes files %v, want one per command", outs)
	}
	for _, p := range outs {
		b, _ := os.ReadFile(p)
		if n := strings.Count(string(b), "warning: "); n != 3 {
			t.Errorf("%s holds %d warnings, want 3:\n%s", p, n, b)
		}
	}
	// A broken digest: refused by every command.
	bargs := []string{"--no-progress", "--source", "broken.csv", "--mapping", "map.yaml"}
	for _, cmd := range [][]string{{"validate"}, {"import", "--dry-run"}, {"import", "--target", srv.URL()}} {
		if r := runCLI(t, dirs["import"], env, append(cmd, bargs...)...); r.code != ExitRowsFailed {
			t.Errorf("%v over a broken digest: exit %d, want %d\n%s", cmd, r.code, ExitRowsFailed, r.stdout)
		}
	}
	if n := len(srv.Emulator().Snapshot().Users); n != 4 {
		t.Errorf("the emulator holds %d users, want the 4 valid rows", n)
	}
}
