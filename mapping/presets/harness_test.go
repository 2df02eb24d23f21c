package presets_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/sources/pgtest"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/sqlite"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
	"github.com/clerkmigrate/clerkmigrate/importer/migrate"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/mapping/presets"
	"github.com/clerkmigrate/clerkmigrate/reports"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

const testKey = "sk_test_presets"

// samplesDir holds the preset samples, in each system's export format.
var samplesDir = filepath.Join("..", "..", "samples", "presets")

// run is one preset import into a fresh emulator with a real SQLite ledger.
type run struct {
	dir     string // the run's own directory: ledger and reports
	sum     runner.Summary
	users   map[string]emulator.UserState // by external_id
	ledger  checkpoint.Store
	mapping *mapping.Mapping
}

// importPreset runs migrate.Run with a preset over spec, the way the CLI's
// --preset does (the preset's source hints, its CSV header, its params),
// and writes the reports.
func importPreset(t *testing.T, name string, spec sources.Spec, params mapping.Params) *run {
	t.Helper()
	return importVariant(t, name, "", spec, params)
}

// importVariant is importPreset with --preset-variant.
func importVariant(t *testing.T, name, variant string, spec sources.Spec, params mapping.Params) *run {
	t.Helper()
	p, err := presets.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	m, err := p.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.ParamNames()) > 0 {
		if m, err = m.WithParams(params); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	spec, _, err = p.Resolve(context.Background(), spec, variant)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(spec.Location, ".csv") {
		path, cleanup, err := p.WithCSVHeader(spec.Location, dir)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cleanup)
		spec.Location = path
	}
	src, err := sources.Open(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()

	srv, err := emulator.Start(emulator.Config{SecretKey: testKey, RequestsPerWindow: 1 << 30, UserUpdatesPerWindow: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	api, err := clerk.New(clerk.Config{BaseURL: srv.URL(), SecretKey: testKey, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ledger, err := sqlite.Open(filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ledger.Close() })
	budget := pacer.New(pacer.NewBudget(pacer.Rate{Requests: 1_000_000, Window: 10 * time.Second}, 8, 10*time.Second))
	sum, err := migrate.Run(context.Background(), migrate.Config{
		Source: src, Mapper: m, MappingFingerprint: m.Fingerprint(), Store: ledger, Target: "test",
		Gateway: gateway.New(api, gateway.Config{Pacer: budget}), Workers: 8,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := reports.Write(context.Background(), ledger, sum.RunID, filepath.Join(dir, "reports"), reports.Options{}); err != nil {
		t.Fatal(err)
	}
	users := map[string]emulator.UserState{}
	for _, u := range srv.Emulator().Snapshot().Users {
		if u.ExternalID == nil {
			t.Fatalf("user %s without external_id", u.ID)
		}
		users[*u.ExternalID] = u
	}
	return &run{dir: dir, sum: sum, users: users, ledger: ledger, mapping: m}
}

// fileSpec is a source spec of a sample file.
func fileSpec(name string) sources.Spec {
	return sources.Spec{Location: filepath.Join(samplesDir, name)}
}

// pgDatabase creates a fresh database on the test server, fills it with a
// sample's SQL and returns its connection string; the database is dropped
// afterwards. It skips without CLERKMIGRATE_TEST_PG, unless CI=true.
func pgDatabase(t *testing.T, sqlFile string) string {
	t.Helper()
	return pgtest.Database(t, "cm_preset", readSample(t, sqlFile))
}

// readSample reads a preset sample file.
func readSample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samplesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// str reads an optional text of a snapshot.
func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// emails lists a user's addresses, primary first.
func emails(u emulator.UserState) []string {
	var out []string
	for _, e := range u.EmailAddresses {
		out = append(out, e.Value)
	}
	return out
}

// phones lists a user's numbers.
func phones(u emulator.UserState) []string {
	var out []string
	for _, e := range u.PhoneNumbers {
		out = append(out, e.Value)
	}
	return out
}

// statuses lists a user's email addresses and phone numbers, in order, with
// their status in the emulator: "verified", "reserved" or "unverified".
func statuses(u emulator.UserState) string {
	var out []string
	for _, list := range [][]emulator.Identifier{u.EmailAddresses, u.PhoneNumbers} {
		for _, id := range list {
			st := "unverified"
			switch {
			case id.Verified:
				st = "verified"
			case id.Reserved:
				st = "reserved"
			}
			out = append(out, id.Value+":"+st)
		}
	}
	return strings.Join(out, " ")
}

// wantStatuses checks the identifiers' statuses of users by external_id.
func wantStatuses(t *testing.T, r *run, want map[string]string) {
	t.Helper()
	for key, w := range want {
		if got := statuses(r.users[key]); got != w {
			t.Errorf("%s: identifiers %q, want %q", key, got, w)
		}
	}
}

// ms is an RFC 3339 time in Unix milliseconds, as the snapshot holds it.
func ms(t *testing.T, s string) int64 {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v.UnixMilli()
}
