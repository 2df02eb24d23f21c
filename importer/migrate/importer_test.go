package migrate

import (
	"context"
	"errors"
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// checkEveryRowOnce asserts that the ledger settles rows 1..n exactly once
// each, none in flight, and returns the rows.
func checkEveryRowOnce(t *testing.T, st checkpoint.Store, runID string, n int) map[int64]checkpoint.RowState {
	t.Helper()
	rows := ledgerRows(t, st, runID)
	if len(rows) != n {
		t.Errorf("ledger holds %d rows, want %d", len(rows), n)
	}
	for pos := int64(1); pos <= int64(n); pos++ {
		r, ok := rows[pos]
		switch {
		case !ok:
			t.Errorf("row %d has no outcome", pos)
		case r.InFlight:
			t.Errorf("row %d still in flight", pos)
		case r.Outcome == "":
			t.Errorf("row %d settled without an outcome", pos)
		}
	}
	return rows
}

func TestRunCreatesEveryRowOnce(t *testing.T) {
	st, api := openLedger(t), newFakeAPI()
	cfg := testConfig(t, st, rowsSource(50), api)
	var last runner.Progress
	calls := 0
	cfg.TotalRows = 50
	cfg.Progress = func(p runner.Progress) { last, calls = p, calls+1 }
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if calls == 0 || last.Settled != 50 || last.ByOutcome[checkpoint.Created] != 50 || last.Read != 50 ||
		last.Requests != 51 || last.ETA != 0 || last.RunID != sum.RunID {
		t.Errorf("%d progress calls, the last %+v; want 50 rows settled, 51 requests (the pre-flight's among them) and nothing left", calls, last)
	}
	rows := checkEveryRowOnce(t, st, sum.RunID, 50)
	for pos, r := range rows {
		if r.Outcome != checkpoint.Created || !strings.HasPrefix(r.ClerkID, "user_") || r.Attempts != 1 {
			t.Errorf("row %d: %+v, want created once with an id", pos, r.Settlement)
		}
	}
	if got := len(api.mem.externalIDs()); got != 50 {
		t.Errorf("clerk holds %d users, want 50", got)
	}
	if sum.ByOutcome[checkpoint.Created] != 50 || sum.Creates != 50 || sum.Lookups != 0 || sum.Status != checkpoint.Done {
		t.Errorf("summary %+v", sum)
	}
	if sum.RunID != runner.DefaultID(runner.KindImport, "rows-50", "map-1", "test") {
		t.Errorf("run id %q is not the default one", sum.RunID)
	}
}

func TestRunTwiceSendsNothingTheSecondTime(t *testing.T) {
	st, api := openLedger(t), newFakeAPI()
	if _, err := Run(context.Background(), testConfig(t, st, rowsSource(20), api)); err != nil {
		t.Fatal(err)
	}
	before := api.calls()
	sum, err := Run(context.Background(), testConfig(t, st, rowsSource(20), api))
	if err != nil {
		t.Fatal(err)
	}
	if api.calls() != before || sum.AlreadySettled != 20 || sum.Settled() != 0 {
		t.Errorf("second run: %d calls, summary %+v; want no call and 20 already settled", api.calls()-before, sum)
	}
}

// errStatus is a Clerk answer with a status and one error code.
func errStatus(status int, code, param string) *clerk.Error {
	e := &clerk.Error{Method: "POST", Path: "/v1/users", Status: status}
	if code != "" {
		d := clerk.ErrorDetail{Code: code, Message: code}
		d.Meta.ParamName = param
		e.Details = []clerk.ErrorDetail{d}
	}
	return e
}

func TestRunOutcomesByClerkAnswer(t *testing.T) {
	// Clerk answers, but with a passing failure every time (a target that
	// does not answer at all is the pacer's to judge: it stops the run).
	unavailable := errStatus(503, "", "")
	tests := []struct {
		name string
		// create answers the row's create calls, by call number from 1;
		// nil falls through to the in-memory Clerk.
		create        func(n int, p *request.CreateUser, mem *memClerk) (*clerk.User, error)
		preexisting   bool // the user is in Clerk before the run
		wantOutcome   checkpoint.Outcome
		wantCode      string
		wantField     string
		wantRetryable bool
		wantCreates   int64
		wantInClerk   bool
	}{
		{
			name: "permanent 422 is failed and not retryable",
			create: func(int, *request.CreateUser, *memClerk) (*clerk.User, error) {
				return nil, errStatus(422, clerk.CodeParamFormatInvalid, "email_address")
			},
			wantOutcome: checkpoint.Failed, wantCode: clerk.CodeParamFormatInvalid, wantField: "email_address", wantCreates: 1,
		},
		{
			name: "5xx then success is created after one retry",
			create: func(n int, p *request.CreateUser, mem *memClerk) (*clerk.User, error) {
				if n == 1 {
					return nil, errStatus(503, "", "")
				}
				return mem.create(p)
			},
			wantOutcome: checkpoint.Created, wantCreates: 2, wantInClerk: true,
		},
		{
			name: "lost response is looked up and recorded created, never re-sent",
			create: func(n int, p *request.CreateUser, mem *memClerk) (*clerk.User, error) {
				if _, err := mem.create(p); err != nil {
					return nil, err
				}
				return nil, &clerk.TransportError{Method: "POST", Path: "/v1/users", Sent: true, Err: errors.New("connection reset")}
			},
			wantOutcome: checkpoint.Created, wantCreates: 1, wantInClerk: true,
		},
		{
			name:        "retries run out: failed, retryable",
			create:      func(int, *request.CreateUser, *memClerk) (*clerk.User, error) { return nil, unavailable },
			wantOutcome: checkpoint.Failed, wantCode: "http_503", wantRetryable: true, wantCreates: int64(fastRetry.MaxRetries + 1),
		},
		{
			name: "refused create whose answer was lost: the user was there before the run, so exists",
			create: func(n int, p *request.CreateUser, mem *memClerk) (*clerk.User, error) {
				if _, err := mem.create(p); err == nil {
					return nil, errors.New("test: the user should have been there already")
				}
				return nil, &clerk.TransportError{Method: "POST", Path: "/v1/users", Sent: true, Err: errors.New("connection reset")}
			},
			preexisting: true, wantOutcome: checkpoint.Exists, wantCreates: 1, wantInClerk: true,
		},
		{
			name:        "external_id taken: exists with the found id",
			preexisting: true,
			wantOutcome: checkpoint.Exists, wantCreates: 1, wantInClerk: true,
		},
		{
			name: "email taken by someone else: failed naming the identifier",
			create: func(int, *request.CreateUser, *memClerk) (*clerk.User, error) {
				return nil, identifierExists("email_address")
			},
			wantOutcome: checkpoint.Failed, wantCode: clerk.CodeIdentifierExists, wantField: "email_address", wantCreates: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, api := openLedger(t), newFakeAPI()
			if tt.preexisting {
				api.mem.create(&request.CreateUser{ExternalID: request.Value("u0001")})
				api.mem.backdate(time.Hour)
			}
			var n atomic.Int64
			if tt.create != nil {
				api.createFunc = func(_ context.Context, p *request.CreateUser) (*clerk.User, error) {
					return tt.create(int(n.Add(1)), p, api.mem)
				}
			}
			sum, err := Run(context.Background(), testConfig(t, st, rowsSource(1), api))
			if err != nil {
				t.Fatal(err)
			}
			r := checkEveryRowOnce(t, st, sum.RunID, 1)[1]
			if r.Outcome != tt.wantOutcome || r.ErrorCode != tt.wantCode || r.Field != tt.wantField || r.Retryable != tt.wantRetryable {
				t.Errorf("row settled %+v; want outcome %s code %q field %q retryable %v",
					r.Settlement, tt.wantOutcome, tt.wantCode, tt.wantField, tt.wantRetryable)
			}
			if api.creates.Load() != tt.wantCreates {
				t.Errorf("%d creates sent, want %d", api.creates.Load(), tt.wantCreates)
			}
			inClerk := len(api.mem.externalIDs()) == 1
			if inClerk != tt.wantInClerk {
				t.Errorf("user in clerk = %v, want %v (%v)", inClerk, tt.wantInClerk, api.mem.externalIDs())
			}
			if (tt.wantOutcome == checkpoint.Created || tt.wantOutcome == checkpoint.Exists) && r.ClerkID != api.mem.list(clerk.ListUsersParams{ExternalID: []string{"u0001"}})[0].ID {
				t.Errorf("recorded clerk id %q is not the user's", r.ClerkID)
			}
		})
	}
}

