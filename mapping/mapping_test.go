package mapping

import (
	"errors"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/sources"
)

const bcryptDigest = "$2a$10$54cbf.ymtKSc4jsKFRlzae9cuuBPUuF9HdApTvElGczWqU1ST1uv6"

// passwordMapping maps the password properties from columns.
const passwordMapping = `version: 1
key: id
fields:
  email_address: { from: email, verified: true }
  password: pw
  password_digest: { from: hash }
  password_hasher: { from: hasher }
  skip_password_checks: { from: skip }
`

func TestMapPasswordRules(t *testing.T) {
	m := mustParse(t, passwordMapping)
	tests := []struct {
		name  string
		row   vals
		codes []string
		want  string // request JSON when no codes
	}{
		{"digest and hasher", vals{"hash": bcryptDigest, "hasher": "bcrypt"}, nil,
			`{"external_id":"u1","password_digest":"` + bcryptDigest + `","password_hasher":"bcrypt"}`},
		{"hasher name normalised", vals{"hash": bcryptDigest, "hasher": " BCrypt "}, nil,
			`{"external_id":"u1","password_digest":"` + bcryptDigest + `","password_hasher":"bcrypt"}`},
		{"no password at all", vals{"hash": "", "hasher": ""}, nil, `{"external_id":"u1"}`},
		{"digest without hasher", vals{"hash": bcryptDigest}, []string{"password_hasher:" + CodeHasherMissing}, ""},
		{"hasher without digest", vals{"hasher": "bcrypt"}, []string{"password_digest:" + CodeDigestMissing}, ""},
		{"unknown hasher", vals{"hash": bcryptDigest, "hasher": "sha1_legacy"}, []string{"password_hasher:" + CodeHasherUnknown}, ""},
		{"digest cut short", vals{"hash": bcryptDigest[:40], "hasher": "bcrypt"}, []string{"password_digest:" + CodeDigestInvalid}, ""},
		{"digest of another hasher", vals{"hash": "5f4dcc3b5aa765d61d8327deb882cf99", "hasher": "bcrypt"}, []string{"password_digest:" + CodeDigestInvalid}, ""},
		{"password", vals{"pw": "long enough pw"}, nil, `{"external_id":"u1","password":"long enough pw"}`},
		{"short password", vals{"pw": "pw1!"}, []string{"password:" + CodePasswordTooShort}, ""},
		{"short password, checks skipped", vals{"pw": "short", "skip": "true"}, nil,
			`{"external_id":"u1","password":"short","skip_password_checks":true}`},
		{"password and digest", vals{"pw": "long enough pw", "hash": bcryptDigest, "hasher": "bcrypt"}, []string{"password:" + CodePasswordConflict}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, errs := m.Map(rec(tt.row))
			if !reflect.DeepEqual(codes(errs), tt.codes) {
				t.Fatalf("codes %v, want %v\n%s", codes(errs), tt.codes, joinErrs(errs))
			}
			if tt.codes != nil {
				if p != nil {
					t.Error("a request was returned with errors")
				}
				for _, e := range errs {
					if secret, _ := tt.row["hash"].(string); secret != "" && strings.Contains(joinErrs(errs), secret[7:]) {
						t.Errorf("error holds the digest: %v", e)
					}
					if pw, _ := tt.row["pw"].(string); pw != "" && strings.Contains(joinErrs(errs), pw) {
						t.Errorf("error holds the password: %v", e)
					}
				}
				return
			}
			if got := requestJSON(t, p); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestMapDigestErrorCarriesHint(t *testing.T) {
	m := mustParse(t, passwordMapping)
	argon := "$argon2id$v=19$m=19456,t=2,p=1$KxS8WuMqcPqxLNVcb8oX4Q$3UPn4C1xrLeInp6aWF3qzwlwkujywROwH6ee1Wnly34"
	_, errs := m.Map(rec(vals{"hash": argon, "hasher": "bcrypt"}))
	if len(errs) != 1 || errs[0].Code != CodeDigestInvalid || errs[0].Source != "hash" {
		t.Fatalf("errs = %v", errs)
	}
	if !strings.Contains(errs[0].Reason, "argon2") {
		t.Errorf("reason lacks the hashers hint (an argon2id digest): %q", errs[0].Reason)
	}
	if strings.Contains(errs[0].Reason, "KxS8WuMq") || strings.Contains(errs[0].Reason, "3UPn4C1x") {
		t.Errorf("reason holds part of the digest: %q", errs[0].Reason)
	}
}

func TestMapConstantHasher(t *testing.T) {
	m := mustParse(t, "version: 1\nkey: id\nfields:\n  password_digest: hash\n  password_hasher: { value: bcrypt }\n")
	p, errs := m.Map(rec(vals{"hash": ""}))
	if errs != nil || p.PasswordHasher != "" {
		t.Errorf("a user without a digest under a constant hasher: %v, hasher %q; want no hasher sent", errs, p.PasswordHasher)
	}
	p, errs = m.Map(rec(vals{"hash": bcryptDigest}))
	if errs != nil || p.PasswordHasher != "bcrypt" {
		t.Errorf("with a digest: %v, %q", errs, p.PasswordHasher)
	}
}

func TestMapRequiredIdentifiers(t *testing.T) {
	const yaml = `version: 1
key: id
options:
  required_identifiers: [email_address, username]
fields:
  email_address: { from: [email, alt], split: "|", verified: true }
  username: user
  skip_user_requirement: { from: skip }
`
	m := mustParse(t, yaml)
	tests := []struct {
		name  string
		row   vals
		codes []string
	}{
		{"both", vals{"email": "a@x.io", "user": "alice"}, nil},
		{"email from second column", vals{"email": "", "alt": "a@x.io", "user": "alice"}, nil},
		{"none", vals{"email": "", "user": ""}, []string{"email_address:missing", "username:missing"}},
		{"separators only", vals{"email": "||", "user": "alice"}, []string{"email_address:missing"}},
		{"invalid is not also missing", vals{"email": "nope", "user": "alice"}, []string{"email_address:email_invalid"}},
		{"skip_user_requirement", vals{"skip": "1"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := m.Map(rec(tt.row))
			if !reflect.DeepEqual(codes(errs), tt.codes) {
				t.Fatalf("codes %v, want %v", codes(errs), tt.codes)
			}
			for _, e := range errs {
				if e.Code == CodeMissing && e.Field == "email_address" && e.Source != "email, alt" {
					t.Errorf("missing email names source %q, want both columns", e.Source)
				}
			}
		})
	}
}

func TestMapKey(t *testing.T) {
	m := oneField(t, "first_name", "f")
	_, errs := m.Map(sources.Record{Key: "  ", Values: vals{"f": "Ann"}})
	if len(errs) != 1 || errs[0].Field != "external_id" || errs[0].Code != CodeMissing || errs[0].Source != "id" {
		t.Errorf("blank key: %v", errs)
	}
	p, errs := m.Map(sources.Record{Key: "legacy-9", Values: nil})
	if errs != nil || requestJSON(t, p) != `{"external_id":"legacy-9"}` {
		t.Errorf("record without values: %v %v", p, errs)
	}
	_, errs = m.Map(sources.Record{Key: "k", Err: errors.New("has 3 fields, header has 4")})
	if len(errs) != 1 || errs[0].Code != CodeRecordUnreadable {
		t.Errorf("record with Err: %v", errs)
	}
}

func TestMapStatusArrays(t *testing.T) {
	const yaml = `version: 1
key: id
fields:
  email_address: { from: e, split: "|" }
  email_address_identification_status: { from: s, split: "|" }
`
	m := mustParse(t, yaml)
	tests := []struct {
		name string
		row  vals
		want string // JSON, or "!code"
	}{
		{"parallel", vals{"e": "a@x.io|b@x.io", "s": "verified|reserved"},
			`{"external_id":"u1","email_address":["a@x.io","b@x.io"],"email_address_identification_status":["verified","reserved"]}`},
		{"duplicate address with another status: the safer one", vals{"e": "a@x.io|A@x.io|b@x.io", "s": "verified|reserved|reserved"},
			`{"external_id":"u1","email_address":["a@x.io","b@x.io"],"email_address_identification_status":["reserved","reserved"]}`},
		{"too few", vals{"e": "a@x.io|b@x.io", "s": "verified"}, "!" + CodeStatusLength},
		{"too many", vals{"e": "a@x.io", "s": "verified|reserved"}, "!" + CodeStatusLength},
		{"status without address", vals{"e": "", "s": "verified"}, "!" + CodeStatusLength},
		{"bad status", vals{"e": "a@x.io", "s": "pending"}, "!" + CodeStatusInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, errs := m.Map(rec(tt.row))
			if strings.HasPrefix(tt.want, "!") {
				if len(errs) != 1 || errs[0].Code != tt.want[1:] || errs[0].Field != propEmailStatus || errs[0].Source != "s" {
					t.Fatalf("errs %v, want one %s on s", errs, tt.want[1:])
				}
				return
			}
			if strings.HasPrefix(tt.name, "duplicate") {
				if len(errs) != 1 || errs[0].Code != CodeValueRepeated || !errs[0].Warning || errs[0].Field != propEmail ||
					!strings.Contains(errs[0].Reason, `value 2 "A@x.io" repeats value 1 "a@x.io"`) ||
					!strings.Contains(errs[0].Reason, "sent reserved") {
					t.Fatalf("errs %v, want a value_repeated warning naming both copies and the status sent", errs)
				}
				errs = nil
			}
			if errs != nil {
				t.Fatal(errs)
			}
			if got := requestJSON(t, p); got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
		})
	}
}

// TestMapReportsEveryProblem: one row, many problems, each named.
func TestMapReportsEveryProblem(t *testing.T) {
	const yaml = `version: 1
key: id
options: { required_identifiers: [email_address], default_phone_region: US }
fields:
  email_address: { from: [email, more], split: "|", verified: true }
  phone_number: { from: phone, verified: true }
  username: user
  locale: loc
  totp_secret: totp
  backup_codes: { from: codes, split: json }
  public_metadata: meta
  private_metadata: priv
  created_at: created
  banned: disabled
  create_organizations_limit: orgs
  first_name: first
`
	m := mustParse(t, yaml)
	row := vals{
		"email": "good@x.io", "more": "bad@|worse",
		"phone":    "12",
		"user":     "a b",
		"loc":      "english",
		"totp":     "3132333435363738393031323334353637383930",
		"codes":    `["abcd-1", "", 7]`,
		"meta":     `{"a":`,
		"priv":     `[1]`,
		"created":  "31/12/2020",
		"disabled": "sometimes",
		"orgs":     "many",
		"first":    []any{"Ann"},
	}
	_, errs := m.Map(sources.Record{Key: "", Values: row})
	want := []string{
		"external_id:missing",
		"email_address:email_invalid", "email_address:email_invalid",
		"phone_number:phone_invalid",
		"username:username_invalid",
		"locale:locale_invalid",
		"totp_secret:totp_invalid",
		"backup_codes:backup_code_invalid", "backup_codes:backup_code_invalid",
		"public_metadata:json_invalid",
		"private_metadata:json_not_object",
		"created_at:timestamp_invalid",
		"banned:bool_invalid",
		"create_organizations_limit:int_invalid",
		"first_name:type_invalid",
	}
	if !reflect.DeepEqual(codes(errs), want) {
		t.Fatalf("codes\n got %v\nwant %v\n%s", codes(errs), want, joinErrs(errs))
	}
	sources := map[string]string{"phone_number": "phone", "banned": "disabled", "created_at": "created", "first_name": "first", "backup_codes": "codes"}
	for _, e := range errs {
		if src, ok := sources[e.Field]; ok && e.Source != src {
			t.Errorf("%s names source %q, want %q", e.Field, e.Source, src)
		}
		if e.Reason == "" {
			t.Errorf("%s: empty reason", e.Field)
		}
	}
	if s := joinErrs(errs); strings.Contains(s, "abcd-1") || strings.Contains(s, "3132333435") {
		t.Errorf("errors hold a secret:\n%s", s)
	}
}

func TestMapTypedValues(t *testing.T) {
	const yaml = `version: 1
key: id
fields:
  email_address: { from: emails, verified: true }
  first_name: name
  public_metadata: meta
  banned: banned
  created_at: created
  create_organizations_limit: orgs
`
	m := mustParse(t, yaml)
	tests := []struct {
		name  string
		row   vals
		want  string
		codes []string
	}{
		{"json source", vals{"emails": []any{"A@x.io", "b@x.io"}, "name": "Ann", "meta": map[string]any{"k": []any{"v"}},
			"banned": true, "created": int64(1546300800), "orgs": int64(2)},
			`{"external_id":"u1","first_name":"Ann","email_address":["A@x.io","b@x.io"],"public_metadata":{"k":["v"]},"create_organizations_limit":2,"created_at":"2019-01-01T00:00:00Z","banned":true}`, nil},
		{"list item is an object", vals{"emails": []any{map[string]any{"email": "a@x.io"}}}, "", []string{"email_address:type_invalid"}},
		{"object for text", vals{"name": map[string]any{"first": "Ann"}}, "", []string{"first_name:type_invalid"}},
		{"list for metadata", vals{"meta": []any{"a"}}, "", []string{"public_metadata:json_not_object"}},
		{"null list items are dropped", vals{"emails": []any{nil, "a@x.io"}}, `{"external_id":"u1","email_address":["a@x.io"]}`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, errs := m.Map(rec(tt.row))
			if !reflect.DeepEqual(codes(errs), tt.codes) {
				t.Fatalf("codes %v, want %v\n%s", codes(errs), tt.codes, joinErrs(errs))
			}
			if tt.codes == nil {
				if got := requestJSON(t, p); got != tt.want {
					t.Errorf("got  %s\nwant %s", got, tt.want)
				}
			}
		})
	}
}

func TestMapBackupCodes(t *testing.T) {
	m := oneField(t, "backup_codes", "{ from: c, split: json }")
	many := make([]any, 51)
	for i := range many {
		many[i] = "code-" + strings.Repeat("x", 3) + string(rune('a'+i%26))
	}
	tests := []struct {
		name  string
		c     any
		codes []string
	}{
		{"plain", `["abcd-1","efgh-2"]`, nil},
		{"bcrypt digests", `["` + bcryptDigest + `"]`, nil},
		{"empty code in json", `["abcd-1",""]`, []string{"backup_codes:backup_code_invalid"}},
		{"malformed digest", `["` + bcryptDigest[:30] + `"]`, []string{"backup_codes:backup_code_invalid"}},
		{"51 codes", many, []string{"backup_codes:backup_codes_count"}},
		{"not a json array", `abcd-1,efgh-2`, []string{"backup_codes:list_invalid"}},
		{"empty array", `[]`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs := m.Map(rec(vals{"c": tt.c}))
			if !reflect.DeepEqual(codes(errs), tt.codes) {
				t.Fatalf("codes %v, want %v\n%s", codes(errs), tt.codes, joinErrs(errs))
			}
			if s := joinErrs(errs); strings.Contains(s, "abcd-1") || strings.Contains(s, bcryptDigest[7:30]) {
				t.Errorf("error holds a code:\n%s", s)
			}
		})
	}
}

