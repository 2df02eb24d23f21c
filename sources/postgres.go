package sources

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql/driver"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
)

// PostgresConfig says what to read from a Postgres database.
type PostgresConfig struct {
	// ConnString is a libpq URL or keyword string; empty: the PG* environment
	// variables (PGHOST, PGUSER, ...).
	ConnString string
	// Table is read whole, in KeyColumn order ("users" or "auth.users").
	// Exactly one of Table and Query is set.
	Table string
	// Query is any SELECT; it is read through a server-side cursor in the
	// order it gives (add an ORDER BY for stable record indexes).
	Query string
	// KeyColumn holds the legacy user id. Required with Table (it drives the
	// keyset pagination and must be unique); optional with Query.
	KeyColumn string
	// UpdatedAtColumn holds each row's last-change time; with Since it
	// selects only rows changed after Since, and HighWater reports its max.
	UpdatedAtColumn string
	// Since selects rows whose UpdatedAtColumn is after it; zero: all rows.
	Since time.Time
	// BatchSize is the rows fetched per round trip; 0 means 1000.
	BatchSize int
	// BytesEncoding renders bytea: "hex" (default) or "base64".
	BytesEncoding string
}

// Postgres streams rows of a table or query from ONE read-only, repeatable
// read transaction, so that a live database gives one consistent snapshot:
// rows inserted or changed by others while the import runs are not seen.
//
// Values by column name, converted: int2/int4/int8 → int64, float4/8 →
// float64, numeric → string (exact digits), timestamptz/timestamp/date →
// time.Time, json/jsonb → map[string]any / []any with json.Number numbers,
// arrays → []any, uuid → canonical string, bytea → hex or base64 string,
// text and friends → string, NULL → nil. Lookup also walks into json columns:
// "raw_app_meta_data.roles[0]".
type Postgres struct {
	cfg   PostgresConfig
	conn  *pgx.Conn
	tx    pgx.Tx
	info  Info
	table string // quoted
	query string // the SQL of a batch (table) or of FETCH (cursor)

	cols    *pgColumns
	batch   [][]any
	pos     int
	drained bool // the last batch was short: nothing after it

	lastKey     any    // the raw key of the last row, for the keyset
	lastKeyText string // the same, for errors
	index       int64
	high        time.Time
	fatal       error
}

// pgColumns are a result's column names, shared by every row.
type pgColumns struct {
	names  []string
	index  map[string]int
	keyIdx int // -1 without a key column
	updIdx int // -1 without an updated-at column
}

// pgRow is the Values of one row.
type pgRow struct {
	cols *pgColumns
	vals []any
}

// Lookup returns the named column's value, or walks into a json column:
// "meta.roles", "identities[0].provider".
func (r *pgRow) Lookup(path string) (Value, bool) {
	if i, ok := r.cols.index[path]; ok {
		return r.vals[i], true
	}
	cut := strings.IndexAny(path, ".[")
	if cut <= 0 {
		return nil, false
	}
	i, ok := r.cols.index[path[:cut]]
	if !ok {
		return nil, false
	}
	return walkPath(r.vals[i], path[cut:], false)
}

const (
	defaultPGBatchSize = 1000
	pgCursorName       = "clerkmigrate_source"
)

// OpenPostgres connects, begins the snapshot transaction and fetches the
// first batch, so that a missing table or column is an error here.
func OpenPostgres(ctx context.Context, cfg PostgresConfig) (*Postgres, error) {
	if err := checkPostgresConfig(&cfg); err != nil {
		return nil, err
	}
	connCfg, err := pgx.ParseConfig(cfg.ConnString)
	if err != nil {
		return nil, fmt.Errorf("postgres: connection string: %w", redactConnErr(err))
	}
	p := &Postgres{cfg: cfg, high: cfg.Since}
	p.info = Info{Kind: "postgres", Name: describeConn(connCfg, cfg), Fingerprint: postgresFingerprint(connCfg, cfg)}
	p.conn, err = pgx.ConnectConfig(ctx, connCfg)
	if err != nil {
		return nil, fmt.Errorf("postgres %s: connect: %w", p.info.Name, redactConnErr(err))
	}
	registerJSONWithNumbers(p.conn.TypeMap())
	if err := p.begin(ctx); err != nil {
		p.Close()
		return nil, fmt.Errorf("postgres %s: %w", p.info.Name, err)
	}
	return p, nil
}

