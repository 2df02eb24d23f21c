package main

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/urfave/cli/v2"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/migrate"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/mapping/presets"
	"github.com/clerkmigrate/clerkmigrate/reports"
	"github.com/clerkmigrate/clerkmigrate/samples"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// sourceFlags say where the legacy users come from.
func sourceFlags() []cli.Flag {
	return append(presetFlags(),
		&cli.StringFlag{Name: "source", Aliases: []string{"s"},
			Usage: "legacy export: a .csv/.tsv/.json/.jsonl file or a postgres:// URL (default: the embedded sample)"},
		&cli.StringFlag{Name: "mapping", Aliases: []string{"m"},
			Usage: "mapping file (YAML) from source fields to Clerk's CreateUser (default: the sample's)"},
		&cli.StringFlag{Name: "source-kind", Usage: "csv, tsv, json, jsonl or postgres (default: from the name)"},
		&cli.StringFlag{Name: "delimiter", Usage: "CSV field delimiter (default ,)"},
		&cli.StringFlag{Name: "array-path", Usage: "JSON: the path of the users array in a wrapping object (e.g. users)"},
		&cli.StringFlag{Name: "table", Usage: "Postgres: the table to read"},
		&cli.StringFlag{Name: "query", Usage: "Postgres: a SQL query to read instead of a table"},
		&cli.StringFlag{Name: "updated-at-column", Usage: "Postgres: the column --since compares"},
		&cli.TimestampFlag{Name: "since", Layout: time.RFC3339, Usage: "Postgres: only rows updated after this time"},
		&cli.StringFlag{Name: "bytea", Value: "hex", Usage: "Postgres: render bytea as hex or base64"},
	)
}

func importCommand() *cli.Command {
	flags := append(append(sourceFlags(), incrementalFlags()...),
		flagOut, flagLedger, flagTarget, flagSecretKeyFile, flagRate, flagMaxInFlight, flagRequestTimeout, flagRunID, flagParallel,
		&cli.BoolFlag{Name: "dry-run", Usage: "send nothing: the validate engine (the same findings, files and exit code as `clerkmigrate validate`)"},
		&cli.BoolFlag{Name: "resume", Usage: "refuse to start unless the run is already in the ledger"},
		&cli.BoolFlag{Name: "force", Usage: "resume even though the source or mapping changed since the run began"},
		&cli.BoolFlag{Name: "retry-failed", Usage: "re-attempt rows that failed for a passing reason (rate limits, 5xx)"},
		&cli.BoolFlag{Name: "retry-all-failed", Usage: "re-attempt every failed or invalid row (after fixing the data)"},
		&cli.StringFlag{Name: "only-keys", Usage: "import only the keys in this file (e.g. a failures.csv); others are skipped"},
	)
	flags = append(flags, progressFlags()...)
	return &cli.Command{
		Name:  "import",
		Usage: "import legacy users into Clerk (with no flags: the sample into a local emulator)",
		Description: "Reads every row, maps it to a CreateUser request, sends it at the highest rate the instance\n" +
			"allows and records one outcome per row in the ledger. Re-running the same command resumes: settled\n" +
			"rows are skipped and rows that were in flight are looked up by external_id before anything is sent\n" +
			"again, so no user is created twice. Reports go to OUT/<run-id>/.\n\n" + duplicatesHelp + "\n\n" + verifiedHelp +
			"\n\n" + incrementalHelp + "\n\n" + targetLockHelp + "\n\n" + importExitCodes,
		Flags:  flags,
		Action: runImport,
	}
}

