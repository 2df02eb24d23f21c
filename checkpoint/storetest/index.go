package storetest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

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
		{"SeenAndUnseenAcrossPages", testIndexUnseen},
		{"ResetKeepsFingerprints", testIndexReset},
		{"ScopesApart", testIndexScopes},
		{"Fingerprints", testIndexFingerprints},
		{"EmptyArguments", testIndexEmpty},
		{"SchemaHoldsNoSecret", testIndexSchema},
		{"TablesExistOnOpen", testIndexTablesOnOpen},
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
		string(got.State) != string(want.State) || got.Seen != want.Seen {
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
	sameUser(t, "replaced user", byMail["new@example.com"], changed) // Seen false again
	if n, err := x.CountUnseen(ctx, "a"); err != nil || n != 1 {
		t.Errorf("CountUnseen = %d, %v; want 1 (a put user is unseen)", n, err)
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
	var seen, want []string
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
	if c, err := x.CountUnseen(ctx, "a"); err != nil || c != int64(len(want)) {
		t.Fatalf("CountUnseen = %d, %v; want %d", c, err, len(want))
	}
	var got []string
	err := x.Unseen(ctx, "a", func(u checkpoint.IndexedUser) error {
		if u.Seen || u.ExternalID == "" {
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
	if n, _ := x.CountUnseen(ctx, "a"); n != 1 {
		t.Errorf("scope a CountUnseen = %d, want 1 (MarkSeen on b must not touch a)", n)
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
	if n, err := x.CountUnseen(ctx, "nothing-here"); err != nil || n != 0 {
		t.Errorf("CountUnseen = %d, %v", n, err)
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
	for _, want := range []string{"clerk_index", "clerk_index_emails", "clerk_fingerprints"} {
		if _, ok := tables[want]; !ok {
			t.Errorf("table %s missing from a freshly opened store (tables: %v)", want, slices.Sorted(maps.Keys(tables)))
		}
	}
}

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
// their index tables: both come out at version 2, the index usable and
// its rows kept.
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
			if v := v1.Version(t); v != 2 {
				t.Errorf("schema version %d after Open, want 2", v)
			}
			if !hadTables {
				put(t, x, "a", u)
			}
			got, err := x.UsersByExternalID(ctx, "a", []string{"ext-1"})
			if err != nil || got["ext-1"].ClerkID != "user_1" {
				t.Errorf("UsersByExternalID = %v, %v: want user_1", got, err)
			}
		})
	}
}
