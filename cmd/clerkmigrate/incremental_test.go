package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/sources/pgtest"

	"github.com/jackc/pgx/v5"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/stores"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/reconcile"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
)

// incKey is a production-shaped key: the emulator grants it 1000 req/10 s.
const incKey = "sk_live_incremental_test_0123456789"

const incMappingYAML = `version: 1
key: id
options:
  required_identifiers: [email_address]
fields:
  email_address: { from: email, transform: [trim, lower], verified: true }
  first_name: { from: first_name, transform: [trim] }
  last_name: { from: last_name, transform: [trim] }
  skip_password_requirement: { value: true }
`

// incBase is the updated_at of the seeded rows' first row; microseconds
// make a mark that loses precision visible.
var incBase = time.Date(2026, 3, 1, 8, 0, 0, 123456000, time.UTC)

// incEnv is one test's Postgres schema, emulator and working directory.
type incEnv struct {
	t       *testing.T
	conn    *pgx.Conn
	schema  string
	dsn     string // the source's connection string, tagged for pg_stat_activity
	appName string
	srv     *emulator.Server
	dir     string
	mapFile string
}

// newIncEnv connects to CLERKMIGRATE_TEST_PG (skipping without it unless
// CI=true), creates a unique schema with a users table of n rows and
// starts an emulator.
func newIncEnv(t *testing.T, n int) *incEnv {
	t.Helper()
	dsn := pgtest.ConnString(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	var b [6]byte
	rand.Read(b[:])
	e := &incEnv{t: t, conn: conn, schema: "cm_inc_" + hex.EncodeToString(b[:]), dir: t.TempDir()}
	e.appName = "clerkmigrate_src_" + e.schema
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	e.dsn = dsn + sep + "application_name=" + e.appName
	e.exec("CREATE SCHEMA " + e.schema)
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP SCHEMA "+e.schema+" CASCADE")
		conn.Close(context.Background())
	})
	e.exec(`CREATE TABLE $s.users (id text PRIMARY KEY, email text NOT NULL, first_name text, last_name text,
		updated_at timestamptz NOT NULL)`)
	e.exec(`INSERT INTO $s.users SELECT 'u' || lpad(i::text, 4, '0'), 'user' || i || '@example.com', 'First' || i,
		'Last' || i, $1::timestamptz + (i - 1) * interval '1 second' FROM generate_series(1, $2::int) AS i`, incBase, n)
	e.srv, err = emulator.Start(emulator.Config{SecretKey: incKey})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.srv.Close() })
	e.mapFile = filepath.Join(e.dir, "mapping.yaml")
	if err := os.WriteFile(e.mapFile, []byte(incMappingYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *incEnv) exec(sql string, args ...any) {
	e.t.Helper()
	sql = strings.ReplaceAll(sql, "$s.", e.schema+".")
	if _, err := e.conn.Exec(context.Background(), sql, args...); err != nil {
		e.t.Fatalf("%s: %v", sql, err)
	}
}

// args are a command's flags over the test table and emulator.
func (e *incEnv) args(cmd string, extra ...string) []string {
	return append([]string{cmd, "--no-progress", "--source", e.dsn, "--table", e.schema + ".users",
		"--mapping", e.mapFile, "--target", e.srv.URL(), "--updated-at-column", "updated_at"}, extra...)
}

func (e *incEnv) cli(args ...string) cliResult {
	e.t.Helper()
	return runCLI(e.t, e.dir, map[string]string{secretKeyEnv: incKey}, args...)
}

// ledger opens the run ledger the CLI wrote (call it between invocations).
func (e *incEnv) ledger() checkpoint.Store {
	e.t.Helper()
	st, err := stores.Open(context.Background(), filepath.Join(e.dir, defaultOutDir, "ledger.db"))
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { st.Close() })
	return st
}

