package postgres_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/sources/pgtest"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/postgres"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/storetest"
	"github.com/jackc/pgx/v5"
)

// testDSN is the test database, or skips (fails when CI=true) without one.
func testDSN(tb testing.TB) string {
	tb.Helper()
	dsn := pgtest.ConnString(tb)
	return dsn
}

var nonIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// testSchema makes a fresh schema for tb, dropped when tb ends.
func testSchema(tb testing.TB, dsn string) string {
	tb.Helper()
	sum := sha256.Sum256([]byte(tb.Name()))
	name := nonIdent.ReplaceAllString(strings.ToLower(tb.Name()), "_")
	if len(name) > 30 {
		name = name[len(name)-30:]
	}
	// Unique to this process too: another checkout may run the same test
	// on the same server at the same moment.
	schema := pgtest.Name("cmt_" + hex.EncodeToString(sum[:4]) + "_" + name)
	drop := func() {
		conn, err := pgx.Connect(context.Background(), dsn)
		if err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `DROP SCHEMA IF EXISTS `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	}
	drop()
	tb.Cleanup(drop)
	return schema
}

// schemas gives each test one schema, however often it opens the ledger.
var schemas sync.Map // *testing.T -> string

func openLedger(t *testing.T) checkpoint.Store {
	t.Helper()
	dsn := testDSN(t)
	schema, ok := schemas.Load(t)
	if !ok {
		schema, _ = schemas.LoadOrStore(t, testSchema(t, dsn))
	}
	s, err := postgres.Open(context.Background(), dsn, postgres.WithSchema(schema.(string)))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	storetest.Run(t, openLedger)
}

// TestTerminatedLockConnectionStopsTheRunAtOnce terminates the backend that
// holds a run's locks, on the real server: Run.Lost closes without waiting
// for a ping (the ping is an hour away here), no write of the run lands from
// then on, another process can take the run and its target, and the first
// Store's Close does not mark the new holder's run interrupted.
func TestTerminatedLockConnectionStopsTheRunAtOnce(t *testing.T) {
	dsn := testDSN(t)
	schema := testSchema(t, dsn)
	ctx := context.Background()
	s1, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema), postgres.WithLockPing(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	runID := fmt.Sprintf("lost-%d-%d", os.Getpid(), time.Now().UnixNano())
	spec := checkpoint.RunSpec{ID: runID, Kind: "import", TargetLock: "T"}
	run, err := s1.BeginRun(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	if err := s1.Settle(ctx, runID, []checkpoint.Settlement{{Pos: 1, Outcome: checkpoint.Created}}); err != nil {
		t.Fatal(err)
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
	select {
	case <-run.Lost:
	case <-time.After(10 * time.Second):
		t.Fatal("Run.Lost still open 10 s after the lock backend was terminated (the ping is an hour away)")
	}
	err = s1.Settle(ctx, runID, []checkpoint.Settlement{{Pos: 2, Outcome: checkpoint.Created}})
	if !errors.Is(err, checkpoint.ErrHoldLost) {
		t.Fatalf("Settle after the loss = %v, want ErrHoldLost", err)
	}
	if err := s1.MarkInFlight(ctx, runID, []checkpoint.Row{{Pos: 3, Key: "k3"}}); !errors.Is(err, checkpoint.ErrHoldLost) {
		t.Errorf("MarkInFlight after the loss = %v, want ErrHoldLost", err)
	}

	s2, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema))
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if _, err := s2.BeginRun(ctx, spec); err != nil {
		t.Fatalf("another Store taking the run and target after the loss: %v", err)
	}
	p, err := s2.Progress(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Settled() != 1 || p.InFlight != 0 {
		t.Errorf("Progress = %+v: want row 1 only, no write after the loss", p)
	}
	if err := s1.Close(); err != nil {
		t.Errorf("Close of the Store that lost the run: %v", err)
	}
	runs, err := s2.Runs(ctx)
	if err != nil || len(runs) != 1 || runs[0].Status != checkpoint.Running {
		t.Errorf("runs after the old holder closed = %+v, %v; want the new holder's run still running", runs, err)
	}
}