func checkPostgresConfig(cfg *PostgresConfig) error {
	if (cfg.Table == "") == (cfg.Query == "") {
		return errors.New("postgres: set exactly one of a table and a query")
	}
	if cfg.Table != "" && cfg.KeyColumn == "" {
		return errors.New("postgres: reading a table needs its key column (unique; it orders the rows)")
	}
	if !cfg.Since.IsZero() && cfg.UpdatedAtColumn == "" {
		return errors.New("postgres: since needs the updated-at column")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = defaultPGBatchSize
	}
	switch cfg.BytesEncoding {
	case "":
		cfg.BytesEncoding = "hex"
	case "hex", "base64":
	default:
		return fmt.Errorf("postgres: bytes encoding %q: want hex or base64", cfg.BytesEncoding)
	}
	return nil
}

// begin starts the snapshot, counts its rows and, for a query, declares its
// cursor.
func (p *Postgres) begin(ctx context.Context) error {
	tx, err := p.conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	p.tx = tx
	if p.cfg.Table != "" {
		p.table = tableIdentifier(p.cfg.Table).Sanitize()
	}
	p.info.Rows = p.countRows(ctx)
	if p.cfg.Table == "" {
		if err := p.declareCursor(ctx); err != nil {
			return err
		}
	}
	if err := p.fetch(ctx); err != nil {
		return err
	}
	return p.checkColumns()
}

// tableIdentifier splits "schema.table" into an identifier; a name holding
// a dot of its own can be given quoted: `"odd.name"`.
func tableIdentifier(name string) pgx.Identifier {
	if strings.HasPrefix(name, `"`) && strings.HasSuffix(name, `"`) && len(name) > 1 {
		return pgx.Identifier{strings.ReplaceAll(name[1:len(name)-1], `""`, `"`)}
	}
	return pgx.Identifier(strings.Split(name, "."))
}

// readSQL is the whole read as one query: the query (or the table) with
// the since filter.
func (p *Postgres) readSQL() (string, []any) {
	if p.cfg.Table != "" {
		if p.cfg.Since.IsZero() {
			return "SELECT * FROM " + p.table, nil
		}
		return fmt.Sprintf("SELECT * FROM %s WHERE %s > $1", p.table, pgx.Identifier{p.cfg.UpdatedAtColumn}.Sanitize()),
			[]any{p.cfg.Since}
	}
	query := strings.TrimRight(strings.TrimSpace(p.cfg.Query), ";")
	if p.cfg.Since.IsZero() {
		return query, nil
	}
	return fmt.Sprintf("SELECT * FROM (%s) AS clerkmigrate_q WHERE clerkmigrate_q.%s > $1",
		query, pgx.Identifier{p.cfg.UpdatedAtColumn}.Sanitize()), []any{p.cfg.Since}
}

// countTimeout caps the count of a source's rows (see countRows).
var countTimeout = 5 * time.Second

