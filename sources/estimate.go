package sources

import "bytes"

// lineCounter counts the lines of the bytes written to it, so that a
// file's records can be estimated in the pass that fingerprints it.
type lineCounter struct {
	newlines int64
	last     byte
}

func (c *lineCounter) Write(p []byte) (int, error) {
	if len(p) > 0 {
		c.newlines += int64(bytes.Count(p, []byte{'\n'}))
		c.last = p[len(p)-1]
	}
	return len(p), nil
}

// lines is the number of lines, counting a last line without its newline.
func (c *lineCounter) lines() int64 {
	if c.last != 0 && c.last != '\n' {
		return c.newlines + 1
	}
	return c.newlines
}
