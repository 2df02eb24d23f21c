package main

import (
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

// TestEmulatorFlagsReachTheConfig: every fault the Go API can inject,
// slow answers included, can be asked for on the emulator command line.
func TestEmulatorFlagsReachTheConfig(t *testing.T) {
	cmd := emulatorCommand()
	var got emulator.Config
	cmd.Action = func(c *cli.Context) error { got = emulatorConfig(c, "sk_test_k"); return nil }
	app := &cli.App{Commands: []*cli.Command{cmd}}
	err := app.Run([]string{"clerkmigrate", "emulator", "--addr", "127.0.0.1:0", "--rate", "50", "--window", "2s",
		"--user-updates", "3", "--require", "email_address", "--username-allow", ".", "--fault-seed", "9", "--fault-5xx", "0.1", "--fault-reset", "0.2",
		"--fault-lost", "0.05", "--fault-slow", "0.25", "--fault-slow-delay", "1500ms", "--latency", "20ms", "--jitter", "5ms"})
	if err != nil {
		t.Fatal(err)
	}
	want := emulator.Faults{Seed: 9, ErrorRate: 0.1, ResetRate: 0.2, LostResponseRate: 0.05, SlowRate: 0.25,
		SlowDelay: 1500 * time.Millisecond, Latency: 20 * time.Millisecond, Jitter: 5 * time.Millisecond}
	if got.Faults != want {
		t.Errorf("faults %+v, want %+v", got.Faults, want)
	}
	if got.SecretKey != "sk_test_k" || got.RequestsPerWindow != 50 || got.Window != 2*time.Second ||
		got.UserUpdatesPerWindow != 3 || len(got.RequiredIdentifiers) != 1 || got.UsernameAllows != "." || got.Addr != "127.0.0.1:0" {
		t.Errorf("config %+v", got)
	}
}
