package sources

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

func openJSONT(t *testing.T, cfg JSONConfig) *JSON {
	t.Helper()
	j, err := OpenJSON(cfg)
	if err != nil {
		t.Fatalf("OpenJSON: %v", err)
	}
	t.Cleanup(func() { j.Close() })
	return j
}

func TestLookupPath(t *testing.T) {
	var doc map[string]any
	dec := json.NewDecoder(strings.NewReader(`{
		"email": "a@x.io", "none": null, "empty": [],
		"app_metadata": {"roles": ["admin", "ops"], "plan": {"tier": 2}},
		"identities": [{"provider": "google"}, {"provider": "github"}],
		"mfa_factors": [{"totp": {"secret": "S3CR3T"}}],
		"a.b": {"c": "dotted"}, "weird\"key": 1
	}`))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path  string
		want  any
		found bool
	}{
		{"email", "a@x.io", true},
		{"none", nil, true},
		{"empty", []any{}, true},
		{"app_metadata.roles", []any{"admin", "ops"}, true},
		{"app_metadata.roles[1]", "ops", true},
		{"app_metadata.plan.tier", json.Number("2"), true},
		{"identities[0].provider", "google", true},
		{"identities[1].provider", "github", true},
		{"mfa_factors[0].totp.secret", "S3CR3T", true},
		{`["a.b"].c`, "dotted", true},
		{`["weird\"key"]`, json.Number("1"), true},
		{`app_metadata["plan"].tier`, json.Number("2"), true},
		{"identities[2].provider", nil, false},
		{"identities[-1]", nil, false},
		{"identities.provider", nil, false},
		{"email.x", nil, false},
		{"app_metadata..roles", nil, false},
		{"app_metadata.", nil, false},
		{".email", nil, false},
		{"identities[0]provider", nil, false},
		{"identities[0", nil, false},
		{`["a.b"`, nil, false},
		{"", nil, false},
		{"missing", nil, false},
	}
	for _, tt := range tests {
		got, found := LookupPath(doc, tt.path)
		if found != tt.found || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("LookupPath(%q) = %#v, %v; want %#v, %v", tt.path, got, found, tt.want, tt.found)
		}
	}
	// A literal dotted key is found through Values.Lookup as a fallback.
	if v, ok := jsonObject(map[string]any{"a.b": "x"}).Lookup("a.b"); !ok || v != "x" {
		t.Errorf("dotted key fallback = %v, %v", v, ok)
	}
}

func TestJSONArrayAwkwardRecords(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	content := "\xEF\xBB\xBF[\n" +
		`{"id": 1000000, "email": "zoë@example.com", "name": null, "roles": [], "n": 12345678901234567890},` + "\n" +
		`42,` + "\n" + // not an object: an error for this record only
		`{"id": "  u3  ", "identities": [{"provider": "google"}], "blob": "` + big + `"},` + "\n" +
		`{"id": {"nested": true}},` + "\n" + // key of the wrong type
		`{"email": "nokey@example.com"}` + "\n]\n"
	j := openJSONT(t, JSONConfig{Path: writeTemp(t, "users.json", content), KeyPath: "id"})
	if j.Info().Kind != "json" {
		t.Errorf("kind %q", j.Info().Kind)
	}
	recs := readAll(t, j)
	if len(recs) != 5 {
		t.Fatalf("got %d records, want 5", len(recs))
	}
	for i, r := range recs {
		if r.Pos.Index != int64(i+1) || r.Pos.Line != 0 {
			t.Errorf("record %d: pos %+v", i, r.Pos)
		}
	}
	r := recs[0]
	if r.Err != nil || r.Key != "1000000" {
		t.Errorf("record 1: key %q err %v", r.Key, r.Err)
	}
	if v, ok := r.Values.Lookup("name"); !ok || v != nil {
		t.Errorf("null field = %v, %v", v, ok)
	}
	if v, _ := r.Values.Lookup("roles"); !reflect.DeepEqual(v, []any{}) {
		t.Errorf("empty array = %#v", v)
	}
	if v, _ := r.Values.Lookup("n"); v != json.Number("12345678901234567890") {
		t.Errorf("big number = %#v", v)
	}
	if got := lookupString(r.Values, "email"); got != "zoë@example.com" {
		t.Errorf("unicode = %q", got)
	}
	if err := recs[1].Err; err == nil || err.Error() != "record 2: is a number, not an object" || recs[1].Values != nil {
		t.Errorf("record 2: %+v", recs[1])
	}
	if recs[2].Key != "u3" || lookupString(recs[2].Values, "identities[0].provider") != "google" ||
		lookupString(recs[2].Values, "blob") != big {
		t.Errorf("record 3: key %q", recs[2].Key)
	}
	var re *RecordError
	if !errors.As(recs[3].Err, &re) || re.Field != "id" || !strings.Contains(re.Error(), "key is an object") {
		t.Errorf("record 4: err %v", recs[3].Err)
	}
	if recs[4].Err != nil || recs[4].Key != "" {
		t.Errorf("record 5: %+v", recs[4])
	}
	for i, prefix := range []string{`{"id": 1000000`, `42,`, `{"id": "  u3`, `{"id": {`, `{"email": "nokey`} {
		if want := int64(strings.Index(content, prefix)); recs[i].Pos.Offset != want {
			t.Errorf("record %d: offset %d, want %d", i+1, recs[i].Pos.Offset, want)
		}
	}
}

