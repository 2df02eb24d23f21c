//go:build unix

package sqlite

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"syscall"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/internal/ledger"
)

// targetLock is a run's hold on a target: an flock(2), exclusive or shared,
// on <ledger>.locks/target-<hash>/lock, and the run's holder record beside
// it (<hash of the run id>.holder), itself flocked for as long as the hold
// lasts so that a refused run can tell a live holder's record from a dead
// one's.
type targetLock struct {
	dir    string
	lock   *os.File
	record *os.File
}

// targetHolder is what a holder record says.
type targetHolder struct {
	holderFile
	Shared bool `json:"shared"`
}

// targetDir is the directory of target's lock in the ledger at path.
func targetDir(path, target string) string {
	sum := sha256.Sum256([]byte(target))
	return filepath.Join(path+".locks", "target-"+hex.EncodeToString(sum[:12]))
}

// acquireTarget takes target for run runID, exclusively or shared, or
// fails with a *checkpoint.TargetLockedError naming the live holders.
func acquireTarget(path, runID, target string, shared bool) (*targetLock, error) {
	fail := func(err error) error {
		return fmt.Errorf("checkpoint/sqlite: lock target %s for run %q: %w", target, runID, err)
	}
	dir := targetDir(path, target)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fail(err)
	}
	f, err := os.OpenFile(filepath.Join(dir, "lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fail(err)
	}
	how := syscall.LOCK_EX
	if shared {
		how = syscall.LOCK_SH
	}
	got, err := flock(f, how|syscall.LOCK_NB)
	if err != nil || !got {
		f.Close()
		if err != nil {
			return nil, fail(err)
		}
		holders, sharedBy := liveHolders(dir)
		return nil, &checkpoint.TargetLockedError{RunID: runID, Target: target, Shared: sharedBy, Holders: holders}
	}
	l := &targetLock{dir: dir, lock: f}
	if !shared {
		l.sweep() // no one else holds the target: every other record is a dead holder's
	}
	if err := l.writeRecord(runID, shared); err != nil {
		l.release()
		return nil, fail(err)
	}
	return l, nil
}

// writeRecord creates the run's holder record and holds its flock.
func (l *targetLock) writeRecord(runID string, shared bool) error {
	sum := sha256.Sum256([]byte(runID))
	f, err := os.OpenFile(filepath.Join(l.dir, hex.EncodeToString(sum[:12])+".holder"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	// Blocking: only a refused run reading the record holds it, briefly.
	if _, err := flock(f, syscall.LOCK_EX); err != nil {
		f.Close()
		return err
	}
	me := ledger.Me()
	b, _ := json.Marshal(targetHolder{holderFile{RunID: runID, Host: me.Host, PID: me.PID, StartedAt: me.StartedAt}, shared})
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(append(b, '\n'), 0)
	}
	if err != nil {
		f.Close()
		return err
	}
	l.record = f
	return nil
}

// sweep removes the holder records of dead holders; called with the
// target held exclusively.
func (l *targetLock) sweep() {
	names, _ := filepath.Glob(filepath.Join(l.dir, "*.holder"))
	for _, n := range names {
		os.Remove(n)
	}
}

// liveHolders reads the records whose flock is held: the live holders of
// the target, and whether they share it.
func liveHolders(dir string) ([]checkpoint.Holder, bool) {
	names, _ := filepath.Glob(filepath.Join(dir, "*.holder"))
	var out []checkpoint.Holder
	shared := false
	for _, n := range names {
		f, err := os.Open(n)
		if err != nil {
			continue
		}
		free, err := flock(f, syscall.LOCK_SH|syscall.LOCK_NB)
		if err != nil || free { // a dead holder's record (or unreadable)
			f.Close()
			continue
		}
		var h targetHolder
		b, _ := io.ReadAll(io.LimitReader(f, 4096))
		f.Close()
		if json.Unmarshal(b, &h) != nil {
			out = append(out, checkpoint.Holder{Detail: "holder record being written: " + n})
			continue
		}
		shared = shared || h.Shared
		out = append(out, checkpoint.Holder{Run: h.RunID, Host: h.Host, PID: h.PID, StartedAt: h.StartedAt})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].StartedAt.Before(out[j].StartedAt) })
	return out, shared
}

// release lets go of the target: the record goes, then the lock.
func (l *targetLock) release() error {
	if l == nil || l.lock == nil {
		return nil
	}
	var errs []error
	if l.record != nil {
		os.Remove(l.record.Name())
		errs = append(errs, l.record.Close())
		l.record = nil
	}
	errs = append(errs, l.lock.Close())
	l.lock = nil
	return errors.Join(errs...)
}

// flock applies how to f, retrying on EINTR; false (and no error) when a
// LOCK_NB request would block.
func flock(f *os.File, how int) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		}
		return false, err
	}
}
