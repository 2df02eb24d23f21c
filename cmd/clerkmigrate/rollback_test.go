package main

import (
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

// localUsers reads how many users the local emulator's saved state holds.
func localUsers(t *testing.T, dir string) int {
	t.Helper()
	return len(localState(t, dir))
}

// localState reads the local emulator's saved users.
func localState(t *testing.T, dir string) []emulator.UserState {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, defaultOutDir, "emulator-state.json"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	e := emulator.New(emulator.Config{})
	if err := e.LoadState(f); err != nil {
		t.Fatal(err)
	}
	return e.Snapshot().Users
}

// seedLocal creates users in the local emulator's saved state of dir, as
// if they had been there before any run: another system's users.
func seedLocal(t *testing.T, dir string, users ...*request.CreateUser) {
	t.Helper()
	out := filepath.Join(dir, defaultOutDir)
	if err := os.MkdirAll(out, 0o700); err != nil {
		t.Fatal(err)
	}
	pre, err := emulator.Start(emulator.Config{SecretKey: localEmulatorKey})
	if err != nil {
		t.Fatal(err)
	}
	defer pre.Close()
	c := mustClient(t, pre.URL(), localEmulatorKey)
	for _, p := range users {
		if _, err := c.CreateUser(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	saveEmulatorState(pre.Emulator(), filepath.Join(out, "emulator-state.json"))
}

// TestRollbackAsksThenDeletesOnlyWhatTheRunCreated imports the sample into
// the local emulator beside a user who was there before, then rolls the
// run back: unconfirmed, nothing goes; as a dry run, nothing goes; with
// --yes, exactly the run's 35 users go and the earlier user stays.
func TestRollbackAsksThenDeletesOnlyWhatTheRunCreated(t *testing.T) {
	dir := t.TempDir()
	// A user already in the instance, with the external_id of a sample row:
	// the import records that row exists, and a rollback must not touch it.
	seedLocal(t, dir, sampleLikeUser("1001"))

	imp := runCLI(t, dir, nil, "import", "--no-progress")
	if imp.code != ExitRowsFailed || localUsers(t, dir) != 35 {
		t.Fatalf("import exit %d, %d users; want 1 and 34 created + 1 there before\n%s\n%s", imp.code, localUsers(t, dir), imp.stdout, imp.stderr)
	}
	runID := regexp.MustCompile(`run (import-[0-9a-f]+)`).FindStringSubmatch(imp.stdout)
	if runID == nil {
		t.Fatalf("no run id in:\n%s", imp.stdout)
	}

	if res := runCLI(t, dir, nil, "rollback", "--no-progress", runID[1]); res.code != ExitUsage || localUsers(t, dir) != 35 {
		t.Errorf("unconfirmed rollback: exit %d, %d users left; want %d and nothing deleted", res.code, localUsers(t, dir), ExitUsage)
	}
	if res := runCLI(t, dir, nil, "rollback", "--dry-run", "--no-progress", runID[1]); res.code != ExitOK || localUsers(t, dir) != 35 {
		t.Errorf("dry-run rollback: exit %d, %d users left; want 0 and nothing deleted\n%s", res.code, localUsers(t, dir), res.stderr)
	}
	if res := runCLI(t, dir, nil, "rollback", runID[1], "--yes"); res.code != ExitUsage || localUsers(t, dir) != 35 {
		t.Errorf("a flag after the run id: exit %d, %d users left; want %d and nothing deleted", res.code, localUsers(t, dir), ExitUsage)
	}
	res := runCLI(t, dir, nil, "rollback", "--yes", "--no-progress", runID[1])
	if res.code != ExitOK {
		t.Fatalf("rollback exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if n := localUsers(t, dir); n != 1 {
		t.Errorf("after the rollback %d users are left; want only the one that was there before the run", n)
	}
	// Resumable: running it again deletes nothing more and still succeeds.
	if again := runCLI(t, dir, nil, "rollback", "--yes", "--no-progress", runID[1]); again.code != ExitOK || localUsers(t, dir) != 1 {
		t.Errorf("second rollback: exit %d, %d users", again.code, localUsers(t, dir))
	}
}

func mustClient(t *testing.T, url, key string) *clerk.Client {
	t.Helper()
	c, err := clerk.New(clerk.Config{BaseURL: url, SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sampleLikeUser is a user who owns a sample row's external_id but nothing
// else of it.
func sampleLikeUser(externalID string) *request.CreateUser {
	return &request.CreateUser{ExternalID: request.Value(externalID), EmailAddresses: []string{"someone.else@example.org"}}
}
