package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

// writeUsers writes n users in the sample's columns (a real bcrypt digest
// each) to a CSV file in dir, as docs/bench/pacing.sh does.
func writeUsers(t *testing.T, dir string, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("id,email,secondary_emails,email_verified,first_name,last_name,username,phone,phone_verified," +
		"password_hash,hasher,totp_secret,backup_codes,public_metadata,plan,role,created_at,is_disabled,locale\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "b%d,user%d@example.com,,true,Ada,Lovelace%d,user%d,,,"+
			"$2a$10$54cbf.ymtKSc4jsKFRlzae9cuuBPUuF9HdApTvElGczWqU1ST1uv6,bcrypt,,,,free,member,2020-01-02 03:04:05,0,en-US\n",
			i, i, i, i)
	}
	path := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// runSummary is the part of summary.json these tests read.
type runSummary struct {
	CountsByOutcome map[string]int64 `json:"counts_by_outcome"`
	Throughput      struct {
		Requests        *int64 `json:"requests"`
		RateLimited429  *int64 `json:"rate_limited_429"`
		Retries         *int64 `json:"retries"`
		Lookups         *int64 `json:"lookups"`
		InFlightLimited *struct {
			MaxInFlight int     `json:"max_in_flight"`
			Wanted      int     `json:"wanted"`
			MostPerSec  float64 `json:"most_requests_per_sec"`
		} `json:"in_flight_limited"`
	} `json:"throughput"`
}

// readRunSummary reads the one summary.json under out.
func readRunSummary(t *testing.T, out string) runSummary {
	t.Helper()
	paths, _ := filepath.Glob(filepath.Join(out, "*", "summary.json"))
	if len(paths) != 1 {
		t.Fatalf("want one summary.json under %s, found %v", out, paths)
	}
	raw, err := os.ReadFile(paths[0])
	if err != nil {
		t.Fatal(err)
	}
	var s runSummary
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	if s.Throughput.Requests == nil || s.Throughput.RateLimited429 == nil || s.Throughput.Retries == nil || s.Throughput.Lookups == nil {
		t.Fatalf("summary.json lacks a count:\n%s", raw)
	}
	return s
}

// TestSummaryCountsWhatTheServerReceived: through 5xx answers, lost
// answers and resets, and a budget told too high (429s), summary.json's
// requests are exactly the requests the emulator received (the pre-flight
// included), its 429s the emulator's 429s, its lookups the emulator's reads
// of users, and every failed attempt the emulator caused is either a retry
// or a lost answer a lookup found applied.
func TestSummaryCountsWhatTheServerReceived(t *testing.T) {
	t.Parallel()
	const key, rows = "sk_test_counting", 150
	srv, err := emulator.Start(emulator.Config{SecretKey: key, RequestsPerWindow: 40, Window: time.Second,
		Faults: emulator.Faults{Seed: 14, ErrorRate: 0.05, LostResponseRate: 0.04, ResetRate: 0.03}})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	// --rate 600 per 10 s is 60/s against a limit of 40 per second: 429s
	// until the pacer learns the limit. The fixed timeout keeps a loaded
	// machine's stall from adding a timeout the emulator never caused.
	res := runCLIProcess(t, dir, map[string]string{secretKeyEnv: key}, "import", "--no-progress",
		"--source", writeUsers(t, dir, rows), "--mapping", repoFile(t, "samples/legacy_users.mapping.yaml"),
		"--target", srv.URL(), "--out", out, "--rate", "600", "--request-timeout", "30s")
	if res.code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
	}
	s, es := readRunSummary(t, out), srv.Emulator().Stats()
	th := s.Throughput
	reads := es.Routes["GET /v1/users"].Total + es.Routes["GET /v1/users/{user_id}"].Total + es.Routes["GET /v1/users/count"].Total
	t.Logf("summary: %d requests, %d 429s, %d retries, %d lookups; emulator: %d requests, %d 429s, %d reads, faults %+v",
		*th.Requests, *th.RateLimited429, *th.Retries, *th.Lookups, es.Total, es.RateLimited, reads, es.Faults)
	if *th.Requests != int64(es.Total) {
		t.Errorf("summary.json counts %d requests, the emulator received %d", *th.Requests, es.Total)
	}
	if *th.RateLimited429 != int64(es.RateLimited) || es.RateLimited == 0 {
		t.Errorf("summary.json counts %d 429s, the emulator answered %d (want equal, some)", *th.RateLimited429, es.RateLimited)
	}
	if *th.Lookups != int64(reads) || reads == 0 {
		t.Errorf("summary.json counts %d lookups, the emulator received %d reads of users (want equal, some)", *th.Lookups, reads)
	}
	created := len(srv.Emulator().Snapshot().Users)
	if s.CountsByOutcome["created"]+s.CountsByOutcome["exists"] != rows || created != rows {
		t.Fatalf("outcomes %v, %d users in the emulator: want all %d rows created once", s.CountsByOutcome, created, rows)
	}
	// Each attempt that failed (5xx, reset, lost answer, 429) was sent
	// again, except a lost create that its lookup found applied. The
	// summary does not count those recoveries, so the check is a bound.
	failed := int64(es.Faults.Errors + es.Faults.Resets + es.Faults.LostResponses + es.RateLimited)
	if *th.Retries > failed || *th.Retries < failed-int64(es.Faults.LostResponses) || *th.Retries == 0 {
		t.Errorf("summary.json counts %d retries; the emulator failed %d attempts, %d of them lost answers", *th.Retries, failed, es.Faults.LostResponses)
	}
}

