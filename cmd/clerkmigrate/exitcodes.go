package main

import (
	"errors"
	"fmt"
	"strings"
)

// Exit codes, documented in every command's help text and in the README.
const (
	ExitOK          = 0 // every row ended well (created, already there, valid)
	ExitRowsFailed  = 1 // the run finished, but some rows failed or were invalid: see the reports
	ExitUsage       = 2 // bad flags, a bad mapping file, a source that cannot be opened
	ExitFatal       = 3 // the run could not go on: the key was refused (401/403), the run or its target is held by another run
	ExitInterrupted = 4 // stopped by SIGINT/SIGTERM; re-run the same command (or add --resume) to go on
	ExitOrphanGuard = 5 // sync: the orphan step was refused by --max-delete (every other change was made)
)

// exitMeanings says what each exit code means for a command that runs rows.
var exitMeanings = map[int]string{
	ExitOK:         "every row ended well (created, already in Clerk, or valid in a dry run)",
	ExitRowsFailed: "the run finished, but some rows failed or were invalid (see failures.csv)",
	ExitUsage: "usage: bad flags, a bad mapping file, a source that cannot be opened; a key that reaches another " +
		"Clerk instance than the run recorded (nothing written)",
	ExitFatal:       "fatal: the run could not go on (key refused, quota; the run or its target held by another run)",
	ExitInterrupted: "interrupted by SIGINT/SIGTERM; run the same command again to resume",
	ExitOrphanGuard: "the orphan step was refused (more orphans than --max-delete); nothing was banned or deleted",
}

// exitCodeTable is the whole table, for the tool's own help.
var exitCodeTable = exitCodes(map[int]string{ExitOrphanGuard: "sync (and status of such a sync): " + exitMeanings[ExitOrphanGuard]},
	ExitOK, ExitRowsFailed, ExitUsage, ExitFatal, ExitInterrupted, ExitOrphanGuard)

// exitCodes renders the EXIT CODES section of a command's help: the codes
// it can return, in the manner of restic, each with the meaning in
// exitMeanings unless the command words it its own way.
func exitCodes(own map[int]string, codes ...int) string {
	var b strings.Builder
	b.WriteString("EXIT CODES:")
	for _, code := range codes {
		meaning, ok := own[code]
		if !ok {
			meaning = exitMeanings[code]
		}
		fmt.Fprintf(&b, "\n   %d  %s", code, meaning)
	}
	return b.String()
}

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

// The EXIT CODES section of each command's help.
var (
	importExitCodes = exitCodes(nil, ExitOK, ExitRowsFailed, ExitUsage, ExitFatal, ExitInterrupted)
	syncExitCodes   = exitCodes(nil, ExitOK, ExitRowsFailed, ExitUsage, ExitFatal, ExitInterrupted, ExitOrphanGuard)
	statusExitCodes = exitCodes(map[int]string{
		ExitOK: "the runs were listed; with RUN-ID: the run finished and every row ended well",
		ExitRowsFailed: "RUN-ID: the run holds failed or invalid rows, the code its own command returned " +
			"(a listing of every run always returns 0: it is no verdict)",
		ExitUsage:       "usage: bad flags, no such run, no ledger at --out or --ledger",
		ExitFatal:       "the ledger could not be read",
		ExitInterrupted: "RUN-ID: the run has not finished (interrupted, crashed or still going): its command resumes it",
		ExitOrphanGuard: "RUN-ID: a sync whose orphan step was refused (more orphans than --max-delete)",
	}, ExitOK, ExitRowsFailed, ExitUsage, ExitFatal, ExitInterrupted, ExitOrphanGuard)
	rollbackExitCodes = exitCodes(map[int]string{
		ExitOK:         "every user the run created is deleted (in a dry run: listed)",
		ExitRowsFailed: "the rollback finished, but some deletions failed (see failures.csv; --retry-failed)",
		ExitUsage: "usage: bad flags, no such run, not confirmed; another target, or a key that reaches " +
			"another instance than the run recorded (nothing deleted)",
	}, ExitOK, ExitRowsFailed, ExitUsage, ExitFatal, ExitInterrupted)
	reportExitCodes = exitCodes(map[int]string{
		ExitOK:    "the reports were written",
		ExitUsage: "usage: bad flags, no such run, no ledger at --out or --ledger",
		ExitFatal: "the ledger could not be read or a report not written",
	}, ExitOK, ExitUsage, ExitFatal)
	pruneExitCodes = exitCodes(map[int]string{
		ExitOK:    "the runs were pruned (or listed, with --dry-run)",
		ExitUsage: "usage: bad flags, no ledger at --out or --ledger",
		ExitFatal: "the ledger could not be read or written",
	}, ExitOK, ExitUsage, ExitFatal)
	emulatorExitCodes = exitCodes(map[int]string{
		ExitOK:    "stopped by SIGINT/SIGTERM (the state saved, with --state)",
		ExitUsage: "usage: bad flags, a state file that cannot be read",
		ExitFatal: "the emulator could not start (the address is taken)",
	}, ExitOK, ExitUsage, ExitFatal)
	presetsExitCodes = exitCodes(map[int]string{
		ExitOK:    "the list, the preset's mapping or its SQL (--query) was printed",
		ExitUsage: "usage: no such preset, or --query for a preset that reads no database",
	}, ExitOK, ExitUsage)
)
