package mapping

import (
	"encoding/json"
	"errors"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
)

// This file turns source values (sources.Value: nil, string, bool, int64,
// float64, json.Number, time.Time, []byte, []any, map[string]any) into the
// types of CreateUser properties.

// isAbsent reports whether a source value means "not given": nil, an empty
// string or byte slice.
func isAbsent(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []byte:
		return len(v) == 0
	}
	return false
}

// toText renders a scalar source value as text; false for lists and objects.
func toText(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case []byte:
		return string(v), true
	case json.Number:
		return string(v), true
	case int64:
		return strconv.FormatInt(v, 10), true
	case int:
		return strconv.Itoa(v), true
	case int32:
		return strconv.FormatInt(int64(v), 10), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case bool:
		return strconv.FormatBool(v), true
	case time.Time:
		return v.UTC().Format(time.RFC3339Nano), true
	}
	return "", false
}

// describe names the shape of a value for a type_invalid reason, without the
// value itself.
func describe(v any) string {
	switch v.(type) {
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	case bool:
		return "a boolean"
	case int64, int, int32, float64, json.Number:
		return "a number"
	case time.Time:
		return "a timestamp"
	case string, []byte:
		return "text"
	}
	return "an unsupported value"
}

// parseBool reads true/false/1/0/yes/no/t/f/y/n/on/off in any case.
func parseBool(v any) (bool, *problem) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case int64:
		if v == 0 || v == 1 {
			return v == 1, nil
		}
	case int:
		if v == 0 || v == 1 {
			return v == 1, nil
		}
	case float64:
		if v == 0 || v == 1 {
			return v == 1, nil
		}
	case string, []byte, json.Number:
		s, _ := toText(v)
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "true", "t", "yes", "y", "1", "on":
			return true, nil
		case "false", "f", "no", "n", "0", "off":
			return false, nil
		}
	}
	return false, &problem{CodeBoolInvalid, "not a boolean (use true/false, 1/0, yes/no, t/f)"}
}

// parseInt reads an integer from text or a number without a fraction.
func parseInt(v any) (int, *problem) {
	bad := &problem{CodeIntInvalid, "not an integer"}
	switch v := v.(type) {
	case int64:
		return int(v), nil
	case int:
		return v, nil
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > 1<<53 {
			return 0, bad
		}
		return int(v), nil
	case string, []byte, json.Number:
		s, _ := toText(v)
		n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return 0, bad
		}
		return int(n), nil
	}
	return 0, bad
}

// Unix timestamps are told apart by magnitude: below 1e11 they are seconds
// (up to the year 5138), below 1e14 milliseconds, below 1e17 microseconds,
// above that nanoseconds.
func unixTime(n float64) time.Time {
	a := math.Abs(n)
	switch {
	case a < 1e11:
		sec, frac := math.Modf(n)
		return time.Unix(int64(sec), int64(math.Round(frac*1e9)))
	case a < 1e14:
		return time.UnixMilli(int64(n))
	case a < 1e17:
		return time.UnixMicro(int64(n))
	default:
		return time.Unix(0, int64(n))
	}
}

// formatTimestamp renders t as Clerk wants it: RFC 3339 in UTC.
func formatTimestamp(t time.Time) string {
	t = t.UTC()
	if b, ok := appendWholeSecondUTC(make([]byte, 0, 20), t); ok {
		return string(b)
	}
	return t.Format(time.RFC3339Nano)
}

// appendWholeSecondUTC is time.RFC3339Nano's text of a UTC time of a year
// 0-9999 with no fraction of a second (every timestamp a source gives to
// the second), written without Format's layout walk: on a million rows
// that walk and time.Parse's were 0.2-0.4 s of CPU. false: use Format.
func appendWholeSecondUTC(b []byte, t time.Time) ([]byte, bool) {
	year, month, day := t.Date()
	if year < 0 || year > 9999 || t.Nanosecond() != 0 || t.Location() != time.UTC {
		return b, false
	}
	hour, minute, sec := t.Clock()
	b = append(b, byte('0'+year/1000), byte('0'+year/100%10), byte('0'+year/10%10), byte('0'+year%10), '-')
	b = append(b, byte('0'+int(month)/10), byte('0'+int(month)%10), '-', byte('0'+day/10), byte('0'+day%10), 'T')
	b = append(b, byte('0'+hour/10), byte('0'+hour%10), ':', byte('0'+minute/10), byte('0'+minute%10), ':')
	return append(b, byte('0'+sec/10), byte('0'+sec%10), 'Z'), true
}

// parseDateTime is time.Parse(layout, s) for the layouts of
// parseTimestampText ("2006-01-02T15:04:05", with a space or a 't' for
// the 'T'): a date-time of exactly 19 characters, every field two (the
// year four) digits, is read here with time.Parse's range checks; anything
// else goes to time.Parse.
func parseDateTime(layout, s string) (time.Time, error) {
	if t, ok := fastDateTime(s, layout[10]); ok {
		return t, nil
	}
	return time.Parse(layout, s)
}

