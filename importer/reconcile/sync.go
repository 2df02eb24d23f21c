package reconcile

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"io"
	"log/slog"
	"maps"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
	"github.com/clerkmigrate/clerkmigrate/importer/verdict"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// Kinds of the runs a sync records in the ledger.
const (
	KindSync  = "sync"
	KindPlan  = "sync-plan"
	KindApply = "sync-apply"
)

// Meta keys a sync records with its run.
const (
	MetaHighWater  = runner.MetaHighWater // RFC 3339: offer it as --since to the next run
	MetaTarget     = checkpoint.MetaTarget
	MetaOrphanStep = "orphan_step"
	// MetaOrphanRefused is "true" when the orphan step was refused
	// (OrphanGuardError: the sync's exit code 5), "false" when it was not.
	MetaOrphanRefused = "orphan_step_refused"
	// MetaNotSynced names the properties the mapping sets that the sync
	// cannot update (NotSyncedOf), "; "-separated.
	MetaNotSynced = "not_synced"
)

// notSynced are the CreateUser properties a mapping may set that the sync
// cannot update, and why. Every other property is compared and written
// (secrets by fingerprint; external_id is the key it matches by), so none
// is ignored without a word: a run whose mapping sets one of these says
// so (a warning, the run's Meta, the plan).
var notSynced = map[string]string{
	"web3_wallet":               "wallets are only set when a user is created",
	"skip_password_requirement": "a create-time option",
	"skip_legal_checks":         "a create-time option",
	"skip_user_requirement":     "a create-time option",
	"bypass_client_trust":       "Clerk never returns it, so a change cannot be seen",
}

// NotSyncedOf lists the properties among managed that the sync cannot
// update, each with why ("web3_wallet: wallets are only set ...").
func NotSyncedOf(managed []string) []string {
	var out []string
	for _, p := range managed {
		if why, ok := notSynced[p]; ok {
			out = append(out, p+": "+why)
		}
	}
	slices.Sort(out)
	return out
}

// OrphansNotJudged is the orphan step of an incremental sync.
const OrphansNotJudged = "not judged: an incremental sync reads only changed rows (run a full sync to find orphans)"

// OrphanAction is what a sync does to orphans: users in Clerk that this
// ledger created or adopted in this target (checkpoint.OwningKinds) and
// whose external_id the source no longer has. Other users the source does
// not list (no external_id, or one no run of this ledger created or
// adopted) are not ours: they are reported as such and never touched.
type OrphanAction string

// The orphan actions.
const (
	ReportOrphans OrphanAction = "report"
	BanOrphans    OrphanAction = "ban"
	DeleteOrphans OrphanAction = "delete"
)

// PageSize is the page size of the full scan of Clerk's users.
const PageSize = 500

// Config says what to sync, where, and how.
type Config struct {
	// Source yields the legacy users; Run does not close it.
	Source sources.Source
	// Mapper turns a record into a CreateUser request (*mapping.Mapping).
	Mapper verdict.Mapper
	// MappingFingerprint identifies the mapping, for the ledger and plans.
	MappingFingerprint string
	// Store is the run ledger; Index keeps the copy of Clerk's users and
	// the fingerprints (the same sqlite or postgres Store).
	Store checkpoint.Store
	Index checkpoint.ClerkIndex
	// Gateway is Clerk behind its layers (pacing, retries, per-user
	// spacing, counting): every call of the sync goes through it.
	Gateway *gateway.Gateway
	// Target names the Clerk instance (the index's scope); never the key.
	Target string
	// TargetLock names the instance for the lock that keeps a second run of
	// the ledger off it (checkpoint.RunSpec.TargetLock; never the key);
	// SharedTarget lets runs that all set it write to it together. A plan
	// takes the lock too: it writes nothing to Clerk, but its scan rewrites
	// the ledger's index of the instance, which a sync under way judges its
	// orphans by.
	TargetLock   string
	SharedTarget bool
	// RunID names the run; empty means "sync-<UTC time>-<target hash>".
	RunID string
	// Workers carry out changes at once; 0 means 32 (the gateway's pacer
	// admits what the budget can use).
	Workers int
	// Metadata is Merge (default) or Replace.
	Metadata MetadataMode
	// PruneIdentifiers deletes, after adding the source's new addresses and
	// switching the primary, the email addresses and phone numbers a user
	// has in Clerk that the source no longer lists (emails compared
	// case-insensitively, phones in E.164). Off by default: during a
	// trickle migration users may add addresses in Clerk themselves, and
	// those would be deleted too. A kind the source lists none of for a
	// user is left alone (a user's last identifier is never removed).
	PruneIdentifiers bool
	// SourceWins sends the source's value of a field both the source and
	// Clerk changed since the tool last wrote it (a conflict); without it
	// Clerk's is kept. Either way the row's outcome is conflict.
	SourceWins bool
	// Managed lists the CreateUser properties the mapping sets: for those,
	// an empty source value clears Clerk's. With nil, a property is only
	// compared when the source gives a value.
	Managed []string
	// FingerprintKey keys the secret fingerprints (derive it from the
	// instance's secret key; it is never stored).
	FingerprintKey []byte
	// Orphans is what to do to orphans (default ReportOrphans); MaxDelete
	// caps the orphans Ban or Delete may act on: over it, the whole orphan
	// step is refused (OrphanGuardError). Users not ours are never acted
	// on and do not count against MaxDelete.
	Orphans   OrphanAction
	MaxDelete int64
	// Incremental says the source yields only rows changed since the last
	// run (--since): orphans cannot be judged, and that step is skipped;
	// the scan of Clerk lists only the users updated since the index's
	// high-water mark (less ClerkOverlap) when the index has one. Without
	// it the scan lists every Clerk user (a full scan), which is what
	// judging orphans needs.
	Incremental bool
	// ClerkOverlap is how far before the index's high-water mark an
	// incremental scan still lists; 0 means the ClerkOverlap constant.
	ClerkOverlap time.Duration
	// HighWater, when set, is called after the source is read; its time is
	// recorded in the run's Meta (MetaHighWater) for the next --since.
	HighWater func() time.Time
	// Meta is more run metadata to record with the run (the --since bound
	// and what source it applies to); never a secret.
	Meta map[string]string
	// PlanTo, when set, receives the plan (JSON) and nothing is written to
	// Clerk. ApplyPlan, when set, carries out exactly that plan.
	PlanTo    io.Writer
	ApplyPlan *Plan
	// Logger gets the run's lines; nil means slog.Default().
	Logger *slog.Logger
	// Progress, when set, is called after each ledger flush.
	Progress func(runner.Progress)
	// Started, when set, is called once the ledger holds the run and its
	// target (after the pre-flight and the lock, before the scan):
	// where the caller says what the run is about to do, so that a run
	// refused (another holds the target, another instance) says nothing of
	// work it will not do.
	Started func()

	// pageSize is the scans' page size: PageSize, fewer in tests;
	// maxIncrementalPages is MaxIncrementalPages, fewer in tests.
	pageSize, maxIncrementalPages int
}

