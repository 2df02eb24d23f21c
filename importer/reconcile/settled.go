package reconcile

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/mapping/request"
)

// settledGroup is the fingerprint group (checkpoint.Fingerprint) of a
// user's settled state: a keyed hash of the row's mapped request (secrets
// included, keyed like the secrets' fingerprints: never a value) and of the
// sync's settings, with Clerk's updated_at, as of the last sync that found
// the user unchanged with nothing to say. When both are the same again the
// source and Clerk are as they were then, so the user is unchanged without
// a diff: a night with nothing to do costs a lookup and a hash a user, not
// the field-by-field comparison. Recorded only when it changes.
const settledGroup = "settled"

// settledKey keys the settled states of one run: the diff's settings.
func (c Config) settledKey() []byte {
	mac := hmac.New(sha256.New, c.FingerprintKey)
	fmt.Fprintf(mac, "settled\x00%s\x00%s\x00%q\x00%t\x00%t", stateVersion, c.Metadata, c.Managed, c.PruneIdentifiers, c.SourceWins)
	return mac.Sum(nil)
}

// settled is the settled state of a row mapped to p, in Clerk as of
// updatedAt. It hashes p as json.NewEncoder(mac).Encode(p) wrote it (what
// json.Marshal writes, and a newline), by request.CreateUser.AppendJSON,
// without reflection: the states recorded before are the same
// (TestSettledStateIsStable). encoding/json was 0.5 of the 0.6 CPU s the
// hash cost a no-op sync of 100,000 users.
func settled(key []byte, p *request.CreateUser, updatedAt int64) string {
	mac := hmac.New(sha256.New, key)
	b, err := p.AppendJSON(make([]byte, 0, 1024))
	if err != nil {
		return ""
	}
	mac.Write(append(b, '\n'))
	return hex.EncodeToString(mac.Sum(nil)[:16]) + "@" + strconv.FormatInt(updatedAt, 10)
}

// settledAgain reports whether the row is as it was at the last sync that
// found it unchanged, on both sides.
func (r *run) settledAgain(rw *row, fps map[string]string) bool {
	if r.settledKey == nil || rw.s.Message != "" || rw.have == nil {
		return false
	}
	rw.settled = settled(r.settledKey, rw.params, rw.have.UpdatedAt)
	return rw.settled != "" && fps[settledGroup] == rw.settled
}

// recordSettled adds the row's settled state to the fingerprints its
// settlement records, when the sync found it unchanged with nothing to say
// and the state is new.
func (r *run) recordSettled(rw *row, before string) {
	if r.kind != KindSync || rw.settled == "" || rw.settled == before || rw.c.writes() > 0 ||
		len(rw.c.notes)+len(rw.c.drift)+len(rw.c.conflicts) > 0 || rw.s.Message != "" {
		return
	}
	rw.c.fps = append(rw.c.fps, checkpoint.Fingerprint{ExternalID: rw.ext, Group: settledGroup, Value: rw.settled})
}
