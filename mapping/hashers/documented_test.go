package hashers

import "testing"

// TestJudgeAllocatesNothingForGoodDigests: validate judges every row's
// digest; a digest that fits costs no allocation.
func TestJudgeAllocatesNothingForGoodDigests(t *testing.T) {
	for _, v := range loadVectors(t) {
		if _, always := openAlways[v.Hasher]; always {
			continue // a warning: built once per row that has one
		}
		allocs := testing.AllocsPerRun(50, func() {
			if verdict, _ := Judge(v.Hasher, v.Digest); verdict != OK {
				panic("vector not OK")
			}
		})
		if allocs != 0 {
			t.Errorf("Judge(%s) allocates %.0f times per call", v.Hasher, allocs)
		}
	}
}

// TestEveryHasherHasADocumentedForm: Judge reads Clerk's documented format
// of every hasher.
func TestEveryHasherHasADocumentedForm(t *testing.T) {
	for _, name := range Names() {
		if documentedForms[name] == nil {
			t.Errorf("hasher %s has no documented form", name)
		}
	}
}
