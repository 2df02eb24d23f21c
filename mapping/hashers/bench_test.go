package hashers

import "testing"

// BenchmarkCheckDigest measures CheckDigest on a valid real digest of each
// hasher: it runs once per row of a dry run.
func BenchmarkCheckDigest(b *testing.B) {
	seen := map[string]bool{}
	for _, v := range loadVectors(b) {
		if seen[v.Hasher] {
			continue
		}
		seen[v.Hasher] = true
		b.Run(v.Hasher, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if CheckDigest(v.Hasher, v.Digest) != nil {
					b.Fatal("rejected")
				}
			}
		})
	}
}

// BenchmarkCheckDigestInvalid measures the failure path (an error and its
// hint, which runs detection).
func BenchmarkCheckDigestInvalid(b *testing.B) {
	d := loadVectors(b)[0].Digest
	b.ReportAllocs()
	for b.Loop() {
		if CheckDigest("md5", d) == nil {
			b.Fatal("accepted")
		}
	}
}

// BenchmarkDetect measures detection over every hasher's grammar.
func BenchmarkDetect(b *testing.B) {
	vs := loadVectors(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if len(Detect(vs[i%len(vs)].Digest)) == 0 {
			b.Fatal("nothing detected")
		}
		i++
	}
}
