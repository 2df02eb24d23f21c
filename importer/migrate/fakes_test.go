package migrate

import (
	"context"
	"errors"
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"io"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/sqlite"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// fakeAPI is a clerk.API whose behaviour is set per test through function
// fields; a nil field falls through to the in-memory users of mem.
type fakeAPI struct {
	clerk.API  // the calls an import never makes: nil, so a call panics
	mem        *memClerk
	createFunc func(ctx context.Context, p *request.CreateUser) (*clerk.User, error)
	listFunc   func(ctx context.Context, p clerk.ListUsersParams) ([]clerk.User, error)
	deleteFunc func(ctx context.Context, id string) error

	creates, lists, deletes atomic.Int64
}

func newFakeAPI() *fakeAPI { return &fakeAPI{mem: newMemClerk()} }

func (f *fakeAPI) CreateUser(ctx context.Context, p *request.CreateUser) (*clerk.User, error) {
	f.creates.Add(1)
	if f.createFunc != nil {
		return f.createFunc(ctx, p)
	}
	return f.mem.create(p)
}

func (f *fakeAPI) ListUsers(ctx context.Context, p clerk.ListUsersParams) ([]clerk.User, error) {
	f.lists.Add(1)
	if f.listFunc != nil {
		return f.listFunc(ctx, p)
	}
	return f.mem.list(p), nil
}

func (f *fakeAPI) DeleteUser(ctx context.Context, id string) error {
	f.deletes.Add(1)
	if f.deleteFunc != nil {
		return f.deleteFunc(ctx, id)
	}
	return f.mem.delete(id)
}

// GetInstance answers the pre-flight: one instance, never counted among
// the import's calls.
func (f *fakeAPI) GetInstance(context.Context) (*clerk.Instance, error) {
	return &clerk.Instance{Object: "instance", ID: "ins_fake", EnvironmentType: "development"}, nil
}

func (f *fakeAPI) calls() int64 { return f.creates.Load() + f.lists.Load() + f.deletes.Load() }

// memClerk is a minimal Clerk: users with unique external_id and email.
type memClerk struct {
	mu    sync.Mutex
	n     int
	users map[string]clerk.User // by id
}

func newMemClerk() *memClerk { return &memClerk{users: map[string]clerk.User{}} }

func identifierExists(param string) *clerk.Error {
	e := &clerk.Error{Method: "POST", Path: "/v1/users", Status: 422}
	d := clerk.ErrorDetail{Code: clerk.CodeIdentifierExists, Message: "That identifier is taken."}
	d.Meta.ParamName = param
	e.Details = []clerk.ErrorDetail{d}
	return e
}

func (m *memClerk) create(p *request.CreateUser) (*clerk.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ext, _ := p.ExternalID.Get()
	for _, u := range m.users {
		if u.ExternalID != nil && *u.ExternalID == ext {
			return nil, identifierExists("external_id")
		}
		for _, e := range u.EmailAddresses {
			for _, pe := range p.EmailAddresses {
				if e.EmailAddress == pe {
					return nil, identifierExists("email_address")
				}
			}
		}
	}
	m.n++
	now := time.Now().UnixMilli()
	u := clerk.User{ID: fmt.Sprintf("user_%04d", m.n), Object: "user", ExternalID: &ext, CreatedAt: now, UpdatedAt: now}
	for _, e := range p.EmailAddresses {
		u.EmailAddresses = append(u.EmailAddresses, clerk.EmailAddress{EmailAddress: e})
	}
	m.users[u.ID] = u
	return &u, nil
}

func (m *memClerk) list(p clerk.ListUsersParams) []clerk.User {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []clerk.User
	for _, u := range m.users {
		for _, ext := range p.ExternalID {
			if u.ExternalID != nil && *u.ExternalID == ext {
				out = append(out, u)
			}
		}
	}
	return out
}

func (m *memClerk) delete(id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[id]; !ok {
		e := &clerk.Error{Method: "DELETE", Path: "/v1/users/" + id, Status: 404}
		e.Details = []clerk.ErrorDetail{{Code: clerk.CodeResourceNotFound}}
		return e
	}
	delete(m.users, id)
	return nil
}

// backdate moves every user's updated_at d into the past: they were there,
// untouched, long before the run.
func (m *memClerk) backdate(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, u := range m.users {
		u.UpdatedAt -= d.Milliseconds()
		m.users[id] = u
	}
}

// externalIDs lists the users' external ids, sorted.
func (m *memClerk) externalIDs() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for _, u := range m.users {
		out = append(out, *u.ExternalID)
	}
	sort.Strings(out)
	return out
}

// mapValues are a record's fields.
type mapValues map[string]string

func (v mapValues) Lookup(path string) (sources.Value, bool) {
	s, ok := v[path]
	return s, ok
}

