package reconcile

import (
	"encoding/json"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/importer/clerk"
	"github.com/clerkmigrate/clerkmigrate/importer/runner"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
)

// BenchmarkDiffUnchanged is the per-user CPU of a no-op night's diff: a
// user equal in the source and in Clerk, with (three-way) or without
// (first sync) a fields record.
func BenchmarkDiffUnchanged(b *testing.B) {
	want := &request.CreateUser{ExternalID: request.Value("u1"), FirstName: request.Value("Ada"), LastName: request.Value("Lovelace"),
		EmailAddresses: []string{"ada@example.com"}, PasswordDigest: request.Value("$2a$10$54cbf.ymtKSc4jsKFRlzae9cuuBPUuF9HdApTvElGczWqU1ST1uv6"),
		PasswordHasher: "bcrypt", PublicMetadata: map[string]any{"plan": "free", "n": 1.0}, Banned: request.Value(false),
		CreatedAt: request.Value("2020-01-01T10:00:00Z")}
	first, last := "Ada", "Lovelace"
	u := &clerk.User{ID: "user_1", FirstName: &first, LastName: &last, CreatedAt: 1577872800000,
		EmailAddresses: []clerk.EmailAddress{{ID: "idn_1", EmailAddress: "ada@example.com", Verification: &clerk.Verification{Status: "verified"}}},
		PublicMetadata: map[string]any{"plan": "free", "n": 1.0}}
	u.PrimaryEmailAddressID = &u.EmailAddresses[0].ID
	st, _ := json.Marshal(stateOf(u))
	var have userState
	json.Unmarshal(st, &have)
	d := newDiffer(managedProps, Merge, []byte("bench key"), false, false)
	fp := runner.NewFingerprinter([]byte("bench key"))
	for _, c := range []struct {
		name     string
		recorded map[string]string
	}{{"three-way", nil}, {"no-record", nil}} {
		c.recorded = fp.Secrets(want)
		if c.name == "three-way" {
			c.recorded[runner.GroupFields] = fp.Base(want).Encode(fp.KeyID())
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ch := d.diff("u1", want, have, c.recorded)
				if ch.writes() != 0 {
					b.Fatalf("changes: %v", ch.fields)
				}
			}
		})
	}
}
