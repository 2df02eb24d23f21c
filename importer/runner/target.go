package runner

import (
	"context"
	"fmt"

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

// InstanceMismatchError is a run refused because its target answers as
// another Clerk instance than the one a run of the ledger recorded there:
// Clerk's API URL is one for every instance, so only the instance id tells
// that the secret key given now reaches another one. Deleting there would
// meet 404s ("already gone") while the run's users remain where they were,
// so a destructive step (a rollback, a sync's orphan step) and a resumed
// run are refused before anything is sent.
type InstanceMismatchError struct {
	// RunID is the run that recorded Recorded.
	RunID string
	// Recorded is the target the run recorded, Reached the one the
	// pre-flight reached now.
	Recorded, Reached Target
	// Step is what was refused ("rollback", "orphan step", "resume").
	Step string
}

func (e *InstanceMismatchError) Error() string {
	return fmt.Sprintf("%s refused: run %s wrote to %s, but this secret key reaches %s: another Clerk instance "+
		"behind the same URL; refused before anything but the pre-flight was sent (use the key of %s)", e.Step, e.RunID, e.Recorded, e.Reached,
		e.Recorded.InstanceID)
}

// SameInstance checks that reached is the instance recorded (a run's
// RecordedTarget): a *InstanceMismatchError when both ids are known and
// differ, nil otherwise (a run recorded before instance ids, or a target
// whose pre-flight did not say, is judged by its name alone, as before).
func SameInstance(step, runID string, recorded, reached Target) error {
	if !recorded.Known() || !reached.Known() || recorded.InstanceID == reached.InstanceID {
		return nil
	}
	return &InstanceMismatchError{RunID: runID, Recorded: recorded, Reached: reached, Step: step}
}