func TestFatalErrorStopsTheRunAndLeavesItResumable(t *testing.T) {
	st, api := openLedger(t), newFakeAPI()
	var n atomic.Int64
	api.createFunc = func(_ context.Context, p *request.CreateUser) (*clerk.User, error) {
		if n.Add(1) > 5 {
			return nil, errStatus(401, clerk.CodeAuthenticationInvalid, "")
		}
		return api.mem.create(p)
	}
	cfg := testConfig(t, st, rowsSource(200), api)
	cfg.Workers, cfg.MarkBatch = 1, 32 // the ledger shows how far the reader got
	sum, err := Run(context.Background(), cfg)
	var fe *runner.FatalError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "resume") {
		t.Fatalf("err = %v, want a FatalError that says how to resume", err)
	}
	if sum.Status != checkpoint.Interrupted || api.creates.Load() != 6 {
		t.Errorf("status %s after %d creates; want interrupted after the first 401", sum.Status, api.creates.Load())
	}
	rows := ledgerRows(t, st, sum.RunID)
	if len(rows) >= 200 {
		t.Errorf("the run went on after the fatal error: %d rows in the ledger", len(rows))
	}
	// The key is fixed: the same command resumes and finishes.
	api.createFunc = nil
	sum2, err := Run(context.Background(), testConfig(t, st, rowsSource(200), api))
	if err != nil {
		t.Fatal(err)
	}
	checkEveryRowOnce(t, st, sum2.RunID, 200)
	if got := len(api.mem.externalIDs()); got != 200 {
		t.Errorf("clerk holds %d users, want 200", got)
	}
	if sum2.AlreadySettled != 5 {
		t.Errorf("resume found %d rows settled, want the 5 created before the 401", sum2.AlreadySettled)
	}
}

