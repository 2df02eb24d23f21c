package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/urfave/cli/v2"

	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/mapping/presets"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// presetFlags choose a preset mapping and give run-time parameters.
func presetFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "preset", Aliases: []string{"p"},
			Usage: "a built-in mapping for a known export (" + strings.Join(presets.Names(), ", ") +
				"); instead of --mapping. --preset list lists them",
			Action: func(c *cli.Context, name string) error {
				if name != "list" {
					return nil
				}
				listPresets(c.App.Writer)
				return withCode(ExitOK, errPresetsListed)
			}},
		&cli.StringFlag{Name: "preset-variant",
			Usage: "which of its system's database schemas a preset reads (authjs: prisma, pg or drizzle); " +
				"found by asking the database when left out"},
		&cli.StringFlag{Name: "param-file",
			Usage: "parameters of the mapping's templates, name=value a line (for Firebase: the console's hash_config block); " +
				"they also come from " + mapping.ParamEnvPrefix + "<NAME> variables"},
	}
}

// errPresetsListed ends a command after --preset list.
var errPresetsListed = errors.New("presets listed; run again with --preset NAME")

// presetsCommand is `clerkmigrate presets [NAME]`: the list, or one preset's
// mapping file to copy and edit.
func presetsCommand() *cli.Command {
	return &cli.Command{
		Name:      "presets",
		Usage:     "list the built-in mappings for known exports, or print one (to copy and edit)",
		ArgsUsage: "[NAME [--query]]",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "query", Usage: "print the SQL the preset reads its system's Postgres with, instead of its mapping"},
		},
		Description: "Presets map the exports of Auth0, Firebase, Supabase, Better Auth, Auth.js, Django and Clerk\n" +
			"itself; use one with `import --preset NAME --source FILE` (see docs/PRESETS.md). With --query, the SQL\n" +
			"a Postgres preset reads its system's database with (Auth.js: one query per adapter's tables).\n\n" + presetsExitCodes,
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				listPresets(c.App.Writer)
				return nil
			}
			query, err := queryFlag(c)
			if err != nil {
				return err
			}
			p, err := presets.Get(c.Args().First())
			if err != nil {
				return withCode(ExitUsage, err)
			}
			if query {
				return printQueries(c.App.Writer, p)
			}
			_, err = c.App.Writer.Write(p.Mapping)
			return err
		},
	}
}

// listPresets prints every preset with the kinds of source it reads.
func listPresets(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PRESET\tSOURCES\tDESCRIPTION")
	for _, name := range presets.Names() {
		p, err := presets.Get(name)
		if err != nil {
			continue
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", p.Name, strings.Join(p.Source.Kinds, ", "), p.Description)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nUse: clerkmigrate import --preset NAME --source FILE-OR-URL (docs/PRESETS.md); "+
		"clerkmigrate import --preset NAME --mapping is refused: print one with `presets NAME` and edit it instead.")
}

// queryFlag reads --query, written before or after NAME (urfave/cli stops
// reading flags at the first argument, and `presets NAME --query` is how
// people write it); any other argument after NAME is refused rather than
// ignored.
func queryFlag(c *cli.Context) (bool, error) {
	rest := c.Args().Tail()
	switch {
	case len(rest) == 0:
		return c.Bool("query"), nil
	case len(rest) == 1 && (rest[0] == "--query" || rest[0] == "-query"):
		return true, nil
	}
	return false, usageErrorf("presets takes one NAME and --query (got %q)", c.Args().Slice())
}

// printQueries prints the SQL a preset reads its system's database with:
// its query, or each variant's after a comment naming it; a preset that
// reads no database is a usage error.
func printQueries(w io.Writer, p *presets.Preset) error {
	qs := p.Queries()
	if len(qs) == 0 {
		return usageErrorf("preset %s reads %s, not a database: it has no query", p.Name, listOr(p.Source.Kinds))
	}
	for i, q := range qs {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if q.Name != "" {
			fmt.Fprintf(w, "-- %s (--preset-variant %s): %s\n", p.Name, q.Name, q.Tables)
		}
		fmt.Fprintf(w, "%s;\n", q.Query)
	}
	return nil
}

// loadPreset loads the --preset mapping; what it cannot carry over is said
// once the source is known (presetNotices).
func loadPreset(name string) (*presets.Preset, *mapping.Mapping, error) {
	p, err := presets.Get(name)
	if err != nil {
		return nil, nil, withCode(ExitUsage, err)
	}
	m, err := p.Load()
	if err != nil {
		return nil, nil, withCode(ExitUsage, err)
	}
	return p, m, nil
}

// presetNotices says on stderr what the preset cannot carry over from
// this source: the notices for its kind and for the columns it has.
func presetNotices(c *cli.Context, p *presets.Preset, schema *sources.Schema) {
	var has func(string) bool
	kind := ""
	if schema != nil {
		kind = schema.Kind
		if schema.Exact || schema.Sampled > 0 {
			has = func(path string) bool { return schema.Check(path).Found }
		}
	}
	for _, text := range p.NoticesFor(kind, has) {
		consoleOf(c).notice(slog.LevelWarn, fmt.Sprintf("preset %s: %s", p.Name, text), "preset", p.Name)
	}
}

// bindParams gives the mapping's templates their parameters: the
// CLERKMIGRATE_PARAM_* environment, overridden by --param-file. A mapping
// without parameters is returned as it is.
func bindParams(c *cli.Context, m *mapping.Mapping) (*mapping.Mapping, error) {
	if len(m.ParamNames()) == 0 {
		return m, nil
	}
	params := mapping.ParamsFromEnv(os.Environ())
	if path := c.String("param-file"); path != "" {
		fromFile, err := mapping.ReadParamFile(path)
		if err != nil {
			return nil, withCode(ExitUsage, err)
		}
		for k, v := range fromFile {
			params[k] = v
		}
	}
	bound, err := m.WithParams(params)
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	return bound, nil
}

// presetSource applies a preset's source hints to spec (for a Postgres
// source, the query of the schema the database has: presets.Preset.Resolve)
// and, for an export written without a header line (Firebase's CSV), puts
// the header in front of a private copy; cleanup removes it once the
// source is open.
func presetSource(c *cli.Context, p *presets.Preset, spec sources.Spec) (sources.Spec, func(), error) {
	spec, variant, err := p.Resolve(c.Context, spec, c.String("preset-variant"))
	if err != nil {
		return spec, func() {}, withCode(ExitUsage, err)
	}
	if variant != "" {
		consoleOf(c).notice(slog.LevelInfo, fmt.Sprintf("preset %s: reading %s (--preset-variant %s)",
			p.Name, variantTables(p, variant), variant), "preset", p.Name)
	}
	kind := strings.ToLower(spec.Kind)
	if len(p.Source.CSVHeader) == 0 || !(kind == "csv" || kind == "" && strings.EqualFold(filepath.Ext(spec.Location), ".csv")) {
		return spec, func() {}, nil
	}
	path, cleanup, err := p.WithCSVHeader(spec.Location, "")
	if err != nil {
		return spec, func() {}, withCode(ExitUsage, err)
	}
	spec.Location = path
	return spec, cleanup, nil
}

// variantTables says which tables a preset's variant reads.
func variantTables(p *presets.Preset, name string) string {
	for _, v := range p.Source.Variants {
		if v.Name == name {
			return v.Tables
		}
	}
	return name
}
