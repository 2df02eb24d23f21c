package main

import (
	"bytes"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

// switchable is an emulator on a fixed loopback address that a test takes
// down (nothing listens: connections are refused), brings back up with its
// users and instance kept, or freezes (connections are accepted, nothing
// is answered).
type switchable struct {
	emu    *emulator.Emulator
	addr   string
	srv    *http.Server
	frozen chan struct{} // closed: requests hang until release closes
	thaw   chan struct{}
	once   sync.Once
}

// newSwitchable makes one on a free loopback port, down.
func newSwitchable(t *testing.T, cfg emulator.Config) *switchable {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &switchable{emu: emulator.New(cfg), addr: addr, frozen: make(chan struct{}), thaw: make(chan struct{})}
	t.Cleanup(func() {
		s.release()
		s.down()
	})
	return s
}

func (s *switchable) url() string { return "http://" + s.addr + "/v1" }

// up serves the emulator on its address.
func (s *switchable) up(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	s.srv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-s.frozen:
			<-s.thaw
			return
		default:
		}
		s.emu.ServeHTTP(w, r)
	}), ErrorLog: log.New(io.Discard, "", 0)}
	go s.srv.Serve(ln)
}

// down closes the listener and every connection.
func (s *switchable) down() {
	if s.srv != nil {
		s.srv.Close()
		s.srv = nil
	}
}

// freeze makes every request from now on hang.
func (s *switchable) freeze() { close(s.frozen) }

// release lets hanging requests end.
func (s *switchable) release() { s.once.Do(func() { close(s.thaw) }) }

// users is how many users the emulator holds.
func (s *switchable) users() int { return len(s.emu.Snapshot().Users) }

// importArgs imports rows generated in dir into target.
func importArgs(t *testing.T, dir, target string, rows int) []string {
	return []string{"import", "--no-progress", "--source", writeUsers(t, dir, rows),
		"--mapping", repoFile(t, "samples/legacy_users.mapping.yaml"), "--target", target, "--out", filepath.Join(dir, "out")}
}

// noFailedRows checks that no summary.json under out counts a failed row.
func noFailedRows(t *testing.T, out string) {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(out, "*", "summary.json"))
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(raw), `"failed": 0,`) || !strings.Contains(string(raw), `"failures": 0,`) {
			t.Errorf("%s counts failed rows for a target that was down:\n%s", p, raw)
		}
	}
}

