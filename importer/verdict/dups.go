package verdict

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The unique identifiers checked for duplicates across rows. Each is its own
// namespace: an email equal to a username is no duplicate.
const (
	idEmail byte = iota
	idPhone
	idUsername
	idExternalID
	idKinds
)

// idKindInfo names an identifier kind in findings.
var idKindInfo = [idKinds]struct {
	field, code, noun string
}{
	idEmail:      {"email_address", CodeDuplicateEmail, "email"},
	idPhone:      {"phone_number", CodeDuplicatePhone, "phone number"},
	idUsername:   {"username", CodeDuplicateUsername, "username"},
	idExternalID: {"external_id", CodeDuplicateExternalID, "external_id"},
}

// dupKeyLen is the sort key of an identifier entry: kind, the top 56 bits
// of the value's hash, position (16 bytes: two words, see extSorter).
const dupKeyLen = 1 + 7 + 8

// dupGroupLen is the part of the key that groups entries: kind and hash.
const dupGroupLen = 1 + 7

// appendIDEntry encodes one identifier of one row for the duplicate sorter:
// [kind][hash>>8 BE, 7 bytes][pos BE] line<<1|invalid, value, key. The value is kept so
// that two values whose hashes collide are told apart exactly; invalid marks
// a row refused for other problems (it takes part, but holds no value).
func appendIDEntry(buf []byte, kind byte, hash uint64, pos, line int64, value, key string, invalid bool) []byte {
	buf = binary.BigEndian.AppendUint64(buf, uint64(kind)<<56|hash>>8)
	buf = binary.BigEndian.AppendUint64(buf, uint64(pos))
	flag := uint64(0)
	if invalid {
		flag = 1
	}
	buf = binary.AppendUvarint(buf, uint64(line)<<1|flag)
	buf = binary.AppendUvarint(buf, uint64(len(value)))
	buf = append(buf, value...)
	if kind != idExternalID { // the value is the key
		buf = binary.AppendUvarint(buf, uint64(len(key)))
		buf = append(buf, key...)
	}
	return buf
}

// idEntry is a decoded identifier entry.
type idEntry struct {
	kind       byte
	hash       uint64 // the top 56 bits of the value's hash
	pos, line  int64
	value, key string
	invalid    bool // the row is refused for other problems
}

func decodeIDEntry(rec []byte) (idEntry, error) {
	bad := errors.New("verdict: corrupt identifier record")
	if len(rec) < dupKeyLen {
		return idEntry{}, bad
	}
	kh := binary.BigEndian.Uint64(rec)
	e := idEntry{kind: rec[0], hash: kh & (1<<56 - 1), pos: int64(binary.BigEndian.Uint64(rec[8:]))}
	rec = rec[dupKeyLen:]
	line, w := binary.Uvarint(rec)
	if w <= 0 {
		return idEntry{}, bad
	}
	e.line, e.invalid, rec = int64(line>>1), line&1 == 1, rec[w:]
	readStr := func() (string, bool) {
		n, w := binary.Uvarint(rec)
		if w <= 0 || uint64(len(rec)-w) < n {
			return "", false
		}
		s := string(rec[w : w+int(n)])
		rec = rec[w+int(n):]
		return s, true
	}
	var ok bool
	if e.value, ok = readStr(); !ok {
		return idEntry{}, bad
	}
	if e.kind == idExternalID {
		e.key = e.value
	} else if e.key, ok = readStr(); !ok {
		return idEntry{}, bad
	}
	return e, nil
}

// maxNamedRows bounds the other rows a duplicate finding names; the rest are
// counted ("and 1,234 more").
const maxNamedRows = 10

// valueRows is what a duplicate finding says about one value: how many
// rows hold it and the first of them.
type valueRows struct {
	count int
	first []idEntry // up to maxNamedRows+1, in position order
	// valid counts the rows without other problems; firstValid is the
	// first of them (0: none), the one an import creates.
	valid      int
	firstValid int64
}

// maxGroupInMemory bounds the entries of one (kind, hash) group held in
// memory; a larger group (one value on very many rows) goes on in a spill
// file, so memory stays bounded whatever the data.
var maxGroupInMemory = 4096

// idGroup is the entries of one (kind, hash), with a summary per value.
type idGroup struct {
	tempDir string
	mem     []idEntry
	over    *spillFile
	byValue map[string]*valueRows
	n       int
	prefix  [dupGroupLen]byte // the kind and hash of the entries
}

func (g *idGroup) add(e idEntry, raw []byte) error {
	g.n++
	v := g.byValue[e.value]
	if v == nil {
		v = &valueRows{}
		g.byValue[e.value] = v
	}
	v.count++
	if !e.invalid {
		if v.valid == 0 {
			v.firstValid = e.pos
		}
		v.valid++
	}
	if len(v.first) <= maxNamedRows {
		v.first = append(v.first, e)
	}
	if len(g.mem) < maxGroupInMemory {
		g.mem = append(g.mem, e)
		return nil
	}
	if g.over == nil {
		var err error
		if g.over, err = newSpillFile(g.tempDir); err != nil {
			return err
		}
	}
	return g.over.Add(raw)
}

