package mapping

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/clerkmigrate/clerkmigrate/mapping/hashers"
)

// The firebase/scrypt README's published example (also in
// hashers/testdata/vectors.json): the row's hash and salt, and the
// project's hash parameters.
const (
	fbHash      = "lSrfV15cpx95/sZS2W9c9Kp6i/LVgQNDNC/qzrCnh1SAyZvqmZqAjTdn3aoItz+VHjoZilo78198JAdRuid5lQ=="
	fbSalt      = "42xEC+ixf3L2lw=="
	fbSignerKey = "jxspr8Ki0RYycVU8zykbdLGjFQ3McFUH0uiiTvC8pVMXAn210wjLNmdZJzxUECKbm0QsEmYUSDzZvpjeJ9WmXA=="
	fbSeparator = "Bw=="
	fbPassword  = "user1password"
)

var fbParams = Params{"base64_signer_key": fbSignerKey, "base64_salt_separator": fbSeparator, "rounds": "8", "mem_cost": "14"}

const fbMapping = `version: 1
key: localId
fields:
  email_address: { from: email, verified: { from: emailVerified, default: false } }
  password_hasher: { value: scrypt_firebase }
  password_digest:
    template: "{passwordHash}${salt}${param:base64_signer_key}${param:base64_salt_separator}${param:rounds}${param:mem_cost}"
`

func TestTemplateBuildsAFirebaseDigestThatVerifies(t *testing.T) {
	m, err := mustParse(t, fbMapping).WithParams(fbParams)
	if err != nil {
		t.Fatal(err)
	}
	p, errs := m.Map(rec(vals{"email": "a@example.com", "passwordHash": fbHash, "salt": fbSalt}))
	if errs != nil {
		t.Fatal(errs)
	}
	digest, _ := p.PasswordDigest.Get()
	ok, err := hashers.Verify("scrypt_firebase", digest, fbPassword)
	if err != nil || !ok {
		t.Fatalf("Verify = %v, %v", ok, err)
	}
	if ok, _ := hashers.Verify("scrypt_firebase", digest, "wrong"); ok {
		t.Fatal("a wrong password verified")
	}
	// A user without a password (signed in with Google) gets no digest and
	// no hasher, not "$$key$...".
	p, errs = m.Map(rec(vals{"email": "b@example.com", "passwordHash": "", "salt": fbSalt}))
	if errs != nil || !p.PasswordDigest.IsZero() || p.PasswordHasher != "" {
		t.Fatalf("no hash: %v %+v", errs, p)
	}
	// A hash without its salt is not a user without a password: the row
	// says so instead of losing the password.
	_, errs = m.Map(rec(vals{"email": "c@example.com", "passwordHash": fbHash}))
	if got := codes(errs); !reflect.DeepEqual(got, []string{"password_digest:" + CodeTemplateIncomplete}) || errs[0].Source != "salt" {
		t.Fatalf("hash without salt: %v", errs)
	}
}

func TestTemplateParamsNeverInErrorsOrPrints(t *testing.T) {
	unbound := mustParse(t, fbMapping)
	if got := unbound.ParamNames(); !reflect.DeepEqual(got, []string{"base64_salt_separator", "base64_signer_key", "mem_cost", "rounds"}) {
		t.Fatalf("ParamNames = %v", got)
	}
	// Unbound: every row with a hash says which parameter is missing.
	_, errs := unbound.Map(rec(vals{"email": "a@example.com", "passwordHash": fbHash, "salt": fbSalt}))
	if got := codes(errs); !reflect.DeepEqual(got, []string{"password_digest:" + CodeParamMissing}) {
		t.Fatalf("codes %v", got)
	}
	if !strings.Contains(errs[0].Reason, "CLERKMIGRATE_PARAM_BASE64_SIGNER_KEY") {
		t.Errorf("reason does not say how to give it: %s", errs[0].Reason)
	}
	// WithParams names the missing ones.
	_, err := unbound.WithParams(Params{"base64_signer_key": fbSignerKey, "rounds": "8"})
	var mp *MissingParamsError
	if !errors.As(err, &mp) || !reflect.DeepEqual(mp.Names, []string{"base64_salt_separator", "mem_cost"}) {
		t.Fatalf("WithParams: %v", err)
	}
	if strings.Contains(err.Error(), fbSignerKey) {
		t.Fatal("the error holds the signer key")
	}
	// A wrong digest (hash cut mid-base64) is refused without the digest or
	// a parameter.
	m, _ := unbound.WithParams(fbParams)
	_, errs = m.Map(rec(vals{"email": "a@example.com", "passwordHash": fbHash[:21], "salt": fbSalt}))
	if got := codes(errs); !reflect.DeepEqual(got, []string{"password_digest:" + CodeDigestInvalid}) {
		t.Fatalf("codes %v", got)
	}
	for _, secret := range []string{fbSignerKey, fbSeparator, fbHash[:21]} {
		if strings.Contains(errs.Error(), secret) {
			t.Errorf("error holds a secret: %s", errs.Error())
		}
	}
	// A parameter in a property whose reasons quote the value is scrubbed.
	u, err := mustParse(t, "version: 1\nkey: id\nfields:\n  username: { template: \"{name}-{param:suffix}\" }\n").
		WithParams(Params{"suffix": "s3cr3t!x"})
	if err != nil {
		t.Fatal(err)
	}
	_, errs = u.Map(rec(vals{"name": "ada"}))
	if len(errs) != 1 || strings.Contains(errs.Error(), "s3cr3t") || !strings.Contains(errs.Error(), "{param:suffix}") {
		t.Fatalf("not scrubbed: %v", errs)
	}
	// Printing Params never prints a value.
	for _, s := range []string{fmt.Sprint(fbParams), fmt.Sprintf("%v %+v %#v %s %q", fbParams, fbParams, fbParams, fbParams, fbParams)} {
		if strings.Contains(s, fbSignerKey) || strings.Contains(s, fbSeparator) {
			t.Fatalf("Params printed a value: %s", s)
		}
	}
	// The fingerprint does not depend on the values.
	m2, _ := unbound.WithParams(Params{"base64_signer_key": "b3RoZXI=", "base64_salt_separator": "AA==", "rounds": "1", "mem_cost": "1"})
	if m.Fingerprint() != m2.Fingerprint() || m.Fingerprint() != unbound.Fingerprint() {
		t.Fatal("the fingerprint depends on parameter values")
	}
}

