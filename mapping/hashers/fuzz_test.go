package hashers

import (
	"errors"
	"slices"
	"testing"
)

// cheapToVerify are hashers whose Verify cost does not depend on parameters
// in the digest, so the fuzzer may run Verify on anything that passes.
var cheapToVerify = map[string]bool{
	"md5": true, "sha256": true, "md5_salted": true, "sha256_salted": true,
	"ldap_ssha": true, "hmac_sha256_utf16_b64": true, "awscognito": true,
}

func addVectorSeeds(f *testing.F, withName bool) {
	for _, v := range loadVectors(f) {
		if withName {
			f.Add(v.Hasher, v.Digest)
			f.Add(v.Hasher, v.Digest[:len(v.Digest)-1])
		} else {
			f.Add(v.Digest)
		}
	}
}

// FuzzCheckDigest: no panic; a digest CheckDigest accepts is among Detect's
// answers for it; failures are *DigestError; cheap verifiers never panic.
func FuzzCheckDigest(f *testing.F) {
	addVectorSeeds(f, true)
	f.Fuzz(func(t *testing.T, name, digest string) {
		err := CheckDigest(name, digest)
		if err != nil {
			var de *DigestError
			if !errors.As(err, &de) {
				t.Fatalf("error %T is not a *DigestError", err)
			}
			_ = de.Error()
			return
		}
		if !slices.Contains(Detect(digest), name) {
			t.Fatalf("CheckDigest(%q) accepts the digest but Detect = %v", name, Detect(digest))
		}
		if cheapToVerify[name] {
			if _, err := Verify(name, digest, "password"); err != nil && !errors.Is(err, ErrNotVerifiable) {
				t.Fatalf("Verify(%s) on an accepted digest: %v", name, err)
			}
		}
	})
}

// FuzzDetect: no panic; Detect answers exactly the hashers CheckDigest
// accepts, each once.
func FuzzDetect(f *testing.F) {
	addVectorSeeds(f, false)
	f.Fuzz(func(t *testing.T, digest string) {
		got := Detect(digest)
		for _, n := range Names() {
			ok := CheckDigest(n, digest) == nil
			if ok != slices.Contains(got, n) {
				t.Fatalf("Detect = %v, CheckDigest(%s) == nil is %v", got, n, ok)
			}
		}
		if len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("Detect repeats a hasher: %v", got)
		}
	})
}
