package migrate

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/sqlite"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// The crash test re-executes this test binary as the importer; these
// variables tell the child what to import, where to, and with which ledger.
const (
	envCrashChild  = "CLERKMIGRATE_IMPORTER_CRASH_CHILD"
	envCrashURL    = "CLERKMIGRATE_IMPORTER_CRASH_URL"
	envCrashCSV    = "CLERKMIGRATE_IMPORTER_CRASH_CSV"
	envCrashLedger = "CLERKMIGRATE_IMPORTER_CRASH_LEDGER"
	envCrashMap    = "CLERKMIGRATE_IMPORTER_CRASH_MAPPING"
)

func TestMain(m *testing.M) {
	if os.Getenv(envCrashChild) == "1" {
		os.Exit(crashChild())
	}
	os.Exit(m.Run())
}

// crashChild is the importer process of the crash test: one plain Run.
func crashChild() int {
	fail := func(err error) int {
		fmt.Fprintln(os.Stderr, "child:", err)
		return 1
	}
	url := os.Getenv(envCrashURL)
	st, err := sqlite.Open(os.Getenv(envCrashLedger))
	if err != nil {
		return fail(err)
	}
	defer st.Close()
	src, err := sources.OpenCSV(sources.CSVConfig{Path: os.Getenv(envCrashCSV), KeyColumn: "id"})
	if err != nil {
		return fail(err)
	}
	defer src.Close()
	m, err := mapping.Load(os.Getenv(envCrashMap))
	if err != nil {
		return fail(err)
	}
	client, err := clerk.New(clerk.Config{BaseURL: url, SecretKey: testSecretKey, Timeout: 5 * time.Second})
	if err != nil {
		return fail(err)
	}
	p := pacer.New(pacer.NewBudget(pacer.Rate{Requests: 700, Window: time.Second}, 8, 5*time.Second))
	g := gateway.New(client, gateway.Config{Pacer: p, Retry: gateway.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond}})
	_, err = Run(context.Background(), Config{
		Source: src, Mapper: m, MappingFingerprint: m.Fingerprint(), Store: st, Gateway: g, Target: url, Workers: 8,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	})
	if err != nil {
		return fail(err)
	}
	return 0
}

// TestCrashAndResume imports 2,000 rows into the emulator with faults on,
// SIGKILLs the importer process five times, each after a random number of
// new creates reached the emulator (so the kills fall at random points of
// the import, whatever the machine's speed), resumes each time, and checks
// that in the end every source row has exactly one outcome and the
// emulator holds every valid user exactly once.
func TestCrashAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("takes about 5 s")
	}
	const (
		n          = 2000
		blankEvery = 97 // rows without an email: the mapping refuses them
		kills      = 5
	)
	emu := startEmulator(t, emulator.Config{
		RequestsPerWindow: 100000, Window: time.Second, RequiredIdentifiers: []string{"email_address"},
		Faults: emulator.Faults{Seed: 5, ErrorRate: 0.03, ResetRate: 0.02, LostResponseRate: 0.03,
			Latency: time.Millisecond, Jitter: 2 * time.Millisecond},
	})
	dir := t.TempDir()
	csvPath := writeUsersCSV(t, dir, n, 0, blankEvery)
	ledgerPath := filepath.Join(dir, "ledger.db")
	loadMapping(t, dir) // writes the file the child loads
	mappingPath := filepath.Join(dir, "users.mapping.yaml")
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 0))
	t.Logf("kill points from seed %d", seed)
	creates := func() int { return emu.Stats().Routes["POST /v1/users"].Total }

	child := func() (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), envCrashChild+"=1", envCrashURL+"="+emu.URL(),
			envCrashCSV+"="+csvPath, envCrashLedger+"="+ledgerPath, envCrashMap+"="+mappingPath)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &stderr
	}
	for killed := 1; killed <= kills; killed++ {
		cmd, stderr := child()
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		// At most 5 x 300 of the 2,000 creates: the last run has work left.
		at := creates() + 20 + rng.IntN(280)
		for creates() < at {
			select {
			case err := <-done:
				t.Fatalf("the importer finished before kill %d (before %d creates): %v\n%s", killed, at, err, stderr)
			case <-time.After(2 * time.Millisecond):
			}
		}
		if err := cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-done
		t.Logf("kill %d after %d creates; emulator holds %d users", killed, at, len(emu.Snapshot().Users))
	}
	cmd, stderr := child()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the final resume failed: %v\n%s", err, stderr)
	}

	st := openLedgerAt(t, ledgerPath)
	runs, err := st.Runs(context.Background())
	if err != nil || len(runs) != 1 || runs[0].Status != checkpoint.Done {
		t.Fatalf("runs %+v, %v: want one run, done", runs, err)
	}
	rows := checkEveryRowOnce(t, st, runs[0].ID, n)
	users := emulatorUsers(t, emu.Emulator)
	for pos := int64(1); pos <= n; pos++ {
		r := rows[pos]
		u, inClerk := users[fmt.Sprintf("u%d", pos)]
		if pos%blankEvery == 0 {
			if r.Outcome != checkpoint.Invalid || inClerk {
				t.Errorf("row %d (no email): %+v, in the emulator %v; want invalid", pos, r.Settlement, inClerk)
			}
			continue
		}
		if r.Outcome != checkpoint.Created || !inClerk || u.ID != r.ClerkID {
			t.Errorf("row %d: %+v; want created as the emulator's %q", pos, r.Settlement, u.ID)
		}
	}
	if want := n - n/blankEvery; len(users) != want {
		t.Errorf("emulator holds %d users, want %d", len(users), want)
	}
	stats := emu.Stats()
	t.Logf("emulator: %d requests, faults %+v", stats.Total, stats.Faults)
}