// countRows is Info().Rows: count(*) of the read, in the snapshot the rows
// are then read from, so exact; when the server cannot count it within
// countTimeout (a big join, a cold disk), the planner's estimate of the
// read. count(*) costs the server at most one more pass over what the run
// reads anyway, and an import of those rows takes hours at Clerk's rate;
// pg_class.reltuples would be free but knows nothing of a query or of
// --since, and is stale until the next ANALYZE. 0 when neither answers.
func (p *Postgres) countRows(ctx context.Context) int64 {
	read, args := p.readSQL()
	var n int64
	err := p.savepoint(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, fmt.Sprintf("SET LOCAL statement_timeout = %d", countTimeout.Milliseconds())); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT count(*) FROM ("+read+") AS clerkmigrate_count", args...).Scan(&n)
	})
	if err == nil {
		return n
	}
	var plan []struct {
		Plan struct {
			Rows float64 `json:"Plan Rows"`
		} `json:"Plan"`
	}
	err = p.savepoint(ctx, func(tx pgx.Tx) error {
		return tx.QueryRow(ctx, "EXPLAIN (FORMAT JSON) "+read, args...).Scan(&plan)
	})
	if err != nil || len(plan) == 0 {
		return 0
	}
	return int64(plan[0].Plan.Rows)
}

