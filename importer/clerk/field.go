package clerk

import (
	"bytes"
	"encoding/json"
)

// Field is an optional request property that can be left out, sent as an
// explicit JSON null, or sent with a value. The zero Field is left out of the
// request body (it is tagged `omitzero`), so a request type can tell "don't
// touch" from "clear this" where the spec allows null.
type Field[T any] struct {
	set  bool
	null bool
	v    T
}

// Value returns a Field that sends v.
func Value[T any](v T) Field[T] { return Field[T]{set: true, v: v} }

// Null returns a Field that sends an explicit JSON null.
func Null[T any]() Field[T] { return Field[T]{set: true, null: true} }

// IsZero reports whether the field is left out of the request (for omitzero).
func (f Field[T]) IsZero() bool { return !f.set }

// IsNull reports whether the field is sent as an explicit null.
func (f Field[T]) IsNull() bool { return f.set && f.null }

// Get returns the value and whether one is set (false for unset and null).
func (f Field[T]) Get() (T, bool) { return f.v, f.set && !f.null }

// MarshalJSON writes the value, or null.
func (f Field[T]) MarshalJSON() ([]byte, error) {
	if !f.set || f.null {
		return []byte("null"), nil
	}
	return json.Marshal(f.v)
}

// UnmarshalJSON reads a value or an explicit null.
func (f *Field[T]) UnmarshalJSON(b []byte) error {
	if bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
		*f = Null[T]()
		return nil
	}
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = Value(v)
	return nil
}
