package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/internal/ledger"
)

// querier is what a *sql.DB and a *sql.Tx share.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func nowNanos() int64 { return time.Now().UTC().UnixNano() }

func fromNanos(n int64) time.Time { return time.Unix(0, n).UTC() }

// BeginRun creates the run or reopens it, and holds it until FinishRun or
// Close. A reopen merges spec.Meta into the run's metadata and sets it
// running again; with Force it also records the new fingerprints.
func (s *Store) BeginRun(ctx context.Context, spec checkpoint.RunSpec) (checkpoint.Run, error) {
	if err := ledger.CheckSpec(spec); err != nil {
		return checkpoint.Run{}, err
	}
	if err := s.usable(ctx); err != nil {
		return checkpoint.Run{}, err
	}
	s.mu.Lock()
	h, already := s.held[spec.ID]
	if already && h.targetName != spec.TargetLock {
		s.mu.Unlock()
		return checkpoint.Run{}, fmt.Errorf("checkpoint/sqlite: run %q is held for target %q, not %q: finish it first",
			spec.ID, h.targetName, spec.TargetLock)
	}
	if !already {
		var err error
		if h, err = acquire(s.path, spec); err != nil {
			s.mu.Unlock()
			return checkpoint.Run{}, err
		}
		s.held[spec.ID] = h // reserved; removed again below on failure
	}
	s.mu.Unlock()

	run, seq, err := s.beginTx(ctx, spec)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		if !already {
			delete(s.held, spec.ID)
			h.release()
		}
		return checkpoint.Run{}, err
	}
	h.seq = seq
	h.top = s.topPos(ctx, seq)
	s.seqs[spec.ID] = seq
	return run, nil
}

// acquire takes the run, then its target.
func acquire(path string, spec checkpoint.RunSpec) (*heldRun, error) {
	lock, err := acquireRun(path, spec.ID)
	if err != nil {
		return nil, err
	}
	h := &heldRun{lock: lock, targetName: spec.TargetLock}
	if spec.TargetLock != "" {
		if h.target, err = acquireTarget(path, spec.ID, spec.TargetLock, spec.SharedTarget); err != nil {
			lock.release()
			return nil, err
		}
	}
	return h, nil
}

// topPos is the highest position the run has a row for; MaxInt64 (no
// position is known to be new) when it cannot be read.
func (s *Store) topPos(ctx context.Context, seq int64) int64 {
	var top int64
	if err := s.writer.QueryRowContext(ctx, `SELECT coalesce(max(pos), 0) FROM ledger_rows WHERE run = ?`, seq).Scan(&top); err != nil {
		return math.MaxInt64
	}
	return top
}

// beginTx writes the run's row and metadata.
func (s *Store) beginTx(ctx context.Context, spec checkpoint.RunSpec) (checkpoint.Run, int64, error) {
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return checkpoint.Run{}, 0, s.fail(ctx, "begin run", err)
	}
	defer tx.Rollback()
	now := nowNanos()
	old, seq, err := loadRun(ctx, tx, spec.ID)
	switch {
	case errors.Is(err, checkpoint.ErrRunNotFound):
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (id, kind, source_fingerprint, mapping_fingerprint, status, started_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, spec.ID, spec.Kind, spec.SourceFingerprint, spec.MappingFingerprint,
			string(checkpoint.Running), now, now)
		if err != nil {
			return checkpoint.Run{}, 0, s.fail(ctx, "begin run", err)
		}
		if seq, err = res.LastInsertId(); err != nil {
			return checkpoint.Run{}, 0, s.fail(ctx, "begin run", err)
		}
	case err != nil:
		return checkpoint.Run{}, 0, s.fail(ctx, "begin run", err)
	default:
		if err := ledger.Mismatch(old, spec); err != nil {
			return checkpoint.Run{}, 0, err
		}
		_, err := tx.ExecContext(ctx, `UPDATE runs SET source_fingerprint = ?, mapping_fingerprint = ?, status = ?, updated_at = ? WHERE seq = ?`,
			spec.SourceFingerprint, spec.MappingFingerprint, string(checkpoint.Running), now, seq)
		if err != nil {
			return checkpoint.Run{}, 0, s.fail(ctx, "begin run", err)
		}
	}
	for k, v := range spec.Meta {
		if err := setMeta(ctx, tx, seq, k, v); err != nil {
			return checkpoint.Run{}, 0, s.fail(ctx, "begin run", err)
		}
	}
	run, _, err := loadRun(ctx, tx, spec.ID)
	if err != nil {
		return checkpoint.Run{}, 0, s.fail(ctx, "begin run", err)
	}
	if err := tx.Commit(); err != nil {
		return checkpoint.Run{}, 0, s.fail(ctx, "begin run", err)
	}
	run.Reopened = old.ID != ""
	return run, seq, nil
}