func TestJSONFindsTheUsersArray(t *testing.T) {
	tests := []struct {
		name, content, arrayPath string
		wantKeys                 []string
		wantErr                  string
	}{
		{name: "firebase auto", content: `{"users":[{"localId":"a"},{"localId":"b"}]}`, wantKeys: []string{"a", "b"}},
		{name: "auto among scalars", content: `{"version": 2, "meta": {"x": [1]}, "users":[{"localId":"a"}], "end": "z"}`, wantKeys: []string{"a"}},
		{name: "auto with escaped key", content: `{"us\"ers":[{"localId":"a"}]}`, wantKeys: []string{"a"}},
		{name: "explicit", content: `{"other":[{"localId":"no"}], "users":[{"localId":"a"}]}`, arrayPath: "users", wantKeys: []string{"a"}},
		{name: "nested explicit skips a big sibling", content: `{"junk":[[1,2],{"a":[3]}], "data":{"n":1,"users":[{"localId":"a"}]}}`, arrayPath: "data.users", wantKeys: []string{"a"}},
		{name: "quoted explicit", content: `{"a.b":[{"localId":"a"}]}`, arrayPath: `"a.b"`, wantKeys: []string{"a"}},
		{name: "top-level array", content: ` [ {"localId":"a"} ] `, wantKeys: []string{"a"}},
		{name: "empty array", content: `{"users":[]}`, wantKeys: nil},
		{name: "two arrays", content: `{"users":[], "orgs":[]}`, wantErr: "several arrays (users, orgs); set the array path"},
		{name: "no array", content: `{"users":{"a":1}}`, wantErr: "holds no array"},
		{name: "missing explicit", content: `{"users":[]}`, arrayPath: "accounts", wantErr: `no key "accounts"`},
		{name: "explicit on array", content: `[]`, arrayPath: "users", wantErr: "the top level is not an object"},
		{name: "explicit not an array", content: `{"users":{}}`, arrayPath: "users", wantErr: `"users" is not an array`},
		{name: "empty file", content: "", wantErr: "file is empty"},
		{name: "scalar", content: "42", wantErr: "neither a JSON array nor an object"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, err := OpenJSON(JSONConfig{Path: writeTemp(t, "export.json", tt.content), ArrayPath: tt.arrayPath, KeyPath: "localId"})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			var keys []string
			for _, r := range readAll(t, j) {
				keys = append(keys, r.Key)
			}
			if !reflect.DeepEqual(keys, tt.wantKeys) {
				t.Fatalf("keys %q, want %q", keys, tt.wantKeys)
			}
		})
	}
}

func TestJSONBrokenBeyondRecovery(t *testing.T) {
	tests := []struct {
		name, content string
		good          int
		wantErr       string
	}{
		{"syntax error", `[{"id":"1"},{"id":"2"},{"id": tru},{"id":"4"}]`, 2, "record 3 starting at byte 23: invalid character '}'"},
		{"truncated inside a record", `[{"id":"1"},{"id":"2`, 1, "record 2 starting at byte 12: unexpected EOF"},
		{"truncated after a record", `[{"id":"1"},`, 1, "record 2 starting at byte 12: unexpected EOF"},
		{"truncated before the close", `[{"id":"1"}`, 1, "after record 1: near byte 11: unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := openJSONT(t, JSONConfig{Path: writeTemp(t, "u.json", tt.content), KeyPath: "id"})
			for i := 0; i < tt.good; i++ {
				if r, err := j.Next(context.Background()); err != nil || r.Err != nil {
					t.Fatalf("record %d: %v %v", i+1, err, r.Err)
				}
			}
			_, err := j.Next(context.Background())
			if err == nil || err == io.EOF || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if _, again := j.Next(context.Background()); again != err {
				t.Fatalf("second Next = %v, want the same error", again)
			}
		})
	}
}

