package mapping

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/mapping/hashers"
	"github.com/clerkmigrate/clerkmigrate/sources"
)

// fuzzColumns are the sample columns the fuzzer fills; the others keep the
// values of a good sample row.
var fuzzColumns = []string{"email", "secondary_emails", "phone", "password_hash", "hasher", "totp_secret",
	"backup_codes", "public_metadata", "created_at", "is_disabled", "username", "locale"}

// FuzzMap sends random cells through the sample mapping: Map never panics,
// returns a request or at least one FieldError (never both, never neither),
// and no FieldError holds the digest or the TOTP secret.
func FuzzMap(f *testing.F) {
	m := loadSample(f)
	base := map[string]vals{}
	for _, r := range sampleRecords(f, m) {
		row := vals{}
		for _, c := range m.Columns() {
			v, _ := r.Values.Lookup(c)
			row[c] = v
		}
		base[r.Key] = row
		c := func(name string) string { return row[name].(string) }
		f.Add(r.Key, c("email"), c("secondary_emails"), c("phone"), c("password_hash"), c("hasher"), c("totp_secret"),
			c("backup_codes"), c("public_metadata"), c("created_at"), c("is_disabled"), c("username"), c("locale"))
	}
	hasherList := strings.Join(hashers.Names(), ", ")
	f.Fuzz(func(t *testing.T, key, email, secondary, phone, hash, hasher, totp, codes, meta, created, disabled, username, locale string) {
		row := vals{}
		for k, v := range base["1001"] {
			row[k] = v
		}
		cells := []string{email, secondary, phone, hash, hasher, totp, codes, meta, created, disabled, username, locale}
		for i, c := range fuzzColumns {
			row[c] = cells[i]
		}
		p, errs := m.Map(sources.Record{Key: key, Values: row})
		switch {
		case p == nil && len(errs) == 0:
			t.Fatal("neither a request nor an error")
		case p != nil && errs.Invalid():
			t.Fatalf("both a request and errors: %v", errs)
		case p != nil:
			if _, err := json.Marshal(p); err != nil {
				t.Fatalf("request does not marshal: %v", err)
			}
			if id, _ := p.ExternalID.Get(); id == "" {
				t.Fatal("request without external_id")
			}
		}
		text := joinErrs(errs)
		for _, secret := range []string{hash, totp} {
			if leaks(secret, text, hasherList, key, email, secondary, phone, hasher, meta, created, disabled, username, locale) {
				t.Fatalf("a FieldError holds a secret cell %q:\n%s", secret, text)
			}
		}
	})
}

// leaks reports whether secret shows in text, when it is long enough to
// matter and not also the text of a non-secret cell (which may be quoted) or
// of the fixed wording.
func leaks(secret, text, fixed string, others ...string) bool {
	s := strings.TrimSpace(secret)
	if len(s) < 8 || !strings.Contains(text, s) || strings.Contains(fixed, s) {
		return false
	}
	for _, o := range others {
		if strings.Contains(o, s) {
			return false
		}
	}
	for _, word := range []string{"password", "digest", "hasher", "base32", "characters", "TOTP secret"} {
		if strings.Contains(word, s) {
			return false
		}
	}
	return true
}