func runImport(c *cli.Context) error {
	if c.Bool("dry-run") {
		return runDryImport(c)
	}
	runGC()
	store, err := openLedger(c)
	if err != nil {
		return err
	}
	defer store.Close()
	inc, err := resolveIncremental(c, store, runner.KindImport)
	if err != nil {
		return err
	}
	src, m, err := openSourceAndMapping(c)
	if err != nil {
		return err
	}
	defer src.Close()
	t, err := openTarget(c)
	if err != nil {
		return err
	}
	defer t.Close()
	cfg := migrate.Config{
		Source:             src,
		Mapper:             m,
		MappingFingerprint: m.Fingerprint(),
		Store:              store,
		Gateway:            t.Gateway(c),
		Target:             targetID(c, t),
		TargetLock:         t.Lock,
		SharedTarget:       c.Bool("parallel"),
		RunID:              c.String("run-id"),
		Workers:            t.workers(c),
		Resume:             c.Bool("resume"),
		Force:              c.Bool("force"),
		RetryFailed:        c.Bool("retry-failed"),
		RetryAllFailed:     c.Bool("retry-all-failed"),
	}
	if index, ok := store.(checkpoint.ClerkIndex); ok {
		// The fingerprints the sync compares with: see fingerprintKey.
		cfg.Index, cfg.FingerprintKey = index, fingerprintKey(t)
	}
	if inc != nil {
		cfg.Meta, cfg.HighWater = inc.meta(), inc.highWater(src)
	}
	work := workload{rows: src.Info().Rows, rate: t.Rate}
	work.rows -= settledBefore(c, store, cmp.Or(cfg.RunID,
		runner.DefaultID(runner.KindImport, src.Info().Fingerprint, cfg.MappingFingerprint, cfg.Target)))
	if path := c.String("only-keys"); path != "" {
		keys, err := reports.ReadKeys(path)
		if err != nil {
			return withCode(ExitUsage, err)
		}
		cfg.OnlyKeys = func(k string) bool { _, ok := keys[k]; return ok }
		// Only the keys given run, those the source holds: up to that many
		// (settled or not: --retry-failed sends settled ones again).
		work.rows, work.upTo = int64(len(keys)), true
		if n := src.Info().Rows; n > 0 {
			work.rows = min(work.rows, n)
		}
	}
	var runID string
	err = runAndReport(c, store, work, func(p *progressView) (runner.Summary, error) {
		cfg.Progress = p.Update
		cfg.LogEvery = -1 // the view logs the progress (--stats)
		cfg.TargetLock = t.LockFor(c.Context, cfg.Gateway)
		cfg.Started = p.Started
		sum, err := migrate.Run(c.Context, cfg)
		runID = sum.RunID
		return sum, err
	})
	printHighWater(c, store, runID)
	return err
}

// runDryImport is `import --dry-run`: the validate engine, the same
// findings, counts, exit code and report files as `validate` with the same
// flags. The flags that only steer what an import sends have no meaning
// there and are refused rather than ignored.
func runDryImport(c *cli.Context) error {
	for _, name := range []string{"resume", "retry-failed", "retry-all-failed", "only-keys"} {
		if c.IsSet(name) {
			return usageErrorf("--%s has no meaning with --dry-run: a dry run judges every row of the source, "+
				"as `clerkmigrate validate` does", name)
		}
	}
	return runValidate(c)
}

// duplicatesHelp is the rule for values several rows hold, in the help of
// every command that judges rows.
const duplicatesHelp = `DUPLICATES:
   An email or username (in any case), a phone number (E.164) or a legacy key on several rows is kept by
   the first row in source order that has no other problem; every later row holding it is invalid
   ("duplicate of row N"). import and sync find them in a first pass over the source, before anything is
   sent, so the later rows are never sent whatever --max-in-flight; validate and import --dry-run say the
   same.`

// verifiedHelp is the rule for verified identifiers, in every writing
// command's help.
const verifiedHelp = `VERIFIED ADDRESSES:
   An email address or phone number is created verified only when the source says it was verified (the
   mapping's verified:, required on every email_address and phone_number field); the others are created
   reserved (unverified, usable for sign-in). A row whose flag is empty or unreadable is invalid
   (verified_unknown, verified_invalid) in validate, import --dry-run and import alike.`

