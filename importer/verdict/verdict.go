// Package verdict decides how a source row ends before anything is sent:
// valid, or invalid with every reason. It is the one code path behind that
// answer for every command (validate, import --dry-run, import), so the
// same input gets the same verdict whichever asks.
//
// A row's verdict has two parts:
//
//   - The row taken alone (Check): the mapping's every FieldError, a record
//     the source could not read, a missing key.
//   - The row among the others (Duplicates): an email or username (in any
//     case), a phone number (E.164) or an external_id that an earlier row
//     already holds. The first row in source order without other problems
//     keeps the value; every later one is refused, a duplicate of that row,
//     and is never sent. The check runs over the whole source before any
//     row is sent, by external sort, in bounded memory.
//
// Pass is the streaming pass both engines read a source with: records in
// batches, mapped in parallel by workers, collected in source order.
package verdict

import (
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/mapping"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// Mapper turns a record into a CreateUser request, reporting every problem
// and keeping what did convert (*mapping.Mapping).
type Mapper interface {
	// MapAllInto clears p and writes the request into it; mapped is false
	// when the record could not be read at all (its Err is set: one
	// mapping.CodeRecordUnreadable error).
	MapAllInto(rec sources.Record, p *request.CreateUser) (mapped bool, errs mapping.FieldErrors)
}

// CodeMappingFailed is a row the mapping made no request of and gave no reason for.
const CodeMappingFailed = "mapping_failed"

// Row is the verdict on one row taken alone.
type Row struct {
	// Errs are the row's problems: refusals, and warnings that leave the
	// row valid.
	Errs mapping.FieldErrors
	// Mapped says the request holds what converted (false: the record
	// could not be read).
	Mapped bool
	// IDs are the identifiers the duplicate check compares.
	IDs Identifiers
}

// Valid reports a row that none of its own problems refuses (it may carry
// warnings).
func (r *Row) Valid() bool { return !r.Errs.Invalid() }

// Check maps rec into p (the caller's, reused from row to row) and judges
// the row alone. A valid row's request always carries its external_id.
func Check(m Mapper, rec sources.Record, p *request.CreateUser) Row {
	mapped, errs := m.MapAllInto(rec, p)
	r := Row{Errs: errs, Mapped: mapped}
	if !mapped {
		if len(r.Errs) == 0 {
			r.Errs = mapping.FieldErrors{{Code: CodeMappingFailed, Reason: "the mapping produced no request"}}
		}
		return r
	}
	ext, ok := p.ExternalID.Get()
	if !ok || ext == "" {
		ext = strings.TrimSpace(rec.Key)
		if ext != "" {
			p.ExternalID = request.Value(ext)
		}
	}
	if ext == "" && r.Valid() {
		r.Errs = mapping.FieldErrors{{Field: "external_id", Code: mapping.CodeMissing,
			Reason: "no key and no external_id: the row cannot be imported idempotently"}}
	}
	r.IDs = Identifiers{Emails: make([]string, len(p.EmailAddresses)), Phones: p.PhoneNumbers, Ext: ext}
	for i, e := range p.EmailAddresses {
		r.IDs.Emails[i] = strings.ToLower(e)
	}
	if u, ok := p.Username.Get(); ok {
		r.IDs.Username = strings.ToLower(u)
	}
	return r
}

// Settlement is how the row is recorded in the ledger as it stands alone:
// invalid with its first refusal's code and field and every problem in the
// message, or valid with its warnings (WarningNote).
func (r *Row) Settlement(rec *sources.Record) checkpoint.Settlement {
	s := checkpoint.Settlement{Pos: rec.Pos.Index, Key: rec.Key, Outcome: checkpoint.Valid}
	if r.Valid() {
		s.Message = WarningNote(rec.Pos, r.Errs)
		return s
	}
	first := r.Errs.Refusals()[0]
	s.Outcome, s.ErrorCode, s.Field = checkpoint.Invalid, first.Code, first.Field
	s.Message = rec.Pos.String() + ": " + r.Errs.Error()
	return s
}

// WarningNote is the ledger message of a row sent (or found valid) with
// warnings: its position and every warning; "" without any. validate,
// import --dry-run and import write the same note.
func WarningNote(pos sources.Position, errs mapping.FieldErrors) string {
	w := errs.Warnings()
	if len(w) == 0 {
		return ""
	}
	return pos.String() + ": " + w.Error()
}

// Refused is how a row the duplicate rule refuses is recorded.
func Refused(f *Finding) checkpoint.Settlement {
	return checkpoint.Settlement{Pos: f.Pos, Key: f.Key, Outcome: checkpoint.Invalid,
		ErrorCode: f.Code, Field: f.Field, Message: f.Reason}
}
