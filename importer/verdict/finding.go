package verdict

import (
	"encoding/binary"
	"errors"
)

// Finding is one problem of one row. It never holds a secret value: reasons
// come from the mapping (which names no secret) or from this package (which
// names identifiers such as emails, never passwords, digests, TOTP secrets
// or backup codes).
type Finding struct {
	Pos    int64  `json:"pos"`            // the row's 1-based index in the source
	Line   int64  `json:"line,omitempty"` // the line where the row starts, when the format has lines
	Key    string `json:"key"`            // the legacy user id
	Field  string `json:"field"`          // the CreateUser property at fault
	Source string `json:"source,omitempty"`
	Code   string `json:"code"`
	Reason string `json:"reason"`
	// Severity is SeverityError, or SeverityWarning for a finding that
	// leaves its row valid (mapping.FieldError.Warning).
	Severity string `json:"severity"`
}

// Severities of a Finding.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
)

// SeverityOf names a finding's severity.
func SeverityOf(warning bool) string {
	if warning {
		return SeverityWarning
	}
	return SeverityError
}

// Codes of the findings the duplicate check makes.
const (
	CodeDuplicateEmail      = "duplicate_email"       // an email address (any case) on several rows
	CodeDuplicatePhone      = "duplicate_phone"       // a phone number (E.164) on several rows
	CodeDuplicateUsername   = "duplicate_username"    // a username (any case) on several rows
	CodeDuplicateExternalID = "duplicate_external_id" // a legacy key on several rows
)

// appendFinding encodes f after an 8-byte big-endian position key.
func appendFinding(buf []byte, f *Finding, flags byte) []byte {
	buf = binary.BigEndian.AppendUint64(buf, uint64(f.Pos))
	if f.Severity == SeverityWarning {
		flags |= flagWarning
	}
	buf = append(buf, flags)
	buf = binary.AppendUvarint(buf, uint64(f.Line))
	for _, s := range [...]string{f.Key, f.Field, f.Source, f.Code, f.Reason} {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	return buf
}

// decodeFinding reverses appendFinding.
func decodeFinding(rec []byte) (Finding, byte, error) {
	bad := errors.New("validate: corrupt finding record")
	if len(rec) < 9 {
		return Finding{}, 0, bad
	}
	f := Finding{Pos: int64(binary.BigEndian.Uint64(rec))}
	flags := rec[8]
	f.Severity = SeverityOf(flags&flagWarning != 0)
	rec = rec[9:]
	line, w := binary.Uvarint(rec)
	if w <= 0 {
		return Finding{}, 0, bad
	}
	f.Line, rec = int64(line), rec[w:]
	for _, dst := range [...]*string{&f.Key, &f.Field, &f.Source, &f.Code, &f.Reason} {
		n, w := binary.Uvarint(rec)
		if w <= 0 || uint64(len(rec)-w) < n {
			return Finding{}, 0, bad
		}
		*dst, rec = string(rec[w:w+int(n)]), rec[w+int(n):]
	}
	return f, flags, nil
}