func TestTemplateText(t *testing.T) {
	for _, tc := range []struct {
		tmpl string
		row  vals
		want string // "" = not given
	}{
		{"+{phone}", vals{"phone": "14155550132"}, "+14155550132"},
		{"+{phone}", vals{"phone": ""}, ""},
		{"+{phone}", vals{}, ""},
		{"{{{a}}}-{b}", vals{"a": "x", "b": int64(7)}, "{x}-7"},
		{"{ a }.{a}", vals{"a": "y"}, "y.y"},
	} {
		m := oneField(t, "first_name", fmt.Sprintf("{ template: %q }", tc.tmpl))
		p, errs := m.Map(rec(tc.row))
		if errs != nil {
			t.Errorf("%q: %v", tc.tmpl, errs)
			continue
		}
		if got, _ := p.FirstName.Get(); got != tc.want {
			t.Errorf("%q over %v = %q, want %q", tc.tmpl, tc.row, got, tc.want)
		}
	}
	// A list or object in a template is refused for the row.
	m := oneField(t, "first_name", `{ template: "{a}" }`)
	if _, errs := m.Map(rec(vals{"a": []any{"x"}})); !reflect.DeepEqual(codes(errs), []string{"first_name:" + CodeTypeInvalid}) {
		t.Errorf("list: %v", errs)
	}
	// Default applies when the template gives nothing: its first field is
	// empty.
	m = oneField(t, "locale", `{ template: "{lang}-{region}", default: en-US }`)
	p, _ := m.Map(rec(vals{"region": "BR"}))
	if got, _ := p.Locale.Get(); got != "en-US" {
		t.Errorf("default: %q", got)
	}
	// With its first field and without a later one, the row says "pt":
	// neither "pt-" nor the default is sent in its place without a word.
	if _, errs := m.Map(rec(vals{"lang": "pt"})); !reflect.DeepEqual(codes(errs), []string{"locale:" + CodeTemplateIncomplete}) ||
		errs[0].Source != "region" {
		t.Errorf("incomplete: %v", errs)
	}
	p, _ = m.Map(rec(vals{"lang": "pt", "region": "BR"}))
	if got, _ := p.Locale.Get(); got != "pt-BR" {
		t.Errorf("template: %q", got)
	}
	if cols := m.Columns(); !reflect.DeepEqual(cols, []string{"id", "lang", "region"}) {
		t.Errorf("Columns = %v", cols)
	}
}

func TestTemplateLoadErrors(t *testing.T) {
	for _, tc := range []struct{ spec, want string }{
		{`{ template: "{a" }`, "without its }"},
		{`{ template: "a}" }`, "lone }"},
		{`{ template: "x{}" }`, "empty {}"},
		{`{ template: "{param:Key}{a}" }`, "parameter name"},
		{`{ template: "{param:key}" }`, "reads no field"},
		{`{ template: "{a}", from: b }`, "one of from, value and template"},
		{`{ template: "{a}", value: b }`, "one of from, value and template"},
		{`{ template: "" }`, "template: text"},
	} {
		_, err := Parse([]byte("version: 1\nkey: id\nfields:\n  first_name: " + tc.spec + "\n"))
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "mapping:4:") {
			t.Errorf("%s: %v (want %q at line 4)", tc.spec, err, tc.want)
		}
	}
}

