package sources

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/sources/pgtest"

	"github.com/gocarina/gocsv"
)

// sharedUser is the canonical layout of the shared adapter test, written as
// CSV (through gocsv), a JSON array, JSON Lines and a Postgres table.
type sharedUser struct {
	ID        string `csv:"id" json:"id"`
	Email     string `csv:"email" json:"email"`
	FirstName string `csv:"first_name" json:"first_name"`
	LastName  string `csv:"last_name" json:"last_name"`
	Phone     string `csv:"phone" json:"phone"` // empty: null in JSON and Postgres
	Logins    int64  `csv:"logins" json:"logins"`
	Verified  bool   `csv:"verified" json:"verified"`
	CreatedAt string `csv:"created_at" json:"created_at"` // RFC 3339, UTC
}

var sharedColumns = []string{"id", "email", "first_name", "last_name", "phone", "logins", "verified", "created_at"}

func sharedUsers() []sharedUser {
	names := [][2]string{
		{"Ann", "Lee"}, {"Zoë", "Ørsted"}, {"José", "Núñez"}, {"李", "小龙"}, {"O'Brien", "Dara"},
		{`Quote "Q"`, "Marks"}, {"Comma, Jr.", "Smith"}, {"Multi\nLine", "Name"}, {"", "NoFirst"},
		{"Emoji 🎉", "Party"}, {"  Spaced  ", "Out"}, {"Semi;colon", "Tab\there"},
	}
	users := make([]sharedUser, len(names))
	for i, n := range names {
		users[i] = sharedUser{
			ID: fmt.Sprintf("user_%02d", i+1), Email: fmt.Sprintf("u%d@example.com", i+1),
			FirstName: n[0], LastName: n[1], Logins: int64(i * 1000003), Verified: i%2 == 0,
			CreatedAt: time.Date(2020, 1, i+1, 12, i, 0, 0, time.UTC).Format(time.RFC3339),
		}
		if i%3 != 0 {
			users[i].Phone = fmt.Sprintf("+1555000%04d", i)
		}
	}
	return users
}

// jsonUser gives the JSON forms: null phone when empty.
func jsonUser(u sharedUser) map[string]any {
	m := map[string]any{"id": u.ID, "email": u.Email, "first_name": u.FirstName, "last_name": u.LastName,
		"phone": nil, "logins": u.Logins, "verified": u.Verified, "created_at": u.CreatedAt}
	if u.Phone != "" {
		m["phone"] = u.Phone
	}
	return m
}

// renderValue is the text the mapping would see for a value.
func renderValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	default:
		return fmt.Sprintf("<%T %v>", v, v)
	}
}

func writeSharedFiles(t *testing.T, users []sharedUser) map[string]Spec {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "users.csv")
	f, err := os.Create(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := gocsv.MarshalFile(&users, f); err != nil {
		t.Fatal(err)
	}
	f.Close()

	var objs []map[string]any
	var lines strings.Builder
	for _, u := range users {
		objs = append(objs, jsonUser(u))
		line, _ := json.Marshal(jsonUser(u))
		lines.Write(line)
		lines.WriteByte('\n')
	}
	array, _ := json.MarshalIndent(map[string]any{"users": objs}, "", "  ")
	jsonPath := filepath.Join(dir, "export.json")
	jsonlPath := filepath.Join(dir, "users.ndjson")
	os.WriteFile(jsonPath, array, 0o600)
	os.WriteFile(jsonlPath, []byte(lines.String()), 0o600)
	return map[string]Spec{
		"csv":   {Location: csvPath, KeyPath: "id"},
		"json":  {Location: jsonPath, KeyPath: "id"},
		"jsonl": {Location: jsonlPath, KeyPath: "id"},
	}
}