func TestResumeSkipsSettledRowsAndLooksUpInFlightOnes(t *testing.T) {
	ctx := context.Background()
	st, api := openLedger(t), newFakeAPI()
	cfg := testConfig(t, st, rowsSource(10), api)
	runID := runner.DefaultID(runner.KindImport, "rows-10", "map-1", "test")
	// An earlier run settled rows 1-3 and 6, and died with 4, 5 and 7 in
	// flight; row 4's create had landed in Clerk, 5's and 7's had not.
	if _, err := st.BeginRun(ctx, checkpoint.RunSpec{ID: runID, Kind: runner.KindImport, SourceFingerprint: "rows-10", MappingFingerprint: "map-1"}); err != nil {
		t.Fatal(err)
	}
	u4, _ := api.mem.create(&request.CreateUser{ExternalID: request.Value("u0004")})
	var settled []checkpoint.Settlement
	for _, pos := range []int64{1, 2, 3, 6} {
		settled = append(settled, checkpoint.Settlement{Pos: pos, Key: fmt.Sprintf("u%04d", pos), Outcome: checkpoint.Created, ClerkID: "earlier"})
	}
	must(t, st.MarkInFlight(ctx, runID, []checkpoint.Row{{Pos: 1, Key: "u0001"}, {Pos: 2, Key: "u0002"}, {Pos: 3, Key: "u0003"},
		{Pos: 4, Key: "u0004"}, {Pos: 5, Key: "u0005"}, {Pos: 6, Key: "u0006"}, {Pos: 7, Key: "u0007"}}))
	must(t, st.Settle(ctx, runID, settled))
	must(t, st.FinishRun(ctx, runID, checkpoint.Interrupted))

	var sent []string
	api.createFunc = func(_ context.Context, p *request.CreateUser) (*clerk.User, error) {
		ext, _ := p.ExternalID.Get()
		sent = append(sent, ext)
		return api.mem.create(p)
	}
	cfg.Workers = 1
	sum, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	rows := checkEveryRowOnce(t, st, runID, 10)
	if got := strings.Join(sent, ","); got != "u0005,u0007,u0008,u0009,u0010" {
		t.Errorf("creates sent for %s; want only the rows not settled and not found", got)
	}
	if r := rows[4]; r.Outcome != checkpoint.Created || r.ClerkID != u4.ID {
		t.Errorf("row 4 (in flight, landed) settled %+v, want created %s", r.Settlement, u4.ID)
	}
	if rows[1].ClerkID != "earlier" {
		t.Errorf("settled row 1 was touched: %+v", rows[1].Settlement)
	}
	// Lookups only for the three in-flight rows.
	if sum.Lookups != 3 || sum.AlreadySettled != 4 {
		t.Errorf("summary %+v; want 3 lookups and 4 rows already settled", sum)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestRetryFailed(t *testing.T) {
	unavailable := errStatus(503, "", "")
	// u0002 fails retryably (retries run out), u0003 permanently.
	failing := func(api *fakeAPI) func(context.Context, *request.CreateUser) (*clerk.User, error) {
		return func(_ context.Context, p *request.CreateUser) (*clerk.User, error) {
			switch ext, _ := p.ExternalID.Get(); ext {
			case "u0002":
				return nil, unavailable
			case "u0003":
				return nil, errStatus(422, clerk.CodeParamValueInvalid, "username")
			}
			return api.mem.create(p)
		}
	}
	tests := []struct {
		name        string
		retryFailed bool
		retryAll    bool
		wantCreated []string
	}{
		{"plain rerun retries nothing", false, false, []string{"u0001", "u0004"}},
		{"retry-failed retries the retryable failure", true, false, []string{"u0001", "u0002", "u0004"}},
		{"retry-all-failed retries every failure", false, true, []string{"u0001", "u0002", "u0003", "u0004"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st, api := openLedger(t), newFakeAPI()
			api.createFunc = failing(api)
			if _, err := Run(context.Background(), testConfig(t, st, rowsSource(4), api)); err != nil {
				t.Fatal(err)
			}
			api.createFunc = nil // Clerk now takes everything
			api.creates.Store(0)
			cfg := testConfig(t, st, rowsSource(4), api)
			cfg.RetryFailed, cfg.RetryAllFailed = tt.retryFailed, tt.retryAll
			sum, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			checkEveryRowOnce(t, st, sum.RunID, 4)
			if got := strings.Join(api.mem.externalIDs(), ","); got != strings.Join(tt.wantCreated, ",") {
				t.Errorf("clerk holds %s, want %s", got, strings.Join(tt.wantCreated, ","))
			}
			if want := int64(len(tt.wantCreated) - 2); api.creates.Load() != want {
				t.Errorf("%d creates on the rerun, want %d", api.creates.Load(), want)
			}
		})
	}
}

func TestOnlyKeysSkipsTheOthersUntilALaterRun(t *testing.T) {
	st, api := openLedger(t), newFakeAPI()
	cfg := testConfig(t, st, rowsSource(6), api)
	cfg.OnlyKeys = func(k string) bool { return k == "u0002" || k == "u0005" }
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rows := checkEveryRowOnce(t, st, sum.RunID, 6)
	for pos, r := range rows {
		want := checkpoint.Skipped
		if pos == 2 || pos == 5 {
			want = checkpoint.Created
		}
		if r.Outcome != want {
			t.Errorf("row %d: %s, want %s", pos, r.Outcome, want)
		}
	}
	if got := strings.Join(api.mem.externalIDs(), ","); got != "u0002,u0005" {
		t.Errorf("clerk holds %s", got)
	}
	sum, err = Run(context.Background(), testConfig(t, st, rowsSource(6), api))
	if err != nil {
		t.Fatal(err)
	}
	if len(api.mem.externalIDs()) != 6 || sum.ByOutcome[checkpoint.Created] != 4 || api.creates.Load() != 6 {
		t.Errorf("later run: clerk %v, summary %+v", api.mem.externalIDs(), sum)
	}
}

// secretMapper refuses rows 2 and 4 and reads a secret for the others.
func secretMapper(r sources.Record) (*request.CreateUser, mapping.FieldErrors) {
	p, _ := simpleMap(r)
	p.Password = request.Value("hunter2-secret")
	if r.Pos.Index%2 == 0 {
		return nil, mapping.FieldErrors{{Field: "email_address", Source: "email", Code: "format", Reason: "not an email address"}}
	}
	return p, nil
}

// TestInvalidRowsAreSettledWithoutACall: rows the mapping refuses and a
// row the source could not read are settled invalid with their reasons
// (no secret) and never sent.
func TestInvalidRowsAreSettledWithoutACall(t *testing.T) {
	st, api := openLedger(t), newFakeAPI()
	src := rowsSource(5)
	src.recs[4].Err = &sources.RecordError{Pos: src.recs[4].Pos, Key: "u0005", Field: "email", Err: errors.New("bare quote in field")}
	src.recs[4].Values = nil
	cfg := testConfig(t, st, src, api)
	cfg.Mapper = fakeMapper{mapFunc: secretMapper}
	sum, err := Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if api.creates.Load() != 2 {
		t.Errorf("%d creates, want the 2 valid rows only", api.creates.Load())
	}
	rows := checkEveryRowOnce(t, st, sum.RunID, 5)
	want := map[int64]struct {
		outcome checkpoint.Outcome
		code    string
		field   string
		msg     string
	}{
		1: {checkpoint.Created, "", "", ""},
		2: {checkpoint.Invalid, "format", "email_address", "line 3: email_address (from \"email\"): not an email address"},
		3: {checkpoint.Created, "", "", ""},
		4: {checkpoint.Invalid, "format", "email_address", "line 5"},
		5: {checkpoint.Invalid, mapping.CodeRecordUnreadable, "email", "line 6 (key \"u0005\"), field \"email\": bare quote"},
	}
	for pos, w := range want {
		r := rows[pos]
		if r.Outcome != w.outcome || r.ErrorCode != w.code || r.Field != w.field || !strings.Contains(r.Message, w.msg) {
			t.Errorf("row %d: %+v; want %+v", pos, r.Settlement, w)
		}
		if strings.Contains(r.Message, "hunter2") {
			t.Errorf("row %d: the ledger holds a secret: %q", pos, r.Message)
		}
	}
	if rows[1].RequestHash == "" || rows[1].RequestHash == rows[3].RequestHash {
		t.Errorf("request hashes %q and %q: want set and distinct", rows[1].RequestHash, rows[3].RequestHash)
	}
}

func TestRequestHashHidesSecrets(t *testing.T) {
	a := &request.CreateUser{ExternalID: request.Value("k"), Password: request.Value("one")}
	b := &request.CreateUser{ExternalID: request.Value("k"), Password: request.Value("two")}
	c := &request.CreateUser{ExternalID: request.Value("k2"), Password: request.Value("one")}
	if requestHash(a) != requestHash(b) {
		t.Error("the hash depends on the password: it leaks something of the secret")
	}
	if requestHash(a) == requestHash(c) {
		t.Error("the hash does not depend on the request")
	}
}

func TestCancelInterruptsAndTheSameCommandResumes(t *testing.T) {
	st, api := openLedger(t), newFakeAPI()
	ctx, cancel := context.WithCancel(context.Background())
	src := rowsSource(300)
	src.afterNext = func(i int) {
		if i == 120 {
			cancel()
		}
	}
	sum, err := Run(ctx, testConfig(t, st, src, api))
	if err == nil || !strings.Contains(err.Error(), "re-run the same command to resume") || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want an interruption that says how to resume", err)
	}
	runs, _ := st.Runs(context.Background())
	if len(runs) != 1 || runs[0].Status != checkpoint.Interrupted {
		t.Fatalf("runs %+v, want one interrupted", runs)
	}
	if sum.Read >= 300 {
		t.Errorf("read %d rows after cancellation", sum.Read)
	}
	sum, err = Run(context.Background(), testConfig(t, st, rowsSource(300), api))
	if err != nil {
		t.Fatal(err)
	}
	checkEveryRowOnce(t, st, sum.RunID, 300)
	if got := len(api.mem.externalIDs()); got != 300 {
		t.Errorf("clerk holds %d users, want 300", got)
	}
	if api.creates.Load() != 300 {
		t.Errorf("%d creates for 300 users: a row was sent twice", api.creates.Load())
	}
}

func TestRollbackDeletesOnlyCreatedUsers(t *testing.T) {
	ctx := context.Background()
	st, api := openLedger(t), newFakeAPI()
	// u0003 exists before the import: it must survive the rollback.
	api.mem.create(&request.CreateUser{ExternalID: request.Value("u0003")})
	sum, err := Run(ctx, testConfig(t, st, rowsSource(8), api))
	if err != nil {
		t.Fatal(err)
	}
	if sum.ByOutcome[checkpoint.Exists] != 1 {
		t.Fatalf("import summary %+v", sum)
	}
	rc := RollbackConfig{Store: st, Gateway: testGateway(api), ImportRunID: sum.RunID, Target: "elsewhere", Workers: 3,
		Logger: discardLogger()}
	// Only on the run's own target: another is refused before any call.
	var mismatch *TargetMismatchError
	if _, err := Rollback(ctx, rc); !errors.As(err, &mismatch) || mismatch.Recorded != "test" || api.deletes.Load() != 0 {
		t.Fatalf("rollback against another target: %v, %d deletes; want a TargetMismatchError and none", err, api.deletes.Load())
	}
	rc.Target, rc.DryRun = "test", true
	dry, err := Rollback(ctx, rc)
	if err != nil {
		t.Fatal(err)
	}
	if api.deletes.Load() != 0 || dry.ByOutcome[checkpoint.Valid] != 7 {
		t.Fatalf("dry rollback: %d deletes, summary %+v", api.deletes.Load(), dry)
	}
	rc.DryRun, rc.RunID = false, ""
	// The first delete's answer is lost; the retry meets a 404 and counts
	// the user as deleted.
	var n atomic.Int64
	api.deleteFunc = func(_ context.Context, id string) error {
		err := api.mem.delete(id)
		if n.Add(1) == 1 {
			return &clerk.TransportError{Sent: true, Err: errors.New("reset")}
		}
		return err
	}
	rb, err := Rollback(ctx, rc)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(api.mem.externalIDs(), ","); got != "u0003" {
		t.Errorf("after rollback clerk holds %q, want only the user that existed before", got)
	}
	if rb.ByOutcome[checkpoint.Deleted] != 7 || rb.Kind != runner.KindRollback {
		t.Errorf("rollback summary %+v", rb)
	}
	for pos, r := range ledgerRows(t, st, rb.RunID) {
		if r.Outcome != checkpoint.Deleted || r.ClerkID == "" || r.InFlight {
			t.Errorf("rollback row %d: %+v", pos, r)
		}
	}
	before := api.deletes.Load()
	again, err := Rollback(ctx, rc)
	if err != nil {
		t.Fatal(err)
	}
	if api.deletes.Load() != before || again.AlreadySettled != 7 {
		t.Errorf("rerun of the rollback: %d deletes, summary %+v; want none", api.deletes.Load()-before, again)
	}
}

func TestResumeRefusesAnUnknownRun(t *testing.T) {
	st, api := openLedger(t), newFakeAPI()
	cfg := testConfig(t, st, rowsSource(3), api)
	cfg.Resume = true
	if _, err := Run(context.Background(), cfg); !errors.Is(err, checkpoint.ErrRunNotFound) {
		t.Errorf("err = %v, want ErrRunNotFound", err)
	}
}

// settleFailingStore is a real ledger whose Settle fails.
type settleFailingStore struct {
	checkpoint.Store
	err error
}

func (s settleFailingStore) Settle(context.Context, string, []checkpoint.Settlement) error {
	return s.err
}

func TestLedgerFailureStopsTheRun(t *testing.T) {
	st, api := openLedger(t), newFakeAPI()
	cfg := testConfig(t, settleFailingStore{Store: st, err: errors.New("disk full")}, rowsSource(30), api)
	sum, err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "writing the ledger") || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the ledger failure", err)
	}
	if sum.Status != checkpoint.Interrupted || sum.Settled() != 0 {
		t.Errorf("summary %+v: want interrupted with nothing settled", sum)
	}
	// Nothing was settled, so every row sent is still in flight: a resume
	// looks each one up and creates nothing twice.
	sum, err = Run(context.Background(), testConfig(t, st, rowsSource(30), api))
	if err != nil {
		t.Fatal(err)
	}
	checkEveryRowOnce(t, st, sum.RunID, 30)
	if got := len(api.mem.externalIDs()); got != 30 {
		t.Errorf("clerk holds %d users, want 30", got)
	}
}

