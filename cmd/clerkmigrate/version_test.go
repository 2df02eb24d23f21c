package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestVersionComesFromTheBuildInfo builds the command as a user would (go
// build stamps the module version and, in a git checkout, the revision into
// the binary) and checks that --version prints what was stamped rather than
// a placeholder.
func TestVersionComesFromTheBuildInfo(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "clerkmigrate")
	// -buildvcs=auto: a GOFLAGS=-buildvcs=false in the environment would
	// otherwise leave the revision out. -s -w: no symbol table or DWARF (the
	// build info stays), which links about a third faster.
	args := []string{"build", "-buildvcs=auto", "-ldflags=-s -w", "-o", bin}
	if raceEnabled {
		args = append(args, "-race") // the test's own build cache then serves every package
	}
	if out, err := exec.Command("go", append(args, ".")...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	stamped := map[string]string{}
	meta, err := exec.Command("go", "version", "-m", bin).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(meta), "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) >= 3 && f[0] == "mod":
			stamped["version"] = f[2]
		case len(f) == 2 && f[0] == "build" && strings.HasPrefix(f[1], "vcs.revision="):
			stamped["revision"] = strings.TrimPrefix(f[1], "vcs.revision=")
		}
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, out)
	}
	got := string(out)
	if stamped["version"] == "" || !strings.Contains(got, "version "+stamped["version"]) || !strings.Contains(got, runtime.Version()) {
		t.Errorf("--version printed %q; want the stamped module version %q and %s", got, stamped["version"], runtime.Version())
	}
	// The toolchain stamps a revision in a git checkout (.git a directory),
	// not in a git worktree (.git a file).
	if fi, err := os.Stat(filepath.Join(repoRoot, ".git")); err == nil && fi.IsDir() && stamped["revision"] == "" {
		t.Errorf("go build stamped no revision in a git checkout:\n%s", meta)
	}
	if rev := stamped["revision"]; rev != "" && !strings.Contains(got, "revision "+rev) {
		t.Errorf("--version printed %q; want revision %s", got, rev)
	}
	t.Logf("--version: %s", strings.TrimSpace(got))
}
