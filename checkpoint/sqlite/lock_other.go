//go:build !unix

package sqlite

import "fmt"

// runLock is not implemented off unix.
type runLock struct{}

// acquireRun refuses: run locking needs flock(2).
func acquireRun(path, runID string) (*runLock, error) {
	return nil, fmt.Errorf("checkpoint/sqlite: run locking needs a unix system (flock); use the postgres ledger here")
}

func (l *runLock) release() error { return nil }

// targetLock is not implemented off unix.
type targetLock struct{}

// acquireTarget refuses: target locking needs flock(2).
func acquireTarget(path, runID, target string, shared bool) (*targetLock, error) {
	return nil, fmt.Errorf("checkpoint/sqlite: target locking needs a unix system (flock); use the postgres ledger here")
}

func (l *targetLock) release() error { return nil }