func TestJSONLines(t *testing.T) {
	big := strings.Repeat("é", 1<<19)                              // 1 MiB: longer than the read buffer
	content := "\xEF\xBB\xBF" + `{"id":1,"name":"Ann"}` + "\r\n" + // line 1
		"\n" + // line 2: blank
		`{"id":2,"name":"Bob"` + "\n" + // line 3: truncated
		`[1,2]` + "\n" + // line 4: not an object
		`{"id":5} {"id":6}` + "\n" + // line 5: two values
		`{"id":7,"blob":"` + big + `"}` + "\n" + // line 6: huge
		`{"id":8,"name":"Zoë"}` // line 7: no final newline
	path := writeTemp(t, "users.jsonl", content)
	j := openJSONT(t, JSONConfig{Path: path, KeyPath: "id"})
	if j.Info().Kind != "jsonl" {
		t.Errorf("kind %q", j.Info().Kind)
	}
	recs := readAll(t, j)
	wants := []struct {
		line        int64
		key, errMsg string
	}{
		{1, "1", ""},
		// a broken line is keyed by its line, for reports and --only-keys
		{3, "line:3", "line 3: the line ends inside a JSON value (truncated?)"},
		{4, "line:4", "line 4: is an array, not an object"},
		{5, "line:5", "line 5: column 10: data after the JSON value"},
		{6, "7", ""},
		{7, "8", ""},
	}
	if len(recs) != len(wants) {
		t.Fatalf("got %d records, want %d", len(recs), len(wants))
	}
	for i, w := range wants {
		r := recs[i]
		got := ""
		if r.Err != nil {
			got = r.Err.Error()
		}
		if r.Pos.Index != int64(i+1) || r.Pos.Line != w.line || r.Key != w.key || got != w.errMsg {
			t.Errorf("record %d: pos %+v key %q err %q; want line %d key %q err %q", i+1, r.Pos, r.Key, got, w.line, w.key, w.errMsg)
		}
	}
	if lookupString(recs[4].Values, "blob") != big || lookupString(recs[5].Values, "name") != "Zoë" {
		t.Error("huge or last record not read back whole")
	}
	for i, prefix := range []string{`{"id":1`, `{"id":2`, `[1,2]`, `{"id":5}`, `{"id":7`, `{"id":8`} {
		if want := int64(strings.Index(content, prefix)); recs[i].Pos.Offset != want {
			t.Errorf("record %d: offset %d, want %d", i+1, recs[i].Pos.Offset, want)
		}
	}
}

func TestJSONLinesDetectedInJSONFile(t *testing.T) {
	j := openJSONT(t, JSONConfig{Path: writeTemp(t, "u.json", "{\"id\":\"a\"}\n{\"id\":\"b\"}\n"), KeyPath: "id"})
	recs := readAll(t, j)
	if j.Info().Kind != "jsonl" || len(recs) != 2 || recs[1].Key != "b" || recs[1].Pos.Line != 2 {
		t.Fatalf("kind %q records %+v", j.Info().Kind, recs)
	}
	forced := openJSONT(t, JSONConfig{Path: writeTemp(t, "u.txt", "{\"id\":\"a\"}\n"), Lines: true, KeyPath: "id"})
	if recs := readAll(t, forced); len(recs) != 1 || recs[0].Key != "a" {
		t.Fatalf("forced lines: %+v", recs)
	}
}

