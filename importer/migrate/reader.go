package migrate

import (
	"context"
	"errors"
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"io"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
	"github.com/clerkmigrate/clerkmigrate/importer/verdict"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// CodeNotSelected is a row left out by OnlyKeys.
const CodeNotSelected = "not_selected"

// job is one row for a worker.
type job struct {
	pos         int64
	key         string // the source key, for the ledger
	ext         string // the external_id, for lookups
	params      *request.CreateUser
	hash        string
	lookupFirst bool   // left in flight by an earlier run: look it up before sending
	note        string // the mapping's warnings (verdict.WarningNote), kept as the row's message unless it fails
}

// Mark is the row as it is marked in flight.
func (j *job) Mark() checkpoint.Row {
	return checkpoint.Row{Pos: j.pos, Key: j.key, RequestHash: j.hash}
}

// reader is the import pass's reader: it reads the source, and decides
// what to do with each row given the ledger and the row's verdict: skip it
// (settled earlier), settle it at once (invalid, refused as a duplicate,
// not selected), or mark it in flight and dispatch it.
type reader struct {
	cfg     Config
	p       *runner.Pipeline[*job]
	opened  runner.Opened
	refused *verdict.Rejections
	src     *eofWatcher
}

// readAndMark checks the duplicates, reads every row, then records the
// high-water mark once the source was read to its end. A cancellation is
// not an error of the reader's: the pipeline reports the interruption.
func (r *reader) readAndMark(ctx context.Context) error {
	var err error
	if r.refused, err = scanDuplicates(ctx, r.cfg); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	if err := r.read(ctx); err != nil || !r.src.eof || ctx.Err() != nil {
		return err
	}
	hw := r.cfg.HighWater
	if h, ok := r.cfg.Source.(runner.HighWaterer); ok && hw == nil {
		hw = h.HighWater
	}
	if hw == nil {
		return nil
	}
	return runner.RecordHighWater(ctx, r.cfg.Store, r.opened.Run.ID, hw())
}

// fastSkipThrough is the position up to which every row is settled and
// none needs another look: the reader skips those without asking the
// ledger. 0 when the whole ledger must be consulted.
func (r *reader) fastSkipThrough() int64 {
	pr := r.opened.Progress
	if !r.opened.Run.Reopened || r.cfg.RetryFailed || r.cfg.RetryAllFailed {
		return 0
	}
	if pr.ByOutcome[checkpoint.Skipped] > 0 || pr.ByOutcome[checkpoint.Valid] > 0 {
		return 0
	}
	return pr.MaxSettledPos
}

// reconsider says whether a row the ledger holds must be handled again,
// and whether it must be looked up before anything is sent.
func (r *reader) reconsider(st checkpoint.RowState) (again, lookupFirst bool) {
	if st.InFlight {
		return true, true
	}
	switch st.Outcome {
	case checkpoint.Skipped, checkpoint.Valid:
		return true, false
	case checkpoint.Failed:
		if r.cfg.RetryAllFailed || (r.cfg.RetryFailed && st.Retryable) {
			// A failure after retries may hide a create that landed.
			return true, true
		}
	case checkpoint.Invalid:
		return r.cfg.RetryAllFailed, false
	}
	return false, false
}

// close removes the duplicate check's files.
func (r *reader) close() {
	if r.refused != nil {
		r.refused.Close()
	}
}

func (r *reader) read(ctx context.Context) error {
	skipThrough := r.fastSkipThrough()
	var cursor *runner.Cursor
	if r.opened.Run.Reopened {
		// From the last row of the settled prefix on: its key is checked.
		cursor = runner.NewCursor(r.cfg.Store, r.opened.Run.ID, checkpoint.Filter{FromPos: max(skipThrough, 1)})
	}
	d := r.p.Dispatcher(r.cfg.MarkBatch)
	for {
		rec, err := r.src.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("migrate: reading %s: %w", r.cfg.Source.Info().Name, err)
		}
		r.p.CountRead()
		again, lookupFirst, err := r.decide(ctx, cursor, skipThrough, rec)
		if err != nil {
			return err
		}
		if !again {
			r.p.CountSettledBefore()
			continue
		}
		if err := r.handle(ctx, d, rec, lookupFirst); err != nil || ctx.Err() != nil {
			return err
		}
	}
	return d.Flush(ctx)
}