// Summary is what a sync did.
type Summary struct {
	runner.Summary
	// Calls by kind: list pages of the scan, creates, PATCH user, metadata
	// writes, email addresses and phone numbers added, ban/unban/lock/unlock,
	// deletes.
	Pages, Creates, Updates, MetadataWrites, Emails, Phones, Flags, Deletes int64
	// EmailsRemoved and PhonesRemoved count DELETE /v1/email_addresses/{id}
	// and /v1/phone_numbers/{id} (PruneIdentifiers).
	EmailsRemoved, PhonesRemoved int64
	// Orphans counts the users of ours in Clerk whose external_id the
	// source lacks; NotOurs the other users in Clerk the source does not
	// list (left alone); OrphanStep says what became of them.
	Orphans    int64
	NotOurs    int64
	OrphanStep string
	// Plan sums up the plan written or applied.
	Plan *PlanCounts
	// Scan is ScanFull or ScanIncremental; Listed counts the users the
	// scan listed, Reindexed those it wrote to the index (new, or with
	// another updated_at), Dropped those gone from Clerk (full scans).
	Scan                       string
	Listed, Reindexed, Dropped int64
	// Settled counts the users found as they were at the last sync, on
	// both sides (see settledGroup): unchanged without a comparison.
	Settled int64
}

// OrphanGuardError is a refused orphan step: more orphans than MaxDelete,
// which is what a broken or truncated source looks like. Nothing was banned
// or deleted; every other change of the run was made.
type OrphanGuardError struct {
	Orphans, Max int64
	Action       OrphanAction
}

func (e *OrphanGuardError) Error() string {
	return fmt.Sprintf("reconcile: refused to %s %d orphaned users: more than --max-delete %d; nothing was %s. "+
		"If the source really lost them, re-run with a higher --max-delete", e.Action, e.Orphans, e.Max, pastTense(e.Action))
}

func pastTense(a OrphanAction) string {
	if a == BanOrphans {
		return "banned"
	}
	return "deleted"
}

// run is one sync in progress.
type run struct {
	cfg   Config
	id    string
	kind  string
	scope string
	log   *slog.Logger
	base  gateway.Stats // the gateway's counts when the sync began
	d     *differ
	w     *writer
	n     callCounts
	plan  *planWriter
	// refused are the rows the duplicate rule refuses, read before the pass.
	refused *verdict.Rejections
	// planned indexes ApplyPlan's entries by key.
	planned map[string]PlanEntry
	// scanned is what the scan did to the index.
	scanned scanCounts
	// settledKey keys the rows' settled states; nil: no shortcut (a plan
	// or an apply diffs every row).
	settledKey []byte

	mu      sync.Mutex
	outcome map[checkpoint.Outcome]int64
	read    int64
	maxPos  int64
	started time.Time
}

