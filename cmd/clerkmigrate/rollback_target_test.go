package main

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/sqlite"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

const remoteKey = "sk_live_rollback_target_test"

// startEmulator starts an emulator on loopback, as `clerkmigrate emulator` would.
func startEmulator(t *testing.T) *emulator.Server {
	t.Helper()
	srv, err := emulator.Start(emulator.Config{SecretKey: remoteKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// importFive imports the sample's first five users into target and returns
// the run id.
func importFive(t *testing.T, dir, target string) string {
	t.Helper()
	full, err := os.ReadFile(repoFile(t, "samples/legacy_users.csv"))
	if err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "five.csv")
	if err := os.WriteFile(src, []byte(strings.Join(strings.SplitAfter(string(full), "\n")[:6], "")), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, dir, map[string]string{secretKeyEnv: remoteKey}, "import", "--no-progress", "--target", target,
		"--source", src, "--mapping", repoFile(t, "samples/legacy_users.mapping.yaml"))
	id := regexp.MustCompile(`run (import-[0-9a-f]+)`).FindStringSubmatch(res.stdout)
	if res.code != ExitOK || id == nil {
		t.Fatalf("import: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	return id[1]
}

// TestRollbackGoesToTheRunsOwnTarget: a rollback without --target deletes
// on the target the import recorded (not on the default local emulator),
// and one with another --target is refused (exit 2) naming both, before
// anything is deleted anywhere.
func TestRollbackGoesToTheRunsOwnTarget(t *testing.T) {
	dir := t.TempDir()
	a, b := startEmulator(t), startEmulator(t)
	run := importFive(t, dir, a.URL())
	if n := len(a.Emulator().Snapshot().Users); n != 5 {
		t.Fatalf("the import left %d users in its target, want 5", n)
	}
	env := map[string]string{secretKeyEnv: remoteKey}

	res := runCLI(t, dir, env, "rollback", "--yes", "--no-progress", "--target", b.URL(), run)
	if res.code != ExitUsage || !strings.Contains(res.stderr, a.URL()) || !strings.Contains(res.stderr, b.URL()) {
		t.Errorf("rollback --target <another emulator>: exit %d, want %d naming both targets\n%s\n%s", res.code, ExitUsage, res.stdout, res.stderr)
	}
	if n := len(a.Emulator().Snapshot().Users); n != 5 {
		t.Fatalf("the refused rollback deleted users: %d left", n)
	}
	if st := b.Emulator().Stats(); st.Routes["DELETE /v1/users/{user_id}"].Total != 0 {
		t.Errorf("the refused rollback sent deletes to the other emulator")
	}

	res = runCLI(t, dir, env, "rollback", "--yes", "--no-progress", run)
	if res.code != ExitOK {
		t.Fatalf("rollback without --target: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if n := len(a.Emulator().Snapshot().Users); n != 0 {
		t.Errorf("after the rollback the run's target still has %d of its 5 users\n%s\n%s", n, res.stdout, res.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, defaultOutDir, "emulator-state.json")); err == nil {
		t.Errorf("the rollback started the local emulator")
	}
}

// TestRollbackRecordedAgainstAnotherTargetIsRedone: a ledger holds a
// rollback that an earlier version ran against the wrong target (it
// recorded no target, and "deleted" every row while the users remained).
// Rolling back again must delete them on the run's target, not trust the
// rows of that rollback.
func TestRollbackRecordedAgainstAnotherTargetIsRedone(t *testing.T) {
	dir := t.TempDir()
	a := startEmulator(t)
	run := importFive(t, dir, a.URL())
	fakeWrongRollback(t, filepath.Join(dir, defaultOutDir, "ledger.db"), run)

	res := runCLI(t, dir, map[string]string{secretKeyEnv: remoteKey}, "rollback", "--yes", "--no-progress", "--target", a.URL(), run)
	if res.code != ExitOK {
		t.Fatalf("rollback: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if n := len(a.Emulator().Snapshot().Users); n != 0 {
		t.Errorf("the target still has %d of the run's 5 users: the wrong rollback's rows were trusted\n%s\n%s", n, res.stdout, res.stderr)
	}
}

// fakeWrongRollback records, as a version without recorded rollback
// targets did, a rollback of run that settled every created row deleted.
func fakeWrongRollback(t *testing.T, ledger, run string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ledger)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var done []checkpoint.Settlement
	err = st.Rows(ctx, run, checkpoint.Filter{Outcomes: []checkpoint.Outcome{checkpoint.Created}}, func(r checkpoint.RowState) error {
		done = append(done, checkpoint.Settlement{Pos: r.Pos, Key: r.Key, ClerkID: r.ClerkID, Outcome: checkpoint.Deleted, Attempts: 1})
		return nil
	})
	if err != nil || len(done) != 5 {
		t.Fatalf("created rows of %s: %d, %v", run, len(done), err)
	}
	if _, err := st.BeginRun(ctx, checkpoint.RunSpec{ID: "rollback-" + run, Kind: "rollback", SourceFingerprint: "run:" + run,
		Meta: map[string]string{"import_run": run}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Settle(ctx, "rollback-"+run, done); err != nil {
		t.Fatal(err)
	}
	if err := st.FinishRun(ctx, "rollback-"+run, checkpoint.Done); err != nil {
		t.Fatal(err)
	}
}
