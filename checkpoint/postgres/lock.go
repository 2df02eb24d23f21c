package postgres

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/jackc/pgx/v5"
)

// writeTimeout bounds one write on a lock connection. A write is not
// cancelled with its caller's context once it has begun: cutting a
// statement short could close the connection, and with it the run's locks.
const writeTimeout = time.Minute

// appNamePrefix starts the application_name of a run's lock connection,
// which is how a refused run learns which runs hold a target.
const appNamePrefix = "clerkmigrate run "

// heldRun is a run this Store holds: its advisory locks (the run's, and its
// target's when it names one) live on conn, and the run's writes go through
// conn too, so that no write of the run can land once the locks are gone.
//
// Between writes a watcher goroutine waits on conn for the server's word
// (WaitForNotification): a connection the server ends (a terminated
// backend, a restart) is noticed the moment its last message arrives, the
// run's Lost channel closes and every later write is refused. Every
// interval the watcher also pings, for a connection that dies silently. A
// write interrupts the wait, uses conn, and lets the watcher wait again.
type heldRun struct {
	seq          int64
	key          int64
	target       string // RunSpec.TargetLock; "" for none
	targetKey    int64
	sharedTarget bool
	conn         *pgx.Conn

	mu sync.Mutex // owns conn: the watcher's wait, a write, the release

	imu       sync.Mutex // guards the fields below
	cond      *sync.Cond // on imu: signalled when wanted drops to 0 or stopping is set
	wanted    int        // writes waiting for conn
	interrupt context.CancelFunc
	stopping  bool
	lost      error
	lostCh    chan struct{}

	done chan struct{} // closed when the watcher returns
}

// lockKey is the advisory lock key of run runID in schema.
func lockKey(schema, runID string) int64 {
	return hashKey("clerkmigrate\x00" + schema + "\x00" + runID)
}

// targetKey is the advisory lock key of target in schema.
func targetKey(schema, target string) int64 {
	return hashKey("clerkmigrate target\x00" + schema + "\x00" + target)
}

func hashKey(s string) int64 {
	sum := sha256.Sum256([]byte(s))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// acquire opens a connection and takes run spec.ID's advisory lock on it,
// then its target's, or fails with a *checkpoint.RunLockedError or a
// *checkpoint.TargetLockedError naming the holders.
func (s *Store) acquire(ctx context.Context, spec checkpoint.RunSpec) (*heldRun, error) {
	cfg := s.lockConf.Copy()
	name := appNamePrefix + spec.ID
	if len(name) > 63 {
		name = name[:63]
	}
	cfg.RuntimeParams["application_name"] = name
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, s.fail(ctx, "lock run", err)
	}
	h := &heldRun{key: lockKey(s.schema, spec.ID), target: spec.TargetLock, sharedTarget: spec.SharedTarget, conn: conn,
		lostCh: make(chan struct{}), done: make(chan struct{})}
	h.cond = sync.NewCond(&h.imu)
	refuse := func(err error) (*heldRun, error) {
		// Let go of what this session took before it ends: the server drops
		// a closed session's locks only once its backend has gone, a moment
		// after the close, so the same BeginRun retried at once found its
		// own run still locked ("held by an unknown holder").
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		conn.Exec(uctx, `SELECT pg_advisory_unlock_all()`)
		cancel()
		conn.Close(context.Background()) // and the session's end drops anything left
		return nil, err
	}
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, h.key).Scan(&got); err != nil {
		return refuse(s.fail(ctx, "lock run", err))
	}
	if !got {
		return refuse(&checkpoint.RunLockedError{RunID: spec.ID, Holder: s.runHolder(ctx, conn, spec.ID, h.key)})
	}
	if h.target != "" {
		h.targetKey = targetKey(s.schema, h.target)
		take := `SELECT pg_try_advisory_lock($1)`
		if h.sharedTarget {
			take = `SELECT pg_try_advisory_lock_shared($1)`
		}
		if err := conn.QueryRow(ctx, take, h.targetKey).Scan(&got); err != nil {
			return refuse(s.fail(ctx, "lock target", err))
		}
		if !got {
			holders, shared := s.targetHolders(ctx, conn, h.targetKey)
			return refuse(&checkpoint.TargetLockedError{RunID: spec.ID, Target: h.target, Shared: shared, Holders: holders})
		}
	}
	go h.watch(s.opts.pingInterval)
	return h, nil
}

// advisoryHolders is the query of the backends holding an advisory lock
// (key split as pg_locks shows a bigint key) with their mode.
const advisoryHolders = `SELECT a.pid, coalesce(a.application_name, ''), coalesce(host(a.client_addr), 'local socket'), l.mode
	FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
	WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
		AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
		AND l.classid::bigint = $1 AND l.objid::bigint = $2
	ORDER BY a.backend_start`

// backend is a row of advisoryHolders.
type backend struct {
	pid         int
	app, client string
	mode        string
	detail      string
}

// backends lists who holds advisory lock key.
func backends(ctx context.Context, conn *pgx.Conn, key int64) ([]backend, error) {
	rows, err := conn.Query(ctx, advisoryHolders, int64(uint64(key)>>32), int64(uint64(key)&0xffffffff))
	if err != nil {
		return nil, err
	}
	var out []backend
	for rows.Next() {
		var b backend
		if err := rows.Scan(&b.pid, &b.app, &b.client, &b.mode); err != nil {
			rows.Close()
			return nil, err
		}
		b.detail = fmt.Sprintf("postgres backend pid %d, application_name %q, client %s", b.pid, b.app, b.client)
		out = append(out, b)
	}
	return out, rows.Err()
}