// TestJSONSchemaReadsAheadAndReplays: Schema samples the first records
// without losing them: Next hands out the same records, positions and
// errors in order, then the fatal error that stopped the sampling.
func TestJSONSchemaReadsAheadAndReplays(t *testing.T) {
	ctx := context.Background()
	path := writeTemp(t, "users.json", `[{"id":"1","email":"a@b.co"}, 7, {"id":"3","name":{"first":"Ada"}}, {"id": oops}]`)
	j, err := OpenJSON(JSONConfig{Path: path, KeyPath: "id"})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	s, err := j.Schema(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if s.Sampled != 2 || s.All || s.Exact || strings.Join(s.Columns, ",") != "email,id,name" {
		t.Fatalf("schema: %+v", s)
	}
	if c := s.Check("name.first"); !c.Found {
		t.Errorf("name.first: %+v", c)
	}
	if c := s.Check("name.frist"); c.Found || c.Certain || strings.Join(c.Near, ",") != "name.first" {
		t.Errorf("name.frist: %+v", c)
	}
	again, _ := j.Schema(ctx)
	if again != s {
		t.Error("a second Schema read again")
	}
	var got []string
	for {
		rec, err := j.Next(ctx)
		if err != nil {
			if err == io.EOF || !strings.Contains(err.Error(), "record 4") {
				t.Fatalf("after %v: %v, want the syntax error of record 4", got, err)
			}
			break
		}
		got = append(got, fmt.Sprintf("%d:%s:%v", rec.Pos.Index, rec.Key, rec.Err != nil))
	}
	if strings.Join(got, " ") != "1:1:false 2:record:2:true 3:3:false" {
		t.Fatalf("records %v", got)
	}
	if _, err := j.Schema(ctx); err != nil {
		t.Errorf("Schema after reading: %v (it is kept)", err)
	}
}

// TestJSONTextDecodingWouldChange: bytes that are not UTF-8 and lone
// surrogate escapes would reach Clerk as U+FFFD; the record is refused,
// naming the key that holds them, in JSON Lines and in an array alike. A
// U+FFFD the file itself holds, and surrogate pairs, are kept.
func TestJSONTextDecodingWouldChange(t *testing.T) {
	records := []string{
		`{"id":"1","name":"Jos` + "\xe9" + `"}`,
		`{"id":"2","name":"\ud800x"}`,
		`{"id":"3","name":"ok \ud83d\ude00"}`,
		`{"id":"4","name":"its own \ufffd and ` + "\uFFFD" + `"}`,
		`{"id":"5","tags":["a","b` + "\xff" + `"]}`,
		`{"id":"6","meta":{"n` + "\xff" + `me":"x"}}`,
		`{"id":"7","name":"\udc00"}`,
	}
	for i := range records {
		records[i] = strings.NewReplacer(`\xe9`, "\xe9", `\xff`, "\xff").Replace(records[i])
	}
	want := []string{
		`1 "name": holds bytes that are not UTF-8 (0xe9 at byte 4 of the string)`,
		`2 "name": holds \ud800, half of a UTF-16 surrogate pair`,
		`3 ok`,
		`4 ok`,
		`5 "tags[1]": holds bytes that are not UTF-8`,
		`6 "meta": a key holds bytes that are not UTF-8`,
		`7 "name": holds \udc00, half`,
	}
	for name, content := range map[string]string{
		"users.jsonl": strings.Join(records, "\n") + "\n",
		"users.json":  "[" + strings.Join(records, ",\n") + "]",
	} {
		j := openJSONT(t, JSONConfig{Path: writeTemp(t, name, content), KeyPath: "id"})
		recs := readAll(t, j)
		if len(recs) != len(want) {
			t.Fatalf("%s: %d records", name, len(recs))
		}
		for i, r := range recs {
			got := r.Key + " ok"
			var re *RecordError
			if errors.As(r.Err, &re) {
				got = fmt.Sprintf("%s %q: %v", r.Key, re.Field, re.Err)
				if r.Values != nil {
					t.Errorf("%s record %d: values kept beside the error", name, i+1)
				}
			}
			if !strings.HasPrefix(got, want[i]) {
				t.Errorf("%s record %d: %s\nwant %s...", name, i+1, got, want[i])
			}
		}
		if got := lookupString(recs[3].Values, "name"); got != "its own \uFFFD and \uFFFD" {
			t.Errorf("%s: record 4 name %q", name, got)
		}
	}
}

func TestInvalidJSONText(t *testing.T) {
	for _, tc := range []struct{ in, path, why string }{
		{`{"a":"plain","b":[1,"x"]}`, "", ""},
		{`{"a":{"b":["x","y\xff"]}}`, "a.b[1]", "holds bytes that are not UTF-8"},
		{`{"a":"\\ud800"}`, "", ""}, // an escaped backslash, then text
		{`{"a":"\ud800\u0041"}`, "a", `holds \ud800`},
		{`{"a":"\uD83D\uDE00"}`, "", ""},
		{`["\ude00"]`, "[0]", `holds \ude00`},
		{`{"k\xff":1}`, "", "a key holds bytes that are not UTF-8"},
	} {
		in := strings.ReplaceAll(tc.in, `\xff`, "\xff")
		path, why, found := InvalidJSONText([]byte(in))
		if found != (tc.why != "") || path != tc.path || !strings.HasPrefix(why, tc.why) {
			t.Errorf("InvalidJSONText(%q) = %q, %q, %v; want %q, %q...", in, path, why, found, tc.path, tc.why)
		}
	}
}
