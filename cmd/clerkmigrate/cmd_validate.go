package main

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/clerkmigrate/clerkmigrate/importer/runner"
	"github.com/clerkmigrate/clerkmigrate/importer/validate"
	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/reports"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

const validateExitCodes = `EXIT CODES:
   0  clean: every row is valid and every canary verified (warnings alone leave it 0: a warning,
      where Clerk's documentation does not settle a value, leaves its row valid and sent as it is)
   1  problems found: findings (invalid rows, duplicates, users already in Clerk...) or a canary
      that is WRONG or not found; see findings.csv
   2  could not run: bad flags, a bad mapping file, a source that cannot be opened
   3  could not run to the end: the ledger failed or is held by another run, the source broke
   4  interrupted by SIGINT/SIGTERM`

func validateCommand() *cli.Command {
	flags := append(append(sourceFlags(), incrementalFlags()...), flagOut, flagLedger, flagRunID,
		&cli.BoolFlag{Name: "detect-hasher",
			Usage: "when the mapping maps password_digest but no password_hasher, guess each row's hasher from its digest"},
		&cli.StringSliceFlag{Name: "canary",
			Usage: "email:password of a user whose password you know (repeatable); prefer --canary-file, argv is visible to ps"},
		&cli.StringFlag{Name: "canary-file", Usage: "file of email:password lines (like samples/canaries.txt)"},
		&cli.BoolFlag{Name: "check-target",
			Usage: "look the users up in Clerk (read-only GETs, 100 values a request, paced): who is already there?"},
		flagTarget, flagSecretKeyFile, flagRate,
		&cli.IntFlag{Name: "top", Value: 10, Usage: "problem codes listed on the terminal"},
	)
	flags = append(flags, progressFlags()...)
	return &cli.Command{
		Name:  "validate",
		Usage: "dry run: every problem in every row, before a single write",
		Description: "One pass over the source: maps every row and reports every problem with its row, key, field\n" +
			"and reason; finds identifiers (email, phone, username, external_id) shared by several rows (see\n" +
			"DUPLICATES); checks canary passwords against their digests; with --check-target, asks Clerk which\n" +
			"users already exist.\n" +
			"Writes findings.jsonl, findings.csv and the usual reports (report.html shows findings and coverage)\n" +
			"to OUT/<run-id>/. Nothing is written to Clerk. import --dry-run is this command.\n\n" + duplicatesHelp + "\n\n" + verifiedHelp + "\n\n" + validateExitCodes,
		Flags:  flags,
		Action: runValidate,
	}
}

// runValidate is `validate`, and `import --dry-run` (whose flags have no
// canary, detect-hasher or check-target: their lookups read zero values).
func runValidate(c *cli.Context) error {
	canaries, err := readCanaryFlags(c)
	if err != nil {
		return withCode(ExitUsage, err)
	}
	store, err := openLedger(c)
	if err != nil {
		return err
	}
	defer store.Close()
	inc, err := resolveIncremental(c, store, runner.KindValidate)
	if err != nil {
		return err
	}
	src, m, det, err := openValidateInput(c)
	if err != nil {
		return err
	}
	defer src.Close()
	cfg := validate.Config{Source: src, Mapper: m, MappingFingerprint: m.Fingerprint(), Store: store,
		RunID: c.String("run-id"), OutDir: c.String("out"), DetectHasher: det, Canaries: canaries}
	if inc != nil {
		cfg.Meta, cfg.HighWater = inc.meta(), inc.highWater(src)
	}
	if c.Bool("check-target") {
		t, err := openTarget(c)
		if err != nil {
			return err
		}
		defer t.Close()
		cfg.Target = &validate.TargetCheck{Gateway: t.gatewayOf(4, 0), Name: targetID(c, t)}
	}
	view := newProgressView(c, src.Info().Rows)
	cfg.Progress = view.Update
	started := time.Now()
	res, runErr := validate.Run(c.Context, cfg)
	defer res.Close()
	view.Finish()
	code := runErrorCode(c.Context, runErr)
	if runErr == nil && res.Problems() {
		code = ExitRowsFailed
	}
	if res != nil {
		sum := runner.Summary{RunID: res.RunID, Kind: runner.KindValidate, Read: res.Rows, Elapsed: res.Elapsed}
		if s := res.Elapsed.Seconds(); s > 0 {
			sum.RowsPerSec = float64(res.Rows) / s
		}
		stats := view.Stats(started, sum, code)
		if res.Target != nil {
			stats.Requests = res.Target.Requests
		}
		dir := filepath.Join(c.String("out"), res.RunID)
		files, err := reports.Write(c.Context, store, res.RunID, dir,
			reports.Options{Stats: &stats, Validation: res.Validation(), Rows: res.Settled})
		if err != nil {
			consoleOf(c).notice(slog.LevelError, fmt.Sprintf("writing reports: %v", err))
		}
		printValidation(c.App.Writer, res, cmp.Or(c.Int("top"), 10), dir, files)
	}
	if runErr != nil {
		return withCode(code, runErr)
	}
	if code != ExitOK {
		return withCode(code, errors.New("problems found: see findings.csv"))
	}
	return nil
}

