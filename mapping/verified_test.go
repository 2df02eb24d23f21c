package mapping

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// TestVerifiedMustBeStated: a mapping that maps an email address or a phone
// number without saying which values are verified is refused, with the
// field's line; so is one that says it twice.
func TestVerifiedMustBeStated(t *testing.T) {
	for _, tt := range []struct {
		name, fields string
		line         int // 0: loads
		want         string
	}{
		{"email without verified", "  first_name: f\n  email_address: e\n", 7, "email_address: say which values the source verified"},
		{"phone without verified", "  phone_number: { from: p }\n", 6, "phone_number: say which values"},
		{"flag", "  email_address: { from: e, verified: { from: ev } }\n", 0, ""},
		{"constant", "  phone_number: { from: p, verified: false }\n", 0, ""},
		{"status property instead", "  email_address: e\n  email_address_identification_status: { value: reserved }\n", 0, ""},
		{"both", "  email_address: { from: e, verified: true }\n  email_address_identification_status: s\n", 7, "keep one"},
		{"not an identifier", "  first_name: { from: f, verified: true }\n", 6, "verified is for email_address and phone_number"},
		{"unknown key", "  email_address: { from: e, verified: { form: ev } }\n", 6, `unknown key "form"`},
		{"two sources", "  email_address: { from: e, verified: { from: ev, in: [v] } }\n", 6, "give one of from, in and value"},
		{"default without from", "  email_address: { from: e, verified: { in: v, default: true } }\n", 6, "default and parse go with from"},
		{"default with a time", "  email_address: { from: e, verified: { from: t, parse: timestamp, default: true } }\n", 6, "remove default"},
		{"not a bool", "  email_address: { from: e, verified: yes please }\n", 6, "verified: write"},
		{"bad parse", "  email_address: { from: e, verified: { from: ev, parse: json } }\n", 6, "parse: bool"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte("version: 1\nkey: id\noptions:\n  default_phone_region: US\nfields:\n" + tt.fields))
			if tt.line == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			les, ok := err.(LoadErrors)
			if !ok || len(les) != 1 || les[0].Line != tt.line || !strings.Contains(les[0].Msg, tt.want) {
				t.Fatalf("got %v, want line %d: %q", err, tt.line, tt.want)
			}
		})
	}
}

// TestVerifiedStatuses: each form of `verified:` gives each value the
// status the row says, "reserved" for what the source did not verify, and
// a finding when the row cannot say.
func TestVerifiedStatuses(t *testing.T) {
	for _, tt := range []struct {
		name, spec string
		row        vals
		want       string // the request's email part, or "!code" for a finding
	}{
		{"constant true", `verified: true`, vals{"e": "a@x.io|b@x.io"}, `"email_address":["a@x.io","b@x.io"]`},
		{"constant false", `verified: { value: false }`, vals{"e": "a@x.io|b@x.io"},
			`"email_address":["a@x.io","b@x.io"],"email_address_identification_status":["reserved","reserved"]`},
		{"flag true", `verified: { from: ev }`, vals{"e": "a@x.io", "ev": "yes"}, `"email_address":["a@x.io"]`},
		{"flag false", `verified: { from: ev }`, vals{"e": "a@x.io", "ev": "0"},
			`"email_address":["a@x.io"],"email_address_identification_status":["reserved"]`},
		{"JSON boolean false", `verified: { from: ev }`, vals{"e": "a@x.io", "ev": false},
			`"email_address":["a@x.io"],"email_address_identification_status":["reserved"]`},
		{"flag empty", `verified: { from: ev }`, vals{"e": "a@x.io", "ev": ""}, "!" + CodeVerifiedUnknown},
		{"flag absent (JSON)", `verified: { from: ev }`, vals{"e": "a@x.io"}, "!" + CodeVerifiedUnknown},
		{"flag null", `verified: { from: ev }`, vals{"e": "a@x.io", "ev": nil}, "!" + CodeVerifiedUnknown},
		{"flag not a boolean", `verified: { from: ev }`, vals{"e": "a@x.io", "ev": "pending"}, "!" + CodeVerifiedInvalid},
		{"flag empty, default false", `verified: { from: ev, default: false }`, vals{"e": "a@x.io", "ev": ""},
			`"email_address":["a@x.io"],"email_address_identification_status":["reserved"]`},
		{"first non-empty flag", `verified: { from: [ev, ev2] }`, vals{"e": "a@x.io", "ev": "", "ev2": "true"}, `"email_address":["a@x.io"]`},
		{"no address, no question", `verified: { from: ev }`, vals{"e": "", "ev": ""}, ``},
		{"time set", `verified: { from: at, parse: timestamp }`, vals{"e": "a@x.io", "at": "2024-01-10 12:00:00"}, `"email_address":["a@x.io"]`},
		{"time typed", `verified: { from: at, parse: timestamp }`, vals{"e": "a@x.io", "at": time.Unix(1, 0)}, `"email_address":["a@x.io"]`},
		{"time NULL", `verified: { from: at, parse: timestamp }`, vals{"e": "a@x.io", "at": nil},
			`"email_address":["a@x.io"],"email_address_identification_status":["reserved"]`},
		{"time not a time", `verified: { from: at, parse: timestamp }`, vals{"e": "a@x.io", "at": "soon"}, "!" + CodeVerifiedInvalid},
		{"listed per value", `verified: { in: v }`, vals{"e": "a@x.io|B@x.io|c@x.io", "v": "b@X.io|a@x.io"},
			`"email_address":["a@x.io","b@x.io","c@x.io"],"email_address_identification_status":["verified","verified","reserved"]`},
		{"listed nowhere", `verified: { in: [v, w] }`, vals{"e": "a@x.io"},
			`"email_address":["a@x.io"],"email_address_identification_status":["reserved"]`},
		{"repeats dropped with their status", `verified: { in: v }`, vals{"e": "a@x.io|b@x.io|A@x.io", "v": "b@x.io"},
			`"email_address":["a@x.io","b@x.io"],"email_address_identification_status":["reserved","verified"]`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := oneField(t, "email_address", `{ from: e, split: "|", transform: [lower], `+tt.spec+` }`)
			p, errs := m.Map(rec(tt.row))
			if strings.HasPrefix(tt.want, "!") {
				if len(errs) != 1 || errs[0].Code != tt.want[1:] || errs[0].Field != propEmail || errs[0].Source == "" || p != nil {
					t.Fatalf("got %v %+v, want one %s", requestJSON(t, p), errs, tt.want[1:])
				}
				return
			}
			if strings.HasPrefix(tt.name, "repeats") { // one warning: value 3 repeats value 1
				if len(errs) != 1 || errs[0].Code != CodeValueRepeated || !errs[0].Warning {
					t.Fatalf("errors: %v, want one value_repeated warning", errs)
				}
				errs = nil
			}
			if errs != nil {
				t.Fatalf("errors: %v", errs)
			}
			want := `{"external_id":"u1"` + map[bool]string{true: "," + tt.want, false: ""}[tt.want != ""] + `}`
			if got := requestJSON(t, p); got != want {
				t.Errorf("got  %s\nwant %s", got, want)
			}
		})
	}
}

