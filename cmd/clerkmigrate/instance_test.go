package main

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

// oneURL is Clerk's situation: one API URL for every instance, the secret
// key choosing which. It forwards every request to the emulator it points
// at now.
type oneURL struct {
	srv *httptest.Server
	to  atomic.Pointer[emulator.Server]
}

func newOneURL(t *testing.T, to *emulator.Server) *oneURL {
	t.Helper()
	o := &oneURL{}
	o.to.Store(to)
	o.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, err := url.Parse(o.to.Load().URL())
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		u.Path = ""
		httputil.NewSingleHostReverseProxy(u).ServeHTTP(w, r)
	}))
	t.Cleanup(o.srv.Close)
	return o
}

// URL is the one base URL, like https://api.clerk.com/v1.
func (o *oneURL) URL() string { return o.srv.URL + "/v1" }

// deletes counts the DELETE /v1/users/{id} an emulator received.
func deletes(s *emulator.Server) int {
	return s.Emulator().Stats().Routes["DELETE /v1/users/{user_id}"].Total
}

// TestAnotherInstanceBehindTheSameURLIsRefused: a run recorded the
// instance its pre-flight reached; when the key given later reaches
// another instance behind the same URL, a rollback, a sync that deletes
// orphans and a resumed import are refused (exit 2, naming both
// instances) before anything is sent. Before, the rollback met a 404 for
// every user, counted them "already gone", exited 0 and marked the rows
// rolled back while the users remained. With the run's own instance back,
// the rollback deletes them.
func TestAnotherInstanceBehindTheSameURLIsRefused(t *testing.T) {
	dir := t.TempDir()
	a, b := startEmulator(t), startEmulator(t)
	api := newOneURL(t, a)
	run := importFive(t, dir, api.URL())
	api.to.Store(b) // the key now given reaches instance b
	env := map[string]string{secretKeyEnv: remoteKey}
	refusedBoth := func(what string, res cliResult) {
		t.Helper()
		ia, ib := a.Emulator().InstanceID(), b.Emulator().InstanceID()
		if res.code != ExitUsage || !strings.Contains(res.stderr, ia) || !strings.Contains(res.stderr, ib) {
			t.Errorf("%s into another instance: exit %d, want %d naming %s and %s\nstdout:\n%s\nstderr:\n%s",
				what, res.code, ExitUsage, ia, ib, res.stdout, res.stderr)
		}
		noEstimate(t, res)
		if n := deletes(b); n != 0 {
			t.Errorf("%s sent %d deletes to the other instance", what, n)
		}
		if n := len(a.Emulator().Snapshot().Users); n != 5 {
			t.Fatalf("after %s the run's instance has %d of its 5 users", what, n)
		}
	}

	refusedBoth("rollback", runCLI(t, dir, env, "rollback", "--yes", "--no-progress", run))
	five := filepath.Join(dir, "five.csv")
	refusedBoth("sync --delete-orphans", runCLI(t, dir, env, "sync", "--no-progress", "--target", api.URL(),
		"--source", five, "--mapping", repoFile(t, "samples/legacy_users.mapping.yaml"), "--delete-orphans"))
	refusedBoth("a resumed import", runCLI(t, dir, env, "import", "--no-progress", "--target", api.URL(),
		"--source", five, "--mapping", repoFile(t, "samples/legacy_users.mapping.yaml")))
	if n := len(b.Emulator().Snapshot().Users); n != 0 {
		t.Errorf("the refused runs created %d users in the other instance", n)
	}

	api.to.Store(a)
	res := runCLI(t, dir, env, "rollback", "--yes", "--no-progress", run)
	if res.code != ExitOK {
		t.Fatalf("rollback on the run's own instance: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if n := len(a.Emulator().Snapshot().Users); n != 0 {
		t.Errorf("after the rollback on its own instance %d of the run's 5 users remain\n%s", n, res.stdout)
	}
}

// TestTwoKeysOfOneInstanceAreOneTarget: the target lock is keyed by the
// instance the pre-flight reaches, so a run with a second key of the same
// instance is refused while the first holds it (before: the lock was the
// URL and a hash of the key, and the two runs sent every request twice).
func TestTwoKeysOfOneInstanceAreOneTarget(t *testing.T) {
	srv, err := emulator.Start(emulator.Config{Faults: emulator.Faults{Latency: 300 * time.Millisecond}}) // any key
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	dir := t.TempDir()
	first := startRun(t, dir, srv, sampleImport(srv.URL(), "--run-id", "first")...)
	res := runCLI(t, dir, map[string]string{secretKeyEnv: "sk_live_a_second_key_of_the_instance"},
		sampleImport(srv.URL(), "--run-id", "second")...)
	refusedFor(t, res, "first", first.cmd.Process.Pid)
	if !strings.Contains(res.stderr, srv.Emulator().InstanceID()) {
		t.Errorf("the refusal does not name the instance %s:\n%s", srv.Emulator().InstanceID(), res.stderr)
	}
	noReportDir(t, dir, "second")
	first.stop(t)
}