// fastDateTime reads "YYYY-MM-DDShh:mm:ss", S the layout's separator;
// false when s is anything else or out of range, which time.Parse then
// reads or refuses with its own error.
func fastDateTime(s string, sep byte) (time.Time, bool) {
	if len(s) != 19 || s[4] != '-' || s[7] != '-' || s[10] != sep || s[13] != ':' || s[16] != ':' {
		return time.Time{}, false
	}
	num := func(i, n int) int {
		v := 0
		for _, c := range []byte(s[i : i+n]) {
			if c < '0' || c > '9' {
				return -1
			}
			v = v*10 + int(c-'0')
		}
		return v
	}
	year, month, day := num(0, 4), num(5, 2), num(8, 2)
	hour, minute, sec := num(11, 2), num(14, 2), num(17, 2)
	if year < 0 || month < 1 || month > 12 || day < 1 || day > daysIn(time.Month(month), year) ||
		hour < 0 || hour > 23 || minute < 0 || minute > 59 || sec < 0 || sec > 59 {
		return time.Time{}, false
	}
	return time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC), true
}

// daysIn is the number of days of month in year (the proleptic Gregorian
// calendar, as time.Parse checks a day).
func daysIn(m time.Month, year int) int {
	return time.Date(year, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

var errTimestamp = &problem{CodeTimestampInvalid,
	"not a timestamp (use RFC 3339, \"2006-01-02 15:04:05\" with an optional zone, a date, or Unix seconds/milliseconds)"}

// parseTimestamp reads a timestamp and returns it as RFC 3339 UTC. Empty is
// false with no problem: MySQL's zero date "0000-00-00 00:00:00" means none.
func parseTimestamp(v any) (string, bool, *problem) {
	t, given, pr := parseTime(v)
	if pr != nil || !given {
		return "", given, pr
	}
	return formatTimestamp(t), true, nil
}

// parseTime is parseTimestamp's time. Eight digits that read as a date as
// well as Unix seconds (20230115) are refused as ambiguous.
func parseTime(v any) (time.Time, bool, *problem) {
	switch v := v.(type) {
	case time.Time:
		return v, true, nil
	case int64:
		return unixTimeOf(strconv.FormatInt(v, 10), float64(v))
	case int:
		return unixTimeOf(strconv.Itoa(v), float64(v))
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1e9 {
			return unixTimeOf(strconv.FormatFloat(v, 'f', -1, 64), v)
		}
		return unixTime(v), true, nil
	case string, []byte, json.Number:
		s, _ := toText(v)
		s = strings.TrimSpace(s)
		if s == "" || strings.HasPrefix(s, "0000-00-00") {
			return time.Time{}, false, nil
		}
		if d, ok := ambiguousDigits(s); ok {
			return time.Time{}, true, ambiguousProblem(s, d)
		}
		t, ok := parseTimestampText(s)
		if !ok {
			return time.Time{}, true, errTimestamp
		}
		return t, true, nil
	}
	return time.Time{}, true, errTimestamp
}

// unixTimeOf reads an integer timestamp, refusing an ambiguous one.
func unixTimeOf(digits string, n float64) (time.Time, bool, *problem) {
	if d, ok := ambiguousDigits(digits); ok {
		return time.Time{}, true, ambiguousProblem(digits, d)
	}
	return unixTime(n), true, nil
}

// parseTimestampText reads Unix numbers, dates, and date-times with "T" or a
// space, an optional fraction and an optional zone (Z, UTC, GMT, ±hh, ±hhmm,
// ±hh:mm, with or without a space before it). No zone means UTC.
func parseTimestampText(s string) (time.Time, bool) {
	if isNumeric(s) {
		n, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return time.Time{}, false
		}
		return unixTime(n), true
	}
	if len(s) == 10 {
		t, err := time.Parse(time.DateOnly, s)
		return t, err == nil
	}
	if len(s) < 19 || (s[10] != 'T' && s[10] != ' ' && s[10] != 't') {
		return time.Time{}, false
	}
	end := 19
	if end < len(s) && (s[end] == '.' || s[end] == ',') {
		end++
		for end < len(s) && s[end] >= '0' && s[end] <= '9' {
			end++
		}
	}
	offset, ok := parseZone(strings.TrimSpace(s[end:]))
	if !ok {
		return time.Time{}, false
	}
	base := s[:end]
	layout := "2006-01-02T15:04:05"
	if s[10] == ' ' {
		layout = time.DateTime
	} else if s[10] == 't' {
		layout = "2006-01-02t15:04:05"
	}
	if end > 19 && s[19] == ',' {
		base = s[:19] + "." + s[20:end]
	}
	t, err := parseDateTime(layout, base)
	if err != nil {
		return time.Time{}, false
	}
	return t.Add(-time.Duration(offset) * time.Second), true
}

// isNumeric reports whether s is a decimal number: digits, an optional sign
// and at most one dot.
func isNumeric(s string) bool {
	digits, dots := 0, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			digits++
		case c == '.':
			dots++
		case (c == '-' || c == '+') && i == 0:
		default:
			return false
		}
	}
	return digits > 0 && dots <= 1
}

