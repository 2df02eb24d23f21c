package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/mapping/request"
)

// TestPruneKeepsOwnershipAndRollback: after prune has dropped every sync
// run's rows and reports, a user the sync adopted (found in Clerk under a
// source key) and one it created are still ours (orphans, named with the
// same owning run), another system's user is still not ours, status still
// counts the pruned runs, and rollback of the sync that created a user
// still deletes it, and only it.
func TestPruneKeepsOwnershipAndRollback(t *testing.T) {
	dir := t.TempDir()
	seedLocal(t, dir,
		&request.CreateUser{ExternalID: request.Value("crm-9"), EmailAddresses: []string{"crm9@example.org"}},
		&request.CreateUser{ExternalID: request.Value("1004"), EmailAddresses: []string{"jose.alvarez@example.es"}})
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
	three, five := write("three.csv", 3), write("five.csv", 5)
	cli := func(what string, want int, args ...string) cliResult {
		t.Helper()
		r := runCLI(t, dir, noKey, args...)
		if r.code != want {
			t.Fatalf("%s: exit %d, want %d\n%s\n%s", what, r.code, want, r.stdout, r.stderr)
		}
		return r
	}
	cli("import", ExitOK, "import", "--no-progress", "--source", three, "--mapping", mapFile)
	r := cli("sync", ExitOK, "sync", "--no-progress", "--source", five, "--mapping", mapFile)
	syncA := regexp.MustCompile(`run (sync-\S+) \(sync\)`).FindStringSubmatch(r.stdout)
	if syncA == nil {
		t.Fatalf("no run id in\n%s", r.stdout)
	}
	cli("second sync", ExitOK, "sync", "--no-progress", "--source", five, "--mapping", mapFile)
	plan := func() string {
		t.Helper()
		p := filepath.Join(dir, "plan.json")
		cli("sync --plan", ExitOK, "sync", "--no-progress", "--source", three, "--mapping", mapFile, "--delete-orphans", "--max-delete", "2", "--plan", p)
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return regexp.MustCompile(`"(created_at|run_id)":\s*"[^"]*"`).ReplaceAllString(string(b), "")
	}
	before := plan()
	if strings.Count(before, `"action":"delete"`) != 2 || !strings.Contains(before, `"owner_run":"`+syncA[1]+`"`) ||
		strings.Count(before, `"action":"not_ours"`) != 1 {
		t.Fatalf("plan before the prune: want 1004 and 1005 deleted (owned by %s), crm-9 not ours:\n%s", syncA[1], before)
	}

	r = cli("prune", ExitOK, "prune", "--keep-runs", "0")
	if !strings.Contains(r.stdout, "pruned "+syncA[1]) || !regexp.MustCompile(`pruned 3 runs`).MatchString(r.stdout) {
		t.Errorf("prune did not prune the 2 syncs and the plan:\n%s", r.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, defaultOutDir, syncA[1])); !os.IsNotExist(err) {
		t.Errorf("the pruned run's reports are still there: %v", err)
	}
	if r := cli("status", ExitOK, "status", syncA[1]); !strings.Contains(r.stdout, "unchanged") && !strings.Contains(r.stdout, "created") {
		t.Errorf("status of the pruned run lost its counts:\n%s", r.stdout)
	}
	if after := plan(); after != before {
		t.Errorf("the plan changed with the prune:\nbefore %s\nafter  %s", before, after)
	}

	cli("rollback", ExitOK, "rollback", "--yes", syncA[1])
	left := map[string]bool{}
	for _, u := range localState(t, dir) {
		if u.ExternalID != nil {
			left[*u.ExternalID] = true
		}
	}
	if left["1005"] || !left["1004"] || !left["crm-9"] || !left["1001"] {
		t.Errorf("after rolling back %s: users %v; want 1005 (it created) gone, 1004 (adopted), crm-9 and the imported ones kept", syncA[1], left)
	}
}