// incrementalHelp is the help text of --since and --since-last.
const incrementalHelp = `INCREMENTAL RUNS (Postgres):
   With --updated-at-column C a run records the latest C it read (its high-water mark) once it has read
   every row. --since T reads only rows with C > T; --since-last takes the mark of the newest finished run
   of the same kind over the same server, database, table (or query) and column, into the same target,
   minus --since-overlap. Each incremental invocation is its own run (its id is derived with the since
   value), so a dropped connection is resumed by running the same command again.
   Caveat: a row whose transaction commits after a run's snapshot but carries an updated_at older than
   the mark that run recorded would be missed by the next run; the overlap re-reads a margin to catch it.
   Re-reading is harmless: an import finds such users by external_id (exists), and a sync makes no call
   for an unchanged user. Rows a run failed stay failed in that run: re-run it with --since <its since
   value> --retry-failed.`

// incrementalFlags are import's and sync's flags for reading changed rows.
func incrementalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "since-last", Usage: "Postgres: read only rows changed since the high-water mark of the last finished run " +
			"of this kind over the same source and target (needs --updated-at-column)"},
		&cli.DurationFlag{Name: "since-overlap", Value: 5 * time.Minute,
			Usage: "with --since-last: also re-read rows this much older than the mark (late commits; see INCREMENTAL RUNS)"},
		&cli.IntFlag{Name: "batch-size", Usage: "Postgres: rows fetched per round trip (default 1000)"},
	}
}

// incremental is how a run reads changed rows only.
type incremental struct {
	source string    // MetaSinceSource: what the mark is a mark of
	since  time.Time // the lower bound the run reads from; zero: every row
	floor  time.Time // the mark --since-last took over: the run's mark never goes below it
}

// resolveIncremental reads --updated-at-column, --since, --since-last and
// --since-overlap for a run of kind; nil without --updated-at-column.
// --since-last sets --since (the mark minus the overlap).
func resolveIncremental(c *cli.Context, store checkpoint.Store, kind string) (*incremental, error) {
	if c.String("updated-at-column") == "" {
		if c.Bool("since-last") || c.Timestamp("since") != nil {
			return nil, usageErrorf("--since and --since-last need --updated-at-column (the column they compare)")
		}
		return nil, nil
	}
	id, err := sinceSourceID(c)
	if err != nil {
		return nil, err
	}
	inc := &incremental{source: id}
	if ts := c.Timestamp("since"); ts != nil {
		if c.Bool("since-last") {
			return nil, usageErrorf("--since and --since-last exclude each other")
		}
		inc.since = *ts
		return inc, nil
	}
	if !c.Bool("since-last") {
		return inc, nil
	}
	overlap := c.Duration("since-overlap")
	if overlap < 0 {
		return nil, usageErrorf("--since-overlap must not be negative")
	}
	target := "" // a dry run has none
	if kind != runner.KindValidate {
		if target, err = targetIDOf(c); err != nil {
			return nil, err
		}
	}
	run, mark, err := lastHighWater(c, store, kind, id, target)
	if err != nil {
		return nil, err
	}
	inc.floor, inc.since = mark, mark.Add(-overlap)
	consoleOf(c).notice(slog.LevelInfo, fmt.Sprintf("reading rows with %s after %s (high-water mark %s of run %s, minus --since-overlap %s)",
		c.String("updated-at-column"), rfc3339(inc.since), rfc3339(mark), run, overlap),
		"since", rfc3339(inc.since), "high_water", rfc3339(mark), "high_water_run", run, "since_overlap_s", overlap.Seconds())
	if err := c.Set("since", rfc3339(inc.since)); err != nil {
		return nil, withCode(ExitFatal, fmt.Errorf("setting --since: %w", err))
	}
	return inc, nil
}