// parseZone reads a zone suffix into seconds east of UTC.
func parseZone(z string) (int, bool) {
	switch z {
	case "", "Z", "z", "UTC", "GMT", "+00", "-00":
		return 0, true
	}
	if z[0] != '+' && z[0] != '-' {
		return 0, false
	}
	sign := 1
	if z[0] == '-' {
		sign = -1
	}
	d := z[1:]
	if len(d) == 5 && d[2] == ':' {
		d = d[:2] + d[3:]
	}
	if len(d) != 2 && len(d) != 4 {
		return 0, false
	}
	for i := 0; i < len(d); i++ {
		if d[i] < '0' || d[i] > '9' {
			return 0, false
		}
	}
	h := int(d[0]-'0')*10 + int(d[1]-'0')
	m := 0
	if len(d) == 4 {
		m = int(d[2]-'0')*10 + int(d[3]-'0')
	}
	if h > 23 || m > 59 {
		return 0, false
	}
	return sign * (h*3600 + m*60), true
}

// parseObject reads metadata: a map as it is, or text holding a JSON object
// (numbers kept exact as json.Number). Empty text and JSON null are "not
// given" (false, no problem).
func parseObject(v any) (map[string]any, bool, *problem) {
	switch v := v.(type) {
	case map[string]any:
		return v, true, nil
	case string, []byte:
		s, _ := toText(v)
		s = strings.TrimSpace(s)
		if s == "" || s == "null" {
			return nil, false, nil
		}
		if s[0] != '{' {
			if json.Valid([]byte(s)) {
				return nil, true, &problem{CodeJSONNotObject, "JSON that is not an object: metadata must be {...}"}
			}
			return nil, true, &problem{CodeJSONInvalid, "not JSON: metadata must be a JSON object"}
		}
		if m, ok := parseFlatObject(s); ok {
			return m, true, nil
		}
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, true, &problem{CodeJSONInvalid, "not valid JSON: " + jsonErrorText(err)}
		}
		if dec.More() {
			return nil, true, &problem{CodeJSONInvalid, "not valid JSON: text after the object"}
		}
		if !mayHaveDuplicateKey(s, m) {
			return m, true, nil
		}
		if path, key, dup := duplicateKey(s); dup {
			where := ""
			if path != "" {
				where = " in " + path
			}
			return nil, true, &problem{CodeJSONInvalid, "key " + quote(key) + where +
				" is given twice: only the last value would be kept"}
		}
		return m, true, nil
	}
	return nil, true, &problem{CodeJSONNotObject, "metadata must be a JSON object, got " + describe(v)}
}

// jsonErrorText says where JSON broke without quoting the input.
func jsonErrorText(err error) string {
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return syn.Error() + " at byte " + strconv.FormatInt(syn.Offset, 10)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return "the object is cut short"
	}
	return err.Error()
}

// splitJSONArray reads a cell holding a JSON array of scalars.
func splitJSONArray(s string) ([]any, *problem) {
	s = strings.TrimSpace(s)
	if s == "" || s == "null" {
		return nil, nil
	}
	if s[0] != '[' {
		return nil, &problem{CodeListInvalid, "not a JSON array (split: json wants [\"a\", \"b\"])"}
	}
	if l, ok := quickStringArray(s); ok {
		return l, nil
	}
	var l []any
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(&l); err != nil || dec.More() {
		return nil, &problem{CodeListInvalid, "not a valid JSON array"}
	}
	return l, nil
}

// quickStringArray reads the common case of a JSON array of strings without
// escapes (["a", "b"]) with one allocation; false sends anything else to the
// full decoder.
func quickStringArray(s string) ([]any, bool) {
	if strings.IndexByte(s, '\\') >= 0 {
		return nil, false
	}
	n := strings.Count(s, ",") + 1
	out := make([]any, 0, n)
	i := skipSpace(s, 1)
	if i < len(s) && s[i] == ']' {
		return out, skipSpace(s, i+1) == len(s)
	}
	for {
		if i >= len(s) || s[i] != '"' {
			return nil, false
		}
		end := strings.IndexByte(s[i+1:], '"')
		if end < 0 {
			return nil, false
		}
		item := s[i+1 : i+1+end]
		for j := 0; j < len(item); j++ {
			if item[j] < ' ' {
				return nil, false
			}
		}
		out = append(out, item)
		i = skipSpace(s, i+2+end)
		if i >= len(s) {
			return nil, false
		}
		switch s[i] {
		case ',':
			i = skipSpace(s, i+1)
		case ']':
			return out, skipSpace(s, i+1) == len(s)
		default:
			return nil, false
		}
	}
}

// skipSpace returns the index of the first non-JSON-space byte from i.
func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}
