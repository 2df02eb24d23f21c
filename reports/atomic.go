package reports

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
)

// fileMode is the mode of every file Write produces: reports name users.
const fileMode = 0o600

// atomicFile is a file written under a temporary name in its final
// directory and renamed into place by commit, so a reader never sees half a
// report and a failed Write leaves the previous files as they were.
type atomicFile struct {
	path string
	tmp  *os.File
	*bufio.Writer
}

// createAtomic opens a temporary file beside path.
func createAtomic(path string) (*atomicFile, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("reports: create %s: %w", path, err)
	}
	if err := tmp.Chmod(fileMode); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("reports: chmod %s: %w", tmp.Name(), err)
	}
	return &atomicFile{path: path, tmp: tmp, Writer: bufio.NewWriterSize(tmp, 64<<10)}, nil
}

// commit flushes, syncs and renames the file into place.
func (f *atomicFile) commit() error {
	err := f.Flush()
	if err == nil {
		err = f.tmp.Sync()
	}
	if cerr := f.tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.tmp.Name(), f.path)
	}
	if err != nil {
		os.Remove(f.tmp.Name())
		return fmt.Errorf("reports: write %s: %w", f.path, err)
	}
	return nil
}

// abort drops the temporary file; safe after commit.
func (f *atomicFile) abort() {
	if f == nil {
		return
	}
	f.tmp.Close() // already closed after commit; the error says nothing new
	os.Remove(f.tmp.Name())
}
