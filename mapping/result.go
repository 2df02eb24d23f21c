package mapping

import (
	"fmt"
	"strings"
)

// FieldError is one problem with one field of one row: which CreateUser field,
// which source column or path fed it, and why. It never carries the field's
// value when that value is a secret.
type FieldError struct {
	Field  string // the CreateUser property, e.g. "password_digest"
	Source string // the source column or path, e.g. "hash" or "mfa_factors[0].totp.secret"
	Code   string // a stable machine code, e.g. "missing", "hasher_unknown", "json_invalid"
	Reason string // for people: what is wrong and, where known, how to fix it
	// Warning marks a finding that does not stop the row: the value is sent
	// as the source gives it, and Reason says what may go wrong and why the
	// row is not refused (Clerk's documentation leaves the form open, or a
	// setting of the Clerk instance decides), or, for value_trimmed and
	// value_repeated, the value is sent changed as Reason says. Every
	// command gives a row with only warnings the same verdict: valid.
	Warning bool
}

func (e FieldError) Error() string {
	prefix := ""
	if e.Warning {
		prefix = "warning: "
	}
	if e.Source != "" && e.Source != e.Field {
		return fmt.Sprintf("%s%s (from %q): %s", prefix, e.Field, e.Source, e.Reason)
	}
	return fmt.Sprintf("%s%s: %s", prefix, e.Field, e.Reason)
}

// FieldErrors are all the problems of one row.
type FieldErrors []FieldError

func (es FieldErrors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Invalid reports whether any of es refuses the row: an error that is not
// a warning. A row is sent if and only if it is not Invalid.
func (es FieldErrors) Invalid() bool {
	for _, e := range es {
		if !e.Warning {
			return true
		}
	}
	return false
}

// Refusals returns the errors of es that are not warnings, in order.
func (es FieldErrors) Refusals() FieldErrors {
	return es.filter(false)
}

// Warnings returns the warnings of es, in order.
func (es FieldErrors) Warnings() FieldErrors {
	return es.filter(true)
}

func (es FieldErrors) filter(warning bool) FieldErrors {
	var out FieldErrors
	for _, e := range es {
		if e.Warning == warning {
			out = append(out, e)
		}
	}
	return out
}
