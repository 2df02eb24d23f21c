package sources

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/sources/pgtest"

	"github.com/jackc/pgx/v5"
)

// pgTest is a connection to the test server and a schema of its own.
type pgTest struct {
	connString string
	conn       *pgx.Conn
	schema     string
}

// newPGTest connects to CLERKMIGRATE_TEST_PG and creates a uniquely named
// schema, dropped at the end. Without the variable the test is skipped,
// unless CI=true, where it fails.
func newPGTest(t testing.TB) *pgTest {
	t.Helper()
	connString := pgtest.ConnString(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, connString)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "cm_sources_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	})
	return &pgTest{connString: connString, conn: conn, schema: schema}
}

func (p *pgTest) exec(t testing.TB, sql string, args ...any) {
	t.Helper()
	sql = strings.ReplaceAll(sql, "$schema", p.schema)
	if _, err := p.conn.Exec(context.Background(), sql, args...); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func (p *pgTest) open(t testing.TB, cfg PostgresConfig) *Postgres {
	t.Helper()
	cfg.ConnString = p.connString
	cfg.Table = strings.ReplaceAll(cfg.Table, "$schema", p.schema)
	cfg.Query = strings.ReplaceAll(cfg.Query, "$schema", p.schema)
	src, err := OpenPostgres(context.Background(), cfg)
	if err != nil {
		t.Fatalf("OpenPostgres: %v", err)
	}
	t.Cleanup(func() { src.Close() })
	return src
}

func keysOf(recs []Record) []string {
	var keys []string
	for _, r := range recs {
		keys = append(keys, r.Key)
	}
	return keys
}

func TestPostgresTypes(t *testing.T) {
	pg := newPGTest(t)
	pg.exec(t, `CREATE TABLE $schema.users (
		id bigint PRIMARY KEY, uid uuid, email text, roles text[], meta jsonb, raw json,
		secret bytea, balance numeric, created timestamptz, small int2, mid int4, ratio real,
		born date, nothing text, empty_roles text[])`)
	pg.exec(t, `INSERT INTO $schema.users VALUES
		(1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'zoë@example.com', '{admin,"with space"}',
		 '{"plan": {"tier": 2}, "big": 12345678901234567890, "tags": ["x"]}', '[1, "two"]',
		 '\xdeadbeef', 12345678901234567890.0100, '2024-03-04 05:06:07.123456+00', 7, 70000, 0.5,
		 '1990-12-31', NULL, '{}')`)
	src := pg.open(t, PostgresConfig{Table: "$schema.users", KeyColumn: "id"})
	recs := readAll(t, src)
	if len(recs) != 1 || recs[0].Key != "1" || recs[0].Pos != (Position{Index: 1, Offset: -1}) {
		t.Fatalf("records %+v", recs)
	}
	v := recs[0].Values
	created := time.Date(2024, 3, 4, 5, 6, 7, 123456000, time.UTC)
	tests := []struct {
		path string
		want any
	}{
		{"id", int64(1)},
		{"uid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
		{"email", "zoë@example.com"},
		{"roles", []any{"admin", "with space"}},
		{"roles[1]", "with space"},
		{"meta.plan.tier", json.Number("2")},
		{"meta.big", json.Number("12345678901234567890")},
		{"meta.tags[0]", "x"},
		{"raw", []any{json.Number("1"), "two"}},
		{"raw[1]", "two"},
		{"secret", "deadbeef"},
		{"balance", "12345678901234567890.0100"},
		{"small", int64(7)},
		{"mid", int64(70000)},
		{"ratio", float64(0.5)},
		{"nothing", nil},
		{"empty_roles", []any{}},
	}
	for _, tt := range tests {
		got, ok := v.Lookup(tt.path)
		if !ok || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Lookup(%q) = %#v, %v; want %#v", tt.path, got, ok, tt.want)
		}
	}
	if got, _ := v.Lookup("created"); !created.Equal(got.(time.Time)) {
		t.Errorf("created = %v", got)
	}
	if got, _ := v.Lookup("born"); got.(time.Time).Format("2006-01-02") != "1990-12-31" {
		t.Errorf("born = %v", got)
	}
	for _, path := range []string{"nope", "meta.nope", "email.x", "roles[5]"} {
		if _, ok := v.Lookup(path); ok {
			t.Errorf("Lookup(%q) found something", path)
		}
	}
	b64 := readAll(t, pg.open(t, PostgresConfig{Table: "$schema.users", KeyColumn: "id", BytesEncoding: "base64"}))
	if got, _ := b64[0].Values.Lookup("secret"); got != "3q2+7w==" {
		t.Errorf("base64 bytea = %v", got)
	}
}

func TestPostgresKeysetAcrossBatchesAndSince(t *testing.T) {
	pg := newPGTest(t)
	pg.exec(t, `CREATE TABLE $schema.users (id text PRIMARY KEY, email text, updated_at timestamptz NOT NULL)`)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	pg.exec(t, `INSERT INTO $schema.users
		SELECT 'u' || lpad(n::text, 3, '0'), 'u' || n || '@example.com', $1::timestamptz + n * interval '1 hour'
		FROM generate_series(25, 1, -1) AS n`, base)
	var want []string
	for n := 1; n <= 25; n++ {
		want = append(want, fmt.Sprintf("u%03d", n))
	}
	for _, batch := range []int{1, 4, 5, 25, 1000} {
		src := pg.open(t, PostgresConfig{Table: "$schema.users", KeyColumn: "id", UpdatedAtColumn: "updated_at", BatchSize: batch})
		recs := readAll(t, src)
		if got := keysOf(recs); !reflect.DeepEqual(got, want) {
			t.Fatalf("batch %d: keys %v", batch, got)
		}
		for i, r := range recs {
			if r.Pos.Index != int64(i+1) {
				t.Fatalf("batch %d: record %d has index %d", batch, i, r.Pos.Index)
			}
		}
		if hw := src.HighWater(); !hw.Equal(base.Add(25 * time.Hour)) {
			t.Errorf("batch %d: high water %v", batch, hw)
		}
	}
	since := base.Add(20 * time.Hour)
	src := pg.open(t, PostgresConfig{Table: "$schema.users", KeyColumn: "id", UpdatedAtColumn: "updated_at", Since: since, BatchSize: 2})
	if got := keysOf(readAll(t, src)); !reflect.DeepEqual(got, want[20:]) {
		t.Fatalf("since: keys %v, want %v", got, want[20:])
	}
	none := pg.open(t, PostgresConfig{Table: "$schema.users", KeyColumn: "id", UpdatedAtColumn: "updated_at", Since: base.Add(99 * time.Hour)})
	if recs := readAll(t, none); len(recs) != 0 || !none.HighWater().Equal(base.Add(99*time.Hour)) {
		t.Fatalf("nothing newer: %d records, high water %v", len(recs), none.HighWater())
	}
}

func TestPostgresQuerySource(t *testing.T) {
	pg := newPGTest(t)
	pg.exec(t, `CREATE TABLE $schema.users (id int PRIMARY KEY, email text, updated_at timestamptz NOT NULL)`)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	pg.exec(t, `INSERT INTO $schema.users SELECT n, 'u' || n || '@example.com', $1::timestamptz + n * interval '1 day'
		FROM generate_series(1, 10) AS n`, base)
	src := pg.open(t, PostgresConfig{
		Query:     "SELECT id AS user_id, lower(email) AS email, updated_at FROM $schema.users WHERE id % 2 = 0 ORDER BY id DESC;",
		KeyColumn: "user_id", UpdatedAtColumn: "updated_at", Since: base.Add(3 * 24 * time.Hour), BatchSize: 2,
	})
	recs := readAll(t, src)
	if got := keysOf(recs); !reflect.DeepEqual(got, []string{"10", "8", "6", "4"}) {
		t.Fatalf("keys %v", got)
	}
	if got := lookupString(recs[0].Values, "email"); got != "u10@example.com" {
		t.Errorf("email %q", got)
	}
	if !src.HighWater().Equal(base.Add(10 * 24 * time.Hour)) {
		t.Errorf("high water %v", src.HighWater())
	}
	if src.Info().Kind != "postgres" || !strings.Contains(src.Info().Name, "(query)") {
		t.Errorf("info %+v", src.Info())
	}
}

func TestPostgresSnapshotHidesConcurrentWrites(t *testing.T) {
	pg := newPGTest(t)
	pg.exec(t, `CREATE TABLE $schema.users (id int PRIMARY KEY, email text)`)
	pg.exec(t, `INSERT INTO $schema.users SELECT n, 'u' || n FROM generate_series(1, 6) AS n`)
	src := pg.open(t, PostgresConfig{Table: "$schema.users", KeyColumn: "id", BatchSize: 2})
	first, err := src.Next(context.Background())
	if err != nil || first.Key != "1" {
		t.Fatalf("first: %+v %v", first, err)
	}
	// Another connection commits a new row after the snapshot and changes one.
	pg.exec(t, `INSERT INTO $schema.users VALUES (100, 'late')`)
	pg.exec(t, `UPDATE $schema.users SET email = 'changed' WHERE id = 5`)
	rest := readAll(t, src)
	if got := keysOf(rest); !reflect.DeepEqual(got, []string{"2", "3", "4", "5", "6"}) {
		t.Fatalf("keys after the concurrent insert: %v", got)
	}
	if got := lookupString(rest[3].Values, "email"); got != "u5" {
		t.Fatalf("row 5 email %q: the update leaked into the snapshot", got)
	}
}

func TestPostgresTerminatedBackend(t *testing.T) {
	pg := newPGTest(t)
	pg.exec(t, `CREATE TABLE $schema.users (id int PRIMARY KEY)`)
	pg.exec(t, `INSERT INTO $schema.users SELECT generate_series(1, 10)`)
	src := pg.open(t, PostgresConfig{Table: "$schema.users", KeyColumn: "id", BatchSize: 3})
	for i := 0; i < 3; i++ {
		if _, err := src.Next(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	pg.exec(t, "SELECT pg_terminate_backend($1)", src.conn.PgConn().PID())
	_, err := src.Next(context.Background())
	if err == nil || err == io.EOF || !strings.Contains(err.Error(), `reading after record 3 (key "3")`) {
		t.Fatalf("err = %v", err)
	}
	if _, again := src.Next(context.Background()); again != err {
		t.Fatalf("second Next = %v", again)
	}
}

func TestPostgresOpenErrorsAndInfo(t *testing.T) {
	pg := newPGTest(t)
	pg.exec(t, `CREATE TABLE $schema."we""ird" (id int PRIMARY KEY, updated_at timestamptz)`)
	pg.exec(t, `INSERT INTO $schema."we""ird" VALUES (1, now())`)
	// A table name needing quotes is read safely.
	odd := pg.open(t, PostgresConfig{Table: pg.schema + `.we"ird`, KeyColumn: "id"})
	if got := keysOf(readAll(t, odd)); !reflect.DeepEqual(got, []string{"1"}) {
		t.Fatalf("odd table: %v", got)
	}
	tests := []struct {
		name    string
		cfg     PostgresConfig
		wantErr string
	}{
		{"no table nor query", PostgresConfig{}, "exactly one of a table and a query"},
		{"both", PostgresConfig{Table: "t", Query: "SELECT 1"}, "exactly one of a table and a query"},
		{"table without key", PostgresConfig{Table: "t"}, "needs its key column"},
		{"since without column", PostgresConfig{Table: "t", KeyColumn: "id", Since: time.Now()}, "needs the updated-at column"},
		{"bad bytes encoding", PostgresConfig{Table: "t", KeyColumn: "id", BytesEncoding: "b32"}, `bytes encoding "b32"`},
		{"missing table", PostgresConfig{Table: pg.schema + ".absent", KeyColumn: "id"}, "does not exist"},
		{"missing key column", PostgresConfig{Table: pg.schema + `.we"ird`, KeyColumn: "user_id"}, `column "user_id" does not exist`},
		{"query without key column", PostgresConfig{Query: "SELECT 1 AS id", KeyColumn: "user_id"}, `key column "user_id" is not in the result (columns: id)`},
		{"query without updated-at", PostgresConfig{Query: "SELECT 1 AS id", UpdatedAtColumn: "changed"}, `updated-at column "changed" is not in the result`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.ConnString = pg.connString
			_, err := OpenPostgres(context.Background(), tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	// Trust auth accepts any password: it must not show in Info.
	withPassword := strings.Replace(pg.connString, "postgres@", "postgres:s3cr3t-pw@", 1)
	if withPassword == pg.connString {
		t.Skip("connection string has no user@ part to add a password to")
	}
	src, err := OpenPostgres(context.Background(), PostgresConfig{ConnString: withPassword, Query: "SELECT 1 AS id"})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	if info := fmt.Sprintf("%+v", src.Info()); strings.Contains(info, "s3cr3t") || !strings.Contains(info, "postgres@") {
		t.Fatalf("info %s", info)
	}
	if _, err := OpenPostgres(context.Background(), PostgresConfig{ConnString: "postgres://u:s3cr3t@[bad", Query: "SELECT 1"}); err == nil || strings.Contains(err.Error(), "s3cr3t") {
		t.Fatalf("bad conn string err = %v", err)
	}
	other, err := OpenPostgres(context.Background(), PostgresConfig{ConnString: pg.connString, Query: "SELECT 2 AS id"})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if other.Info().Fingerprint == src.Info().Fingerprint {
		t.Fatal("different queries share a fingerprint")
	}
}

// TestPostgresInfoCountsTheRowsOfItsSnapshot: Info().Rows is count(*) of
// the read in the snapshot the rows are read from (a row committed after
// the open is in neither), with --since and for a query too; a count that
// takes too long gives way to the planner's estimate, and the read goes on.
func TestPostgresInfoCountsTheRowsOfItsSnapshot(t *testing.T) {
	pg := newPGTest(t)
	pg.exec(t, `CREATE TABLE $schema.users (id int PRIMARY KEY, updated_at timestamptz NOT NULL)`)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	pg.exec(t, `INSERT INTO $schema.users SELECT n, $1::timestamptz + n * interval '1 hour' FROM generate_series(1, 25) AS n`, base)
	since := base.Add(20 * time.Hour)
	tests := []struct {
		name string
		cfg  PostgresConfig
		want int64
	}{
		{"table", PostgresConfig{Table: "$schema.users", KeyColumn: "id", BatchSize: 4}, 25},
		{"table since", PostgresConfig{Table: "$schema.users", KeyColumn: "id", UpdatedAtColumn: "updated_at", Since: since}, 5},
		{"query", PostgresConfig{Query: "SELECT * FROM $schema.users WHERE id % 2 = 0 ORDER BY id;", KeyColumn: "id"}, 12},
		{"query since", PostgresConfig{Query: "SELECT * FROM $schema.users WHERE id % 2 = 0", KeyColumn: "id",
			UpdatedAtColumn: "updated_at", Since: since}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := pg.open(t, tt.cfg)
			pg.exec(t, `INSERT INTO $schema.users VALUES (26, $1)`, base.Add(99*time.Hour)) // after the snapshot
			defer pg.exec(t, `DELETE FROM $schema.users WHERE id = 26`)
			if got := src.Info().Rows; got != tt.want {
				t.Errorf("Info().Rows = %d, want %d", got, tt.want)
			}
			if got := int64(len(readAll(t, src))); got != src.Info().Rows {
				t.Errorf("the source read %d rows, its Info().Rows said %d", got, src.Info().Rows)
			}
		})
	}

	t.Run("slow count", func(t *testing.T) {
		defer func(d time.Duration) { countTimeout = d }(countTimeout)
		countTimeout = time.Millisecond
		src := pg.open(t, PostgresConfig{Query: "SELECT id, pg_sleep(0.002) AS nap FROM $schema.users WHERE id <= 25", KeyColumn: "id"})
		if got := src.Info().Rows; got <= 0 || got == 25 {
			t.Errorf("Info().Rows = %d, want the planner's estimate (positive, and not the count)", got)
		}
		if got := len(readAll(t, src)); got != 25 {
			t.Errorf("after the count gave way the source read %d rows, want 25", got)
		}
	})
}
