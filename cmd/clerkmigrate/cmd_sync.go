package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/reconcile"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
)

func syncCommand() *cli.Command {
	flags := append(append(sourceFlags(), incrementalFlags()...),
		flagOut, flagLedger, flagTarget, flagSecretKeyFile, flagRate, flagMaxInFlight, flagRequestTimeout, flagRunID, flagParallel,
		&cli.StringFlag{Name: "metadata", Value: string(reconcile.Merge),
			Usage: "how changed metadata is written: merge (PATCH, keeps keys added in Clerk) or replace (PUT)"},
		&cli.BoolFlag{Name: "ban-orphans", Usage: "ban the orphans: users this ledger created or adopted in this target whose " +
			"external_id the source no longer has (never users not ours)"},
		&cli.BoolFlag{Name: "delete-orphans", Usage: "delete the orphans: users this ledger created or adopted in this target whose " +
			"external_id the source no longer has (never users not ours)"},
		&cli.Int64Flag{Name: "max-delete", Value: 100,
			Usage: "most orphans --ban-orphans/--delete-orphans may act on; over it the whole orphan step is refused (exit 5)"},
		&cli.BoolFlag{Name: "prune-identifiers", Usage: "delete the email addresses and phone numbers a user has in Clerk that the source " +
			"no longer lists (after switching the primary; never a user's last one). Off by default: it also deletes addresses " +
			"users added in Clerk themselves during a trickle migration"},
		&cli.BoolFlag{Name: "source-wins", Usage: "send the source's value of a field edited both in Clerk and in the source since the " +
			"last sync (a conflict); without it Clerk's value is kept. Either way the user's outcome is conflict"},
		&cli.BoolFlag{Name: "full", Usage: "a full sync even with --since-last: read every source row and list every Clerk user; " +
			"only a full sync judges orphans (see INCREMENTAL SYNC)"},
		&cli.StringFlag{Name: "plan", Usage: "write the plan (JSON, no secrets) to this file; change nothing in Clerk"},
		&cli.StringFlag{Name: "apply", Usage: "carry out exactly the plan in this file (refused if Clerk or the source changed since)"},
	)
	flags = append(flags, progressFlags()...)
	return &cli.Command{
		Name:  "sync",
		Usage: "nightly reconcile: create who is new, update who changed, report (or ban/delete) who vanished",
		Description: "Scans Clerk's users (GET /v1/users, 500 a page) into the ledger, then reads the source once:\n" +
			"missing users are created (idempotently by external_id), changed fields are written, unchanged users\n" +
			"cost no call. Passwords, TOTP secrets and backup codes are sent only when the source changed them since\n" +
			"they were last sent (the ledger keeps a keyed fingerprint, recorded by the import too, so a secret changed\n" +
			"between the import and the first sync is sent). Addresses the source dropped stay in Clerk unless --prune-identifiers.\n" +
			"An address added to an existing user is added verified only if the source verified it, else unverified\n" +
			"(POST /v1/email_addresses has no reserved), and is never made primary then (the row's message says so);\n" +
			"one Clerk holds verified that the source does not verify is named in the row's message, not changed.\n\n" +
			"CLERK-SIDE EDITS: the ledger keeps a keyed fingerprint of what the tool last wrote to each field (the import\n" +
			"records it too). Changed in the source only: written. Changed in Clerk only: kept, outcome drift (reported\n" +
			"each run until one side changes). Changed in both: conflict, Clerk's value kept unless --source-wins.\n" +
			"Metadata is judged key by key, addresses one by one (one removed in Clerk is not added back). A user with no\n" +
			"record yet (imported by an earlier version) is synced source-wins once. An empty cell of a mapped text field\n" +
			"or metadata clears Clerk's value when the source emptied it; created_at, flags and limits are only compared\n" +
			"when the source gives them. created_at is synced; web3_wallet, skip_*_requirement, skip_legal_checks and\n" +
			"bypass_client_trust cannot be and are named in a warning when mapped.\n\n" +
			"ORPHANS: a Clerk user the source does not list is an orphan only when this ledger created or adopted it\n" +
			"(an import settled it created or exists, or a sync created or matched it, into this same target).\n" +
			"Orphans are reported; --ban-orphans/--delete-orphans act on them only up to --max-delete. Every other\n" +
			"user the source does not list (no external_id, or one this ledger never created or adopted: another\n" +
			"system's users) is \"not ours\": counted and listed apart (plan, log, summary.json, report.html), never\n" +
			"touched, and not counted against --max-delete. A sync that would ban or delete (--ban-orphans,\n" +
			"--delete-orphans, --prune-identifiers, --apply) is refused (exit 2, naming both) when the key reaches\n" +
			"another Clerk instance than a run that made this target's users ours recorded (one URL, two instances).\n" +
			"With --since/--since-last (Postgres) only changed rows are read and orphans are not judged.\n\n" +
			syncScanHelp + "\n\n" + duplicatesHelp + "\n\n" + verifiedHelp + "\n\n" + incrementalHelp + "\n\n" + targetLockHelp + "\n\n" + syncExitCodes,
		Flags:  flags,
		Action: runSync,
	}
}