func TestMapConstantsAreNotShared(t *testing.T) {
	m := oneField(t, "public_metadata", "{ value: { tier: gold } }")
	p1, _ := m.Map(rec(vals{}))
	p1.PublicMetadata["tier"] = "changed"
	p2, _ := m.Map(rec(vals{}))
	if p2.PublicMetadata["tier"] != "gold" {
		t.Errorf("a request's change leaked into the mapping's constant: %v", p2.PublicMetadata)
	}
}

// TestMapAllKeepsTheGoodFields: MapAll returns every problem and the
// fields that did convert; Map returns no request for the same row.
func TestMapAllKeepsTheGoodFields(t *testing.T) {
	m := mustParse(t, `version: 1
key: id
fields:
  email_address: { from: email, verified: true }
  first_name: first
  username: user
  password_digest: hash
  password_hasher: { value: bcrypt }
`)
	r := rec(vals{"email": "Ada@Example.com", "first": "Ada", "user": "x", "hash": "$2a$10$short"})
	p, errs := m.MapAll(r)
	if len(errs) != 2 || p == nil {
		t.Fatalf("MapAll: %v, %v; want a request and 2 problems", p, errs)
	}
	codes := []string{errs[0].Code, errs[1].Code}
	if !slices.Contains(codes, CodeUsernameInvalid) || !slices.Contains(codes, CodeDigestInvalid) {
		t.Errorf("codes %v", codes)
	}
	if first, _ := p.FirstName.Get(); first != "Ada" || len(p.EmailAddresses) != 1 || p.EmailAddresses[0] != "Ada@Example.com" {
		t.Errorf("good fields lost: first %q emails %v", first, p.EmailAddresses)
	}
	if _, ok := p.Username.Get(); ok {
		t.Errorf("the bad username is in the request")
	}
	if q, errs2 := m.Map(r); q != nil || len(errs2) != 2 {
		t.Errorf("Map: %v, %v; want no request and the same 2 problems", q, errs2)
	}
	bad := r
	bad.Err = errors.New("broken line")
	if q, errs3 := m.MapAll(bad); q != nil || len(errs3) != 1 || errs3[0].Code != CodeRecordUnreadable {
		t.Errorf("unreadable record: %v, %v", q, errs3)
	}
}