// rfc3339 renders a time in UTC with full precision.
func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// lastHighWater finds the high-water mark of the newest finished run of
// kind over source into target.
func lastHighWater(c *cli.Context, store checkpoint.Store, kind, source, target string) (string, time.Time, error) {
	runs, err := store.Runs(c.Context)
	if err != nil {
		return "", time.Time{}, withCode(ExitFatal, err)
	}
	for _, r := range runs { // newest first
		if r.Kind != kind || r.Status != checkpoint.Done || r.Meta[runner.MetaSinceSource] != source || r.Meta[checkpoint.MetaTarget] != target {
			continue
		}
		hw := r.Meta[runner.MetaHighWater]
		if hw == "" {
			continue
		}
		mark, err := time.Parse(time.RFC3339Nano, hw)
		if err != nil {
			return "", time.Time{}, withCode(ExitFatal, fmt.Errorf("run %s: high-water mark %q: %w", r.ID, hw, err))
		}
		return r.ID, mark, nil
	}
	return "", time.Time{}, usageErrorf("--since-last: no finished %s run over %s into %s recorded a high-water mark "+
		"(run one with --updated-at-column and without --since-last first)", kind, source, target)
}

// sinceSourceID names the rows a high-water mark is a mark of: server,
// database, user, table or query, and the updated-at column; never a
// password (a query is named by its hash).
func sinceSourceID(c *cli.Context) (string, error) {
	loc := c.String("source")
	kind := strings.ToLower(c.String("source-kind"))
	isPG := kind == "postgres" || (kind == "" && (strings.HasPrefix(loc, "postgres://") || strings.HasPrefix(loc, "postgresql://")))
	if !isPG {
		return "", usageErrorf("--updated-at-column, --since and --since-last are for Postgres sources")
	}
	cfg, err := pgx.ParseConfig(loc)
	if err != nil {
		return "", usageErrorf("--source: cannot parse the Postgres connection string (not shown: it may hold a password)")
	}
	what := "table " + c.String("table")
	if q := c.String("query"); q != "" {
		sum := sha256.Sum256([]byte(strings.TrimSpace(q)))
		what = "query sha256:" + hex.EncodeToString(sum[:8])
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s (%s, updated-at %s)", cfg.User, cfg.Host, cfg.Port, cfg.Database,
		what, c.String("updated-at-column")), nil
}

// targetIDOf is targetID without starting or reaching the target.
func targetIDOf(c *cli.Context) (string, error) {
	name := c.String("target")
	if name == targetLocal {
		return targetID(c, nil), nil
	}
	key, err := readSecretKey(c.String("secret-key-file"))
	if err != nil {
		return "", withCode(ExitUsage, err)
	}
	if name == targetClerk {
		name = clerkBaseURL
	}
	return targetID(c, &target{Name: strings.TrimSuffix(name, "/"), Key: key}), nil
}

// meta is what the run records of its incremental read.
func (inc *incremental) meta() map[string]string {
	m := map[string]string{runner.MetaSinceSource: inc.source, runner.MetaSince: ""}
	if !inc.since.IsZero() {
		m[runner.MetaSince] = rfc3339(inc.since)
	}
	return m
}

// highWater is the mark to record: the source's, never below the mark
// taken over (a run that read nothing new keeps it, not mark - overlap).
func (inc *incremental) highWater(src sources.Source) func() time.Time {
	hw, ok := src.(runner.HighWaterer)
	if !ok {
		return nil
	}
	return func() time.Time {
		t := hw.HighWater()
		if t.Before(inc.floor) {
			return inc.floor
		}
		return t
	}
}

// printHighWater says which mark a finished run recorded, if any.
func printHighWater(c *cli.Context, store checkpoint.Store, runID string) {
	if runID == "" {
		return
	}
	runs, err := store.Runs(context.WithoutCancel(c.Context))
	if err != nil {
		return
	}
	for _, r := range runs {
		if r.ID == runID && r.Status == checkpoint.Done && r.Meta[runner.MetaHighWater] != "" {
			fmt.Fprintf(c.App.Writer, "  high-water mark %s: the next run can take --since-last\n", r.Meta[runner.MetaHighWater])
		}
	}
}

