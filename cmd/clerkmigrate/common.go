package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/checkpoint/stores"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/pacer"
	"github.com/clerkmigrate/clerkmigrate/importer/reconcile"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
)

// Defaults of the embedded rehearsal: everything under ./clerkmigrate-out.
const (
	defaultOutDir    = "clerkmigrate-out"
	targetLocal      = "local"
	targetClerk      = "clerk"
	clerkBaseURL     = "https://api.clerk.com/v1"
	localEmulatorKey = "sk_live_localemulator" // a production-shaped key: the emulator grants it 1000 req/10 s
)

// Flags that several commands share.
var (
	flagOut = &cli.StringFlag{Name: "out", Value: defaultOutDir,
		Usage: "directory for the ledger (by default), the reports and the local emulator's state"}
	flagLedger = &cli.StringFlag{Name: "ledger",
		Usage: "run ledger: a SQLite file path (default OUT/ledger.db) or a postgres:// URL"}
	flagTarget = &cli.StringFlag{Name: "target", Value: targetLocal,
		Usage: "where users go: \"local\" (an in-process emulator, state kept in OUT), \"clerk\" (" + clerkBaseURL +
			"), or a base URL such as http://127.0.0.1:8787/v1 (an emulator you started)"}
	flagSecretKeyFile = &cli.StringFlag{Name: "secret-key-file",
		Usage: "file holding the Clerk secret key (otherwise " + secretKeyEnv + "); never pass the key as a flag"}
	flagRate = &cli.IntFlag{Name: "rate",
		Usage: "requests per 10 s the run may use (default: the key's instance budget, 1000 live / 100 test)"}
	flagMaxInFlight = &cli.IntFlag{Name: "max-in-flight",
		Usage: "most requests at once (default: what the budget needs at the latency seen, by Little's law, under a " +
			"ceiling that carries the budget up to 2.5 s a request: 250 at 1000/10 s, 32 at 100/10 s); " +
			"when it is what limits the rate, the log and summary.json say so"}
	flagRequestTimeout = &cli.DurationFlag{Name: "request-timeout",
		Usage: "bound of one attempt (default: 5 × the p99 of recent answers, within 2 s and 30 s; a create that " +
			"timed out is looked up by external_id before it is sent again)"}
	flagRunID = &cli.StringFlag{Name: "run-id",
		Usage: "name of the run in the ledger (default: derived from source, mapping and target, so re-running resumes)"}
	flagParallel = &cli.BoolFlag{Name: "parallel",
		Usage: "write to the target alongside other --parallel runs of this ledger (e.g. halves of one source); " +
			"they share its rate limit (give each a --rate share); a run without --parallel still keeps them out"}
)

// targetLockHelp says what keeps two runs off one target, for the help of
// the commands that write to one.
const targetLockHelp = `ONE RUN PER TARGET:
   A run that writes to Clerk holds its target for as long as it runs: another import, sync or rollback
   of the same ledger into the same instance is refused (exit 3, naming the run that holds it, writing
   no report), whatever its run id; runs into other instances go on. The instance is the Clerk instance
   the key reaches (its id, from the pre-flight: two keys of one instance are one target), or the local
   emulator's state in OUT. Runs meant to share an instance each take --parallel. A dry run or validate writes to no target
   and holds none; sync --plan holds it (its scan rewrites the ledger's copy of Clerk's users).`

// ledgerDSN is --ledger, or the SQLite file in --out.
func ledgerDSN(c *cli.Context) string {
	if dsn := c.String("ledger"); dsn != "" {
		return dsn
	}
	return filepath.Join(c.String("out"), "ledger.db")
}