// TestMaxInFlightThatLimitsTheRateIsSaid: a --max-in-flight below what
// Little's law asks at the latency seen is said once in the log and in
// summary.json; the default ceiling at the same latency and budget is not
// reached and not reported.
func TestMaxInFlightThatLimitsTheRateIsSaid(t *testing.T) {
	t.Parallel()
	// The ceiling is reported once it held the rate down for a whole
	// window (10 s), after 32 answers: 160 rows at 10 a second.
	const key, rows = "sk_live_capped", 160
	for _, tc := range []struct {
		name   string
		flags  []string
		capped bool
	}{
		{"ceiling 2", []string{"--max-in-flight", "2"}, true},
		{"default flags", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			// 200 ms a request at 100 requests/s: Little's law asks for
			// about 20 at once (more with the queued margin); 2 allow 10/s.
			srv, err := emulator.Start(emulator.Config{SecretKey: key, Faults: emulator.Faults{Latency: 200 * time.Millisecond}})
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			dir := t.TempDir()
			out := filepath.Join(dir, "out")
			args := append([]string{"import", "--no-progress", "--source", writeUsers(t, dir, rows),
				"--mapping", repoFile(t, "samples/legacy_users.mapping.yaml"), "--target", srv.URL(), "--out", out}, tc.flags...)
			res := runCLIProcess(t, dir, map[string]string{secretKeyEnv: key}, args...)
			if res.code != ExitOK {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", res.code, res.stdout, res.stderr)
			}
			said := strings.Count(res.stderr, "--max-in-flight 2 limits the rate")
			limited := readRunSummary(t, out).Throughput.InFlightLimited
			switch {
			case tc.capped && (said != 1 || limited == nil || limited.MaxInFlight != 2 || limited.Wanted <= 2 || limited.MostPerSec > 30):
				t.Errorf("the log says it %d times (want once), summary.json in_flight_limited = %+v\nstderr:\n%s", said, limited, res.stderr)
			case !tc.capped && (strings.Contains(res.stderr, "limits the rate") || limited != nil):
				t.Errorf("default flags: a ceiling reported as limiting the rate: %+v\nstderr:\n%s", limited, res.stderr)
			}
		})
	}
}