func TestCancelLetsRequestsUnderWayFinish(t *testing.T) {
	st, api := openLedger(t), newFakeAPI()
	ctx, cancel := context.WithCancel(context.Background())
	// Row 1's create is under way when the run is cancelled; it answers
	// after the cancellation and must still be settled created.
	api.createFunc = func(cctx context.Context, p *request.CreateUser) (*clerk.User, error) {
		if ext, _ := p.ExternalID.Get(); ext == "u0001" {
			cancel()
			time.Sleep(30 * time.Millisecond)
			if cctx.Err() != nil {
				return nil, &clerk.TransportError{Canceled: true, Err: cctx.Err()}
			}
		}
		return api.mem.create(p)
	}
	cfg := testConfig(t, st, rowsSource(40), api)
	cfg.Workers, cfg.MarkBatch = 1, 1
	sum, err := Run(ctx, cfg)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want the cancellation", err)
	}
	r, ok := ledgerRows(t, st, sum.RunID)[1]
	if !ok || r.InFlight || r.Outcome != checkpoint.Created || r.ClerkID == "" {
		t.Errorf("row 1: %+v (in ledger %v); want created: a request under way finishes after a cancel", r, ok)
	}
	if api.creates.Load() > 2 {
		t.Errorf("%d creates sent after the cancellation", api.creates.Load()-1)
	}
}

