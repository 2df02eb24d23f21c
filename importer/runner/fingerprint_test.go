package runner

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
)

// goldenRequests are requests whose fingerprints under goldenKey are
// pinned in TestFingerprintsAreStable.
func goldenRequests() []*request.CreateUser {
	full := &request.CreateUser{
		FirstName: request.Value("Ada"), LastName: request.Value("Lovelace"), Username: request.Value("ada"),
		Locale: request.Value("en-GB"), CreatedAt: request.Value("2020-01-02T03:04:05Z"),
		LegalAcceptedAt: request.Value("2021-01-02T03:04:05.123Z"), DeleteSelfEnabled: request.Value(false),
		CreateOrganizationEnabled: request.Value(true), CreateOrganizationsLimit: request.Value(3),
		Banned: request.Value(false), Locked: request.Value(true),
		EmailAddresses: []string{"Ada@Example.com", "b@example.com"}, PhoneNumbers: []string{"+15555550100"},
		PasswordDigest: request.Value("$2a$10$abc"), PasswordHasher: "bcrypt", TOTPSecret: request.Value("JBSWY3DPEHPK3PXP"),
		BackupCodes: []string{"one", "two"},
		PublicMetadata: map[string]any{"plan": "free", "n": 1.5, "html": "<a&b>", "uni": "é\u2028", "q": `"\`,
			"nested": map[string]any{"z": 1.0, "a": []any{true, nil, "x"}}},
		PrivateMetadata: map[string]any{"role": "member"},
		UnsafeMetadata:  map[string]any{},
	}
	plain := &request.CreateUser{FirstName: request.Value("Bob"), EmailAddresses: []string{"bob@example.com"},
		Password: request.Value("hunter2")}
	return []*request.CreateUser{full, plain, {}}
}

var goldenKey = []byte("golden fingerprint key")

// TestFingerprintsAreStable: the fingerprints of a user are the same as
// the ones ledgers already hold (the sync compares the source's with the
// recorded ones, so a change in how they are made would read every user
// as changed); the values were taken from the code as of 9867879.
func TestFingerprintsAreStable(t *testing.T) {
	want := []string{
		"ext-0 backup_codes 4f2556d2:4cefeec7dfde650cacfd0ee8cd962652",
		"ext-0 fields 4f2556d2:al=f98fa819a121;bn=a4bc873123c6;ca=913b8ecdb06e;co=1cc6a4ba4be3;ds=f558bed451c2;em=c44f129deb,f25b793963;fn=94780f7249de;la=2edf62822504;lk=31299eae8da4;ln=65efdf164a37;lo=b206e26c9fc6;ol=dfc99d7e12fe;pe=dcbc10edd3c0;ph=9b06e6ddfa;pm=059d135e.ec6a8d2411,13256c49.ac6075acc6,44231ab5.45adc344a9,a182dd18.bfee13e05c,d2d5c089.581344b0e7,f41a9004.d24a01964c;pp=762c017d377b;um=;un=36c4d485d90e;vm=bbefba93.3ddfd3800d",
		"ext-0 password 4f2556d2:7f6e5cd1549fb4b91e7888ab7dcae023",
		"ext-0 totp 4f2556d2:126439522639732e7e18836ff3871937",
		"ext-1 backup_codes 4f2556d2:-",
		"ext-1 fields 4f2556d2:al=cb82cd569792;em=5429cde1ca;fn=74206f573ff1;ln=12148e6473a5;lo=4aa4f730325b;pe=dd96811816c8;ph=;pm=;pp=82f1edfd0c3b;um=;un=ee66db2bb268;vm=",
		"ext-1 password 4f2556d2:bdc898b3a08c7a5e7d2809fa0365dbb0",
		"ext-1 totp 4f2556d2:-",
		"ext-2 backup_codes 4f2556d2:-",
		"ext-2 fields 4f2556d2:al=617e2e61806c;em=;fn=2b651ad613a8;ln=12148e6473a5;lo=4aa4f730325b;pe=ce1cbd55825a;ph=;pm=;pp=82f1edfd0c3b;um=;un=ee66db2bb268;vm=",
		"ext-2 password 4f2556d2:-",
		"ext-2 totp 4f2556d2:-",
	}
	fp := NewFingerprinter(goldenKey)
	var got []string
	for i, p := range goldenRequests() {
		prints := fp.Created(fmt.Sprintf("ext-%d", i), p)
		slices.SortFunc(prints, func(a, b checkpoint.Fingerprint) int { return strings.Compare(a.Group, b.Group) })
		for _, f := range prints {
			got = append(got, f.ExternalID+" "+f.Group+" "+f.Value)
		}
	}
	if !slices.Equal(got, want) {
		for _, g := range got {
			t.Logf("%q,", g)
		}
		t.Errorf("fingerprints changed")
	}
}

// TestCanonicalJSONShortcuts: the values CanonicalJSON writes without
// encoding/json read as encoding/json writes them.
func TestCanonicalJSONShortcuts(t *testing.T) {
	for _, v := range []any{"", "free", "a b~", `q"`, `b\s`, "<a>", "x&y", "é", "\u2028", "tab\t", "\x7f", true, false, nil} {
		want, _ := json.Marshal(v)
		if got := CanonicalJSON(v); got != string(want) {
			t.Errorf("CanonicalJSON(%q) = %s, want %s", v, got, want)
		}
	}
	for _, m := range []map[string]any{{}, {"b": "1", "a": "2"}, {"<": "x"}, {"k": "é"}, {"k": 1.0}} {
		want, _ := json.Marshal(m)
		if got := appendObjectJSON(nil, m); string(got) != string(want) {
			t.Errorf("appendObjectJSON(%v) = %s, want %s", m, got, want)
		}
	}
}
