package migrate

import (
	"context"
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"path/filepath"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
)

// BenchmarkResumeAtMidpoint measures what a user waits for when resuming a
// 1,000,000-row import interrupted at its midpoint: from Run being called
// until the first unsettled row's create is sent (re-opening the source and
// the ledger, skipping the 500,000 settled rows). Run it with -benchtime 1x:
// building the ledger takes a while and is not timed.
func BenchmarkResumeAtMidpoint(b *testing.B) {
	const rows, settled = 1_000_000, 500_000
	dir := b.TempDir()
	csvPath, m := writeUsersCSV(b, dir, rows, 0, 0), loadMapping(b, dir)
	ledger := filepath.Join(dir, "ledger.db")
	runID := fillSettledPrefix(b, ledger, csvPath, m.Fingerprint(), settled)

	for i := 0; i < b.N; i++ {
		st := openLedgerAt(b, ledger)
		ctx, cancel := context.WithCancel(context.Background())
		api := newFakeAPI()
		var firstSend time.Duration
		var firstKey string
		start := time.Now()
		api.createFunc = func(_ context.Context, p *request.CreateUser) (*clerk.User, error) {
			if firstKey == "" {
				firstSend = time.Since(start)
				firstKey, _ = p.ExternalID.Get()
				cancel()
			}
			return nil, context.Canceled
		}
		cfg := Config{Source: openCSV(b, csvPath), Mapper: m, MappingFingerprint: m.Fingerprint(), Store: st,
			Gateway: testGateway(api), RunID: runID, Workers: 1,
			Logger: discardLogger(), ShutdownGrace: time.Millisecond, TempDir: dir}
		Run(ctx, cfg)
		if firstKey != fmt.Sprintf("u%d", settled+1) {
			b.Fatalf("first row sent was %q, want u%d", firstKey, settled+1)
		}
		b.ReportMetric(firstSend.Seconds(), "s-to-first-send")
		st.Close()
	}
}

// fillSettledPrefix records rows 1..n of the CSV as created in a new run, as
// an interrupted import would have left them, and returns the run id.
func fillSettledPrefix(b *testing.B, ledger, csvPath, mappingFP string, n int) string {
	b.Helper()
	src := openCSV(b, csvPath)
	runID := "import-resume-bench"
	st := openLedgerAt(b, ledger)
	ctx := context.Background()
	if _, err := st.BeginRun(ctx, checkpoint.RunSpec{ID: runID, Kind: runner.KindImport,
		SourceFingerprint: src.Info().Fingerprint, MappingFingerprint: mappingFP}); err != nil {
		b.Fatal(err)
	}
	batch := make([]checkpoint.Settlement, 0, 10_000)
	for i := 1; i <= n; i++ {
		batch = append(batch, checkpoint.Settlement{Pos: int64(i), Key: fmt.Sprintf("u%d", i),
			Outcome: checkpoint.Created, ClerkID: fmt.Sprintf("user_%d", i), Attempts: 1})
		if len(batch) == cap(batch) || i == n {
			if err := st.Settle(ctx, runID, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := st.FinishRun(ctx, runID, checkpoint.Interrupted); err != nil {
		b.Fatal(err)
	}
	if err := st.Close(); err != nil {
		b.Fatal(err)
	}
	return runID
}