// decide says whether the row needs handling in this invocation, given the
// settled prefix and the ledger's row at its position.
func (r *reader) decide(ctx context.Context, cursor *runner.Cursor, skipThrough int64, rec sources.Record) (again, lookupFirst bool, err error) {
	pos := rec.Pos.Index
	if pos < skipThrough {
		return false, false, nil
	}
	if cursor == nil {
		return true, false, nil
	}
	st, ok, err := cursor.At(ctx, pos)
	if err != nil {
		return false, false, err
	}
	if ok && st.Key != rec.Key {
		return false, false, &SourceChangedError{RunID: r.opened.Run.ID, Pos: pos, LedgerKey: st.Key, SourceKey: rec.Key}
	}
	if pos == skipThrough || !ok {
		return pos != skipThrough, false, nil
	}
	again, lookupFirst = r.reconsider(st)
	return again, lookupFirst, nil
}

// handle settles or dispatches one row this invocation handles.
func (r *reader) handle(ctx context.Context, d *runner.Dispatcher[*job], rec sources.Record, lookupFirst bool) error {
	j, s, send, err := r.prepare(rec, lookupFirst)
	if err != nil {
		return err
	}
	if !send {
		r.p.SettleNow(ctx, s)
		return nil
	}
	return d.Add(ctx, j)
}

// SourceChangedError is a resume over a source whose rows moved since the
// run began (a live table gained or lost rows before the resume point, or a
// changed file was forced): the ledger held another key at the same
// position, so resuming by position could skip a row or settle one under
// another's outcome. A new run is safe: users already in Clerk are found by
// external_id and recorded exists.
type SourceChangedError struct {
	RunID     string
	Pos       int64
	LedgerKey string
	SourceKey string
}

func (e *SourceChangedError) Error() string {
	return fmt.Sprintf("migrate: run %s cannot be resumed: the source changed since it began (position %d held key %q, now %q); "+
		"start a new run (--run-id): users already in Clerk are found by external_id and recorded exists",
		e.RunID, e.Pos, e.LedgerKey, e.SourceKey)
}

// prepare takes one row's verdict: a job to send, or the settlement it
// ends with at once. A row left in flight earlier is sent (after a lookup)
// whatever its verdict now: it may be in Clerk already.
func (r *reader) prepare(rec sources.Record, lookupFirst bool) (*job, checkpoint.Settlement, bool, error) {
	s := checkpoint.Settlement{Pos: rec.Pos.Index, Key: rec.Key}
	if rec.Err == nil && !lookupFirst && r.cfg.OnlyKeys != nil && !r.cfg.OnlyKeys(rec.Key) && !r.cfg.OnlyKeys(rec.Pos.Key()) {
		s.Outcome, s.ErrorCode, s.Message = checkpoint.Skipped, CodeNotSelected, "not among the selected keys"
		return nil, s, false, nil
	}
	p := &request.CreateUser{}
	row := verdict.Check(r.cfg.Mapper, rec, p)
	if !row.Valid() {
		return nil, row.Settlement(&rec), false, nil
	}
	if !lookupFirst {
		f, refused, err := r.refused.At(rec.Pos.Index)
		if err != nil {
			return nil, s, false, fmt.Errorf("migrate: reading the duplicate check: %w", err)
		}
		if refused {
			return nil, verdict.Refused(&f), false, nil
		}
	}
	return &job{pos: rec.Pos.Index, key: rec.Key, ext: row.IDs.Ext, params: p, hash: requestHash(p),
		lookupFirst: lookupFirst, note: verdict.WarningNote(rec.Pos, row.Errs)}, s, true, nil
}
