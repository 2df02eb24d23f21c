package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestBrokenLineIsRetriedByItsLineKey: a broken JSON Lines line is
// reported under "line:N" (not an empty key), and once the line is fixed,
// `import --only-keys failures.csv` imports exactly it.
func TestBrokenLineIsRetriedByItsLineKey(t *testing.T) {
	dir := t.TempDir()
	mp := writeFile(t, dir, "mapping.yaml", "version: 1\nkey: id\nfields:\n  email_address: { from: email, verified: true }\n"+
		"  skip_password_requirement: { value: true }\n")
	good := func(id string) string { return `{"id":"` + id + `","email":"` + id + `@example.com"}` + "\n" }
	src := writeFile(t, dir, "users.jsonl", good("u1")+`{"id":"u2","email":"u2@example.com"`+"\n"+good("u3"))
	out := filepath.Join(dir, "out")
	env := map[string]string{secretKeyEnv: ""}

	res := runCLI(t, dir, env, "import", "--source", src, "--mapping", mp, "--out", out, "--no-progress")
	if res.code != ExitRowsFailed || !strings.Contains(res.stdout, "created  2") || !strings.Contains(res.stdout, "invalid  1") {
		t.Fatalf("first import: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	failures, _ := filepath.Glob(filepath.Join(out, "import-*", "failures.csv"))
	if len(failures) != 1 {
		t.Fatalf("failures.csv: %v", failures)
	}
	b, _ := os.ReadFile(failures[0])
	if !strings.Contains(string(b), "\nline:2,") {
		t.Fatalf("failures.csv does not key the broken line by its line:\n%s", b)
	}
	keys := filepath.Join(dir, "retry.csv")
	os.WriteFile(keys, b, 0o600)

	os.WriteFile(src, []byte(good("u1")+good("u2")+good("u3")), 0o600)
	res = runCLI(t, dir, env, "import", "--source", src, "--mapping", mp, "--out", out, "--no-progress", "--only-keys", keys)
	if res.code != ExitOK || !strings.Contains(res.stdout, "created  1") || !strings.Contains(res.stdout, "skipped  2") {
		t.Fatalf("retry of line 2: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
}

// verdicts reads key -> "code field" of every row with a problem: the first
// finding of each row from validate's findings.jsonl, or the error of each
// invalid or failed row from an import's outcomes.csv.
func verdicts(t *testing.T, out, kind string) map[string]string {
	t.Helper()
	got := map[string]string{}
	if kind == "validate" {
		paths, _ := filepath.Glob(filepath.Join(out, "validate-*", "findings.jsonl"))
		if len(paths) != 1 {
			t.Fatalf("findings.jsonl: %v", paths)
		}
		b, _ := os.ReadFile(paths[0])
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var f struct{ Key, Code, Field string }
			if err := json.Unmarshal([]byte(line), &f); err != nil {
				t.Fatal(err)
			}
			if _, seen := got[f.Key]; !seen {
				got[f.Key] = f.Code + " " + f.Field
			}
		}
		return got
	}
	paths, _ := filepath.Glob(filepath.Join(out, "*", "outcomes.csv"))
	if len(paths) != 1 {
		t.Fatalf("outcomes.csv: %v", paths)
	}
	f, _ := os.Open(paths[0])
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows[1:] { // position,key,clerk_user_id,outcome,error_code,field,...
		if r[3] == "invalid" || r[3] == "failed" {
			got[r[1]] = r[4] + " " + r[5]
		}
	}
	return got
}

// TestOneVerdictOnRewrites: each class of value that would reach Clerk
// changed (or not at all) is a finding with row, field and reason, and
// validate, import --dry-run and import give every row the same one; the
// import sends none of them.
func TestOneVerdictOnRewrites(t *testing.T) {
	dir := t.TempDir()
	mp := writeFile(t, dir, "mapping.yaml", `version: 1
key: id
options:
  default_phone_region: US
fields:
  email_address: { from: [email, more_emails], split: "|", verified: true }
  first_name: first_name
  phone_number: { from: phone, verified: true }
  created_at: created_at
  skip_password_requirement: { value: true }
`)
	var many strings.Builder
	for i := 0; i < 4000; i++ {
		fmt.Fprintf(&many, "|u%04d@example.com", i)
	}
	rows := []string{
		"1,ok@example.com,,Ada,+1 415 555 0134,2019-03-04",
		"2,latin1@example.com,,Jos\xe9,,",
		"3,vanity@example.com,,Flo,1-800-FLOWERS,",
		"4,ext@example.com,,Ext,+1 415 555 0134 x12,",
		"5,old@example.com,,Old,,1969-12-31",
		"6,future@example.com,,Fut,,2999-01-01",
		"7,digits@example.com,,Dig,,20230115",
		"8,long@example.com,," + strings.Repeat("a", 300) + ",,",
		"9,many@example.com," + many.String()[1:] + ",Many,,",
		`10,quote@example.com,,Bad"Quote,,`,
	}
	src := writeFile(t, dir, "users.csv", "id,email,more_emails,first_name,phone,created_at\n"+strings.Join(rows, "\n")+"\n")
	want := map[string]string{
		"2": "utf8_invalid first_name", "3": "phone_invalid phone_number", "4": "phone_invalid phone_number",
		"5": "timestamp_implausible created_at", "6": "timestamp_implausible created_at",
		"7": "timestamp_ambiguous created_at", "8": "too_long first_name", "9": "request_too_large email_address",
		"line:11": "record_unreadable ",
	}
	env := map[string]string{secretKeyEnv: ""}
	for _, cmd := range [][]string{{"validate"}, {"import", "--dry-run"}, {"import"}} {
		out := filepath.Join(dir, strings.Join(cmd, ""))
		res := runCLI(t, dir, env, append(cmd, "--source", src, "--mapping", mp, "--out", out, "--no-progress")...)
		if res.code != ExitRowsFailed {
			t.Fatalf("%v: exit %d\n%s\n%s", cmd, res.code, res.stdout, res.stderr)
		}
		kind := cmd[0]
		got := verdicts(t, out, kind)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%v: verdicts\n%v\nwant\n%v", cmd, got, want)
		}
		if len(cmd) == 1 && kind == "import" && !strings.Contains(res.stdout, "created  1") {
			t.Errorf("import created other than the one good row:\n%s", res.stdout)
		}
	}
}

// TestOneVerdictOnJSONText: a JSON Lines export with bytes that are not
// UTF-8, or a lone surrogate escape, would reach Clerk with U+FFFD in their
// place: each such record gets one verdict naming the key that holds them,
// from validate, import --dry-run and import alike; a broken line is keyed
// by its line.
func TestOneVerdictOnJSONText(t *testing.T) {
	dir := t.TempDir()
	mp := writeFile(t, dir, "mapping.yaml", "version: 1\nkey: id\nfields:\n  email_address: { from: email, verified: true }\n  first_name: name\n"+
		"  skip_password_requirement: { value: true }\n")
	src := writeFile(t, dir, "users.jsonl", `{"id":"1","email":"a@example.com","name":"Ada"}`+"\n"+
		`{"id":"2","email":"b@example.com","name":"Jos`+"\xe9"+`"}`+"\n"+
		`{"id":"3","email":"c@example.com","name":"\ud800"}`+"\n"+
		`{"id":"4","email":"d@example.com","name":"Zo\u00eb \ud83d\ude00"}`+"\n"+
		`{"id":"5","email":`+"\n")
	want := map[string]string{"2": "record_unreadable name", "3": "record_unreadable name", "line:5": "record_unreadable "}
	for _, cmd := range [][]string{{"validate"}, {"import", "--dry-run"}, {"import"}} {
		out := filepath.Join(dir, strings.Join(cmd, ""))
		res := runCLI(t, dir, map[string]string{secretKeyEnv: ""}, append(cmd, "--source", src, "--mapping", mp, "--out", out, "--no-progress")...)
		if res.code != ExitRowsFailed {
			t.Fatalf("%v: exit %d\n%s\n%s", cmd, res.code, res.stdout, res.stderr)
		}
		if got := verdicts(t, out, cmd[0]); !reflect.DeepEqual(got, want) {
			t.Errorf("%v: verdicts %v, want %v", cmd, got, want)
		}
	}
}
