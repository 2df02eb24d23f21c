// Package formats_test imports the same twelve users from CSV, a JSON
// array, JSON Lines and a Postgres table, each into a fresh emulator, and
// checks the four give identical users.
package formats_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

const testKey = "sk_test_formats"

// importInto runs the shared mapping over one source into a fresh emulator
// with a SQLite ledger, and returns the users by external_id.
func importInto(t *testing.T, spec sources.Spec) map[string]emulator.UserState {
	t.Helper()
	m, err := mapping.Load("users.mapping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	spec.KeyPath = m.Key()
	src, err := sources.Open(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	srv, err := emulator.Start(emulator.Config{SecretKey: testKey, RequestsPerWindow: 1 << 30, UserUpdatesPerWindow: 1 << 30,
		RequiredIdentifiers: []string{"email_address"}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	api, err := clerk.New(clerk.Config{BaseURL: srv.URL(), SecretKey: testKey, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ledger, err := sqlite.Open(filepath.Join(t.TempDir(), "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer ledger.Close()
	budget := pacer.New(pacer.NewBudget(pacer.Rate{Requests: 1_000_000, Window: 10 * time.Second}, 8, 10*time.Second))
	sum, err := migrate.Run(context.Background(), migrate.Config{
		Source: src, Mapper: m, MappingFingerprint: m.Fingerprint(), Store: ledger, Target: "test",
		Gateway: gateway.New(api, gateway.Config{Pacer: budget}), Workers: 8,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.ByOutcome[checkpoint.Created] != 12 {
		t.Fatalf("%s: outcomes %+v, want 12 created", spec.Location, sum.ByOutcome)
	}
	users := map[string]emulator.UserState{}
	for _, u := range srv.Emulator().Snapshot().Users {
		users[*u.ExternalID] = comparable(u)
	}
	return users
}

// comparable drops what differs between two emulators: ids and the times
// of the import itself.
func comparable(u emulator.UserState) emulator.UserState {
	u.ID, u.PrimaryEmailAddressID, u.PrimaryPhoneNumberID, u.PrimaryWeb3WalletID = "", "", "", ""
	u.UpdatedAt, u.PasswordLastUpdatedAt, u.MFAEnabledAt = 0, 0, 0
	for _, list := range [][]emulator.Identifier{u.EmailAddresses, u.PhoneNumbers, u.Web3Wallets} {
		for i := range list {
			list[i].ID, list[i].CreatedAt, list[i].UpdatedAt = "", 0, 0
		}
	}
	return u
}

// render is a user as JSON, for comparison and messages.
func render(t *testing.T, u emulator.UserState) string {
	t.Helper()
	b, err := json.Marshal(u)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// sameUsers fails unless got holds exactly want's users, field for field.
func sameUsers(t *testing.T, name string, want, got map[string]emulator.UserState) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d users, want %d", name, len(got), len(want))
	}
	for key, w := range want {
		if a, b := render(t, w), render(t, got[key]); a != b {
			t.Errorf("%s: user %s differs\n csv %s\n got %s", name, key, a, b)
		}
	}
}

func TestFourFormatsGiveTheSameUsers(t *testing.T) {
	fromCSV := importInto(t, sources.Spec{Location: "users.csv"})
	// The CSV's users are the right ones (a spot check of every kind of value).
	ada := fromCSV["u001"]
	if ada.EmailAddresses[0].Value != "ada@example.com" || *ada.FirstName != "Ada" || ada.PhoneNumbers[0].Value != "+14155550101" ||
		ada.PasswordHasher != "bcrypt" || !ada.HasPasswordDigest || ada.CreatedAt != time.Date(2019, 3, 4, 10, 22, 1, 0, time.UTC).UnixMilli() ||
		render(t, emulator.UserState{PublicMetadata: ada.PublicMetadata, PrivateMetadata: ada.PrivateMetadata}) !=
			`{"id":"","public_metadata":{"beta":true,"theme":"dark"},"private_metadata":{"plan":"pro"},"password_enabled":false,"has_password_digest":false,"totp_enabled":false,"backup_code_enabled":false,"banned":false,"locked":false,"delete_self_enabled":false,"create_organization_enabled":false,"bypass_client_trust":false,"created_at":0,"updated_at":0}` {
		t.Errorf("u001: %s", render(t, ada))
	}
	if !fromCSV["u005"].Banned || fromCSV["u004"].PasswordHasher != "argon2id" || fromCSV["u003"].HasPasswordDigest ||
		*fromCSV["u012"].LastName != "Ångström" {
		t.Errorf("u003-u012 spot checks failed")
	}
	sameUsers(t, "users.json", fromCSV, importInto(t, sources.Spec{Location: "users.json"}))
	sameUsers(t, "users.jsonl", fromCSV, importInto(t, sources.Spec{Location: "users.jsonl"}))
	t.Run("postgres", func(t *testing.T) {
		db := freshDatabase(t)
		sameUsers(t, "postgres", fromCSV, importInto(t, sources.Spec{Location: db, Table: "formats_users"}))
	})
}

// freshDatabase creates a database on the test server, runs users.sql in
// it and returns its connection string; it is dropped afterwards. Without
// CLERKMIGRATE_TEST_PG the test skips, unless CI=true.
func freshDatabase(t *testing.T) string {
	t.Helper()
	sql, err := os.ReadFile("users.sql")
	if err != nil {
		t.Fatal(err)
	}
	return pgtest.Database(t, "cm_formats", string(sql))
}
