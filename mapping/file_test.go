package mapping

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseErrorsNameTheLine(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		line int    // -1: any line but 0
		msg  string // a part of the message
	}{
		{"unknown top-level key", "version: 1\nkey: id\nkye: id\nfields:\n  first_name: f\n", 3, "kye"},
		{"unknown option", "version: 1\nkey: id\noptions:\n  default_region: US\nfields:\n  first_name: f\n", 4, "default_region"},
		{"not a CreateUser property", "version: 1\nkey: id\nfields:\n  first_name: f\n  firstname: f\n", 5, "valid: backup_codes, banned"},
		{"external_id in fields", "version: 1\nkey: id\nfields:\n  external_id: id\n", 4, "always the record's key"},
		{"unknown spec key", "version: 1\nkey: id\nfields:\n  first_name: { from: f, tranform: [trim] }\n", 4, `unknown key "tranform"`},
		{"unknown transform", "version: 1\nkey: id\nfields:\n  first_name:\n    from: f\n    transform: [trim, capitalize]\n", 6, `unknown transform "capitalize"`},
		{"split on text", "version: 1\nkey: id\nfields:\n  first_name: { from: f, split: \"|\" }\n", 4, "split is for list properties"},
		{"wrong parse", "version: 1\nkey: id\nfields:\n  banned: { from: b, parse: json }\n", 4, "parsed as bool"},
		{"parse on text", "version: 1\nkey: id\nfields:\n  first_name: { from: f, parse: json }\n", 4, "takes no parse"},
		{"from and value", "version: 1\nkey: id\nfields:\n  first_name: { from: f, value: x }\n", 4, "not both"},
		{"neither from nor value", "version: 1\nkey: id\nfields:\n  first_name: { transform: [trim] }\n", 4, "say where it comes from"},
		{"bad constant", "version: 1\nkey: id\nfields:\n  banned: { value: maybe }\n", 4, "not a boolean"},
		{"bad default", "version: 1\nkey: id\nfields:\n  created_at: { from: c, default: someday }\n", 4, "not a timestamp"},
		{"bad constant hasher", "version: 1\nkey: id\nfields:\n  password_digest: d\n  password_hasher: { value: sha1 }\n", 5, "unknown password hasher"},
		{"object from for text", "version: 1\nkey: id\nfields:\n  first_name: { from: { a: b } }\n", 4, "metadata properties only"},
		{"mapped twice", "version: 1\nkey: id\nfields:\n  first_name: f\n  first_name: g\n", 5, "mapped twice"},
		{"digest without hasher", "version: 1\nkey: id\nfields:\n  password_digest: d\n", 4, "password_hasher is not"},
		{"status without addresses", "version: 1\nkey: id\nfields:\n  phone_number_identification_status: s\n", 4, "phone_number is not"},
		{"required identifier not mapped", "version: 1\nkey: id\noptions:\n  required_identifiers: [phone_number]\nfields:\n  first_name: f\n", 4, "does not map"},
		{"required identifier unknown", "version: 1\nkey: id\noptions:\n  required_identifiers: [email]\nfields:\n  first_name: f\n", 4, `"email" is not an identifier`},
		{"bad region", "version: 1\nkey: id\noptions:\n  default_phone_region: XX\nfields:\n  phone_number: { from: p, verified: true }\n", 4, "not a region"},
		{"yaml syntax", "version: 1\nkey: id\nfields:\n  first_name: [f\n", -1, "did not find expected"},
		{"wrong type", "version: one\nkey: id\nfields:\n  first_name: f\n", 1, "`one` into int"},
		{"fields not a mapping", "version: 1\nkey: id\nfields: [first_name]\n", 3, "must be a mapping"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml))
			var les LoadErrors
			if !errors.As(err, &les) || len(les) == 0 {
				t.Fatalf("err = %v, want LoadErrors", err)
			}
			for _, e := range les {
				if (e.Line == tt.line || tt.line == -1 && e.Line > 0) && strings.Contains(e.Msg, tt.msg) {
					return
				}
			}
			t.Errorf("no error at line %d containing %q; got:\n%v", tt.line, tt.msg, err)
		})
	}
}

