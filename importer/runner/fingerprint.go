package runner

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
)

// Secret field groups, whose fingerprints the ledger keeps (Clerk never
// returns a secret, so the sync compares the source with what was last
// sent).
const (
	GroupPassword    = "password"
	GroupTOTP        = "totp"
	GroupBackupCodes = "backup_codes"
)

// Fingerprinter makes the keyed fingerprints the ledger keeps in place of
// values it must not hold in clear: an HMAC-SHA256 under a key derived
// from the instance's secret key (never stored), so that the ledger alone
// does not let anyone test a guess. The import records those of what it
// created, the sync compares the source's with them.
type Fingerprinter struct {
	key   []byte
	keyID string
}

// NewFingerprinter keys fingerprints with key.
func NewFingerprinter(key []byte) *Fingerprinter {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("clerkmigrate fingerprint key id"))
	return &Fingerprinter{key: key, keyID: hex.EncodeToString(mac.Sum(nil))[:8]}
}

// KeyID names the key: every fingerprint starts with it and ":", so one
// recorded under another key (a rotated secret key) is told apart.
func (f *Fingerprinter) KeyID() string { return f.keyID }

// Sum is the keyed hash of parts under label, n hex digits long.
func (f *Fingerprinter) Sum(n int, label string, parts ...string) string {
	mac := hmac.New(sha256.New, f.key)
	mac.Write([]byte(label))
	for _, p := range parts {
		mac.Write([]byte{0})
		mac.Write([]byte(p))
	}
	return hex.EncodeToString(mac.Sum(nil))[:n]
}

// Secret is the fingerprint of one secret group's value: "<key id>:" and
// 32 hex digits, or "<key id>:-" when the source has no such secret.
func (f *Fingerprinter) Secret(group string, parts ...string) string {
	empty := true
	for _, p := range parts {
		if p != "" {
			empty = false
		}
	}
	if empty {
		return f.keyID + ":-"
	}
	return f.keyID + ":" + f.Sum(32, group, parts...)
}

// Secrets are the fingerprints of a request's secret groups.
func (f *Fingerprinter) Secrets(p *request.CreateUser) map[string]string {
	pw, _ := p.Password.Get()
	digest, _ := p.PasswordDigest.Get()
	totp, _ := p.TOTPSecret.Get()
	return map[string]string{
		GroupPassword:    f.Secret(GroupPassword, pw, digest, p.PasswordHasher),
		GroupTOTP:        f.Secret(GroupTOTP, totp),
		GroupBackupCodes: f.Secret(GroupBackupCodes, strings.Join(p.BackupCodes, "\x00")),
	}
}

// Created are the fingerprints to record for a user created with p under
// the external id ext: those of its secrets, so that a secret the source
// changes before the first sync is sent by that sync.
func (f *Fingerprinter) Created(ext string, p *request.CreateUser) []checkpoint.Fingerprint {
	var out []checkpoint.Fingerprint
	for g, v := range f.Secrets(p) {
		out = append(out, checkpoint.Fingerprint{ExternalID: ext, Group: g, Value: v})
	}
	return out
}