// savepoint runs fn in a savepoint of the snapshot transaction and rolls
// it back, whatever fn did: its settings go, and an error it met leaves the
// transaction usable.
func (p *Postgres) savepoint(ctx context.Context, fn func(pgx.Tx) error) error {
	sp, err := p.tx.Begin(ctx)
	if err != nil {
		return err
	}
	err = fn(sp)
	if rerr := sp.Rollback(ctx); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

func (p *Postgres) declareCursor(ctx context.Context) error {
	query, args := p.readSQL()
	if _, err := p.tx.Exec(ctx, "DECLARE "+pgCursorName+" NO SCROLL CURSOR FOR "+query, args...); err != nil {
		return fmt.Errorf("query: %w", err)
	}
	p.query = fmt.Sprintf("FETCH FORWARD %d FROM %s", p.cfg.BatchSize, pgCursorName)
	return nil
}

// batchSQL is the keyset query of the next table batch.
func (p *Postgres) batchSQL() (string, []any) {
	key := pgx.Identifier{p.cfg.KeyColumn}.Sanitize()
	var where []string
	var args []any
	if !p.cfg.Since.IsZero() {
		args = append(args, p.cfg.Since)
		where = append(where, fmt.Sprintf("%s > $%d", pgx.Identifier{p.cfg.UpdatedAtColumn}.Sanitize(), len(args)))
	}
	if p.lastKey != nil {
		args = append(args, p.lastKey)
		where = append(where, fmt.Sprintf("%s > $%d", key, len(args)))
	}
	sql := "SELECT * FROM " + p.table
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	return fmt.Sprintf("%s ORDER BY %s LIMIT %d", sql, key, p.cfg.BatchSize), args
}

// fetch reads the next batch of raw rows.
func (p *Postgres) fetch(ctx context.Context) error {
	sql, args := p.query, []any(nil)
	if p.cfg.Table != "" {
		sql, args = p.batchSQL()
	}
	rows, err := p.tx.Query(ctx, sql, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	if p.cols == nil {
		p.cols = newPGColumns(rows.FieldDescriptions(), p.cfg)
	}
	p.batch, p.pos = p.batch[:0], 0
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return fmt.Errorf("decoding row %d: %w", p.index+int64(len(p.batch))+1, err)
		}
		p.batch = append(p.batch, vals)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	p.drained = len(p.batch) < p.cfg.BatchSize
	return nil
}

func newPGColumns(fds []pgconn.FieldDescription, cfg PostgresConfig) *pgColumns {
	c := &pgColumns{names: make([]string, len(fds)), index: make(map[string]int, len(fds)), keyIdx: -1, updIdx: -1}
	for i, fd := range fds {
		c.names[i] = fd.Name
		if _, dup := c.index[fd.Name]; !dup {
			c.index[fd.Name] = i
		}
	}
	if i, ok := c.index[cfg.KeyColumn]; ok && cfg.KeyColumn != "" {
		c.keyIdx = i
	}
	if i, ok := c.index[cfg.UpdatedAtColumn]; ok && cfg.UpdatedAtColumn != "" {
		c.updIdx = i
	}
	return c
}

func (p *Postgres) checkColumns() error {
	if p.cfg.KeyColumn != "" && p.cols.keyIdx < 0 {
		return fmt.Errorf("key column %q is not in the result (columns: %s)", p.cfg.KeyColumn, strings.Join(p.cols.names, ", "))
	}
	if p.cfg.UpdatedAtColumn != "" && p.cols.updIdx < 0 {
		return fmt.Errorf("updated-at column %q is not in the result (columns: %s)", p.cfg.UpdatedAtColumn, strings.Join(p.cols.names, ", "))
	}
	return nil
}

// Next returns the next row, io.EOF after the last one. A lost connection
// ends the source with an error naming the last key read.
func (p *Postgres) Next(ctx context.Context) (Record, error) {
	if err := ctx.Err(); err != nil {
		return Record{}, err
	}
	if p.fatal != nil {
		return Record{}, p.fatal
	}
	if p.conn == nil {
		return Record{}, errors.New("postgres: Next after Close")
	}
	if p.pos == len(p.batch) {
		if p.drained {
			return Record{}, io.EOF
		}
		if err := p.fetch(ctx); err != nil {
			p.fatal = fmt.Errorf("postgres %s: reading after record %d (key %q): %w", p.info.Name, p.index, p.lastKeyText, err)
			return Record{}, p.fatal
		}
		if len(p.batch) == 0 {
			return Record{}, io.EOF
		}
	}
	raw := p.batch[p.pos]
	p.batch[p.pos] = nil
	p.pos++
	p.index++
	return p.record(raw), nil
}

// Rewind reads the rows again from the first, in the same transaction, so
// the same snapshot: the same rows in the same order, whatever was
// committed since.
func (p *Postgres) Rewind(ctx context.Context) error {
	if p.conn == nil {
		return errors.New("postgres: Rewind after Close")
	}
	p.index, p.lastKey, p.lastKeyText, p.high, p.fatal = 0, nil, "", p.cfg.Since, nil
	if p.cfg.Query != "" {
		if _, err := p.tx.Exec(ctx, "CLOSE "+pgCursorName); err != nil {
			return fmt.Errorf("postgres %s: rewind: %w", p.info.Name, err)
		}
		if err := p.declareCursor(ctx); err != nil {
			return fmt.Errorf("postgres %s: rewind: %w", p.info.Name, err)
		}
	}
	if err := p.fetch(ctx); err != nil {
		return fmt.Errorf("postgres %s: rewind: %w", p.info.Name, err)
	}
	return nil
}

// record converts a raw row, remembering its key and updated-at time.
func (p *Postgres) record(raw []any) Record {
	pos := Position{Index: p.index, Offset: -1}
	rec := Record{Pos: pos}
	if i := p.cols.keyIdx; i >= 0 {
		p.lastKey = raw[i]
		rec.Key = strings.TrimSpace(renderKey(convertPGValue(raw[i], p.cfg.BytesEncoding)))
		p.lastKeyText = rec.Key
	}
	if i := p.cols.updIdx; i >= 0 {
		if t, ok := raw[i].(time.Time); ok && t.After(p.high) {
			p.high = t
		}
	}
	for i, v := range raw {
		raw[i] = convertPGValue(v, p.cfg.BytesEncoding)
	}
	rec.Values = &pgRow{cols: p.cols, vals: raw}
	return rec
}

// HighWater is the latest updated-at value seen so far (Since when no row
// had a later one): the Since of the next incremental run, once this run has
// read to io.EOF.
func (p *Postgres) HighWater() time.Time { return p.high }

// Info describes the source. Name shows user, host, port, database and the
// table (or "query"), never a password. Fingerprint hashes the query text and
// the configuration, not the data: a live table cannot be fingerprinted by
// content, so a resume over changed rows is not detected by it.
func (p *Postgres) Info() Info { return p.info }

// Close ends the (read-only) transaction and the connection.
func (p *Postgres) Close() error {
	if p.conn == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if p.tx != nil {
		p.tx.Rollback(ctx)
	}
	err := p.conn.Close(ctx)
	p.conn = nil
	return err
}

// convertPGValue maps what pgx decodes to the Value types of this package.
func convertPGValue(v any, bytesEncoding string) any {
	switch x := v.(type) {
	case nil, string, bool, int64, float64, time.Time, json.Number, map[string]any:
		return v
	case int16:
		return int64(x)
	case int32:
		return int64(x)
	case int:
		return int64(x)
	case float32:
		return float64(x)
	case [16]byte:
		return formatUUID(x)
	case []byte:
		if bytesEncoding == "base64" {
			return base64.StdEncoding.EncodeToString(x)
		}
		return hex.EncodeToString(x)
	case []any:
		for i, e := range x {
			x[i] = convertPGValue(e, bytesEncoding)
		}
		return x
	case pgtype.Numeric:
		s, err := x.Value()
		if err != nil {
			return fmt.Sprint(v)
		}
		return s
	case driver.Valuer:
		if s, err := x.Value(); err == nil {
			return convertPGValue(s, bytesEncoding)
		}
		return fmt.Sprint(v)
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(v)
	}
}

func formatUUID(u [16]byte) string {
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:], u[10:])
	return string(b[:])
}

