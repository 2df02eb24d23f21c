package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	testSignerKey = "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA=="
	testSeparator = "Bw=="
)

// TestImportPresetFirebaseCSV runs --preset firebase over the header-less
// CSV with the hash parameters in a param file, then in the environment,
// and checks no file, output or error holds them.
func TestImportPresetFirebaseCSV(t *testing.T) {
	dir := t.TempDir()
	paramFile := filepath.Join(t.TempDir(), "hash_config.txt")
	os.WriteFile(paramFile, []byte("hash_config {\n  algorithm: SCRYPT,\n  base64_signer_key: "+testSignerKey+
		",\n  base64_salt_separator: "+testSeparator+",\n  rounds: 8,\n  mem_cost: 14,\n}\n"), 0o600)
	src := repoFile(t, "samples/presets/firebase.csv")

	res := runCLI(t, dir, nil, "import", "--preset", "firebase", "--source", src, "--no-progress")
	if res.code != ExitUsage || !strings.Contains(res.stderr, "CLERKMIGRATE_PARAM_BASE64_SIGNER_KEY") {
		t.Fatalf("without parameters: exit %d\n%s", res.code, res.stderr)
	}
	res = runCLI(t, dir, nil, "import", "--preset", "firebase", "--param-file", paramFile, "--source", src, "--no-progress")
	if res.code != ExitOK || !strings.Contains(res.stdout, "created  4") || !strings.Contains(res.stderr, "preset firebase:") {
		t.Fatalf("with --param-file: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	// The same command resumes the same run (the header copy depends only on the export).
	res = runCLI(t, dir, map[string]string{
		"CLERKMIGRATE_PARAM_BASE64_SIGNER_KEY": testSignerKey, "CLERKMIGRATE_PARAM_BASE64_SALT_SEPARATOR": testSeparator,
		"CLERKMIGRATE_PARAM_ROUNDS": "8", "CLERKMIGRATE_PARAM_MEM_COST": "14",
	}, "import", "--preset", "firebase", "--source", src, "--no-progress")
	if res.code != ExitOK || !strings.Contains(res.stdout, "4 rows already settled") {
		t.Fatalf("with the environment: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	for _, out := range []string{res.stdout, res.stderr} {
		if strings.Contains(out, testSignerKey) || strings.Contains(out, testSeparator) {
			t.Error("the output holds a hash parameter")
		}
	}
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := os.ReadFile(p)
		if strings.Contains(string(b), testSignerKey) || strings.Contains(string(b), testSeparator) {
			t.Errorf("%s holds a hash parameter", p)
		}
		return nil
	})
}

func TestPresetFlagUsage(t *testing.T) {
	dir := t.TempDir()
	res := runCLI(t, dir, nil, "import", "--preset", "list")
	if res.code != ExitOK || !strings.Contains(res.stdout, "supabase") || !strings.Contains(res.stdout, "betterauth") {
		t.Fatalf("--preset list: exit %d\n%s", res.code, res.stdout)
	}
	res = runCLI(t, dir, nil, "import", "--preset", "auth0", "--mapping", "m.yaml", "--source", "x.jsonl")
	if res.code != ExitUsage || !strings.Contains(res.stderr, "exclusive") {
		t.Fatalf("--preset with --mapping: exit %d\n%s", res.code, res.stderr)
	}
	res = runCLI(t, dir, nil, "import", "--preset", "okta", "--source", "x.jsonl")
	if res.code != ExitUsage || !strings.Contains(res.stderr, "no such preset") {
		t.Fatalf("unknown preset: exit %d\n%s", res.code, res.stderr)
	}
	res = runCLI(t, dir, nil, "import", "--preset", "clerk", "--source", repoFile(t, "samples/presets/clerk.csv"), "--dry-run", "--no-progress")
	if res.code != ExitOK || !strings.Contains(res.stdout, "valid    4") {
		t.Fatalf("clerk dry run: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
}
