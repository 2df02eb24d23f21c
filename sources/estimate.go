package sources

import (
	"bytes"
	"io"
	"os"
)

// EstimateRows guesses how many records a line-based file source holds (CSV,
// TSV, JSON Lines) by counting its newlines, for a progress display's ETA.
// It reads the file once at memory speed and keeps nothing; a quoted CSV
// field with embedded newlines makes it an overestimate. It returns 0 when
// it cannot tell (a JSON array, Postgres, an unreadable file).
func EstimateRows(spec Spec) int64 {
	kind, err := specKind(spec)
	if err != nil || (kind != "csv" && kind != "tsv" && kind != "jsonl") {
		return 0
	}
	f, err := os.Open(spec.Location)
	if err != nil {
		return 0
	}
	defer f.Close()
	lines, last, err := countLines(f)
	if err != nil {
		return 0
	}
	if last != '\n' && last != 0 {
		lines++ // a last line without its newline
	}
	if kind != "jsonl" && lines > 0 {
		lines-- // the header
	}
	return lines
}

// countLines counts newlines and returns the last byte read.
func countLines(r io.Reader) (n int64, last byte, err error) {
	buf := make([]byte, 1<<20)
	for {
		k, err := r.Read(buf)
		if k > 0 {
			n += int64(bytes.Count(buf[:k], []byte{'\n'}))
			last = buf[k-1]
		}
		if err == io.EOF {
			return n, last, nil
		}
		if err != nil {
			return 0, 0, err
		}
	}
}
