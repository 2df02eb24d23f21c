package request

import (
	"encoding/json"
	"fmt"
	"math"
	"testing"
)

// TestAppendJSONIsMarshal: AppendJSON writes what json.Marshal writes for
// requests with every kind of member: left out, null, plain and escaped
// strings, empty and full lists, plain and mixed metadata.
func TestAppendJSONIsMarshal(t *testing.T) {
	odd := []string{"", "plain", `q"uote`, `back\slash`, "<html>&", "é", "\u2028", "tab\t", "\xff bad utf-8"}
	reqs := []*CreateUser{{}}
	for i, s := range odd {
		p := &CreateUser{
			ExternalID: Value(s), FirstName: Null[string](), LastName: Value("L" + s), Locale: Value("en"),
			EmailAddresses: []string{s, "a@b.c"}, PhoneNumbers: []string{}, Web3Wallets: []string{s},
			EmailAddressIdentificationStatus: []string{"verified"}, PhoneNumberIdentificationStatus: nil,
			Username: Value(s), Password: Value(s), PasswordDigest: Null[string](), PasswordHasher: s,
			SkipPasswordChecks: Value(i%2 == 0), SkipPasswordRequirement: Null[bool](), TOTPSecret: Value(s),
			BackupCodes:       []string{s, s},
			PublicMetadata:    map[string]any{"plan": "free", s: "x"},
			PrivateMetadata:   map[string]any{"n": float64(i), "nested": map[string]any{"a": []any{s, true, nil}}},
			UnsafeMetadata:    map[string]any{},
			DeleteSelfEnabled: Value(true), LegalAcceptedAt: Value(s), SkipLegalChecks: Value(false),
			SkipUserRequirement: Null[bool](), CreateOrganizationEnabled: Value(true),
			CreateOrganizationsLimit: Value(i - 3), CreatedAt: Value("2020-01-02T03:04:05Z"),
			BypassClientTrust: Value(false), Banned: Null[bool](), Locked: Value(true),
		}
		reqs = append(reqs, p, &CreateUser{FirstName: Value(s), CreateOrganizationsLimit: Null[int](), PublicMetadata: map[string]any{"k": s}})
	}
	for i, p := range reqs {
		want, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := p.AppendJSON([]byte("prefix"))
		if err != nil || string(got) != "prefix"+string(want) {
			t.Errorf("request %d: AppendJSON = %s, %v\nwant           %s", i, got, err, want)
		}
	}
	bad := &CreateUser{PublicMetadata: map[string]any{"n": math.NaN()}}
	_, want := json.Marshal(bad)
	if _, err := bad.AppendJSON(nil); fmt.Sprint(err) != fmt.Sprint(want) {
		t.Errorf("AppendJSON of NaN: %v, want %v", err, want)
	}
}
