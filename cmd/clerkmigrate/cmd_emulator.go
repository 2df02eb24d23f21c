package main

import (
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

func emulatorCommand() *cli.Command {
	return &cli.Command{
		Name:  "emulator",
		Usage: "run a local Clerk emulator to rehearse a migration on loopback",
		Description: "Serves Clerk's users endpoints (spec 2026-05-12) with Clerk's uniqueness rules, digest and TOTP\n" +
			"checks, rate limits (429 with Retry-After, counted per secret key) and optional seeded faults: 5xx\n" +
			"answers, resets, lost answers, slow answers, latency. Point an import at it with --target\n" +
			"http://ADDR/v1 and any sk_test_ key in " + secretKeyEnv + ". It is one instance (GET /v1/instance) whatever\n" +
			"the key: its id is kept in --state, so a restart from that file is the same instance.\n" +
			"Its state and request counters are at /__emulator/state and /__emulator/stats.\n\n" + emulatorExitCodes,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "addr", Value: "127.0.0.1:8787", Usage: "listen address (loopback by default)"},
			&cli.IntFlag{Name: "rate", Usage: "requests per window for the instance (default: by key, 1000 live / 100 test)"},
			&cli.DurationFlag{Name: "window", Value: 10 * time.Second, Usage: "rate-limit window"},
			&cli.IntFlag{Name: "user-updates", Value: 10, Usage: "updates per window per user"},
			&cli.StringSliceFlag{Name: "require", Usage: "identifiers the instance requires (email_address, phone_number, username)"},
			&cli.StringFlag{Name: "username-allow", Usage: "characters of ^$!.`#+~ the instance's usernames allow (Clerk refuses them by default), e.g. ."},
			&cli.StringFlag{Name: "state", Usage: "file to load the state from at start and save it to at exit"},
			&cli.Int64Flag{Name: "fault-seed", Value: 1, Usage: "seed for deterministic faults"},
			&cli.Float64Flag{Name: "fault-5xx", Usage: "share of requests answered 5xx (0..1)"},
			&cli.Float64Flag{Name: "fault-reset", Usage: "share of requests whose connection is reset before the change"},
			&cli.Float64Flag{Name: "fault-lost", Usage: "share of requests applied whose answer is lost"},
			&cli.Float64Flag{Name: "fault-slow", Usage: "share of requests applied whose answer is held back for --fault-slow-delay"},
			&cli.DurationFlag{Name: "fault-slow-delay", Value: 5 * time.Second, Usage: "how long a slow answer is held back"},
			&cli.DurationFlag{Name: "latency", Usage: "added latency per request: half before the rate limit counts it, half on the answer's way back"},
			&cli.DurationFlag{Name: "jitter", Usage: "random extra latency per request, up to this (latency 10ms with jitter 20ms is 20±10 ms)"},
		},
		Action: runEmulator,
	}
}

func runEmulator(c *cli.Context) error {
	key, err := readSecretKey("")
	if err != nil {
		return withCode(ExitUsage, err)
	}
	srv, err := emulator.Start(emulatorConfig(c, key))
	if err != nil {
		return withCode(ExitFatal, err)
	}
	defer srv.Close()
	if path := c.String("state"); path != "" {
		if err := loadEmulatorState(srv.Emulator(), path); err != nil {
			return withCode(ExitUsage, err)
		}
		defer saveEmulatorState(srv.Emulator(), path)
	}
	fmt.Fprintf(c.App.Writer, "clerk emulator listening on %s (Ctrl-C to stop)\n", srv.URL())
	<-c.Context.Done()
	slog.Info("emulator stopping", "stats", srv.Emulator().Stats())
	return nil
}

// emulatorConfig turns the emulator command's flags into a Config.
func emulatorConfig(c *cli.Context, key string) emulator.Config {
	return emulator.Config{
		Addr:                 c.String("addr"),
		SecretKey:            key,
		RequestsPerWindow:    c.Int("rate"),
		Window:               c.Duration("window"),
		UserUpdatesPerWindow: c.Int("user-updates"),
		RequiredIdentifiers:  c.StringSlice("require"),
		UsernameAllows:       c.String("username-allow"),
		Faults: emulator.Faults{
			Seed:             c.Int64("fault-seed"),
			ErrorRate:        c.Float64("fault-5xx"),
			ResetRate:        c.Float64("fault-reset"),
			LostResponseRate: c.Float64("fault-lost"),
			SlowRate:         c.Float64("fault-slow"),
			SlowDelay:        c.Duration("fault-slow-delay"),
			Latency:          c.Duration("latency"),
			Jitter:           c.Duration("jitter"),
		},
	}
}

func loadEmulatorState(e *emulator.Emulator, path string) error {
	f, err := os.Open(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	return e.LoadState(f)
}

func saveEmulatorState(e *emulator.Emulator, path string) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		slog.Error("saving emulator state", "err", err)
		return
	}
	defer f.Close()
	if err := e.SaveState(f); err != nil {
		slog.Error("saving emulator state", "err", err)
	}
}