// openLedger opens the run ledger, creating --out for a default SQLite file.
func openLedger(c *cli.Context) (checkpoint.Store, error) {
	dsn := ledgerDSN(c)
	if stores.Kind(dsn) == "sqlite" {
		if err := os.MkdirAll(c.String("out"), 0o700); err != nil {
			return nil, withCode(ExitUsage, err)
		}
	}
	st, err := stores.Open(c.Context, dsn)
	if err != nil {
		return nil, withCode(ExitFatal, fmt.Errorf("opening the ledger: %w", err))
	}
	return st, nil
}

// openExistingLedger opens the run ledger for a command that only reads
// it: a ledger that is not there is a usage error, and nothing is created
// (no --out directory, no empty ledger file, no schema).
func openExistingLedger(c *cli.Context) (checkpoint.Store, error) {
	dsn := ledgerDSN(c)
	st, err := stores.OpenExisting(c.Context, dsn)
	if errors.Is(err, checkpoint.ErrNoLedger) {
		return nil, usageErrorf("no ledger at %s: no run has used it (check --out or --ledger)", stores.Describe(dsn))
	}
	if err != nil {
		return nil, withCode(ExitFatal, fmt.Errorf("opening the ledger: %w", err))
	}
	return st, nil
}

// target is the Clerk instance a run talks to.
type target struct {
	API  *clerk.Client
	Name string // for the ledger and logs: a URL and the key's kind, never the key
	Key  string
	Rate pacer.Rate
	// Lock names the instance for the lock that keeps a second run of the
	// ledger off it (see lockName); never the key.
	Lock string
	stop func()
}

// Gateway is the one way the engines reach the target: the client behind
// a pacer for the target's budget, admitting as many requests at once as
// Little's law asks, at most --max-in-flight (unset: pacer.DefaultMaxInFlight),
// each bounded by --request-timeout (unset: a timeout that follows the
// latency).
func (t *target) Gateway(c *cli.Context) *gateway.Gateway {
	return t.gatewayOf(t.workers(c), c.Duration("request-timeout"))
}

// gatewayOf is Gateway with the concurrency ceiling and timeout given
// (0: the policy's own).
func (t *target) gatewayOf(maxInFlight int, timeout time.Duration) *gateway.Gateway {
	p := pacer.New(pacer.NewBudget(t.Rate, maxInFlight, timeout))
	return gateway.New(t.API, gateway.Config{Pacer: p})
}

// LockFor names the target for the lock that keeps a second run of the
// ledger off it, once g's pre-flight (GET /v1/instance) says which Clerk
// instance the key reaches: "Clerk instance ins_…". Behind Clerk's one API
// URL the instance id is what tells instances apart, and two keys of one
// instance (a rotated key, a second key) are one target. The gateway keeps
// the pre-flight's answer, so the engine's own pre-flight costs no request
// more. When the pre-flight fails, the lock stays the URL and keyed hash of
// the key (lockName): the engine's pre-flight then fails the run before it
// takes any lock. A local emulator keeps its lock by state file
// (localLockName): a fresh state's id is only made when its process starts,
// so two processes starting at once on one OUT could hold two ids.
// A run of an earlier version, locked by URL and key, does not exclude a
// run of this one, nor the other way round.
func (t *target) LockFor(ctx context.Context, g *gateway.Gateway) string {
	if t.stop != nil || g == nil {
		return t.Lock
	}
	in, err := g.Preflight(ctx)
	if err != nil || in.ID == "" {
		return t.Lock
	}
	return "Clerk instance " + in.ID
}

// workers is how many rows a run works on at once, and the ceiling on its
// requests in flight: --max-in-flight, or unset enough for Little's law at
// the budget up to defaultLatencyRoom a request (between 32 and
// pacer.DefaultMaxInFlight). Each worker holds a row marked in flight,
// which a re-run after a crash looks up before sending anything, so the
// ceiling is not higher than the budget can use: 250 at 1000/10 s, 32 at
// 100/10 s (where 32 at once carry the budget up to 3 s a request).
func (t *target) workers(c *cli.Context) int {
	if n := c.Int("max-in-flight"); n > 0 {
		return n
	}
	n := int(math.Ceil(t.Rate.PerSecond() * defaultLatencyRoom.Seconds()))
	return min(max(n, 32), pacer.DefaultMaxInFlight)
}

