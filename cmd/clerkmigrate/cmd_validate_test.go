package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestValidateOnTheSampleExitsOneWithFindings(t *testing.T) {
	dir := t.TempDir()
	// Three of the sample's canaries, one per hasher it uses: every canary
	// of the sample verifying is importer/validate's TestCanariesOnTheSample
	// (under -race each bcrypt check costs half a CPU second).
	canaries := sampleCanaries(t, dir, "alice.walker@example.com", "zoe.angstrom@example.se", "chloe.dubois@example.fr")
	res := runCLI(t, dir, map[string]string{secretKeyEnv: ""}, "validate", "--no-progress",
		"--canary-file", canaries, "--canary", "bob.martin@example.com:not-bobs-password")
	if res.code != ExitRowsFailed {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, ExitRowsFailed, res.stdout, res.stderr)
	}
	for _, want := range []string{"41 rows", "6 invalid", "duplicate_email", "rows 38 (key 1038)",
		"canaries: 3 verified, 1 WRONG", "WRONG          bob.martin@example.com (row 2, key 1002"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
		}
	}
	// Row 5 keeps the email it shares with row 38: it is imported, so its
	// finding is listed among the warnings, not the problems.
	if _, warnings, _ := strings.Cut(res.stdout, "warnings ("); !strings.Contains(warnings, "rows 5 (key 1005)") {
		t.Errorf("row 5's duplicate_email is not among the warnings:\n%s", res.stdout)
	}
	paths, _ := filepath.Glob(filepath.Join(dir, defaultOutDir, "validate-*", "findings.jsonl"))
	if len(paths) != 1 {
		t.Fatalf("findings.jsonl: %v", paths)
	}
	b, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	codes := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var f struct{ Key, Code string }
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("findings.jsonl: %v", err)
		}
		codes[f.Key] = append(codes[f.Key], f.Code)
	}
	want := map[string]string{"1004": "value_repeated", "1005": "duplicate_email", "1036": "digest_invalid", "1037": "hasher_unknown",
		"1038": "duplicate_email", "1039": "missing", "1040": "json_invalid verified_unknown", "1041": "totp_invalid"}
	if len(codes) != len(want) {
		t.Errorf("findings for keys %v, want %v", codes, want)
	}
	for k, c := range want {
		if got := strings.Join(codes[k], " "); got != c {
			t.Errorf("key %s: %s, want %s", k, got, c)
		}
	}
	// The reports of the run exist beside the findings, and the HTML shows them.
	html, err := os.ReadFile(filepath.Join(filepath.Dir(paths[0]), "report.html"))
	if err != nil || !strings.Contains(string(html), "duplicate_email") {
		t.Errorf("report.html missing or without the findings: %v", err)
	}
	// No password of a canary, no digest, anywhere.
	secrets := []string{"not-bobs-password", "correct-horse-17", "Tr0ub4dor&3",
		"$2a$10$54cbf.ymtKSc4jsKFRlzae9cuuBPUuF9HdApTvElGczWqU1ST1uv6", "WTO7DYBT63FXLIR2LW7JKKHIPTWNVM2D"}
	out := res.stdout + res.stderr
	filepath.Walk(filepath.Join(dir, defaultOutDir), func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() || strings.Contains(p, string(filepath.Separator)+"sample"+string(filepath.Separator)) {
			return nil // the extracted sample itself holds them, of course
		}
		b, _ := os.ReadFile(p)
		out += string(b)
		return nil
	})
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("a secret (%.4q...) is in the output or a file written", s)
		}
	}
}

func TestValidateCleanSourceExitsZero(t *testing.T) {
	dir := t.TempDir()
	src, err := os.ReadFile(repoFile(t, "samples/legacy_users.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(src)), "\n")
	clean := strings.Join(lines[:5], "\n") + "\n" // the header and four good rows
	if err := os.WriteFile(filepath.Join(dir, "users.csv"), []byte(clean), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, dir, nil, "validate", "--no-progress", "--source", "users.csv",
		"--mapping", repoFile(t, "samples/legacy_users.mapping.yaml"))
	// Row 4 lists its primary address again among its secondary ones: sent
	// once, with a warning.
	if res.code != ExitOK || !strings.Contains(res.stdout, "4 valid, 0 invalid, 1 findings (1 of them warnings)") ||
		!strings.Contains(res.stdout, "value_repeated           email_address            1  rows 4 (key 1004)") {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	bad := runCLI(t, dir, nil, "validate", "--no-progress", "--source", "missing.csv",
		"--mapping", repoFile(t, "samples/legacy_users.mapping.yaml"))
	if bad.code != ExitUsage {
		t.Errorf("a missing source: exit %d, want %d", bad.code, ExitUsage)
	}
}

// sampleCanaries writes the lines of samples/canaries.txt for emails into a
// canary file in dir and returns its path.
func sampleCanaries(t *testing.T, dir string, emails ...string) string {
	t.Helper()
	b, err := os.ReadFile(repoFile(t, "samples/canaries.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var keep []string
	for _, line := range strings.Split(string(b), "\n") {
		email, _, _ := strings.Cut(line, ":")
		if slices.Contains(emails, email) {
			keep = append(keep, line)
		}
	}
	if len(keep) != len(emails) {
		t.Fatalf("samples/canaries.txt has %d of the canaries %v", len(keep), emails)
	}
	path := filepath.Join(dir, "canaries.txt")
	if err := os.WriteFile(path, []byte(strings.Join(keep, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