func (c Config) withDefaults() (Config, error) {
	switch {
	case c.Source == nil || c.Mapper == nil:
		return c, errors.New("reconcile: no source or mapping")
	case c.Store == nil || c.Index == nil:
		return c, errors.New("reconcile: no ledger")
	case c.Gateway == nil:
		return c, errors.New("reconcile: no Clerk gateway")
	case c.PlanTo != nil && c.ApplyPlan != nil:
		return c, errors.New("reconcile: --plan and --apply exclude each other")
	}
	if c.Workers <= 0 {
		c.Workers = 32
	}
	if c.Metadata == "" {
		c.Metadata = Merge
	}
	if c.Metadata != Merge && c.Metadata != Replace {
		return c, fmt.Errorf("reconcile: metadata mode %q: want merge or replace", c.Metadata)
	}
	if c.Orphans == "" {
		c.Orphans = ReportOrphans
	}
	if c.pageSize <= 0 {
		c.pageSize = PageSize
	}
	if c.maxIncrementalPages <= 0 {
		c.maxIncrementalPages = MaxIncrementalPages
	}
	if c.ClerkOverlap <= 0 {
		c.ClerkOverlap = ClerkOverlap
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c, nil
}

func (c Config) kind() string {
	switch {
	case c.PlanTo != nil:
		return KindPlan
	case c.ApplyPlan != nil:
		return KindApply
	}
	return KindSync
}

// DefaultRunID names a sync run: every invocation is its own run (a sync
// is idempotent, so there is nothing to resume: run it again).
func DefaultRunID(kind, target string, now time.Time) string {
	sum := sha256.Sum256([]byte(target))
	return fmt.Sprintf("%s-%s-%s", kind, now.UTC().Format("20060102T150405.000Z"), hex.EncodeToString(sum[:4]))
}

// Run syncs the source into Clerk: a full scan of Clerk's users into the
// ledger's index, then one pass over the source that creates the missing
// users, updates the changed fields of the others and leaves the unchanged
// alone without a call, then the orphan step. It records one outcome per
// source row and per orphan.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Summary{}, err
	}
	r := &run{cfg: cfg, kind: cfg.kind(), scope: cfg.Target, outcome: map[checkpoint.Outcome]int64{}, started: time.Now()}
	r.id = cfg.RunID
	if r.id == "" {
		r.id = DefaultRunID(r.kind, cfg.Target, r.started)
	}
	r.log = cfg.Logger.With("run", r.id)
	info := cfg.Source.Info()
	if p := cfg.ApplyPlan; p != nil {
		if err := r.checkPlanHeader(info); err != nil {
			return r.summary(checkpoint.Interrupted), err
		}
	}
	target, err := runner.Identify(ctx, cfg.Gateway, cfg.Target)
	if err != nil {
		return Summary{}, fmt.Errorf("reconcile: %w", err)
	}
	if err := r.sameInstance(ctx, target); err != nil {
		return Summary{}, fmt.Errorf("reconcile: %w", err) // no run: no report, nothing sent but the pre-flight
	}
	meta := map[string]string{"source": info.Name, "source_kind": info.Kind,
		"metadata_mode": string(cfg.Metadata), "orphans": string(cfg.Orphans)}
	target.Record(meta)
	if cfg.PruneIdentifiers {
		meta["prune_identifiers"] = "true"
	}
	if cfg.SourceWins {
		meta["source_wins"] = "true"
	}
	if ns := NotSyncedOf(cfg.Managed); len(ns) > 0 {
		meta[MetaNotSynced] = strings.Join(ns, "; ")
		r.log.Warn("the mapping sets properties the sync cannot update: they keep the value the user was created with",
			"not_synced", strings.Join(ns, "; "))
	}
	for k, v := range cfg.Meta {
		meta[k] = v
	}
	held, err := cfg.Store.BeginRun(ctx, checkpoint.RunSpec{
		ID: r.id, Kind: r.kind, SourceFingerprint: info.Fingerprint, MappingFingerprint: cfg.MappingFingerprint, Meta: meta,
		TargetLock: cfg.TargetLock, SharedTarget: cfg.SharedTarget,
	})
	if err != nil {
		return Summary{}, fmt.Errorf("reconcile: opening run %s: %w", r.id, err)
	}
	if cfg.Started != nil {
		cfg.Started()
	}
	// A ledger that loses its hold on the run stops it at once: another
	// process may take the run and the target over.
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	if held.Lost != nil {
		go func() {
			select {
			case <-held.Lost:
				stop(fmt.Errorf("reconcile: run %s stops: %w", r.id, checkpoint.ErrHoldLost))
			case <-ctx.Done():
			}
		}()
	}
	r.base = cfg.Gateway.Stats().Sub(cfg.Gateway.ClaimPreflight()) // the run's counts include its pre-flight
	if r.kind == KindSync && len(cfg.FingerprintKey) > 0 {
		r.settledKey = cfg.settledKey()
	}
	r.d = newDiffer(cfg.Managed, cfg.Metadata, cfg.FingerprintKey, cfg.PruneIdentifiers, cfg.SourceWins)
	r.w = &writer{g: cfg.Gateway, mode: cfg.Metadata, n: &r.n}
	if cfg.PlanTo != nil {
		r.plan = newPlanWriter(cfg.PlanTo, Plan{Version: PlanVersion, RunID: r.id, CreatedAt: r.started.UTC(),
			Target: cfg.Target, SourceFingerprint: info.Fingerprint, MappingFingerprint: cfg.MappingFingerprint,
			MetadataMode: cfg.Metadata, PruneIdentifiers: cfg.PruneIdentifiers, SourceWins: cfg.SourceWins,
			NotSynced: NotSyncedOf(cfg.Managed)})
	}
	sum, err := r.steps(ctx)
	if cause := context.Cause(ctx); errors.Is(cause, checkpoint.ErrHoldLost) {
		err = cause
	}
	status := checkpoint.Done
	if err != nil && !isGuard(err) {
		status = checkpoint.Interrupted
	}
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if ferr := cfg.Store.FinishRun(fctx, r.id, status); ferr != nil && err == nil {
		err = ferr
	}
	sum = r.summary(status)
	return sum, err
}

// sameInstance refuses a sync that would delete or ban (--ban-orphans,
// --delete-orphans, --prune-identifiers, or --apply of a plan) when a run of
// the ledger that made users of this target ours (checkpoint.OwningKinds),
// the run resumed, or the plan's run recorded another Clerk instance than
// the one the pre-flight reached: Clerk's API URL is one for all instances,
// so a key of another instance behind it shares the scope's name. The
// refusal (*runner.InstanceMismatchError) comes before the scan, before
// anything is sent but the pre-flight. A run recorded before instance ids
// (no checkpoint.MetaInstance) is judged by its target's name, as before.
// A sync that only reports and writes is not refused.
func (r *run) sameInstance(ctx context.Context, reached runner.Target) error {
	step := ""
	switch {
	case r.cfg.ApplyPlan != nil:
		step = "sync --apply"
	case r.cfg.Orphans != ReportOrphans:
		step = "sync's orphan step (" + string(r.cfg.Orphans) + ")"
	case r.cfg.PruneIdentifiers:
		step = "sync --prune-identifiers"
	default:
		return nil
	}
	if !reached.Known() {
		return nil
	}
	runs, err := r.cfg.Store.Runs(ctx)
	if err != nil {
		return err
	}
	for _, x := range runs {
		owning := slices.Contains(checkpoint.OwningKinds, x.Kind) && x.Meta[MetaTarget] == r.scope
		plan := r.cfg.ApplyPlan != nil && x.ID == r.cfg.ApplyPlan.RunID
		if !owning && !plan && x.ID != r.id {
			continue
		}
		if err := runner.SameInstance(step, x.ID, runner.RecordedTarget(x), reached); err != nil {
			return err
		}
	}
	return nil
}

func isGuard(err error) bool {
	var g *OrphanGuardError
	return errors.As(err, &g)
}

// steps runs the scan, the source pass and the orphan step.
func (r *run) steps(ctx context.Context) (Summary, error) {
	r.log.Info("sync starting: scanning Clerk's users", "kind", r.kind, "target", r.cfg.Target, "incremental", r.cfg.Incremental)
	if err := r.scan(ctx); err != nil {
		return Summary{}, err
	}
	if r.cfg.ApplyPlan != nil {
		if err := r.checkPlanAgainstClerk(ctx); err != nil {
			return Summary{}, err
		}
	}
	if err := r.pass(ctx); err != nil {
		return Summary{}, err
	}
	if r.cfg.HighWater != nil {
		if hw := r.cfg.HighWater(); !hw.IsZero() {
			if err := r.cfg.Store.SetMeta(ctx, r.id, MetaHighWater, hw.UTC().Format(time.RFC3339Nano)); err != nil {
				return Summary{}, err
			}
		}
	}
	guardErr := r.orphans(ctx)
	if guardErr != nil && !isGuard(guardErr) {
		return Summary{}, guardErr
	}
	if r.plan != nil {
		r.mu.Lock()
		rows := maps.Clone(r.outcome)
		r.mu.Unlock()
		if err := r.plan.close(rows); err != nil {
			return Summary{}, fmt.Errorf("reconcile: writing the plan: %w", err)
		}
	}
	return Summary{}, guardErr
}

