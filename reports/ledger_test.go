package reports

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/sqlite"
)

// Secrets planted in ledger messages; no report file may contain any.
var plantedSecrets = []string{
	"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",                           // bcrypt
	"$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG", // argon2id
	"pbkdf2_sha256$600000$w4lDSxUIUzW3$Yq9kAiVmQqjPZT2bSzfwsnjIoJ7EOUfhQFTU/Ps8AxE=",         // django
	"JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",                                                       // TOTP secret, base32
	"5f4dcc3b5aa765d61d8327deb882cf99",                                                       // md5 hex
	"sk_test_8kd8AfX9q2LmZpQ4rT6vW1yB3nC5eH7j",                                               // a Clerk secret key
	"{SSHA}MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3OA==",                                         // ldap_ssha
	"$P$984478476IagS59wHZvyQMArzfx58u.",                                                     // phpass
}

// ledgerRow is one row the test ledger holds: settled, or only in flight.
type ledgerRow struct {
	checkpoint.Settlement
	inFlight bool
}

// goldenRows is the run the golden files describe: every outcome of an
// import, errors with and without fields, retryable or not, messages
// with commas, quotes, new lines, a formula and secrets to scrub, and a
// row still in flight.
func goldenRows() []ledgerRow {
	s := func(pos int64, key string, o checkpoint.Outcome, clerkID, code, field, msg string, attempts int, retryable bool) ledgerRow {
		return ledgerRow{Settlement: checkpoint.Settlement{Pos: pos, Key: key, Outcome: o, ClerkID: clerkID,
			ErrorCode: code, Field: field, Message: msg, Attempts: attempts, Retryable: retryable, RequestHash: "h"}}
	}
	return []ledgerRow{
		s(1, "u-001", checkpoint.Created, "user_2abcdefghijklmnopqrstuvwxy1", "", "", "", 1, false),
		s(2, "u-002", checkpoint.Created, "user_2bcdefghijklmnopqrstuvwxyz2", "", "", "", 2, false),
		s(3, "u-003", checkpoint.Invalid, "", "form_param_format_invalid", "email_address", `"not-an-email" is not an email address, in column "email"`, 0, false),
		s(4, "u-004", checkpoint.Exists, "user_2cdefghijklmnopqrstuvwxyz3", "", "", "already in Clerk under external_id u-004", 1, false),
		s(5, "u,005", checkpoint.Failed, "", "form_identifier_exists", "email_address", "That email address is taken.\nTry another.", 1, false),
		s(6, "u-006", checkpoint.Failed, "", "too_many_requests", "", "rate limited 5 times; giving up", 5, true),
		s(7, "u-007", checkpoint.Invalid, "", "hasher_unknown", "password_hasher", "digest "+plantedSecrets[0]+" matches no known hasher", 0, false),
		s(8, "u-008", checkpoint.Skipped, "", "", "", "not in --only-keys", 0, false),
		{Settlement: checkpoint.Settlement{Pos: 9, Key: "u-009", RequestHash: "h"}, inFlight: true},
		s(10, "u-010", checkpoint.Failed, "", "form_password_pwned", "password", "=HYPERLINK(\"http://x\") password found in a breach", 1, false),
		s(11, "u-011", checkpoint.Invalid, "", "invalid_totp_secret_code", "totp_secret", "totp secret "+plantedSecrets[3]+" is not 30s/6 digits", 0, false),
		s(12, "u-012", checkpoint.Failed, "", "", "", "Clerk answered 502 Bad Gateway; sk="+plantedSecrets[5], 3, true),
	}
}

// goldenStats are the importer's figures of the golden run.
func goldenStats() *RunStats {
	start := time.Date(2026, 5, 12, 10, 0, 0, 0, time.UTC)
	st := &RunStats{
		StartedAt: start, FinishedAt: start.Add(95 * time.Second),
		TargetRate: 20, AchievedRate: 0.116, Requests: 19, RateLimited: 4, Retries: 7, ExitCode: 2,
	}
	for i := range 20 {
		at := start.Add(time.Duration(i+1) * 5 * time.Second)
		lat := time.Duration(40+i*3) * time.Millisecond
		st.Series = append(st.Series, Sample{At: at, Interval: 5 * time.Second, Settled: int64(i%4 + 1), Requests: int64(i%4 + 2),
			RateLimited: int64(i % 5 / 4), P50: lat, P90: lat * 2, P99: lat * 4})
	}
	return st
}

var fixedNow = func() time.Time { return time.Date(2026, 5, 12, 10, 2, 0, 0, time.UTC) }

const goldenRunID = "run-golden"

// newLedger opens a real SQLite ledger in a temp dir, begins run runID and
// records rows in it; the run stays held (going on) until the test ends.
func newLedger(t testing.TB, runID string, rows []ledgerRow) (*sqlite.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ledger.db")
	store, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	ctx := context.Background()
	_, err = store.BeginRun(ctx, checkpoint.RunSpec{
		ID: runID, Kind: "import", SourceFingerprint: "sha256:source-aaaa", MappingFingerprint: "sha256:mapping-bbbb",
		Meta: map[string]string{"source": "users.csv", "target": "http://127.0.0.1:8080", "note": "pepper=" + plantedSecrets[4]},
	})
	if err != nil {
		t.Fatal(err)
	}
	var marks []checkpoint.Row
	var settles []checkpoint.Settlement
	for _, r := range rows {
		marks = append(marks, checkpoint.Row{Pos: r.Pos, Key: r.Key, RequestHash: r.RequestHash})
		if !r.inFlight {
			settles = append(settles, r.Settlement)
		}
	}
	if err := store.MarkInFlight(ctx, runID, marks); err != nil {
		t.Fatal(err)
	}
	if err := store.Settle(ctx, runID, settles); err != nil {
		t.Fatal(err)
	}
	return store, path
}
