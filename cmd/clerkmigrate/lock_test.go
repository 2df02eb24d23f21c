package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

// lockTestKey is the secret key of the lock tests' emulators.
const lockTestKey = "sk_live_one_run_per_target" // 1000 requests/10 s: the runs that go on are quick

// slowEmulator answers every request after delay, so that a run holds its
// target for as long as a test needs.
func slowEmulator(t *testing.T, delay time.Duration) *emulator.Server {
	t.Helper()
	srv, err := emulator.Start(emulator.Config{SecretKey: lockTestKey, Faults: emulator.Faults{Latency: delay}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// sampleImport is an import of the sample into target, one request at a
// time, with more flags after.
func sampleImport(target string, more ...string) []string {
	return append([]string{"import", "--no-progress", "--max-in-flight", "1",
		"--source", filepath.Join(repoRoot, "samples/legacy_users.csv"), "--mapping", filepath.Join(repoRoot, "samples/legacy_users.mapping.yaml"),
		"--target", target}, more...)
}

// liveRun is a clerkmigrate process of its own, under way.
type liveRun struct {
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
}

// startRun starts the real CLI in dir and waits until srv holds a user, so
// that the run holds its target.
func startRun(t *testing.T, dir string, srv *emulator.Server, args ...string) *liveRun {
	t.Helper()
	r := &liveRun{cmd: exec.Command(os.Args[0], args...)}
	r.cmd.Dir = dir
	r.cmd.Env = append(os.Environ(), childEnv+"=1", secretKeyEnv+"="+lockTestKey)
	r.cmd.Stdout, r.cmd.Stderr = &r.stdout, &r.stderr
	before := len(srv.Emulator().Snapshot().Users)
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.cmd.Process.Kill(); r.cmd.Wait() })
	for deadline := time.Now().Add(30 * time.Second); len(srv.Emulator().Snapshot().Users) == before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the run created nothing in 30 s\n%s", r.stderr.String())
		}
	}
	return r
}

// stop sends SIGTERM and returns the exit code.
func (r *liveRun) stop(t *testing.T) int {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	r.cmd.Wait()
	return r.cmd.ProcessState.ExitCode()
}

// refusedFor asserts that res is a run refused because of holder: exit 3
// and a message naming the holding run and its process.
func refusedFor(t *testing.T, res cliResult, holder string, pid int) {
	t.Helper()
	if res.code != ExitFatal {
		t.Fatalf("exit %d, want %d (refused: another run holds the target)\nstdout:\n%s\nstderr:\n%s", res.code, ExitFatal, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stderr, "run "+holder) || !strings.Contains(res.stderr, fmt.Sprintf("pid %d", pid)) {
		t.Errorf("the refusal does not name run %s of pid %d:\n%s", holder, pid, res.stderr)
	}
	noEstimate(t, res)
}

// noEstimate asserts that a refused run did not say what it was about to
// do ("41 rows at 1000 req/s: about 1 s"): it did none of it.
func noEstimate(t *testing.T, res cliResult) {
	t.Helper()
	if strings.Contains(res.stderr, " req/s: ") {
		t.Errorf("a refused run printed the estimate of the run it did not do:\n%s", res.stderr)
	}
}

// noReportDir asserts that OUT/<run> was not written.
func noReportDir(t *testing.T, dir, run string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, defaultOutDir, run)); !os.IsNotExist(err) {
		t.Errorf("report directory %s/%s exists (%v): a refused run must write no report", defaultOutDir, run, err)
	}
}

// summaryExitCode reads the exit code OUT/<run>/summary.json records.
func summaryExitCode(t *testing.T, dir, run string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, defaultOutDir, run, "summary.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		ExitCode *int `json:"exit_code"`
	}
	if err := json.Unmarshal(b, &s); err != nil || s.ExitCode == nil {
		t.Fatalf("summary.json of %s: %v, %s", run, err, b)
	}
	return *s.ExitCode
}

// TestSecondRunIntoTheSameTargetIsRefused: while one import writes to a
// target, another import of the same ledger into it is refused with exit 3
// naming the first, whatever its run id, and writes no report (before: it
// ran alongside, sending every request twice, and a second invocation of
// the same run overwrote the live run's summary.json with exit_code 3). A
// dry run, which writes to no target, goes on.
func TestSecondRunIntoTheSameTargetIsRefused(t *testing.T) {
	srv := slowEmulator(t, 300*time.Millisecond)
	dir := t.TempDir()
	env := map[string]string{secretKeyEnv: lockTestKey}
	first := startRun(t, dir, srv, sampleImport(srv.URL(), "--run-id", "first")...)
	pid := first.cmd.Process.Pid

	refusedFor(t, runCLI(t, dir, env, sampleImport(srv.URL(), "--run-id", "second")...), "first", pid)
	noReportDir(t, dir, "second")
	refusedFor(t, runCLI(t, dir, env, sampleImport(srv.URL(), "--run-id", "first")...), "first", pid)
	noReportDir(t, dir, "first")
	if dry := runCLI(t, dir, env, sampleImport(srv.URL(), "--dry-run")...); dry.code != ExitRowsFailed {
		t.Errorf("a dry run alongside: exit %d, want %d (the sample's invalid rows)\n%s", dry.code, ExitRowsFailed, dry.stderr)
	}

	if code := first.stop(t); code != ExitInterrupted {
		t.Fatalf("the first run: exit %d, want %d\n%s", code, ExitInterrupted, first.stderr.String())
	}
	if code := summaryExitCode(t, dir, "first"); code != ExitInterrupted {
		t.Errorf("the first run's summary.json says exit_code %d, want its own %d", code, ExitInterrupted)
	}
	seen := map[string]bool{}
	for _, u := range srv.Emulator().Snapshot().Users {
		if seen[*u.ExternalID] {
			t.Errorf("user %s created twice", *u.ExternalID)
		}
		seen[*u.ExternalID] = true
	}
}

// TestParallelRuns: runs into different targets go on side by side; into
// one target only when every one of them says --parallel.
func TestParallelRuns(t *testing.T) {
	slow, other := slowEmulator(t, 300*time.Millisecond), slowEmulator(t, 0)
	dir := t.TempDir()
	env := map[string]string{secretKeyEnv: lockTestKey}

	a := startRun(t, dir, slow, sampleImport(slow.URL(), "--run-id", "a")...)
	if res := runCLI(t, dir, env, sampleImport(other.URL(), "--run-id", "b")...); res.code != ExitRowsFailed {
		t.Errorf("a run into another target: exit %d, want %d (the sample's invalid rows)\n%s", res.code, ExitRowsFailed, res.stderr)
	}
	refusedFor(t, runCLI(t, dir, env, sampleImport(slow.URL(), "--run-id", "c", "--parallel")...), "a", a.cmd.Process.Pid)
	a.stop(t)

	p1 := startRun(t, dir, slow, sampleImport(slow.URL(), "--run-id", "p1", "--parallel")...)
	keys := filepath.Join(dir, "two-keys.txt")
	if err := os.WriteFile(keys, []byte("1030\n1031\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, dir, env, sampleImport(slow.URL(), "--run-id", "p2", "--parallel", "--only-keys", keys)...)
	if res.code != ExitOK || summaryExitCode(t, dir, "p2") != ExitOK {
		t.Errorf("a second --parallel run into the target: exit %d, want %d\n%s", res.code, ExitOK, res.stderr)
	}
	refusedFor(t, runCLI(t, dir, env, sampleImport(slow.URL(), "--run-id", "q")...), "p1", p1.cmd.Process.Pid)
	noReportDir(t, dir, "q")
	p1.stop(t)
}
