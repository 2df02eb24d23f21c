package reports

import (
	"errors"
	"io"
	"strings"
	"sync/atomic"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// InFlight is the outcome written for a row marked in flight and not
// settled yet (a report of a run still going on, or of an interrupted one).
const InFlight = "in_flight"

// OutcomeLine is one line of outcomes.jsonl and, column for column, of
// outcomes.csv (where the message is kept on one line, see csvSafe).
type OutcomeLine struct {
	Position    int64  `json:"position" csv:"position"`
	Key         string `json:"key" csv:"key"`
	ClerkUserID string `json:"clerk_user_id" csv:"clerk_user_id"`
	Outcome     string `json:"outcome" csv:"outcome"`
	ErrorCode   string `json:"error_code" csv:"error_code"`
	Field       string `json:"field" csv:"field"`
	Message     string `json:"message" csv:"message"`
	Attempts    int    `json:"attempts" csv:"attempts"`
}

// FailureLine is one line of failures.csv; key stays first, so the file
// feeds --only-keys as it is.
type FailureLine struct {
	Key       string `csv:"key"`
	Position  int64  `csv:"position"`
	Outcome   string `csv:"outcome"`
	ErrorCode string `csv:"error_code"`
	Field     string `csv:"field"`
	Retryable bool   `csv:"retryable"`
	Message   string `csv:"message"`
}

// lineOf turns a ledger row into its report line, message scrubbed.
func lineOf(r checkpoint.RowState) OutcomeLine {
	l := OutcomeLine{
		Position:    r.Pos,
		Key:         r.Key,
		ClerkUserID: r.ClerkID,
		Outcome:     string(r.Outcome),
		ErrorCode:   r.ErrorCode,
		Field:       r.Field,
		Message:     Scrub(r.Message),
		Attempts:    r.Attempts,
	}
	if r.InFlight {
		l.Outcome = InFlight
	}
	return l
}

// isFailure reports whether a row belongs in failures.csv.
func isFailure(r checkpoint.RowState) bool {
	return !r.InFlight && (r.Outcome == checkpoint.Failed || r.Outcome == checkpoint.Invalid)
}

// rowWriters writes outcomes.jsonl, outcomes.csv and failures.csv as the
// rows stream by: the lines go in batches to two goroutines, one for the
// JSON Lines file and one for the two CSV files, so that on a run of a
// million rows the three files are written side by side.
type rowWriters struct {
	cur    *lineBatch
	free   chan *lineBatch
	toJSON chan *lineBatch
	toCSV  chan *lineBatch
	done   chan error // one result per writer goroutine
}

// lineBatch is a run of report lines; both writers read it, the last one
// done hands it back.
type lineBatch struct {
	lines   []OutcomeLine
	failure []bool // the row belongs in failures.csv
	retry   []bool // its Retryable
	readers atomic.Int32
}

const lineBatchSize = 512

func newRowWriters(jsonl, outcomesCSV, failuresCSV *atomicFile) (*rowWriters, error) {
	enc := newJSONLines[OutcomeLine]()
	var buf []byte
	out, err := newCSVLines[OutcomeLine](outcomesCSV)
	if err != nil {
		return nil, err
	}
	fail, err := NewCSV[FailureLine](failuresCSV)
	if err != nil {
		return nil, err
	}
	w := &rowWriters{free: make(chan *lineBatch, 4), toJSON: make(chan *lineBatch, 2), toCSV: make(chan *lineBatch, 2),
		done: make(chan error, 2)}
	for range cap(w.free) {
		w.free <- &lineBatch{}
	}
	go func() {
		w.done <- w.drain(w.toJSON, func(b *lineBatch) (err error) {
			buf, err = writeJSONL(jsonl, enc, buf[:0], b)
			return err
		})
	}()
	go func() { w.done <- w.drain(w.toCSV, func(b *lineBatch) error { return writeCSVs(out, fail, b) }) }()
	w.cur = <-w.free
	return w, nil
}

// drain writes every batch it receives with write; after a failure it
// only hands the batches back.
func (w *rowWriters) drain(in <-chan *lineBatch, write func(*lineBatch) error) error {
	var err error
	for b := range in {
		if err == nil {
			err = write(b)
		}
		if b.readers.Add(-1) == 0 {
			b.lines, b.failure, b.retry = b.lines[:0], b.failure[:0], b.retry[:0]
			w.free <- b
		}
	}
	return err
}

// writeJSONL writes a batch's lines to w, encoded in buf (returned for
// the next batch).
func writeJSONL(w io.Writer, enc *jsonLines[OutcomeLine], buf []byte, b *lineBatch) ([]byte, error) {
	for i := range b.lines {
		buf = enc.appendLine(buf, &b.lines[i])
	}
	_, err := w.Write(buf)
	return buf, err
}

func writeCSVs(out *csvLines[OutcomeLine], fail *CSV[FailureLine], b *lineBatch) error {
	for i := range b.lines {
		l := b.lines[i]
		l.Message = csvSafe(l.Message)
		if err := out.Write(&l); err != nil {
			return err
		}
		if !b.failure[i] {
			continue
		}
		if err := fail.Write(FailureLine{Key: l.Key, Position: l.Position, Outcome: l.Outcome, ErrorCode: l.ErrorCode,
			Field: l.Field, Retryable: b.retry[i], Message: l.Message}); err != nil {
			return err
		}
	}
	if err := out.Flush(); err != nil {
		return err
	}
	return fail.Flush()
}

// add queues one row for every file it belongs in.
func (w *rowWriters) add(r checkpoint.RowState, l OutcomeLine) {
	b := w.cur
	b.lines = append(b.lines, l)
	b.failure = append(b.failure, isFailure(r))
	b.retry = append(b.retry, r.Retryable)
	if len(b.lines) >= lineBatchSize {
		w.send()
	}
}

func (w *rowWriters) send() {
	w.cur.readers.Store(2)
	w.toJSON <- w.cur
	w.toCSV <- w.cur
	w.cur = <-w.free
}

// close writes what is queued and waits for both writers; it returns the
// first failure.
func (w *rowWriters) close() error {
	if len(w.cur.lines) > 0 {
		w.send()
	}
	close(w.toJSON)
	close(w.toCSV)
	return errors.Join(<-w.done, <-w.done)
}

// csvNewlines flattens line breaks and tabs of free text to spaces.
var csvNewlines = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\t", " ")

// csvSafe keeps each CSV record on one line (line breaks in a message
// become spaces; outcomes.jsonl keeps them) and keeps a spreadsheet from
// reading free text as a formula: a message starting with = + - @ gets a
// leading apostrophe. Keys are never touched: they must round-trip.
func csvSafe(s string) string {
	s = csvNewlines.Replace(s)
	if s != "" && strings.ContainsRune("=+-@", rune(s[0])) {
		return "'" + s
	}
	return s
}
