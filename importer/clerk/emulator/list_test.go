package emulator

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// populate creates n users whose created_at repeats over 7 instants, so
// that the tie-break by id matters.
func populate(h *harness, n int) {
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		h.create(map[string]any{
			"external_id":   fmt.Sprintf("ext-%04d", i),
			"email_address": []string{fmt.Sprintf("User%04d@Example.com", i)},
			"username":      fmt.Sprintf("user_%04d", i),
			"created_at":    base.Add(time.Duration(i%7) * time.Hour).Format(time.RFC3339),
			"banned":        i%10 == 0,
		})
	}
}

// scan pages through GET /v1/users with the cursor and returns the ids.
func scan(t *testing.T, h *harness, orderBy string, limit int) []string {
	t.Helper()
	var ids []string
	cursor := ""
	for page := 0; ; page++ {
		q := url.Values{"limit": {fmt.Sprint(limit)}}
		if orderBy != "" {
			q.Set("order_by", orderBy)
		}
		if cursor != "" {
			q.Set("starting_after", cursor)
		}
		r := h.do("GET", "/v1/users?"+q.Encode(), nil)
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", page, r.status, r.body)
		}
		users := r.array(t)
		for _, u := range users {
			ids = append(ids, u["id"].(string))
		}
		if len(users) < limit {
			return ids
		}
		cursor = ids[len(ids)-1]
	}
}

func TestListWithCursorOverManyUsers(t *testing.T) {
	h := newHarness(t, Config{})
	const n = 1203
	populate(h, n)
	snap := h.emu.Snapshot().Users // oldest first, ties by id
	asc := make([]string, len(snap))
	for i, u := range snap {
		asc[i] = u.ID
	}
	if !slices.IsSortedFunc(snap, func(a, b UserState) int { return before(&a, &b) }) {
		t.Fatal("snapshot is not in (created_at, id) order")
	}
	desc := slices.Clone(asc)
	slices.Reverse(desc)
	for _, tc := range []struct {
		orderBy string
		limit   int
		want    []string
	}{{"", 500, desc}, {"-created_at", 137, desc}, {"+created_at", 500, asc}, {"created_at", 250, asc}} {
		got := scan(t, h, tc.orderBy, tc.limit)
		if !slices.Equal(got, tc.want) {
			t.Errorf("order_by %q limit %d: %d ids, want %d in order (first difference at %d)", tc.orderBy, tc.limit, len(got), len(tc.want), firstDiff(got, tc.want))
		}
	}
	// A user created mid-scan, newer than the cursor, is not seen by a
	// newest-first scan and does not shift it.
	got := h.do("GET", "/v1/users?limit=3&starting_after="+desc[10], nil).array(t)
	if got[0]["id"] != desc[11] || got[2]["id"] != desc[13] {
		t.Errorf("page after %s starts at %v", desc[10], got[0]["id"])
	}
	// offset paging agrees.
	got = h.do("GET", "/v1/users?limit=5&offset=1000", nil).array(t)
	if len(got) != 5 || got[0]["id"] != desc[1000] {
		t.Errorf("offset 1000: %d users, first %v", len(got), got[0]["id"])
	}
	if len(h.do("GET", "/v1/users", nil).array(t)) != 10 {
		t.Error("the default limit is not 10")
	}
}

func firstDiff(a, b []string) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestListFiltersAndCursorErrors(t *testing.T) {
	h := newHarness(t, Config{})
	populate(h, 30)
	snap := h.emu.Snapshot().Users
	id3 := snap[3].ID
	cases := []struct {
		query string
		want  int
	}{
		{"email_address=USER0003%40example.com&email_address=user0004%40EXAMPLE.com", 2},
		{"external_id=ext-0001&external_id=ext-0002&external_id=nope", 2},
		{"username=USER_0005", 1},
		{"user_id=" + id3, 1},
		{"user_id=-" + id3 + "&limit=100", 29},
		{"external_id=ext-0001&username=user_0002", 0},
		{"banned=true&limit=100", 3},
		{"query=user001&limit=100", 10},
		{"order_by=username&limit=3", 3},
		{"order_by=-email_address&limit=100&offset=28", 2},
	}
	for _, c := range cases {
		r := h.do("GET", "/v1/users?"+c.query, nil)
		if r.status != 200 || len(r.array(t)) != c.want {
			t.Errorf("%s: %d, %d users, want %d", c.query, r.status, len(r.array(t)), c.want)
		}
	}
	first := h.do("GET", "/v1/users?order_by=username&limit=1", nil).array(t)[0]
	if first["username"] != "user_0000" {
		t.Errorf("order_by=username starts with %v", first["username"])
	}
	for query, want := range map[string]string{
		"order_by=username&starting_after=" + id3: "form_param_value_invalid/starting_after",
		"offset=5&starting_after=" + id3:          "form_param_value_invalid/starting_after",
		"starting_after=user_doesnotexist":        "form_param_value_invalid/starting_after",
		"limit=501":                               "form_param_value_invalid/limit",
		"limit=0":                                 "form_param_value_invalid/limit",
		"order_by=shoe_size":                      "form_param_value_invalid/order_by",
		"email_address=" + strings.Repeat("a%40b.c&email_address=", 100) + "z%40b.c": "form_param_array_size_exceeded/email_address",
	} {
		h.do("GET", "/v1/users?"+query, nil).expectError(t, 422, want)
	}
	if r := h.do("GET", "/v1/users?order_by=%2Bcreated_at&starting_after="+id3+"&limit=2", nil).array(t); r[0]["id"] != snap[4].ID {
		t.Errorf("+created_at after %s starts at %v, want %s", id3, r[0]["id"], snap[4].ID)
	}
}