// settledBefore counts the rows an earlier invocation of run id settled
// (0 for a new run).
func settledBefore(c *cli.Context, store checkpoint.Store, id string) int64 {
	p, err := store.Progress(c.Context, id)
	if err != nil {
		return 0
	}
	return p.Settled()
}

// runAndReport runs the job, which says what it is about to do through the
// view's Started once it holds its run and target, writes its reports to
// OUT/<run-id>/ and prints a summary; the exit code says whether every row
// ended well.
func runAndReport(c *cli.Context, store checkpoint.Store, work workload, job func(*progressView) (runner.Summary, error)) error {
	view := newProgressView(c, work.rows)
	view.Started = sync.OnceFunc(func() { logEstimate(c, work) })
	started := time.Now()
	sum, runErr := job(view)
	view.Finish()
	if refused(runErr) {
		return refusal(runErr)
	}
	code := runErrorCode(c.Context, runErr)
	// The reports are written even when a signal ended the run: they say
	// where it stopped.
	ctx := context.WithoutCancel(c.Context)
	if runErr == nil && runHasFailures(ctx, store, sum.RunID) {
		code = ExitRowsFailed
	}
	if sum.RunID != "" {
		stats := view.Stats(started, sum, code)
		dir := filepath.Join(c.String("out"), sum.RunID)
		files, err := reports.Write(ctx, store, sum.RunID, dir, reports.Options{Stats: &stats})
		if err != nil {
			consoleOf(c).notice(slog.LevelError, fmt.Sprintf("writing reports: %v", err))
		} else {
			printSummary(c, sum, files)
		}
	}
	if runErr != nil {
		return withCode(code, runErr)
	}
	if code != ExitOK {
		return withCode(code, errors.New("some rows failed or were invalid: see failures.csv"))
	}
	return nil
}

// runHasFailures reports whether the whole run (this invocation and earlier
// ones) holds failed or invalid rows, so that re-running a finished run
// exits as the run stands, not as this invocation's share of it.
func runHasFailures(ctx context.Context, store checkpoint.Store, runID string) bool {
	if runID == "" {
		return false
	}
	p, err := store.Progress(ctx, runID)
	if err != nil {
		return true
	}
	return p.ByOutcome[checkpoint.Failed]+p.ByOutcome[checkpoint.Invalid] > 0
}

func printSummary(c *cli.Context, s runner.Summary, files reports.Files) {
	w := c.App.Writer
	fmt.Fprintf(w, "run %s (%s): %s in %s\n", s.RunID, s.Kind, s.Status, s.Elapsed.Round(time.Millisecond))
	if s.AlreadySettled > 0 {
		fmt.Fprintf(w, "  %d rows already settled by an earlier invocation\n", s.AlreadySettled)
	}
	for _, o := range []checkpoint.Outcome{checkpoint.Created, checkpoint.Exists, checkpoint.Valid,
		checkpoint.Deleted, checkpoint.Skipped, checkpoint.Invalid, checkpoint.Failed} {
		if n := s.ByOutcome[o]; n > 0 {
			fmt.Fprintf(w, "  %-8s %d\n", o, n)
		}
	}
	if s.Requests > 0 {
		fmt.Fprintf(w, "  %d requests (%.1f/s, budget %s), %d rate-limited, %d retries\n",
			s.Requests, s.RequestsPerSec, s.Budget, s.RateLimited, s.Retries)
	}
	fmt.Fprintf(w, "reports: %s\n", filepath.Dir(files.Summary))
}

