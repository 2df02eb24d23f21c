package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk/emulator"
)

// cliResult is what one in-process invocation of the CLI did.
type cliResult struct {
	code           int
	stdout, stderr string
}

// runCLI runs the CLI in-process in dir with env set, like a user would.
func runCLI(t *testing.T, dir string, env map[string]string, args ...string) cliResult {
	t.Helper()
	t.Chdir(dir)
	for k, v := range env {
		t.Setenv(k, v)
	}
	outF, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	errF, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	code := run(append([]string{"clerkmigrate"}, args...), outF, errF)
	outF.Close()
	errF.Close()
	out, _ := os.ReadFile(outF.Name())
	errOut, _ := os.ReadFile(errF.Name())
	return cliResult{code: code, stdout: string(out), stderr: string(errOut)}
}

// runCLIProcess runs the CLI as runCLI does, in a process of its own: this
// test binary, which TestMain turns into the command. It changes neither
// the test's directory nor its environment, so the tests that use it can
// run side by side (t.Parallel): those that wait on a target's timeouts,
// silences and windows, not on the CPU.
func runCLIProcess(t *testing.T, dir string, env map[string]string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), childEnv+"=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v) // the last of a name wins
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	code := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("running the command: %v", err)
		}
		code = ee.ExitCode()
	}
	return cliResult{code: code, stdout: stdout.String(), stderr: stderr.String()}
}

// repoRoot is the repository, found before any test changes directory.
var repoRoot = func() string {
	wd, err := os.Getwd()
	if err != nil {
		panic(err)
	}
	return filepath.Join(wd, "..", "..")
}()

// repoFile is a path in the repository.
func repoFile(t *testing.T, rel string) string {
	t.Helper()
	return filepath.Join(repoRoot, rel)
}

func TestImportWithNoFlagsRehearsesTheSampleAndResumes(t *testing.T) {
	dir := t.TempDir()
	first := runCLI(t, dir, map[string]string{secretKeyEnv: ""}, "import", "--no-progress")
	if first.code != ExitRowsFailed {
		t.Fatalf("exit %d, want %d (the sample has bad rows)\nstdout:\n%s\nstderr:\n%s", first.code, ExitRowsFailed, first.stdout, first.stderr)
	}
	// Six bad rows, the second holder of a shared email among them: a
	// duplicate of the first, refused before anything is sent.
	if !strings.Contains(first.stdout, "created  35") || !strings.Contains(first.stdout, "invalid  6") || strings.Contains(first.stdout, "failed") {
		t.Errorf("summary does not show 35 created and 6 invalid:\n%s", first.stdout)
	}
	summaries, _ := filepath.Glob(filepath.Join(dir, defaultOutDir, "import-*", "summary.json"))
	if len(summaries) != 1 {
		t.Fatalf("want one summary.json, found %v", summaries)
	}
	var sum struct {
		Run struct {
			ID string `json:"id"`
		} `json:"run"`
		Outcomes map[string]int64 `json:"counts_by_outcome"`
	}
	b, _ := os.ReadFile(summaries[0])
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatalf("summary.json: %v", err)
	}
	if sum.Run.ID == "" || sum.Outcomes["created"] != 35 || sum.Outcomes["invalid"] != 6 || sum.Outcomes["failed"] != 0 {
		t.Errorf("summary.json: run %q, outcomes %v; want 35 created, 6 invalid", sum.Run.ID, sum.Outcomes)
	}
	// status RUN-ID gives the run's verdict as its exit code; the listing does not.
	if st := runCLI(t, dir, nil, "status", sum.Run.ID); st.code != ExitRowsFailed {
		t.Errorf("status %s: exit %d, want %d (the run holds invalid rows)\n%s", sum.Run.ID, st.code, ExitRowsFailed, st.stdout)
	}
	if st := runCLI(t, dir, nil, "status"); st.code != ExitOK {
		t.Errorf("status: exit %d, want %d (a listing is no verdict)\n%s", st.code, ExitOK, st.stderr)
	}

	second := runCLI(t, dir, nil, "import", "--no-progress")
	if second.code != ExitRowsFailed {
		t.Errorf("second run exit %d, want %d: the run still holds its failed rows", second.code, ExitRowsFailed)
	}
	if !strings.Contains(second.stdout, "41 rows already settled") || !strings.Contains(second.stdout, "  1 requests (") {
		t.Errorf("second run should resume with nothing to send but its pre-flight:\n%s", second.stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, defaultOutDir, "emulator-state.json")); err != nil {
		t.Errorf("the local emulator's state was not kept: %v", err)
	}
}

