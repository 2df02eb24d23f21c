package runner

import (
	"context"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
	"github.com/clerkmigrate/clerkmigrate/importer/clerk/gateway"
)

// Target is the Clerk instance a run talks to, as the ledger records it
// (never the key): who it is, Clerk's own id and environment type for the
// instance, which the pre-flight asks (GET /v1/instance), and where, for
// people: the API URL and the key's kind, or the local emulator's
// directory. The id is the target's identity: two instances behind one
// URL are two targets, two keys of one instance (a rotated key) one.
type Target struct {
	// Name is where (checkpoint.MetaTarget).
	Name string
	// InstanceID and Environment are who (checkpoint.MetaInstance and
	// checkpoint.MetaEnvironment); empty for a run recorded before
	// clerkmigrate recorded instances.
	InstanceID, Environment string
}

// Identify runs the gateway's pre-flight (fatal for the run when the
// target does not answer or refuses the key) and returns the target it
// reached, named name.
func Identify(ctx context.Context, g *gateway.Gateway, name string) (Target, error) {
	in, err := g.Preflight(ctx)
	if err != nil {
		return Target{Name: name}, err
	}
	return Target{Name: name, InstanceID: in.ID, Environment: in.EnvironmentType}, nil
}

// RecordedTarget is the target a run recorded.
func RecordedTarget(r checkpoint.Run) Target {
	return Target{Name: r.Meta[checkpoint.MetaTarget], InstanceID: r.Meta[checkpoint.MetaInstance],
		Environment: r.Meta[checkpoint.MetaEnvironment]}
}

// Known reports whether the instance is known: false for a run recorded
// before instance ids, which only its Name tells.
func (t Target) Known() bool { return t.InstanceID != "" }

// Record adds what a run records of its target to meta.
func (t Target) Record(meta map[string]string) {
	meta[checkpoint.MetaTarget] = t.Name
	if t.Known() {
		meta[checkpoint.MetaInstance], meta[checkpoint.MetaEnvironment] = t.InstanceID, t.Environment
	}
}

// String names the target for people: "instance ins_… (production) at
// https://api.clerk.com/v1 (live)", or the Name alone when the instance is
// not known.
func (t Target) String() string {
	if !t.Known() {
		return t.Name
	}
	s := "instance " + t.InstanceID
	if t.Environment != "" {
		s += " (" + t.Environment + ")"
	}
	if t.Name != "" {
		s += " at " + t.Name
	}
	return s
}
