package migrate

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
	"github.com/clerkmigrate/clerkmigrate/mapping"
)

// dupMapping maps the CSV of writeDuplicatesCSV.
const dupMapping = `version: 1
key: id
fields:
  email_address: { from: email, transform: [trim, lower], verified: true }
  username: { from: username }
  phone_number: { from: phone, verified: true }
  skip_password_requirement: { value: true }
`

// writeDuplicatesCSV writes n users, unique but for the shared values of
// dups: row → the earlier row whose value it repeats, and which one.
func writeDuplicatesCSV(t *testing.T, dir string, n int, dups map[int]struct {
	of    int
	field string
}) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,email,username,phone\n")
	for i := 1; i <= n; i++ {
		id, email, user, phone := fmt.Sprintf("k%d", i), fmt.Sprintf("user%d@example.com", i),
			fmt.Sprintf("user_%d", i), fmt.Sprintf("+1415555%04d", i)
		if d, ok := dups[i]; ok {
			switch d.field {
			case "email_address":
				email = strings.ToUpper(fmt.Sprintf("user%d@example.com", d.of)) // any case
			case "username":
				user = fmt.Sprintf("USER_%d", d.of)
			case "phone_number":
				phone = fmt.Sprintf("+1415555%04d", d.of)
			case "external_id":
				id = fmt.Sprintf("k%d", d.of)
			}
		}
		fmt.Fprintf(&b, "%s,%s,%s,%s\n", id, email, user, phone)
	}
	path := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDuplicatesFirstRowWinsWith32Workers imports a file whose later rows
// repeat an earlier row's email, username, phone number or key, with 32
// workers, three times over: the first row in source order is created
// every time, each later one is settled invalid as a duplicate of it and
// never reaches Clerk, and re-running the command sends nothing and
// changes no verdict.
func TestDuplicatesFirstRowWinsWith32Workers(t *testing.T) {
	const n = 120
	dups := map[int]struct {
		of    int
		field string
	}{
		7: {6, "email_address"}, 12: {11, "email_address"}, 90: {3, "email_address"}, 91: {3, "email_address"},
		40: {2, "username"}, 41: {40, "phone_number"}, 77: {76, "phone_number"}, 100: {99, "external_id"},
	}
	for round := 1; round <= 3; round++ {
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) {
			emu := startEmulator(t, emulator.Config{RequestsPerWindow: 1 << 30, UserUpdatesPerWindow: 1 << 30})
			dir := t.TempDir()
			m, err := mapping.Parse([]byte(dupMapping))
			if err != nil {
				t.Fatal(err)
			}
			csvPath := writeDuplicatesCSV(t, dir, n, dups)
			st := openLedger(t)
			cfg := Config{Source: openCSV(t, csvPath), Mapper: m, MappingFingerprint: m.Fingerprint(), Store: st,
				Gateway: emuGateway(t, emu.URL(), pacer.Rate{Requests: 100000, Window: time.Second}, 32),
				Target:  emu.URL(), Workers: 32, MarkBatch: 1, Logger: discardLogger(), TempDir: dir}
			sum, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			rows := checkEveryRowOnce(t, st, sum.RunID, n)
			users := emulatorUsers(t, emu.Emulator)
			for pos := 1; pos <= n; pos++ {
				r := rows[int64(pos)]
				d, dup := dups[pos]
				if !dup {
					if r.Outcome != checkpoint.Created || users[r.Key].ID != r.ClerkID {
						t.Errorf("row %d: %+v, want created", pos, r.Settlement)
					}
					continue
				}
				want := fmt.Sprintf("duplicate of row %d", d.of)
				if r.Outcome != checkpoint.Invalid || r.Field != d.field || r.Attempts != 0 ||
					!strings.HasPrefix(r.ErrorCode, "duplicate_") || !strings.Contains(r.Message, want) {
					t.Errorf("row %d (repeats row %d's %s): %+v; want invalid, %s, never sent", pos, d.of, d.field, r.Settlement, want)
				}
			}
			creates := emu.Stats().Routes["POST /v1/users"].Total
			if valid := n - len(dups); creates != valid || len(users) != valid {
				t.Errorf("%d creates reached Clerk, which holds %d users; want %d of each: no duplicate was sent",
					creates, len(users), valid)
			}

			// The same command again: every verdict stands, nothing is sent.
			cfg.Source = openCSV(t, csvPath)
			again, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if again.AlreadySettled != n || again.Requests != 0 {
				t.Errorf("re-run: %+v; want every row already settled and no request", again)
			}
			for pos, r := range ledgerRows(t, st, sum.RunID) {
				if r.Settlement != rows[pos].Settlement {
					t.Errorf("row %d changed on the re-run: %+v, was %+v", pos, r.Settlement, rows[pos].Settlement)
				}
			}
		})
	}
}

