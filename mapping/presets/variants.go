package presets

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/clerkmigrate/clerkmigrate/sources"
)

// Variant is one database schema a system comes with, and the query that
// reads its users. All of a preset's variants give the same columns, so one
// mapping (and a CSV of any of the queries) serves them all.
type Variant struct {
	// Name is what --preset-variant calls it: "prisma", "pg", "drizzle".
	Name string
	// Tables says in words which tables it has, for messages and docs.
	Tables string
	// Marks are table and column pairs that only this variant has: the
	// database has the variant when it has every one of them (in its
	// search_path, names as written, case and all).
	Marks [][2]string
	// Query reads the users.
	Query string
}

// Queries lists what a Postgres source of the preset is read with: its
// one query (unnamed), or each variant's; nil for a preset that reads no
// database.
func (p *Preset) Queries() []Variant {
	if p.Source.Query != "" {
		return []Variant{{Query: p.Source.Query}}
	}
	return p.Source.Variants
}

// ErrVariant is returned by Resolve when the database's schema cannot be
// settled: none of the preset's variants is there, several are, or the
// variant asked for is unknown.
var ErrVariant = errors.New("preset variant")

// Resolve is Spec, and for a Postgres source of a preset with Variants and
// without --table/--query, the query of the variant the database has: the
// one named (variant, from --preset-variant), or else the one whose tables
// and columns are there, asked of the database itself. It returns the
// variant it chose ("" when the preset has none or the user gave the
// table or query).
func (p *Preset) Resolve(ctx context.Context, spec sources.Spec, variant string) (sources.Spec, string, error) {
	spec = p.Spec(spec)
	if len(p.Source.Variants) == 0 {
		if variant != "" {
			return spec, "", fmt.Errorf("%w: preset %s has one schema; --preset-variant %q is for presets with several", ErrVariant, p.Name, variant)
		}
		return spec, "", nil
	}
	if kind, err := sources.KindOf(spec); err != nil || kind != "postgres" || spec.Table != "" || spec.Query != "" {
		return spec, "", nil
	}
	var chosen *Variant
	if variant != "" {
		for i := range p.Source.Variants {
			if p.Source.Variants[i].Name == strings.ToLower(strings.TrimSpace(variant)) {
				chosen = &p.Source.Variants[i]
			}
		}
		if chosen == nil {
			return spec, "", fmt.Errorf("%w: preset %s has no variant %q; it has %s", ErrVariant, p.Name, variant, p.variantList())
		}
	} else {
		found, err := p.detect(ctx, spec.Location)
		if err != nil {
			return spec, "", err
		}
		switch len(found) {
		case 0:
			return spec, "", fmt.Errorf("%w: preset %s: the database has none of the schemas it reads (%s); "+
				"give --table or --query for another", ErrVariant, p.Name, p.variantList())
		case 1:
			chosen = found[0]
		default:
			names := make([]string, len(found))
			for i, v := range found {
				names[i] = v.Name
			}
			return spec, "", fmt.Errorf("%w: preset %s: the database has the tables of several schemas (%s): "+
				"choose one with --preset-variant", ErrVariant, p.Name, strings.Join(names, ", "))
		}
	}
	spec.Query = chosen.Query
	return spec, chosen.Name, nil
}

// variantList names the variants with their tables.
func (p *Preset) variantList() string {
	parts := make([]string, len(p.Source.Variants))
	for i, v := range p.Source.Variants {
		parts[i] = v.Name + ": " + v.Tables
	}
	return strings.Join(parts, "; ")
}

// markQuery tells whether the search_path has a table with a column, both
// named exactly so.
const markQuery = `SELECT EXISTS (SELECT 1 FROM pg_attribute
  WHERE attrelid = to_regclass(quote_ident($1)) AND attname = $2 AND attnum > 0 AND NOT attisdropped)`

// detect lists the variants whose every mark the database has.
func (p *Preset) detect(ctx context.Context, connString string) ([]*Variant, error) {
	cfg, err := pgx.ParseConfig(connString)
	if err != nil {
		var pe *pgconn.ParseConfigError
		if errors.As(err, &pe) { // it may hold the password: never shown
			return nil, errors.New("postgres: cannot parse the connection string (not shown: it may hold a password)")
		}
		return nil, err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("preset %s: finding its tables: %w", p.Name, err)
	}
	defer conn.Close(context.Background())
	var found []*Variant
	for i := range p.Source.Variants {
		v := &p.Source.Variants[i]
		all := true
		for _, m := range v.Marks {
			var has bool
			if err := conn.QueryRow(ctx, markQuery, m[0], m[1]).Scan(&has); err != nil {
				return nil, fmt.Errorf("preset %s: finding its tables: %w", p.Name, err)
			}
			if !has {
				all = false
				break
			}
		}
		if all {
			found = append(found, v)
		}
	}
	return found, nil
}
