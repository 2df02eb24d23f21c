// Command clerkmigrate moves users out of a legacy auth system into Clerk and
// keeps them in sync: one-off migration (import), dry-run validation
// (validate), resumable runs with a per-row ledger (status, rollback, report),
// and a local Clerk emulator to rehearse on (emulator).
//
// The CLI only turns flags into a config and calls the library packages.
package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"
)

func main() {
	code := run(os.Args, os.Stdout, os.Stderr)
	beforeExit()
	os.Exit(code)
}

// beforeExit runs just before the process exits (a profile's end, with
// -tags pprof).
var beforeExit = func() {}

// run executes the CLI and returns the process exit code.
func run(args []string, stdout, stderr *os.File) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	app := newApp(stdout, stderr)
	con := app.ErrWriter.(*console)
	con.setFormat(jsonRequested(args), slog.LevelInfo)
	err := app.RunContext(ctx, args)
	code := exitCodeOf(err)
	if err != nil {
		con.exit(err, code)
	}
	return code
}

func newApp(stdout, stderr *os.File) *cli.App {
	return &cli.App{
		Name:    "clerkmigrate",
		Usage:   "move users from a legacy auth system into Clerk, resumably and without duplicates",
		Version: buildVersion(),
		Description: "Rehearse on the built-in emulator first: `clerkmigrate import` with no flags imports the\n" +
			"sample users into an in-process Clerk emulator. Target your Clerk instance with --target clerk and the\n" +
			"secret key in " + secretKeyEnv + " (or --secret-key-file); the key is never read from a flag.\n\n" +
			exitCodeTable,
		Writer:               stdout,
		ErrWriter:            newConsole(stderr, false),
		EnableBashCompletion: true,
		ExitErrHandler:       func(*cli.Context, error) {}, // exit codes are decided in run
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "log-format", Value: "text", Usage: "log format: text, or json (for cron: every line on stderr is then a JSON object)"},
			&cli.StringFlag{Name: "log-level", Value: "info", Usage: "debug, info, warn or error"},
		},
		Before: setupLogging,
		Commands: []*cli.Command{
			importCommand(),
			syncCommand(),
			validateCommand(),
			statusCommand(),
			pruneCommand(),
			rollbackCommand(),
			reportCommand(),
			emulatorCommand(),
			presetsCommand(),
		},
	}
}

// errInterrupted is returned when a signal stopped the run.
var errInterrupted = errors.New("interrupted")
