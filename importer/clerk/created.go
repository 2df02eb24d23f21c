package clerk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// createdUser is the part of CreateUser's answer that is decoded.
type createdUser struct {
	ID         string  `json:"id"`
	Object     string  `json:"object"`
	ExternalID *string `json:"external_id"`
	CreatedAt  int64   `json:"created_at"`
	UpdatedAt  int64   `json:"updated_at"`
}

// decodeCreated reads a User answer's top-level id, object, external_id,
// created_at and updated_at into u. Every other member is stepped over by
// its structure (strings with their escapes, nested objects and arrays),
// never decoded: the whole answer of a create is a kilobyte or two of
// addresses, verifications and metadata that no caller of CreateUser
// reads, and encoding/json would check it byte by byte before decoding
// the rest to skip it. The five members are decoded by encoding/json, and
// an answer whose structure is broken (unterminated, unbalanced, not an
// object) is an error.
func decodeCreated(b []byte, u *createdUser) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errors.New("answer is not a JSON object")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return fmt.Errorf("expected a member name at offset %d", i)
		}
		end, err := skipString(b, i)
		if err != nil {
			return err
		}
		name := b[i:end]
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return fmt.Errorf("expected ':' at offset %d", i)
		}
		start := skipSpace(b, i+1)
		if i, err = skipValue(b, start); err != nil {
			return err
		}
		if err := decodeMember(name, b[start:i], u); err != nil {
			return err
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return errors.New("unterminated object")
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			if j := skipSpace(b, i+1); j != len(b) {
				return fmt.Errorf("data after the object at offset %d", j)
			}
			return nil
		default:
			return fmt.Errorf("expected ',' or '}' at offset %d", i)
		}
	}
}

// decodeMember decodes the value v of member name (still quoted) when it
// is one createdUser keeps. A name with escapes is unquoted first. The
// name is compared as bytes (switch string(b) does not allocate): the
// members of a listed page are some 40 a user, and a string for each
// name was most of the split's cost.
func decodeMember(name, v []byte, u *createdUser) error {
	raw := name[1 : len(name)-1]
	if bytes.IndexByte(raw, '\\') >= 0 {
		var err error
		if raw, err = unquoteName(name); err != nil {
			return err
		}
	}
	var dst any
	switch string(raw) {
	case "id":
		if plainString(v, &u.ID) {
			return nil
		}
		dst = &u.ID
	case "object":
		if plainString(v, &u.Object) {
			return nil
		}
		dst = &u.Object
	case "external_id":
		var ext string
		if plainString(v, &ext) {
			u.ExternalID = &ext
			return nil
		}
		dst = &u.ExternalID
	case "created_at":
		if plainInt(v, &u.CreatedAt) {
			return nil
		}
		dst = &u.CreatedAt
	case "updated_at":
		if plainInt(v, &u.UpdatedAt) {
			return nil
		}
		dst = &u.UpdatedAt
	default:
		return nil
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return fmt.Errorf("member %q: %w", raw, err)
	}
	return nil
}

// unquoteName reads a member name with escapes.
func unquoteName(name []byte) ([]byte, error) {
	var key string
	if err := json.Unmarshal(name, &key); err != nil {
		return nil, err
	}
	return []byte(key), nil
}

// plainString reads a JSON string without escapes (what ids and times
// are) into dst; false for anything else, which encoding/json reads.
func plainString(v []byte, dst *string) bool {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return false
	}
	for _, c := range v[1 : len(v)-1] {
		if c == '\\' || c == '"' || c < 0x20 {
			return false
		}
	}
	*dst = string(v[1 : len(v)-1])
	return true
}

// plainInt reads a JSON integer of up to 18 digits into dst; false for
// anything else, which encoding/json reads.
func plainInt(v []byte, dst *int64) bool {
	neg := len(v) > 0 && v[0] == '-'
	digits := v
	if neg {
		digits = v[1:]
	}
	if len(digits) == 0 || len(digits) > 18 || (digits[0] == '0' && len(digits) > 1) {
		return false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	*dst = n
	return true
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the offset after the string that opens at b[i].
func skipString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errors.New("unterminated string")
}

// skipValue returns the offset after the value that starts at b[i].
func skipValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errors.New("missing value")
	}
	switch b[i] {
	case '"':
		return skipString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := skipString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errors.New("unterminated object or array")
	}
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' && b[j] != ' ' && b[j] != '\t' && b[j] != '\n' && b[j] != '\r' {
		j++
	}
	if j == i {
		return 0, fmt.Errorf("missing value at offset %d", i)
	}
	return j, nil
}
