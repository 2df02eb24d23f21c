// Package validate is the dry-run engine behind `clerkmigrate validate`:
// one streaming pass over a source that reports every problem of every row
// before a single write to Clerk.
//
// For each record it takes the row's verdict (verdict.Check, the one an
// import takes) and records every FieldError as a Finding (position, key, field, code, reason), settles the row valid or
// invalid in the run ledger (a run of kind "validate", so `clerkmigrate
// report` and the outcomes files work, one outcome per source row), and
// adds the row to the coverage figures. Around that pass:
//
//   - Duplicates across rows of every unique identifier (email and username
//     in any case, phone number as E.164, external_id) are found by
//     verdict.Duplicates, the rule an import applies before sending: the
//     first row in source order keeps the value, every later one is settled
//     invalid (a duplicate of that row) and the first stays valid, with a
//     finding, so that the person sees the pair. Every row involved gets a
//     finding that names the others.
//   - With a HasherDetection, the hasher of each row is guessed from its
//     digest's shape; guesses show in the coverage ("bcrypt (detected)") and
//     an ambiguous guess is a finding.
//   - Canaries (email and known password) are found by email and checked
//     with hashers.Verify against the row's digest and hasher.
//   - With a TargetCheck, rows are looked up in Clerk (read-only, batched,
//     paced) by external_id and by email.
//
// Findings are written, in row order, to findings.jsonl and findings.csv;
// the first MaxKeptFindings are kept in memory for the HTML report and the
// terminal. No password, digest, TOTP secret or backup code is ever put in
// a finding, the ledger or a file.
package validate

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
	"github.com/clerkmigrate/clerkmigrate/importer/verdict"
	"github.com/clerkmigrate/clerkmigrate/reports"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// Config says what to validate and where the results go.
type Config struct {
	// Source yields the legacy users; Run does not close it.
	Source sources.Source
	// Mapper turns a record into a CreateUser request (a *mapping.Mapping).
	Mapper verdict.Mapper
	// MappingFingerprint identifies the mapping for the ledger.
	MappingFingerprint string
	// Store is the run ledger; Run does not close it.
	Store checkpoint.Store
	// RunID names the run; empty means runner.DefaultID("validate",
	// source fingerprint, mapping fingerprint, ""), so re-validating the
	// same data (with validate or import --dry-run) reopens the same run.
	RunID string
	// OutDir, when set, receives findings.jsonl and findings.csv in
	// OutDir/<run id>/.
	OutDir string
	// DetectHasher, when set, replaces Mapper: rows get the hasher their
	// digest's shape suggests.
	DetectHasher *HasherDetection
	// Canaries are checked against the rows holding their emails.
	Canaries []Canary
	// Target, when set, looks the rows up in Clerk (read-only).
	Target *TargetCheck
	// TempDir holds the spill files (removed as they are created, so
	// nothing is left behind); empty means os.TempDir().
	TempDir string
	// Hash hashes identifier values for the duplicate sort; nil means
	// maphash with a per-run seed. Tests inject a colliding one.
	Hash func(string) uint64
	// Workers map rows in parallel; 0 means GOMAXPROCS.
	Workers int
	// MaxKeptFindings bounds Result.Kept; 0 means DefaultMaxKeptFindings.
	// Every finding is counted and written to the files.
	MaxKeptFindings int
	// SortChunkBytes bounds each in-memory chunk of the duplicate sort;
	// 0 means 8 MiB.
	SortChunkBytes int
	// SettleBatch is how many rows go to the ledger at once (one transaction);
	// 0 means 4096 (measured: 1024 and 16384 are slower with the SQLite ledger).
	SettleBatch int
	// Progress, when set, is called from the pass about every 250 ms.
	Progress func(runner.Progress)
	// Logger gets the run's lines; nil means slog.Default().
	Logger *slog.Logger
	// Meta is more run metadata to record with the run (the --since bound
	// and what source it applies to); never a secret.
	Meta map[string]string
	// HighWater, when set, gives the high-water mark to record
	// (runner.MetaHighWater) once the source was read to its end; nil: the
	// source's own, when it is a runner.HighWaterer.
	HighWater func() time.Time
}

// DefaultMaxKeptFindings is the number of findings Result.Kept holds.
const DefaultMaxKeptFindings = 1000

// maxExamples bounds the example rows kept per code.
const maxExamples = 5

// Example is a row that shows a problem.
type Example struct {
	Pos, Line int64
	Key       string
}

