package mapping

import (
	"encoding/json"
	"fmt"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// rewriteMapping reads every kind of property the classes below touch.
const rewriteMapping = `version: 1
key: id
options:
  default_phone_region: US
fields:
  email_address: { from: [email, other_emails], split: "|", verified: true }
  first_name: first_name
  last_name: { from: last_name, transform: [trim, lower] }
  username: username
  phone_number: { from: phone, verified: true }
  password: password
  skip_password_checks: { value: true }
  backup_codes: { from: codes, split: json }
  public_metadata: meta
  private_metadata: { from: { plan: plan } }
  unsafe_metadata: { template: "{{\"note\": \"{note}\"}}" }
  created_at: created_at
  legal_accepted_at: legal
`

// TestNoSilentRewrite: a value that would reach Clerk other than as the
// source holds it (replaced, cut, reinterpreted) or that Clerk cannot take
// is a finding naming the field, never a quiet change. Each case is one
// row; want are its field:code findings (none: the row maps, and then
// check says what was sent).
func TestNoSilentRewrite(t *testing.T) {
	m := mustParse(t, rewriteMapping)
	now := time.Now().UTC()
	long := func(n int) string { return strings.Repeat("é", n) }
	cases := []struct {
		name  string
		row   vals
		want  []string
		check func(t *testing.T, p *request.CreateUser)
	}{
		// Invalid UTF-8: encoding/json would send U+FFFD in its place.
		{name: "latin-1 name", row: vals{"first_name": "Jos\xe9"}, want: []string{"first_name:utf8_invalid"}},
		{name: "latin-1 name, transformed", row: vals{"last_name": " M\xfcller "}, want: []string{"last_name:utf8_invalid"}},
		{name: "latin-1 key", row: vals{"_key": "u\xff1"}, want: []string{"external_id:utf8_invalid"}},
		{name: "latin-1 password", row: vals{"password": "s\xe9cret-password"}, want: []string{"password:utf8_invalid"}},
		{name: "latin-1 in a list cell", row: vals{"email": "a@b.co", "other_emails": "c@d.co|caf\xe9@d.co"},
			want: []string{"email_address:utf8_invalid"}},
		{name: "latin-1 in a metadata cell", row: vals{"meta": "{\"city\":\"K\xf6ln\"}"}, want: []string{"public_metadata:utf8_invalid"}},
		{name: "latin-1 in a metadata cell with escapes", row: vals{"meta": "{\"city\":\"K\xf6ln\",\"q\":\"\\\"x\\\"\"}"},
			want: []string{"public_metadata:utf8_invalid"}},
		{name: "lone surrogate escape in metadata", row: vals{"meta": `{"a":"\ud800"}`}, want: []string{"public_metadata:utf8_invalid"}},
		{name: "lone surrogate escape in a json list", row: vals{"codes": `["abcd-1234","\udc00xyz-123"]`},
			want: []string{"backup_codes:utf8_invalid"}},
		{name: "latin-1 in a metadata part", row: vals{"plan": "pr\xf6"}, want: []string{"private_metadata:utf8_invalid"}},
		{name: "latin-1 through a template", row: vals{"note": "caf\xe9"}, want: []string{"unsafe_metadata:utf8_invalid"}},
		{name: "a real U+FFFD is sent as it is", row: vals{"first_name": "Jos\uFFFD", "meta": `{"a":"\ufffd"}`},
			check: func(t *testing.T, p *request.CreateUser) {
				if p.FirstName != request.Value("Jos\uFFFD") || p.PublicMetadata["a"] != "\uFFFD" {
					t.Errorf("sent %+v", p)
				}
			}},

		// Phone numbers: letters and extensions are not digits Clerk keeps.
		{name: "vanity number", row: vals{"phone": "1-800-FLOWERS"}, want: []string{"phone_number:phone_invalid"}},
		{name: "extension x12", row: vals{"phone": "+1 415 555 0134 x12"}, want: []string{"phone_number:phone_invalid"}},
		{name: "extension ext.", row: vals{"phone": "(415) 555-0134 ext. 7"}, want: []string{"phone_number:phone_invalid"}},
		{name: "two numbers", row: vals{"phone": "415-555-0134, 415-555-0199"}, want: []string{"phone_number:phone_invalid"}},
		{name: "a label", row: vals{"phone": "tel: +1 415 555 0134"}, want: []string{"phone_number:phone_invalid"}},
		{name: "a hash", row: vals{"phone": "415-555-0134#"}, want: []string{"phone_number:phone_invalid"}},
		{name: "plain forms still map", row: vals{"phone": "+1 (415) 555-0134"},
			check: func(t *testing.T, p *request.CreateUser) {
				if !slices.Equal(p.PhoneNumbers, []string{"+14155550134"}) {
					t.Errorf("phones %v", p.PhoneNumbers)
				}
			}},

		// Timestamps: before 1970, after tomorrow, or digits that read two ways.
		{name: "created before 1970", row: vals{"created_at": "1969-12-31T23:59:59Z"}, want: []string{"created_at:timestamp_implausible"}},
		{name: "created in the future", row: vals{"created_at": now.Add(49 * time.Hour).Format(time.RFC3339)},
			want: []string{"created_at:timestamp_implausible"}},
		{name: "seconds read as year 2500", row: vals{"created_at": "16725225600"}, want: []string{"created_at:timestamp_implausible"}},
		{name: "negative seconds", row: vals{"created_at": int64(-86400)}, want: []string{"created_at:timestamp_implausible"}},
		{name: "legal acceptance in the future", row: vals{"legal": "2999-01-01"}, want: []string{"legal_accepted_at:timestamp_implausible"}},
		{name: "yyyymmdd is not Unix seconds", row: vals{"created_at": "20230115"}, want: []string{"created_at:timestamp_ambiguous"}},
		{name: "yyyymmdd as a number", row: vals{"created_at": json.Number("20230115")}, want: []string{"created_at:timestamp_ambiguous"}},
		{name: "yyyymmdd as an integer", row: vals{"created_at": int64(20230115)}, want: []string{"created_at:timestamp_ambiguous"}},
		{name: "yyyymmdd as a float", row: vals{"created_at": float64(20230115)}, want: []string{"created_at:timestamp_ambiguous"}},
		{name: "today is fine", row: vals{"created_at": now.Format(time.RFC3339)}},
		{name: "1970 is fine", row: vals{"created_at": "1970-01-01T00:00:00Z"}},

		// What cannot fit in a Clerk request.
		{name: "first name over 256 characters", row: vals{"first_name": long(257)}, want: []string{"first_name:too_long"}},
		{name: "first name of 256 characters", row: vals{"first_name": long(256)}},
		{name: "last name over 256 characters", row: vals{"last_name": strings.Repeat("x", 300)}, want: []string{"last_name:too_long"}},
		{name: "a 10 MB name", row: vals{"first_name": strings.Repeat("x", 10<<20)}, want: []string{"first_name:too_long"}},
		{name: "password over 72 bytes", row: vals{"password": strings.Repeat("pässwörd", 9)}, want: []string{"password:too_long"}},
		{name: "password of 72 bytes", row: vals{"password": strings.Repeat("p", 72)}},
		{name: "hundreds of addresses", row: vals{"email": "a@b.co", "other_emails": manyEmails(3000)},
			want: []string{"email_address:request_too_large"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, errs := m.Map(rec(tc.row))
			if got := codes(errs); !slices.Equal(got, tc.want) {
				t.Fatalf("findings %v, want %v (%v)", got, tc.want, errs)
			}
			for _, e := range errs {
				if !utf8.ValidString(e.Reason) || len(e.Reason) > 600 {
					t.Errorf("reason not fit to print: %q", e.Reason)
				}
				if strings.Contains(e.Reason, "sécret") || strings.Contains(e.Reason, "s\xe9cret") || strings.Contains(e.Reason, "pässwörd") {
					t.Errorf("a password in a reason: %q", e.Reason)
				}
			}
			if tc.check != nil {
				tc.check(t, p)
			}
			if p != nil && len(tc.want) == 0 {
				if b, err := json.Marshal(p); err != nil || !utf8.Valid(b) || strings.Contains(string(b), `\ufffd`) && !strings.Contains(tc.name, "U+FFFD") {
					t.Errorf("request %s, %v", b, err)
				}
			}
		})
	}
}

func manyEmails(n int) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "|user%05d@example.com", i)
	}
	return b.String()
}

// TestMetadataKeyGivenTwice: a JSON decoder keeps the last of two values of
// one key and drops the other without a word; the row says so instead.
func TestMetadataKeyGivenTwice(t *testing.T) {
	m := oneField(t, "public_metadata", "meta")
	for in, want := range map[string]string{
		`{"plan":"pro","plan":"free"}`:                     `key "plan" is given twice`,
		`{"a":{"x":1,"y":2,"x":3}}`:                        `key "x" in a is given twice`,
		`{"a":[{"k":1},{"k":2,"k":"\u00e9"}],"b":"\"q\""}`: `key "k" in a is given twice`,
		`{"plan":"pro","tier":2}`:                          "",
		`{"a":{"x":1},"b":{"x":2},"c":[{"x":1},{"x":2}]}`:  "",
	} {
		_, errs := m.Map(rec(vals{"meta": in}))
		switch {
		case want == "" && errs != nil:
			t.Errorf("%s: %v", in, errs)
		case want != "" && (len(errs) != 1 || errs[0].Code != CodeJSONInvalid || !strings.Contains(errs[0].Reason, want)):
			t.Errorf("%s: %v, want %q", in, errs, want)
		}
	}
}
