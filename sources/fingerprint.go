package sources

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// fingerprintBufferSize is the read size used to hash a file. Large reads keep
// the hash close to the speed of SHA-256 itself (see BENCHMARKS.md).
const fingerprintBufferSize = 1 << 20

// fileFingerprint hashes the whole file at path with SHA-256 before any
// record is read, so that the run ledger knows the data's identity at start.
// Extra writers (for example a structure scan) see the same bytes in the same
// pass. It returns "sha256:<hex>".
//
// The full hash was chosen over a cheaper "size + mtime + first/last MiB"
// fingerprint: it costs about half a second per GB on a machine with SHA
// instructions (BENCHMARKS.md), which is small beside an import paced by
// Clerk's rate limits, and it catches an edit in the middle of the file.
func fileFingerprint(path string, extra ...io.Writer) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	var w io.Writer = h
	if len(extra) > 0 {
		w = io.MultiWriter(append([]io.Writer{h}, extra...)...)
	}
	buf := make([]byte, fingerprintBufferSize)
	if _, err := io.CopyBuffer(w, onlyReader{f}, buf); err != nil {
		return "", fmt.Errorf("fingerprint %s: %w", path, err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// onlyReader hides a reader's WriterTo so that io.CopyBuffer uses our buffer.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }
