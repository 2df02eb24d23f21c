package runner

import (
	"errors"
	"strings"
	"testing"
)

// TestSameInstance: a run recorded on one Clerk instance and a key that
// reaches another is refused, naming both; a run recorded before instance
// ids (or a target whose pre-flight did not say) is judged by its name
// alone, as before.
func TestSameInstance(t *testing.T) {
	a := Target{Name: "https://api.clerk.com/v1 (live)", InstanceID: "ins_a", Environment: "production"}
	b := Target{Name: a.Name, InstanceID: "ins_b", Environment: "production"}
	legacy := Target{Name: a.Name}
	err := SameInstance("rollback", "import-1", a, b)
	var mismatch *InstanceMismatchError
	if !errors.As(err, &mismatch) || !strings.Contains(err.Error(), "ins_a") || !strings.Contains(err.Error(), "ins_b") {
		t.Errorf("a on b: %v, want an InstanceMismatchError naming both", err)
	}
	for name, pair := range map[string][2]Target{"same": {a, a}, "recorded before ids": {legacy, b}, "reached unknown": {a, legacy}} {
		if err := SameInstance("rollback", "import-1", pair[0], pair[1]); err != nil {
			t.Errorf("%s: %v, want nil", name, err)
		}
	}
}
