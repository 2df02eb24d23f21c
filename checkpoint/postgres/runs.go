package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/internal/ledger"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// quoted is the schema as an SQL identifier.
func (s *Store) quoted() string { return pgx.Identifier{s.schema}.Sanitize() }

// BeginRun creates the run or reopens it, and holds it (and its target)
// until FinishRun or Close. A reopen merges spec.Meta into the run's
// metadata and sets it running again; with Force it also records the new
// fingerprints.
func (s *Store) BeginRun(ctx context.Context, spec checkpoint.RunSpec) (checkpoint.Run, error) {
	if err := ledger.CheckSpec(spec); err != nil {
		return checkpoint.Run{}, err
	}
	if err := s.usable(ctx); err != nil {
		return checkpoint.Run{}, err
	}
	s.mu.Lock()
	h, already := s.held[spec.ID]
	s.mu.Unlock()
	if already && h.target != spec.TargetLock {
		return checkpoint.Run{}, fmt.Errorf("checkpoint/postgres: run %q is held for target %q, not %q: finish it first",
			spec.ID, h.target, spec.TargetLock)
	}
	if !already {
		var err error
		if h, err = s.acquire(ctx, spec); err != nil {
			return checkpoint.Run{}, err
		}
	}
	var run checkpoint.Run
	var seq int64
	err := h.use(ctx, spec.ID, func(ctx context.Context, conn *pgx.Conn) (err error) {
		run, seq, err = s.beginTx(ctx, conn, spec)
		return err
	})
	if err != nil {
		if !already {
			h.release(context.Background())
		}
		return checkpoint.Run{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		h.release(context.Background())
		return checkpoint.Run{}, checkpoint.ErrClosed
	}
	if other, ok := s.held[spec.ID]; ok && other != h {
		h.release(context.Background()) // a concurrent BeginRun of this Store won
		h = other
	} else {
		h.seq = seq
		s.held[spec.ID] = h
	}
	s.seqs[spec.ID] = seq
	run.Lost = h.lostCh
	return run, nil
}

// beginTx writes the run's row, holder and metadata.
func (s *Store) beginTx(ctx context.Context, conn *pgx.Conn, spec checkpoint.RunSpec) (checkpoint.Run, int64, error) {
	tx, err := conn.Begin(ctx)
	if err != nil {
		return checkpoint.Run{}, 0, s.fail(ctx, "begin run", err)
	}
	defer tx.Rollback(context.Background())
	me := ledger.Me()
	old, seq, err := s.loadRun(ctx, tx, spec.ID)
	switch {
	case errors.Is(err, checkpoint.ErrRunNotFound):
		if err := tx.QueryRow(ctx, s.sql.insertRun, clean(spec.ID), clean(spec.Kind), clean(spec.SourceFingerprint),
			clean(spec.MappingFingerprint), string(checkpoint.Running), me.StartedAt, me.Host, me.PID).Scan(&seq); err != nil {
			return checkpoint.Run{}, 0, s.fail(ctx, "begin run", err)
		}
	case err != nil:
		return checkpoint.Run{}, 0, s.fail(ctx, "begin run", err)
	default:
		if err := ledger.Mismatch(old, spec); err != nil {
			return checkpoint.Run{}, 0, err
		}
		if _, err := tx.Exec(ctx, s.sql.reopenRun, seq, clean(spec.SourceFingerprint), clean(spec.MappingFingerprint),
			string(checkpoint.Running), me.StartedAt, me.Host, me.PID); err != nil {
			return checkpoint.Run{}, 0, s.fail(ctx, "begin run", err)
		}
	}
	for k, v := range spec.Meta {
		if _, err := tx.Exec(ctx, s.sql.setMeta, seq, clean(k), clean(v)); err != nil {
			return checkpoint.Run{}, 0, s.fail(ctx, "begin run", err)
		}
	}
	run, _, err := s.loadRun(ctx, tx, spec.ID)
	if err != nil {
		return checkpoint.Run{}, 0, s.fail(ctx, "begin run", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return checkpoint.Run{}, 0, s.fail(ctx, "begin run", err)
	}
	run.Reopened = old.ID != ""
	return run, seq, nil
}

// queryer is what a pool and a transaction share.
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

var (
	_ queryer = (*pgxpool.Pool)(nil)
	_ queryer = (pgx.Tx)(nil)
)

// scanRun reads one row of runColumns.
func scanRun(scan func(...any) error) (checkpoint.Run, int64, error) {
	var r checkpoint.Run
	var seq int64
	var status string
	if err := scan(&seq, &r.ID, &r.Kind, &r.SourceFingerprint, &r.MappingFingerprint, &status, &r.StartedAt, &r.UpdatedAt); err != nil {
		return checkpoint.Run{}, 0, err
	}
	r.Status = checkpoint.RunStatus(status)
	r.StartedAt, r.UpdatedAt = r.StartedAt.UTC(), r.UpdatedAt.UTC()
	return r, seq, nil
}

// loadRun reads a run with its metadata; ErrRunNotFound when there is none.
func (s *Store) loadRun(ctx context.Context, q queryer, id string) (checkpoint.Run, int64, error) {
	r, seq, err := scanRun(q.QueryRow(ctx, s.sql.runByID, clean(id)).Scan)
	if errors.Is(err, pgx.ErrNoRows) {
		return checkpoint.Run{}, 0, fmt.Errorf("%w: %q", checkpoint.ErrRunNotFound, id)
	}
	if err != nil {
		return checkpoint.Run{}, 0, err
	}
	r.Meta, err = s.loadMeta(ctx, q, seq)
	return r, seq, err
}

func (s *Store) loadMeta(ctx context.Context, q queryer, seq int64) (map[string]string, error) {
	rows, err := q.Query(ctx, s.sql.meta, seq)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return ledger.StringPairs(rows)
}

// heldRun is a run this Store holds, or ErrNotHeld. (Whether its locks
// are still there is for heldRun.use to say, at the write.)
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
	err := s.pool.QueryRow(ctx, s.sql.seqByID, clean(runID)).Scan(&seq)
	if errors.Is(err, pgx.ErrNoRows) {
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
	h, err := s.heldRun(ctx, runID)
	if err != nil {
		return err
	}
	return h.use(ctx, runID, func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, s.sql.setMeta, h.seq, clean(key), clean(value))
		return s.fail(ctx, "set meta", err)
	})
}

// FinishRun records the status of a run this Store holds and lets go of it.
func (s *Store) FinishRun(ctx context.Context, runID string, status checkpoint.RunStatus) error {
	h, err := s.heldRun(ctx, runID)
	if err != nil {
		return err
	}
	if err := h.use(ctx, runID, func(ctx context.Context, conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, s.sql.finish, h.seq, string(status))
		return s.fail(ctx, "finish run", err)
	}); err != nil {
		return err
	}
	s.mu.Lock()
	if s.held[runID] == h {
		delete(s.held, runID)
	}
	s.mu.Unlock()
	h.release(context.WithoutCancel(ctx))
	return nil
}

// Runs lists the ledger's runs, newest first.
func (s *Store) Runs(ctx context.Context) ([]checkpoint.Run, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, s.sql.runs)
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
		if runs[i].Meta, err = s.loadMeta(ctx, s.pool, seqs[i]); err != nil {
			return nil, s.fail(ctx, "runs", err)
		}
	}
	return runs, nil
}

func now() time.Time { return time.Now().UTC() }
