package sources

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/sources/pgtest"
)

// flatten renders records for comparison: position, key, error and every
// shared column's value.
func flatten(recs []Record) []string {
	var out []string
	for _, r := range recs {
		s := fmt.Sprintf("%d/%d/%d %q err=%v", r.Pos.Index, r.Pos.Line, r.Pos.Offset, r.Key, r.Err)
		for _, col := range sharedColumns {
			if r.Values == nil {
				break
			}
			v, _ := r.Values.Lookup(col)
			s += " " + renderValue(v)
		}
		out = append(out, s)
	}
	return out
}

// TestEveryAdapterRewinds: a source rewound after part of a pass (and,
// for JSON, after its Schema read ahead) yields exactly what a fresh one
// does; Postgres yields its snapshot again, not rows committed since.
func TestEveryAdapterRewinds(t *testing.T) {
	users := sharedUsers()
	specs := writeSharedFiles(t, users)
	var pg *pgTest
	if pgtest.Configured() {
		pg = newPGTest(t)
		pg.exec(t, `CREATE TABLE $schema.users (id text PRIMARY KEY, email text, first_name text, last_name text,
			phone text, logins bigint, verified boolean, created_at timestamptz)`)
		for _, u := range users {
			pg.exec(t, `INSERT INTO $schema.users (id, email, first_name, last_name, logins, verified, created_at)
				VALUES ($1,$2,$3,$4,$5,$6,$7)`, u.ID, u.Email, u.FirstName, u.LastName, u.Logins, u.Verified, u.CreatedAt)
		}
		specs["postgres table"] = Spec{Location: pg.connString, Kind: "postgres", Table: pg.schema + ".users", KeyPath: "id", BatchSize: 5}
		specs["postgres query"] = Spec{Location: pg.connString, Kind: "postgres", KeyPath: "id", BatchSize: 5,
			Query: "SELECT * FROM " + pg.schema + ".users ORDER BY id"}
	}
	ctx := context.Background()
	for name, spec := range specs {
		t.Run(name, func(t *testing.T) {
			fresh, err := Open(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			want := flatten(readAll(t, fresh))
			fresh.Close()

			src, err := Open(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			if _, err := SchemaOf(ctx, src); err != nil {
				t.Fatal(err)
			}
			for range len(users) / 2 {
				if _, err := src.Next(ctx); err != nil {
					t.Fatal(err)
				}
			}
			if pg != nil && spec.Kind == "postgres" {
				pg.exec(t, `INSERT INTO $schema.users (id, email) VALUES ($1, $2) ON CONFLICT DO NOTHING`, "user_00", "new@example.com")
			}
			for pass := 1; pass <= 2; pass++ {
				if err := src.(Rewinder).Rewind(ctx); err != nil {
					t.Fatal(err)
				}
				if got := flatten(readAll(t, src)); !reflect.DeepEqual(got, want) {
					t.Errorf("pass %d after Rewind:\n got  %q\n want %q", pass, got, want)
				}
			}
		})
	}
}
