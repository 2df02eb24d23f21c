package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// TestDryRunIsValidate: `import --dry-run` is the validate engine: on the
// sample and on a file whose later rows repeat earlier rows' identifiers,
// the two commands give the same exit code, the same terminal summary and
// byte-identical findings and outcome files, and a summary.json that
// differs only in its clock readings. The later holder of a shared value
// is invalid in both, a duplicate of the first. The outcome files equal
// those `report` regenerates from the ledger.
func TestDryRunIsValidate(t *testing.T) {
	dir := t.TempDir()
	dups := filepath.Join(dir, "dups.csv")
	os.WriteFile(dups, []byte("id,email,username,phone\n"+
		"1,ann@example.com,annie,+14155550101\n"+
		"2,bob@example.com,bobby,+14155550102\n"+
		"3,ANN@example.com,carol,+14155550103\n"+ // row 1's email
		"4,dan@example.com,BOBBY,+14155550104\n"+ // row 2's username
		"5,eve@example.com,evelyn,+14155550102\n"+ // row 2's phone
		"1,fay@example.com,fayth,+14155550106\n"), 0o600) // row 1's key
	dupsMapping := filepath.Join(dir, "dups.mapping.yaml")
	os.WriteFile(dupsMapping, []byte(`version: 1
key: id
fields:
  email_address: { from: email, transform: [lower], verified: true }
  username: { from: username }
  phone_number: { from: phone, verified: true }
  skip_password_requirement: { value: true }
`), 0o600)
	cases := []struct {
		name string
		args []string
		dups map[string]string // outcomes.csv position → the row it repeats
	}{
		{"sample", []string{"--source", repoFile(t, "samples/legacy_users.csv"), "--mapping", repoFile(t, "samples/legacy_users.mapping.yaml")}, nil},
		{"cross-row duplicates", []string{"--source", dups, "--mapping", dupsMapping},
			map[string]string{"3": "1", "4": "2", "5": "2", "6": "1"}},
	}
	clock := regexp.MustCompile(`in [0-9.]+[µm]?s`)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out := map[string]string{"validate": filepath.Join(dir, tc.name, "v"), "dry": filepath.Join(dir, tc.name, "d")}
			v := runCLI(t, dir, nil, append([]string{"validate", "--no-progress", "--out", out["validate"]}, tc.args...)...)
			d := runCLI(t, dir, nil, append([]string{"import", "--dry-run", "--no-progress", "--out", out["dry"]}, tc.args...)...)
			if v.code != ExitRowsFailed || d.code != v.code {
				t.Fatalf("exit codes: validate %d, import --dry-run %d; want %d both\n%s\n%s", v.code, d.code, ExitRowsFailed, v.stderr, d.stderr)
			}
			norm := func(s, o string) string { return clock.ReplaceAllString(strings.ReplaceAll(s, o, "OUT"), "in T") }
			if a, b := norm(v.stdout, out["validate"]), norm(d.stdout, out["dry"]); a != b {
				t.Errorf("terminal summaries differ:\nvalidate:\n%s\nimport --dry-run:\n%s", a, b)
			}
			runs, _ := filepath.Glob(filepath.Join(out["validate"], "validate-*"))
			if len(runs) != 1 {
				t.Fatalf("validate's run directories: %v", runs)
			}
			id := filepath.Base(runs[0])
			for _, name := range []string{"findings.jsonl", "findings.csv", "outcomes.jsonl", "outcomes.csv", "failures.csv"} {
				a, errA := os.ReadFile(filepath.Join(out["validate"], id, name))
				b, errB := os.ReadFile(filepath.Join(out["dry"], id, name))
				if errA != nil || errB != nil || string(a) != string(b) {
					t.Errorf("%s differs (%v, %v):\nvalidate:\n%s\nimport --dry-run:\n%s", name, errA, errB, a, b)
				}
			}
			if a, b := timeless(t, filepath.Join(out["validate"], id, "summary.json")), timeless(t, filepath.Join(out["dry"], id, "summary.json")); !reflect.DeepEqual(a, b) {
				t.Errorf("summary.json differs:\nvalidate: %v\nimport --dry-run: %v", a, b)
			}
			// The rows the reports were written from (the run's own record
			// of its settlements) are the ledger's: `report` regenerates
			// the same files from the ledger alone.
			again := filepath.Join(dir, tc.name, "from-ledger")
			if r := runCLI(t, dir, nil, "report", "--out", out["validate"], "--dir", again, id); r.code != ExitOK {
				t.Fatalf("report: exit %d\n%s", r.code, r.stderr)
			}
			for _, name := range []string{"outcomes.jsonl", "outcomes.csv", "failures.csv"} {
				a, errA := os.ReadFile(filepath.Join(out["validate"], id, name))
				b, errB := os.ReadFile(filepath.Join(again, name))
				if errA != nil || errB != nil || string(a) != string(b) {
					t.Errorf("%s written by validate differs from the ledger's (%v, %v):\nvalidate:\n%s\nledger:\n%s", name, errA, errB, a, b)
				}
			}
			outcomes, _ := os.ReadFile(filepath.Join(out["dry"], id, "outcomes.csv"))
			for pos, first := range tc.dups {
				if !regexp.MustCompile(`(?m)^` + pos + `,[^\n]*,invalid,duplicate_[a-z_]+,[^\n]*duplicate of row ` + first + `\b`).Match(outcomes) {
					t.Errorf("row %s is not invalid as a duplicate of row %s:\n%s", pos, first, outcomes)
				}
			}
		})
	}
	res := runCLI(t, dir, nil, "import", "--dry-run", "--only-keys", dups, "--source", dups, "--mapping", dupsMapping)
	if res.code != ExitUsage || !strings.Contains(res.stderr, "--only-keys has no meaning with --dry-run") {
		t.Errorf("--only-keys with --dry-run: exit %d\n%s", res.code, res.stderr)
	}
}

// timeless reads a summary.json without its clock readings.
func timeless(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "generated_at")
	delete(m, "timing")
	delete(m, "throughput")
	if run, ok := m["run"].(map[string]any); ok {
		delete(run, "started_at")
		delete(run, "updated_at")
	}
	return m
}
