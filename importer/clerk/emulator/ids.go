package emulator

import (
	"encoding/binary"
	"math/rand/v2"
	"time"
)

// ksuidEpoch is the KSUID epoch (2014-05-13), which Clerk's ids use.
const ksuidEpoch = 1400000000

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// newID returns prefix + a 27-character base62 KSUID: 4 bytes of seconds
// since the KSUID epoch and 16 random bytes, like Clerk's "user_…" and
// "idn_…" ids.
func newID(prefix string, now time.Time) string {
	var raw [20]byte
	binary.BigEndian.PutUint32(raw[0:], uint32(now.Unix()-ksuidEpoch))
	binary.BigEndian.PutUint64(raw[4:], rand.Uint64())
	binary.BigEndian.PutUint64(raw[12:], rand.Uint64())
	return prefix + encodeBase62(raw)
}

// encodeBase62 renders 20 bytes as 27 base62 digits (zero-padded).
func encodeBase62(raw [20]byte) string {
	var parts [5]uint32
	for i := range parts {
		parts[i] = binary.BigEndian.Uint32(raw[i*4:])
	}
	var out [27]byte
	for pos := len(out) - 1; pos >= 0; pos-- {
		var rem uint64
		for i := range parts {
			cur := rem<<32 | uint64(parts[i])
			parts[i] = uint32(cur / 62)
			rem = cur % 62
		}
		out[pos] = base62[rem]
	}
	return string(out[:])
}
