package emulator

import "github.com/clerkmigrate/clerkmigrate/mapping/hashers"

// knownHasher and checkDigest decide the password_hasher allow-list and
// the digest format of each hasher (CLERK_API.md), as package hashers
// knows them.
var (
	knownHasher = hashers.Known
	checkDigest = hashers.CheckDigest
)