// syncScanHelp says what a sync reads of Clerk and which runs judge orphans.
const syncScanHelp = `INCREMENTAL SYNC:
   The ledger keeps its copy of Clerk's users between runs and updates it in place: a sync writes to it
   only the users whose updated_at moved. A full sync (no --since/--since-last, or --full) lists every
   Clerk user (500 a page) and reads every source row: it is the only run that judges orphans, and it
   drops from the copy the users deleted in Clerk. An incremental sync (--updated-at-column C --since-last)
   reads the source rows changed since the last run and lists only the Clerk users updated since the last
   scan (order_by=-updated_at, down to that scan's high-water mark less --since-overlap): 200 changed rows cost
   about 200 writes and a page or two. It judges no orphans and does not see users deleted in Clerk (an
   update to one fails with resource_not_found until the next full sync creates it again). Run a full sync
   now and then (say weekly: add --full to the nightly command). Each run records its scan (clerk_scan,
   clerk_high_water in status RUN-ID).
   An unchanged user costs no call and, once a row made it ours, no row either: it is counted (status,
   summary.json rows.not_listed), not listed in the outcome files. clerkmigrate prune drops old runs' rows.`

func runSync(c *cli.Context) error {
	orphans, err := orphanAction(c)
	if err != nil {
		return err
	}
	if c.String("plan") != "" && c.String("apply") != "" {
		return usageErrorf("--plan and --apply exclude each other")
	}
	runGC()
	store, err := openLedger(c)
	if err != nil {
		return err
	}
	defer store.Close()
	index, ok := store.(checkpoint.ClerkIndex)
	if !ok {
		return withCode(ExitFatal, fmt.Errorf("the ledger %T cannot keep the sync's index", store))
	}
	t, err := openTarget(c)
	if err != nil {
		return err
	}
	defer t.Close()
	target := targetID(c, t)
	if c.Bool("full") {
		if c.Timestamp("since") != nil {
			return usageErrorf("--full and --since exclude each other")
		}
		if err := c.Set("since-last", "false"); err != nil { // a full run still records its mark for the next --since-last
			return withCode(ExitFatal, err)
		}
	}
	inc, err := resolveIncremental(c, store, reconcile.KindSync)
	if err != nil {
		return err
	}
	src, m, err := openSourceAndMapping(c)
	if err != nil {
		return err
	}
	defer src.Close()
	managed := m.Properties() // the file's, or the preset's
	cfg := reconcile.Config{
		Source: src, Mapper: m, MappingFingerprint: m.Fingerprint(), Store: store, Index: index,
		Gateway: t.Gateway(c), Target: target, TargetLock: t.Lock, SharedTarget: c.Bool("parallel"),
		RunID: c.String("run-id"), Workers: t.workers(c),
		Metadata: reconcile.MetadataMode(c.String("metadata")), Managed: managed, FingerprintKey: fingerprintKey(t),
		Orphans: orphans, MaxDelete: c.Int64("max-delete"), PruneIdentifiers: c.Bool("prune-identifiers"),
		SourceWins: c.Bool("source-wins"),
	}
	if inc != nil {
		// The Clerk scan takes the source's margin (1 ms at the least: 0
		// would mean the default).
		cfg.Incremental, cfg.ClerkOverlap = !inc.since.IsZero(), max(c.Duration("since-overlap"), time.Millisecond)
		cfg.Meta, cfg.HighWater = inc.meta(), inc.highWater(src)
	}
	if path := c.String("apply"); path != "" {
		if cfg.ApplyPlan, err = reconcile.ReadPlan(path); err != nil {
			return withCode(ExitUsage, err)
		}
	}
	var planFile *os.File
	if path := c.String("plan"); path != "" {
		if planFile, err = os.CreateTemp(filepath.Dir(path), ".plan-*"); err != nil {
			return withCode(ExitUsage, err)
		}
		defer os.Remove(planFile.Name())
		cfg.PlanTo = planFile
	}
	var sum reconcile.Summary
	var syncErr error // the sync's own error; runErr also says rows failed
	work := workload{rows: src.Info().Rows, rate: t.Rate, atMost: true}
	runErr := runAndReport(c, store, work, func(p *progressView) (runner.Summary, error) {
		cfg.Progress = p.Update
		cfg.TargetLock = t.LockFor(c.Context, cfg.Gateway)
		cfg.Started = p.Started
		sum, syncErr = reconcile.Run(c.Context, cfg)
		return sum.Summary, syncErr
	})
	if refused(runErr) || otherInstance(runErr) {
		return runErr // a refused run writes no plan and prints no summary
	}
	if planFile != nil {
		if err := finishPlan(planFile, c.String("plan"), syncErr); err != nil {
			if runErr == nil || exitCodeOf(runErr) == ExitRowsFailed {
				runErr = withCode(ExitFatal, err)
			} else {
				consoleOf(c).notice(slog.LevelError, err.Error())
			}
			sum.Plan = nil // not written: printSyncSummary must not name it
		}
	}
	printSyncSummary(c, sum, store)
	printHighWater(c, store, sum.RunID)
	var guard *reconcile.OrphanGuardError
	switch {
	case errors.As(runErr, &guard):
		return withCode(ExitOrphanGuard, runErr)
	case errors.Is(runErr, reconcile.ErrStalePlan):
		return withCode(ExitFatal, runErr)
	}
	return runErr
}

