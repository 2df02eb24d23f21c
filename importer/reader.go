package importer

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// Codes of outcomes the importer decides without Clerk.
const (
	CodeRecordInvalid     = mapping.CodeRecordUnreadable // the source could not read the row (validate's code too)
	CodeExternalIDMissing = "external_id_missing"        // no key, so no idempotent create
	CodeNotSelected       = "not_selected"               // left out by OnlyKeys
)

// importReader reads the source, maps each row, and decides what to do
// with it given the ledger: skip it (settled earlier), settle it at once
// (invalid, skipped, valid in a dry run), or mark it in flight and dispatch
// it.
type importReader struct {
	cfg    Config
	p      *pipeline
	resume resumeState
}

// fastSkipThrough is the position up to which every row is settled and
// none needs another look: the reader skips those without asking the
// ledger. 0 when the whole ledger must be consulted.
func (r *importReader) fastSkipThrough() int64 {
	pr := r.resume.progress
	if !r.resume.run.Reopened || r.cfg.RetryFailed || r.cfg.RetryAllFailed {
		return 0
	}
	if pr.ByOutcome[checkpoint.Skipped] > 0 || (!r.cfg.DryRun && pr.ByOutcome[checkpoint.Valid] > 0) {
		return 0
	}
	return pr.MaxSettledPos
}

// reconsider says whether a row the ledger holds must be handled again,
// and whether it must be looked up before anything is sent.
func (r *importReader) reconsider(st checkpoint.RowState) (again, lookupFirst bool) {
	if st.InFlight {
		return true, !r.cfg.DryRun
	}
	switch st.Outcome {
	case checkpoint.Skipped:
		return true, false
	case checkpoint.Valid:
		return !r.cfg.DryRun, false
	case checkpoint.Failed:
		if r.cfg.RetryAllFailed || (r.cfg.RetryFailed && st.Retryable) {
			// A failure after retries may hide a create that landed.
			return true, !r.cfg.DryRun
		}
	case checkpoint.Invalid:
		return r.cfg.RetryAllFailed, false
	}
	return false, false
}

func (r *importReader) run(ctx context.Context) error {
	skipThrough := r.fastSkipThrough()
	var cursor *ledgerCursor
	if r.resume.run.Reopened {
		// From the last row of the settled prefix on: its key is checked.
		cursor = newLedgerCursor(r.p.store, r.p.runID, checkpoint.Filter{FromPos: max(skipThrough, 1)})
	}
	d := &dispatcher{p: r.p, size: r.cfg.MarkBatch}
	for {
		rec, err := r.cfg.Source.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("importer: reading %s: %w", r.cfg.Source.Info().Name, err)
		}
		r.p.read.Add(1)
		pos := rec.Pos.Index
		lookupFirst := false
		if pos < skipThrough {
			r.p.alreadySettled.Add(1)
			continue
		}
		if cursor != nil {
			st, ok, err := cursor.at(ctx, pos)
			if err != nil {
				return err
			}
			if ok && st.Key != rec.Key {
				return &SourceChangedError{RunID: r.p.runID, Pos: pos, LedgerKey: st.Key, SourceKey: rec.Key}
			}
			if pos == skipThrough {
				r.p.alreadySettled.Add(1)
				continue
			}
			if ok {
				var again bool
				if again, lookupFirst = r.reconsider(st); !again {
					r.p.alreadySettled.Add(1)
					continue
				}
			}
		}
		j, s, send := r.prepare(rec, lookupFirst)
		if !send {
			r.p.settleNow(ctx, s)
			continue
		}
		if err := d.add(ctx, j); err != nil {
			return err
		}
		if ctx.Err() != nil {
			return nil
		}
	}
	return d.flush(ctx)
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
	return fmt.Sprintf("importer: run %s cannot be resumed: the source changed since it began (position %d held key %q, now %q); "+
		"start a new run (--run-id): users already in Clerk are found by external_id and recorded exists",
		e.RunID, e.Pos, e.LedgerKey, e.SourceKey)
}

// prepare maps one record: a job to send, or the settlement it ends with
// at once.
func (r *importReader) prepare(rec sources.Record, lookupFirst bool) (job, checkpoint.Settlement, bool) {
	s := checkpoint.Settlement{Pos: rec.Pos.Index, Key: rec.Key}
	if rec.Err != nil {
		s.Outcome, s.ErrorCode, s.Message = checkpoint.Invalid, CodeRecordInvalid, rec.Err.Error()
		var re *sources.RecordError
		if errors.As(rec.Err, &re) {
			s.Field = re.Field
		}
		return job{}, s, false
	}
	if !lookupFirst && r.cfg.OnlyKeys != nil && !r.cfg.OnlyKeys(rec.Key) && !r.cfg.OnlyKeys(rec.Pos.Key()) {
		s.Outcome, s.ErrorCode, s.Message = checkpoint.Skipped, CodeNotSelected, "not among the selected keys"
		return job{}, s, false
	}
	params, ferrs := r.cfg.Mapper.Map(rec)
	if ferrs.Invalid() || params == nil {
		return job{}, invalid(s, rec, ferrs), false
	}
	note := WarningNote(rec.Pos, ferrs)
	ext, ok := params.ExternalID.Get()
	if !ok || ext == "" {
		if rec.Key == "" {
			s.Outcome, s.ErrorCode, s.Field = checkpoint.Invalid, CodeExternalIDMissing, "external_id"
			s.Message = fmt.Sprintf("%s: no key and no external_id: the row cannot be imported idempotently", rec.Pos)
			return job{}, s, false
		}
		params.ExternalID = clerk.Value(rec.Key)
		ext = rec.Key
	}
	hash := requestHash(params)
	if r.cfg.DryRun {
		s.Outcome, s.RequestHash, s.Message = checkpoint.Valid, hash, note
		return job{}, s, false
	}
	return job{pos: rec.Pos.Index, key: rec.Key, ext: ext, params: params, hash: hash, lookupFirst: lookupFirst, note: note}, s, true
}

// invalid settles a row the mapping refused, naming its position and every
// field at fault (codes and reasons; never a value).
func invalid(s checkpoint.Settlement, rec sources.Record, ferrs mapping.FieldErrors) checkpoint.Settlement {
	s.Outcome = checkpoint.Invalid
	if len(ferrs) == 0 {
		s.ErrorCode, s.Message = "mapping_failed", fmt.Sprintf("%s: the mapping produced no request", rec.Pos)
		return s
	}
	first := ferrs[0]
	if refusals := ferrs.Refusals(); len(refusals) > 0 {
		first = refusals[0]
	}
	s.ErrorCode, s.Field = first.Code, first.Field
	s.Message = fmt.Sprintf("%s: %s", rec.Pos, ferrs.Error())
	return s
}

// WarningNote is the ledger message of a row sent (or, in a dry run,
// found valid) with warnings: its position and every warning; "" without
// any. validate, import --dry-run and import write the same note.
func WarningNote(pos sources.Position, ferrs mapping.FieldErrors) string {
	w := ferrs.Warnings()
	if len(w) == 0 {
		return ""
	}
	return fmt.Sprintf("%s: %s", pos, w.Error())
}