// sampleSecrets reads every secret cell of the sample CSV: digests, TOTP
// secrets and backup codes.
func sampleSecrets(t *testing.T) []string {
	t.Helper()
	f, err := os.Open(repoFile(t, "samples/legacy_users.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	var secrets []string
	for _, r := range rows[1:] {
		for _, name := range []string{"password_hash", "totp_secret"} {
			if v := strings.TrimSpace(r[col[name]]); len(v) >= 8 {
				secrets = append(secrets, v)
			}
		}
		var codes []string
		if json.Unmarshal([]byte(r[col["backup_codes"]]), &codes) == nil {
			for _, c := range codes {
				if len(c) >= 6 {
					secrets = append(secrets, c)
				}
			}
		}
	}
	if len(secrets) < 40 {
		t.Fatalf("found only %d secrets in the sample; the test would prove little", len(secrets))
	}
	return secrets
}

func TestNoSecretInAnyFileOrOutput(t *testing.T) {
	const key = "sk_test_Zm9vYmFyYmF6cXV4c2VjcmV0a2V5MTIzNDU2"
	srv, err := emulator.Start(emulator.Config{SecretKey: key})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dir := t.TempDir()
	res := runCLI(t, dir, map[string]string{secretKeyEnv: key}, "--log-level", "debug", "import", "--no-progress",
		"--source", repoFile(t, "samples/legacy_users.csv"), "--mapping", repoFile(t, "samples/legacy_users.mapping.yaml"),
		"--target", srv.URL())
	if res.code != ExitRowsFailed {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if len(srv.Emulator().Snapshot().Users) != 35 {
		t.Fatalf("emulator holds %d users, want 35", len(srv.Emulator().Snapshot().Users))
	}
	secrets := append(sampleSecrets(t), key, strings.TrimPrefix(key, "sk_test_"))
	texts := map[string]string{"stdout": res.stdout, "stderr": res.stderr}
	files := 0
	filepath.WalkDir(filepath.Join(dir, defaultOutDir), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		texts[p] = string(b)
		files++
		if info, _ := d.Info(); info.Mode().Perm()&0o077 != 0 {
			t.Errorf("%s is readable by others: %v", p, info.Mode())
		}
		return nil
	})
	if files < 6 {
		t.Fatalf("the run wrote only %d files; expected the ledger and five reports", files)
	}
	for name, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("%s contains a secret (%d chars starting %q)", name, len(s), s[:4])
			}
		}
	}
}

func TestExitCodes(t *testing.T) {
	srv, err := emulator.Start(emulator.Config{SecretKey: "sk_test_right"})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	src, mapFile := repoFile(t, "samples/legacy_users.csv"), repoFile(t, "samples/legacy_users.mapping.yaml")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want int
	}{
		{"unknown flag", nil, []string{"import", "--no-such-flag"}, ExitUsage},
		{"mapping without source", nil, []string{"import", "--mapping", mapFile}, ExitUsage},
		{"missing mapping file", nil, []string{"import", "--source", src, "--mapping", "nope.yaml"}, ExitUsage},
		{"no secret key for a remote target", map[string]string{secretKeyEnv: ""},
			[]string{"import", "--source", src, "--mapping", mapFile, "--target", srv.URL()}, ExitUsage},
		{"plain http to a host that is not loopback", map[string]string{secretKeyEnv: "sk_test_right"},
			[]string{"import", "--source", src, "--mapping", mapFile, "--target", "http://clerk.example.com/v1"}, ExitUsage},
		{"a target that is not a URL", map[string]string{secretKeyEnv: "sk_test_right"},
			[]string{"import", "--source", src, "--mapping", mapFile, "--target", "api.clerk.com"}, ExitUsage},
		{"key refused by the target", map[string]string{secretKeyEnv: "sk_test_wrong"},
			[]string{"import", "--no-progress", "--source", src, "--mapping", mapFile, "--target", srv.URL()}, ExitFatal},
		{"dry run finds the bad rows", nil, []string{"import", "--dry-run", "--no-progress", "--source", src, "--mapping", mapFile}, ExitRowsFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := runCLI(t, t.TempDir(), tt.env, tt.args...)
			if res.code != tt.want {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", res.code, tt.want, res.stdout, res.stderr)
			}
		})
	}
}

// TestEveryCommandHelpListsItsExitCodes checks that each command's help
// lists the exit codes that command can return, and no other.
func TestEveryCommandHelpListsItsExitCodes(t *testing.T) {
	want := map[string]string{
		"import": "0 1 2 3 4", "sync": "0 1 2 3 4 5", "validate": "0 1 2 3 4", "status": "0 1 2 3 4 5",
		"rollback": "0 1 2 3 4", "report": "0 2 3", "prune": "0 2 3", "emulator": "0 2 3", "presets": "0 2",
	}
	code := regexp.MustCompile(`^ +(\d)  `)
	app := newApp(os.Stdout, os.Stderr)
	for _, cmd := range app.Commands {
		res := runCLI(t, t.TempDir(), nil, cmd.Name, "--help")
		_, table, found := strings.Cut(res.stdout, "EXIT CODES:\n")
		var codes []string
		table, _, _ = strings.Cut(table, "\n\n")
		for _, line := range strings.Split(table, "\n") {
			if m := code.FindStringSubmatch(line); m != nil {
				codes = append(codes, m[1])
			}
		}
		if res.code != ExitOK || !found || strings.Join(codes, " ") != want[cmd.Name] {
			t.Errorf("%s --help: exit %d, exit codes listed %v, want %s", cmd.Name, res.code, codes, want[cmd.Name])
		}
	}
}
