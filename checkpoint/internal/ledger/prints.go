package ledger

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// UserPrints are one user's fingerprints as the stores keep them since
// schema version 5: one row a user, its groups in one JSON object (group →
// fingerprint), merged into the row a put finds (SQLite's json_patch,
// Postgres's jsonb ||) so that a put replaces only the groups it gives.
// An import records four groups a user: one row instead of four.
type UserPrints struct {
	ExternalID string
	Prints     string // JSON object
}

// GroupPrints folds fps into one object a user, in the order each user
// first appears; a group given twice keeps the last value.
func GroupPrints(fps []checkpoint.Fingerprint) []UserPrints {
	type acc struct {
		groups []string
		values map[string]string
	}
	order := make([]string, 0, len(fps)/3+1)
	by := make(map[string]*acc, len(fps)/3+1)
	for _, f := range fps {
		a := by[f.ExternalID]
		if a == nil {
			a = &acc{values: make(map[string]string, 4)}
			by[f.ExternalID] = a
			order = append(order, f.ExternalID)
		}
		if _, ok := a.values[f.Group]; !ok {
			a.groups = append(a.groups, f.Group)
		}
		a.values[f.Group] = f.Value
	}
	out := make([]UserPrints, 0, len(order))
	var b []byte
	for _, ext := range order {
		a := by[ext]
		b = append(b[:0], '{')
		for i, g := range a.groups {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, g)
			b = append(b, ':')
			b = appendJSONString(b, a.values[g])
		}
		b = append(b, '}')
		out = append(out, UserPrints{ExternalID: ext, Prints: string(b)})
	}
	return out
}

// DecodePrints reads a user's object: group → fingerprint.
func DecodePrints(s string) (map[string]string, error) {
	if m, ok := decodeFlat(s); ok {
		return m, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return nil, fmt.Errorf("fingerprints: %w", err)
	}
	return m, nil
}

// decodeFlat reads {"k":"v",...} without escapes, as GroupPrints and
// json_patch write fingerprints (or with one space after ':' and ',', as
// Postgres prints jsonb); ok is false for anything else, which
// json.Unmarshal then reads.
func decodeFlat(s string) (map[string]string, bool) {
	rest, ok := strings.CutPrefix(s, "{")
	if !ok {
		return nil, false
	}
	m := make(map[string]string, 4)
	if rest == "}" {
		return m, true
	}
	for {
		k, r, ok := plainString(rest)
		if !ok || r == "" || r[0] != ':' {
			return nil, false
		}
		v, r, ok := plainString(strings.TrimPrefix(r[1:], " "))
		if !ok || r == "" {
			return nil, false
		}
		m[k] = v
		switch r[0] {
		case ',':
			rest = strings.TrimPrefix(r[1:], " ")
		case '}':
			return m, r == "}"
		default:
			return nil, false
		}
	}
}

// plainString reads a JSON string with no escape at the start of s.
func plainString(s string) (string, string, bool) {
	if s == "" || s[0] != '"' {
		return "", "", false
	}
	end := strings.IndexByte(s[1:], '"')
	if end < 0 {
		return "", "", false
	}
	v := s[1 : 1+end]
	if strings.IndexByte(v, '\\') >= 0 {
		return "", "", false
	}
	return v, s[2+end:], true
}

// appendJSONString appends s as a JSON string: as it is when it is plain
// printable ASCII (a fingerprint always is), else through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= utf8.RuneSelf || c == '"' || c == '\\' {
			js, _ := json.Marshal(s)
			return append(b, js...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
