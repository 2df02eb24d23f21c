package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// runSyncCLI runs the CLI in-process with the sync command wired in.
func runSyncCLI(t *testing.T, dir string, args ...string) cliResult {
	t.Helper()
	t.Chdir(dir)
	t.Setenv(secretKeyEnv, "")
	outF, _ := os.CreateTemp(t.TempDir(), "stdout")
	errF, _ := os.CreateTemp(t.TempDir(), "stderr")
	app := newApp(outF, errF)
	wired := false
	for _, c := range app.Commands {
		wired = wired || c.Name == "sync"
	}
	if !wired {
		app.Commands = append(app.Commands, syncCommand())
	}
	err := app.RunContext(context.Background(), append([]string{"clerkmigrate"}, args...))
	if err != nil {
		errF.WriteString("clerkmigrate: " + err.Error() + "\n")
	}
	outF.Close()
	errF.Close()
	out, _ := os.ReadFile(outF.Name())
	errOut, _ := os.ReadFile(errF.Name())
	return cliResult{code: exitCodeOf(err), stdout: string(out), stderr: string(errOut)}
}

func TestSyncCommand(t *testing.T) {
	dir := t.TempDir()
	full, err := os.ReadFile(repoFile(t, "samples/legacy_users.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(full), "\n")
	write := func(name string, ls []string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(strings.Join(ls, "")), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	mapFile := repoFile(t, "samples/legacy_users.mapping.yaml")
	all := write("all.csv", lines)
	if r := runSyncCLI(t, dir, "import", "--no-progress", "--source", all, "--mapping", mapFile); r.code != ExitRowsFailed {
		t.Fatalf("import: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// Right after the import: nothing to write; the sample's invalid rows exit 1.
	r := runSyncCLI(t, dir, "sync", "--no-progress", "--source", all, "--mapping", mapFile)
	if r.code != ExitRowsFailed || !strings.Contains(r.stdout, "unchanged 35") || !strings.Contains(r.stdout, "0 user updates") {
		t.Fatalf("sync: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// Alice's secondary email is gone from the source: kept without
	// --prune-identifiers, deleted with it (one DELETE, no other write).
	dropped := strings.Replace(strings.Join(lines, ""), ",alice@walker.family,", ",,", 1)
	droppedPath := write("dropped.csv", []string{dropped})
	r = runSyncCLI(t, dir, "sync", "--no-progress", "--source", droppedPath, "--mapping", mapFile)
	if !strings.Contains(r.stdout, "unchanged 35") || strings.Contains(r.stdout, "removed:") {
		t.Fatalf("sync without --prune-identifiers: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = runSyncCLI(t, dir, "sync", "--no-progress", "--prune-identifiers", "--source", droppedPath, "--mapping", mapFile)
	if r.code != ExitRowsFailed || !strings.Contains(r.stdout, "updated   1") ||
		!strings.Contains(r.stdout, "removed: 1 email addresses, 0 phone numbers") || !strings.Contains(r.stdout, "0 emails, 0 phones") {
		t.Fatalf("sync --prune-identifiers: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	r = runSyncCLI(t, dir, "sync", "--no-progress", "--prune-identifiers", "--source", droppedPath, "--mapping", mapFile)
	if !strings.Contains(r.stdout, "removed: 0 email addresses") || strings.Contains(r.stdout, "updated") {
		t.Fatalf("second sync --prune-identifiers: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// A source that lost most of its rows: the orphan step is refused.
	shrunk := write("shrunk.csv", lines[:4])
	r = runSyncCLI(t, dir, "sync", "--no-progress", "--source", shrunk, "--mapping", mapFile, "--delete-orphans", "--max-delete", "5",
		"--run-id", "guarded")
	if r.code != ExitOrphanGuard || !strings.Contains(r.stderr, "more than --max-delete 5") || !strings.Contains(r.stdout, "refused") {
		t.Fatalf("guarded sync: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// Its verdict, as status and summary.json tell it after the fact, is
	// the code it returned.
	if r := runSyncCLI(t, dir, "status", "guarded"); r.code != ExitOrphanGuard {
		t.Errorf("status of the guarded sync: exit %d, want %d\n%s\n%s", r.code, ExitOrphanGuard, r.stdout, r.stderr)
	}
	if code := summaryExitCode(t, dir, "guarded"); code != ExitOrphanGuard {
		t.Errorf("the guarded sync's summary.json says exit_code %d, want %d", code, ExitOrphanGuard)
	}
	// --plan writes a plan and nothing else.
	plan := filepath.Join(dir, "plan.json")
	r = runSyncCLI(t, dir, "sync", "--no-progress", "--source", shrunk, "--mapping", mapFile, "--delete-orphans", "--max-delete", "50", "--plan", plan)
	if r.code != ExitOK || !strings.Contains(r.stdout, "delete") {
		t.Fatalf("plan: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if b, err := os.ReadFile(plan); err != nil || !strings.Contains(string(b), `"action":"delete"`) || strings.Contains(string(b), "$2a$") {
		t.Fatalf("plan file: %v\n%s", err, b)
	}
	r = runSyncCLI(t, dir, "sync", "--no-progress", "--source", shrunk, "--mapping", mapFile, "--delete-orphans", "--max-delete", "50", "--apply", plan)
	if r.code != ExitOK || !strings.Contains(r.stdout, "deleted") {
		t.Fatalf("apply: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestSyncPlanDespiteInvalidRows: the sample's six invalid rows do not cost
// the plan: --plan writes the file (stdout names it), its counts include
// the unchanged users and the invalid rows, and its keys are snake_case
// like every other JSON file of the tool.
func TestSyncPlanDespiteInvalidRows(t *testing.T) {
	dir := t.TempDir()
	src := repoFile(t, "samples/legacy_users.csv")
	mapFile := repoFile(t, "samples/legacy_users.mapping.yaml")
	if r := runSyncCLI(t, dir, "import", "--no-progress", "--source", src, "--mapping", mapFile); r.code != ExitRowsFailed {
		t.Fatalf("import: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	plan := filepath.Join(dir, "plan.json")
	r := runSyncCLI(t, dir, "sync", "--no-progress", "--source", src, "--mapping", mapFile, "--plan", plan)
	if r.code != ExitRowsFailed || !strings.Contains(r.stdout, "plan "+plan) {
		t.Fatalf("sync --plan: exit %d, want %d\n%s\n%s", r.code, ExitRowsFailed, r.stdout, r.stderr)
	}
	b, err := os.ReadFile(plan)
	if err != nil {
		t.Fatalf("stdout says the plan was written, but: %v\n%s", err, r.stdout)
	}
	var p struct {
		Counts    map[string]int64 `json:"counts"`
		NotSynced []string         `json:"not_synced"`
	}
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	if p.Counts["unchanged"] != 35 || p.Counts["invalid"] != 6 || p.Counts["create"] != 0 || p.Counts["update"] != 0 {
		t.Errorf("plan counts %v: want 35 unchanged, 6 invalid, snake_case keys", p.Counts)
	}
	for k := range p.Counts {
		if k != strings.ToLower(k) {
			t.Errorf("plan counts key %q is not snake_case", k)
		}
	}
	// Nothing mapped is ignored without a word: the sample maps
	// skip_password_requirement, which no update can change.
	const notSynced = "skip_password_requirement: a create-time option"
	if !strings.Contains(r.stdout, "not synced (mapped, but the sync cannot update them): "+notSynced) ||
		!strings.Contains(r.stderr, "skip_password_requirement") || !slices.Contains(p.NotSynced, notSynced) {
		t.Errorf("the run does not say that skip_password_requirement is not synced: plan %v\n%s\n%s", p.NotSynced, r.stdout, r.stderr)
	}
}

// TestSecretChangedBeforeTheFirstSyncIsSent: the import records the keyed
// fingerprints of the secrets it sent, so a password digest and a TOTP
// secret changed in the source between the import and the first sync are
// sent by that sync (it used to take them as its baseline and report the
// user unchanged, leaving the old password in Clerk).
func TestSecretChangedBeforeTheFirstSyncIsSent(t *testing.T) {
	dir := t.TempDir()
	b, err := os.ReadFile(repoFile(t, "samples/legacy_users.csv"))
	if err != nil {
		t.Fatal(err)
	}
	mapFile := repoFile(t, "samples/legacy_users.mapping.yaml")
	src := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(src, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if r := runSyncCLI(t, dir, "import", "--no-progress", "--source", src, "--mapping", mapFile); r.code != ExitRowsFailed {
		t.Fatalf("import: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// Bob (1002) changes his password, Alice (1001) her TOTP secret.
	changed := strings.Replace(string(b), "cufDstZIcXEjau,bcrypt", "cufDstZIcXEjav,bcrypt", 1)
	changed = strings.Replace(changed, "WTO7DYBT63FXLIR2LW7JKKHIPTWNVM2D", "WTO7DYBT63FXLIR2LW7JKKHIPTWNVM2E", 1)
	if changed == string(b) {
		t.Fatal("the sample changed: fix the test's edits")
	}
	if err := os.WriteFile(src, []byte(changed), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runSyncCLI(t, dir, "sync", "--no-progress", "--source", src, "--mapping", mapFile)
	if r.code != ExitRowsFailed || !strings.Contains(r.stdout, "updated   2") || !strings.Contains(r.stdout, "2 user updates") {
		t.Fatalf("first sync after the import: exit %d, want 2 users updated with 2 PATCH\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// Sent once: the next sync has nothing to write.
	r = runSyncCLI(t, dir, "sync", "--no-progress", "--source", src, "--mapping", mapFile)
	if !strings.Contains(r.stdout, "unchanged 35") || !strings.Contains(r.stdout, "0 user updates") {
		t.Fatalf("second sync: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