// openSourceAndMapping opens --source with --mapping, or the embedded sample.
// The sample is copied to a temporary directory removed by the returned
// cleanup, so that no copy of its digests stays on disk; its content, not its
// path, identifies the run, so the same command resumes the same run.
func openSourceAndMapping(c *cli.Context) (sources.Source, *mapping.Mapping, error) {
	srcPath, mapPath, presetName := c.String("source"), c.String("mapping"), c.String("preset")
	if presetName != "" && mapPath != "" {
		return nil, nil, usageErrorf("--preset and --mapping are exclusive (print a preset with `clerkmigrate presets NAME` to edit it)")
	}
	if presetName != "" && srcPath == "" {
		return nil, nil, usageErrorf("--preset needs --source (the export file or the postgres:// URL)")
	}
	if srcPath == "" {
		if mapPath != "" {
			return nil, nil, usageErrorf("--mapping given without --source")
		}
		dir, err := extractSample()
		if err != nil {
			return nil, nil, withCode(ExitUsage, err)
		}
		defer os.RemoveAll(dir) // the open source keeps its file open
		srcPath, mapPath = filepath.Join(dir, samples.DefaultSource), filepath.Join(dir, samples.DefaultMapping)
	}
	if mapPath == "" && presetName == "" {
		return nil, nil, usageErrorf("--mapping or --preset is required with --source (see samples/ and docs/PRESETS.md)")
	}
	var preset *presets.Preset
	var m *mapping.Mapping
	var err error
	if presetName != "" {
		preset, m, err = loadPreset(presetName)
	} else if m, err = mapping.Load(mapPath); err != nil {
		err = withCode(ExitUsage, err)
	}
	if err != nil {
		return nil, nil, err
	}
	if m, err = bindParams(c, m); err != nil {
		return nil, nil, err
	}
	spec := sources.Spec{
		Kind:            c.String("source-kind"),
		Location:        srcPath,
		KeyPath:         m.Key(),
		ArrayPath:       c.String("array-path"),
		Table:           c.String("table"),
		Query:           c.String("query"),
		UpdatedAtColumn: c.String("updated-at-column"),
		BytesEncoding:   c.String("bytea"),
	}
	if d := c.String("delimiter"); d != "" {
		r := []rune(strings.ReplaceAll(d, `\t`, "\t"))
		if len(r) != 1 {
			return nil, nil, usageErrorf("--delimiter must be one character")
		}
		spec.Delimiter = r[0]
	}
	if ts := c.Timestamp("since"); ts != nil {
		spec.Since = *ts
	}
	spec.BatchSize = c.Int("batch-size")
	if preset != nil {
		if err := checkPresetKind(preset, spec); err != nil {
			return nil, nil, err
		}
		var cleanup func()
		if spec, cleanup, err = presetSource(c, preset, spec); err != nil {
			return nil, nil, err
		}
		defer cleanup() // the open source keeps its file open
	}
	src, err := sources.Open(c.Context, spec)
	if err != nil {
		return nil, nil, withCode(ExitUsage, err)
	}
	if err := checkSourceFits(c, src, m, presetOrigin(preset)); err != nil {
		src.Close()
		return nil, nil, err
	}
	return src, m, nil
}

// extractSample writes the embedded sample files into a new temporary
// directory, readable by this user only.
func extractSample() (string, error) {
	dir, err := os.MkdirTemp("", "clerkmigrate-sample-")
	if err != nil {
		return "", err
	}
	for _, name := range []string{samples.DefaultSource, samples.DefaultMapping} {
		b, err := samples.FS.ReadFile(name)
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, name), b, 0o600)
		}
		if err != nil {
			os.RemoveAll(dir)
			return "", err
		}
	}
	return dir, nil
}

// runGCPercent is the GOGC of import and sync when the environment sets
// none: their heaps are small and do not grow with the rows, and the
// collector was a tenth of their CPU; at 400 a 100,000-row import spends
// 0.82 of the CPU and peaks at about 125 MiB RSS instead of 75, and a
// no-op sync of 100,000 users about 0.87 of the CPU at 131 MiB instead of
// 80 (docs/BENCHMARKS.md, Pacing, item 7, and Nightly sync). runMemoryLimit
// bounds the heap's slack: past it the collector runs as often as it must.
const (
	runGCPercent   = 400
	runMemoryLimit = 512 << 20
)

// runGC (import, sync) sets runGCPercent unless GOGC is set, and runMemoryLimit
// unless GOMEMLIMIT is: the environment wins.
func runGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(runGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(runMemoryLimit)
	}
}
