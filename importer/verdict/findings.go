package verdict

import (
	"encoding/binary"
	"sync"
)

// Flags of a finding carried through the sorters.
const (
	flagInvalidates = 1 // it makes a row that mapped cleanly invalid (a later duplicate, an email taken in Clerk)
	flagWarning     = 2 // it is a warning
)

// Findings holds a run's findings on disk, so that memory does not grow
// with them: those of the row being read, which arrive in row order, and
// late ones (duplicates, lookups in Clerk), which arrive in any order once
// their row is past. Sorted gives them all back in row order.
type Findings struct {
	rows *spillFile
	late *extSorter

	mu  sync.Mutex
	seq uint64 // arrival order of late findings, to keep a row's in order
	enc []byte
}

// NewFindings keeps findings in temporary files in tempDir (os.TempDir
// when empty), removed as they are created.
func NewFindings(tempDir string) (*Findings, error) {
	rows, err := newSpillFile(tempDir)
	if err != nil {
		return nil, err
	}
	return &Findings{rows: rows, late: newExtSorter(tempDir, 16, 4<<20)}, nil
}

// AddRow adds a finding of the row being read; findings of rows must come
// in row order, from one goroutine.
func (fs *Findings) AddRow(f *Finding) error {
	fs.enc = appendFinding(fs.enc[:0], f, 0)
	return fs.rows.Add(fs.enc)
}

// AddLate adds a finding made after its row was read; invalidates says it
// refuses a row that was valid. It is safe for concurrent use.
func (fs *Findings) AddLate(f *Finding, invalidates bool) error {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	var flags byte
	if invalidates {
		flags = flagInvalidates
	}
	// Key: position, then arrival, so a row's late findings keep their order.
	buf := appendFinding(make([]byte, 0, 64+len(f.Reason)), f, flags)
	rec := make([]byte, 0, len(buf)+8)
	rec = append(rec, buf[:8]...)
	rec = binary.BigEndian.AppendUint64(rec, fs.seq)
	rec = append(rec, buf...)
	fs.seq++
	return fs.late.Add(rec)
}

// Close removes the temporary files.
func (fs *Findings) Close() {
	fs.rows.Close()
	fs.late.Close()
}

// Each calls fn with every finding in row order (a row's own findings
// before its late ones), once adding is over; invalidates is as AddLate
// was told.
func (fs *Findings) Each(fn func(f *Finding, invalidates bool) error) error {
	if err := fs.rows.rewind(); err != nil {
		return err
	}
	late, err := fs.late.Sorted()
	if err != nil {
		return err
	}
	rowRec, rowOK, err := fs.rows.Next()
	if err != nil {
		return err
	}
	lateRec, lateOK := late.Next()
	for rowOK || lateOK {
		fromRow := rowOK && (!lateOK || posOf(rowRec) <= posOf(lateRec))
		rec := rowRec
		if !fromRow {
			rec = lateRec[16:]
		}
		f, flags, err := decodeFinding(rec)
		if err != nil {
			return err
		}
		if err := fn(&f, flags&flagInvalidates != 0); err != nil {
			return err
		}
		if fromRow {
			if rowRec, rowOK, err = fs.rows.Next(); err != nil {
				return err
			}
		} else {
			lateRec, lateOK = late.Next()
		}
	}
	return late.Err()
}

// posOf reads the position key of an encoded finding.
func posOf(rec []byte) int64 { return int64(binary.BigEndian.Uint64(rec)) }