// runHolder says who holds run runID's lock: the backend from pg_locks and
// pg_stat_activity, the process from the run's row.
func (s *Store) runHolder(ctx context.Context, conn *pgx.Conn, runID string, key int64) checkpoint.Holder {
	h := s.processOf(ctx, conn, runID)
	bs, err := backends(ctx, conn, key)
	switch {
	case err != nil:
		h.Detail = "postgres backend unknown: " + err.Error()
	case len(bs) == 0:
		h.Detail = "the lock was let go meanwhile; try again"
	default:
		h.Detail = bs[0].detail
	}
	return h
}

// targetHolders says which runs hold a target's lock (named by their lock
// connections' application_name), and whether they share it.
func (s *Store) targetHolders(ctx context.Context, conn *pgx.Conn, key int64) ([]checkpoint.Holder, bool) {
	bs, err := backends(ctx, conn, key)
	if err != nil {
		return []checkpoint.Holder{{Detail: "holders unknown: " + err.Error()}}, false
	}
	if len(bs) == 0 {
		return []checkpoint.Holder{{Detail: "the target was let go meanwhile; try again"}}, false
	}
	var out []checkpoint.Holder
	shared := false
	for _, b := range bs {
		shared = shared || b.mode == "ShareLock"
		var h checkpoint.Holder
		if run, ok := strings.CutPrefix(b.app, appNamePrefix); ok {
			h = s.processOf(ctx, conn, run)
			h.Run = run
		}
		h.Detail = b.detail
		out = append(out, h)
	}
	return out, shared
}

// processOf is the host, pid and start the holder of run runID wrote into
// its row (zero when the row is not there yet).
func (s *Store) processOf(ctx context.Context, conn *pgx.Conn, runID string) checkpoint.Holder {
	var h checkpoint.Holder
	var since *time.Time
	if err := conn.QueryRow(ctx, s.sql.holderRow, runID).Scan(&h.Host, &h.PID, &since); err == nil && since != nil {
		h.StartedAt = *since
	}
	return h
}

// watch waits on conn between writes and records its loss.
func (h *heldRun) watch(every time.Duration) {
	defer close(h.done)
	for {
		h.imu.Lock()
		for h.wanted > 0 && !h.stopping {
			h.cond.Wait()
		}
		stop := h.stopping
		h.imu.Unlock()
		if stop {
			return
		}
		h.mu.Lock()
		h.imu.Lock()
		if h.wanted > 0 || h.stopping {
			h.imu.Unlock()
			h.mu.Unlock()
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), every)
		h.interrupt = cancel
		h.imu.Unlock()
		err := h.conn.PgConn().WaitForNotification(ctx)
		h.imu.Lock()
		h.interrupt = nil
		h.imu.Unlock()
		cause := ctx.Err()
		cancel()
		switch {
		case err == nil || errors.Is(cause, context.Canceled): // a notification (none is expected), or conn is wanted
		case errors.Is(cause, context.DeadlineExceeded):
			pctx, pcancel := context.WithTimeout(context.Background(), every)
			if err := h.conn.Ping(pctx); err != nil {
				h.markLost(err)
			}
			pcancel()
		default:
			h.markLost(err)
		}
		lost := h.lostErr() != nil
		h.mu.Unlock()
		if lost {
			return
		}
	}
}

// markLost records why the run's locks are gone, once, and closes lostCh.
func (h *heldRun) markLost(err error) {
	h.imu.Lock()
	defer h.imu.Unlock()
	if h.lost == nil {
		h.lost = err
		close(h.lostCh)
	}
}

// lostErr is why the run's locks are gone, or nil.
func (h *heldRun) lostErr() error {
	h.imu.Lock()
	defer h.imu.Unlock()
	return h.lost
}

// use runs fn on the lock connection, between the watcher's waits: never
// once the locks are lost (checkpoint.ErrHoldLost). fn gets a context that
// ctx's cancellation does not cut short (writeTimeout bounds it).
func (h *heldRun) use(ctx context.Context, runID string, fn func(ctx context.Context, conn *pgx.Conn) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	h.imu.Lock()
	h.wanted++
	if h.interrupt != nil {
		h.interrupt()
	}
	h.imu.Unlock()
	defer func() {
		h.imu.Lock()
		if h.wanted--; h.wanted == 0 {
			h.cond.Broadcast()
		}
		h.imu.Unlock()
	}()
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.lostErr(); err != nil {
		return fmt.Errorf("%w: run %q: %v", checkpoint.ErrHoldLost, runID, err)
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
	defer cancel()
	err := fn(wctx, h.conn)
	if err != nil && h.conn.IsClosed() {
		h.markLost(err)
		return fmt.Errorf("%w: run %q: %v", checkpoint.ErrHoldLost, runID, err)
	}
	return err
}

// release stops the watcher and lets go of the locks and their connection.
func (h *heldRun) release(ctx context.Context) {
	h.imu.Lock()
	h.stopping = true
	if h.interrupt != nil {
		h.interrupt()
	}
	h.cond.Broadcast()
	h.imu.Unlock()
	<-h.done
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.conn.IsClosed() && h.lostErr() == nil {
		h.conn.Exec(ctx, `SELECT pg_advisory_unlock_all()`)
	}
	h.conn.Close(ctx) // the session's end drops the locks anyway
}
