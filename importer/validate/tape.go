package validate

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// tape keeps every settlement the run hands the ledger, in the order
// handed, in a temporary file: first the pass's (one a row, in row order),
// then, from mark on, the rows the late findings refuse (in row order too).
// rows merges the two into what the ledger holds at the end, row by row,
// so that the reports are written without reading a million rows back
// from the ledger.
type tape struct {
	f    *os.File
	w    *bufio.Writer
	size int64 // bytes written
	mark int64 // where the late settlements begin; -1 before
	enc  []byte
}

func newTape(dir string) (*tape, error) {
	f, err := os.CreateTemp(dir, "clerkmigrate-validate-*.tape")
	if err != nil {
		return nil, fmt.Errorf("validate: temporary file: %w", err)
	}
	os.Remove(f.Name()) // the open file stays readable; nothing is left behind
	return &tape{f: f, w: bufio.NewWriterSize(f, 256<<10), mark: -1}, nil
}

// add appends settlements; the writer's goroutine calls it.
func (t *tape) add(batch []checkpoint.Settlement) error {
	for i := range batch {
		s := &batch[i]
		t.enc = binary.AppendUvarint(t.enc[:0], uint64(s.Pos))
		t.enc = binary.AppendUvarint(t.enc, uint64(s.Attempts))
		flags := byte(0)
		if s.Retryable {
			flags = 1
		}
		t.enc = append(t.enc, flags)
		for _, str := range [...]string{s.Key, string(s.Outcome), s.ClerkID, s.ErrorCode, s.Field, s.Message, s.RequestHash} {
			t.enc = binary.AppendUvarint(t.enc, uint64(len(str)))
			t.enc = append(t.enc, str...)
		}
		n, err := t.w.Write(t.enc)
		t.size += int64(n)
		if err != nil {
			return err
		}
	}
	return nil
}

// markLate notes that the settlements from here on are late ones.
func (t *tape) markLate() { t.mark = t.size }

// rows calls fn with each row's final settlement, in row order.
func (t *tape) rows(ctx context.Context, fn func(checkpoint.RowState) error) error {
	if err := t.w.Flush(); err != nil {
		return err
	}
	mark := t.mark
	if mark < 0 {
		mark = t.size
	}
	pass := newTapeReader(io.NewSectionReader(t.f, 0, mark))
	late := newTapeReader(io.NewSectionReader(t.f, mark, t.size-mark))
	next, haveLate, err := late.next()
	if err != nil {
		return err
	}
	for i := 0; ; i++ {
		if i%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		s, ok, err := pass.next()
		if err != nil || !ok {
			return err
		}
		for haveLate && next.Pos < s.Pos {
			if next, haveLate, err = late.next(); err != nil {
				return err
			}
		}
		if haveLate && next.Pos == s.Pos {
			s = next // the later settlement of the row replaces the first
		}
		if err := fn(checkpoint.RowState{Settlement: s}); err != nil {
			return err
		}
	}
}

func (t *tape) close() { t.f.Close() }

// tapeReader decodes settlements.
type tapeReader struct {
	r *bufio.Reader
}

func newTapeReader(r io.Reader) *tapeReader { return &tapeReader{r: bufio.NewReaderSize(r, 256<<10)} }

var errBadTape = errors.New("validate: corrupt settlement tape")

func (t *tapeReader) next() (checkpoint.Settlement, bool, error) {
	pos, err := binary.ReadUvarint(t.r)
	if errors.Is(err, io.EOF) {
		return checkpoint.Settlement{}, false, nil
	}
	if err != nil {
		return checkpoint.Settlement{}, false, err
	}
	attempts, err := binary.ReadUvarint(t.r)
	if err != nil {
		return checkpoint.Settlement{}, false, errBadTape
	}
	flags, err := t.r.ReadByte()
	if err != nil {
		return checkpoint.Settlement{}, false, errBadTape
	}
	s := checkpoint.Settlement{Pos: int64(pos), Attempts: int(attempts), Retryable: flags&1 != 0}
	var outcome string
	for i, dst := range [...]*string{&s.Key, &outcome, &s.ClerkID, &s.ErrorCode, &s.Field, &s.Message, &s.RequestHash} {
		n, err := binary.ReadUvarint(t.r)
		if err != nil {
			return checkpoint.Settlement{}, false, errBadTape
		}
		if n == 0 {
			continue
		}
		if *dst, err = t.text(int(n), i == 1); err != nil {
			return checkpoint.Settlement{}, false, errBadTape
		}
	}
	s.Outcome = checkpoint.Outcome(outcome)
	return s, true, nil
}

// tapeOutcomes are the outcomes a validation settles, read without a copy.
var tapeOutcomes = map[string]string{string(checkpoint.Valid): string(checkpoint.Valid),
	string(checkpoint.Invalid): string(checkpoint.Invalid)}

// text reads n bytes as a string: one allocation (none for a known
// outcome), read in place from the buffer when they fit.
func (t *tapeReader) text(n int, outcome bool) (string, error) {
	if n > t.r.Size() {
		b := make([]byte, n)
		_, err := io.ReadFull(t.r, b)
		return string(b), err
	}
	b, err := t.r.Peek(n)
	if err != nil {
		return "", err
	}
	s, ok := "", false
	if outcome {
		s, ok = tapeOutcomes[string(b)]
	}
	if !ok {
		s = string(b)
	}
	_, err = t.r.Discard(n)
	return s, err
}
