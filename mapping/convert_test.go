package mapping

import (
	"encoding/json"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseTimestamp(t *testing.T) {
	tests := []struct {
		in   any
		want string // "" with given=false means "not given"; "!" means invalid
	}{
		{"2019-03-04T10:22:01Z", "2019-03-04T10:22:01Z"},
		{"2019-03-04T10:22:01.902Z", "2019-03-04T10:22:01.902Z"},
		{"2020-07-15T08:30:00+02:00", "2020-07-15T06:30:00Z"},
		{"2020-07-15T08:30:00+0200", "2020-07-15T06:30:00Z"},
		{"2019-03-04 10:22:01", "2019-03-04T10:22:01Z"},
		{"2019-03-04 10:22:01.123456+00", "2019-03-04T10:22:01.123456Z"},
		{"2019-03-04 10:22:01 -05:00", "2019-03-04T15:22:01Z"},
		{"2019-03-04 10:22:01 UTC", "2019-03-04T10:22:01Z"},
		{"2019-03-04 10:22:01,5", "2019-03-04T10:22:01.5Z"},
		{"2021-01-05", "2021-01-05T00:00:00Z"},
		{" 1546300800 ", "2019-01-01T00:00:00Z"},
		{"1577836800000", "2020-01-01T00:00:00Z"},
		{"1577836800000000", "2020-01-01T00:00:00Z"},
		{"1546300800.25", "2019-01-01T00:00:00.25Z"},
		{int64(1546300800), "2019-01-01T00:00:00Z"},
		{float64(1577836800000), "2020-01-01T00:00:00Z"},
		{json.Number("1546300800"), "2019-01-01T00:00:00Z"},
		{time.Date(2020, 1, 1, 1, 0, 0, 0, time.FixedZone("x", 3600)), "2020-01-01T00:00:00Z"},
		{"0000-00-00 00:00:00", ""},
		{"   ", ""},
		{"31/12/2020", "!"},
		{"2019-13-04 10:22:01", "!"},
		{"2019-03-04 10:22:01 PST", "!"},
		{"2019-03-04 10:22:01+25:00", "!"},
		{"yesterday", "!"},
		{true, "!"},
		{[]any{"2020-01-01"}, "!"},
	}
	for _, tt := range tests {
		got, given, pr := parseTimestamp(tt.in)
		switch {
		case tt.want == "!":
			if pr == nil || pr.code != CodeTimestampInvalid {
				t.Errorf("parseTimestamp(%#v) = %q, %v; want timestamp_invalid", tt.in, got, pr)
			}
		case tt.want == "":
			if given || pr != nil {
				t.Errorf("parseTimestamp(%#v) = %q given=%v %v; want not given", tt.in, got, given, pr)
			}
		case got != tt.want || pr != nil || !given:
			t.Errorf("parseTimestamp(%#v) = %q, %v; want %q", tt.in, got, pr, tt.want)
		}
	}
}

func TestParseBool(t *testing.T) {
	for _, in := range []any{"true", "TRUE", " t ", "yes", "Y", "1", "on", true, int64(1), float64(1), json.Number("1")} {
		if b, pr := parseBool(in); pr != nil || !b {
			t.Errorf("parseBool(%#v) = %v, %v; want true", in, b, pr)
		}
	}
	for _, in := range []any{"false", "F", "no", "n", "0", "off", false, int64(0), float64(0)} {
		if b, pr := parseBool(in); pr != nil || b {
			t.Errorf("parseBool(%#v) = %v, %v; want false", in, b, pr)
		}
	}
	for _, in := range []any{"maybe", "2", int64(2), float64(0.5), map[string]any{}, "tru"} {
		if _, pr := parseBool(in); pr == nil || pr.code != CodeBoolInvalid {
			t.Errorf("parseBool(%#v) = %v; want bool_invalid", in, pr)
		}
	}
}

func TestParseInt(t *testing.T) {
	good := map[any]int{"42": 42, " -7 ": -7, int64(3): 3, float64(5): 5, json.Number("9"): 9}
	for in, want := range good {
		if n, pr := parseInt(in); pr != nil || n != want {
			t.Errorf("parseInt(%#v) = %d, %v; want %d", in, n, pr, want)
		}
	}
	for _, in := range []any{"4.5", "ten", float64(4.5), true, ""} {
		if _, pr := parseInt(in); pr == nil || pr.code != CodeIntInvalid {
			t.Errorf("parseInt(%#v) = %v; want int_invalid", in, pr)
		}
	}
}

func TestParseObject(t *testing.T) {
	tests := []struct {
		in    any
		want  map[string]any
		given bool
		code  string
	}{
		{`{"a":1,"b":{"c":[true]}}`, map[string]any{"a": json.Number("1"), "b": map[string]any{"c": []any{true}}}, true, ""},
		{` {"big": 12345678901234567890} `, map[string]any{"big": json.Number("12345678901234567890")}, true, ""},
		{map[string]any{"x": "y"}, map[string]any{"x": "y"}, true, ""},
		{[]byte(`{"x":"y"}`), map[string]any{"x": "y"}, true, ""},
		{"", nil, false, ""},
		{"null", nil, false, ""},
		{`{"a":1`, nil, true, CodeJSONInvalid},
		{`{"a":1} {"b":2}`, nil, true, CodeJSONInvalid},
		{`{'a':1}`, nil, true, CodeJSONInvalid},
		{`[1,2]`, nil, true, CodeJSONNotObject},
		{`"text"`, nil, true, CodeJSONNotObject},
		{`plan=pro`, nil, true, CodeJSONInvalid},
		{[]any{"a"}, nil, true, CodeJSONNotObject},
		{int64(4), nil, true, CodeJSONNotObject},
	}
	for _, tt := range tests {
		got, given, pr := parseObject(tt.in)
		code := ""
		if pr != nil {
			code = pr.code
		}
		if code != tt.code || given != tt.given || (tt.code == "" && !reflect.DeepEqual(got, tt.want)) {
			t.Errorf("parseObject(%#v) = %v, %v, %v; want %v, %v, %q", tt.in, got, given, pr, tt.want, tt.given, tt.code)
		}
	}
}

func TestToText(t *testing.T) {
	tests := []struct {
		in   any
		want string
		ok   bool
	}{
		{"a", "a", true}, {[]byte("b"), "b", true}, {int64(-3), "-3", true}, {3, "3", true},
		{float64(1.5), "1.5", true}, {float64(1e21), "1000000000000000000000", true},
		{json.Number("7"), "7", true}, {true, "true", true},
		{time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC), "2020-01-02T03:04:05Z", true},
		{[]any{"a"}, "", false}, {map[string]any{}, "", false},
	}
	for _, tt := range tests {
		if got, ok := toText(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("toText(%#v) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestTransformsAndSplits runs each transform and split through Map.
func TestTransformsAndSplits(t *testing.T) {
	tests := []struct {
		name, field, spec string
		row               vals
		want              string // the request's JSON without external_id
	}{
		{"trim", "first_name", "{ from: f, transform: [trim] }", vals{"f": "  Ann \t"}, `{"first_name":"Ann"}`},
		{"no transform keeps spaces", "first_name", "f", vals{"f": " Ann "}, `{"first_name":" Ann "}`},
		{"lower", "last_name", "{ from: f, transform: lower }", vals{"f": "ÉCOLE"}, `{"last_name":"école"}`},
		{"upper", "last_name", "{ from: f, transform: [upper] }", vals{"f": "smith"}, `{"last_name":"SMITH"}`},
		{"trim then empty is not given", "first_name", "{ from: f, transform: [trim] }", vals{"f": "   "}, `{}`},
		{"empty cell not given", "first_name", "f", vals{"f": ""}, `{}`},
		{"missing column not given", "first_name", "f", vals{}, `{}`},
		{"nil not given", "first_name", "f", vals{"f": nil}, `{}`},
		{"first non-empty wins", "first_name", "{ from: [nick, f] }", vals{"nick": "", "f": "Ann"}, `{"first_name":"Ann"}`},
		{"number as text", "first_name", "f", vals{"f": int64(7)}, `{"first_name":"7"}`},
		{"default", "locale", "{ from: l, default: en-US }", vals{"l": ""}, `{"locale":"en-US"}`},
		{"default unused", "locale", "{ from: l, default: en-US }", vals{"l": "fr_FR"}, `{"locale":"fr-FR"}`},
		{"value", "first_name", "{ value: Anon }", vals{}, `{"first_name":"Anon"}`},
		{"split pipe", "email_address", `{ from: e, split: "|", verified: true }`, vals{"e": "a@x.io| b@y.io ||"}, `{"email_address":["a@x.io","b@y.io"]}`},
		{"split comma", "email_address", `{ from: e, split: ",", verified: true }`, vals{"e": "a@x.io,b@y.io"}, `{"email_address":["a@x.io","b@y.io"]}`},
		{"split multi-char", "email_address", `{ from: e, split: " ; ", verified: true }`, vals{"e": "a@x.io ; b@y.io"}, `{"email_address":["a@x.io","b@y.io"]}`},
		{"split json", "email_address", `{ from: e, split: json, verified: true }`, vals{"e": `["a@x.io","b@y.io"]`}, `{"email_address":["a@x.io","b@y.io"]}`},
		{"no split keeps cell whole", "web3_wallet", `w`, vals{"w": "0x52908400098527886E0F7030069857D2E4169EE7"}, `{"web3_wallet":["0x52908400098527886E0F7030069857D2E4169EE7"]}`},
		{"typed list", "email_address", `{ from: e, verified: true }`, vals{"e": []any{"A@X.io", "b@y.io"}}, `{"email_address":["A@X.io","b@y.io"]}`},
		{"lists concatenate and dedupe", "email_address", `{ from: [e, e2], split: "|", verified: true }`, vals{"e": "a@x.io", "e2": "B@y.io|A@X.IO"}, `{"email_address":["a@x.io","B@y.io"]}`},
		{"list transform per item", "backup_codes", `{ from: c, split: ",", transform: [upper] }`, vals{"c": "abcd-1,efgh-2"}, `{"backup_codes":["ABCD-1","EFGH-2"]}`},
		{"bool", "banned", `{ from: b, parse: bool }`, vals{"b": "yes"}, `{"banned":true}`},
		{"bool typed", "locked", `b`, vals{"b": false}, `{"locked":false}`},
		{"bool blank", "banned", `b`, vals{"b": "  "}, `{}`},
		{"bool value", "skip_password_checks", `{ value: true }`, vals{}, `{"skip_password_checks":true}`},
		{"int", "create_organizations_limit", `{ from: n, parse: int }`, vals{"n": " 3 "}, `{"create_organizations_limit":3}`},
		{"int typed", "create_organizations_limit", `n`, vals{"n": float64(5)}, `{"create_organizations_limit":5}`},
		{"timestamp", "created_at", `{ from: c, parse: timestamp }`, vals{"c": "2019-03-04 10:22:01"}, `{"created_at":"2019-03-04T10:22:01Z"}`},
		{"timestamp typed", "legal_accepted_at", `c`, vals{"c": time.Date(2020, 5, 6, 7, 8, 9, 0, time.UTC)}, `{"legal_accepted_at":"2020-05-06T07:08:09Z"}`},
		{"timestamp zero date", "created_at", `c`, vals{"c": "0000-00-00 00:00:00"}, `{}`},
		{"json", "public_metadata", `{ from: m, parse: json }`, vals{"m": `{"a":1}`}, `{"public_metadata":{"a":1}}`},
		{"json typed map", "unsafe_metadata", `m`, vals{"m": map[string]any{"a": []any{"b"}}}, `{"unsafe_metadata":{"a":["b"]}}`},
		{"object from columns", "private_metadata", `{ from: { plan: p, role: r, none: n } }`, vals{"p": "pro", "r": "admin", "n": ""}, `{"private_metadata":{"plan":"pro","role":"admin"}}`},
		{"object from columns, all empty", "private_metadata", `{ from: { plan: p } }`, vals{"p": ""}, `{}`},
		{"object value", "public_metadata", `{ value: { tier: gold, n: 2 } }`, vals{}, `{"public_metadata":{"n":2,"tier":"gold"}}`},
		{"object default", "public_metadata", `{ from: m, default: { tier: basic } }`, vals{"m": "null"}, `{"public_metadata":{"tier":"basic"}}`},
		{"status value broadcast", "email_address_identification_status", `{ value: reserved }` + "\n  email_address: { from: e, split: \"|\" }", vals{"e": "a@x.io|b@x.io"},
			`{"email_address":["a@x.io","b@x.io"],"email_address_identification_status":["reserved","reserved"]}`},
		{"status value without addresses", "email_address_identification_status", `{ value: reserved }` + "\n  email_address: e", vals{"e": ""}, `{}`},
		{"status from row", "phone_number_identification_status", `{ from: s, split: "|", transform: [lower] }` + "\n  phone_number: { from: p, split: \"|\" }",
			vals{"s": "VERIFIED|reserved", "p": "+14155550132|+442079460958"},
			`{"phone_number":["+14155550132","+442079460958"],"phone_number_identification_status":["verified","reserved"]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := oneField(t, tt.field, tt.spec)
			p, errs := m.Map(rec(tt.row))
			if strings.Contains(tt.name, "dedupe") { // the repeat is a warning naming both copies
				if len(errs) != 1 || errs[0].Code != CodeValueRepeated || !errs[0].Warning ||
					!strings.Contains(errs[0].Reason, `value 3 "A@X.IO" repeats value 1 "a@x.io"`) {
					t.Fatalf("Map: %v, want one value_repeated warning", errs)
				}
				errs = nil
			}
			if errs != nil {
				t.Fatalf("Map: %v", errs)
			}
			if p.ExternalID.IsZero() {
				t.Fatal("external_id not set")
			}
			p.ExternalID = request.Field[string]{}
			if got := requestJSON(t, p); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestSplitJSONArray: the quick path for plain string arrays agrees with
// the full decoder, which takes everything else.
func TestSplitJSONArray(t *testing.T) {
	tests := []struct {
		in   string
		want []any
		bad  bool
	}{
		{`["a","b"]`, []any{"a", "b"}, false},
		{` [ "a" , "b,c" ] `, []any{"a", "b,c"}, false},
		{`[]`, []any{}, false},
		{`["é\u00e9"]`, []any{"éé"}, false},
		{`["a\"b"]`, []any{`a"b`}, false},
		{`["a", 7, true, null]`, []any{"a", json.Number("7"), true, nil}, false},
		{``, nil, false},
		{`null`, nil, false},
		{`["a",]`, nil, true},
		{`["a"] x`, nil, true},
		{`["a"`, nil, true},
		{`"a"`, nil, true},
		{`a|b`, nil, true},
		{"[\"a\tb\"]", nil, true},
	}
	for _, tt := range tests {
		got, pr := splitJSONArray(tt.in)
		if tt.bad {
			if pr == nil || pr.code != CodeListInvalid {
				t.Errorf("splitJSONArray(%q) = %v, %v; want list_invalid", tt.in, got, pr)
			}
			continue
		}
		if pr != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("splitJSONArray(%q) = %#v, %v; want %#v", tt.in, got, pr, tt.want)
		}
	}
}