// flush emits the group's findings and empties it; it returns the number
// of duplicated values.
func (g *idGroup) flush(emit func(f *Finding, invalidates bool) error) (int64, error) {
	defer func() {
		if g.over != nil {
			g.over.Close()
			g.over = nil
		}
		g.mem, g.n = g.mem[:0], 0
		clear(g.byValue)
	}()
	if g.n < 2 {
		return 0, nil
	}
	var dups int64
	for _, v := range g.byValue {
		if v.count > 1 {
			dups++
		}
	}
	for i := range g.mem {
		if err := g.emitEntry(&g.mem[i], emit); err != nil {
			return dups, err
		}
	}
	if g.over == nil {
		return dups, nil
	}
	if err := g.over.rewind(); err != nil {
		return dups, err
	}
	for {
		raw, ok, err := g.over.Next()
		if err != nil || !ok {
			return dups, err
		}
		e, err := decodeIDEntry(raw)
		if err != nil {
			return dups, err
		}
		if err := g.emitEntry(&e, emit); err != nil {
			return dups, err
		}
	}
}

func (g *idGroup) emitEntry(e *idEntry, emit func(f *Finding, invalidates bool) error) error {
	v := g.byValue[e.value]
	if v.count < 2 {
		return nil
	}
	first := !e.invalid && v.firstValid == e.pos
	info := idKindInfo[e.kind]
	// The row that keeps the value stays valid: its finding is a warning
	// (it is imported; the finding only names the rows that are not).
	f := Finding{Pos: e.pos, Line: e.line, Key: e.key, Field: info.field, Code: info.code,
		Reason: duplicateReason(e, v, first), Severity: SeverityOf(first)}
	return emit(&f, !e.invalid && !first) // an invalid row is refused already
}

// resolveDuplicates reads the identifier entries in (kind, hash, position)
// order and emits one finding per row that shares a value with another row.
// Entries with equal hashes are grouped, then told apart by value, so a hash
// collision never makes a false duplicate. It returns the number of
// duplicated values.
func resolveDuplicates(it recordIter, tempDir string, emit func(f *Finding, invalidates bool) error) (int64, error) {
	g := &idGroup{tempDir: tempDir, byValue: map[string]*valueRows{}}
	var dups int64
	// Most values are on one row: an entry is held back raw (pending) and
	// decoded only when the next one shares its kind and hash.
	var pending []byte
	havePending := false
	add := func(raw []byte) error {
		e, err := decodeIDEntry(raw)
		if err != nil {
			return err
		}
		return g.add(e, raw)
	}
	for {
		rec, ok := it.Next()
		if !ok {
			break
		}
		if len(rec) < dupKeyLen {
			return dups, errors.New("verdict: corrupt identifier record")
		}
		if g.n > 0 {
			if string(g.prefix[:]) == string(rec[:dupGroupLen]) {
				if err := add(rec); err != nil {
					return dups, err
				}
				continue
			}
			n, err := g.flush(emit)
			dups += n
			if err != nil {
				return dups, err
			}
		}
		if havePending && string(pending[:dupGroupLen]) == string(rec[:dupGroupLen]) {
			copy(g.prefix[:], rec)
			if err := add(pending); err != nil {
				return dups, err
			}
			if err := add(rec); err != nil {
				return dups, err
			}
			havePending = false
			continue
		}
		pending, havePending = append(pending[:0], rec...), true
	}
	if err := it.Err(); err != nil {
		return dups, err
	}
	n, err := g.flush(emit)
	return dups + n, err
}

// duplicateReason says which other rows hold the value and what an import
// does: the first row in source order is created, the others are refused
// before anything is sent.
func duplicateReason(e *idEntry, v *valueRows, first bool) string {
	info := idKindInfo[e.kind]
	var rows, keys []string
	for _, o := range v.first {
		if o.pos == e.pos || len(rows) == maxNamedRows {
			continue
		}
		rows = append(rows, strconv.FormatInt(o.pos, 10))
		keys = append(keys, o.key)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s is also on row", info.noun, e.value)
	if v.count > 2 {
		b.WriteByte('s')
	}
	fmt.Fprintf(&b, " %s (key", strings.Join(rows, ", "))
	if len(keys) > 1 {
		b.WriteByte('s')
	}
	fmt.Fprintf(&b, " %s)", strings.Join(keys, ", "))
	if more := v.count - 1 - len(rows); more > 0 {
		fmt.Fprintf(&b, " and %d more", more)
	}
	switch {
	case e.invalid:
		b.WriteString("; this row has other problems and is not imported as it is; once they are fixed it would still clash")
	case first && v.valid > 1:
		b.WriteString("; this row comes first, so an import creates it and refuses the others")
	case first:
		b.WriteString("; the other rows have other problems and are not imported as they are, so an import creates this one")
	case e.kind == idExternalID:
		fmt.Fprintf(&b, "; duplicate of row %d: an import keeps that row, the first in source order, and never sends this one", v.firstValid)
	default:
		fmt.Fprintf(&b, "; duplicate of row %d: an import creates that row, the first in source order, and never sends this one",
			v.firstValid)
	}
	return b.String()
}
