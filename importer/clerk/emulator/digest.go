package emulator

import "github.com/clerkmigrate/clerkmigrate/mapping/hashers"

// knownHasher and judgeDigest decide the password_hasher allow-list and
// the digest format of each hasher (CLERK_API.md), as package hashers
// knows them.
var knownHasher = hashers.Known

func judgeDigest(hasher, digest string) (bool, string) {
	return hashers.CheckDigest(hasher, digest) == nil, ""
}