// sliceSource yields fixed records.
type sliceSource struct {
	recs []sources.Record
	i    int
	// afterNext, if set, runs after each record is handed out in the
	// import pass.
	afterNext func(i int)
	// beforeRewind, if set, runs after each record of the duplicate check.
	beforeRewind func(i int)
	rewound      bool
}

// rowsSource makes n rows keyed u0001.. with an email each.
func rowsSource(n int) *sliceSource {
	s := &sliceSource{}
	for i := 1; i <= n; i++ {
		key := fmt.Sprintf("u%04d", i)
		s.recs = append(s.recs, sources.Record{
			Pos: sources.Position{Index: int64(i), Line: int64(i + 1)}, Key: key,
			Values: mapValues{"id": key, "email": key + "@example.com"},
		})
	}
	return s
}

func (s *sliceSource) Next(ctx context.Context) (sources.Record, error) {
	if err := ctx.Err(); err != nil {
		return sources.Record{}, err
	}
	if s.i >= len(s.recs) {
		return sources.Record{}, io.EOF
	}
	r := s.recs[s.i]
	s.i++
	if s.afterNext != nil && s.rewound {
		s.afterNext(s.i)
	}
	if s.beforeRewind != nil && !s.rewound {
		s.beforeRewind(s.i)
	}
	return r, nil
}

func (s *sliceSource) Info() sources.Info {
	return sources.Info{Kind: "test", Name: "rows", Fingerprint: fmt.Sprintf("rows-%d", len(s.recs))}
}

func (s *sliceSource) Close() error { return nil }

// Rewind starts over; afterNext fires in the import pass only, after the
// duplicate check has read every row once.
func (s *sliceSource) Rewind(context.Context) error {
	s.i, s.rewound = 0, true
	return nil
}

// fakeMapper maps with a function field; the default maps id and email.
type fakeMapper struct {
	mapFunc func(sources.Record) (*request.CreateUser, mapping.FieldErrors)
}

func (m fakeMapper) MapAllInto(r sources.Record, p *request.CreateUser) (bool, mapping.FieldErrors) {
	if r.Err != nil { // as *mapping.Mapping does
		*p = request.CreateUser{}
		var re *sources.RecordError
		errors.As(r.Err, &re)
		return false, mapping.FieldErrors{{Field: re.Field, Source: re.Field, Code: mapping.CodeRecordUnreadable, Reason: r.Err.Error()}}
	}
	f := m.mapFunc
	if f == nil {
		f = simpleMap
	}
	got, errs := f(r)
	*p = request.CreateUser{}
	if got != nil {
		*p = *got
	}
	return true, errs
}

func simpleMap(r sources.Record) (*request.CreateUser, mapping.FieldErrors) {
	email, _ := r.Values.Lookup("email")
	p := &request.CreateUser{ExternalID: request.Value(r.Key)}
	if e, _ := email.(string); e != "" {
		p.EmailAddresses = []string{e}
	}
	return p, nil
}

// openLedger opens a real SQLite ledger in the test's temp dir.
func openLedger(t testing.TB) *sqlite.Store {
	t.Helper()
	return openLedgerAt(t, filepath.Join(t.TempDir(), "ledger.db"))
}

func openLedgerAt(t testing.TB, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// ledgerRows reads every row of a run, by position.
func ledgerRows(t testing.TB, st checkpoint.Store, runID string) map[int64]checkpoint.RowState {
	t.Helper()
	out := map[int64]checkpoint.RowState{}
	err := st.Rows(context.Background(), runID, checkpoint.Filter{}, func(r checkpoint.RowState) error {
		if _, dup := out[r.Pos]; dup {
			t.Errorf("row %d listed twice", r.Pos)
		}
		out[r.Pos] = r
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// fastRetry is a policy that does not make tests wait.
var fastRetry = gateway.RetryPolicy{MaxRetries: 3, BaseDelay: 1e6, MaxDelay: 5e6}

// testGateway wraps api in the layers, with a budget that never waits.
func testGateway(api clerk.API) *gateway.Gateway {
	p := pacer.New(pacer.NewBudget(pacer.Rate{Requests: 100000, Window: time.Second}, 4, 30*time.Second))
	return gateway.New(api, gateway.Config{Pacer: p, Retry: fastRetry})
}

// testConfig is a quick import of src into api with a real ledger.
func testConfig(t testing.TB, st checkpoint.Store, src sources.Source, api clerk.API) Config {
	return Config{
		Source: src, Mapper: fakeMapper{}, MappingFingerprint: "map-1", Store: st, Gateway: testGateway(api),
		Target: "test", Workers: 4, Logger: discardLogger(), TempDir: t.TempDir(),
	}
}