// newestRun is the newest run of kind in the ledger, with its progress.
func (e *incEnv) newestRun(kind string) (checkpoint.Run, checkpoint.Progress) {
	e.t.Helper()
	st := e.ledger()
	runs, err := st.Runs(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	for _, r := range runs {
		if r.Kind == kind {
			p, err := st.Progress(context.Background(), r.ID)
			if err != nil {
				e.t.Fatal(err)
			}
			st.Close()
			return r, p
		}
	}
	e.t.Fatalf("no %s run in the ledger", kind)
	return checkpoint.Run{}, checkpoint.Progress{}
}

// maxUpdatedAt is the table's latest updated_at.
func (e *incEnv) maxUpdatedAt() time.Time {
	e.t.Helper()
	var t time.Time
	if err := e.conn.QueryRow(context.Background(), "SELECT max(updated_at) FROM "+e.schema+".users").Scan(&t); err != nil {
		e.t.Fatal(err)
	}
	return t
}

// change bumps ten rows (u0011..u0020: new first names) and inserts five
// (u9001..u9005), all an hour after the seeded rows.
func (e *incEnv) change() {
	e.t.Helper()
	later := incBase.Add(time.Hour)
	e.exec(`UPDATE $s.users SET first_name = 'Changed' || id, updated_at = $1::timestamptz + (substr(id, 2)::int) * interval '1 microsecond'
		WHERE id BETWEEN 'u0011' AND 'u0020'`, later)
	e.exec(`INSERT INTO $s.users SELECT 'u900' || i, 'new' || i || '@example.com', 'New' || i, 'Person', $1::timestamptz + i * interval '1 second'
		FROM generate_series(1, 5) AS i`, later)
}

// snapshotByExternalID counts the emulator's users per external_id.
func (e *incEnv) snapshotByExternalID() map[string]int {
	byExt := map[string]int{}
	for _, u := range e.srv.Emulator().Snapshot().Users {
		if u.ExternalID != nil {
			byExt[*u.ExternalID]++
		}
	}
	return byExt
}

func mustExit(t *testing.T, what string, r cliResult, want int) {
	t.Helper()
	if r.code != want {
		t.Fatalf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, r.code, want, r.stdout, r.stderr)
	}
}

func TestImportSinceLastReadsOnlyChangedRows(t *testing.T) {
	e := newIncEnv(t, 200)
	mustExit(t, "full import", e.cli(e.args("import")...), ExitOK)
	full, p := e.newestRun(runner.KindImport)
	if p.ByOutcome[checkpoint.Created] != 200 || p.Settled() != 200 {
		t.Fatalf("full import settled %v, want 200 created", p.ByOutcome)
	}
	wantMark := rfc3339(e.maxUpdatedAt())
	if got := full.Meta[runner.MetaHighWater]; got != wantMark {
		t.Fatalf("full import's high-water mark %q, want %q (max updated_at, full precision)", got, wantMark)
	}
	if full.Meta[runner.MetaSince] != "" || !strings.Contains(full.Meta[runner.MetaSinceSource], e.schema+".users") {
		t.Errorf("full import's since meta: %v", full.Meta)
	}

	e.change()
	postsBefore := e.srv.Emulator().Stats().Routes["POST /v1/users"].Total
	r := e.cli(e.args("import", "--since-last", "--since-overlap", "0")...)
	mustExit(t, "import --since-last", r, ExitOK)
	if !strings.Contains(r.stderr, "after "+wantMark) {
		t.Errorf("the run does not say which mark it took:\n%s", r.stderr)
	}
	inc, p := e.newestRun(runner.KindImport)
	if inc.ID == full.ID {
		t.Fatalf("the incremental import reused the full run %s", full.ID)
	}
	if p.Settled() != 15 || p.ByOutcome[checkpoint.Created] != 5 || p.ByOutcome[checkpoint.Exists] != 10 || p.InFlight != 0 {
		t.Fatalf("incremental run settled %v (in flight %d), want 5 created + 10 exists", p.ByOutcome, p.InFlight)
	}
	if got := e.srv.Emulator().Stats().Routes["POST /v1/users"].Total - postsBefore; got != 15 {
		t.Errorf("the incremental import sent %d creates, want 15 (5 new, 10 found by external_id)", got)
	}
	users := e.snapshotByExternalID()
	if len(users) != 205 {
		t.Errorf("emulator holds %d external ids, want 205", len(users))
	}
	for ext, n := range users {
		if n != 1 {
			t.Errorf("external_id %s is held by %d users", ext, n)
		}
	}
	if inc.Meta[runner.MetaSince] != wantMark {
		t.Errorf("incremental run's since %q, want the full run's mark %q", inc.Meta[runner.MetaSince], wantMark)
	}
	secondMark := rfc3339(e.maxUpdatedAt())
	if got := inc.Meta[runner.MetaHighWater]; got != secondMark {
		t.Fatalf("incremental run's mark %q, want %q", got, secondMark)
	}

	// Nothing changed: nothing is read, and the mark stays.
	r = e.cli(e.args("import", "--since-last", "--since-overlap", "0")...)
	mustExit(t, "third import", r, ExitOK)
	third, p := e.newestRun(runner.KindImport)
	if third.ID == inc.ID || p.Settled() != 0 || third.Meta[runner.MetaHighWater] != secondMark {
		t.Fatalf("third run %s settled %d rows with mark %q; want a new run, 0 rows, mark %s",
			third.ID, p.Settled(), third.Meta[runner.MetaHighWater], secondMark)
	}

	// The default overlap (5m) re-reads the margin: the 15 rows of the last
	// hour again, all found by external_id; nothing is created.
	r = e.cli(e.args("import", "--since-last")...)
	mustExit(t, "import with the default overlap", r, ExitOK)
	over, p := e.newestRun(runner.KindImport)
	if p.Settled() != 15 || p.ByOutcome[checkpoint.Exists] != 15 || over.Meta[runner.MetaHighWater] != secondMark {
		t.Fatalf("overlapping run settled %v with mark %q; want 15 exists, mark %s", p.ByOutcome, over.Meta[runner.MetaHighWater], secondMark)
	}
	if n := len(e.srv.Emulator().Snapshot().Users); n != 205 {
		t.Errorf("emulator holds %d users after the overlapping run, want 205", n)
	}
}

