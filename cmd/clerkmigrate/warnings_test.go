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
// on an instance that allows dots, white space around an email or the
// legacy id, dropped, and an email given twice in a row, sent once) are
// valid for validate and import --dry-run, and created by import and sync;
// none of them exits 1, and every one keeps the warning in its row's
// message. A broken digest is refused by all three alike.
func TestWarningsGetOneVerdict(t *testing.T) {
	const key = "sk_test_warnings"
	srv, err := emulator.Start(emulator.Config{SecretKey: key, UsernameAllows: "."})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	hex := func(n int) string { return strings.Repeat("ab", n) }
	csv := "id,email,username,hash,hasher,email2\n" +
		"w1,w1@example.com,john.doe,,,\n" +
		"w2,w2@example.com,,scrypt:32768:8:1$abcDEF123$" + hex(64) + ",scrypt_werkzeug,\n" +
		"w3,w3@example.com,,$H$9" + strings.Repeat("a", 30) + ",phpass,\n" +
		"w4,w4@example.com,,pbkdf2_sha1$1000$salt$" + hex(32) + ",pbkdf2_sha1,\n" +
		"w5,\" w5@example.com \",,,,\n" + // value_trimmed
		" w6,w6@example.com,,,,\n" + // value_trimmed (external_id)
		"w7,w7@example.com,,,,W7@example.com\n" // value_repeated
	const warnings = 6
	mapping := "version: 1\nkey: id\nfields:\n  email_address: { from: [email, email2], verified: true }\n  username: user\n" +
		"  password_digest: hash\n  password_hasher: { from: hasher, when: hash }\n"
	mapping = strings.Replace(mapping, "username: user", "username: username", 1)
	// Each command in its own directory: validate and a dry run share
	// their run (and so its ledger rows) by design.
	dirs := map[string]string{}
	for _, cmd := range []string{"validate", "dry-run", "import", "sync"} {
		dirs[cmd] = t.TempDir()
		for name, text := range map[string]string{"users.csv": csv, "map.yaml": mapping,
			"broken.csv": "id,email,username,hash,hasher,email2\nb1,b1@example.com,,$2b$10$short,bcrypt,\n"} {
			if err := os.WriteFile(filepath.Join(dirs[cmd], name), []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	env := map[string]string{secretKeyEnv: key}
	args := []string{"--no-progress", "--source", "users.csv", "--mapping", "map.yaml"}

	v := runCLI(t, dirs["validate"], env, append([]string{"validate"}, args...)...)
	if v.code != ExitOK || !strings.Contains(v.stdout, "7 valid, 0 invalid, 6 findings (6 of them warnings)") ||
		!strings.Contains(v.stdout, "warnings (the rows stay valid") {
		t.Errorf("validate: exit %d\n%s%s", v.code, v.stdout, v.stderr)
	}
	d := runCLI(t, dirs["dry-run"], env, append([]string{"import", "--dry-run"}, args...)...)
	if d.code != ExitOK || !strings.Contains(d.stdout, "7 valid, 0 invalid, 6 findings (6 of them warnings)") {
		t.Errorf("import --dry-run: exit %d\n%s%s", d.code, d.stdout, d.stderr)
	}
	i := runCLI(t, dirs["import"], env, append([]string{"import", "--target", srv.URL()}, args...)...)
	if i.code != ExitOK || !strings.Contains(i.stdout, "created  7") {
		t.Errorf("import: exit %d\n%s%s", i.code, i.stdout, i.stderr)
	}
	// The sync of the same rows into an instance of its own creates them
	// all, with the same warnings.
	other, err := emulator.Start(emulator.Config{SecretKey: key, UsernameAllows: "."})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	s := runCLI(t, dirs["sync"], env, append([]string{"sync", "--target", other.URL()}, args...)...)
	if s.code != ExitOK || len(other.Emulator().Snapshot().Users) != 7 {
		t.Errorf("sync: exit %d, %d users\n%s%s", s.code, len(other.Emulator().Snapshot().Users), s.stdout, s.stderr)
	}
	// Each run's outcomes keep the warnings as the rows' messages.
	var outs []string
	for _, dir := range dirs {
		found, _ := filepath.Glob(filepath.Join(dir, defaultOutDir, "*", "outcomes.csv"))
		outs = append(outs, found...)
	}
	if len(outs) != 4 {
		t.Fatalf("outcomes files %v, want one per command", outs)
	}
	for _, p := range outs {
		b, _ := os.ReadFile(p)
		if n := strings.Count(string(b), "warning: "); n != warnings {
			t.Errorf("%s holds %d warnings, want %d:\n%s", p, n, warnings, b)
		}
	}
	// A broken digest: refused by every command.
	bargs := []string{"--no-progress", "--source", "broken.csv", "--mapping", "map.yaml"}
	for _, cmd := range [][]string{{"validate"}, {"import", "--dry-run"}, {"import", "--target", srv.URL()}} {
		if r := runCLI(t, dirs["import"], env, append(cmd, bargs...)...); r.code != ExitRowsFailed {
			t.Errorf("%v over a broken digest: exit %d, want %d\n%s", cmd, r.code, ExitRowsFailed, r.stdout)
		}
	}
	if n := len(srv.Emulator().Snapshot().Users); n != 7 {
		t.Errorf("the emulator holds %d users, want the 7 valid rows", n)
	}
	for _, u := range srv.Emulator().Snapshot().Users {
		if id := *u.ExternalID; id == "w5" || id == "w6" || id == "w7" {
			if len(u.EmailAddresses) != 1 || u.EmailAddresses[0].Value != id+"@example.com" {
				t.Errorf("user %s was created with %+v, want its one address without white space", id, u.EmailAddresses)
			}
		}
	}
}

// TestRepeatedAddressWithTwoStatusesIsSentReserved: a row that gives one
// address twice, once verified and once reserved, is valid with a
// value_repeated warning for validate, import --dry-run, import and sync
// alike, and import and sync create the address reserved, never verified
// (before: the repeat was dropped with its status, silently, and the
// address created verified).
func TestRepeatedAddressWithTwoStatusesIsSentReserved(t *testing.T) {
	const key = "sk_test_repeats"
	csv := "id,emails,statuses\nr1,Ann@example.com|ann@example.com,verified|reserved\n"
	mapping := "version: 1\nkey: id\nfields:\n  email_address: { from: emails, split: \"|\" }\n" +
		"  email_address_identification_status: { from: statuses, split: \"|\" }\n  skip_password_requirement: { value: true }\n"
	for _, cmd := range [][]string{{"validate"}, {"import", "--dry-run"}, {"import"}, {"sync"}} {
		dir := t.TempDir()
		for name, text := range map[string]string{"users.csv": csv, "map.yaml": mapping} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		args := append(cmd, "--no-progress", "--source", "users.csv", "--mapping", "map.yaml")
		var srv *emulator.Server
		if cmd[0] == "sync" || len(cmd) == 1 && cmd[0] == "import" {
			var err error
			if srv, err = emulator.Start(emulator.Config{SecretKey: key}); err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			args = append(args, "--target", srv.URL())
		}
		res := runCLI(t, dir, map[string]string{secretKeyEnv: key}, args...)
		if res.code != ExitOK {
			t.Fatalf("%v: exit %d\n%s%s", cmd, res.code, res.stdout, res.stderr)
		}
		outs, _ := filepath.Glob(filepath.Join(dir, defaultOutDir, "*", "outcomes.csv"))
		if len(outs) != 1 {
			t.Fatalf("%v: outcomes %v", cmd, outs)
		}
		b, _ := os.ReadFile(outs[0])
		if !strings.Contains(string(b), `repeats value 1 ""Ann@example.com""`) || !strings.Contains(string(b), "sent reserved") {
			t.Errorf("%v: the row's message does not carry the value_repeated warning:\n%s", cmd, b)
		}
		if srv == nil {
			continue
		}
		users := srv.Emulator().Snapshot().Users
		if len(users) != 1 || len(users[0].EmailAddresses) != 1 {
			t.Fatalf("%v: users %+v, want one with one address", cmd, users)
		}
		if e := users[0].EmailAddresses[0]; e.Verified || !e.Reserved || e.Value != "ann@example.com" { // stored lower-cased, as Clerk does
			t.Errorf("%v: the address was created %+v, want ann@example.com reserved, not verified", cmd, e)
		}
	}
}