func TestShutdownGraceBoundsTheWait(t *testing.T) {
	st, api := openLedger(t), newFakeAPI()
	ctx, cancel := context.WithCancel(context.Background())
	api.createFunc = func(cctx context.Context, p *request.CreateUser) (*clerk.User, error) {
		cancel()
		<-cctx.Done() // never answers on its own
		return nil, &clerk.TransportError{Canceled: true, Sent: true, Err: cctx.Err()}
	}
	cfg := testConfig(t, st, rowsSource(5), api)
	cfg.ShutdownGrace = 50 * time.Millisecond
	start := time.Now()
	sum, err := Run(ctx, cfg)
	if !errors.Is(err, context.Canceled) || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %s; want a cancellation soon after the grace", err, time.Since(start))
	}
	rows := ledgerRows(t, st, sum.RunID)
	if len(rows) == 0 {
		t.Fatal("no row was marked in flight")
	}
	for pos, r := range rows {
		if !r.InFlight {
			t.Errorf("row %d settled %+v; a request cut off by the grace must stay in flight for a lookup", pos, r.Settlement)
		}
	}
}

func TestFingerprintChangeNeedsForce(t *testing.T) {
	st, api := openLedger(t), newFakeAPI()
	cfg := testConfig(t, st, rowsSource(3), api)
	cfg.RunID = "fixed"
	if _, err := Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	cfg.Source, cfg.MappingFingerprint = rowsSource(3), "map-2"
	if _, err := Run(context.Background(), cfg); !errors.Is(err, checkpoint.ErrFingerprintMismatch) {
		t.Fatalf("err = %v, want ErrFingerprintMismatch", err)
	}
	cfg.Source, cfg.Force = rowsSource(3), true
	sum, err := Run(context.Background(), cfg)
	if err != nil || sum.AlreadySettled != 3 || api.creates.Load() != 3 {
		t.Errorf("forced resume: %v, %+v, %d creates", err, sum, api.creates.Load())
	}
}

