package reconcile

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/sqlite"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
	"github.com/clerkmigrate/clerkmigrate/importer/migrate"
	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

const testKey = "sk_live_reconcile_test_0123456789"

// fast is a budget no test reaches.
var fast = pacer.Rate{Requests: 1_000_000, Window: 10 * time.Second}

// gateway is the test's way to the emulator, under budget and Clerk's
// per-user budget perUser (the zero Rate: Clerk's own).
func (e *env) gateway(budget, perUser pacer.Rate) *gateway.Gateway {
	p := pacer.New(pacer.NewBudget(budget, 16, 10*time.Second))
	return gateway.New(e.api, gateway.Config{Pacer: p, PerUser: perUser,
		Retry: gateway.RetryPolicy{BaseDelay: time.Millisecond, MaxDelay: 20 * time.Millisecond, MaxRateLimitRetries: 5}})
}

// legacyUser is one row of the test source.
type legacyUser struct {
	ID, Email, First, Last string
	Plan                   string
	N                      int
	DigestVersion          int
	NoDigest               bool // the source has no password for the user
	Banned                 bool
	// CreatedAt is the created_at column (RFC 3339), read only by
	// mappings that map it.
	CreatedAt string
}

func baseUser(i int) legacyUser {
	return legacyUser{ID: fmt.Sprintf("u%d", i), Email: fmt.Sprintf("user%d@example.com", i),
		First: fmt.Sprintf("First%d", i), Last: fmt.Sprintf("Last%d", i), Plan: "free", N: i}
}

const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// digest is a well-formed bcrypt digest that differs by user and version.
func (u legacyUser) digest() string {
	if u.NoDigest {
		return ""
	}
	const base = "$2a$10$54cbf.ymtKSc4jsKFRlzae9cuuBPUuF9HdApTvElGczWqU1ST1uv6"
	n := u.N*7 + u.DigestVersion
	b := []byte(base)
	for i := 0; i < 6; i++ {
		b[len(b)-12+i] = bcryptAlphabet[n%64]
		n /= 64
	}
	return string(b)
}

const testMappingYAML = `version: 1
key: id
options:
  required_identifiers: [email_address]
fields:
  email_address: { from: email, transform: [trim, lower], verified: true }
  first_name: { from: first_name, transform: [trim] }
  last_name: { from: last_name, transform: [trim] }
  password_digest: { from: password_hash }
  password_hasher: { value: bcrypt }
  skip_password_requirement: { value: true }
  public_metadata: { from: public_metadata, parse: json }
  banned: { from: banned, parse: bool }
`

// managedProps are the properties testMappingYAML sets.
var managedProps = []string{"email_address", "first_name", "last_name", "password_digest", "password_hasher",
	"skip_password_requirement", "public_metadata", "banned"}

