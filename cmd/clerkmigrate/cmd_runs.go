package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/stores"
	"github.com/clerkmigrate/clerkmigrate/importer/migrate"
	"github.com/clerkmigrate/clerkmigrate/importer/reconcile"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
	"github.com/clerkmigrate/clerkmigrate/reports"
)

func statusCommand() *cli.Command {
	return &cli.Command{
		Name:      "status",
		Usage:     "show the runs in the ledger, or one run's progress, outcome counts and verdict",
		ArgsUsage: "[RUN-ID]",
		Description: "Reads the ledger only (it creates none); safe while a run is going on.\n" +
			"With RUN-ID the exit code is that run's verdict, the code its own command returned, so that a\n" +
			"script can check a run after the fact: 0 finished and every row ended well, 1 failed or invalid\n" +
			"rows, 4 not finished, 5 a sync whose orphan step was refused. Without RUN-ID it lists every run\n" +
			"and returns 0: a listing spans runs of every kind and age, and one old dry run's invalid rows would\n" +
			"fail it for ever.\n\n" + statusExitCodes,
		Flags:  []cli.Flag{flagOut, flagLedger},
		Action: runStatus,
	}
}

func runStatus(c *cli.Context) error {
	id, err := runIDArg(c, false)
	if err != nil {
		return err
	}
	store, err := openExistingLedger(c)
	if err != nil {
		return err
	}
	defer store.Close()
	runs, err := store.Runs(c.Context)
	if err != nil {
		return withCode(ExitFatal, err)
	}
	w := c.App.Writer
	var verdict error
	for _, r := range runs {
		if id != "" && r.ID != id {
			continue
		}
		p, err := store.Progress(c.Context, r.ID)
		if err != nil {
			return withCode(ExitFatal, err)
		}
		fmt.Fprintf(w, "%s  %-8s %-11s started %s, updated %s\n", r.ID, r.Kind, r.Status,
			r.StartedAt.Local().Format(time.DateTime), r.UpdatedAt.Local().Format(time.DateTime))
		fmt.Fprintf(w, "    settled %d, in flight %d%s\n", p.Settled(), p.InFlight, formatCounts(p.ByOutcome))
		if id != "" {
			for k, v := range r.Meta {
				fmt.Fprintf(w, "    %s: %s\n", k, v)
			}
			verdict = runVerdict(r, p)
		}
	}
	if id != "" && !containsRun(runs, id) {
		return usageErrorf("no run %q in the ledger %s", id, stores.Describe(ledgerDSN(c)))
	}
	if len(runs) == 0 {
		fmt.Fprintf(w, "no runs in %s\n", stores.Describe(ledgerDSN(c)))
	}
	return verdict
}

// runVerdict is a run's exit code as the ledger holds it: the code its own
// command returned at the end of its last invocation.
func runVerdict(r checkpoint.Run, p checkpoint.Progress) error {
	if r.Status != checkpoint.Done {
		return withCode(ExitInterrupted, fmt.Errorf("run %s has not finished (%s): run its command again to resume it", r.ID, r.Status))
	}
	if r.Meta[reconcile.MetaOrphanRefused] == "true" {
		return withCode(ExitOrphanGuard, fmt.Errorf("run %s: the orphan step was refused (%s)", r.ID, r.Meta[reconcile.MetaOrphanStep]))
	}
	failed, invalid := p.ByOutcome[checkpoint.Failed], p.ByOutcome[checkpoint.Invalid]
	if failed+invalid > 0 {
		return withCode(ExitRowsFailed, fmt.Errorf("run %s holds %d failed and %d invalid rows", r.ID, failed, invalid))
	}
	return nil
}