func TestSinceLastUsage(t *testing.T) {
	e := newIncEnv(t, 3)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no earlier run", e.args("import", "--since-last"), "no finished import run"},
		{"since and since-last", e.args("import", "--since-last", "--since", "2026-01-01T00:00:00Z"), "exclude each other"},
		{"sync without a full sync", e.args("sync", "--since-last"), "no finished sync run"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.cli(tt.args...)
			if r.code != ExitUsage || !strings.Contains(r.stderr, tt.want) {
				t.Errorf("exit %d, want %d with %q\n%s", r.code, ExitUsage, tt.want, r.stderr)
			}
		})
	}
	r := runCLI(t, e.dir, nil, "import", "--no-progress", "--dry-run", "--source", repoFile(t, "samples/legacy_users.csv"),
		"--mapping", repoFile(t, "samples/legacy_users.mapping.yaml"), "--since-last")
	if r.code != ExitUsage || !strings.Contains(r.stderr, "--updated-at-column") {
		t.Errorf("--since-last without a column: exit %d\n%s", r.code, r.stderr)
	}
}

func TestSyncSinceLastReadsOnlyChangedRows(t *testing.T) {
	e := newIncEnv(t, 200)
	mustExit(t, "seed import", e.cli(e.args("import")...), ExitOK)
	r := e.cli(e.args("sync")...)
	mustExit(t, "full sync", r, ExitOK)
	fullSync, p := e.newestRun(reconcile.KindSync)
	if p.ByOutcome[checkpoint.Unchanged] != 200 || fullSync.Meta[runner.MetaHighWater] != rfc3339(e.maxUpdatedAt()) {
		t.Fatalf("full sync: %v, mark %q\n%s", p.ByOutcome, fullSync.Meta[runner.MetaHighWater], r.stdout)
	}

	e.change()
	before := e.srv.Emulator().Stats()
	r = e.cli(e.args("sync", "--since-last", "--since-overlap", "0")...)
	mustExit(t, "sync --since-last", r, ExitOK)
	after := e.srv.Emulator().Stats()
	delta := func(route string) int { return after.Routes[route].Total - before.Routes[route].Total }
	if c, u, l := delta("POST /v1/users"), delta("PATCH /v1/users/{user_id}"), delta("GET /v1/users"); c != 5 || u != 10 || l != 1 {
		t.Errorf("calls: %d creates, %d updates, %d list pages; want 5, 10, 1\n%s", c, u, l, r.stdout)
	}
	if n := after.Total - before.Total; n != 17 {
		t.Errorf("the incremental sync made %d calls, want 17 (the pre-flight, 1 list page, 5 creates, 10 updates)", n)
	}
	inc, p := e.newestRun(reconcile.KindSync)
	if inc.ID == fullSync.ID || p.Settled() != 15 || p.ByOutcome[checkpoint.Updated] != 10 || p.ByOutcome[checkpoint.Created] != 5 {
		t.Fatalf("incremental sync %s settled %v, want 10 updated + 5 created", inc.ID, p.ByOutcome)
	}
	if inc.Meta[reconcile.MetaOrphanStep] != reconcile.OrphansNotJudged || !strings.Contains(r.stdout, "orphan step: not judged") {
		t.Errorf("orphan step %q; stdout:\n%s", inc.Meta[reconcile.MetaOrphanStep], r.stdout)
	}
	if inc.Meta[runner.MetaHighWater] != rfc3339(e.maxUpdatedAt()) {
		t.Errorf("incremental sync's mark %q, want %q", inc.Meta[runner.MetaHighWater], rfc3339(e.maxUpdatedAt()))
	}
	for _, u := range e.srv.Emulator().Snapshot().Users {
		if u.ExternalID != nil && *u.ExternalID == "u0015" && (u.FirstName == nil || *u.FirstName != "Changedu0015") {
			t.Errorf("u0015's first name in Clerk: %v", u.FirstName)
		}
	}
	if inc.Meta[reconcile.MetaClerkScan] != reconcile.ScanIncremental || !strings.Contains(r.stdout, "clerk scan: incremental") {
		t.Errorf("the incremental sync scanned Clerk %q:\n%s", inc.Meta[reconcile.MetaClerkScan], r.stdout)
	}

	// Edits in Clerk between runs: the next incremental sync lists those
	// users and the 15 the last one wrote, in one page, and writes them to
	// its index.
	api, err := clerk.New(clerk.Config{BaseURL: e.srv.URL(), SecretKey: incKey, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range e.srv.Emulator().Snapshot().Users {
		if x := *u.ExternalID; x == "u0030" || x == "u0031" {
			if _, err := api.UpdateUserMetadata(context.Background(), u.ID, &clerk.MetadataParams{PrivateMetadata: map[string]any{"note": "set in Clerk"}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	before = e.srv.Emulator().Stats()
	r = e.cli(e.args("sync", "--since-last", "--since-overlap", "0")...)
	mustExit(t, "second sync --since-last", r, ExitOK)
	after = e.srv.Emulator().Stats()
	m := regexp.MustCompile(`clerk scan: incremental, (\d+) users listed, 17 new or changed written to the index`).FindStringSubmatch(r.stdout)
	if l := delta("GET /v1/users"); l != 1 || m == nil || len(m[1]) > 2 || m[1] > "19" { // 17 to 19
		t.Errorf("second incremental sync: %d list pages, want 1, listing the 2 users edited in Clerk and the 15 written (and the one at the mark):\n%s", l, r.stdout)
	}

	// --full overrides --since-last: every row, every Clerk user, orphans
	// judged, and a mark for the next --since-last.
	r = e.cli(e.args("sync", "--since-last", "--full")...)
	mustExit(t, "sync --since-last --full", r, ExitOK)
	full, p := e.newestRun(reconcile.KindSync)
	if p.Settled() != 205 || full.Meta[reconcile.MetaClerkScan] != reconcile.ScanFull || full.Meta[reconcile.MetaOrphanStep] == reconcile.OrphansNotJudged ||
		full.Meta[runner.MetaHighWater] != rfc3339(e.maxUpdatedAt()) {
		t.Errorf("sync --full: %v, scan %q, orphan step %q, mark %q\n%s", p.ByOutcome, full.Meta[reconcile.MetaClerkScan],
			full.Meta[reconcile.MetaOrphanStep], full.Meta[runner.MetaHighWater], r.stdout)
	}
}

func TestImportDroppedConnectionResumes(t *testing.T) {
	const rows = 400
	e := newIncEnv(t, rows)
	args := e.args("import", "--batch-size", "10", "--max-in-flight", "4", "--rate", "600")

	// First invocation: its source backend is terminated once 30 users exist.
	t.Chdir(e.dir)
	t.Setenv(secretKeyEnv, incKey)
	outF, errF := tempFile(t), tempFile(t)
	done := make(chan int, 1)
	go func() { done <- run(append([]string{"clerkmigrate"}, args...), outF, errF) }()
	killed := false
	var code int
wait:
	for {
		select {
		case code = <-done:
			break wait
		case <-time.After(5 * time.Millisecond):
		}
		if !killed && e.srv.Emulator().Stats().Routes["POST /v1/users"].Status[200] >= 30 {
			var n int
			err := e.conn.QueryRow(context.Background(),
				"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", e.appName).Scan(&n)
			if err != nil || n != 1 {
				t.Fatalf("terminating the source's backend: %d terminated, %v", n, err)
			}
			killed = true
		}
	}
	stdout, stderr := readFile(t, outF), readFile(t, errF)
	if !killed {
		t.Fatalf("the import ended (exit %d) before its backend could be terminated:\n%s", code, stdout)
	}
	if code != ExitFatal || !strings.Contains(stderr, "reading after record") || !strings.Contains(stderr, `(key "u0`) {
		t.Fatalf("dropped connection: exit %d, want %d with the last key read\nstdout:\n%s\nstderr:\n%s", code, ExitFatal, stdout, stderr)
	}
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "clerkmigrate:") {
			t.Logf("the error: %s", l)
		}
	}
	first, p := e.newestRun(runner.KindImport)
	if first.Status != checkpoint.Interrupted || p.Settled() >= rows {
		t.Fatalf("after the drop: run %s %s with %d settled", first.ID, first.Status, p.Settled())
	}
	t.Logf("dropped after %d settled, %d in flight, %d users in Clerk", p.Settled(), p.InFlight, len(e.srv.Emulator().Snapshot().Users))

	// The same command again resumes the same run.
	mustExit(t, "resume", e.cli(args...), ExitOK)
	resumed, p := e.newestRun(runner.KindImport)
	if resumed.ID != first.ID || resumed.Status != checkpoint.Done {
		t.Fatalf("resume ran %s (%s), want %s done", resumed.ID, resumed.Status, first.ID)
	}
	if p.Settled() != rows || p.InFlight != 0 || p.ByOutcome[checkpoint.Created]+p.ByOutcome[checkpoint.Exists] != rows || p.MaxSettledPos != rows {
		t.Fatalf("resumed run: %v, %d in flight, settled prefix %d; want %d created or exists", p.ByOutcome, p.InFlight, p.MaxSettledPos, rows)
	}
	users := e.snapshotByExternalID()
	if len(users) != rows || len(e.srv.Emulator().Snapshot().Users) != rows {
		t.Fatalf("emulator holds %d users over %d external ids, want %d", len(e.srv.Emulator().Snapshot().Users), len(users), rows)
	}
	for i := 1; i <= rows; i++ {
		if ext := fmt.Sprintf("u%04d", i); users[ext] != 1 {
			t.Errorf("%s is held by %d users", ext, users[ext])
		}
	}
	// Every row has exactly one outcome, at its own position.
	st := e.ledger()
	seen := map[string]bool{}
	var n int64
	err := st.Rows(context.Background(), first.ID, checkpoint.Filter{}, func(rs checkpoint.RowState) error {
		n++
		if rs.InFlight || rs.Outcome == "" || seen[rs.Key] || rs.Pos != n {
			return fmt.Errorf("row %d (key %s): in flight %v, outcome %q, seen before %v", rs.Pos, rs.Key, rs.InFlight, rs.Outcome, seen[rs.Key])
		}
		seen[rs.Key] = true
		return nil
	})
	if err != nil || n != rows {
		t.Fatalf("ledger rows: %d, %v", n, err)
	}
	if resumed.Meta[runner.MetaHighWater] != rfc3339(e.maxUpdatedAt()) {
		t.Errorf("resumed run's mark %q, want %q", resumed.Meta[runner.MetaHighWater], rfc3339(e.maxUpdatedAt()))
	}
}

func tempFile(t *testing.T) *os.File {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func readFile(t *testing.T, f *os.File) string {
	t.Helper()
	f.Close()
	b, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
