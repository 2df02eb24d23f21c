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
	json := jsonRequested(args)
	con.setFormat(json, slog.LevelInfo)
	if json {
		usageErrorsAsRecords(app)
	}
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

// usageErrorsAsRecords makes a usage error (an unknown flag, a flag's bad
// value) of the app or any command the run's error, which the console writes
// as one JSON record on stderr with its exit code, instead of urfave/cli's
// "Incorrect Usage" and the help as plain text on stdout: under
// --log-format json every line on stderr is JSON and stdout holds only what
// the command did.
func usageErrorsAsRecords(app *cli.App) {
	asRecord := func(name string) cli.OnUsageErrorFunc {
		return func(_ *cli.Context, err error, _ bool) error {
			return usageErrorf("%v (see clerkmigrate %s--help)", err, name)
		}
	}
	app.OnUsageError = asRecord("")
	var walk func(cmds []*cli.Command, prefix string)
	walk = func(cmds []*cli.Command, prefix string) {
		for _, c := range cmds {
			c.OnUsageError = asRecord(prefix + c.Name + " ")
			walk(c.Subcommands, prefix+c.Name+" ")
		}
	}
	walk(app.Commands, "")
}

// errInterrupted is returned when a signal stopped the run.
var errInterrupted = errors.New("interrupted")
