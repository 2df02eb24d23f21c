package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

func pruneCommand() *cli.Command {
	return &cli.Command{
		Name:  "prune",
		Usage: "drop old finished sync runs' rows and reports, keeping what resume, rollback and ownership need",
		Description: "A nightly sync adds a run each night: its changed rows and its reports. prune drops the rows of\n" +
			"finished sync, sync --plan, sync --apply and validate runs beyond the --keep-runs newest of each kind\n" +
			"(and started more than --older-than ago), and their report directories OUT/RUN-ID/. It keeps:\n" +
			"  - every import and rollback run whole, and every run not finished (a resume reads its rows);\n" +
			"  - the rows that make a user ours: the first row of each user created or adopted in a target\n" +
			"    (an orphan is only a user this ledger created or adopted: that judgement does not change, nor\n" +
			"    the run named as its owner), and every created row (rollback RUN-ID deletes those);\n" +
			"  - each run with its metadata and counts: status and summary.json count its rows as before (the\n" +
			"    outcome files of `report RUN-ID` then list the rows kept);\n" +
			"  - the Clerk index and the secret fingerprints the sync diffs against.\n" +
			"SQLite reuses the freed pages: the file stops growing; VACUUM it to shrink it.\n\n" + pruneExitCodes,
		Flags: []cli.Flag{flagOut, flagLedger,
			&cli.IntFlag{Name: "keep-runs", Value: 30, Usage: "newest finished runs of each kind kept whole"},
			&cli.DurationFlag{Name: "older-than", Usage: "prune only runs started longer ago than this (e.g. 720h)"},
			&cli.BoolFlag{Name: "dry-run", Usage: "list the runs that would be pruned; change nothing"},
		},
		Action: runPrune,
	}
}

func runPrune(c *cli.Context) error {
	if c.Int("keep-runs") < 0 || c.Duration("older-than") < 0 {
		return usageErrorf("--keep-runs and --older-than must not be negative")
	}
	store, err := openExistingLedger(c)
	if err != nil {
		return err
	}
	defer store.Close()
	w := c.App.Writer
	var n, deleted, kept int64
	verb := "pruned"
	if c.Bool("dry-run") {
		verb = "would prune"
	}
	err = checkpoint.Prune(c.Context, store, checkpoint.PrunePolicy{KeepRuns: c.Int("keep-runs"), OlderThan: c.Duration("older-than"),
		DryRun: c.Bool("dry-run")}, func(p checkpoint.PrunedRun) error {
		n++
		deleted, kept = deleted+p.Stats.Deleted, kept+p.Stats.Kept
		dir := filepath.Join(c.String("out"), p.Run.ID)
		if !c.Bool("dry-run") {
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			fmt.Fprintf(w, "%s %s (%s, %s): %d rows deleted, %d kept for ownership; reports removed\n", verb, p.Run.ID, p.Run.Kind,
				p.Run.StartedAt.Format(time.RFC3339), p.Stats.Deleted, p.Stats.Kept)
			return nil
		}
		fmt.Fprintf(w, "%s %s (%s, %s)\n", verb, p.Run.ID, p.Run.Kind, p.Run.StartedAt.Format(time.RFC3339))
		return nil
	})
	if err != nil {
		return withCode(ExitFatal, err)
	}
	fmt.Fprintf(w, "%s %d runs: %d rows deleted, %d kept\n", verb, n, deleted, kept)
	return nil
}
