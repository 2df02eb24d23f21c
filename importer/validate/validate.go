// Package validate is the dry-run engine behind `clerkmigrate validate`:
// one streaming pass over a source that reports every problem of every row
// before a single write to Clerk.
//
// For each record it runs the mapping and records every FieldError as a
// Finding (position, key, field, code, reason), settles the row valid or
// invalid in the run ledger (a run of kind "validate", so `clerkmigrate
// report` and the outcomes files work, one outcome per source row), and
// adds the row to the coverage figures. Around that pass:
//
//   - Duplicates across rows of every unique identifier (email and username
//     in any case, phone number as E.164, external_id) are found in bounded
//     memory: each identifier is spilled as (kind, 64-bit hash, position,
//     value) to temporary files sorted in chunks, the chunks are merged, and
//     rows whose hashes collide are compared by value, so a hash collision
//     never makes a false duplicate. Every row involved gets a finding that
//     names the others. The rule is the one an import follows: the first row
//     in source order is created, every later one is refused by Clerk
//     (form_identifier_exists), so later rows are settled invalid and the
//     first stays valid (with a finding, so that the person sees the pair).
//     A row refused for other problems takes part with the identifiers that
//     did map (mapping.MapAll), so it gets every finding at once, but it is
//     not sent, so it takes no identifier from a valid row.
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
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/reports"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// Config says what to validate and where the results go.
type Config struct {
	// Source yields the legacy users; Run does not close it.
	Source sources.Source
	// Mapper turns a record into a CreateUser request (a *mapping.Mapping).
	Mapper importer.Mapper
	// MappingFingerprint identifies the mapping for the ledger.
	MappingFingerprint string
	// Store is the run ledger; Run does not close it.
	Store checkpoint.Store
	// RunID names the run; empty means importer.DefaultRunID("validate",
	// source fingerprint, mapping fingerprint, ""), the id an import's dry
	// run uses, so re-validating the same data reopens the same run.
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
	Progress func(importer.Progress)
	// Logger gets the run's lines; nil means slog.Default().
	Logger *slog.Logger
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

// CodeCount is how many findings had one code, with the first rows.
type CodeCount struct {
	Code     string
	Field    string // the field of the first finding with the code
	Count    int64
	Examples []Example
	Warning  bool // the code's findings are warnings
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
	Kept               []Finding
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
		v.Findings = append(v.Findings, f.Report())
	}
	return v
}

// rowResult is what a worker learned from one row.
type rowResult struct {
	errs     mapping.FieldErrors
	extra    *Finding // a detection finding
	mapped   bool
	fields   uint32
	hasher   string
	detected bool
	emails   []string // lower-cased
	phones   []string
	username string // lower-cased
	ext      string
	canaries []canaryHit
}

// batch is a run of records mapped by one worker; the collector takes
// batches in source order.
type batch struct {
	recs []sources.Record
	res  []rowResult
	done chan struct{}
}

const batchSize = 256

