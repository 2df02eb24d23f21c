//go:build unix

package sqlite_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/sqlite"
)

// childEnv names the ledger a re-executed test binary holds a run of.
const childEnv = "CLERKMIGRATE_LOCK_CHILD_LEDGER"

// TestLockChild is the child's side of TestKilledHolderLetsGo: it takes run
// "r1" writing to target "T", settles row 1, says "held" and waits to be
// killed.
func TestLockChild(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("only run as the child of TestKilledHolderLetsGo")
	}
	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.BeginRun(ctx, checkpoint.RunSpec{ID: "r1", Kind: "import", TargetLock: "T"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Settle(ctx, "r1", []checkpoint.Settlement{{Pos: 1, Outcome: checkpoint.Created}}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkInFlight(ctx, "r1", []checkpoint.Row{{Pos: 2, Key: "k2"}}); err != nil {
		t.Fatal(err)
	}
	fmt.Println("held")
	time.Sleep(time.Minute)
	t.Fatal("the parent did not kill this child")
}

// TestKilledHolderLetsGo: a SIGKILLed holder of a run and of its target
// blocks neither the run nor the target once it is dead.
func TestKilledHolderLetsGo(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestLockChild$", "-test.v")
	cmd.Env = append(os.Environ(), childEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	lines := bufio.NewScanner(out)
	held := false
	for !held && lines.Scan() {
		held = lines.Text() == "held"
	}
	if !held {
		t.Fatalf("the child never took the run (%v)", lines.Err())
	}

	s, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	_, err = s.BeginRun(ctx, checkpoint.RunSpec{ID: "r1", Kind: "import"})
	var locked *checkpoint.RunLockedError
	if !errors.As(err, &locked) || !errors.Is(err, checkpoint.ErrRunLocked) {
		t.Fatalf("BeginRun while the child holds the run = %v, want a RunLockedError", err)
	}
	if locked.Holder.PID != cmd.Process.Pid {
		t.Errorf("holder pid = %d, want the child's %d (%v)", locked.Holder.PID, cmd.Process.Pid, err)
	}
	_, err = s.BeginRun(ctx, checkpoint.RunSpec{ID: "r2", Kind: "import", TargetLock: "T"})
	var busy *checkpoint.TargetLockedError
	if !errors.As(err, &busy) || len(busy.Holders) != 1 || busy.Holders[0].PID != cmd.Process.Pid || busy.Holders[0].Run != "r1" {
		t.Fatalf("BeginRun of another run into the child's target = %v, want a TargetLockedError naming run r1 of pid %d", err, cmd.Process.Pid)
	}

	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	run, err := s.BeginRun(ctx, checkpoint.RunSpec{ID: "r1", Kind: "import"})
	if err != nil {
		t.Fatalf("BeginRun after the holder was killed = %v, want the run", err)
	}
	if !run.Reopened {
		t.Errorf("run = %+v, want reopened", run)
	}
	p, err := s.Progress(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if p.ByOutcome[checkpoint.Created] != 1 || p.InFlight != 1 || p.MaxSettledPos != 1 {
		t.Errorf("Progress after the kill = %+v, want row 1 created and row 2 in flight", p)
	}
	if _, err := s.BeginRun(ctx, checkpoint.RunSpec{ID: "r2", Kind: "import", TargetLock: "T"}); err != nil {
		t.Errorf("BeginRun into the killed holder's target = %v, want it free", err)
	}
}