// TestMapAllIntoReused maps the sample rows (good and bad, with and
// without optional fields) into one reused request, in two orders, and
// expects exactly what MapAll gives for each row: nothing of an earlier
// row may stay behind.
func TestMapAllIntoReused(t *testing.T) {
	m := loadSample(t)
	recs := sampleRecords(t, m)
	recs = append(recs, sources.Record{Pos: sources.Position{Index: 99}, Err: errors.New("broken row")})
	reversed := slices.Clone(recs)
	slices.Reverse(reversed)
	var p request.CreateUser
	for _, order := range [][]sources.Record{recs, reversed} {
		for _, rec := range order {
			want, wantErrs := m.MapAll(rec)
			mapped, errs := m.MapAllInto(rec, &p)
			if mapped != (want != nil) || !reflect.DeepEqual(errs, wantErrs) {
				t.Fatalf("row %d: mapped %v, errs %v; MapAll gave %v, %v", rec.Pos.Index, mapped, errs, want != nil, wantErrs)
			}
			if want == nil {
				want = &request.CreateUser{}
			}
			if !reflect.DeepEqual(&p, want) {
				t.Fatalf("row %d: MapAllInto gave %+v, MapAll %+v", rec.Pos.Index, p, *want)
			}
		}
	}
}

// TestWhiteSpaceAroundAValueIsAWarning: an email, phone, locale or legacy
// id with white space around it is sent without it, and the row gets a
// value_trimmed warning naming the field and the value as the source holds
// it (before: trimmed without a word); a mapping's own transform: trim says
// it, so it gets none; a username is refused as before.
func TestWhiteSpaceAroundAValueIsAWarning(t *testing.T) {
	m := mustParse(t, `version: 1
key: id
options: { default_phone_region: US }
fields:
  email_address: { from: email, verified: true }
  phone_number: { from: phone, verified: true }
  locale: locale
  first_name: { from: first, transform: [trim] }
`)
	p, errs := m.Map(rec(vals{"id": " u1", "email": " Ann@Example.com\t", "phone": "+1 415 555 0134 ", "locale": "en-US ",
		"first": " Ann "}))
	if p == nil || errs.Invalid() {
		t.Fatalf("Map: %v, %v; want a request with warnings", p, errs)
	}
	got := map[string]string{}
	for _, e := range errs {
		if !e.Warning || e.Code != CodeValueTrimmed {
			t.Errorf("finding %v, want only value_trimmed warnings", e)
		}
		got[e.Field] = e.Reason
	}
	for field, raw := range map[string]string{"external_id": `" u1"`, "email_address": `" Ann@Example.com\t"`,
		"phone_number": `"+1 415 555 0134 "`, "locale": `"en-US "`} {
		if !strings.Contains(got[field], raw) {
			t.Errorf("%s: warning %q, want one naming %s", field, got[field], raw)
		}
	}
	if len(got) != 4 {
		t.Errorf("warnings on %v, want the four fields (not first_name: its trim is the mapping's)", got)
	}
	want := `{"external_id":"u1","first_name":"Ann","locale":"en-US","email_address":["Ann@Example.com"],"phone_number":["+14155550134"]}`
	if j := requestJSON(t, p); j != want {
		t.Errorf("got  %s\nwant %s", j, want)
	}
}

