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
		ArgsUsage: "[NAME]",
		Description: "Presets map the exports of Auth0, Firebase, Supabase, Better Auth, Auth.js, Django and Clerk\n" +
			"itself; use one with `import --preset NAME --source FILE` (see docs/PRESETS.md).\n\n" + presetsExitCodes,
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				listPresets(c.App.Writer)
				return nil
			}
			p, err := presets.Get(c.Args().First())
			if err != nil {
				return withCode(ExitUsage, err)
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

// loadPreset loads the --preset mapping and says on stderr what it cannot
// carry over.
func loadPreset(c *cli.Context, name string) (*presets.Preset, *mapping.Mapping, error) {
	p, err := presets.Get(name)
	if err != nil {
		return nil, nil, withCode(ExitUsage, err)
	}
	m, err := p.Load()
	if err != nil {
		return nil, nil, withCode(ExitUsage, err)
	}
	for _, f := range p.Findings {
		consoleOf(c).notice(slog.LevelWarn, fmt.Sprintf("preset %s: %s", p.Name, f), "preset", p.Name)
	}
	return p, m, nil
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

// presetSource applies a preset's source hints to spec and, for an export
// written without a header line (Firebase's CSV), puts the header in
// front of a private copy; cleanup removes it once the source is open.
func presetSource(p *presets.Preset, spec sources.Spec) (sources.Spec, func(), error) {
	spec = p.Spec(spec)
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