func setMeta(ctx context.Context, q querier, seq int64, key, value string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO run_meta (run, key, value) VALUES (?, ?, ?)
		ON CONFLICT (run, key) DO UPDATE SET value = excluded.value`, seq, key, value)
	return err
}

const runColumns = `seq, id, kind, source_fingerprint, mapping_fingerprint, status, started_at, updated_at`

// scanRun reads one row of runColumns.
func scanRun(scan func(...any) error) (checkpoint.Run, int64, error) {
	var r checkpoint.Run
	var seq, started, updated int64
	var status string
	if err := scan(&seq, &r.ID, &r.Kind, &r.SourceFingerprint, &r.MappingFingerprint, &status, &started, &updated); err != nil {
		return checkpoint.Run{}, 0, err
	}
	r.Status = checkpoint.RunStatus(status)
	r.StartedAt, r.UpdatedAt = fromNanos(started), fromNanos(updated)
	return r, seq, nil
}

// loadRun reads a run with its metadata; ErrRunNotFound when there is none.
func loadRun(ctx context.Context, q querier, id string) (checkpoint.Run, int64, error) {
	r, seq, err := scanRun(q.QueryRowContext(ctx, `SELECT `+runColumns+` FROM runs WHERE id = ?`, id).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return checkpoint.Run{}, 0, fmt.Errorf("%w: %q", checkpoint.ErrRunNotFound, id)
	}
	if err != nil {
		return checkpoint.Run{}, 0, err
	}
	r.Meta, err = loadMeta(ctx, q, seq)
	return r, seq, err
}

func loadMeta(ctx context.Context, q querier, seq int64) (map[string]string, error) {
	rows, err := q.QueryContext(ctx, `SELECT key, value FROM run_meta WHERE run = ?`, seq)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return ledger.StringPairs(rows)
}

// heldSeq is the seq of a run this Store holds, or ErrNotHeld.
func (s *Store) heldSeq(ctx context.Context, runID string) (int64, error) {
	h, err := s.heldRun(ctx, runID)
	if err != nil {
		return 0, err
	}
	return h.seq, nil
}

// heldRun is a run this Store holds, or ErrNotHeld.
func (s *Store) heldRun(ctx context.Context, runID string) (*heldRun, error) {
	return ledger.Held(ctx, &s.mu, &s.closed, s.held, runID)
}

// runSeq is the seq of any run in the ledger, or ErrRunNotFound.
func (s *Store) runSeq(ctx context.Context, runID string) (int64, error) {
	if err := s.usable(ctx); err != nil {
		return 0, err
	}
	s.mu.Lock()
	seq, ok := s.seqs[runID]
	s.mu.Unlock()
	if ok {
		return seq, nil
	}
	err := s.reader.QueryRowContext(ctx, `SELECT seq FROM runs WHERE id = ?`, runID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("%w: %q", checkpoint.ErrRunNotFound, runID)
	}
	if err != nil {
		return 0, s.fail(ctx, "find run", err)
	}
	s.mu.Lock()
	s.seqs[runID] = seq
	s.mu.Unlock()
	return seq, nil
}

// SetMeta records one key of the metadata of a run this Store holds.
func (s *Store) SetMeta(ctx context.Context, runID, key, value string) error {
	seq, err := s.heldSeq(ctx, runID)
	if err != nil {
		return err
	}
	return s.fail(ctx, "set meta", setMeta(ctx, s.writer, seq, key, value))
}

// FinishRun records the status of a run this Store holds and lets go of it.
func (s *Store) FinishRun(ctx context.Context, runID string, status checkpoint.RunStatus) error {
	seq, err := s.heldSeq(ctx, runID)
	if err != nil {
		return err
	}
	if _, err := s.writer.ExecContext(ctx, `UPDATE runs SET status = ?, updated_at = ? WHERE seq = ?`,
		string(status), nowNanos(), seq); err != nil {
		return s.fail(ctx, "finish run", err)
	}
	s.mu.Lock()
	h := s.held[runID]
	delete(s.held, runID)
	s.mu.Unlock()
	if h != nil {
		return h.release()
	}
	return nil
}

// Runs lists the ledger's runs, newest first.
func (s *Store) Runs(ctx context.Context) ([]checkpoint.Run, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	rows, err := s.reader.QueryContext(ctx, `SELECT `+runColumns+` FROM runs ORDER BY started_at DESC, seq DESC`)
	if err != nil {
		return nil, s.fail(ctx, "runs", err)
	}
	var runs []checkpoint.Run
	var seqs []int64
	for rows.Next() {
		r, seq, err := scanRun(rows.Scan)
		if err != nil {
			rows.Close()
			return nil, s.fail(ctx, "runs", err)
		}
		runs, seqs = append(runs, r), append(seqs, seq)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, s.fail(ctx, "runs", err)
	}
	for i := range runs {
		if runs[i].Meta, err = loadMeta(ctx, s.reader, seqs[i]); err != nil {
			return nil, s.fail(ctx, "runs", err)
		}
	}
	return runs, nil
}

// fail names the operation; when ctx is done it reports ctx's error, which
// is what interrupted the database.
func (s *Store) fail(ctx context.Context, op string, err error) error {
	if err == nil {
		return nil
	}
	if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return wrap(op, err)
}