// TestWhiteSpaceAroundASplitCell: in a list cell, white space beside a
// separator is the list's layout (no warning), around the whole cell it is
// a value's (value_trimmed, as for one value).
func TestWhiteSpaceAroundASplitCell(t *testing.T) {
	m := oneField(t, "email_address", `{ from: e, split: "|", verified: true }`)
	for cell, warned := range map[string]bool{"a@x.io | b@x.io": false, " a@x.io|b@x.io": true, "a@x.io|b@x.io\t": true} {
		p, errs := m.Map(rec(vals{"e": cell}))
		if p == nil || len(p.EmailAddresses) != 2 || p.EmailAddresses[0] != "a@x.io" || p.EmailAddresses[1] != "b@x.io" {
			t.Fatalf("%q: %v, %v", cell, p, errs)
		}
		if got := len(errs) == 1 && errs[0].Code == CodeValueTrimmed && errs[0].Warning; got != warned || (!warned && errs != nil) {
			t.Errorf("%q: findings %v, want a value_trimmed warning: %t", cell, errs, warned)
		}
	}
}

// TestPropertiesAreTheMappedFields: Properties lists the properties the
// mapping sets, the sync's managed fields, whatever file or preset it
// came from.
func TestPropertiesAreTheMappedFields(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.yaml")
	if err := os.WriteFile(path, []byte("version: 1\nkey: id\nfields:\n  email_address: { from: email, verified: true }\n"+
		"  first_name: first\n  skip_password_requirement: { value: true }\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	got := m.Properties()
	for _, want := range []string{"email_address", "first_name", "skip_password_requirement"} {
		if !slices.Contains(got, want) {
			t.Errorf("Properties() = %v, want it to hold %s", got, want)
		}
	}
	if slices.Contains(got, "last_name") || slices.Contains(got, "external_id") {
		t.Errorf("Properties() = %v: lists what the mapping does not set", got)
	}
}