// readCanaryFlags gathers --canary and --canary-file. Errors never repeat
// a password.
func readCanaryFlags(c *cli.Context) ([]validate.Canary, error) {
	var out []validate.Canary
	for i, s := range c.StringSlice("canary") {
		cn, err := validate.ParseCanary(s)
		if err != nil {
			return nil, fmt.Errorf("--canary #%d: %w", i+1, err)
		}
		out = append(out, cn)
	}
	if path := c.String("canary-file"); path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		cs, err := validate.ReadCanaries(f)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out = append(out, cs...)
	}
	return out, nil
}

// openValidateInput opens the source and mapping like import does, except
// that with --detect-hasher a mapping without password_hasher is accepted
// (it would be refused as it stands) and given a detected hasher.
func openValidateInput(c *cli.Context) (sources.Source, *mapping.Mapping, *validate.HasherDetection, error) {
	if !c.Bool("detect-hasher") {
		src, m, err := openSourceAndMapping(c)
		return src, m, nil, err
	}
	if c.String("source") == "" || c.String("mapping") == "" {
		return nil, nil, nil, usageErrorf("--detect-hasher needs --source and --mapping")
	}
	text, err := os.ReadFile(c.String("mapping"))
	if err != nil {
		return nil, nil, nil, withCode(ExitUsage, err)
	}
	det, err := validate.DetectingMapping(text)
	if errors.Is(err, validate.ErrHasherMapped) {
		consoleOf(c).notice(slog.LevelInfo, "the mapping names a password_hasher; --detect-hasher is not needed")
		src, m, err := openSourceAndMapping(c)
		return src, m, nil, err
	}
	if err != nil {
		return nil, nil, nil, withCode(ExitUsage, err)
	}
	spec := sources.Spec{Kind: c.String("source-kind"), Location: c.String("source"), KeyPath: det.Mapping.Key(),
		ArrayPath: c.String("array-path"), Table: c.String("table"), Query: c.String("query"),
		UpdatedAtColumn: c.String("updated-at-column"), BytesEncoding: c.String("bytea")}
	if d := c.String("delimiter"); d != "" {
		r := []rune(strings.ReplaceAll(d, `\t`, "\t"))
		if len(r) != 1 {
			return nil, nil, nil, usageErrorf("--delimiter must be one character")
		}
		spec.Delimiter = r[0]
	}
	if ts := c.Timestamp("since"); ts != nil {
		spec.Since = *ts
	}
	src, err := sources.Open(c.Context, spec)
	if err != nil {
		return nil, nil, nil, withCode(ExitUsage, err)
	}
	origin := mappingOrigin{name: c.String("mapping"), noLines: true, optional: det.VirtualColumns()}
	if err := checkSourceFits(c, src, det.Mapping, origin); err != nil {
		src.Close()
		return nil, nil, nil, err
	}
	return src, det.Mapping, det, nil
}