func TestParseFileLevelErrors(t *testing.T) {
	for _, tt := range []struct{ yaml, msg string }{
		{"", "empty"},
		{"version: 2\nkey: id\nfields:\n  first_name: f\n", "version: must be 1"},
		{"version: 1\nfields:\n  first_name: f\n", "key:"},
		{"version: 1\nkey: id\n", "fields: missing"},
		{"version: 1\nkey: id\nfields:\n  first_name: f\n---\nversion: 1\n", "one YAML document"},
	} {
		_, err := Parse([]byte(tt.yaml))
		if err == nil || !strings.Contains(err.Error(), tt.msg) {
			t.Errorf("Parse(%q) = %v, want %q", tt.yaml, err, tt.msg)
		}
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	yaml := "version: 1\nkey: id\nfields:\n  firstname: f\n  banned: { value: maybe }\n  last_name: { from: l, transform: [titlecase] }\n"
	_, err := Parse([]byte(yaml))
	var les LoadErrors
	if !errors.As(err, &les) {
		t.Fatal(err)
	}
	var lines []int
	for _, e := range les {
		lines = append(lines, e.Line)
	}
	if !reflect.DeepEqual(lines, []int{4, 5, 6}) {
		t.Errorf("lines %v, want [4 5 6]:\n%v", lines, err)
	}
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(path, []byte("version: 1\nkey: id\nfields:\n  nme: n\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":4: ") {
		t.Errorf("err = %v, want %s:4: ...", err, path)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "absent.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("absent file: %v", err)
	}
}

func TestFingerprint(t *testing.T) {
	a := mustParse(t, "version: 1\nkey: id\nfields:\n  first_name: f\n  banned: { from: b, parse: bool }\n")
	// Same meaning: comments, layout, order, shorthand, redundant parse.
	b := mustParse(t, "# users\nversion: 1\nfields:\n  banned: { from: b }\n  first_name: { from: f }   # name\nkey: id\n")
	c := mustParse(t, "version: 1\nkey: id\nfields:\n  first_name: f\n  banned: { from: b2 }\n")
	d := mustParse(t, "version: 1\nkey: user_id\nfields:\n  first_name: f\n  banned: { from: b }\n")
	if a.Fingerprint() != b.Fingerprint() {
		t.Error("fingerprint changed with layout only")
	}
	if a.Fingerprint() == c.Fingerprint() || a.Fingerprint() == d.Fingerprint() {
		t.Error("fingerprint did not change with the meaning")
	}
	if len(a.Fingerprint()) != 64 {
		t.Errorf("fingerprint %q is not hex sha256", a.Fingerprint())
	}
}

func TestKeyColumnsOptions(t *testing.T) {
	m := loadSample(t)
	if m.Key() != "id" {
		t.Errorf("Key() = %q", m.Key())
	}
	want := []string{"id", "email", "secondary_emails", "email_verified", "first_name", "last_name", "username", "phone",
		"phone_verified", "password_hash", "hasher", "totp_secret", "backup_codes", "public_metadata", "role", "plan",
		"created_at", "is_disabled", "locale"}
	if got := m.Columns(); !reflect.DeepEqual(got, want) {
		t.Errorf("Columns()\n got %v\nwant %v", got, want)
	}
	if o := m.Options(); o.DefaultPhoneRegion != "US" || !reflect.DeepEqual(o.RequiredIdentifiers, []string{"email_address"}) {
		t.Errorf("Options() = %+v", o)
	}
	if len(Properties()) != len(properties) || Properties()[0] != "backup_codes" {
		t.Errorf("Properties() = %v", Properties())
	}
}