// TestCancelDuringTheDuplicateCheck: a run cancelled before its import
// pass sends nothing, is interrupted and says how to resume; the same
// command then imports everything once.
func TestCancelDuringTheDuplicateCheck(t *testing.T) {
	st, api := openLedger(t), newFakeAPI()
	ctx, cancel := context.WithCancel(context.Background())
	src := rowsSource(50)
	src.beforeRewind = func(i int) {
		if i == 20 {
			cancel()
		}
	}
	sum, err := Run(ctx, testConfig(t, st, src, api))
	if err == nil || !strings.Contains(err.Error(), "re-run the same command to resume") || sum.Status != checkpoint.Interrupted {
		t.Fatalf("err = %v, status %s; want an interruption that says how to resume", err, sum.Status)
	}
	if api.calls() != 0 {
		t.Errorf("%d calls before the duplicate check was done", api.calls())
	}
	sum, err = Run(context.Background(), testConfig(t, st, rowsSource(50), api))
	if err != nil {
		t.Fatal(err)
	}
	checkEveryRowOnce(t, st, sum.RunID, 50)
	if api.creates.Load() != 50 {
		t.Errorf("%d creates, want 50", api.creates.Load())
	}
}

// TestEveryDeleteOfARollbackIsPaced rolls an import back against an
// emulator whose whole budget is 15 requests a second: no 429, and the
// rollback's pacer admitted exactly the requests the emulator saw.
func TestEveryDeleteOfARollbackIsPaced(t *testing.T) {
	tiny := pacer.Rate{Requests: 15, Window: time.Second}
	emu := startEmulator(t, emulator.Config{RequestsPerWindow: tiny.Requests, Window: tiny.Window})
	st, dir := openLedger(t), t.TempDir()
	csvPath, m := writeUsersCSV(t, dir, 12, 0, 0), loadMapping(t, dir)
	ctx := context.Background()
	sum, err := Run(ctx, Config{Source: openCSV(t, csvPath), Mapper: m, MappingFingerprint: m.Fingerprint(), Store: st,
		Gateway: emuGateway(t, emu.URL(), tiny, 4), Target: emu.URL(), Workers: 4, Logger: discardLogger(), TempDir: dir})
	if err != nil || sum.ByOutcome[checkpoint.Created] != 12 {
		t.Fatalf("import: %v %v", err, sum.ByOutcome)
	}
	before := emu.Stats()
	g := emuGateway(t, emu.URL(), tiny, 4)
	rb, err := Rollback(ctx, RollbackConfig{Store: st, Gateway: g, ImportRunID: sum.RunID, Target: emu.URL(), Workers: 4, Logger: discardLogger()})
	if err != nil || rb.ByOutcome[checkpoint.Deleted] != 12 {
		t.Fatalf("rollback: %v %v", err, rb.ByOutcome)
	}
	after := emu.Stats()
	seen := after.Total - before.Total
	if after.RateLimited != 0 || g.Stats().Pacer.Requests != int64(seen) || after.Routes["DELETE /v1/users/{user_id}"].Total != 12 {
		t.Errorf("%d 429s; the pacer admitted %d requests, the emulator saw %d (%d deletes)",
			after.RateLimited, g.Stats().Pacer.Requests, seen, after.Routes["DELETE /v1/users/{user_id}"].Total)
	}
}
