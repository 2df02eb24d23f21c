//go:build unix

package sqlite

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/internal/ledger"
)

// runLock is an flock(2) on a run's side file, held until release or the
// end of the process.
type runLock struct {
	f *os.File
}

// holderFile is what a lock file holds about its holder.
type holderFile struct {
	RunID     string    `json:"run_id"`
	Host      string    `json:"host"`
	PID       int       `json:"pid"`
	StartedAt time.Time `json:"started_at"`
}

// lockPath is the side file locking run id of the ledger at path.
func lockPath(path, runID string) string {
	sum := sha256.Sum256([]byte(runID))
	return filepath.Join(path+".locks", hex.EncodeToString(sum[:12])+".lock")
}

// acquireRun takes run runID of the ledger at path, or fails with a
// *checkpoint.RunLockedError naming the live holder.
func acquireRun(path, runID string) (*runLock, error) {
	p := lockPath(path, runID)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, fmt.Errorf("checkpoint/sqlite: lock run %q: %w", runID, err)
	}
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("checkpoint/sqlite: lock run %q: %w", runID, err)
	}
	got, err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("checkpoint/sqlite: lock run %q: %w", runID, err)
	}
	if !got {
		defer f.Close()
		return nil, &checkpoint.RunLockedError{RunID: runID, Holder: readHolder(f)}
	}
	me := ledger.Me()
	b, _ := json.Marshal(holderFile{RunID: runID, Host: me.Host, PID: me.PID, StartedAt: me.StartedAt})
	if err := f.Truncate(0); err == nil {
		_, err = f.WriteAt(append(b, '\n'), 0)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("checkpoint/sqlite: lock run %q: write holder: %w", runID, err)
	}
	return &runLock{f: f}, nil
}

// readHolder reads who holds a lock file; what cannot be read stays zero.
func readHolder(f *os.File) checkpoint.Holder {
	b, err := io.ReadAll(io.NewSectionReader(f, 0, 4096))
	if err != nil {
		return checkpoint.Holder{Detail: "holder unknown: " + err.Error()}
	}
	var h holderFile
	if err := json.Unmarshal(b, &h); err != nil {
		return checkpoint.Holder{Detail: "holder unknown (lock file being written)"}
	}
	return checkpoint.Holder{Host: h.Host, PID: h.PID, StartedAt: h.StartedAt, Detail: "lock file " + f.Name()}
}

// release lets go of the run. The file stays: removing a locked file's name
// would let two processes lock two different files.
func (l *runLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the only descriptor drops the flock
	l.f = nil
	return err
}
