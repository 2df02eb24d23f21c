package reconcile

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/mapping/request"
)

// TestSettledStateIsStable: the settled state hashes the request as
// json.Encoder wrote it when the ledgers' states were recorded, so that a
// sync after an upgrade still finds its users settled; one state is pinned
// as recorded, the others are compared with the encoder's.
func TestSettledStateIsStable(t *testing.T) {
	key := []byte("settled-key")
	encoded := func(p *request.CreateUser, at int64) string {
		mac := hmac.New(sha256.New, key)
		if err := json.NewEncoder(mac).Encode(p); err != nil {
			t.Fatal(err)
		}
		return hex.EncodeToString(mac.Sum(nil)[:16]) + "@" + strconv.FormatInt(at, 10)
	}
	ada := &request.CreateUser{ExternalID: request.Value("b7"), FirstName: request.Value("Ada"), LastName: request.Value("Lovelace7"),
		EmailAddresses: []string{"user7@example.com"}, PasswordDigest: request.Value("$2a$10$x"), PasswordHasher: "bcrypt",
		PublicMetadata: map[string]any{"plan": "free", "role": "member"}, CreatedAt: request.Value("2020-01-02T03:04:05Z"),
		Locale: request.Value("en-US"), Banned: request.Value(false)}
	if got, want := settled(key, ada, 1700000000001), "a7b6eb9f21a842cb7e528c7f8c1b9b6b@1700000000001"; got != want {
		t.Errorf("settled state = %s, recorded as %s", got, want)
	}
	for _, s := range []string{"", "<html>&", `q"uote\`, "é\u2028", "\xff"} {
		for _, p := range []*request.CreateUser{{}, ada, {FirstName: request.Value(s), Username: request.Null[string](),
			BackupCodes: []string{s}, TOTPSecret: request.Value(s), PrivateMetadata: map[string]any{s: []any{1.5, nil, s}}}} {
			if got, want := settled(key, p, 42), encoded(p, 42); got != want {
				t.Errorf("settled(%+v) = %s, the encoder's %s", p, got, want)
			}
		}
	}
}
