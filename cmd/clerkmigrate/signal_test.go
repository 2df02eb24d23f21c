package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

// childEnv makes the test binary act as the clerkmigrate command, so that a
// test can run the real CLI in a process of its own and signal it.
const childEnv = "CLERKMIGRATE_TEST_AS_CLI"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(run(append([]string{"clerkmigrate"}, os.Args[1:]...), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// TestSIGTERMStopsCleanlyAndTheSameCommandResumes sends SIGTERM to a real
// clerkmigrate process in the middle of an import: it must let its requests
// under way finish, flush the ledger, write its reports, say how to resume
// and exit 4; the same command then finishes the run with no user twice.
func TestSIGTERMStopsCleanlyAndTheSameCommandResumes(t *testing.T) {
	const key = "sk_test_signalled"
	srv, err := emulator.Start(emulator.Config{SecretKey: key, Faults: emulator.Faults{Latency: 150 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	args := []string{"import", "--no-progress", "--max-in-flight", "2",
		"--source", repoFile(t, "samples/legacy_users.csv"), "--mapping", repoFile(t, "samples/legacy_users.mapping.yaml"),
		"--target", srv.URL()}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), childEnv+"=1", secretKeyEnv+"="+key)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until some users are in, then signal.
	deadline := time.Now().Add(30 * time.Second)
	for len(srv.Emulator().Snapshot().Users) < 3 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the import created nothing in 30 s\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code != ExitInterrupted {
		t.Fatalf("exit %d (%v), want %d\nstdout:\n%s\nstderr:\n%s", code, err, ExitInterrupted, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "re-run the same command to resume") || !strings.Contains(stdout.String(), "reports:") {
		t.Errorf("no resume hint or no reports after the signal\nstdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	created := len(srv.Emulator().Snapshot().Users)
	if created >= 35 {
		t.Fatalf("the signal came too late to test anything: %d users already created", created)
	}

	res := runCLI(t, dir, map[string]string{secretKeyEnv: key}, args...)
	if res.code != ExitRowsFailed {
		t.Fatalf("resume exit %d, want %d (the sample's bad rows)\n%s\n%s", res.code, ExitRowsFailed, res.stdout, res.stderr)
	}
	users := srv.Emulator().Snapshot().Users
	seen := map[string]bool{}
	for _, u := range users {
		if seen[*u.ExternalID] {
			t.Errorf("user %s created twice", *u.ExternalID)
		}
		seen[*u.ExternalID] = true
	}
	if len(users) != 35 {
		t.Errorf("after the resume the emulator holds %d users, want the sample's 35 valid ones", len(users))
	}
}
