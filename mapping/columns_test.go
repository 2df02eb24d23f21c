package mapping

import (
	"context"
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/sources"
	"github.com/clerkmigrate/clerkmigrate/sources/pgtest"
)

// checkAgainst opens a real source and checks the mapping against its
// schema, the way the CLI does before the first row.
func checkAgainst(t *testing.T, spec sources.Spec, mappingText string) (refused, warnings LoadErrors) {
	t.Helper()
	m, err := Parse([]byte(mappingText))
	if err != nil {
		t.Fatal(err)
	}
	spec.KeyPath = m.Key()
	src, err := sources.Open(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	s, err := sources.SchemaOf(context.Background(), src)
	if err != nil {
		t.Fatal(err)
	}
	return m.CheckSource(s)
}

func wantMessages(t *testing.T, what string, got LoadErrors, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s: %d messages, want %d:\n%v", what, len(got), len(want), got)
		return
	}
	for i, w := range want {
		if !strings.Contains(got[i].Error(), w) {
			t.Errorf("%s #%d: %q lacks %q", what, i, got[i].Error(), w)
		}
	}
}

func TestCheckSource(t *testing.T) {
	const header = "version: 1\nkey: id\nfields:\n"
	jsonl := func(objs ...string) string { return strings.Join(objs, "\n") + "\n" }
	cases := []struct {
		name, file, content, fields string
		refused, warnings           []string
	}{
		{name: "csv: every column there", file: "u.csv", content: "id,email,first_name\n1,a@b.co,A\n",
			fields: "  email_address: { from: email, verified: true }\n  first_name: first_name\n"},
		{name: "csv: a slip gets its column", file: "u.csv", content: "id,email,first_name\n1,a@b.co,A\n",
			fields:  "  email_address: { from: emial, verified: true }\n  first_name: { from: firstName }\n",
			refused: []string{`mapping:4: email_address: from "emial": the CSV header has no such column; did you mean "email"?`, `mapping:5: first_name: from "firstName": the CSV header has no such column; did you mean "first_name"?`}},
		{name: "csv: no close column lists them", file: "u.csv", content: "id,email,first_name\n1,a@b.co,A\n",
			fields:  "  email_address: { from: email, verified: true }\n  last_name: surname\n",
			refused: []string{`last_name: from "surname": the CSV header has no such column (it has id, email, first_name)`}},
		{name: "csv: a JSON path is not a column", file: "u.csv", content: "id,meta\n1,{}\n",
			fields:  "  first_name: meta.first_name\n",
			refused: []string{`from "meta.first_name": the CSV header has no such column`}},
		{name: "csv: template, when and object parts are checked too", file: "u.csv",
			content: "id,phone,plan,hash\n1,1,pro,x\n",
			fields: "  phone_number: { template: \"+{phnoe}\", verified: true }\n  private_metadata: { from: { plan: plna } }\n" +
				"  password_digest: { from: hash, when: hsah }\n  password_hasher: { value: bcrypt }\n",
			refused: []string{`phone_number: template {phnoe}: the CSV header has no such column; did you mean "phone"?`,
				`private_metadata: from {plan: "plna"}: the CSV header has no such column; did you mean "plan"?`,
				`password_digest: when "hsah": the CSV header has no such column; did you mean "hash"?`}},

		{name: "csv: the verified flag and list are checked too", file: "u.csv",
			content: "id,email,email_verified,phone,verified_phones\n1,a@b.co,true,+14155550134,\n",
			fields: "  email_address: { from: email, verified: { from: emailverified } }\n" +
				"  phone_number: { from: phone, verified: { in: [verified_phone] } }\n",
			refused: []string{`email_address: verified from "emailverified": the CSV header has no such column; did you mean "email_verified"?`,
				`phone_number: verified in "verified_phone": the CSV header has no such column; did you mean "verified_phones"?`}},

		{name: "json: a slip beside the key it means is refused", file: "u.jsonl",
			content: jsonl(`{"id":"1","first_name":"Ada"}`, `{"id":"2"}`),
			fields:  "  first_name: firstname\n",
			refused: []string{`first_name: from "firstname": none of the 2 records has it, and they have "first_name": did you mean "first_name"?`}},
		{name: "json: a nested slip", file: "u.json",
			content: `[{"id":"1","profile":{"first_name":"Ada","age":3}}]`,
			fields:  "  first_name: profile.frist_name\n",
			refused: []string{`from "profile.frist_name": none of the only record has it, and they have "profile.first_name"`}},
		{name: "json: a key only some records have is fine", file: "u.jsonl",
			content: jsonl(`{"id":"1"}`, `{"id":"2","phone":"+14155550134"}`),
			fields:  "  phone_number: { from: phone, verified: true }\n"},
		{name: "json: a key no record has, nothing like it: a warning", file: "u.jsonl",
			content:  jsonl(`{"id":"1","email":"a@b.co"}`, `{"id":"2"}`),
			fields:   "  email_address: { from: email, verified: true }\n  phone_number: { from: phone, verified: true }\n  private_metadata: { from: { plan: plan } }\n",
			warnings: []string{`mapping:5: phone_number: from "phone": none of the 2 records has it: phone_number is left out of every request`, `private_metadata.plan is left out of every request`}},
		{name: "json: two spellings of one field are not a slip", file: "u.jsonl",
			content:  jsonl(`{"id":"1","given_name":"Ada"}`),
			fields:   "  first_name: { from: [given_name, givenName] }\n",
			warnings: []string{`from "givenName": none of the only record has it`}},
		{name: "json: the key is never optional", file: "u.jsonl",
			content:  jsonl(`{"user_id":"1"}`),
			fields:   "  first_name: first_name\n",
			refused:  []string{`mapping:2: key: key "id": none of the only record has it; every user needs it`},
			warnings: []string{`first_name: from "first_name": none of the only record has it`}},
		{name: "json: a top-level key holding dots", file: "u.jsonl",
			content: jsonl(`{"id":"1","user.name":"ada"}`),
			fields:  "  username: user.name\n"},
		{name: "json: an array index past a short list is no slip", file: "u.jsonl",
			content:  jsonl(`{"id":"1","identities":[]}`),
			fields:   "  first_name: identities[0].name\n",
			warnings: []string{`from "identities[0].name": none of the only record has it`}},
		{name: "json: no record at all checks nothing", file: "u.json", content: `[]`,
			fields: "  first_name: firstname\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), tc.file)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			refused, warnings := checkAgainst(t, sources.Spec{Location: path}, header+tc.fields)
			wantMessages(t, "refused", refused, tc.refused)
			wantMessages(t, "warnings", warnings, tc.warnings)
		})
	}
}