// engine is one Run.
type engine struct {
	cfg    Config
	mapper importer.Mapper
	// mapAll maps a record; it may write the request into scratch (one per
	// worker) and return it, so the result is valid until the next call.
	mapAll  func(rec sources.Record, scratch *clerk.CreateUserParams) (*clerk.CreateUserParams, mapping.FieldErrors)
	canary  *canarySet
	hash    func(string) uint64
	runID   string
	started time.Time

	dups       *extSorter
	late       *extSorter // findings found after their row was settled, keyed by position
	lateMu     sync.Mutex
	lateSeq    uint64
	rowFinds   *spillFile
	cov        coverageTally
	canaryRes  []CanaryResult
	rows       int64
	valid      int64
	invalid    int64
	enc        []byte
	ledger     *ledgerWriter
	settles    []checkpoint.Settlement
	targetCh   chan *targetItem
	target     *targetChecker
	targetDone chan error
	lastProg   time.Time
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
	spec := checkpoint.RunSpec{ID: e.runID, Kind: importer.KindValidate, SourceFingerprint: info.Fingerprint,
		MappingFingerprint: cfg.MappingFingerprint, Force: true,
		Meta: map[string]string{"source": info.Name, "source_kind": info.Kind}}
	if _, err := cfg.Store.BeginRun(ctx, spec); err != nil {
		return nil, fmt.Errorf("validate: opening run %s: %w", e.runID, err)
	}
	res, err := e.run(ctx)
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

func newEngine(cfg Config) (*engine, error) {
	switch {
	case cfg.Source == nil:
		return nil, errors.New("validate: no source")
	case cfg.Mapper == nil && cfg.DetectHasher == nil:
		return nil, errors.New("validate: no mapping")
	case cfg.Store == nil:
		return nil, errors.New("validate: no run ledger")
	case cfg.Target != nil && cfg.Target.API == nil:
		return nil, errors.New("validate: a target check needs the Clerk API")
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
	e := &engine{cfg: cfg, mapper: cfg.Mapper, canary: newCanarySet(cfg.Canaries), hash: cfg.Hash,
		started: time.Now(), lastProg: time.Now()}
	if cfg.DetectHasher != nil {
		e.mapper = cfg.DetectHasher.Mapping
	}
	e.mapAll = func(rec sources.Record, _ *clerk.CreateUserParams) (*clerk.CreateUserParams, mapping.FieldErrors) {
		return e.mapper.Map(rec)
	}
	switch m := e.mapper.(type) {
	case intoMapper:
		e.mapAll = func(rec sources.Record, p *clerk.CreateUserParams) (*clerk.CreateUserParams, mapping.FieldErrors) {
			mapped, errs := m.MapAllInto(rec, p)
			if !mapped {
				return nil, errs
			}
			return p, errs
		}
	case allMapper:
		e.mapAll = func(rec sources.Record, _ *clerk.CreateUserParams) (*clerk.CreateUserParams, mapping.FieldErrors) {
			return m.MapAll(rec)
		}
	}
	if e.hash == nil {
		seed := maphash.MakeSeed()
		e.hash = func(s string) uint64 { return maphash.String(seed, s) }
	}
	e.runID = cfg.RunID
	if e.runID == "" {
		e.runID = importer.DefaultRunID(importer.KindValidate, cfg.Source.Info().Fingerprint, cfg.MappingFingerprint, "")
	}
	e.canaryRes = make([]CanaryResult, len(cfg.Canaries))
	for i, c := range cfg.Canaries {
		e.canaryRes[i] = CanaryResult{Email: c.Email, Status: CanaryNotFound}
	}
	e.dups = newExtSorter(cfg.TempDir, dupKeyLen, cfg.SortChunkBytes)
	e.late = newExtSorter(cfg.TempDir, 16, 4<<20)
	var err error
	if e.rowFinds, err = newSpillFile(cfg.TempDir); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *engine) close() {
	e.dups.Close()
	e.late.Close()
	e.rowFinds.Close()
}

// run is the pass and what follows it.
func (e *engine) run(ctx context.Context) (*Result, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	e.ledger = newLedgerWriter(ctx, e.cfg.Store, e.runID)
	if e.cfg.Target != nil {
		e.targetCh = make(chan *targetItem, 1024)
		e.targetDone = make(chan error, 1)
		e.target = newTargetChecker(*e.cfg.Target, e.addLate)
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
	if res.DuplicateValues, err = e.findDuplicates(); err != nil {
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
	res.Coverage = e.cov.coverage()
	res.Canaries = e.canaryRes
	if e.target != nil {
		t := e.target.res
		res.Target = &t
	}
	return res, nil
}

// pass reads, maps (in parallel) and collects (in order) every record.
func (e *engine) pass(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nb := e.cfg.Workers * 4
	free := make(chan *batch, nb)
	for range nb {
		free <- &batch{recs: make([]sources.Record, 0, batchSize), res: make([]rowResult, batchSize)}
	}
	work := make(chan *batch, nb)
	order := make(chan *batch, nb)
	var readErr error
	go func() {
		defer close(work)
		defer close(order)
		readErr = e.read(ctx, free, work, order)
	}()
	var wg sync.WaitGroup
	for range e.cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scratch := &clerk.CreateUserParams{}
			for b := range work {
				for i := range b.recs {
					b.res[i] = e.mapRow(b.recs[i], scratch)
				}
				close(b.done)
			}
		}()
	}
	var collectErr error
	for b := range order {
		<-b.done
		if collectErr == nil {
			collectErr = e.collect(ctx, b)
			if collectErr != nil {
				cancel()
			}
		}
		clear(b.recs)
		b.recs = b.recs[:0]
		free <- b
	}
	wg.Wait()
	if collectErr != nil {
		return collectErr
	}
	if readErr != nil {
		return readErr
	}
	if err := e.flushSettles(ctx); err != nil {
		return err
	}
	e.progress(true)
	return ctx.Err()
}

// read fills batches from the source, in order.
func (e *engine) read(ctx context.Context, free chan *batch, work, order chan<- *batch) error {
	var b *batch
	send := func() {
		b.done = make(chan struct{})
		work <- b
		order <- b
		b = nil
	}
	for {
		if b == nil {
			select {
			case b = <-free:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		rec, err := e.cfg.Source.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("validate: reading %s: %w", e.cfg.Source.Info().Name, err)
		}
		b.recs = append(b.recs, rec)
		if len(b.recs) == batchSize {
			send()
		}
	}
	if b != nil && len(b.recs) > 0 {
		send()
	} else if b != nil {
		free <- b
	}
	return nil
}

// allMapper is a Mapper that also returns the good part of a bad row
// (*mapping.Mapping does).
type allMapper interface {
	MapAll(sources.Record) (*clerk.CreateUserParams, mapping.FieldErrors)
}

// intoMapper is an allMapper that writes into a request it is given
// (*mapping.Mapping does), so a worker reuses one.
type intoMapper interface {
	MapAllInto(sources.Record, *clerk.CreateUserParams) (bool, mapping.FieldErrors)
}

// mapRow maps one record and extracts what the collector needs; it runs in
// parallel and keeps no request (scratch is the worker's, reused from row
// to row). A row with problems still yields the fields that mapped, for the
// duplicate check, canaries and coverage.
func (e *engine) mapRow(rec sources.Record, scratch *clerk.CreateUserParams) rowResult {
	var r rowResult
	var det *detectingValues
	if e.cfg.DetectHasher != nil && rec.Values != nil {
		det = &detectingValues{Values: rec.Values, paths: e.cfg.DetectHasher.DigestPaths}
		rec.Values = det
	}
	p, errs := e.mapAll(rec, scratch)
	if det != nil {
		r.extra = det.finding()
	}
	if len(errs) > 0 || p == nil {
		r.errs = errs
		if len(errs) == 0 {
			r.errs = mapping.FieldErrors{{Code: "mapping_failed", Reason: "the mapping produced no request"}}
		}
	}
	if p == nil {
		return r
	}
	r.mapped = true
	r.fields = fieldBits(p)
	r.hasher = p.PasswordHasher
	r.detected = det != nil && r.hasher != ""
	r.emails = make([]string, len(p.EmailAddresses))
	for i, m := range p.EmailAddresses {
		r.emails[i] = strings.ToLower(m)
	}
	r.phones = p.PhoneNumbers
	if u, ok := p.Username.Get(); ok {
		r.username = strings.ToLower(u)
	}
	if x, ok := p.ExternalID.Get(); ok && x != "" {
		r.ext = x
	} else {
		r.ext = strings.TrimSpace(rec.Key)
	}
	if e.canary != nil {
		r.canaries = e.canary.check(p, r.emails)
	}
	return r
}

// collect handles a batch's rows in source order.
func (e *engine) collect(ctx context.Context, b *batch) error {
	for i := range b.recs {
		rec, r := &b.recs[i], &b.res[i]
		if err := e.collectRow(ctx, rec, r); err != nil {
			return err
		}
		*r = rowResult{}
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
	s := checkpoint.Settlement{Pos: pos, Key: rec.Key, Outcome: checkpoint.Valid}
	for _, fe := range r.errs {
		f := Finding{Pos: pos, Line: line, Key: rec.Key, Field: fe.Field, Source: fe.Source, Code: fe.Code, Reason: fe.Reason,
			Severity: severityOf(fe.Warning)}
		if err := e.addRowFinding(&f); err != nil {
			return err
		}
	}
	if r.extra != nil {
		f := *r.extra
		f.Pos, f.Line, f.Key = pos, line, rec.Key
		if err := e.addRowFinding(&f); err != nil {
			return err
		}
	}
	if r.errs.Invalid() {
		e.invalid++
		first := r.errs.Refusals()[0]
		s.Outcome, s.ErrorCode, s.Field = checkpoint.Invalid, first.Code, first.Field
		s.Message = rec.Pos.String() + ": " + r.errs.Error()
	} else {
		e.valid++
		s.Message = importer.WarningNote(rec.Pos, r.errs)
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
	e.settles = append(e.settles, s)
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

// addIdentifiers spills the row's unique identifiers for the duplicate
// check and hands a valid row to the target check.
func (e *engine) addIdentifiers(rec *sources.Record, r *rowResult) error {
	if !r.mapped {
		return nil
	}
	pos, line := rec.Pos.Index, rec.Pos.Line
	invalid := r.errs.Invalid()
	add := func(kind byte, v string) error {
		if v == "" {
			return nil
		}
		e.enc = appendIDEntry(e.enc[:0], kind, e.hash(v), pos, line, v, r.ext, invalid)
		return e.dups.Add(e.enc)
	}
	for _, m := range r.emails {
		if err := add(idEmail, m); err != nil {
			return err
		}
	}
	for _, p := range r.phones {
		if err := add(idPhone, p); err != nil {
			return err
		}
	}
	if err := add(idUsername, r.username); err != nil {
		return err
	}
	if err := add(idExternalID, r.ext); err != nil {
		return err
	}
	if e.targetCh != nil && !invalid {
		e.targetCh <- &targetItem{pos: pos, line: line, key: r.ext, emails: r.emails}
	}
	return nil
}

// addRowFinding appends a finding of the row being collected (findings
// arrive in row order, so they need no sort).
func (e *engine) addRowFinding(f *Finding) error {
	e.enc = appendFinding(e.enc[:0], f, 0)
	return e.rowFinds.Add(e.enc)
}

// addLate records a finding found after its row was settled (duplicates,
// the target check); it is safe for concurrent use.
func (e *engine) addLate(f *Finding, invalidates bool) error {
	e.lateMu.Lock()
	defer e.lateMu.Unlock()
	var flags byte
	if invalidates {
		flags = flagInvalidates
	}
	// Key: position, then arrival, so a row's late findings keep their order.
	buf := appendFinding(make([]byte, 0, 64+len(f.Reason)), f, flags)
	rec := make([]byte, 0, len(buf)+8)
	rec = append(rec, buf[:8]...)
	rec = appendUint64(rec, e.lateSeq)
	rec = append(rec, buf...)
	e.lateSeq++
	return e.late.Add(rec)
}

func appendUint64(b []byte, v uint64) []byte {
	return append(b, byte(v>>56), byte(v>>48), byte(v>>40), byte(v>>32), byte(v>>24), byte(v>>16), byte(v>>8), byte(v))
}

// findDuplicates sorts the identifiers and turns shared values into late
// findings.
func (e *engine) findDuplicates() (int64, error) {
	it, err := e.dups.Sorted()
	if err != nil {
		return 0, err
	}
	return resolveDuplicates(it, e.cfg.TempDir, e.addLate)
}

// writeFindings merges the row findings (in row order already) with the
// late findings (sorted by row), writes the files, keeps the first
// findings, counts codes, and settles invalid the rows a late finding
// refuses.
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
	if err := e.rowFinds.rewind(); err != nil {
		return err
	}
	late, err := e.late.Sorted()
	if err != nil {
		return err
	}
	codes := map[string]*CodeCount{}
	var lastInvalidated int64
	handle := func(f *Finding, flags byte) error {
		res.Findings++
		if f.Severity == SeverityWarning {
			res.Warnings++
		}
		if len(res.Kept) < e.cfg.MaxKeptFindings {
			res.Kept = append(res.Kept, *f)
		}
		cc := codes[f.Code]
		if cc == nil {
			cc = &CodeCount{Code: f.Code, Field: f.Field, Warning: f.Severity == SeverityWarning}
			codes[f.Code] = cc
		}
		cc.Count++
		if len(cc.Examples) < maxExamples {
			cc.Examples = append(cc.Examples, Example{Pos: f.Pos, Line: f.Line, Key: f.Key})
		}
		if flags&flagInvalidates != 0 && f.Pos != lastInvalidated {
			lastInvalidated = f.Pos
			e.valid--
			e.invalid++
			e.settles = append(e.settles, checkpoint.Settlement{Pos: f.Pos, Key: f.Key, Outcome: checkpoint.Invalid,
				ErrorCode: f.Code, Field: f.Field, Message: f.Reason})
			if len(e.settles) >= e.cfg.SettleBatch {
				if err := e.flushSettles(ctx); err != nil {
					return err
				}
			}
		}
		if files != nil {
			return files.write(f)
		}
		return nil
	}
	rowRec, rowOK, err := e.rowFinds.Next()
	if err != nil {
		return err
	}
	lateRec, lateOK := late.Next()
	for rowOK || lateOK {
		var rec []byte
		fromRow := rowOK && (!lateOK || posOf(rowRec) <= posOf(lateRec))
		if fromRow {
			rec = rowRec
		} else {
			rec = lateRec[16:]
		}
		f, flags, err := decodeFinding(rec)
		if err != nil {
			return err
		}
		if err := handle(&f, flags); err != nil {
			return err
		}
		if fromRow {
			if rowRec, rowOK, err = e.rowFinds.Next(); err != nil {
				return err
			}
		} else {
			lateRec, lateOK = late.Next()
		}
	}
	if err := late.Err(); err != nil {
		return err
	}
	if err := e.flushSettles(ctx); err != nil {
		return err
	}
	for _, cc := range codes {
		res.ByCode = append(res.ByCode, *cc)
	}
	slices.SortFunc(res.ByCode, func(a, b CodeCount) int {
		if a.Count != b.Count {
			if a.Count > b.Count {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Code, b.Code)
	})
	return nil
}

func posOf(rec []byte) int64 {
	return int64(uint64(rec[0])<<56 | uint64(rec[1])<<48 | uint64(rec[2])<<40 | uint64(rec[3])<<32 |
		uint64(rec[4])<<24 | uint64(rec[5])<<16 | uint64(rec[6])<<8 | uint64(rec[7]))
}

// progress reports the pass to Config.Progress, at most every 250 ms
// unless final.
func (e *engine) progress(final bool) {
	if e.cfg.Progress == nil || (!final && time.Since(e.lastProg) < 250*time.Millisecond) {
		return
	}
	e.lastProg = time.Now()
	el := time.Since(e.started)
	p := importer.Progress{RunID: e.runID, Read: e.rows, Settled: e.rows, Failures: e.invalid, Elapsed: el,
		ByOutcome: map[checkpoint.Outcome]int64{checkpoint.Valid: e.valid, checkpoint.Invalid: e.invalid}}
	if s := el.Seconds(); s > 0 {
		p.RowsPerSec = float64(e.rows) / s
	}
	e.cfg.Progress(p)
}
