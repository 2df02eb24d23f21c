package reports

import (
	"strings"
	"testing"
)

func TestScrubRedactsSecrets(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"bcrypt", "bad digest $2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW here", "bad digest [redacted] here"},
		{"bcrypt peppered", "$2y$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy$pepper", "[redacted]"},
		{"argon2id", "x=$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG, next", "x=[redacted] next"},
		{"argon2i", "$argon2i$v=19$m=16,t=2,p=1$MTIzNDU2Nzg$ABCDEFGHIJ", "[redacted]"},
		{"django pbkdf2", "digest pbkdf2_sha256$600000$w4lDSxUIUzW3$Yq9kAiVmQqjPZT2bSzfwsnjIoJ7EOUfhQFTU/Ps8AxE= refused", "digest [redacted] refused"},
		{"pbkdf2_sha512_hex", "pbkdf2_sha512_hex$1000$a1b2$ffee", "[redacted]"},
		{"bcrypt_sha256 django", "bcrypt_sha256$$2b$12$abcdefghijklmnopqrstuv", "[redacted]"},
		{"werkzeug scrypt", "scrypt:32768:8:1$salt$abcdef0123", "[redacted]"},
		{"sha512_symfony", "sha512_symfony$5000$salt$aGFzaA==", "[redacted]"},
		{"phpass", "hash $P$984478476IagS59wHZvyQMArzfx58u. ok", "hash [redacted] ok"},
		{"md5 phpass", "$H$9IQRaTwmfeRo7ud9Fh4E2PdI0S3r.L0", "[redacted]"},
		{"sha-crypt", "$6$rounds=5000$saltsalt$abcdef", "[redacted]"},
		{"ldap ssha", "{SSHA}MTIzNDU2Nzg5MDEyMzQ1Njc4OTAxMjM0NTY3OA==", "[redacted]"},
		{"awscognito", "awscognito#us-east-1_abc#client#id", "[redacted]"},
		{"md5 hex", "md5 5f4dcc3b5aa765d61d8327deb882cf99.", "md5 [redacted]."},
		{"sha256 hex", "salt$5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8", "salt$[redacted]"},
		{"totp base32", "totp JBSWY3DPEHPK3PXP is bad", "totp [redacted] is bad"},
		{"totp base32 lowercase", "secret=jbswy3dpehpk3pxp", "secret=[redacted]"},
		{"base64 token", "token dGhpcyBpcyBhIHNlY3JldCB0b2tlbjEyMw==", "token [redacted]"},
		{"secret key", "key sk_live_8kd8AfX9q2LmZpQ4rT6vW1yB3nC5eH7j used", "key [redacted] used"},
		{"backup code digest", "code $2a$10$abcdefghijklmnopqrstuuK8bq9YtVdLiGtp1Cw1yX9b3Bz7b0Ym", "code [redacted]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Scrub(tc.in); got != tc.want {
				t.Errorf("Scrub(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestScrubKeepsOrdinaryText(t *testing.T) {
	for _, in := range []string{
		"",
		"That email address is taken. Please try another.",
		"form_password_digest_invalid_code: password_digest does not match password_hasher bcrypt",
		"already in Clerk as user_2NNEqL2nrIRdJ194ndJqAHwEfxC",
		"row 550e8400-e29b-41d4-a716-446655440000 has no email",
		"rate limited 5 times; retry after 10s (HTTP 429)",
		"user_quota_exceeded: the instance allows 100 users",
		"column \"email\" of row 12 is empty",
		"Clerk answered 502 Bad Gateway",
		"password_hasher must be one of bcrypt, argon2id, pbkdf2_sha256",
	} {
		if got := Scrub(in); got != in {
			t.Errorf("Scrub(%q) = %q, want it unchanged", in, got)
		}
	}
}

func TestScrubIsIdempotent(t *testing.T) {
	for _, s := range plantedSecrets {
		once := Scrub("x " + s + " y")
		if twice := Scrub(once); twice != once {
			t.Errorf("Scrub twice = %q, once = %q", twice, once)
		}
		if strings.Contains(once, longestAlnumRun(s)) {
			t.Errorf("Scrub left %q in %q", longestAlnumRun(s), once)
		}
	}
}
