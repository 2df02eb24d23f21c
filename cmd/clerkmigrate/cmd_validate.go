package main

import (
	"github.com/urfave/cli/v2"

	"github.com/clerkmigrate/clerkmigrate/importer"
)

func validateCommand() *cli.Command {
	return &cli.Command{
		Name:  "validate",
		Usage: "dry run: map and validate every row, report every problem, send nothing",
		Description: "Every problem in every row, with its position, key, field and reason, before a single write.\n" +
			"Writes the same reports as an import (failures.csv lists the rows to fix).\n\n" + exitCodeTable,
		Flags:  append(sourceFlags(), flagOut, flagLedger, flagRunID, &cli.BoolFlag{Name: "no-progress"}),
		Action: runValidate,
	}
}

func runValidate(c *cli.Context) error {
	src, m, err := openSourceAndMapping(c)
	if err != nil {
		return err
	}
	defer src.Close()
	store, err := openLedger(c)
	if err != nil {
		return err
	}
	defer store.Close()
	cfg := importer.Config{
		Source: src, Mapper: m, MappingFingerprint: m.Fingerprint(), Store: store,
		RunID: c.String("run-id"), DryRun: true, Force: true,
	}
	return runAndReport(c, store, func(v *progressView) (importer.Summary, error) {
		cfg.Progress = v.Update
		return importer.Run(c.Context, cfg)
	})
}
