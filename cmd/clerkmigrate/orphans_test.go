package main

import (
	"encoding/json"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestSyncActsOnlyOnItsOwnOrphans: users another system put in the instance
// (one with a foreign external_id, one with none) survive a sync with
// --ban-orphans over a shrunk source; the plan, the printed summary,
// summary.json and report.html list them as not ours, apart from the
// orphans, and --max-delete counts only the orphans.
func TestSyncActsOnlyOnItsOwnOrphans(t *testing.T) {
	dir := t.TempDir()
	seedLocal(t, dir,
		&request.CreateUser{ExternalID: request.Value("crm-9"), EmailAddresses: []string{"crm9@example.org"}},
		&request.CreateUser{EmailAddresses: []string{"signed.up.in.clerk@example.org"}})

	full, err := os.ReadFile(repoFile(t, "samples/legacy_users.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(full), "\n")
	write := func(name string, n int) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(lines[:n+1], "")), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mapFile := repoFile(t, "samples/legacy_users.mapping.yaml")
	noKey := map[string]string{secretKeyEnv: ""}
	if r := runCLI(t, dir, noKey, "import", "--no-progress", "--source", write("five.csv", 5), "--mapping", mapFile); r.code != ExitOK {
		t.Fatalf("import: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	three := write("three.csv", 3)

	plan := filepath.Join(dir, "plan.json")
	r := runCLI(t, dir, noKey, "sync", "--no-progress", "--source", three, "--mapping", mapFile,
		"--ban-orphans", "--max-delete", "2", "--plan", plan)
	if r.code != ExitOK {
		t.Fatalf("sync --plan: exit %d, want 0 (2 orphans, 2 users not ours)\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	b, err := os.ReadFile(plan)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), `"action":"ban"`); n != 2 || strings.Count(string(b), `"action":"not_ours"`) != 2 ||
		!strings.Contains(string(b), `"key":"crm-9"`) {
		t.Errorf("plan: %d bans, want 2, and crm-9 and the user without external_id as not_ours:\n%s", n, b)
	}

	r = runCLI(t, dir, noKey, "sync", "--no-progress", "--source", three, "--mapping", mapFile, "--ban-orphans", "--max-delete", "2")
	if r.code != ExitOK || !regexp.MustCompile(`not ours\s+2`).MatchString(r.stdout) || !regexp.MustCompile(`banned\s+2`).MatchString(r.stdout) {
		t.Fatalf("sync --ban-orphans: exit %d, want 0 with 2 banned and 2 not ours\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "not ours") || !strings.Contains(r.stderr, "crm-9") {
		t.Errorf("the log does not name the users left alone:\n%s", r.stderr)
	}
	banned := map[string]bool{}
	for _, u := range localState(t, dir) {
		ext := "(none)"
		if u.ExternalID != nil {
			ext = *u.ExternalID
		}
		banned[ext] = u.Banned
	}
	want := map[string]bool{"1001": false, "1002": false, "1003": false, "1004": true, "1005": true, "crm-9": false, "(none)": false}
	for ext, w := range want {
		if got, ok := banned[ext]; !ok || got != w {
			t.Errorf("user %s: banned %v (there: %v), want banned %v", ext, got, ok, w)
		}
	}

	reportDir := regexp.MustCompile(`reports: (\S+)`).FindStringSubmatch(r.stdout)
	if reportDir == nil {
		t.Fatalf("no report directory in:\n%s", r.stdout)
	}
	var sum struct {
		Counts map[string]int64 `json:"counts_by_outcome"`
	}
	sb, err := os.ReadFile(filepath.Join(dir, reportDir[1], "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(sb, &sum); err != nil || sum.Counts["banned"] != 2 || sum.Counts["not_ours"] != 2 {
		t.Errorf("summary.json counts %v (%v), want banned 2, not_ours 2", sum.Counts, err)
	}
	html, err := os.ReadFile(filepath.Join(dir, reportDir[1], "report.html"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(html), "crm-9") || !strings.Contains(string(html), "Not ours") {
		t.Errorf("report.html does not list the users not ours")
	}
}