// renderKey renders a converted key value as text.
func renderKey(v any) string {
	switch k := v.(type) {
	case nil:
		return ""
	case string:
		return k
	case int64:
		return strconv.FormatInt(k, 10)
	default:
		return fmt.Sprint(v)
	}
}

// registerJSONWithNumbers makes json and jsonb decode numbers as json.Number,
// so that ids and big integers keep their digits.
func registerJSONWithNumbers(m *pgtype.Map) {
	unmarshal := func(data []byte, v any) error {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.UseNumber()
		return dec.Decode(v)
	}
	jsonType := &pgtype.Type{Name: "json", OID: pgtype.JSONOID, Codec: &pgtype.JSONCodec{Marshal: json.Marshal, Unmarshal: unmarshal}}
	jsonbType := &pgtype.Type{Name: "jsonb", OID: pgtype.JSONBOID, Codec: &pgtype.JSONBCodec{Marshal: json.Marshal, Unmarshal: unmarshal}}
	m.RegisterType(jsonType)
	m.RegisterType(jsonbType)
	m.RegisterType(&pgtype.Type{Name: "_json", OID: pgtype.JSONArrayOID, Codec: &pgtype.ArrayCodec{ElementType: jsonType}})
	m.RegisterType(&pgtype.Type{Name: "_jsonb", OID: pgtype.JSONBArrayOID, Codec: &pgtype.ArrayCodec{ElementType: jsonbType}})
}

// describeConn names the source without its password.
func describeConn(c *pgx.ConnConfig, cfg PostgresConfig) string {
	what := "query"
	if cfg.Table != "" {
		what = "table " + cfg.Table
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s (%s)", c.User, c.Host, c.Port, c.Database, what)
}

// postgresFingerprint hashes what selects the data: server, database, table
// or query text, key, since and rendering options.
func postgresFingerprint(c *pgx.ConnConfig, cfg PostgresConfig) string {
	h := sha256.New()
	for _, part := range []string{c.Host, strconv.Itoa(int(c.Port)), c.Database, cfg.Table, cfg.Query,
		cfg.KeyColumn, cfg.UpdatedAtColumn, cfg.Since.UTC().Format(time.RFC3339Nano), cfg.BytesEncoding} {
		fmt.Fprintf(h, "%d:%s;", len(part), part)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

// redactConnErr keeps a password that pgx might echo out of an error.
func redactConnErr(err error) error {
	var pe *pgconn.ParseConfigError
	if errors.As(err, &pe) {
		return errors.New("cannot parse the connection string (not shown: it may hold a password)")
	}
	return err
}