// TestCheckSourceJSONSample: a key that first appears after the first
// sources.JSONSampleRecords records is not refused (it may be optional) but
// warned about as unseen, and every record is still read once, in order.
func TestCheckSourceJSONSample(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= sources.JSONSampleRecords+1; i++ {
		if i == sources.JSONSampleRecords+1 {
			fmt.Fprintf(&b, "{\"id\":\"%d\",\"late_key\":\"x\"}\n", i)
			continue
		}
		fmt.Fprintf(&b, "{\"id\":\"%d\"}\n", i)
	}
	path := filepath.Join(t.TempDir(), "u.jsonl")
	os.WriteFile(path, []byte(b.String()), 0o600)
	m, err := Parse([]byte("version: 1\nkey: id\nfields:\n  first_name: late_key\n"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	src, err := sources.Open(ctx, sources.Spec{Location: path, KeyPath: "id"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	s, _ := sources.SchemaOf(ctx, src)
	refused, warnings := m.CheckSource(s)
	wantMessages(t, "refused", refused, nil)
	wantMessages(t, "warnings", warnings, []string{`none of the first 1000 records has it; it is read where later records have it`})
	for i := 1; ; i++ {
		rec, err := src.Next(ctx)
		if err != nil {
			if i != sources.JSONSampleRecords+2 {
				t.Fatalf("record %d: %v", i, err)
			}
			break
		}
		if rec.Key != fmt.Sprint(i) || rec.Pos.Index != int64(i) || rec.Pos.Line != int64(i) {
			t.Fatalf("record %d: key %q at %+v", i, rec.Key, rec.Pos)
		}
		if p, _ := m.Map(rec); i == sources.JSONSampleRecords+1 && (p == nil || p.FirstName != request.Value("x")) {
			t.Fatalf("the late record's first_name: %+v", p)
		}
	}
}

// TestCheckSourcePostgres: a table's and a query's columns are exact (also
// with no row); paths into a json column are checked in the first batch.
func TestCheckSourcePostgres(t *testing.T) {
	db := pgtest.Database(t, "cm_mapcols",
		`CREATE TABLE users (id text PRIMARY KEY, email text, first_name text, meta jsonb)`,
		`INSERT INTO users VALUES ('1', 'a@b.co', 'Ada', '{"full_name": "Ada Lovelace", "plan": "pro"}'), ('2', 'c@d.co', 'Alan', '{}')`)
	const head = "version: 1\nkey: id\nfields:\n"
	for _, tc := range []struct {
		name, table, query, fields string
		refused, warnings          []string
	}{
		{name: "table: all there", table: "users", fields: "  email_address: { from: email, verified: true }\n  first_name: meta.full_name\n"},
		{name: "table: a slip", table: "users", fields: "  first_name: firstname\n",
			refused: []string{`first_name: from "firstname": table users has no such column; did you mean "first_name"?`}},
		{name: "query: a slip, no row", query: "SELECT * FROM users WHERE false", fields: "  first_name: firstname\n  last_name: meta.whatever\n",
			refused: []string{`first_name: from "firstname": the query's result has no such column; did you mean "first_name"?`}},
		{name: "query: a slip inside the json column", query: "SELECT * FROM users ORDER BY id", fields: "  first_name: meta.fullname\n",
			refused: []string{`first_name: from "meta.fullname": none of the 2 rows has it, and they have "meta.full_name"`}},
		{name: "query: a json key no row has", query: "SELECT * FROM users ORDER BY id", fields: "  last_name: meta.surname\n",
			warnings: []string{`last_name: from "meta.surname": none of the 2 rows has it: last_name is left out of every request`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			refused, warnings := checkAgainst(t, sources.Spec{Kind: "postgres", Location: db, Table: tc.table, Query: tc.query}, head+tc.fields)
			wantMessages(t, "refused", refused, tc.refused)
			wantMessages(t, "warnings", warnings, tc.warnings)
		})
	}
}

func TestNameDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"firstname", "first_name", 0}, {"FirstName", "first_name", 0}, {"emial", "email", 1},
		{"lastnam", "last_name", 1}, {"fname", "first_name", -1}, {"phone", "email", -1},
		{"createdAt", "created_at", 0}, {"id", "ip", 1}, {"passwordHsh", "password_hash", 1},
	} {
		if got := nameDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("nameDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