func TestCount(t *testing.T) {
	h := newHarness(t, Config{})
	count := func(q string) any {
		r := h.do("GET", "/v1/users/count"+q, nil)
		if r.status != 200 || r.object(t)["object"] != "total_count" {
			t.Fatalf("count%s: %d %s", q, r.status, r.body)
		}
		return r.object(t)["total_count"]
	}
	if got := count(""); got != float64(0) {
		t.Errorf("empty instance counts %v", got)
	}
	populate(h, 25)
	for q, want := range map[string]float64{"": 25, "?external_id=ext-0001&external_id=ext-0024": 2,
		"?email_address=USER0007%40example.com": 1, "?banned=true": 3, "?username=nobody": 0} {
		if got := count(q); got != want {
			t.Errorf("count%s = %v, want %v", q, got, want)
		}
	}
	h.do("DELETE", "/v1/users/"+h.emu.Snapshot().Users[0].ID, nil)
	if got := count(""); got != float64(24) {
		t.Errorf("after a delete: %v", got)
	}
}

func TestMetadataMergeVersusReplace(t *testing.T) {
	h := newHarness(t, Config{})
	id := h.create(map[string]any{
		"public_metadata":  map[string]any{"a": map[string]any{"b": 1, "c": 2}, "keep": true},
		"private_metadata": map[string]any{"x": 1},
	})["id"].(string)
	path := "/v1/users/" + id + "/metadata"
	r := h.do("PATCH", path, map[string]any{
		"public_metadata": map[string]any{"a": map[string]any{"b": nil, "d": map[string]any{"e": 3, "f": nil}}},
		"unsafe_metadata": map[string]any{"u": 1},
	})
	want := `{"a":{"c":2,"d":{"e":3}},"keep":true}`
	if got := jsonOf(t, r.object(t)["public_metadata"]); got != want {
		t.Errorf("after PATCH public_metadata = %s, want %s", got, want)
	}
	if got := jsonOf(t, r.object(t)["private_metadata"]); got != `{"x":1}` {
		t.Errorf("PATCH touched private_metadata: %s", got)
	}
	r = h.do("PUT", path, map[string]any{"public_metadata": map[string]any{"only": 1}})
	if got := jsonOf(t, r.object(t)["public_metadata"]); got != `{"only":1}` {
		t.Errorf("after PUT public_metadata = %s", got)
	}
	if got := jsonOf(t, r.object(t)["unsafe_metadata"]); got != `{"u":1}` {
		t.Errorf("PUT touched unsafe_metadata: %s", got)
	}
	h.do("PATCH", path, map[string]any{"public_metadata": "x"}).expectError(t, 422, "form_param_type_invalid/public_metadata")
	h.do("PATCH", path, map[string]any{"metadata": map[string]any{}}).expectError(t, 422, "form_param_unknown/metadata")
	h.do("PUT", "/v1/users/user_nobody/metadata", map[string]any{}).expectError(t, 404, "resource_not_found/")
	// Large integers survive.
	r = h.do("PATCH", path, `{"private_metadata":{"big":12345678901234567890}}`)
	if !strings.Contains(string(r.body), "12345678901234567890") {
		t.Errorf("a large number was not kept exactly: %s", r.body)
	}
}

// TestPatchCreatedAtKeepsOneEntry: moving a user in time by PATCH must not
// leave a second copy in the list or the count (it did: [r2, r1, r1], 3).
func TestPatchCreatedAtKeepsOneEntry(t *testing.T) {
	h := newHarness(t, Config{})
	r1 := h.create(map[string]any{"external_id": "r1", "created_at": "2020-01-01T00:00:00Z"})["id"].(string)
	r2 := h.create(map[string]any{"external_id": "r2", "created_at": "2021-01-01T00:00:00Z"})["id"].(string)
	for _, at := range []string{"2022-01-01T00:00:00Z", "2019-01-01T00:00:00Z", "2021-01-01T00:00:00Z"} {
		if r := h.do("PATCH", "/v1/users/"+r1, map[string]any{"created_at": at}); r.status != 200 {
			t.Fatalf("PATCH created_at %s: %d %s", at, r.status, r.body)
		}
		var ids []string
		for _, u := range h.do("GET", "/v1/users?limit=10", nil).array(t) {
			ids = append(ids, u["id"].(string))
		}
		if len(ids) != 2 || !slices.Contains(ids, r1) || !slices.Contains(ids, r2) {
			t.Errorf("after created_at %s the list is %v, want r1 and r2 once each", at, ids)
		}
		if n := h.do("GET", "/v1/users/count", nil).object(t)["total_count"]; n != float64(2) {
			t.Errorf("after created_at %s the count is %v, want 2", at, n)
		}
		if n := len(h.emu.Snapshot().Users); n != 2 {
			t.Errorf("after created_at %s the state holds %d users", at, n)
		}
	}
	// Deleting the moved user removes it entirely.
	h.do("DELETE", "/v1/users/"+r1, nil)
	if n := h.do("GET", "/v1/users/count", nil).object(t)["total_count"]; n != float64(1) {
		t.Errorf("after deleting r1 the count is %v, want 1", n)
	}
}