// runIDArg is the command's one RUN-ID argument. urfave/cli stops reading
// flags at the first argument, so a flag written after the run id would be
// silently taken for an argument: refuse that, saying where flags go.
func runIDArg(c *cli.Context, required bool) (string, error) {
	switch {
	case c.NArg() > 1:
		return "", usageErrorf("%s takes one run id, and its flags go before it: clerkmigrate %s [flags] RUN-ID (got %q)",
			c.Command.Name, c.Command.Name, c.Args().Slice())
	case c.NArg() == 0 && required:
		return "", usageErrorf("%s needs a run id (see clerkmigrate status)", c.Command.Name)
	}
	return c.Args().First(), nil
}

func containsRun(runs []checkpoint.Run, id string) bool {
	for _, r := range runs {
		if r.ID == id {
			return true
		}
	}
	return false
}

func formatCounts(m map[checkpoint.Outcome]int64) string {
	keys := make([]string, 0, len(m))
	for o := range m {
		keys = append(keys, string(o))
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, ", %s %d", k, m[checkpoint.Outcome(k)])
	}
	return b.String()
}

func rollbackCommand() *cli.Command {
	return &cli.Command{
		Name:      "rollback",
		Usage:     "delete the users that an import run created (and only those), on the target the run wrote to",
		ArgsUsage: "IMPORT-RUN-ID",
		Description: "Deletes, paced, every user the run settled as created; users that were already in Clerk are\n" +
			"never touched. Asks for confirmation unless --yes. Resumable: run it again to go on.\n\n" +
			"TARGET: the rollback goes to the target the run recorded (status RUN-ID shows it), never elsewhere:\n" +
			"leave --target out, or give that same one; another is refused (exit 2) before anything is sent. A\n" +
			"user counts as rolled back only once that target answered the delete (2xx, or 404: already gone).\n" +
			"Clerk's API URL is one for every instance: a key that reaches another instance than the run recorded\n" +
			"(its id, asked before anything else) is refused the same way, naming both instances. A\n" +
			"rollback that an earlier version recorded against another target (or none) is not trusted: running\n" +
			"rollback again deletes every user the run created on its own target (a new run, rollback-RUN-<hash>).\n\n" +
			targetLockHelp + "\n\n" + rollbackExitCodes,
		Flags: append([]cli.Flag{flagOut, flagLedger, flagTarget, flagSecretKeyFile, flagRate, flagMaxInFlight, flagRequestTimeout, flagParallel,
			&cli.BoolFlag{Name: "dry-run", Usage: "list what would be deleted; delete nothing"},
			&cli.BoolFlag{Name: "yes", Usage: "do not ask for confirmation"},
			&cli.BoolFlag{Name: "retry-failed", Usage: "re-attempt deletions that failed"},
		}, progressFlags()...),
		Action: runRollback,
	}
}

func runRollback(c *cli.Context) error {
	runID, err := runIDArg(c, true)
	if err != nil {
		return err
	}
	store, err := openExistingLedger(c) // the import run it undoes is in it, or there is nothing to do
	if err != nil {
		return err
	}
	defer store.Close()
	runs, err := store.Runs(c.Context)
	if err != nil {
		return withCode(ExitFatal, err)
	}
	i := slices.IndexFunc(runs, func(r checkpoint.Run) bool { return r.ID == runID })
	if i < 0 {
		return usageErrorf("no run %q in the ledger %s", runID, stores.Describe(ledgerDSN(c)))
	}
	recorded := runs[i].Meta[checkpoint.MetaTarget]
	name, dir, err := rollbackTarget(c, runID, recorded)
	if err != nil {
		return err
	}
	p, err := store.Progress(c.Context, runID)
	if err != nil {
		return withCode(ExitUsage, fmt.Errorf("run %s: %w", runID, err))
	}
	created := p.ByOutcome[checkpoint.Created]
	if !c.Bool("dry-run") && !c.Bool("yes") && !confirm(c, fmt.Sprintf(
		"Delete the %d users that run %s created from %s? Type yes: ", created, runID, recorded)) {
		return usageErrorf("not confirmed; nothing deleted")
	}
	cfg := migrate.RollbackConfig{
		Store: store, ImportRunID: runID, Target: recorded, Workers: max(c.Int("max-in-flight"), 0),
		DryRun: c.Bool("dry-run"), RetryFailed: c.Bool("retry-failed"),
	}
	work := workload{rows: created}
	if !cfg.DryRun {
		t, err := openTargetAt(c, name, dir)
		if err != nil {
			return err
		}
		defer t.Close()
		if reached := targetIDAt(name, dir, t); reached != recorded {
			return usageErrorf("run %s wrote to %s, but this secret key reaches %s: a rollback deletes only on the "+
				"target its run recorded; use that instance's key", runID, recorded, reached)
		}
		cfg.Gateway, cfg.Workers, work.rate = t.Gateway(c), t.workers(c), t.Rate
		cfg.TargetLock, cfg.SharedTarget = t.LockFor(c.Context, cfg.Gateway), c.Bool("parallel")
	}
	err = runAndReport(c, store, work, func(v *progressView) (runner.Summary, error) {
		cfg.Progress = v.Update
		cfg.Started = v.Started
		cfg.LogEvery = -1 // the view logs the progress (--stats)
		return migrate.Rollback(c.Context, cfg)
	})
	var mismatch *migrate.TargetMismatchError
	if errors.As(err, &mismatch) {
		return withCode(ExitUsage, err)
	}
	return err
}

