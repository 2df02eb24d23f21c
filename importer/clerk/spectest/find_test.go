package spectest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindSpec(t *testing.T) {
	root := t.TempDir()
	spec := filepath.Join(root, "shared", "clerk-openapi", "bapi.yml")
	if err := os.MkdirAll(filepath.Dir(spec), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spec, []byte("openapi: 3.0.3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	deep := filepath.Join(root, "main", "importer", "clerk")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}

	t.Run("walks up to shared/ beside the repository", func(t *testing.T) {
		t.Setenv(EnvSpecPath, "")
		t.Chdir(deep)
		got, err := findSpec()
		if err != nil {
			t.Fatal(err)
		}
		if want, _ := filepath.EvalSymlinks(spec); mustEval(t, got) != want {
			t.Errorf("found %s, want %s", got, spec)
		}
	})
	t.Run("environment variable wins", func(t *testing.T) {
		other := filepath.Join(t.TempDir(), "spec.yml")
		if err := os.WriteFile(other, []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Setenv(EnvSpecPath, other)
		t.Chdir(deep)
		if got, err := findSpec(); err != nil || got != other {
			t.Errorf("got %q, %v; want %q", got, err, other)
		}
	})
	t.Run("environment variable naming a missing file", func(t *testing.T) {
		t.Setenv(EnvSpecPath, filepath.Join(root, "missing.yml"))
		if _, err := findSpec(); err == nil {
			t.Error("want an error")
		}
	})
	t.Run("nowhere", func(t *testing.T) {
		t.Setenv(EnvSpecPath, "")
		// An empty directory, in a tree with no shared/ in its ancestors:
		// another checkout may have put one beside the temporary directory
		// (/tmp/shared), which the walk up rightly finds.
		var polluted []string
		for _, base := range []string{os.TempDir(), "/dev/shm"} {
			empty, err := os.MkdirTemp(base, "spectest-nowhere-")
			if err != nil {
				continue
			}
			t.Cleanup(func() { os.RemoveAll(empty) })
			t.Chdir(empty)
			got, err := findSpec()
			if err != nil {
				return // nothing found: the case under test
			}
			if _, serr := os.Stat(got); serr != nil || strings.HasPrefix(got, empty+string(filepath.Separator)) {
				t.Fatalf("found %s in an empty tree", got)
			}
			polluted = append(polluted, got)
		}
		t.Skipf("every empty directory tried has a spec in its ancestors (%v): the case cannot be tried here", polluted)
	})
}

func mustEval(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
