package reports

import (
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// InFlight is the outcome written for a row marked in flight and not
// settled yet (a report of a run still going on, or of an interrupted one).
const InFlight = "in_flight"

// OutcomeLine is one line of outcomes.jsonl (and, column for column, of
// outcomes.csv).
type OutcomeLine struct {
	Position    int64  `json:"position"`
	Key         string `json:"key"`
	ClerkUserID string `json:"clerk_user_id"`
	Outcome     string `json:"outcome"`
	ErrorCode   string `json:"error_code"`
	Field       string `json:"field"`
	Message     string `json:"message"`
	Attempts    int    `json:"attempts"`
}

// outcomesCSVHeader is the first line of outcomes.csv.
var outcomesCSVHeader = []string{"position", "key", "clerk_user_id", "outcome", "error_code", "field", "message", "attempts"}

// failuresCSVHeader is the first line of failures.csv; key must stay first.
var failuresCSVHeader = []string{"key", "position", "outcome", "error_code", "field", "retryable", "message"}

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
// rows stream by.
type rowWriters struct {
	jsonl    *json.Encoder
	csv      *csv.Writer
	failures *csv.Writer
	rec      []string // reused record buffer
}

func newRowWriters(jsonl, outcomesCSV, failuresCSV *atomicFile) (*rowWriters, error) {
	w := &rowWriters{
		jsonl:    json.NewEncoder(jsonl),
		csv:      csv.NewWriter(outcomesCSV),
		failures: csv.NewWriter(failuresCSV),
		rec:      make([]string, 0, 8),
	}
	w.jsonl.SetEscapeHTML(false)
	if err := w.csv.Write(outcomesCSVHeader); err != nil {
		return nil, err
	}
	if err := w.failures.Write(failuresCSVHeader); err != nil {
		return nil, err
	}
	return w, nil
}

// add writes one row to every file it belongs in.
func (w *rowWriters) add(r checkpoint.RowState, l OutcomeLine) error {
	if err := w.jsonl.Encode(l); err != nil {
		return err
	}
	msg := csvSafe(l.Message)
	w.rec = append(w.rec[:0], strconv.FormatInt(l.Position, 10), l.Key, l.ClerkUserID, l.Outcome,
		l.ErrorCode, l.Field, msg, strconv.Itoa(l.Attempts))
	if err := w.csv.Write(w.rec); err != nil {
		return err
	}
	if !isFailure(r) {
		return nil
	}
	w.rec = append(w.rec[:0], l.Key, strconv.FormatInt(l.Position, 10), l.Outcome, l.ErrorCode,
		l.Field, strconv.FormatBool(r.Retryable), msg)
	return w.failures.Write(w.rec)
}

// flush flushes the CSV writers into their files' buffers.
func (w *rowWriters) flush() error {
	w.csv.Flush()
	if err := w.csv.Error(); err != nil {
		return err
	}
	w.failures.Flush()
	return w.failures.Error()
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
