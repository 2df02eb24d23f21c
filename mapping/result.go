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
}

func (e FieldError) Error() string {
	if e.Source != "" && e.Source != e.Field {
		return fmt.Sprintf("%s (from %q): %s", e.Field, e.Source, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.Field, e.Reason)
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