// TestListByUpdatedAt: every write to a user (PATCH, metadata, ban, lock,
// an email address added, updated or deleted) moves its updated_at to the
// write's time, and order_by=-updated_at lists the most recently updated
// first, paged by offset (the cursor is refused there), every user once:
// what the sync's incremental scan of Clerk reads.
func TestListByUpdatedAt(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { now = now.Add(time.Millisecond); return now }
	h := newHarness(t, Config{Now: clock})
	populate(h, 40)
	snap := h.emu.Snapshot().Users
	id := func(i int) string { return snap[i].ID }
	writes := []struct {
		what         string
		method, path string
		body         any
	}{
		{"PATCH user", "PATCH", "/v1/users/" + id(3), map[string]any{"first_name": "Changed"}},
		{"PATCH metadata", "PATCH", "/v1/users/" + id(7) + "/metadata", map[string]any{"public_metadata": map[string]any{"plan": "pro"}}},
		{"PUT metadata", "PUT", "/v1/users/" + id(11) + "/metadata", map[string]any{"private_metadata": map[string]any{"a": 1}}},
		{"ban", "POST", "/v1/users/" + id(13) + "/ban", nil},
		{"lock", "POST", "/v1/users/" + id(17) + "/lock", nil},
		{"add email", "POST", "/v1/email_addresses", map[string]any{"user_id": id(19), "email_address": "second19@example.com", "verified": true}},
	}
	order := []string{}
	for _, w := range writes {
		sent := now.UnixMilli()
		r := h.do(w.method, w.path, w.body)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", w.what, r.status, r.body)
		}
		answered := now.UnixMilli()
		u := h.do("GET", "/v1/users/"+userOf(w.path, w.body), nil).object(t)
		if got := int64(u["updated_at"].(float64)); got <= sent || got > answered {
			t.Errorf("%s: updated_at %d, want the write's time (%d, %d]", w.what, got, sent, answered)
		}
		order = append([]string{userOf(w.path, w.body)}, order...)
	}
	// An address deleted also touches its user.
	h.do("POST", "/v1/email_addresses", map[string]any{"user_id": id(23), "email_address": "second23@example.com", "verified": true})
	added := h.do("GET", "/v1/users/"+id(23), nil).object(t)["email_addresses"].([]any)[1].(map[string]any)["id"].(string)
	sent := now.UnixMilli()
	if r := h.do("DELETE", "/v1/email_addresses/"+added, nil); r.status != 200 {
		t.Fatalf("delete email: %d %s", r.status, r.body)
	}
	if got := int64(h.do("GET", "/v1/users/"+id(23), nil).object(t)["updated_at"].(float64)); got <= sent {
		t.Errorf("delete email: updated_at %d, want after %d", got, sent)
	}
	order = append([]string{id(23)}, order...)

	var got []string
	var last float64
	for offset := 0; ; offset += 7 {
		page := h.do("GET", fmt.Sprintf("/v1/users?order_by=-updated_at&limit=7&offset=%d", offset), nil).array(t)
		for _, u := range page {
			if at := u["updated_at"].(float64); len(got) > 0 && at > last {
				t.Errorf("offset %d: updated_at %v after %v: not newest first", offset, at, last)
			}
			last = u["updated_at"].(float64)
			got = append(got, u["id"].(string))
		}
		if len(page) < 7 {
			break
		}
	}
	if len(got) != len(snap) || len(slices.Compact(slices.Sorted(slices.Values(got)))) != len(snap) {
		t.Errorf("order_by=-updated_at by offset listed %d users (%d distinct), want each of %d once", len(got), len(slices.Compact(slices.Sorted(slices.Values(got)))), len(snap))
	}
	if !slices.Equal(got[:len(order)], order) {
		t.Errorf("order_by=-updated_at starts with %v, want the users written, last written first: %v", got[:len(order)], order)
	}
	asc := h.do("GET", "/v1/users?order_by=updated_at&limit=500", nil).array(t)
	if asc[len(asc)-1]["id"] != order[0] {
		t.Errorf("order_by=updated_at ends with %v, want %s", asc[len(asc)-1]["id"], order[0])
	}
	h.do("GET", "/v1/users?order_by=-updated_at&starting_after="+id(3), nil).expectError(t, 422, "form_param_value_invalid/starting_after")
}

// userOf is the user a write of TestListByUpdatedAt touches.
func userOf(path string, body any) string {
	if m, ok := body.(map[string]any); ok && m["user_id"] != nil {
		return m["user_id"].(string)
	}
	return strings.Split(path, "/")[3]
}