// CodeCount is how many findings had one code and severity, with the
// first rows.
type CodeCount struct {
	Code     string
	Field    string // the field of the first finding with the code
	Count    int64
	Examples []Example
	Warning  bool // these findings are warnings (a code can have both kinds)
}

// Result is what a validation found.
type Result struct {
	RunID string
	// Rows is the number of source rows read; Valid and Invalid split them
	// (after duplicates and the target check).
	Rows, Valid, Invalid int64
	// Findings is the number of findings, Warnings how many of them are
	// warnings (which leave their rows valid); Kept the first of them, in
	// row order; ByCode the counts per code, most frequent first.
	Findings, Warnings int64
	Kept               []verdict.Finding
	ByCode             []CodeCount
	// DuplicateValues is the number of identifier values held by several rows.
	DuplicateValues int64
	Coverage        reports.Coverage
	Canaries        []CanaryResult
	// Target is nil unless a TargetCheck ran.
	Target *TargetResult
	// Files are the findings files written (empty without OutDir).
	Files   []string
	Elapsed time.Duration

	tape *tape
}

// Settled streams every row as the ledger holds it at the end of the run,
// in row order, from the run's own record of its settlements (for
// reports.Options.Rows); valid until Close.
func (r *Result) Settled(ctx context.Context, fn func(checkpoint.RowState) error) error {
	return r.tape.rows(ctx, fn)
}

// Close lets go of the run's record of its settlements.
func (r *Result) Close() {
	if r != nil && r.tape != nil {
		r.tape.close()
		r.tape = nil
	}
}

// Problems reports whether anything needs a person's attention: a
// finding that is not a warning, or a canary that did not verify or was
// not found. It is the validate command's exit status 1; warnings alone
// leave it 0, as they leave every row valid.
func (r *Result) Problems() bool {
	if r.Findings > r.Warnings || r.Invalid > 0 {
		return true
	}
	for _, c := range r.Canaries {
		if c.Problem() {
			return true
		}
	}
	return r.Target != nil && r.Target.Err != ""
}

// Validation is the result as the reports package takes it.
func (r *Result) Validation() *reports.Validation {
	v := &reports.Validation{FindingsTotal: r.Findings, Coverage: r.Coverage}
	for _, f := range r.Kept {
		v.Findings = append(v.Findings, reportFinding(f))
	}
	return v
}

// rowResult is what a worker learned from one row.
type rowResult struct {
	verdict.Row
	extra    *verdict.Finding // a detection finding
	fields   uint32
	hasher   string
	detected bool
	canaries []canaryHit
}

// engine is one Run.
type engine struct {
	cfg     Config
	mapper  verdict.Mapper
	canary  *canarySet
	runID   string
	started time.Time

	dups       *verdict.Duplicates
	finds      *verdict.Findings
	tape       *tape
	cov        coverageTally
	canaryRes  []CanaryResult
	rows       int64
	valid      int64
	invalid    int64
	ledger     *ledgerWriter
	settles    []checkpoint.Settlement
	targetCh   chan *targetItem
	target     *targetChecker
	targetDone chan error
	// preflight is why the target check cannot run: its pre-flight failed;
	// targetSent0 the gateway's requests before it.
	preflight   error
	targetSent0 int64
	lastProg    time.Time
}

// Run validates the source: see the package documentation. It returns an
// error only when the validation could not run to the end (the source
// broke, the ledger failed, ctx was cancelled); problems in the data are
// in the Result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	e, err := newEngine(cfg)
	if err != nil {
		return nil, err
	}
	defer e.close()
	info := cfg.Source.Info()
	spec := checkpoint.RunSpec{ID: e.runID, Kind: runner.KindValidate, SourceFingerprint: info.Fingerprint,
		MappingFingerprint: cfg.MappingFingerprint, Force: true,
		Meta: map[string]string{"source": info.Name, "source_kind": info.Kind}}
	for k, v := range cfg.Meta {
		spec.Meta[k] = v
	}
	if cfg.Target != nil {
		// The check records the instance it reads, as every run that talks
		// to Clerk does; a target that cannot say is a check that stops
		// before its first lookup, its rows unchecked.
		e.targetSent0 = cfg.Target.Gateway.Stats().Requests()
		target, err := runner.Identify(ctx, cfg.Target.Gateway, cfg.Target.Name)
		if err != nil && ctx.Err() != nil {
			return nil, err
		}
		if e.preflight = err; err == nil {
			target.Record(spec.Meta)
		}
	}
	if _, err := cfg.Store.BeginRun(ctx, spec); err != nil {
		return nil, fmt.Errorf("validate: opening run %s: %w", e.runID, err)
	}
	res, err := e.run(ctx)
	if err == nil {
		err = e.recordHighWater(ctx)
	}
	status := checkpoint.Done
	if err != nil {
		status = checkpoint.Interrupted
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ferr := cfg.Store.FinishRun(fctx, e.runID, status); ferr != nil && err == nil {
		err = fmt.Errorf("validate: finishing run %s: %w", e.runID, ferr)
	}
	if res != nil {
		res.Elapsed = time.Since(e.started)
	}
	return res, err
}