func TestResumeRefusesASourceWhoseRowsMoved(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name    string
		settled []int64 // positions the earlier run settled
		movedAt int64   // the position whose key the source now has another of
	}{
		{"inside the settled prefix: the prefix's last key is checked", []int64{1, 2, 3, 4, 5}, 5},
		{"beyond the prefix: every ledger row's key is checked", []int64{1, 2, 3, 6, 7}, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, api := openLedger(t), newFakeAPI()
			runID := runner.DefaultID(runner.KindImport, "rows-10", "map-1", "test")
			if _, err := st.BeginRun(ctx, checkpoint.RunSpec{ID: runID, Kind: runner.KindImport, SourceFingerprint: "rows-10", MappingFingerprint: "map-1"}); err != nil {
				t.Fatal(err)
			}
			var settled []checkpoint.Settlement
			for _, pos := range tc.settled {
				settled = append(settled, checkpoint.Settlement{Pos: pos, Key: fmt.Sprintf("u%04d", pos), Outcome: checkpoint.Created, ClerkID: "earlier"})
			}
			must(t, st.Settle(ctx, runID, settled))
			must(t, st.FinishRun(ctx, runID, checkpoint.Interrupted))

			// A row was inserted ahead of movedAt: from there on every key
			// sits one position later than the ledger has it.
			src := rowsSource(10)
			for i := tc.movedAt - 1; i < int64(len(src.recs)); i++ {
				src.recs[i].Key = fmt.Sprintf("u%04d", i) // the key of the position before
			}
			_, err := Run(ctx, testConfig(t, st, src, api))
			var sc *SourceChangedError
			if !errors.As(err, &sc) || sc.Pos != tc.movedAt {
				t.Fatalf("err = %v; want a SourceChangedError at position %d", err, tc.movedAt)
			}
			if api.creates.Load() != 0 {
				t.Errorf("%d creates sent before the change was caught", api.creates.Load())
			}
		})
	}
}