// defaultLatencyRoom is the latency up to which the default ceiling on
// requests in flight lets Little's law spend the budget (with the pacer's
// margin: pacer.Budget asks for ⌈r·(1.5ℓ + 100 ms)⌉ + 2).
const defaultLatencyRoom = 2500 * time.Millisecond

// Close stops a local emulator, saving its state.
func (t *target) Close() {
	if t.stop != nil {
		t.stop()
	}
}

// openTarget resolves --target: a local in-process emulator (the default, so
// a rehearsal needs no account), Clerk itself, or a given base URL.
func openTarget(c *cli.Context) (*target, error) {
	return openTargetAt(c, c.String("target"), c.String("out"))
}

// openTargetAt opens the target a --target value names, a local emulator
// keeping its state in dir.
func openTargetAt(c *cli.Context, name, dir string) (*target, error) {
	key, err := readSecretKey(c.String("secret-key-file"))
	if err != nil {
		return nil, withCode(ExitUsage, err)
	}
	t := &target{}
	switch name {
	case targetLocal:
		if err := t.startLocal(dir); err != nil {
			return nil, err
		}
	case targetClerk:
		t.Name = clerkBaseURL
	default:
		if err := checkTargetURL(name); err != nil {
			return nil, withCode(ExitUsage, err)
		}
		t.Name = strings.TrimSuffix(name, "/")
	}
	if t.Key == "" {
		if key == "" {
			return nil, usageErrorf("no secret key: set %s or use --secret-key-file", secretKeyEnv)
		}
		t.Key = key
	}
	t.API, err = clerk.New(clerk.Config{BaseURL: t.Name, SecretKey: t.Key, UserAgent: "clerkmigrate/" + shortVersion()})
	if err != nil {
		t.Close()
		return nil, withCode(ExitUsage, err)
	}
	if t.Lock == "" {
		t.Lock = lockName(t.Name, t.Key)
	}
	t.Rate = gateway.DefaultRate(t.Key)
	if n := c.Int("rate"); n > 0 {
		t.Rate = pacer.Rate{Requests: n, Window: 10 * time.Second}
	}
	return t, nil
}

// startLocal starts an in-process emulator whose state lives in out, so
// that a resumed rehearsal finds the users an earlier invocation created.
func (t *target) startLocal(out string) error {
	if err := os.MkdirAll(out, 0o700); err != nil {
		return withCode(ExitUsage, err)
	}
	srv, err := emulator.Start(emulator.Config{SecretKey: localEmulatorKey})
	if err != nil {
		return withCode(ExitFatal, err)
	}
	statePath := filepath.Join(out, "emulator-state.json")
	fresh := srv.Emulator().InstanceID()
	if err := loadEmulatorState(srv.Emulator(), statePath); err != nil {
		srv.Close()
		return withCode(ExitUsage, fmt.Errorf("loading %s: %w", statePath, err))
	}
	if srv.Emulator().InstanceID() == fresh {
		// A new state (or one an older version saved): its instance id is
		// kept at once, so that a run killed before the state is saved at
		// the end still finds the instance it recorded.
		saveEmulatorState(srv.Emulator(), statePath)
	}
	t.Name, t.Key = srv.URL(), localEmulatorKey
	t.Lock = localLockName(statePath)
	t.stop = func() {
		saveEmulatorState(srv.Emulator(), statePath)
		srv.Close()
	}
	slog.Info("rehearsing against a local Clerk emulator", "url", srv.URL(), "state", statePath)
	return nil
}

