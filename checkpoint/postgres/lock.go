package postgres

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/jackc/pgx/v5"
)

// heldRun is a run this Store holds: its advisory lock lives on conn.
type heldRun struct {
	seq  int64
	key  int64
	conn *pgx.Conn

	mu   sync.Mutex // guards conn's use by the pinger, and lost
	lost error
	stop chan struct{}
	done chan struct{}
}

// acquire opens a connection and takes run runID's advisory lock on it, or
// fails with a *checkpoint.RunLockedError naming the holder.
func (s *Store) acquire(ctx context.Context, runID string) (*heldRun, error) {
	cfg := s.lockConf.Copy()
	name := "clerkmigrate run " + runID
	if len(name) > 63 {
		name = name[:63]
	}
	cfg.RuntimeParams["application_name"] = name
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, s.fail(ctx, "lock run", err)
	}
	key := lockKey(s.schema, runID)
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&got); err != nil {
		conn.Close(context.Background())
		return nil, s.fail(ctx, "lock run", err)
	}
	if !got {
		defer conn.Close(context.Background())
		return nil, &checkpoint.RunLockedError{RunID: runID, Holder: s.holder(ctx, conn, runID, key)}
	}
	h := &heldRun{key: key, conn: conn, stop: make(chan struct{}), done: make(chan struct{})}
	go h.ping(s.opts.pingInterval)
	return h, nil
}

// holder says who holds run runID's lock: the backend from pg_locks and
// pg_stat_activity, the process from the run's row.
func (s *Store) holder(ctx context.Context, conn *pgx.Conn, runID string, key int64) checkpoint.Holder {
	var h checkpoint.Holder
	var since *time.Time
	if err := conn.QueryRow(ctx, s.sql.holderRow, runID).Scan(&h.Host, &h.PID, &since); err == nil && since != nil {
		h.StartedAt = *since
	}
	var pid int
	var app, client string
	err := conn.QueryRow(ctx, `SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local socket')
		FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND l.classid::bigint = $1 AND l.objid::bigint = $2`,
		int64(uint64(key)>>32), int64(uint64(key)&0xffffffff)).Scan(&pid, &app, &client)
	switch {
	case err == nil:
		h.Detail = fmt.Sprintf("postgres backend pid %d, application_name %q, client %s", pid, app, client)
	case errors.Is(err, pgx.ErrNoRows):
		h.Detail = "the lock was let go meanwhile; try again"
	default:
		h.Detail = "postgres backend unknown: " + err.Error()
	}
	return h
}

// ping checks the lock connection every interval and records its loss.
func (h *heldRun) ping(every time.Duration) {
	defer close(h.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
		}
		h.mu.Lock()
		ctx, cancel := context.WithTimeout(context.Background(), every)
		if err := h.conn.Ping(ctx); err != nil && h.lost == nil {
			h.lost = err
		}
		cancel()
		h.mu.Unlock()
	}
}

// lostErr is why the run's lock is gone, or nil.
func (h *heldRun) lostErr() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.lost == nil && h.conn.IsClosed() {
		h.lost = errors.New("connection closed")
	}
	return h.lost
}

// release lets go of the lock and its connection.
func (h *heldRun) release(ctx context.Context) {
	close(h.stop)
	<-h.done
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.conn.IsClosed() {
		h.conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, h.key)
	}
	h.conn.Close(ctx) // the session's end drops the lock anyway
}
