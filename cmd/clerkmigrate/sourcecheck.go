package main

import (
	"fmt"
	"log/slog"

	"github.com/urfave/cli/v2"

	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/mapping/presets"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// checkPresetKind refuses a preset used on a kind of source it does not
// read (exit 2), before the source is opened.
func checkPresetKind(p *presets.Preset, spec sources.Spec) error {
	kind, err := sources.KindOf(spec)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if !p.Reads(kind) {
		return usageErrorf("preset %s reads %s; --source %s is %s (give --source-kind if its name misleads)",
			p.Name, listOr(p.Source.Kinds), spec.Location, kind)
	}
	return nil
}

// mappingOrigin says how to name a mapping in messages, and what it may
// read that the source need not have.
type mappingOrigin struct {
	name     string          // for a mapping not read from its file as it is: "preset auth0", a rewritten file
	noLines  bool            // the mapping was rewritten from the file: its lines are not the file's
	optional []string        // paths read only where the source has them (a preset's, a virtual column)
	preset   *presets.Preset // the preset the mapping is, for its notices
}

// presetOrigin names a preset's mapping.
func presetOrigin(p *presets.Preset) mappingOrigin {
	if p == nil {
		return mappingOrigin{}
	}
	return mappingOrigin{name: "preset " + p.Name, optional: p.Source.Optional, preset: p}
}

// checkSourceFits refuses, before any row, a mapping that reads what the
// source does not have (mapping.Mapping.CheckSource): a usage error (exit
// 2) naming the mapping's lines. Warnings (a JSON key none of the first
// records has) go to stderr and the run goes on.
func checkSourceFits(c *cli.Context, src sources.Source, m *mapping.Mapping, origin mappingOrigin) error {
	schema, err := sources.SchemaOf(c.Context, src)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	if origin.preset != nil {
		presetNotices(c, origin.preset, schema)
	}
	refused, warnings := m.CheckSource(schema, origin.optional...)
	name := func(e *mapping.LoadError) {
		if origin.name != "" {
			e.File = origin.name
		}
		if origin.noLines {
			e.Line = 0
		}
	}
	for _, w := range warnings {
		name(w)
		consoleOf(c).notice(slog.LevelWarn, fmt.Sprintf("warning: %v", w))
	}
	if len(refused) > 0 {
		for _, e := range refused {
			name(e)
		}
		return withCode(ExitUsage, fmt.Errorf("the mapping reads what the source does not have:\n%w", refused))
	}
	return nil
}

// listOr joins names with commas and a final "or".
func listOr(names []string) string {
	switch len(names) {
	case 0:
		return ""
	case 1:
		return names[0]
	}
	out := names[0]
	for _, n := range names[1 : len(names)-1] {
		out += ", " + n
	}
	return out + " or " + names[len(names)-1]
}