// wantAllCreatedOnce checks the re-run: exit 0 and every row's user in the
// emulator once.
func wantAllCreatedOnce(t *testing.T, res cliResult, s *switchable, rows int) {
	t.Helper()
	if res.code != ExitOK {
		t.Fatalf("re-run with the target up: exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	seen := map[string]bool{}
	for _, u := range s.emu.Snapshot().Users {
		if seen[*u.ExternalID] {
			t.Errorf("user %s created twice", *u.ExternalID)
		}
		seen[*u.ExternalID] = true
	}
	if len(seen) != rows {
		t.Errorf("after the re-run the emulator holds %d users, want %d", len(seen), rows)
	}
}

// TestImportIntoAClosedPortExitsThree: a target where nothing listens
// fails the pre-flight: exit 3 with a clear message, no row failed; the
// same command, once the target listens, imports every row.
func TestImportIntoAClosedPortExitsThree(t *testing.T) {
	const key, rows = "sk_live_closed", 40
	s := newSwitchable(t, emulator.Config{SecretKey: key})
	dir := t.TempDir()
	args := importArgs(t, dir, s.url(), rows)
	env := map[string]string{secretKeyEnv: key}
	res := runCLI(t, dir, env, args...)
	if res.code != ExitFatal || !strings.Contains(res.stderr, "pre-flight") || !strings.Contains(res.stderr, "not answering") {
		t.Fatalf("exit %d, want %d saying the pre-flight found the target not answering\nstdout:\n%s\nstderr:\n%s",
			res.code, ExitFatal, res.stdout, res.stderr)
	}
	noFailedRows(t, filepath.Join(dir, "out"))
	s.up(t)
	wantAllCreatedOnce(t, runCLI(t, dir, env, args...), s, rows)
}

// TestImportIntoABadCertificateExitsThree: a TLS endpoint on loopback
// whose certificate is not trusted is a target down: exit 3, no HTTP
// request reaches it, no row failed.
func TestImportIntoABadCertificateExitsThree(t *testing.T) {
	var reached atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.WriteHeader(http.StatusOK)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // every handshake fails, by design
	srv.StartTLS()
	defer srv.Close()
	dir := t.TempDir()
	res := runCLI(t, dir, map[string]string{secretKeyEnv: "sk_live_untrusted"}, importArgs(t, dir, srv.URL+"/v1", 20)...)
	if res.code != ExitFatal || !strings.Contains(res.stderr, "certificate") {
		t.Fatalf("exit %d, want %d naming the certificate\nstdout:\n%s\nstderr:\n%s", res.code, ExitFatal, res.stdout, res.stderr)
	}
	if n := reached.Load(); n != 0 {
		t.Errorf("%d requests reached an endpoint whose certificate is not trusted", n)
	}
	noFailedRows(t, filepath.Join(dir, "out"))
}

// TestTargetDyingMidRunExitsThree: a target that goes away in the middle
// of an import stops it with exit 3, no row failed; the same command,
// once the target is back, finishes the run with no user twice.
func TestTargetDyingMidRunExitsThree(t *testing.T) {
	t.Parallel()
	const key, rows = "sk_live_dying", 400
	s := newSwitchable(t, emulator.Config{SecretKey: key, Faults: emulator.Faults{Latency: 20 * time.Millisecond}})
	s.up(t)
	dir := t.TempDir()
	args := importArgs(t, dir, s.url(), rows)
	env := map[string]string{secretKeyEnv: key}
	downed := make(chan struct{})
	go func() {
		defer close(downed)
		for s.users() < 50 {
			time.Sleep(5 * time.Millisecond)
		}
		s.down()
	}()
	res := runCLIProcess(t, dir, env, args...)
	if res.code != ExitFatal || !strings.Contains(res.stderr, "stopped answering") || !strings.Contains(res.stderr, "re-run the same command") {
		t.Fatalf("exit %d, want %d saying the target stopped answering and how to resume\nstdout:\n%s\nstderr:\n%s",
			res.code, ExitFatal, res.stdout, res.stderr)
	}
	noFailedRows(t, filepath.Join(dir, "out"))
	if n := s.users(); n >= rows {
		t.Fatalf("the target went down too late to test anything: %d users", n)
	}
	<-downed
	s.up(t)
	wantAllCreatedOnce(t, runCLIProcess(t, dir, env, args...), s, rows)
}

// TestFrozenTargetExitsThree: a target that accepts connections and
// answers nothing (a frozen host) in the middle of an import stops it with
// exit 3 once requests time out in a row, no row failed; the same command
// finishes the run once it answers again.
func TestFrozenTargetExitsThree(t *testing.T) {
	t.Parallel()
	const key, rows = "sk_live_frozen", 400
	s := newSwitchable(t, emulator.Config{SecretKey: key, Faults: emulator.Faults{Latency: 20 * time.Millisecond}})
	s.up(t)
	dir := t.TempDir()
	args := importArgs(t, dir, s.url(), rows)
	env := map[string]string{secretKeyEnv: key}
	go func() {
		for s.users() < 60 { // past the 32 answers the timeout waits for
			time.Sleep(5 * time.Millisecond)
		}
		s.freeze()
	}()
	res := runCLIProcess(t, dir, env, args...)
	if res.code != ExitFatal || !strings.Contains(res.stderr, "stopped answering") {
		t.Fatalf("exit %d, want %d saying the target stopped answering\nstdout:\n%s\nstderr:\n%s",
			res.code, ExitFatal, res.stdout, res.stderr)
	}
	noFailedRows(t, filepath.Join(dir, "out"))
	s.release()
	s.down()
	s = &switchable{emu: s.emu, addr: s.addr, frozen: make(chan struct{}), thaw: make(chan struct{})}
	s.up(t)
	t.Cleanup(s.down)
	wantAllCreatedOnce(t, runCLIProcess(t, dir, env, args...), s, rows)
}

// TestSIGTERMWhileTheTargetIsSilent: SIGTERM to a real clerkmigrate process
// whose target stopped answering (connections accepted, nothing answered:
// a frozen host) exits 4 as soon as the target has been silent for
// runner.SilentGrace, not after the 10 s grace that requests under way get
// from a target that answers; the same command then finishes the run.
func TestSIGTERMWhileTheTargetIsSilent(t *testing.T) {
	t.Parallel()
	const key, rows = "sk_live_silent", 300
	s := newSwitchable(t, emulator.Config{SecretKey: key, Faults: emulator.Faults{Latency: 20 * time.Millisecond}})
	s.up(t)
	dir := t.TempDir()
	// A fixed 30 s timeout: the target's silence, not its timeouts, is
	// what this test is about (those would stop the run on their own:
	// TestFrozenTargetExitsThree).
	args := append(importArgs(t, dir, s.url(), rows), "--request-timeout", "30s")
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), childEnv+"=1", secretKeyEnv+"="+key)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	deadline := time.Now().Add(30 * time.Second)
	for s.users() < 20 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("the import created nothing in 30 s\n%s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.freeze()
	time.Sleep(time.Second) // requests under way and new ones hang
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	signalled := time.Now()
	// The bound is below the 10 s grace, which the code before this test
	// waited out (10.2 s measured), and four times what it takes now.
	const bound = 8 * time.Second
	var err error
	select {
	case err = <-exited:
	case <-time.After(bound):
		cmd.Process.Kill()
		<-exited
		t.Fatalf("still running %s after SIGTERM with the target silent\nstderr:\n%s", bound, stderr.String())
	}
	took := time.Since(signalled)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != ExitInterrupted || !strings.Contains(stderr.String(), "answered nothing") {
		t.Fatalf("after %s: %v, want exit %d saying the target answered nothing\nstdout:\n%s\nstderr:\n%s",
			took, err, ExitInterrupted, stdout.String(), stderr.String())
	}
	t.Logf("exited %s after SIGTERM", took.Round(time.Millisecond))
	noFailedRows(t, filepath.Join(dir, "out"))
	s.release()
	s.down()
	s = &switchable{emu: s.emu, addr: s.addr, frozen: make(chan struct{}), thaw: make(chan struct{})}
	s.up(t)
	t.Cleanup(s.down)
	wantAllCreatedOnce(t, runCLIProcess(t, dir, map[string]string{secretKeyEnv: key}, args...), s, rows)
}
