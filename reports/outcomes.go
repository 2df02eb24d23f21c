package reports

import (
	"encoding/json"
	"strings"

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
// rows stream by.
type rowWriters struct {
	jsonl    *json.Encoder
	csv      *CSV[OutcomeLine]
	failures *CSV[FailureLine]
}

func newRowWriters(jsonl, outcomesCSV, failuresCSV *atomicFile) (*rowWriters, error) {
	w := &rowWriters{jsonl: json.NewEncoder(jsonl)}
	w.jsonl.SetEscapeHTML(false)
	var err error
	if w.csv, err = NewCSV[OutcomeLine](outcomesCSV); err != nil {
		return nil, err
	}
	if w.failures, err = NewCSV[FailureLine](failuresCSV); err != nil {
		return nil, err
	}
	return w, nil
}

// add writes one row to every file it belongs in.
func (w *rowWriters) add(r checkpoint.RowState, l OutcomeLine) error {
	if err := w.jsonl.Encode(l); err != nil {
		return err
	}
	l.Message = csvSafe(l.Message)
	if err := w.csv.Write(l); err != nil {
		return err
	}
	if !isFailure(r) {
		return nil
	}
	return w.failures.Write(FailureLine{Key: l.Key, Position: l.Position, Outcome: l.Outcome, ErrorCode: l.ErrorCode,
		Field: l.Field, Retryable: r.Retryable, Message: l.Message})
}

// flush writes the CSV rows through to their files' buffers.
func (w *rowWriters) flush() error {
	if err := w.csv.Flush(); err != nil {
		return err
	}
	return w.failures.Flush()
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
