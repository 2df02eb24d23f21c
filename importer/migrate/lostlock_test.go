package migrate

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/postgres"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
	"github.com/clerkmigrate/clerkmigrate/sources/pgtest"
	"github.com/jackc/pgx/v5"
)

// TestLostLedgerLockStopsTheRunAtOnce runs an import on a Postgres ledger
// and terminates the backend holding the run's locks while two requests
// (a second each, in the emulator) are under way: the run must stop there,
// sending Clerk no further request, and say the hold was lost. Before, it
// went on writing and sending until the next ping, 5 s later.
func TestLostLedgerLockStopsTheRunAtOnce(t *testing.T) {
	dsn := pgtest.Database(t, "importer_lost_lock")
	ctx := context.Background()
	st, err := postgres.Open(ctx, dsn, postgres.WithLockPing(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()

	emu := emulator.New(emulator.Config{SecretKey: testSecretKey, Faults: emulator.Faults{Latency: time.Second}})
	var arrived atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived.Add(1)
		emu.ServeHTTP(w, r)
	}))
	defer srv.Close()
	dir := t.TempDir()
	m := loadMapping(t, dir)
	runID := fmt.Sprintf("lost-lock-%d-%d", os.Getpid(), time.Now().UnixNano())
	cfg := Config{
		Source: openCSV(t, writeUsersCSV(t, dir, 40, 0, 0)), Mapper: m, MappingFingerprint: m.Fingerprint(), Store: st,
		Gateway: emuGateway(t, srv.URL+"/v1", pacer.Rate{Requests: 1000, Window: time.Second}, 2),
		Target:  srv.URL, TargetLock: srv.URL, RunID: runID, Workers: 2, Logger: discardLogger(), TempDir: dir,
	}
	type result struct {
		sum runner.Summary
		err error
	}
	done := make(chan result, 1)
	go func() {
		sum, err := Run(ctx, cfg)
		done <- result{sum, err}
	}()
	// The second round of two requests is under way and the first round is
	// settled: the run's next ledger write and its next requests are a
	// second away.
	for deadline := time.Now().Add(30 * time.Second); arrived.Load() < 4 || settled(t, st, runID) < 2; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d requests in 30 s", arrived.Load())
		}
	}
	admin, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var killed bool
	if err := admin.QueryRow(ctx, `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity WHERE application_name = $1`,
		"clerkmigrate run "+runID).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminating the lock backend: %v, %v", killed, err)
	}
	sent := arrived.Load()
	res := <-done
	if !errors.Is(res.err, checkpoint.ErrHoldLost) {
		t.Fatalf("Run = %v, want it stopped with ErrHoldLost", res.err)
	}
	if n := arrived.Load(); n != sent {
		t.Errorf("%d requests reached Clerk after the lock was lost (%d before): the run must stop at once", n-sent, sent)
	}
	if res.sum.Status != checkpoint.Interrupted {
		t.Errorf("summary status %q, want interrupted", res.sum.Status)
	}
}

// settled counts the rows a run has settled (0 before it begins).
func settled(t *testing.T, st checkpoint.Store, runID string) int64 {
	p, err := st.Progress(context.Background(), runID)
	if err != nil {
		return 0
	}
	return p.Settled()
}