// row is one source row on its way.
type row struct {
	s      checkpoint.Settlement // Pos, Key; the outcome once known
	ext    string
	params *request.CreateUser
	have   *checkpoint.IndexedUser
	c      change
	done   bool // settled without a call
	tally  bool // unchanged, owned, nothing to say: counted, not recorded as a row
	// settled is the row's settled state (see settledGroup); settledHit:
	// the state recorded is the same.
	settled    string
	settledHit bool
}

// result is a settled row and the fingerprints to record with it; a
// tallied one is counted, not recorded as a row (see tallyUnchanged).
type result struct {
	s     checkpoint.Settlement
	fps   []checkpoint.Fingerprint
	tally bool
}

const readBatch = 200

// pass finds the rows the duplicate rule refuses (a first read of the
// source, as an import does), then reads the source again in batches,
// diffs each row, settles the unchanged and invalid ones at once and hands
// the others to the workers.
func (r *run) pass(ctx context.Context) error {
	refused, err := r.scanDuplicates(ctx)
	if err != nil {
		return err
	}
	defer refused.Close()
	r.refused = refused
	g, gctx := errgroup.WithContext(ctx)
	jobs := make(chan *row, r.cfg.Workers)
	results := make(chan result, 512)
	var workers sync.WaitGroup
	for range r.cfg.Workers {
		workers.Add(1)
		g.Go(func() error {
			defer workers.Done()
			for j := range jobs {
				res, err := r.work(gctx, j)
				if err != nil {
					return err
				}
				select {
				case results <- res:
				case <-gctx.Done():
					return gctx.Err()
				}
			}
			return nil
		})
	}
	g.Go(func() error { return r.settle(gctx, results) })
	g.Go(func() error {
		defer func() {
			close(jobs)
			workers.Wait()
			close(results)
		}()
		return r.readSource(gctx, jobs, results)
	})
	return g.Wait()
}

// scanDuplicates reads the source once for the rows the duplicate rule
// refuses (verdict.Scan: the rule validate and import apply) and rewinds it.
func (r *run) scanDuplicates(ctx context.Context) (*verdict.Rejections, error) {
	rw, ok := r.cfg.Source.(sources.Rewinder)
	if !ok {
		return nil, fmt.Errorf("reconcile: source %s cannot be read twice (the duplicate check reads it first)", r.cfg.Source.Info().Name)
	}
	refused, err := verdict.Scan(ctx, r.cfg.Source, r.cfg.Mapper, verdict.ScanOptions{Workers: runtime.GOMAXPROCS(0)})
	if err != nil {
		return nil, fmt.Errorf("reconcile: checking duplicates: %w", err)
	}
	if err := rw.Rewind(ctx); err != nil {
		refused.Close()
		return nil, fmt.Errorf("reconcile: %w", err)
	}
	return refused, nil
}