func TestEveryAdapterGivesTheSameValues(t *testing.T) {
	users := sharedUsers()
	specs := writeSharedFiles(t, users)
	if pgtest.Configured() {
		pg := newPGTest(t)
		pg.exec(t, `CREATE TABLE $schema.users (id text PRIMARY KEY, email text, first_name text, last_name text,
			phone text, logins bigint, verified boolean, created_at timestamptz)`)
		for _, u := range users {
			var phone any
			if u.Phone != "" {
				phone = u.Phone
			}
			pg.exec(t, `INSERT INTO $schema.users VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`,
				u.ID, u.Email, u.FirstName, u.LastName, phone, u.Logins, u.Verified, u.CreatedAt)
		}
		specs["postgres"] = Spec{Location: pg.connString, Kind: "postgres", Table: pg.schema + ".users", KeyPath: "id", BatchSize: 5}
	}
	for kind, spec := range specs {
		t.Run(kind, func(t *testing.T) {
			src, err := Open(context.Background(), spec)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if got := src.Info().Kind; got != kind {
				t.Errorf("kind %q", got)
			}
			recs := readAll(t, src)
			if len(recs) != len(users) {
				t.Fatalf("got %d records, want %d", len(recs), len(users))
			}
			for i, u := range users {
				r := recs[i]
				if r.Err != nil || r.Key != u.ID || r.Pos.Index != int64(i+1) {
					t.Errorf("record %d: key %q index %d err %v", i+1, r.Key, r.Pos.Index, r.Err)
					continue
				}
				want := []string{u.ID, u.Email, u.FirstName, u.LastName, u.Phone,
					strconv.FormatInt(u.Logins, 10), strconv.FormatBool(u.Verified), u.CreatedAt}
				got := make([]string, len(sharedColumns))
				for c, col := range sharedColumns {
					v, ok := r.Values.Lookup(col)
					if !ok {
						got[c] = "<missing>"
						continue
					}
					got[c] = renderValue(v)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("record %d:\n got  %q\n want %q", i+1, got, want)
				}
			}
		})
	}
}

func TestSpecKind(t *testing.T) {
	tests := []struct {
		spec    Spec
		want    string
		wantErr string
	}{
		{Spec{Location: "users.csv"}, "csv", ""},
		{Spec{Location: "USERS.TSV"}, "tsv", ""},
		{Spec{Location: "export.json"}, "json", ""},
		{Spec{Location: "u.jsonl"}, "jsonl", ""},
		{Spec{Location: "u.ndjson"}, "jsonl", ""},
		{Spec{Location: "postgres://u@h/db"}, "postgres", ""},
		{Spec{Location: "postgresql://u@h/db"}, "postgres", ""},
		{Spec{Kind: "pg"}, "postgres", ""},
		{Spec{Kind: "CSV", Location: "data.txt"}, "csv", ""},
		{Spec{Location: "data.txt"}, "", "cannot tell its kind"},
		{Spec{Kind: "xml"}, "", `source kind "xml"`},
	}
	for _, tt := range tests {
		got, err := specKind(tt.spec)
		if got != tt.want || (err == nil) != (tt.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("specKind(%+v) = %q, %v; want %q, %q", tt.spec, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestOpenTSVAndFailures(t *testing.T) {
	path := writeTemp(t, "u.tsv", "id\temail\n1\ta@x.io\n")
	src, err := Open(context.Background(), Spec{Location: path, KeyPath: "id"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if recs := readAll(t, src); len(recs) != 1 || lookupString(recs[0].Values, "email") != "a@x.io" {
		t.Fatalf("tsv records %+v", recs)
	}
	for _, spec := range []Spec{{Location: "/nonexistent/u.csv"}, {Location: "/nonexistent/u.json"}, {Kind: "postgres", Location: "postgres://u@127.0.0.1:1/db", Query: "SELECT 1"}} {
		src, err := Open(context.Background(), spec)
		if err == nil || src != nil {
			t.Errorf("Open(%+v) = %v, %v; want a nil Source and an error", spec, src, err)
		}
	}
}
