package migrate

import (
	"context"
	"testing"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// TestRunsRecordTheirInstance: an import and its rollback each record
// the instance their pre-flight reached (GET /v1/instance), beside the
// target's name, and never the key.
func TestRunsRecordTheirInstance(t *testing.T) {
	ctx := context.Background()
	st, api := openLedger(t), newFakeAPI()
	sum, err := Run(ctx, testConfig(t, st, rowsSource(3), api))
	if err != nil {
		t.Fatal(err)
	}
	rb, err := Rollback(ctx, RollbackConfig{Store: st, Gateway: testGateway(api), ImportRunID: sum.RunID, Target: "test",
		Logger: discardLogger()})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{sum.RunID, rb.RunID} {
		r, err := checkpoint.FindRun(ctx, st, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Meta[checkpoint.MetaInstance] != "ins_fake" || r.Meta[checkpoint.MetaEnvironment] != "development" ||
			r.Meta[checkpoint.MetaTarget] != "test" {
			t.Errorf("run %s recorded %v, want instance ins_fake (development) at test", id, r.Meta)
		}
	}
}