// rollbackTarget is where a rollback of runID goes: the target the run
// recorded, as a --target value (and a local emulator's state directory).
// A --target given must name that same target; another is a usage error
// naming both, before anything is opened or sent.
func rollbackTarget(c *cli.Context, runID, recorded string) (name, dir string, err error) {
	name, dir, ok := targetOfID(recorded)
	if !ok {
		return "", "", usageErrorf("run %s recorded no target it wrote to (%q): it sent nothing (a dry run), or was made by "+
			"a version that did not record one; nothing is rolled back", runID, recorded)
	}
	if c.IsSet("target") {
		given, err := targetIDOf(c)
		if err != nil {
			return "", "", err
		}
		if given != recorded {
			return "", "", usageErrorf("run %s wrote to %s, not to %s (--target): a rollback deletes only on the target "+
				"its run recorded; leave --target out, or give that one", runID, recorded, given)
		}
	}
	return name, dir, nil
}

// confirm asks a yes/no question on the terminal.
func confirm(c *cli.Context, question string) bool {
	consoleOf(c).prompt(question)
	line, err := bufio.NewReader(os.Stdin).ReadString('\n')
	if err != nil && line == "" {
		return false
	}
	return strings.TrimSpace(strings.ToLower(line)) == "yes"
}

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:      "report",
		Usage:     "regenerate a run's reports from the ledger (also while it runs)",
		ArgsUsage: "RUN-ID",
		Description: "Writes outcomes.jsonl, outcomes.csv, failures.csv, summary.json and report.html to\n" +
			"OUT/RUN-ID/ (or --dir). Figures only the running process knew (rates over time) are left out.\n\n" +
			reportExitCodes,
		Flags:  []cli.Flag{flagOut, flagLedger, &cli.StringFlag{Name: "dir", Usage: "where to write (default OUT/RUN-ID)"}},
		Action: runReport,
	}
}

func runReport(c *cli.Context) error {
	runID, err := runIDArg(c, true)
	if err != nil {
		return err
	}
	store, err := openExistingLedger(c)
	if err != nil {
		return err
	}
	defer store.Close()
	dir := c.String("dir")
	if dir == "" {
		dir = filepath.Join(c.String("out"), runID)
	}
	files, err := reports.Write(c.Context, store, runID, dir, reports.Options{})
	if errors.Is(err, checkpoint.ErrRunNotFound) {
		return usageErrorf("no run %q in the ledger %s", runID, stores.Describe(ledgerDSN(c)))
	}
	if err != nil {
		return withCode(ExitFatal, err)
	}
	for _, f := range files.All() {
		fmt.Fprintln(c.App.Writer, f)
	}
	return nil
}