func TestNameWordsTransforms(t *testing.T) {
	m := mustParse(t, "version: 1\nkey: id\nfields:\n  first_name: { from: name, transform: [first_word] }\n"+
		"  last_name: { from: name, transform: [rest_words] }\n")
	for name, want := range map[string][2]string{
		"Ada King  Lovelace": {"Ada", "King  Lovelace"},
		"  Cher ":            {"Cher", ""},
		"Zoë Ångström":       {"Zoë", "Ångström"},
	} {
		p, errs := m.Map(rec(vals{"name": name}))
		if errs != nil {
			t.Fatal(errs)
		}
		first, _ := p.FirstName.Get()
		last, hasLast := p.LastName.Get()
		if first != want[0] || last != want[1] || hasLast != (want[1] != "") {
			t.Errorf("%q: %q / %q", name, first, last)
		}
	}
}

func TestParseFuture(t *testing.T) {
	m := oneField(t, "banned", "{ from: banned_until, parse: future }")
	future := time.Now().Add(24 * time.Hour)
	for _, tc := range []struct {
		v    any
		want string // "true", "false", "" (not given) or a code
	}{
		{"2999-01-01 00:00:00+00", "true"},
		{"2001-01-01 00:00:00+00", "false"},
		{future, "true"},
		{"", ""},
		{nil, ""},
		{"soon", CodeTimestampInvalid},
	} {
		p, errs := m.Map(rec(vals{"banned_until": tc.v}))
		got := ""
		switch {
		case errs != nil:
			got = errs[0].Code
		case !p.Banned.IsZero():
			b, _ := p.Banned.Get()
			got = fmt.Sprint(b)
		}
		if got != tc.want {
			t.Errorf("%v: %q, want %q", tc.v, got, tc.want)
		}
	}
	if _, err := Parse([]byte("version: 1\nkey: id\nfields:\n  first_name: { from: a, parse: future }\n")); err == nil {
		t.Error("parse: future on a text property was accepted")
	}
}

func TestReadParamFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hash_config.txt")
	text := "# pasted from the Firebase console\nhash_config {\n  algorithm: SCRYPT,\n  base64_signer_key: " + fbSignerKey +
		",\n  base64_salt_separator: " + fbSeparator + ",\n  rounds: 8,\n  mem_cost: 14,\n}\n"
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := ReadParamFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := Params{"algorithm": "SCRYPT", "base64_signer_key": fbSignerKey, "base64_salt_separator": fbSeparator, "rounds": "8", "mem_cost": "14"}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("got %d params, want %d", len(p), len(want))
	}
	env := filepath.Join(dir, "env")
	os.WriteFile(env, []byte("export CLERKMIGRATE_PARAM_ROUNDS=\"8\"\nmem_cost=14\n"), 0o600)
	if p, err := ReadParamFile(env); err != nil || p["rounds"] != "8" || p["mem_cost"] != "14" {
		t.Fatalf("env file: %v %v", p, err)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("rounds=8\nsigner key "+fbSignerKey[:40]+"\n"), 0o600)
	_, err = ReadParamFile(bad)
	var pe *ParamFileError
	if !errors.As(err, &pe) || pe.Line != 2 || strings.Contains(err.Error(), fbSignerKey[:40]) {
		t.Fatalf("bad line: %v", err)
	}
	got := ParamsFromEnv([]string{"CLERKMIGRATE_PARAM_BASE64_SIGNER_KEY=" + fbSignerKey, "HOME=/root", "CLERKMIGRATE_PARAM_X=a=b"})
	if !reflect.DeepEqual(got, Params{"base64_signer_key": fbSignerKey, "x": "a=b"}) {
		t.Fatalf("ParamsFromEnv: %d params", len(got))
	}
}

func TestWhen(t *testing.T) {
	// Clerk's export names a hasher on rows without a digest: `when` keeps
	// the hasher for rows that have one and drops it elsewhere.
	m := mustParse(t, "version: 1\nkey: id\nfields:\n  password_digest: d\n  password_hasher: { from: h, when: d }\n")
	p, errs := m.Map(rec(vals{"d": "", "h": "bcrypt"}))
	if errs != nil || p.PasswordHasher != "" {
		t.Fatalf("no digest: %v %q", errs, p.PasswordHasher)
	}
	const digest = "$2a$10$54cbf.ymtKSc4jsKFRlzae9cuuBPUuF9HdApTvElGczWqU1ST1uv6"
	p, errs = m.Map(rec(vals{"d": digest, "h": "bcrypt"}))
	if errs != nil || p.PasswordHasher != "bcrypt" {
		t.Fatalf("digest: %v %q", errs, p.PasswordHasher)
	}
	// Without when, the same row is refused (the hasher came from the row).
	strict := mustParse(t, "version: 1\nkey: id\nfields:\n  password_digest: d\n  password_hasher: h\n")
	if _, errs := strict.Map(rec(vals{"d": "", "h": "bcrypt"})); !reflect.DeepEqual(codes(errs), []string{"password_digest:" + CodeDigestMissing}) {
		t.Fatalf("strict: %v", errs)
	}
	if m.Fingerprint() == strict.Fingerprint() {
		t.Fatal("when does not change the fingerprint")
	}
}
