package request

import (
	"encoding/json"
	"testing"
)

// TestFieldMarshalsAsEncodingJSON: a Field's value is written byte for
// byte as json.Marshal writes it, on the fast path (plain strings, bools,
// ints) and off it (escapes, HTML characters, non-ASCII, invalid UTF-8).
func TestFieldMarshalsAsEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "ada", "Ada Lovelace 1815", "a@example.com", "$2a$10$54cbf.ymtKSc4jsKFRlzae9c",
		"2020-01-02T03:04:05Z", `quote"d`, `back\slash`, "<b>&amp;</b>", "tab\there", "new\nline", "\x00\x1f\x7f",
		"Zoë", "日本", "\u2028\u2029", "bad \xff utf-8", "~!#%^*()_+={}[]|:;',.?/"} {
		check(t, Value(s), s)
	}
	check(t, Value(true), true)
	check(t, Value(false), false)
	for _, n := range []int{0, 1, -1, 42, 1 << 40, -1 << 62} {
		check(t, Value(n), n)
	}
	check(t, Value(3.5), 3.5)
	check(t, Value([]string{"a", "<"}), []string{"a", "<"})
}

func check[T any](t *testing.T, f Field[T], v T) {
	t.Helper()
	got, err := json.Marshal(struct {
		F Field[T] `json:"f"`
	}{f})
	if err != nil {
		t.Fatal(err)
	}
	want, err := json.Marshal(struct {
		F T `json:"f"`
	}{v})
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("Field(%#v) marshals as %s, json.Marshal writes %s", v, got, want)
	}
}