// recordHighWater keeps the source's high-water mark once it was read to
// its end.
func (e *engine) recordHighWater(ctx context.Context) error {
	hw := e.cfg.HighWater
	if h, ok := e.cfg.Source.(runner.HighWaterer); ok && hw == nil {
		hw = h.HighWater
	}
	if hw == nil {
		return nil
	}
	return runner.RecordHighWater(ctx, e.cfg.Store, e.runID, hw())
}

func newEngine(cfg Config) (*engine, error) {
	switch {
	case cfg.Source == nil:
		return nil, errors.New("validate: no source")
	case cfg.Mapper == nil && cfg.DetectHasher == nil:
		return nil, errors.New("validate: no mapping")
	case cfg.Store == nil:
		return nil, errors.New("validate: no run ledger")
	case cfg.Target != nil && cfg.Target.Gateway == nil:
		return nil, errors.New("validate: a target check needs the Clerk gateway")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.MaxKeptFindings <= 0 {
		cfg.MaxKeptFindings = DefaultMaxKeptFindings
	}
	if cfg.SettleBatch <= 0 {
		cfg.SettleBatch = 4096
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	e := &engine{cfg: cfg, mapper: cfg.Mapper, canary: newCanarySet(cfg.Canaries), started: time.Now(), lastProg: time.Now()}
	if cfg.DetectHasher != nil {
		e.mapper = cfg.DetectHasher.Mapping
	}
	e.runID = cfg.RunID
	if e.runID == "" {
		e.runID = runner.DefaultID(runner.KindValidate, cfg.Source.Info().Fingerprint, cfg.MappingFingerprint, "")
	}
	e.canaryRes = make([]CanaryResult, len(cfg.Canaries))
	for i, c := range cfg.Canaries {
		e.canaryRes[i] = CanaryResult{Email: c.Email, Status: CanaryNotFound}
	}
	e.dups = verdict.NewDuplicates(cfg.TempDir, cfg.Hash, cfg.SortChunkBytes)
	var err error
	if e.finds, err = verdict.NewFindings(cfg.TempDir); err != nil {
		e.dups.Close()
		return nil, err
	}
	if e.tape, err = newTape(cfg.TempDir); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// close lets go of the temporary files, but for the tape once a Result
// holds it.
func (e *engine) close() {
	e.dups.Close()
	e.finds.Close()
	if e.tape != nil {
		e.tape.close()
	}
}

// run is the pass and what follows it.
func (e *engine) run(ctx context.Context) (*Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.ledger = newLedgerWriter(ctx, e.cfg.Store, e.runID, e.tape)
	if e.cfg.Target != nil {
		e.targetCh = make(chan *targetItem, 1024)
		e.targetDone = make(chan error, 1)
		e.target = newTargetChecker(*e.cfg.Target, e.finds.AddLate)
		e.target.failed, e.target.sent0 = e.preflight, e.targetSent0
		go func() { e.targetDone <- e.target.run(ctx, e.targetCh) }()
	}
	passErr := e.pass(ctx)
	if e.targetCh != nil {
		close(e.targetCh)
		terr := <-e.targetDone
		if terr != nil && ctx.Err() != nil && passErr == nil {
			passErr = terr
		} else if terr != nil {
			e.cfg.Logger.Warn("target check stopped early", "err", terr)
		}
	}
	if passErr != nil {
		e.ledger.close()
		return nil, passErr
	}
	res := &Result{RunID: e.runID}
	var err error
	if err := e.ledger.markLate(ctx); err != nil {
		e.ledger.close()
		return nil, err
	}
	if res.DuplicateValues, err = e.dups.Resolve(e.finds.AddLate); err != nil {
		e.ledger.close()
		return nil, err
	}
	if err := e.writeFindings(ctx, res); err != nil {
		e.ledger.close()
		return nil, err
	}
	if err := e.ledger.close(); err != nil {
		return nil, err
	}
	res.Rows, res.Valid, res.Invalid = e.rows, e.valid, e.invalid
	res.tape, e.tape = e.tape, nil
	res.Coverage = e.cov.coverage()
	res.Canaries = e.canaryRes
	if e.target != nil {
		t := e.target.res
		res.Target = &t
	}
	return res, nil
}

// pass reads, judges (in parallel) and collects (in order) every record.
func (e *engine) pass(ctx context.Context) error {
	if err := verdict.Pass(ctx, e.cfg.Source, e.cfg.Workers, e.judge, func(b *verdict.Batch[rowResult]) error {
		return e.collect(ctx, b)
	}); err != nil {
		if ctx.Err() == nil {
			err = fmt.Errorf("validate: %w", err)
		}
		return err
	}
	if err := e.flushSettles(ctx); err != nil {
		return err
	}
	e.progress(true)
	return ctx.Err()
}

// judge takes one row's verdict and what the collector needs besides; it
// runs in parallel and keeps no request (p is the worker's, reused from
// row to row). A row with problems still yields the fields that mapped,
// for the duplicate check, canaries and coverage.
func (e *engine) judge(rec sources.Record, p *request.CreateUser) rowResult {
	var r rowResult
	var det *detectingValues
	if e.cfg.DetectHasher != nil && rec.Values != nil {
		det = &detectingValues{Values: rec.Values, paths: e.cfg.DetectHasher.DigestPaths}
		rec.Values = det
	}
	r.Row = verdict.Check(e.mapper, rec, p)
	if det != nil {
		r.extra = det.finding()
	}
	if !r.Mapped {
		return r
	}
	r.fields = fieldBits(p)
	r.hasher = p.PasswordHasher
	r.detected = det != nil && r.hasher != ""
	if e.canary != nil {
		r.canaries = e.canary.check(p, r.IDs.Emails)
	}
	return r
}

// collect handles a batch's rows in source order.
func (e *engine) collect(ctx context.Context, b *verdict.Batch[rowResult]) error {
	for i := range b.Recs {
		if err := e.collectRow(ctx, &b.Recs[i], &b.Res[i]); err != nil {
			return err
		}
	}
	if err := e.ledger.err(); err != nil {
		return err
	}
	e.progress(false)
	return nil
}

func (e *engine) collectRow(ctx context.Context, rec *sources.Record, r *rowResult) error {
	e.rows++
	e.cov.add(r)
	pos, line := rec.Pos.Index, rec.Pos.Line
	for _, fe := range r.Errs {
		f := verdict.Finding{Pos: pos, Line: line, Key: rec.Key, Field: fe.Field, Source: fe.Source, Code: fe.Code, Reason: fe.Reason,
			Severity: verdict.SeverityOf(fe.Warning)}
		if err := e.finds.AddRow(&f); err != nil {
			return err
		}
	}
	if r.extra != nil {
		f := *r.extra
		f.Pos, f.Line, f.Key = pos, line, rec.Key
		if err := e.finds.AddRow(&f); err != nil {
			return err
		}
	}
	if r.Valid() {
		e.valid++
	} else {
		e.invalid++
	}
	if err := e.addIdentifiers(rec, r); err != nil {
		return err
	}
	for _, h := range r.canaries {
		c := &e.canaryRes[h.idx]
		if c.Status == CanaryNotFound { // the first row holding the email is the one Clerk keeps
			c.Status, c.Pos, c.Key, c.Hasher, c.Detail = h.status, pos, rec.Key, h.hasher, h.detail
		}
	}
	e.settles = append(e.settles, r.Settlement(rec))
	if len(e.settles) >= e.cfg.SettleBatch {
		return e.flushSettles(ctx)
	}
	return nil
}

func (e *engine) flushSettles(ctx context.Context) error {
	if len(e.settles) == 0 {
		return nil
	}
	if err := e.ledger.settle(ctx, e.settles); err != nil {
		return err
	}
	e.settles = e.ledger.buffer(e.cfg.SettleBatch)
	return nil
}

// addIdentifiers hands the row's unique identifiers to the duplicate check
// and a valid row to the target check.
func (e *engine) addIdentifiers(rec *sources.Record, r *rowResult) error {
	if !r.Mapped {
		return nil
	}
	if err := e.dups.Add(rec.Pos.Index, rec.Pos.Line, &r.IDs, !r.Valid()); err != nil {
		return err
	}
	if e.targetCh != nil && r.Valid() {
		e.targetCh <- &targetItem{pos: rec.Pos.Index, line: rec.Pos.Line, key: r.IDs.Ext, emails: r.IDs.Emails}
	}
	return nil
}

// writeFindings walks every finding in row order, writes the files, keeps
// the first findings, counts codes, and settles invalid the rows a late
// finding refuses.
func (e *engine) writeFindings(ctx context.Context, res *Result) error {
	var files *findingsFiles
	if e.cfg.OutDir != "" {
		var err error
		if files, err = createFindingsFiles(filepath.Join(e.cfg.OutDir, e.runID)); err != nil {
			return fmt.Errorf("validate: findings files: %w", err)
		}
	}
	err := e.mergeFindings(ctx, res, files)
	if files != nil {
		if cerr := files.close(err != nil); err == nil && cerr != nil {
			err = fmt.Errorf("validate: findings files: %w", cerr)
		}
		if err == nil {
			res.Files = []string{files.jsonlPath, files.csvPath}
		}
	}
	return err
}

func (e *engine) mergeFindings(ctx context.Context, res *Result, files *findingsFiles) error {
	codes := map[codeKey]*CodeCount{}
	var lastInvalidated int64
	err := e.finds.Each(func(f *verdict.Finding, invalidates bool) error {
		res.Findings++
		if f.Severity == verdict.SeverityWarning {
			res.Warnings++
		}
		if len(res.Kept) < e.cfg.MaxKeptFindings {
			res.Kept = append(res.Kept, *f)
		}
		countCode(codes, f)
		if invalidates && f.Pos != lastInvalidated {
			lastInvalidated = f.Pos
			if err := e.invalidate(ctx, f); err != nil {
				return err
			}
		}
		if files != nil {
			return files.write(f)
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := e.flushSettles(ctx); err != nil {
		return err
	}
	res.ByCode = sortedCodes(codes)
	return nil
}

// invalidate settles invalid a row that was valid alone.
func (e *engine) invalidate(ctx context.Context, f *verdict.Finding) error {
	e.valid--
	e.invalid++
	e.settles = append(e.settles, verdict.Refused(f))
	if len(e.settles) >= e.cfg.SettleBatch {
		return e.flushSettles(ctx)
	}
	return nil
}

// codeKey groups findings: by code, and apart by severity, since one code
// may be both (a duplicated email is a warning on the row that keeps it,
// an error on the rows that are refused).
type codeKey struct {
	code    string
	warning bool
}

// countCode counts a finding under its code and severity, with the first
// rows.
func countCode(codes map[codeKey]*CodeCount, f *verdict.Finding) {
	k := codeKey{f.Code, f.Severity == verdict.SeverityWarning}
	cc := codes[k]
	if cc == nil {
		cc = &CodeCount{Code: f.Code, Field: f.Field, Warning: k.warning}
		codes[k] = cc
	}
	cc.Count++
	if len(cc.Examples) < maxExamples {
		cc.Examples = append(cc.Examples, Example{Pos: f.Pos, Line: f.Line, Key: f.Key})
	}
}

// sortedCodes lists the codes, most frequent first.
func sortedCodes(codes map[codeKey]*CodeCount) []CodeCount {
	out := make([]CodeCount, 0, len(codes))
	for _, cc := range codes {
		out = append(out, *cc)
	}
	slices.SortFunc(out, func(a, b CodeCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), strings.Compare(a.Code, b.Code), cmpBool(a.Warning, b.Warning))
	})
	return out
}

// cmpBool orders false before true.
func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// progress reports the pass to Config.Progress, at most every 250 ms
// unless final.
func (e *engine) progress(final bool) {
	if e.cfg.Progress == nil || (!final && time.Since(e.lastProg) < 250*time.Millisecond) {
		return
	}
	e.lastProg = time.Now()
	el := time.Since(e.started)
	p := runner.Progress{RunID: e.runID, Read: e.rows, Settled: e.rows, Failures: e.invalid, Elapsed: el,
		ByOutcome: map[checkpoint.Outcome]int64{checkpoint.Valid: e.valid, checkpoint.Invalid: e.invalid}}
	if s := el.Seconds(); s > 0 {
		p.RowsPerSec = float64(e.rows) / s
	}
	e.cfg.Progress(p)
}