// printCodes prints the counts of the codes that are warnings (or not),
// with their first rows, at most top codes.
func printCodes(w io.Writer, title string, codes []validate.CodeCount, warnings bool, top int) {
	n := 0
	for _, cc := range codes {
		if cc.Warning != warnings {
			continue
		}
		if n == 0 {
			fmt.Fprintln(w, title)
		}
		if n++; n > top {
			fmt.Fprintln(w, "  ... and more codes (see findings.csv)")
			return
		}
		var rows []string
		for _, e := range cc.Examples {
			rows = append(rows, fmt.Sprintf("%d (key %s)", e.Pos, e.Key))
		}
		more := ""
		if cc.Count > int64(len(cc.Examples)) {
			more = ", ..."
		}
		fmt.Fprintf(w, "  %-24s %-18s %7d  rows %s%s\n", cc.Code, cc.Field, cc.Count, strings.Join(rows, ", "), more)
	}
}

// printValidation is the terminal summary: counts by code with the first
// rows, coverage, canaries, the target check, and where the files are.
func printValidation(w io.Writer, r *validate.Result, top int, dir string, files reports.Files) {
	fmt.Fprintf(w, "validate run %s: %d rows in %s: %d valid, %d invalid, %d findings",
		r.RunID, r.Rows, r.Elapsed.Round(time.Millisecond), r.Valid, r.Invalid, r.Findings)
	if r.Warnings > 0 {
		fmt.Fprintf(w, " (%d of them warnings)", r.Warnings)
	}
	fmt.Fprintln(w)
	printCodes(w, "problems:", r.ByCode, false, top)
	printCodes(w, "warnings (the rows stay valid and are sent, as each warning says):", r.ByCode, true, top)
	cv := r.Coverage
	fmt.Fprintf(w, "coverage: %d with MFA, %d without a password, %d with several emails\n",
		cv.WithMFA, cv.WithoutPassword, cv.WithSeveralEmails)
	var fields, hs []string
	for _, f := range cv.Fields {
		if f.Count > 0 {
			fields = append(fields, fmt.Sprintf("%s %d", f.Name, f.Count))
		}
	}
	for _, h := range cv.Hashers {
		hs = append(hs, fmt.Sprintf("%s %d", h.Name, h.Count))
	}
	if len(fields) > 0 {
		fmt.Fprintf(w, "  fields: %s\n", strings.Join(fields, ", "))
	}
	if len(hs) > 0 {
		fmt.Fprintf(w, "  hashers: %s\n", strings.Join(hs, ", "))
	}
	if len(r.Canaries) > 0 {
		counts := map[validate.CanaryStatus]int{}
		for _, cr := range r.Canaries {
			counts[cr.Status]++
		}
		fmt.Fprintf(w, "canaries: %d verified, %d WRONG, %d not verifiable, %d not found\n", counts[validate.CanaryVerified],
			counts[validate.CanaryWrong], counts[validate.CanaryNotVerifiable], counts[validate.CanaryNotFound])
		for _, cr := range r.Canaries {
			if cr.Status == validate.CanaryVerified {
				continue
			}
			where := ""
			if cr.Pos > 0 {
				where = fmt.Sprintf(" (row %d, key %s, hasher %s)", cr.Pos, cr.Key, cr.Hasher)
			}
			detail := ""
			if cr.Detail != "" {
				detail = ": " + cr.Detail
			}
			fmt.Fprintf(w, "  %-14s %s%s%s\n", cr.Status, cr.Email, where, detail)
		}
	}
	if t := r.Target; t != nil {
		fmt.Fprintf(w, "target: %d requests; %d rows already in Clerk by external_id, %d emails taken by other users\n",
			t.Requests, t.ByExternalID, t.ByEmail)
		if t.Err != "" {
			fmt.Fprintf(w, "  the check stopped early: %s\n", t.Err)
		}
	}
	if len(r.Files) > 0 || files.HTML != "" {
		fmt.Fprintf(w, "findings: %s\nreports: %s\n", strings.Join(r.Files, ", "), dir)
	}
}