// read is the reader: source → mapping → index lookups → diff → dispatch.
func (r *run) readSource(ctx context.Context, jobs chan<- *row, results chan<- result) error {
	batch := make([]*row, 0, readBatch)
	flush := func() error {
		if err := r.prepare(ctx, batch); err != nil {
			return err
		}
		for _, rw := range batch {
			var send chan<- *row
			if !rw.done {
				send = jobs
			}
			if send != nil {
				select {
				case send <- rw:
				case <-ctx.Done():
					return ctx.Err()
				}
				continue
			}
			select {
			case results <- result{s: rw.s, fps: rw.c.fps, tally: rw.tally}:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		batch = batch[:0]
		return nil
	}
	for {
		rec, err := r.cfg.Source.Next(ctx)
		if errors.Is(err, io.EOF) {
			return flush()
		}
		if err != nil {
			return fmt.Errorf("reconcile: reading the source: %w", err)
		}
		r.mu.Lock()
		r.read++
		r.maxPos = max(r.maxPos, rec.Pos.Index)
		r.mu.Unlock()
		rw, err := r.mapRow(rec)
		if err != nil {
			return err
		}
		batch = append(batch, rw)
		if len(batch) == readBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// mapRow takes a record's verdict (verdict.Check and the duplicate rule,
// as import and validate do); a row that cannot be sent is settled invalid.
func (r *run) mapRow(rec sources.Record) (*row, error) {
	rw := &row{s: checkpoint.Settlement{Pos: rec.Pos.Index, Key: rec.Key}}
	p := &request.CreateUser{}
	v := verdict.Check(r.cfg.Mapper, rec, p)
	if !v.Valid() {
		rw.s, rw.done = v.Settlement(&rec), true
		return rw, nil
	}
	f, refused, err := r.refused.At(rec.Pos.Index)
	if err != nil {
		return nil, fmt.Errorf("reconcile: reading the duplicate check: %w", err)
	}
	if refused {
		rw.s, rw.done = verdict.Refused(&f), true
		return rw, nil
	}
	// A row with warnings is sent; the warnings stay in its message.
	rw.s.Message = verdict.WarningNote(rec.Pos, v.Errs)
	rw.ext, rw.params = v.IDs.Ext, p
	return rw, nil
}

// prepare looks a batch up in the index and decides each row's change.
func (r *run) prepare(ctx context.Context, batch []*row) error {
	var exts []string
	for _, rw := range batch {
		if !rw.done {
			exts = append(exts, rw.ext)
		}
	}
	if len(exts) == 0 {
		return nil
	}
	have, err := r.cfg.Index.UsersByExternalID(ctx, r.scope, exts)
	if err != nil {
		return err
	}
	fps, err := r.cfg.Index.Fingerprints(ctx, r.scope, exts)
	if err != nil {
		return err
	}
	if !r.cfg.Incremental { // only a full sync judges orphans
		if err := r.cfg.Index.MarkSeen(ctx, r.scope, exts); err != nil {
			return err
		}
	}
	var newEmails []string
	for _, rw := range batch {
		if rw.done {
			continue
		}
		if u, ok := have[rw.ext]; ok {
			rw.have = &u
			rw.s.ClerkID = u.ClerkID
			if r.settledAgain(rw, fps[rw.ext]) {
				rw.c = change{} // as at the last sync, on both sides
				rw.settledHit = true
				r.n.settled.Add(1)
				continue
			}
			st, err := decodeState(u)
			if err != nil {
				return fmt.Errorf("reconcile: index entry of %s: %w", rw.ext, err)
			}
			rw.c = r.d.diff(rw.ext, rw.params, st, fps[rw.ext])
			r.recordSettled(rw, fps[rw.ext][settledGroup])
		} else {
			rw.c = r.d.forCreate(rw.ext, rw.params)
			newEmails = append(newEmails, rw.params.EmailAddresses...)
		}
		if rw.s.Message != "" { // the mapping's warnings
			rw.c.notes = append(rw.c.notes, rw.s.Message)
		}
	}
	taken, err := r.cfg.Index.UsersByEmail(ctx, r.scope, newEmails)
	if err != nil {
		return err
	}
	for _, rw := range batch {
		if !rw.done {
			r.decide(rw, taken)
		}
	}
	return r.tallyUnchanged(ctx, batch)
}

// tallyUnchanged marks the batch's unchanged rows that need no row of their
// own to be counted instead (checkpoint.Tallier): nothing to say about them
// (no message), and their user already owned in this target by an earlier
// row (checkpoint.OwningKinds), which the ledger keeps. A user not yet
// owned gets its row: that row is what makes it ours. So a night with
// nothing to do writes a few counts instead of a row per user; the
// outcome files list the rows recorded and say how many were counted.
func (r *run) tallyUnchanged(ctx context.Context, batch []*row) error {
	if _, ok := r.cfg.Store.(checkpoint.Tallier); !ok {
		return nil
	}
	var us []checkpoint.IndexedUser
	for _, rw := range batch {
		if !rw.done || rw.s.Outcome != checkpoint.Unchanged || rw.s.Message != "" || rw.have == nil || rw.have.ExternalID != rw.s.Key {
			continue
		}
		// A settled state is recorded by a sync of this target that
		// settled the row (a row, which made the user ours, or a tally of
		// a user already ours) before it recorded the state.
		if rw.settledHit {
			rw.tally = true
			continue
		}
		us = append(us, *rw.have)
	}
	if len(us) == 0 {
		return nil
	}
	owned, err := r.cfg.Index.Owners(ctx, r.scope, us)
	if err != nil {
		return err
	}
	for _, rw := range batch {
		if rw.done && rw.s.Outcome == checkpoint.Unchanged && rw.s.Message == "" && rw.have != nil && owned[rw.have.ClerkID] != "" {
			rw.tally = true
		}
	}
	return nil
}

// decide settles what needs no call and marks the rest for a worker.
func (r *run) decide(rw *row, taken map[string]checkpoint.IndexedUser) {
	if rw.c.create {
		for _, e := range rw.params.EmailAddresses {
			if u, ok := taken[strings.ToLower(e)]; ok {
				rw.s.Outcome, rw.s.ErrorCode, rw.s.Field = checkpoint.Failed, clerk.CodeIdentifierExists, "email_address"
				rw.s.Message = fmt.Sprintf("email_address is already used by Clerk user %s (external_id %q)", u.ClerkID, u.ExternalID)
				rw.done, rw.c.fps = true, nil
				return
			}
		}
	}
	action := ActionUpdate
	if rw.c.create {
		action = ActionCreate
	}
	unchanged := rw.c.writes() == 0
	switch {
	case r.cfg.ApplyPlan != nil:
		e, ok := r.planned[rw.ext]
		switch {
		case unchanged:
		case !ok:
			rw.s.Outcome, rw.s.Message, rw.done = checkpoint.Skipped, "changed, but not in the plan: left for the next sync", true
			rw.c.fps = nil
			return
		case e.Action != action || !sameFields(e.Fields, rw.c.fields):
			rw.s.Outcome, rw.s.ErrorCode, rw.done = checkpoint.Failed, "plan_mismatch", true
			rw.s.Message = fmt.Sprintf("the plan says %s %v; the source and Clerk now say %s %v", e.Action, e.Fields, action, rw.c.fields)
			rw.c.fps = nil
			return
		}
	case r.plan != nil:
		rw.done, rw.c.fps = true, nil
		if unchanged && len(rw.c.drift)+len(rw.c.conflicts) == 0 {
			rw.s.Outcome, rw.s.Message = checkpoint.Unchanged, strings.Join(rw.c.notes, "; ")
			return
		}
		e := PlanEntry{Action: action, Key: rw.ext, Fields: rw.c.fields, Drift: rw.c.drift, Conflicts: rw.c.conflicts}
		if unchanged {
			e.Action = ActionKeep
		}
		if rw.have != nil {
			e.ClerkID, e.UpdatedAt = rw.have.ClerkID, rw.have.UpdatedAt
		}
		r.plan.add(e)
		rw.s.Outcome, rw.s.Message = r.settled(&rw.c, false)
		if rw.s.Outcome == checkpoint.Unchanged {
			rw.s.Outcome = checkpoint.Valid
		}
		if !unchanged {
			rw.s.Message = strings.TrimSuffix("planned: "+action+" "+strings.Join(rw.c.fields, ",")+"; "+rw.s.Message, "; ")
		}
		return
	}
	if unchanged {
		rw.s.Outcome, rw.s.Message = r.settled(&rw.c, false)
		rw.done = true
	}
}

// settled is the outcome and message of a row whose writes, if any
// (wrote), succeeded: conflict over drift over updated or unchanged, and a
// message that names the fields of each and the row's notes.
func (r *run) settled(c *change, wrote bool) (checkpoint.Outcome, string) {
	o := checkpoint.Unchanged
	var parts []string
	if wrote {
		o = checkpoint.Updated
		parts = append(parts, "changed: "+strings.Join(c.fields, ", "))
	}
	if len(c.drift) > 0 {
		o = checkpoint.Drift
		parts = append(parts, "edited in Clerk, not in the source: Clerk's value kept (drift): "+strings.Join(c.drift, ", "))
	}
	if len(c.conflicts) > 0 {
		o = checkpoint.Conflict
		how := "Clerk's value kept (--source-wins sends the source's)"
		if r.cfg.SourceWins {
			how = "the source's value sent (--source-wins)"
		}
		parts = append(parts, "edited in both Clerk and the source (conflict), "+how+": "+strings.Join(c.conflicts, ", "))
	}
	return o, strings.Join(append(parts, c.notes...), "; ")
}

// work carries out one row's change.
func (r *run) work(ctx context.Context, rw *row) (result, error) {
	s := rw.s
	var err error
	if rw.c.create {
		r.n.creates.Add(1)
		var u *clerk.User
		u, err = r.cfg.Gateway.CreateUser(ctx, rw.params)
		if err == nil {
			s.Outcome, s.ClerkID = checkpoint.Created, u.ID
		}
	} else {
		err = r.w.apply(ctx, rw.have.ClerkID, &rw.c)
		if err == nil {
			s.Outcome, s.Message = r.settled(&rw.c, true)
		}
	}
	if err == nil {
		return result{s: s, fps: rw.c.fps}, nil
	}
	switch clerk.Classify(err) {
	case clerk.Fatal:
		return result{}, &runner.FatalError{RunID: r.id, Key: rw.s.Key, Err: err}
	case clerk.Canceled:
		return result{}, err
	}
	if ctx.Err() != nil {
		return result{}, ctx.Err()
	}
	return result{s: failure(s, err)}, nil
}

// settle is the writer: it records outcomes and fingerprints in batches.
func (r *run) settle(ctx context.Context, results <-chan result) error {
	var ss []checkpoint.Settlement
	var fps []checkpoint.Fingerprint
	tallied := map[checkpoint.Outcome]int64{}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	// Writes go on after a cancellation so that what was done is recorded.
	wctx := context.WithoutCancel(ctx)
	flush := func() error {
		if len(ss) > 0 {
			if err := r.cfg.Store.Settle(wctx, r.id, ss); err != nil {
				return err
			}
		}
		if len(tallied) > 0 {
			if err := r.cfg.Store.(checkpoint.Tallier).Tally(wctx, r.id, tallied); err != nil {
				return err
			}
		}
		if len(fps) > 0 {
			if err := r.cfg.Index.PutFingerprints(wctx, r.scope, fps); err != nil {
				return err
			}
		}
		r.mu.Lock()
		for _, s := range ss {
			r.outcome[s.Outcome]++
		}
		for o, n := range tallied {
			r.outcome[o] += n
		}
		r.mu.Unlock()
		ss, fps = ss[:0], fps[:0]
		clear(tallied)
		if r.cfg.Progress != nil {
			r.cfg.Progress(r.progress())
		}
		return nil
	}
	for {
		select {
		case res, ok := <-results:
			if !ok {
				return flush()
			}
			if res.tally {
				tallied[res.s.Outcome]++
			} else {
				ss = append(ss, res.s)
			}
			fps = append(fps, res.fps...)
			if len(ss) >= 256 || len(fps) >= 1024 {
				if err := flush(); err != nil {
					return err
				}
			}
		case <-tick.C:
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// recordOrphanStep records what became of the orphans, and whether the
// step was refused (the run's verdict, for status RUN-ID).
func (r *run) recordOrphanStep(ctx context.Context, step string, refused bool) error {
	if err := r.cfg.Store.SetMeta(ctx, r.id, MetaOrphanStep, step); err != nil {
		return err
	}
	return r.cfg.Store.SetMeta(ctx, r.id, MetaOrphanRefused, strconv.FormatBool(refused))
}

// orphans reports, bans or deletes the users of ours whose external_id the
// source no longer has, all or none under the MaxDelete cap, and reports
// the other users the source does not list as not ours, untouched.
func (r *run) orphans(ctx context.Context) error {
	if r.cfg.Incremental {
		r.log.Warn("incremental sync: the source gave only changed rows, so orphans cannot be judged; orphan step skipped")
		return r.recordOrphanStep(ctx, OrphansNotJudged, false)
	}
	counts, err := r.cfg.Index.CountUnseen(ctx, r.scope)
	if err != nil {
		return err
	}
	n := counts.Owned
	act := r.cfg.Orphans != ReportOrphans
	var guard error
	if act && n > r.cfg.MaxDelete {
		guard = &OrphanGuardError{Orphans: n, Max: r.cfg.MaxDelete, Action: r.cfg.Orphans}
		r.log.Error("orphan step refused", "orphans", n, "max_delete", r.cfg.MaxDelete, "not_ours", counts.NotOwned)
		act = false
	}
	step := fmt.Sprintf("%d orphans: %s", n, r.cfg.Orphans)
	if guard != nil {
		step = fmt.Sprintf("%d orphans: refused (over --max-delete %d)", n, r.cfg.MaxDelete)
	}
	step += fmt.Sprintf("; %d not ours: left alone", counts.NotOwned)
	r.log.Info("orphan step: "+step, "orphans", n, "not_ours", counts.NotOwned)
	if err := r.recordOrphanStep(ctx, step, guard != nil); err != nil {
		return err
	}
	r.mu.Lock()
	pos := r.maxPos
	r.mu.Unlock()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.Workers)
	results := make(chan result, 512)
	done := make(chan error, 1)
	go func() { done <- r.settle(context.WithoutCancel(ctx), results) }()
	logged := orphanLog{log: r.log}
	var bans []orphanCall
	unseen := r.cfg.Index.Unseen
	if counts == (checkpoint.UnseenCounts{}) {
		// Nothing to stream: the count walked the same users (the run
		// holds the ledger), and a walk costs an anti-join of the whole
		// index with the run's marks (0.4 CPU s at 100,000 users).
		unseen = func(context.Context, string, func(checkpoint.IndexedUser) error) error { return nil }
	}
	err = unseen(ctx, r.scope, func(u checkpoint.IndexedUser) error {
		pos++
		if u.Owner == "" {
			reason := notOursReason(u)
			logged.notOurs(u, reason)
			if r.plan != nil {
				r.plan.add(PlanEntry{Action: ActionNotOurs, Key: u.ExternalID, ClerkID: u.ClerkID, Reason: reason})
			}
			results <- result{s: checkpoint.Settlement{Pos: pos, Key: u.ExternalID, ClerkID: u.ClerkID,
				Outcome: checkpoint.NotOurs, Message: reason}}
			return gctx.Err()
		}
		s := checkpoint.Settlement{Pos: pos, Key: u.ExternalID, ClerkID: u.ClerkID, Outcome: checkpoint.Orphan,
			Message: "ours (run " + u.Owner + "), in Clerk, not in the source"}
		if guard != nil {
			s.Message = guard.Error()
		}
		if !act || gctx.Err() != nil {
			logged.orphan(u, ActionOrphan)
			r.planOrphan(ActionOrphan, u)
			results <- result{s: s}
			return gctx.Err()
		}
		logged.orphan(u, r.orphanAction())
		if res, ok := r.orphanReady(u, s); !ok { // the plan is written by this goroutine only
			results <- res
			return nil
		}
		if r.cfg.Orphans == BanOrphans { // in bulk, clerk.MaxBulkBan a call
			bans = append(bans, orphanCall{u: u, s: s})
			if len(bans) == clerk.MaxBulkBan {
				batch := bans
				bans = nil
				g.Go(func() error { return r.banOrphans(gctx, batch, results) })
			}
			return nil
		}
		g.Go(func() error {
			res, err := r.deleteOrphan(gctx, u, s)
			if err != nil {
				return err
			}
			results <- res
			return nil
		})
		return nil
	})
	if len(bans) > 0 {
		if err == nil && gctx.Err() == nil {
			g.Go(func() error { return r.banOrphans(gctx, bans, results) })
		} else {
			for _, b := range bans { // not sent: reported as they are
				results <- result{s: b.s}
			}
		}
	}
	if gerr := g.Wait(); err == nil {
		err = gerr
	}
	close(results)
	if serr := <-done; err == nil {
		err = serr
	}
	logged.close()
	if err != nil {
		return err
	}
	return guard
}

// notOursReason says why a user the source does not list is not ours.
func notOursReason(u checkpoint.IndexedUser) string {
	if u.ExternalID == "" {
		return "not ours: no external_id, so no run of this ledger created or adopted it; left alone"
	}
	return fmt.Sprintf("not ours: no run of this ledger created or adopted external_id %q in this target; left alone", u.ExternalID)
}

// orphanLogLimit bounds the users logged one by one per list; all of them
// are in the ledger (outcomes.jsonl) and the plan.
const orphanLogLimit = 100

// orphanLog logs which list each user the source does not list is on, up
// to orphanLogLimit a list, then how many more there were.
type orphanLog struct {
	log               *slog.Logger
	orphans, notOursN int
}

func (l *orphanLog) orphan(u checkpoint.IndexedUser, action string) {
	if l.orphans++; l.orphans <= orphanLogLimit {
		l.log.Info("orphan: ours, not in the source", "key", u.ExternalID, "clerk_id", u.ClerkID, "owner_run", u.Owner, "action", action)
	}
}

func (l *orphanLog) notOurs(u checkpoint.IndexedUser, reason string) {
	if l.notOursN++; l.notOursN <= orphanLogLimit {
		l.log.Info("not ours: left alone", "external_id", u.ExternalID, "clerk_id", u.ClerkID, "reason", reason)
	}
}

func (l *orphanLog) close() {
	if n := l.orphans - orphanLogLimit; n > 0 {
		l.log.Info(fmt.Sprintf("%d more orphans not logged one by one; all are in the run's outcomes", n))
	}
	if n := l.notOursN - orphanLogLimit; n > 0 {
		l.log.Info(fmt.Sprintf("%d more users not ours not logged one by one; all are in the run's outcomes", n))
	}
}

// orphanAction is the plan action of an orphan acted on.
func (r *run) orphanAction() string {
	if r.cfg.Orphans == BanOrphans {
		return ActionBan
	}
	return ActionDelete
}

func (r *run) planOrphan(action string, u checkpoint.IndexedUser) {
	if r.plan != nil {
		r.plan.add(PlanEntry{Action: action, Key: u.ExternalID, ClerkID: u.ClerkID, UpdatedAt: u.UpdatedAt, OwnerRun: u.Owner})
	}
}

// orphanReady settles an orphan to act on that needs no call: the plan's
// entry (written, not carried out), one an applied plan does not name
// (reported only), one banned already. ok says it needs its call.
func (r *run) orphanReady(u checkpoint.IndexedUser, s checkpoint.Settlement) (res result, ok bool) {
	action := r.orphanAction()
	if r.plan != nil {
		r.planOrphan(action, u)
		s.Message = "planned: " + action
		return result{s: s}, false
	}
	if r.cfg.ApplyPlan != nil {
		if e, ok := r.planned[u.ExternalID]; !ok || e.Action != action {
			s.Message = "not in the plan: reported only"
			return result{s: s}, false
		}
	}
	if st, _ := decodeState(u); action == ActionBan && st.Banned {
		s.Outcome, s.Message = checkpoint.Banned, "already banned"
		return result{s: s}, false
	}
	return result{}, true
}

// deleteOrphan deletes one orphan (a 404: gone already).
func (r *run) deleteOrphan(ctx context.Context, u checkpoint.IndexedUser, s checkpoint.Settlement) (result, error) {
	r.n.deletes.Add(1)
	err := r.cfg.Gateway.DeleteUser(ctx, u.ClerkID)
	var ae *clerk.Error
	if errors.As(err, &ae) && ae.Status == 404 {
		err = nil // gone already
	}
	s.Outcome = checkpoint.Deleted
	s.Message = "ours (run " + u.Owner + "), not in the source: " + pastTense(r.cfg.Orphans)
	if err != nil {
		if clerk.Classify(err) == clerk.Fatal {
			return result{}, &runner.FatalError{RunID: r.id, Key: s.Key, Err: err}
		}
		return result{s: failure(s, err)}, nil
	}
	return result{s: s}, nil
}

// orphanCall is an orphan waiting for its ban.
type orphanCall struct {
	u checkpoint.IndexedUser
	s checkpoint.Settlement
}

// banOrphans bans up to clerk.MaxBulkBan orphans in one POST /v1/users/ban
// and settles each: banned when Clerk's answer holds it banned, failed
// otherwise (the call failed, or the answer left the user out).
func (r *run) banOrphans(ctx context.Context, batch []orphanCall, results chan<- result) error {
	ids := make([]string, len(batch))
	for i, b := range batch {
		ids[i] = b.u.ClerkID
	}
	r.n.flags.Add(1)
	us, err := r.cfg.Gateway.BanUsers(ctx, ids)
	if err != nil && clerk.Classify(err) == clerk.Fatal {
		return &runner.FatalError{RunID: r.id, Key: batch[0].s.Key, Err: err}
	}
	banned := make(map[string]bool, len(us))
	for _, u := range us {
		banned[u.ID] = u.Banned
	}
	for _, b := range batch {
		s := b.s
		s.Outcome, s.Message = checkpoint.Banned, "ours (run "+b.u.Owner+"), not in the source: banned"
		switch {
		case err != nil:
			s = failure(s, err)
		case !banned[b.u.ClerkID]:
			s.Outcome, s.ErrorCode = checkpoint.Failed, "not_banned"
			s.Message = "ours (run " + b.u.Owner + "), not in the source: Clerk's answer to the ban does not hold this user banned"
		}
		results <- result{s: s}
	}
	return nil
}

// progress is the run's state for a display.
func (r *run) progress() runner.Progress {
	st := r.cfg.Gateway.Stats().Sub(r.base)
	r.mu.Lock()
	defer r.mu.Unlock()
	p := runner.Progress{RunID: r.id, Read: r.read, ByOutcome: map[checkpoint.Outcome]int64{},
		Requests: st.Requests(), RateLimited: st.RateLimited, Elapsed: time.Since(r.started)}
	for o, n := range r.outcome {
		p.ByOutcome[o] = n
		p.Settled += n
	}
	p.Failures = r.outcome[checkpoint.Failed] + r.outcome[checkpoint.Invalid]
	if s := p.Elapsed.Seconds(); s > 0 {
		p.RowsPerSec, p.RequestsPerSec = float64(p.Settled)/s, float64(p.Requests)/s
	}
	return p
}

// summary sums the run up.
func (r *run) summary(status checkpoint.RunStatus) Summary {
	s := Summary{}
	s.RunID, s.Kind, s.Status = r.id, r.kind, status
	s.Elapsed = time.Since(r.started)
	if r.cfg.Gateway != nil {
		p := r.progress()
		s.Read, s.ByOutcome = p.Read, p.ByOutcome
		runner.GatewaySummary(&s.Summary, r.cfg.Gateway, r.base)
		s.RequestsPerSec, s.RowsPerSec = p.RequestsPerSec, p.RowsPerSec
	}
	s.Pages, s.Creates, s.Updates, s.MetadataWrites = r.n.pages.Load(), r.n.creates.Load(), r.n.updates.Load(), r.n.metadata.Load()
	s.Emails, s.Phones, s.Flags, s.Deletes = r.n.emails.Load(), r.n.phones.Load(), r.n.flags.Load(), r.n.deletes.Load()
	s.EmailsRemoved, s.PhonesRemoved = r.n.emailsRemoved.Load(), r.n.phonesRemoved.Load()
	s.Orphans = s.ByOutcome[checkpoint.Orphan] + s.ByOutcome[checkpoint.Banned] + s.ByOutcome[checkpoint.Deleted]
	s.NotOurs = s.ByOutcome[checkpoint.NotOurs]
	s.Scan, s.Listed, s.Reindexed, s.Dropped = r.scanned.kind, r.scanned.listed, r.scanned.written, r.scanned.dropped
	s.Settled = r.n.settled.Load()
	if r.plan != nil {
		c := r.plan.counts
		c.Unchanged, c.Invalid, c.Failed = s.ByOutcome[checkpoint.Unchanged], s.ByOutcome[checkpoint.Invalid], s.ByOutcome[checkpoint.Failed]
		s.Plan = &c
	}
	return s
}

// checkPlanHeader refuses a plan made for another target, source or
// mapping.
func (r *run) checkPlanHeader(info sources.Info) error {
	p := r.cfg.ApplyPlan
	switch {
	case p.Target != r.cfg.Target:
		return fmt.Errorf("%w: it was made for target %q, not %q", ErrStalePlan, p.Target, r.cfg.Target)
	case p.SourceFingerprint != info.Fingerprint:
		return fmt.Errorf("%w: the source changed since it was made (fingerprint %s, now %s)", ErrStalePlan, p.SourceFingerprint, info.Fingerprint)
	case p.MappingFingerprint != r.cfg.MappingFingerprint:
		return fmt.Errorf("%w: the mapping changed since it was made", ErrStalePlan)
	case p.MetadataMode != r.cfg.Metadata:
		return fmt.Errorf("%w: it was made with metadata mode %s, not %s", ErrStalePlan, p.MetadataMode, r.cfg.Metadata)
	case p.PruneIdentifiers != r.cfg.PruneIdentifiers:
		return fmt.Errorf("%w: it was made with --prune-identifiers=%t, not %t", ErrStalePlan, p.PruneIdentifiers, r.cfg.PruneIdentifiers)
	case p.SourceWins != r.cfg.SourceWins:
		return fmt.Errorf("%w: it was made with --source-wins=%t, not %t", ErrStalePlan, p.SourceWins, r.cfg.SourceWins)
	}
	r.planned = make(map[string]PlanEntry, len(p.Entries))
	for _, e := range p.Entries {
		if e.Action != ActionNotOurs { // listed for people; nothing to carry out
			r.planned[e.Key] = e
		}
	}
	return nil
}

// checkPlanAgainstClerk refuses the whole plan, before any write, when a
// planned user changed in Clerk since (its updated_at differs, it is gone,
// or a user to create now exists).
func (r *run) checkPlanAgainstClerk(ctx context.Context) error {
	entries := slices.DeleteFunc(slices.Clone(r.cfg.ApplyPlan.Entries), func(e PlanEntry) bool { return e.Action == ActionNotOurs })
	var stale []string
	for start := 0; start < len(entries); start += 500 {
		chunk := entries[start:min(len(entries), start+500)]
		keys := make([]string, len(chunk))
		for i, e := range chunk {
			keys[i] = e.Key
		}
		now, err := r.cfg.Index.UsersByExternalID(ctx, r.scope, keys)
		if err != nil {
			return err
		}
		for _, e := range chunk {
			u, ok := now[e.Key]
			switch {
			case e.Action == ActionCreate && ok:
				stale = append(stale, fmt.Sprintf("%s (now in Clerk as %s)", e.Key, u.ClerkID))
			case e.Action != ActionCreate && (!ok || u.ClerkID != e.ClerkID || u.UpdatedAt != e.UpdatedAt):
				stale = append(stale, fmt.Sprintf("%s (Clerk user %s changed)", e.Key, e.ClerkID))
			}
		}
	}
	if len(stale) > 0 {
		return fmt.Errorf("%w: %d planned users changed in Clerk since the plan was made, e.g. %s; nothing was written: make a new plan",
			ErrStalePlan, len(stale), strings.Join(stale[:min(3, len(stale))], ", "))
	}
	return nil
}
