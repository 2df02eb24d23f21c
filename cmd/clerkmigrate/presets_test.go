package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/mapping/presets"
	"github.com/clerkmigrate/clerkmigrate/sources/pgtest"
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
	if res.code != ExitOK || !strings.Contains(res.stdout, "created  4") || !strings.Contains(res.stderr, "preset firebase:") ||
		strings.Contains(res.stderr, "hash parameters") {
		t.Fatalf("with --param-file (and no word of needing them): exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
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
	if res.code != ExitOK || !strings.Contains(res.stdout, "4 valid, 0 invalid") {
		t.Fatalf("clerk dry run: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
}

// TestPresetsQuery: `presets NAME --query` prints the SQL a Postgres preset
// reads with (each variant's, named, for Auth.js); a preset that reads no
// database says so; a stray argument is refused, not ignored.
func TestPresetsQuery(t *testing.T) {
	dir := t.TempDir()
	django, _ := presets.Get("django")
	res := runCLI(t, dir, nil, "presets", "django", "--query")
	if res.code != ExitOK || res.stdout != django.Queries()[0].Query+";\n" {
		t.Fatalf("presets django --query: exit %d\n%s", res.code, res.stdout)
	}
	if again := runCLI(t, dir, nil, "presets", "--query", "django"); again.stdout != res.stdout {
		t.Errorf("--query before NAME prints another text:\n%s", again.stdout)
	}
	res = runCLI(t, dir, nil, "presets", "authjs", "--query")
	for _, v := range []string{"prisma", "pg", "drizzle"} {
		if !strings.Contains(res.stdout, "-- authjs (--preset-variant "+v+")") {
			t.Errorf("authjs --query lacks the %s variant:\n%s", v, res.stdout)
		}
	}
	if res := runCLI(t, dir, nil, "presets", "clerk", "--query"); res.code != ExitUsage || !strings.Contains(res.stderr, "no query") {
		t.Errorf("clerk --query: exit %d %s", res.code, res.stderr)
	}
	if res := runCLI(t, dir, nil, "presets", "django", "--qeury"); res.code != ExitUsage || res.stdout != "" {
		t.Errorf("a misspelt flag after NAME: exit %d\n%s", res.code, res.stdout)
	}
}

// TestPresetNoticesFollowTheSource: the notices printed before a run are
// those of the source given: none about a CSV for a Postgres source, the
// Auth.js schema found in the database named.
func TestPresetNoticesFollowTheSource(t *testing.T) {
	dir := t.TempDir()
	sql, err := os.ReadFile(repoFile(t, "samples/presets/supabase.sql"))
	if err != nil {
		t.Fatal(err)
	}
	db := pgtest.Database(t, "cm_notices", string(sql))
	fromPG := runCLI(t, dir, nil, "import", "--dry-run", "--no-progress", "--preset", "supabase", "--source", db)
	fromCSV := runCLI(t, dir, nil, "import", "--dry-run", "--no-progress", "--preset", "supabase",
		"--source", repoFile(t, "samples/presets/supabase.csv"))
	if fromPG.code != ExitOK || strings.Contains(fromPG.stderr, "from a CSV") {
		t.Errorf("Postgres source: exit %d\n%s", fromPG.code, fromPG.stderr)
	}
	if fromCSV.code != ExitOK || !strings.Contains(fromCSV.stderr, "from a CSV") {
		t.Errorf("CSV source: exit %d\n%s", fromCSV.code, fromCSV.stderr)
	}
	auth0 := runCLI(t, dir, nil, "import", "--dry-run", "--no-progress", "--preset", "auth0",
		"--source", repoFile(t, "samples/presets/auth0.jsonl"))
	if auth0.code != ExitOK || strings.Contains(auth0.stderr, "no passwords") || !strings.Contains(auth0.stderr, "MFA") {
		t.Errorf("auth0 with the hash export merged: exit %d\n%s", auth0.code, auth0.stderr)
	}
	sql, err = os.ReadFile(repoFile(t, "samples/presets/authjs-pg.sql"))
	if err != nil {
		t.Fatal(err)
	}
	authjs := pgtest.Database(t, "cm_notices", string(sql))
	res := runCLI(t, dir, nil, "import", "--dry-run", "--no-progress", "--preset", "authjs", "--source", authjs)
	if res.code != ExitOK || !strings.Contains(res.stderr, "reading the pg adapter's users and accounts") || !strings.Contains(res.stdout, "3 valid, 0 invalid") {
		t.Errorf("authjs on the pg adapter's tables: exit %d\n%s\n%s", res.code, res.stdout, res.stderr)
	}
	res = runCLI(t, dir, nil, "import", "--dry-run", "--no-progress", "--preset", "authjs", "--preset-variant", "prisma", "--source", authjs)
	if res.code != ExitUsage || !strings.Contains(res.stderr, `"User"`) {
		t.Errorf("--preset-variant prisma on the pg adapter's tables: exit %d\n%s", res.code, res.stderr)
	}
}
