package main

import (
	"errors"
	"fmt"
)

// Exit codes, documented in every command's help text and in the README.
const (
	ExitOK          = 0 // every row ended well (created, already there, valid)
	ExitRowsFailed  = 1 // the run finished, but some rows failed or were invalid: see the reports
	ExitUsage       = 2 // bad flags, a bad mapping file, a source that cannot be opened
	ExitFatal       = 3 // the run could not go on: the key was refused (401/403), the ledger is held by another run
	ExitInterrupted = 4 // stopped by SIGINT/SIGTERM; re-run the same command (or add --resume) to go on
	ExitOrphanGuard = 5 // sync: the orphan step was refused by --max-delete (every other change was made)
)

const exitCodeTable = `EXIT CODES:
   0  every row ended well (created, already in Clerk, or valid in a dry run)
   1  the run finished, but some rows failed or were invalid (see failures.csv)
   2  usage: bad flags, a bad mapping file, a source that cannot be opened
   3  fatal: the run could not go on (key refused, quota, ledger held by another run)
   4  interrupted by SIGINT/SIGTERM; run the same command again to resume
   5  sync only: the orphan step was refused (more orphans than --max-delete); nothing was banned or deleted`

// exitError carries an exit code through urfave/cli to main.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withCode wraps err so that main exits with code.
func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

func usageErrorf(format string, a ...any) error {
	return withCode(ExitUsage, fmt.Errorf(format, a...))
}

// exitCodeOf maps an error returned by a command to the process exit code.
func exitCodeOf(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return ExitUsage
}