// checkTargetURL accepts an https URL, or a plain http one only on a
// loopback address (a local emulator): the secret key must never cross a
// network unencrypted.
func checkTargetURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return errors.New("--target must be local, clerk or an http(s) base URL such as https://api.clerk.com/v1")
	}
	if u.Scheme == "https" {
		return nil
	}
	host := u.Hostname()
	if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return nil
	}
	return fmt.Errorf("--target %s: plain http is only for a local emulator on a loopback address; use https", u.Host)
}

// targetID names a target in the ledger (Meta checkpoint.MetaTarget) and in
// default run ids: local rehearsals share one name whatever port the
// emulator got.
func targetID(c *cli.Context, t *target) string {
	return targetIDAt(c.String("target"), c.String("out"), t)
}

// localTargetPrefix starts the name of a local emulator target; its state
// directory follows.
const localTargetPrefix = "local-emulator:"

// targetIDAt is targetID for the --target value name, a local emulator
// keeping its state in dir.
func targetIDAt(name, dir string, t *target) string {
	if name == targetLocal {
		return localTargetPrefix + filepath.Clean(dir)
	}
	kind := "test"
	if strings.HasPrefix(t.Key, "sk_live_") {
		kind = "live"
	}
	return t.Name + " (" + kind + ")"
}

// targetOfID is the --target value (and a local emulator's state
// directory) that reaches the target a run recorded as id; false when id
// names none (an empty id: a dry run).
func targetOfID(id string) (name, dir string, ok bool) {
	if dir, ok := strings.CutPrefix(id, localTargetPrefix); ok {
		return targetLocal, dir, true
	}
	for _, kind := range []string{" (live)", " (test)"} {
		if u, ok := strings.CutSuffix(id, kind); ok && checkTargetURL(u) == nil {
			return u, "", true
		}
	}
	return "", "", false
}

// lockName names the instance at base URL name that key reaches, for the
// target lock: the URL and a keyed hash of the key. Behind one URL (Clerk's
// own) the key is what tells one instance from another; the hash cannot be
// turned back into the key (it has well over 128 random bits), and its key
// keeps it from matching any other hash of the secret.
func lockName(name, key string) string {
	m := hmac.New(sha256.New, []byte("clerkmigrate target instance"))
	m.Write([]byte(key))
	return name + " key#" + hex.EncodeToString(m.Sum(nil)[:8])
}

// localLockName names a local emulator for the target lock by its state
// file, the instance's users: two runs with one OUT share them.
func localLockName(statePath string) string {
	if abs, err := filepath.Abs(statePath); err == nil {
		statePath = abs
	}
	host, _ := os.Hostname()
	return "local emulator " + statePath + " on " + host
}

// refused says whether a run did not begin because another run holds it or
// its target: it did nothing, so it writes no report (its run id may be
// the live run's).
func refused(err error) bool {
	return errors.Is(err, checkpoint.ErrRunLocked) || errors.Is(err, checkpoint.ErrTargetLocked)
}

// otherInstance says whether a run was refused because its key reaches
// another Clerk instance than a run of the ledger recorded (exit 2).
func otherInstance(err error) bool {
	var other *runner.InstanceMismatchError
	return errors.As(err, &other)
}

// refusal is the error of a refused run: exit 3, naming the holder, and
// what to do.
func refusal(err error) error {
	hint := "wait for it to finish"
	if errors.Is(err, checkpoint.ErrTargetLocked) {
		hint += ", or start every run meant to write to this target together with --parallel"
	}
	return withCode(ExitFatal, fmt.Errorf("%w; %s (nothing was sent, no report written)", err, hint))
}

// runErrorCode maps the error of a run to an exit code.
func runErrorCode(ctx context.Context, err error) int {
	var guard *reconcile.OrphanGuardError
	switch {
	case err == nil:
		return ExitOK
	case ctx.Err() != nil:
		return ExitInterrupted
	case errors.As(err, &guard):
		return ExitOrphanGuard
	case otherInstance(err):
		return ExitUsage // another instance than the run's: refused before anything was sent
	}
	return ExitFatal
}