// writeSource writes users as CSV and returns the path.
func writeSource(t testing.TB, dir, name string, users []legacyUser) string {
	t.Helper()
	path := filepath.Join(dir, name)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "id,email,first_name,last_name,password_hash,public_metadata,banned,created_at")
	for _, u := range users {
		meta := strings.ReplaceAll(fmt.Sprintf(`{"plan":"%s","n":%d}`, u.Plan, u.N), `"`, `""`)
		fmt.Fprintf(w, "%s,%s,%s,%s,%s,\"%s\",%t,%s\n", u.ID, u.Email, u.First, u.Last, u.digest(), meta, u.Banned, u.CreatedAt)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func loadTestMapping(t testing.TB, dir string) *mapping.Mapping {
	t.Helper()
	path := filepath.Join(dir, "mapping.yaml")
	if err := os.WriteFile(path, []byte(testMappingYAML), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func openSource(t testing.TB, path string) *sources.CSV {
	t.Helper()
	src, err := sources.OpenCSV(sources.CSVConfig{Path: path, KeyColumn: "id"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

// env is an emulator, a client and a SQLite ledger.
type env struct {
	dir    string
	srv    *emulator.Server
	api    *clerk.Client
	ledger *sqlite.Store
	m      *mapping.Mapping
}

func newEnv(t testing.TB, cfg emulator.Config) *env {
	t.Helper()
	cfg.SecretKey = testKey
	if cfg.RequestsPerWindow == 0 {
		cfg.RequestsPerWindow = 1_000_000
	}
	srv, err := emulator.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	api, err := clerk.New(clerk.Config{BaseURL: srv.URL(), SecretKey: testKey, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	ledger, err := sqlite.Open(filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ledger.Close() })
	return &env{dir: dir, srv: srv, api: api, ledger: ledger, m: loadTestMapping(t, dir)}
}

// seed imports users with the importer, as a migration would.
func (e *env) seed(t testing.TB, users []legacyUser) {
	t.Helper()
	path := writeSource(t, e.dir, "seed.csv", users)
	sum, err := migrate.Run(context.Background(), migrate.Config{
		Source: openSource(t, path), Mapper: e.m, MappingFingerprint: e.m.Fingerprint(), Store: e.ledger,
		Gateway: e.gateway(fast, pacer.Rate{}), Target: "test", Workers: 16, Logger: quietLogger(), TempDir: e.dir,
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := sum.ByOutcome["created"]; got != int64(len(users)) {
		t.Fatalf("seed created %d users, want %d: %+v", got, len(users), sum.ByOutcome)
	}
}

// useMapping makes the mapping file text the env's mapping.
func (e *env) useMapping(t testing.TB, name, text string) {
	t.Helper()
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	e.m = m
}

// importFile imports the CSV at path with the env's mapping and checks
// that it created n users.
func (e *env) importFile(t testing.TB, path string, n int) {
	t.Helper()
	sum, err := migrate.Run(context.Background(), migrate.Config{
		Source: openSource(t, path), Mapper: e.m, MappingFingerprint: e.m.Fingerprint(),
		Store: e.ledger, Gateway: e.gateway(fast, pacer.Rate{}), Target: "test", Workers: 4, Logger: quietLogger(),
		TempDir: e.dir,
	})
	if err != nil || sum.ByOutcome["created"] != int64(n) {
		t.Fatalf("import of %s: %v %v", filepath.Base(path), err, sum.ByOutcome)
	}
}

// rowMessage is the ledger's message of the row key in run.
func (e *env) rowMessage(t testing.TB, run, key string) string {
	t.Helper()
	var msg string
	err := e.ledger.Rows(context.Background(), run, checkpoint.Filter{}, func(r checkpoint.RowState) error {
		if r.Key == key {
			msg = r.Message
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// config is a sync of the source at path.
func (e *env) config(t testing.TB, path string) Config {
	return Config{
		Source: openSource(t, path), Mapper: e.m, MappingFingerprint: e.m.Fingerprint(),
		Store: e.ledger, Index: e.ledger, Gateway: e.gateway(fast, pacer.Rate{}), Target: "test", Workers: 16,
		Managed: managedProps, FingerprintKey: []byte("test fingerprint key"), Logger: quietLogger(),
	}
}

// preflightRoute is the pre-flight every run sends once before its work
// (TestSyncRecordsTheInstance counts it); calls leaves it out.
const preflightRoute = "GET /v1/instance"

// calls counts the emulator's requests since before, the pre-flight left
// out: all, and the writes.
func calls(before, after emulator.Stats) (total, writes int, byRoute map[string]int) {
	byRoute = map[string]int{}
	for route, st := range after.Routes {
		n := st.Total - before.Routes[route].Total
		if n == 0 || route == preflightRoute {
			continue
		}
		byRoute[route] = n
		total += n
		if !strings.HasPrefix(route, "GET ") {
			writes += n
		}
	}
	return total, writes, byRoute
}

// users indexes the emulator's users by external_id.
func users(t testing.TB, e *emulator.Emulator) map[string]emulator.UserState {
	t.Helper()
	out := map[string]emulator.UserState{}
	for _, u := range e.Snapshot().Users {
		if u.ExternalID == nil {
			t.Errorf("user %s has no external_id", u.ID)
			continue
		}
		if _, dup := out[*u.ExternalID]; dup {
			t.Errorf("external_id %s held twice", *u.ExternalID)
		}
		out[*u.ExternalID] = u
	}
	return out
}

// checkMatches compares the emulator's users with the source field by field.
func checkMatches(t testing.TB, got map[string]emulator.UserState, want []legacyUser) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("Clerk has %d users, the source %d", len(got), len(want))
	}
	bad := 0
	for _, w := range want {
		u, ok := got[w.ID]
		if !ok {
			t.Errorf("%s missing from Clerk", w.ID)
			bad++
			continue
		}
		var problems []string
		if deref(u.FirstName) != w.First || deref(u.LastName) != w.Last {
			problems = append(problems, fmt.Sprintf("name %q %q", deref(u.FirstName), deref(u.LastName)))
		}
		if p := primary(u.EmailAddresses, u.PrimaryEmailAddressID); p != w.Email {
			problems = append(problems, fmt.Sprintf("primary email %q", p))
		}
		meta, _ := json.Marshal(u.PublicMetadata)
		if string(meta) != fmt.Sprintf(`{"n":%d,"plan":"%s"}`, w.N, w.Plan) {
			problems = append(problems, "public_metadata "+string(meta))
		}
		if !u.HasPasswordDigest || u.PasswordHasher != "bcrypt" || u.Banned != w.Banned {
			problems = append(problems, fmt.Sprintf("password %v/%s banned %v", u.HasPasswordDigest, u.PasswordHasher, u.Banned))
		}
		if len(problems) > 0 {
			bad++
			if bad <= 5 {
				t.Errorf("%s differs: %s", w.ID, strings.Join(problems, "; "))
			}
		}
	}
	if bad > 5 {
		t.Errorf("... %d users differ in all", bad)
	}
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func primary(ids []emulator.Identifier, id string) string {
	for _, x := range ids {
		if x.ID == id {
			return x.Value
		}
	}
	return ""
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }
