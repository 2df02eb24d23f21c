package verdict

import (
	"encoding/binary"
	"hash/maphash"
)

// Identifiers are a row's unique identifiers as the duplicate rule compares
// them: emails and the username lower-cased, phone numbers as the mapping
// made them (E.164), the external_id as it is.
type Identifiers struct {
	Emails   []string
	Phones   []string
	Username string
	Ext      string
}

// Duplicates finds identifiers shared by several rows in bounded memory:
// each identifier is spilled as (kind, 56-bit hash, position, value) to
// temporary files sorted in chunks, the chunks are merged, and rows whose
// hashes collide are compared by value, so a hash collision never makes a
// false duplicate.
//
// The rule: the first row in source order that has no other problem keeps
// the value; every later row with the value is refused (it is a duplicate
// of that row). A row refused for other problems takes part with the
// identifiers that did map, so it is named too, but it is not imported, so
// it takes no value from a valid row.
type Duplicates struct {
	tempDir string
	hash    func(string) uint64
	sorter  *extSorter
	enc     []byte
}

// NewDuplicates spills to tempDir (os.TempDir when empty) in chunks of
// chunkBytes (0: 8 MiB); hash nil means maphash with a per-run seed (tests
// inject a colliding one).
func NewDuplicates(tempDir string, hash func(string) uint64, chunkBytes int) *Duplicates {
	if hash == nil {
		seed := maphash.MakeSeed()
		hash = func(s string) uint64 { return maphash.String(seed, s) }
	}
	return &Duplicates{tempDir: tempDir, hash: hash, sorter: newExtSorter(tempDir, dupKeyLen, chunkBytes)}
}

// Add spills one row's identifiers; invalid says the row is refused for
// other problems. Rows must come in source order.
func (d *Duplicates) Add(pos, line int64, ids *Identifiers, invalid bool) error {
	add := func(kind byte, v string) error {
		if v == "" {
			return nil
		}
		d.enc = appendIDEntry(d.enc[:0], kind, d.hash(v), pos, line, v, ids.Ext, invalid)
		return d.sorter.Add(d.enc)
	}
	for _, m := range ids.Emails {
		if err := add(idEmail, m); err != nil {
			return err
		}
	}
	for _, p := range ids.Phones {
		if err := add(idPhone, p); err != nil {
			return err
		}
	}
	if err := add(idUsername, ids.Username); err != nil {
		return err
	}
	return add(idExternalID, ids.Ext)
}

// Resolve sorts what was added and calls emit for every row that shares a
// value with another row, naming the others; invalidates is true for the
// rows the rule refuses. It returns how many values several rows hold.
// emit is called from the calling goroutine, in (kind, hash, position)
// order.
func (d *Duplicates) Resolve(emit func(f *Finding, invalidates bool) error) (int64, error) {
	it, err := d.sorter.Sorted()
	if err != nil {
		return 0, err
	}
	return resolveDuplicates(it, d.tempDir, emit)
}

// Close removes the temporary files.
func (d *Duplicates) Close() { d.sorter.Close() }

// Rejections are the rows the duplicate rule refuses, in row order, each
// with the first finding that refuses it; they are kept on disk.
type Rejections struct {
	sorter *extSorter
	it     recordIter
	next   Finding // the first finding not yet handed out
	have   bool
	err    error
}

// Rejections resolves the duplicates into the rows they refuse, and
// returns how many values several rows hold.
func (d *Duplicates) Rejections() (*Rejections, int64, error) {
	r := &Rejections{sorter: newExtSorter(d.tempDir, 16, 4<<20)}
	var seq uint64
	var enc []byte
	n, err := d.Resolve(func(f *Finding, invalidates bool) error {
		if !invalidates {
			return nil
		}
		// Key: position, then arrival (a row may be refused on several values).
		enc = binary.BigEndian.AppendUint64(enc[:0], uint64(f.Pos))
		enc = binary.BigEndian.AppendUint64(enc, seq)
		enc = appendFinding(enc, f, flagInvalidates)
		seq++
		return r.sorter.Add(enc)
	})
	if err == nil {
		r.it, err = r.sorter.Sorted()
	}
	if err != nil {
		r.Close()
		return nil, 0, err
	}
	r.advance()
	return r, n, nil
}

// advance reads the next finding into r.next.
func (r *Rejections) advance() {
	rec, ok := r.it.Next()
	if !ok {
		r.have, r.err = false, r.it.Err()
		return
	}
	r.next, _, r.err = decodeFinding(rec[16:])
	r.have = r.err == nil
}

// At returns the finding that refuses the row at pos, if the rule refuses
// it. Calls must come in ascending pos order.
func (r *Rejections) At(pos int64) (Finding, bool, error) {
	for r.have && r.next.Pos < pos {
		r.advance()
	}
	if r.err != nil || !r.have || r.next.Pos != pos {
		return Finding{}, false, r.err
	}
	f := r.next
	for r.have && r.next.Pos == pos { // the row's other findings
		r.advance()
	}
	return f, true, r.err
}

// Close removes the temporary files.
func (r *Rejections) Close() { r.sorter.Close() }
