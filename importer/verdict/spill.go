package verdict

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// spillFile is an anonymous temporary file of length-prefixed records,
// written once and read back once.
type spillFile struct {
	f   *os.File
	w   *bufio.Writer
	r   *bufio.Reader
	cur []byte
	n   int64
}

func newSpillFile(dir string) (*spillFile, error) {
	f, err := os.CreateTemp(dir, "clerkmigrate-validate-*.spill")
	if err != nil {
		return nil, fmt.Errorf("validate: temporary file: %w", err)
	}
	os.Remove(f.Name())
	return &spillFile{f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

func (s *spillFile) Add(rec []byte) error {
	var lb [binary.MaxVarintLen32]byte
	s.w.Write(lb[:binary.PutUvarint(lb[:], uint64(len(rec)))])
	_, err := s.w.Write(rec)
	s.n++
	return err
}

// rewind ends writing and starts reading from the beginning.
func (s *spillFile) rewind() error {
	if err := s.w.Flush(); err != nil {
		return err
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	s.r = bufio.NewReaderSize(s.f, 64<<10)
	return nil
}

// Next returns the next record, valid until the following call.
func (s *spillFile) Next() ([]byte, bool, error) {
	n, err := binary.ReadUvarint(s.r)
	if errors.Is(err, io.EOF) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	if cap(s.cur) < int(n) {
		s.cur = make([]byte, n)
	}
	s.cur = s.cur[:n]
	if _, err := io.ReadFull(s.r, s.cur); err != nil {
		return nil, false, err
	}
	return s.cur, true, nil
}

func (s *spillFile) Close() error { return s.f.Close() }