// fingerprintKey keys the fingerprints the ledger keeps of secrets and
// managed fields (import records them, sync compares with them): derived
// from the instance's secret key, never stored.
func fingerprintKey(t *target) []byte {
	key := sha256.Sum256([]byte("clerkmigrate sync fingerprints\x00" + t.Key))
	return key[:]
}

// orphanAction reads --ban-orphans and --delete-orphans.
func orphanAction(c *cli.Context) (reconcile.OrphanAction, error) {
	switch {
	case c.Bool("ban-orphans") && c.Bool("delete-orphans"):
		return "", usageErrorf("--ban-orphans and --delete-orphans exclude each other")
	case c.Bool("ban-orphans"):
		return reconcile.BanOrphans, nil
	case c.Bool("delete-orphans"):
		return reconcile.DeleteOrphans, nil
	}
	return reconcile.ReportOrphans, nil
}

// finishPlan moves the plan into place once the sync finished (invalid or
// failed rows, or a refused orphan step, are in the plan's counts and
// entries), or drops it when the sync did not finish (syncErr: an
// interruption, a fatal error), saying so.
func finishPlan(f *os.File, path string, syncErr error) error {
	if err := f.Close(); err != nil {
		return err
	}
	var guard *reconcile.OrphanGuardError
	if syncErr != nil && !errors.As(syncErr, &guard) {
		return fmt.Errorf("no plan written to %s: the sync did not finish", path)
	}
	return os.Rename(f.Name(), path)
}

func printSyncSummary(c *cli.Context, s reconcile.Summary, store checkpoint.Store) {
	w := c.App.Writer
	if s.RunID == "" {
		return
	}
	for _, o := range []checkpoint.Outcome{checkpoint.Updated, checkpoint.Unchanged, checkpoint.Drift, checkpoint.Conflict,
		checkpoint.Orphan, checkpoint.Banned, checkpoint.NotOurs} {
		if n := s.ByOutcome[o]; n > 0 {
			fmt.Fprintf(w, "  %-9s %d\n", strings.ReplaceAll(string(o), "_", " "), n)
		}
	}
	fmt.Fprintf(w, "  calls: %d list pages, %d creates, %d user updates, %d metadata writes, %d emails, %d phones, %d ban/lock, %d deletes\n",
		s.Pages, s.Creates, s.Updates, s.MetadataWrites, s.Emails, s.Phones, s.Flags, s.Deletes)
	if s.Scan != "" {
		fmt.Fprintf(w, "  clerk scan: %s, %d users listed, %d new or changed written to the index, %d gone from Clerk dropped\n",
			s.Scan, s.Listed, s.Reindexed, s.Dropped)
	}
	if c.Bool("prune-identifiers") {
		fmt.Fprintf(w, "  removed: %d email addresses, %d phone numbers the source no longer lists\n", s.EmailsRemoved, s.PhonesRemoved)
	}
	if p := s.Plan; p != nil && c.String("plan") != "" {
		fmt.Fprintf(w, "  plan %s: %d create, %d update, %d unchanged, %d drift, %d conflict, %d invalid, %d failed, %d ban, %d delete, %d orphans reported, %d not ours (left alone)\n",
			c.String("plan"), p.Create, p.Update, p.Unchanged, p.Drift, p.Conflict, p.Invalid, p.Failed, p.Ban, p.Delete, p.Orphan, p.NotOurs)
	}
	runs, err := store.Runs(c.Context)
	if err != nil {
		return
	}
	for _, r := range runs {
		if r.ID == s.RunID {
			if step := r.Meta[reconcile.MetaOrphanStep]; step != "" {
				fmt.Fprintf(w, "  orphan step: %s\n", step)
			}
			if ns := r.Meta[reconcile.MetaNotSynced]; ns != "" {
				fmt.Fprintf(w, "  not synced (mapped, but the sync cannot update them): %s\n", ns)
			}
		}
	}
}