// TestVerifiedPhonesByValue: `in:` compares phone numbers once both are in
// E.164, so a list written in another format still matches.
func TestVerifiedPhonesByValue(t *testing.T) {
	m := mustParse(t, `version: 1
key: id
options: { default_phone_region: US }
fields:
  phone_number: { from: [primary, others], split: "|", verified: { in: verified } }
`)
	p, errs := m.Map(rec(vals{"primary": "(415) 555-0132", "others": "+1 212 555 0187", "verified": "+14155550132"}))
	if errs != nil {
		t.Fatal(errs)
	}
	if !slices.Equal(p.PhoneNumberIdentificationStatus, []string{"verified", "reserved"}) {
		t.Fatalf("statuses %v for %v", p.PhoneNumberIdentificationStatus, p.PhoneNumbers)
	}
}

// TestVerifiedFindingWithOtherProblems: a row with a bad address and an
// unreadable flag gets both findings (every problem of the row).
func TestVerifiedFindingWithOtherProblems(t *testing.T) {
	m := oneField(t, "email_address", `{ from: e, verified: { from: ev } }`)
	_, errs := m.Map(rec(vals{"e": "not-an-address", "ev": "maybe"}))
	if got := codes(errs); !slices.Equal(got, []string{"email_address:" + CodeEmailInvalid, "email_address:" + CodeVerifiedInvalid}) {
		t.Fatalf("codes %v", got)
	}
	if !strings.Contains(errs[1].Reason, `"maybe"`) || errs[1].Source != "ev" {
		t.Errorf("finding %+v", errs[1])
	}
}

// TestVerifiedInFingerprintAndColumns: the verified spec is part of the
// mapping's meaning and its columns are read from the source.
func TestVerifiedInFingerprintAndColumns(t *testing.T) {
	a := oneField(t, "email_address", `{ from: e, verified: { from: ev } }`)
	b := oneField(t, "email_address", `{ from: e, verified: { from: ev, default: false } }`)
	c := oneField(t, "email_address", `{ from: e, verified: { in: [v1, v2] } }`)
	if a.Fingerprint() == b.Fingerprint() || a.Fingerprint() == c.Fingerprint() {
		t.Error("the verified spec does not change the fingerprint")
	}
	if got := c.Columns(); !slices.Equal(got, []string{"id", "e", "v1", "v2"}) {
		t.Errorf("columns %v", got)
	}
}
