package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/sources/pgtest"
)

// misspeltMapping maps first_name from "firstname", a column the sources
// below do not have (they have first_name), on line 5.
const misspeltMapping = `version: 1
key: id
fields:
  email_address: { from: email, verified: true }
  first_name: { from: firstname }
  last_name: last_name
  skip_password_requirement: { value: true }
`

// writeFile writes a test file and returns its path.
func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// wantMisspeltRefused checks that a command was refused as a usage error
// naming the mapping's line and the column meant, before any row: no run
// in the ledger, no report.
func wantMisspeltRefused(t *testing.T, what string, res cliResult, mappingPath, out string) {
	t.Helper()
	if res.code != ExitUsage {
		t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, res.code, ExitUsage, res.stdout, res.stderr)
	}
	for _, want := range []string{mappingPath + ":5:", `"firstname"`, `did you mean "first_name"?`} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("%s: stderr lacks %q:\n%s", what, want, res.stderr)
		}
	}
	if runs, _ := filepath.Glob(filepath.Join(out, "*", "summary.json")); len(runs) > 0 {
		t.Errorf("%s: a run was reported: %v", what, runs)
	}
}

// TestMisspeltColumnIsAUsageErrorCSV: every command that reads a source
// with a mapping refuses a `from:` the CSV header lacks, before any row.
func TestMisspeltColumnIsAUsageErrorCSV(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, dir, "users.csv", "id,email,first_name,last_name\n"+
		"1,ada@example.com,Ada,Lovelace\n2,alan@example.com,Alan,Turing\n")
	mp := writeFile(t, dir, "mapping.yaml", misspeltMapping)
	out := filepath.Join(dir, "out")
	env := map[string]string{secretKeyEnv: ""}
	for _, args := range [][]string{
		{"validate"},
		{"import", "--dry-run"},
		{"import"},
		{"sync", "--plan", filepath.Join(dir, "plan.json")},
	} {
		args = append(args, "--source", src, "--mapping", mp, "--out", out, "--no-progress")
		res := runCLI(t, dir, env, args...)
		wantMisspeltRefused(t, strings.Join(args[:2], " "), res, mp, out)
	}
}

// TestMisspeltColumnIsAUsageErrorJSON: JSON has no header; a path that none
// of the first records has while they have one that looks like it is a
// typo, refused the same way (JSON Lines and a JSON array alike).
func TestMisspeltColumnIsAUsageErrorJSON(t *testing.T) {
	dir := t.TempDir()
	mp := writeFile(t, dir, "mapping.yaml", misspeltMapping)
	out := filepath.Join(dir, "out")
	lines := `{"id":"1","email":"ada@example.com","first_name":"Ada","last_name":"Lovelace"}` + "\n" +
		`{"id":"2","email":"alan@example.com","first_name":"Alan","last_name":"Turing"}` + "\n"
	for name, text := range map[string]string{
		"users.jsonl": lines,
		"users.json":  "[" + strings.Replace(strings.TrimSpace(lines), "\n", ",\n", 1) + "]",
	} {
		src := writeFile(t, dir, name, text)
		for _, args := range [][]string{{"validate"}, {"import"}} {
			args = append(args, "--source", src, "--mapping", mp, "--out", out, "--no-progress")
			res := runCLI(t, dir, map[string]string{secretKeyEnv: ""}, args...)
			wantMisspeltRefused(t, name+" "+args[0], res, mp, out)
		}
	}
}

// TestMisspeltColumnIsAUsageErrorPostgres: the columns of the table (and of
// a query's result) are the header, on the real server.
func TestMisspeltColumnIsAUsageErrorPostgres(t *testing.T) {
	db := pgtest.Database(t, "cm_columns",
		`CREATE TABLE users (id text PRIMARY KEY, email text, first_name text, last_name text)`,
		`INSERT INTO users VALUES ('1', 'ada@example.com', 'Ada', 'Lovelace'), ('2', 'alan@example.com', 'Alan', 'Turing')`)
	dir := t.TempDir()
	mp := writeFile(t, dir, "mapping.yaml", misspeltMapping)
	out := filepath.Join(dir, "out")
	for _, sel := range [][]string{
		{"--table", "users"},
		{"--query", "SELECT id, email, first_name, last_name FROM users ORDER BY id"},
		{"--query", "SELECT * FROM users WHERE false"}, // no row at all: the columns still tell
	} {
		for _, cmd := range []string{"validate", "import"} {
			args := append([]string{cmd, "--source", db, "--mapping", mp, "--out", out, "--no-progress"}, sel...)
			res := runCLI(t, dir, map[string]string{secretKeyEnv: ""}, args...)
			wantMisspeltRefused(t, cmd+" "+strings.Join(sel, " "), res, mp, out)
		}
	}
}

// TestPresetOnAKindItDoesNotReadIsRefused: the Django preset reads its
// Postgres (or a CSV of its query), not JSON Lines; today such a run maps
// what it can and exits 0.
func TestPresetOnAKindItDoesNotReadIsRefused(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, dir, "users.jsonl", `{"id":1,"email":"ada@example.com","username":"ada_l","first_name":"Ada"}`+"\n")
	for _, cmd := range []string{"validate", "import"} {
		res := runCLI(t, dir, map[string]string{secretKeyEnv: ""}, cmd, "--preset", "django", "--source", src,
			"--out", filepath.Join(dir, "out"), "--no-progress")
		if res.code != ExitUsage || !strings.Contains(res.stderr, "preset django reads postgres or csv; --source "+src+" is jsonl") {
			t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", cmd, res.code, res.stdout, res.stderr)
		}
	}
}

// TestDetectHasherIsCheckedToo: validate --detect-hasher reads a rewritten
// mapping whose hasher comes from a virtual column: that column is not
// asked of the source, a misspelt real one is refused all the same.
func TestDetectHasherIsCheckedToo(t *testing.T) {
	dir := t.TempDir()
	src := writeFile(t, dir, "users.csv", "id,email,hash\n1,ada@example.com,$2a$10$54cbf.ymtKSc4jsKFRlzae9cuuBPUuF9HdApTvElGczWqU1ST1uv6\n")
	good := writeFile(t, dir, "good.yaml", "version: 1\nkey: id\nfields:\n  email_address: { from: email, verified: true }\n  password_digest: hash\n")
	bad := writeFile(t, dir, "bad.yaml", "version: 1\nkey: id\nfields:\n  email_address: { from: emial, verified: true }\n  password_digest: hash\n")
	out := filepath.Join(dir, "out")
	res := runCLI(t, dir, nil, "validate", "--detect-hasher", "--source", src, "--mapping", good, "--out", out, "--no-progress")
	if res.code != ExitOK || !strings.Contains(res.stdout, "hashers: bcrypt (detected) 1") {
		t.Fatalf("good mapping: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	res = runCLI(t, dir, nil, "validate", "--detect-hasher", "--source", src, "--mapping", bad, "--out", out, "--no-progress")
	if res.code != ExitUsage || !strings.Contains(res.stderr, bad+`: email_address: from "emial": the CSV header has no such column; did you mean "email"?`) {
		t.Fatalf("misspelt: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
}
