package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// IndexOpener opens a ClerkIndex over a ledger fresh for the test.
type IndexOpener func(t *testing.T) checkpoint.ClerkIndex

// RunIndex runs the suite every checkpoint.ClerkIndex must pass.
func RunIndex(t *testing.T, open IndexOpener) {
	tests := []struct {
		name string
		fn   func(t *testing.T, x checkpoint.ClerkIndex)
	}{
		{"PutAndLookUp", testIndexPutAndLookUp},
		{"PutReplaces", testIndexPutReplaces},
		{"KeptInPlace", testIndexKeptInPlace},
		{"SeenAndUnseenAcrossPages", testIndexUnseen},
		{"ResetKeepsFingerprints", testIndexReset},
		{"ScopesApart", testIndexScopes},
		{"Fingerprints", testIndexFingerprints},
		{"EmptyArguments", testIndexEmpty},
		{"SchemaHoldsNoSecret", testIndexSchema},
		{"TablesExistOnOpen", testIndexTablesOnOpen},
		{"OwnershipComesFromTheLedger", testIndexOwnership},
		{"PruneKeepsOwnership", testPruneKeepsOwnership},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func user(i int) checkpoint.IndexedUser {
	return checkpoint.IndexedUser{
		ClerkID: fmt.Sprintf("user_%05d", i), ExternalID: fmt.Sprintf("ext-%d", i),
		Emails:    []string{fmt.Sprintf("User%d@Example.com", i), fmt.Sprintf("alt%d@example.com", i)},
		UpdatedAt: int64(1000 + i), State: []byte(fmt.Sprintf(`{"first_name":"N%d"}`, i)),
	}
}

func put(t *testing.T, x checkpoint.ClerkIndex, scope string, us ...checkpoint.IndexedUser) {
	t.Helper()
	if err := x.PutUsers(context.Background(), scope, us); err != nil {
		t.Fatal(err)
	}
}

func users(from, to int) []checkpoint.IndexedUser {
	var out []checkpoint.IndexedUser
	for i := from; i <= to; i++ {
		out = append(out, user(i))
	}
	return out
}

func sameUser(t *testing.T, what string, got, want checkpoint.IndexedUser) {
	t.Helper()
	if got.ClerkID != want.ClerkID || got.ExternalID != want.ExternalID || got.UpdatedAt != want.UpdatedAt ||
		string(got.State) != string(want.State) {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

func testIndexPutAndLookUp(t *testing.T, x checkpoint.ClerkIndex) {
	ctx := context.Background()
	noExt := user(3)
	noExt.ExternalID = ""
	put(t, x, "a", user(1), user(2), noExt)
	got, err := x.UsersByExternalID(ctx, "a", []string{"ext-1", "ext-2", "ext-3", "ext-404"})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("UsersByExternalID = %v, want ext-1 and ext-2 only", got)
	}
	sameUser(t, "ext-1", got["ext-1"], user(1))
	sameUser(t, "ext-2", got["ext-2"], user(2))
	byMail, err := x.UsersByEmail(ctx, "a", []string{"USER1@example.com", "alt3@example.com", "nobody@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if len(byMail) != 2 {
		t.Fatalf("UsersByEmail = %v, want user1 and alt3", byMail)
	}
	sameUser(t, "user1@example.com", byMail["user1@example.com"], user(1))
	sameUser(t, "alt3@example.com", byMail["alt3@example.com"], noExt)
}

func testIndexPutReplaces(t *testing.T, x checkpoint.ClerkIndex) {
	ctx := context.Background()
	put(t, x, "a", user(1))
	if err := x.MarkSeen(ctx, "a", []string{"ext-1"}); err != nil {
		t.Fatal(err)
	}
	changed := user(1)
	changed.Emails = []string{"new@example.com"}
	changed.UpdatedAt, changed.State = 5000, []byte(`{"first_name":"Changed"}`)
	put(t, x, "a", changed)
	byMail, err := x.UsersByEmail(ctx, "a", []string{"user1@example.com", "alt1@example.com", "new@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if len(byMail) != 1 {
		t.Fatalf("UsersByEmail = %v, want only the new address", byMail)
	}
	sameUser(t, "replaced user", byMail["new@example.com"], changed)
	if n, err := x.CountUnseen(ctx, "a"); err != nil || n != (checkpoint.UnseenCounts{}) {
		t.Errorf("CountUnseen = %+v, %v; want 0 (the mark is the external id's, kept by a put)", n, err)
	}
	if err := x.ClearMarks(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if n, err := x.CountUnseen(ctx, "a"); err != nil || n != (checkpoint.UnseenCounts{NotOwned: 1}) {
		t.Errorf("after ClearMarks CountUnseen = %+v, %v; want 1 not owned", n, err)
	}
}

// testIndexKeptInPlace: the index is kept between syncs and updated in
// place: its state, the updated_at of each user, and a full scan's listed
// marks, which drop the users Clerk no longer lists (with their addresses)
// and nothing else; marks are per scope and forgotten by ClearMarks.
func testIndexKeptInPlace(t *testing.T, x checkpoint.ClerkIndex) {
	ctx := context.Background()
	if st, err := x.IndexState(ctx, "a"); err != nil || st != (checkpoint.IndexState{}) {
		t.Fatalf("IndexState of a new scope = %+v, %v; want zero", st, err)
	}
	want := checkpoint.IndexState{Version: "v1", HighWater: 1_700_000_000_123}
	if err := x.SetIndexState(ctx, "a", want); err != nil {
		t.Fatal(err)
	}
	want.HighWater++
	if err := x.SetIndexState(ctx, "a", want); err != nil {
		t.Fatal(err)
	}
	if st, err := x.IndexState(ctx, "a"); err != nil || st != want {
		t.Errorf("IndexState = %+v, %v; want %+v", st, err, want)
	}
	if st, _ := x.IndexState(ctx, "b"); st != (checkpoint.IndexState{}) {
		t.Errorf("IndexState of scope b = %+v; want zero", st)
	}
	const n = 1203
	all := users(1, n)
	for start := 0; start < n; start += 500 {
		put(t, x, "a", all[start:min(n, start+500)]...)
	}
	put(t, x, "b", user(1))
	ids := []string{user(1).ClerkID, user(n).ClerkID, "user_404"}
	if got, err := x.UpdatedAts(ctx, "a", ids); err != nil || len(got) != 2 || got[ids[0]] != user(1).UpdatedAt || got[ids[1]] != user(n).UpdatedAt {
		t.Errorf("UpdatedAts = %v, %v; want the two known users' updated_at", got, err)
	}
	var listed []string
	for i := 1; i <= n; i++ {
		if i%10 != 0 {
			listed = append(listed, user(i).ClerkID)
		}
	}
	for start := 0; start < len(listed); start += 400 {
		if err := x.MarkListed(ctx, "a", listed[start:min(len(listed), start+400)]); err != nil {
			t.Fatal(err)
		}
	}
	if err := x.MarkListed(ctx, "b", []string{user(10).ClerkID}); err != nil { // another scope's mark
		t.Fatal(err)
	}
	dropped, err := x.DropUnlisted(ctx, "a")
	if err != nil || dropped != int64(n-len(listed)) {
		t.Fatalf("DropUnlisted = %d, %v; want %d", dropped, err, n-len(listed))
	}
	if got, _ := x.UsersByExternalID(ctx, "a", []string{"ext-10", "ext-11"}); len(got) != 1 || got["ext-11"].ClerkID != user(11).ClerkID {
		t.Errorf("after DropUnlisted UsersByExternalID(ext-10, ext-11) = %v; want ext-11 only", got)
	}
	if got, _ := x.UsersByEmail(ctx, "a", []string{"user10@example.com", "alt10@example.com"}); len(got) != 0 {
		t.Errorf("a dropped user's addresses are still indexed: %v", got)
	}
	if got, _ := x.UsersByExternalID(ctx, "b", []string{"ext-1"}); len(got) != 1 {
		t.Errorf("DropUnlisted of scope a dropped scope b's user")
	}
	if err := x.ClearMarks(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if err := x.MarkListed(ctx, "a", listed[:5]); err != nil {
		t.Fatal(err)
	}
	if dropped, err := x.DropUnlisted(ctx, "a"); err != nil || dropped != int64(len(listed)-5) {
		t.Errorf("DropUnlisted after ClearMarks = %d, %v; want %d (the earlier marks forgotten)", dropped, err, len(listed)-5)
	}
	if err := x.ResetIndex(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if st, _ := x.IndexState(ctx, "a"); st != (checkpoint.IndexState{}) {
		t.Errorf("IndexState after ResetIndex = %+v; want zero (the next sync scans in full)", st)
	}
}

func testIndexUnseen(t *testing.T, x checkpoint.ClerkIndex) {
	ctx := context.Background()
	const n = 1234
	all := users(1, n)
	for start := 0; start < n; start += 500 {
		put(t, x, "a", all[start:min(n, start+500)]...)
	}
	noExt := user(n + 1)
	noExt.ExternalID = ""
	put(t, x, "a", noExt)
	seen, want := []string{}, []string{noExt.ClerkID} // a user without external id is never seen
	for i := 1; i <= n; i++ {
		if i%3 == 0 {
			want = append(want, user(i).ClerkID)
		} else {
			seen = append(seen, user(i).ExternalID)
		}
	}
	if err := x.MarkSeen(ctx, "a", seen); err != nil {
		t.Fatal(err)
	}
	if c, err := x.CountUnseen(ctx, "a"); err != nil || c != (checkpoint.UnseenCounts{NotOwned: int64(len(want))}) {
		t.Fatalf("CountUnseen = %+v, %v; want %d not owned", c, err, len(want))
	}
	var got []string
	err := x.Unseen(ctx, "a", func(u checkpoint.IndexedUser) error {
		if u.Owner != "" {
			t.Errorf("Unseen gave %+v", u)
		}
		got = append(got, u.ClerkID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("Unseen gave %d users (first %v), want %d ordered by clerk id", len(got), got[:min(3, len(got))], len(want))
	}
	looked, err := x.UsersByExternalID(ctx, "a", seen)
	if err != nil || len(looked) != len(seen) {
		t.Fatalf("UsersByExternalID over %d ids = %d users, %v", len(seen), len(looked), err)
	}
	stop := fmt.Errorf("stop")
	calls := 0
	if err := x.Unseen(ctx, "a", func(checkpoint.IndexedUser) error { calls++; return stop }); err != stop || calls != 1 {
		t.Errorf("Unseen with a failing fn = %v after %d calls, want stop after 1", err, calls)
	}
}

func testIndexReset(t *testing.T, x checkpoint.ClerkIndex) {
	ctx := context.Background()
	put(t, x, "a", user(1), user(2))
	fps := []checkpoint.Fingerprint{{ExternalID: "ext-1", Group: "password", Value: "k1:abc"}}
	if err := x.PutFingerprints(ctx, "a", fps); err != nil {
		t.Fatal(err)
	}
	if err := x.ResetIndex(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if got, err := x.UsersByExternalID(ctx, "a", []string{"ext-1", "ext-2"}); err != nil || len(got) != 0 {
		t.Errorf("after reset UsersByExternalID = %v, %v", got, err)
	}
	if got, err := x.UsersByEmail(ctx, "a", []string{"user1@example.com"}); err != nil || len(got) != 0 {
		t.Errorf("after reset UsersByEmail = %v, %v", got, err)
	}
	if got, err := x.Fingerprints(ctx, "a", []string{"ext-1"}); err != nil || got["ext-1"]["password"] != "k1:abc" {
		t.Errorf("after reset Fingerprints = %v, %v; want them kept", got, err)
	}
}

func testIndexScopes(t *testing.T, x checkpoint.ClerkIndex) {
	ctx := context.Background()
	put(t, x, "a", user(1))
	other := user(1)
	other.ClerkID, other.State = "user_other", []byte(`{}`)
	put(t, x, "b", other)
	if err := x.MarkSeen(ctx, "b", []string{"ext-1"}); err != nil {
		t.Fatal(err)
	}
	got, err := x.UsersByExternalID(ctx, "a", []string{"ext-1"})
	if err != nil {
		t.Fatal(err)
	}
	sameUser(t, "scope a", got["ext-1"], user(1))
	if n, _ := x.CountUnseen(ctx, "a"); n.NotOwned != 1 {
		t.Errorf("scope a CountUnseen = %+v, want 1 (MarkSeen on b must not touch a)", n)
	}
	if err := x.ResetIndex(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if got, _ := x.UsersByExternalID(ctx, "a", []string{"ext-1"}); len(got) != 1 {
		t.Errorf("reset of b emptied a")
	}
}

func testIndexFingerprints(t *testing.T, x checkpoint.ClerkIndex) {
	ctx := context.Background()
	fps := []checkpoint.Fingerprint{
		{ExternalID: "ext-1", Group: "password", Value: "v1"},
		{ExternalID: "ext-1", Group: "totp", Value: "t1"},
		{ExternalID: "ext-2", Group: "password", Value: "first"},
		{ExternalID: "ext-2", Group: "password", Value: "second"}, // the last one wins
	}
	if err := x.PutFingerprints(ctx, "a", fps); err != nil {
		t.Fatal(err)
	}
	if err := x.PutFingerprints(ctx, "a", []checkpoint.Fingerprint{{ExternalID: "ext-1", Group: "password", Value: "v2"}}); err != nil {
		t.Fatal(err)
	}
	got, err := x.Fingerprints(ctx, "a", []string{"ext-1", "ext-2", "ext-3"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{"ext-1": {"password": "v2", "totp": "t1"}, "ext-2": {"password": "second"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("Fingerprints = %v, want %v", got, want)
	}
	if other, _ := x.Fingerprints(ctx, "b", []string{"ext-1"}); len(other) != 0 {
		t.Errorf("scope b sees %v", other)
	}
}

func testIndexEmpty(t *testing.T, x checkpoint.ClerkIndex) {
	ctx := context.Background()
	if err := x.PutUsers(ctx, "a", nil); err != nil {
		t.Error(err)
	}
	if err := x.MarkSeen(ctx, "a", nil); err != nil {
		t.Error(err)
	}
	if err := x.PutFingerprints(ctx, "a", nil); err != nil {
		t.Error(err)
	}
	if m, err := x.UsersByExternalID(ctx, "a", nil); err != nil || len(m) != 0 {
		t.Errorf("UsersByExternalID(nil) = %v, %v", m, err)
	}
	if m, err := x.Fingerprints(ctx, "a", nil); err != nil || len(m) != 0 {
		t.Errorf("Fingerprints(nil) = %v, %v", m, err)
	}
	if n, err := x.CountUnseen(ctx, "nothing-here"); err != nil || n != (checkpoint.UnseenCounts{}) {
		t.Errorf("CountUnseen = %+v, %v", n, err)
	}
}

func testIndexSchema(t *testing.T, x checkpoint.ClerkIndex) {
	c, ok := x.(Columner)
	if !ok {
		t.Skipf("%T has no Columns method", x)
	}
	put(t, x, "a", user(1))
	tables, err := c.Columns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for table, cols := range tables {
		if !strings.HasPrefix(table, "clerk_") {
			continue
		}
		found++
		for _, col := range cols {
			for _, bad := range forbidden {
				if strings.Contains(strings.ToLower(col), bad) {
					t.Errorf("column %s.%s looks like it could hold a secret (%q)", table, col, bad)
				}
			}
		}
	}
	if found < 3 {
		t.Errorf("Columns = %v: want the three index tables", tables)
	}
}

// testIndexTablesOnOpen: the index tables are part of the ledger's
// versioned schema, there as soon as the store is open, not created on
// first use.
func testIndexTablesOnOpen(t *testing.T, x checkpoint.ClerkIndex) {
	c, ok := x.(Columner)
	if !ok {
		t.Skipf("%T has no Columns method", x)
	}
	tables, err := c.Columns(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"clerk_index", "clerk_index_emails", "clerk_user_prints"} {
		if _, ok := tables[want]; !ok {
			t.Errorf("table %s missing from a freshly opened store (tables: %v)", want, slices.Sorted(maps.Keys(tables)))
		}
	}
}

// CurrentVersion is the schema version both stores bring a ledger to:
// 2 made the index tables a migration, 3 indexed ledger rows by Clerk id
// for the sync's ownership rule, 4 keeps the index between syncs (its
// state and the run's marks), 5 keeps a user's fingerprints in one row.
const CurrentVersion = 5

// IndexStore is a ClerkIndex that can be closed (the stores are both).
type IndexStore interface {
	checkpoint.ClerkIndex
	Close() error
}

// Version1 is how a store's test makes a ledger of schema version 1, the
// last one whose index tables were created on first use instead of by a
// numbered migration.
type Version1 struct {
	// Open opens the test's ledger (the same one each time).
	Open func(t *testing.T) IndexStore
	// Downgrade marks the closed ledger as version 1 and, with dropTables,
	// drops the index tables (a version-1 ledger that never ran a sync).
	Downgrade func(t *testing.T, dropTables bool)
	// Version reads the closed or open ledger's schema version.
	Version func(t *testing.T) int
}

// RunIndexUpgrade opens ledgers of schema version 1, with and without
// their index tables: both come out at the current version
// (CurrentVersion), the index usable and its rows kept.
func RunIndexUpgrade(t *testing.T, mk func(t *testing.T) Version1) {
	ctx := context.Background()
	for _, hadTables := range []bool{true, false} {
		t.Run(fmt.Sprintf("hadTables=%t", hadTables), func(t *testing.T) {
			v1 := mk(t)
			x := v1.Open(t)
			u := checkpoint.IndexedUser{ClerkID: "user_1", ExternalID: "ext-1", UpdatedAt: 1, State: []byte("{}")}
			if hadTables {
				put(t, x, "a", u)
			}
			x.Close()
			v1.Downgrade(t, !hadTables)
			if v := v1.Version(t); v != 1 {
				t.Fatalf("Downgrade left version %d", v)
			}
			x = v1.Open(t)
			defer x.Close()
			if v := v1.Version(t); v != CurrentVersion {
				t.Errorf("schema version %d after Open, want %d", v, CurrentVersion)
			}
			if !hadTables {
				put(t, x, "a", u)
			}
			got, err := x.UsersByExternalID(ctx, "a", []string{"ext-1"})
			if err != nil || got["ext-1"].ClerkID != "user_1" {
				t.Errorf("UsersByExternalID = %v, %v: want user_1", got, err)
			}
			// An index from before version 4 has no state: the first sync
			// rescans Clerk in full; the marks work at once.
			if st, err := x.IndexState(ctx, "a"); err != nil || st != (checkpoint.IndexState{}) {
				t.Errorf("IndexState after the upgrade = %+v, %v; want zero", st, err)
			}
			if err := x.MarkSeen(ctx, "a", []string{"ext-1"}); err != nil {
				t.Fatal(err)
			}
			if c, err := x.CountUnseen(ctx, "a"); err != nil || c != (checkpoint.UnseenCounts{}) {
				t.Errorf("CountUnseen after the upgrade = %+v, %v; want 0", c, err)
			}
		})
	}
}

// Version4 is how a store's test makes a ledger of schema version 4, the
// last one that kept a row a fingerprint group.
type Version4 struct {
	// Open opens the test's ledger (the same one each time).
	Open func(t *testing.T) IndexStore
	// Downgrade turns the closed ledger into version 4's layout holding
	// these fingerprints: scope, external id, group, value.
	Downgrade func(t *testing.T, prints [][4]string)
	// Version reads the closed or open ledger's schema version.
	Version func(t *testing.T) int
}

// RunPrintsUpgrade: the fingerprints of a version-4 ledger (a row a group)
// read the same after the upgrade to one row a user, and a put then
// replaces only the groups it gives.
func RunPrintsUpgrade(t *testing.T, mk func(t *testing.T) Version4) {
	ctx := context.Background()
	v4 := mk(t)
	v4.Open(t).Close()
	v4.Downgrade(t, [][4]string{
		{"a", "ext-1", "password", "k1:abc"},
		{"a", "ext-1", "fields", "k1:fn=x;ln=y,z"},
		{"a", "ext-1", "totp", "k1:-"},
		{"a", "ext-2", "password", `odd "quoted" \ value`},
		{"b", "ext-1", "password", "k1:other"},
	})
	if v := v4.Version(t); v != 4 {
		t.Fatalf("Downgrade left version %d", v)
	}
	x := v4.Open(t)
	defer x.Close()
	if v := v4.Version(t); v != CurrentVersion {
		t.Errorf("schema version %d after Open, want %d", v, CurrentVersion)
	}
	check := func(scope string, want map[string]map[string]string) {
		t.Helper()
		got, err := x.Fingerprints(ctx, scope, []string{"ext-1", "ext-2", "ext-3"})
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Fingerprints(%s) = %v, want %v", scope, got, want)
		}
	}
	check("a", map[string]map[string]string{
		"ext-1": {"fields": "k1:fn=x;ln=y,z", "password": "k1:abc", "totp": "k1:-"},
		"ext-2": {"password": `odd "quoted" \ value`},
	})
	check("b", map[string]map[string]string{"ext-1": {"password": "k1:other"}})
	if err := x.PutFingerprints(ctx, "a", []checkpoint.Fingerprint{{ExternalID: "ext-1", Group: "totp", Value: "k1:new"}}); err != nil {
		t.Fatal(err)
	}
	check("a", map[string]map[string]string{
		"ext-1": {"fields": "k1:fn=x;ln=y,z", "password": "k1:abc", "totp": "k1:new"},
		"ext-2": {"password": `odd "quoted" \ value`},
	})
}

// testIndexOwnership: of the users the source no longer lists, only those a
// run of the same ledger created or adopted in the same target are owned
// (checkpoint.OwningKinds); the index must be opened over a Store.
func testIndexOwnership(t *testing.T, x checkpoint.ClerkIndex) {
	ctx := context.Background()
	st, ok := x.(checkpoint.Store)
	if !ok {
		t.Skipf("%T is not a checkpoint.Store", x)
	}
	type row struct {
		clerkID, key string
		outcome      checkpoint.Outcome
	}
	record := func(id, kind, target string, rows ...row) {
		t.Helper()
		if _, err := st.BeginRun(ctx, checkpoint.RunSpec{ID: id, Kind: kind, SourceFingerprint: "s", MappingFingerprint: "m",
			Meta: map[string]string{checkpoint.MetaTarget: target}}); err != nil {
			t.Fatal(err)
		}
		var ss []checkpoint.Settlement
		for i, r := range rows {
			ss = append(ss, checkpoint.Settlement{Pos: int64(i + 1), Key: r.key, ClerkID: r.clerkID, Outcome: r.outcome})
		}
		if err := st.Settle(ctx, id, ss); err != nil {
			t.Fatal(err)
		}
		if err := st.FinishRun(ctx, id, checkpoint.Done); err != nil {
			t.Fatal(err)
		}
	}
	u := func(i int) row { return row{user(i).ClerkID, user(i).ExternalID, ""} }
	with := func(r row, o checkpoint.Outcome) row { r.outcome = o; return r }
	record("import-1", "import", "a", with(u(1), checkpoint.Created), with(u(2), checkpoint.Exists),
		with(u(3), checkpoint.Failed), row{user(8).ClerkID, "ext-other", checkpoint.Created})
	record("sync-1", "sync", "a", with(u(4), checkpoint.Created), with(u(5), checkpoint.Unchanged),
		with(u(1), checkpoint.Unchanged), with(u(9), checkpoint.Orphan), with(u(10), checkpoint.Banned))
	record("apply-1", "sync-apply", "a", with(u(11), checkpoint.Updated))
	record("plan-1", "sync-plan", "a", with(u(6), checkpoint.Unchanged))
	record("validate-1", "validate", "a", with(u(12), checkpoint.Valid))
	record("import-b", "import", "b", with(u(7), checkpoint.Created))
	noExt := user(13)
	noExt.ExternalID = ""
	put(t, x, "a", append(users(1, 12), noExt)...)
	put(t, x, "b", user(7))

	owners := map[string]string{}
	if err := x.Unseen(ctx, "a", func(iu checkpoint.IndexedUser) error {
		owners[iu.ExternalID+"/"+iu.ClerkID] = iu.Owner
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	for i := 1; i <= 12; i++ {
		want[user(i).ExternalID+"/"+user(i).ClerkID] = ""
	}
	want["/"+noExt.ClerkID] = ""
	// Created and exists by an import, created, unchanged and updated by a
	// sync or an applied plan; the first run wins. Not owned: a failed row,
	// a row whose key is not the user's external_id, an orphan or banned
	// row, a plan, a dry run, another target, no external id.
	want["ext-1/user_00001"], want["ext-2/user_00002"] = "import-1", "import-1"
	want["ext-4/user_00004"], want["ext-5/user_00005"], want["ext-11/user_00011"] = "sync-1", "sync-1", "apply-1"
	if fmt.Sprint(owners) != fmt.Sprint(want) {
		t.Errorf("Unseen owners:\n got %v\nwant %v", owners, want)
	}
	byID, err := x.Owners(ctx, "a", append(users(1, 12), noExt))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 12; i++ {
		if got, w := byID[user(i).ClerkID], want[user(i).ExternalID+"/"+user(i).ClerkID]; got != w {
			t.Errorf("Owners: user %d owned by %q, want %q", i, got, w)
		}
	}
	if len(byID) != 5 {
		t.Errorf("Owners = %v, want the 5 owned users", byID)
	}
	if c, err := x.CountUnseen(ctx, "a"); err != nil || c != (checkpoint.UnseenCounts{Owned: 5, NotOwned: 8}) {
		t.Errorf("CountUnseen(a) = %+v, %v; want 5 owned, 8 not", c, err)
	}
	if c, err := x.CountUnseen(ctx, "b"); err != nil || c != (checkpoint.UnseenCounts{Owned: 1}) {
		t.Errorf("CountUnseen(b) = %+v, %v; want user 7 owned by import-b", c, err)
	}
	if err := x.MarkSeen(ctx, "a", []string{"ext-1", "ext-4"}); err != nil {
		t.Fatal(err)
	}
	if c, err := x.CountUnseen(ctx, "a"); err != nil || c != (checkpoint.UnseenCounts{Owned: 3, NotOwned: 8}) {
		t.Errorf("after MarkSeen CountUnseen(a) = %+v, %v; want 3 owned, 8 not", c, err)
	}
}

// testPruneKeepsOwnership: pruning finished sync runs drops their rows but
// those that make a user ours (no earlier owning row of the same user and
// key in the target), so every user is owned by the same run after it; a
// created row always stays; the counts stay; Prune's policy keeps the
// newest runs of each kind, imports and unfinished runs whole.
func testPruneKeepsOwnership(t *testing.T, x checkpoint.ClerkIndex) {
	ctx := context.Background()
	st, ok := x.(checkpoint.Store)
	pr, ok2 := x.(checkpoint.Pruner)
	if !ok || !ok2 {
		t.Skipf("%T is not a pruning checkpoint.Store", x)
	}
	type row struct {
		i       int
		outcome checkpoint.Outcome
	}
	record := func(id, kind, target string, finish bool, rows ...row) {
		t.Helper()
		if _, err := st.BeginRun(ctx, checkpoint.RunSpec{ID: id, Kind: kind, SourceFingerprint: "s", MappingFingerprint: "m",
			Meta: map[string]string{checkpoint.MetaTarget: target}}); err != nil {
			t.Fatal(err)
		}
		var ss []checkpoint.Settlement
		for n, r := range rows {
			ss = append(ss, checkpoint.Settlement{Pos: int64(n + 1), Key: user(r.i).ExternalID, ClerkID: user(r.i).ClerkID, Outcome: r.outcome})
		}
		if err := st.Settle(ctx, id, ss); err != nil {
			t.Fatal(err)
		}
		if finish {
			if err := st.FinishRun(ctx, id, checkpoint.Done); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(2 * time.Millisecond) // Runs orders by start
	}
	record("import-1", "import", "a", true, row{1, checkpoint.Created}, row{2, checkpoint.Exists}, row{3, checkpoint.Failed})
	record("sync-1", "sync", "a", true, row{1, checkpoint.Unchanged}, row{4, checkpoint.Created}, row{5, checkpoint.Unchanged},
		row{6, checkpoint.Updated}, row{9, checkpoint.Orphan}, row{10, checkpoint.Failed})
	record("sync-2", "sync", "a", true, row{4, checkpoint.Updated}, row{5, checkpoint.Unchanged}, row{6, checkpoint.Unchanged})
	record("sync-b", "sync", "b", true, row{8, checkpoint.Unchanged})
	record("sync-3", "sync", "a", true, row{1, checkpoint.Unchanged})
	record("sync-live", "sync", "a", false, row{1, checkpoint.Unchanged})
	put(t, x, "a", users(1, 10)...)
	put(t, x, "b", user(8))
	owners := func(scope string) map[string]string {
		t.Helper()
		m, err := x.Owners(ctx, scope, users(1, 10))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	beforeA, beforeB := owners("a"), owners("b")
	progress := func(id string) checkpoint.Progress {
		p, err := st.Progress(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	before1 := progress("sync-1")

	if _, err := pr.PruneRun(ctx, "sync-live"); !errors.Is(err, checkpoint.ErrNotFinished) {
		t.Errorf("PruneRun of a running run = %v, want ErrNotFinished", err)
	}
	var pruned []string
	err := checkpoint.Prune(ctx, st, checkpoint.PrunePolicy{KeepRuns: 1}, func(p checkpoint.PrunedRun) error {
		pruned = append(pruned, fmt.Sprintf("%s:%d/%d", p.Run.ID, p.Stats.Deleted, p.Stats.Kept))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// sync-3 is the newest sync: kept. sync-b: u8 is its target's first.
	// sync-2: all three users owned by sync-1 already. sync-1: u1 (the
	// import's), the orphan and the failed row go; u4, u5, u6 stay.
	if want := []string{"sync-b:0/1", "sync-2:3/0", "sync-1:3/3"}; !slices.Equal(pruned, want) {
		t.Errorf("Prune = %v, want %v", pruned, want)
	}
	if a, b := owners("a"), owners("b"); fmt.Sprint(a) != fmt.Sprint(beforeA) || fmt.Sprint(b) != fmt.Sprint(beforeB) {
		t.Errorf("owners after the prune:\n a %v\n b %v\nwant\n a %v\n b %v", a, b, beforeA, beforeB)
	}
	if p := progress("sync-1"); fmt.Sprint(p.ByOutcome) != fmt.Sprint(before1.ByOutcome) {
		t.Errorf("sync-1's counts after the prune = %v, want %v", p.ByOutcome, before1.ByOutcome)
	}
	runs, err := st.Runs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if pruned := r.Meta[checkpoint.MetaPruned] != ""; pruned != (r.ID == "sync-1" || r.ID == "sync-2" || r.ID == "sync-b") {
			t.Errorf("run %s: pruned meta %q", r.ID, r.Meta[checkpoint.MetaPruned])
		}
	}
	again := 0
	if err := checkpoint.Prune(ctx, st, checkpoint.PrunePolicy{}, func(checkpoint.PrunedRun) error { again++; return nil }); err != nil || again != 1 {
		t.Errorf("a second Prune keeping no run pruned %d runs (%v), want sync-3 only: the others are done, imports never", again, err)
	}
}
