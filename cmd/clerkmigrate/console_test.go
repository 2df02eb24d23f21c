package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runProcess runs the real CLI in a process of its own (this test binary,
// acting as clerkmigrate) in dir, as cron would: stdout and stderr are pipes.
func runProcess(t *testing.T, dir string, env map[string]string, args ...string) cliResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), childEnv+"=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		t.Fatal(err)
	}
	return cliResult{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// jsonLines parses every line of stderr as a JSON object, failing the test
// for any line that is not one.
func jsonLines(t *testing.T, res cliResult) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for i, line := range strings.Split(strings.TrimSuffix(res.stderr, "\n"), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("stderr line %d is not JSON (%v): %q", i+1, err, line)
			continue
		}
		recs = append(recs, rec)
	}
	return recs
}

func TestJSONLogFormatWritesOnlyJSONLinesToStderr(t *testing.T) {
	dir := t.TempDir()
	noKey := map[string]string{secretKeyEnv: ""}

	res := runProcess(t, dir, noKey, "--log-format", "json", "import")
	if res.code != ExitRowsFailed {
		t.Fatalf("exit %d, want %d (the sample's bad rows)\nstderr:\n%s", res.code, ExitRowsFailed, res.stderr)
	}
	recs := jsonLines(t, res)
	if len(recs) < 3 {
		t.Fatalf("only %d JSON lines on stderr:\n%s", len(recs), res.stderr)
	}
	last := recs[len(recs)-1]
	if last["level"] != "ERROR" || last["exit_code"] != float64(ExitRowsFailed) || !strings.Contains(last["msg"].(string), "failed") {
		t.Errorf("the last line should be the run's error with its exit code: %v", last)
	}
	var finished map[string]any
	for _, r := range recs {
		if r["msg"] == "run finished" {
			finished = r
		}
	}
	// Durations in seconds with the unit in the key, rates as numbers.
	for _, key := range []string{"elapsed_s", "requests_per_sec"} {
		if _, ok := finished[key].(float64); !ok {
			t.Errorf("run finished: %s is %#v, want a number", key, finished[key])
		}
	}
	if _, ok := finished["elapsed"]; ok {
		t.Errorf("run finished: elapsed without its unit: %v", finished)
	}

	// Usage errors, in a command's flags and in the global ones: one JSON
	// record on stderr, nothing on stdout (urfave/cli's "Incorrect Usage"
	// and help text went there as plain text).
	for _, args := range [][]string{
		{"--log-format", "json", "import", "--no-such-flag"},
		{"--log-format=json", "--no-such-flag", "import"},
		{"--log-format", "json", "import", "--max-in-flight", "many"},
		{"--log-format", "json", "status", "--out", "nothing-here"},
	} {
		res := runProcess(t, dir, noKey, args...)
		if res.code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, res.code, ExitUsage)
		}
		if res.stdout != "" {
			t.Errorf("%v: a usage error under json wrote to stdout:\n%s", args, res.stdout)
		}
		recs := jsonLines(t, res)
		if len(recs) == 0 || recs[len(recs)-1]["exit_code"] != float64(ExitUsage) {
			t.Errorf("%v: the error line does not carry exit code %d:\n%s", args, ExitUsage, res.stderr)
		}
	}
}

// screen plays stderr on a terminal: "\r" returns to the start of the line,
// "\x1b[K" erases to its end, "\n" starts a new line. It returns the lines
// left on the screen.
func screen(out string) []string {
	var lines []string
	var cur []rune
	col := 0
	for i := 0; i < len(out); {
		switch {
		case strings.HasPrefix(out[i:], "\x1b[K"):
			cur = cur[:col]
			i += 3
			continue
		case out[i] == '\r':
			col = 0
		case out[i] == '\n':
			lines = append(lines, string(cur))
			cur, col = nil, 0
		default:
			r := rune(out[i])
			if col < len(cur) {
				cur[col] = r
			} else {
				cur = append(cur, r)
			}
			col++
		}
		i++
	}
	if len(cur) > 0 {
		lines = append(lines, string(cur))
	}
	return lines
}

func TestProgressLineIsClearedBeforeEachLogLine(t *testing.T) {
	// --progress draws the line into a file; --stats 1ms logs progress at
	// every update, so log lines keep arriving while the line is drawn.
	res := runCLI(t, t.TempDir(), map[string]string{secretKeyEnv: ""}, "import", "--progress", "--stats", "1ms")
	if res.code != ExitRowsFailed {
		t.Fatalf("exit %d\nstderr:\n%s", res.code, res.stderr)
	}
	drawn := regexp.MustCompile(`\r *[\d,]+/[\d,]+ rows \(\d+(\.\d)?%\)`)
	if !drawn.MatchString(res.stderr) {
		t.Fatalf("no progress line with done/total and percent drawn:\n%q", res.stderr)
	}
	logs := 0
	for _, line := range screen(res.stderr) {
		if i := strings.Index(line, "level="); i >= 0 {
			logs++
			if !strings.HasPrefix(line, "time=") {
				t.Errorf("a log line shares its line with the progress line: %q", line)
			}
		}
	}
	if logs < 3 {
		t.Errorf("only %d log lines; the test proves little:\n%q", logs, res.stderr)
	}
	if !regexp.MustCompile(`41 rows at 100 req/s: about \d+ s`).MatchString(res.stderr) {
		t.Errorf("no estimate before the first row:\n%s", res.stderr)
	}
}

// TestStrayStderrLinesBecomeRecordsUnderJSON writes to the console as a
// command that prints to c.App.ErrWriter directly would: under json each
// line must still come out a JSON record.
func TestStrayStderrLinesBecomeRecordsUnderJSON(t *testing.T) {
	var buf bytes.Buffer
	con := newConsole(&buf, true)
	fmt.Fprintf(con, "clerkmigrate: warning: a stray line\nand a second\n")
	con.notice(slog.LevelInfo, "a notice", "n", 1)
	recs := jsonLines(t, cliResult{stderr: buf.String()})
	if len(recs) != 3 || recs[0]["msg"] != "warning: a stray line" || recs[1]["msg"] != "and a second" || recs[2]["n"] != 1.0 {
		t.Errorf("records %v from:\n%s", recs, buf.String())
	}
}

// TestEstimateCountsOnlyTheKeysGiven: with --only-keys the estimate line
// counts the keys given (the most rows that can run), says "up to", not
// the whole source's 41 rows, and the run does what it said.
func TestEstimateCountsOnlyTheKeysGiven(t *testing.T) {
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.txt")
	if err := os.WriteFile(keys, []byte("1001\n1002\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	res := runCLI(t, dir, map[string]string{secretKeyEnv: ""}, "import", "--no-progress", "--only-keys", keys)
	if res.code != ExitOK || !strings.Contains(res.stdout, "created  2") {
		t.Fatalf("exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	if !regexp.MustCompile(`up to 2 rows at 100 req/s: at most about 1 s`).MatchString(res.stderr) {
		t.Errorf("the estimate does not count the 2 keys given:\n%s", res.stderr)
	}
}
