package reconcile

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// PlanVersion is the version of the plan file format. Version 2: counts
// in snake_case with the unchanged, invalid and failed rows.
const PlanVersion = 2

// Plan actions.
const (
	ActionCreate = "create"
	ActionUpdate = "update"
	ActionBan    = "ban"
	ActionDelete = "delete"
	ActionOrphan = "orphan" // ours, gone from the source: reported only
	// ActionKeep: nothing to write, but fields edited in Clerk are kept
	// (the entry's drift and conflicts): reported only.
	ActionKeep = "keep"
	// ActionNotOurs: in Clerk, not in the source, and not created or
	// adopted by this ledger in this target: listed, never acted on.
	ActionNotOurs = "not_ours"
)

// Plan is what a sync would do, as --plan writes it: the names of the
// fields that change, never their values, so it holds no secret.
type Plan struct {
	Version            int          `json:"version"`
	RunID              string       `json:"run_id"`
	CreatedAt          time.Time    `json:"created_at"`
	Target             string       `json:"target"`
	SourceFingerprint  string       `json:"source_fingerprint"`
	MappingFingerprint string       `json:"mapping_fingerprint"`
	MetadataMode       MetadataMode `json:"metadata_mode"`
	// PruneIdentifiers says the plan deletes the addresses the source no
	// longer lists (fields remove_email_address, remove_phone_number).
	PruneIdentifiers bool `json:"prune_identifiers,omitempty"`
	// SourceWins says conflicts are planned as the source's values.
	SourceWins bool `json:"source_wins,omitempty"`
	// NotSynced names the properties the mapping sets that the sync
	// cannot update (create-only), with why.
	NotSynced []string    `json:"not_synced,omitempty"`
	Entries   []PlanEntry `json:"entries"`
	Counts    PlanCounts  `json:"counts"`
}

// PlanEntry is one user's planned change.
type PlanEntry struct {
	Action string `json:"action"`
	// Key is the legacy user id (Clerk's external_id).
	Key     string `json:"key"`
	ClerkID string `json:"clerk_id,omitempty"`
	// UpdatedAt is Clerk's updated_at when the plan was made: apply refuses
	// the plan when it differs.
	UpdatedAt int64    `json:"updated_at,omitempty"`
	Fields    []string `json:"fields,omitempty"`
	// Drift names the fields edited in Clerk, not in the source, since the
	// tool last wrote them: Clerk's values are kept. Conflicts names those
	// edited in both: Clerk's kept, or the source's sent (in Fields) when
	// the plan was made with SourceWins.
	Drift     []string `json:"drift,omitempty"`
	Conflicts []string `json:"conflicts,omitempty"`
	// OwnerRun is, for an orphan (orphan, ban, delete), the first run of
	// the ledger that created or adopted the user.
	OwnerRun string `json:"owner_run,omitempty"`
	// Reason says, for a user not ours, why it is not.
	Reason string `json:"reason,omitempty"`
}

// PlanCounts sums a plan up: its entries by action, and the source rows
// that have none (unchanged, invalid, failed: a new user whose email
// another Clerk user holds), so that the counts cover every row.
type PlanCounts struct {
	Create    int64 `json:"create"`
	Update    int64 `json:"update"`
	Ban       int64 `json:"ban"`
	Delete    int64 `json:"delete"`
	Orphan    int64 `json:"orphan"`
	Unchanged int64 `json:"unchanged"`
	Invalid   int64 `json:"invalid"`
	Failed    int64 `json:"failed"`
	// Drift and Conflict count the entries with drift (and no conflict)
	// and with a conflict.
	Drift    int64 `json:"drift"`
	Conflict int64 `json:"conflict"`
	// NotOurs counts the users listed not ours (never acted on).
	NotOurs int64 `json:"not_ours"`
}

// ErrStalePlan: Clerk or the source changed since the plan was made.
var ErrStalePlan = errors.New("reconcile: the plan is stale")

// ReadPlan reads a plan file.
func ReadPlan(path string) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var p Plan
	dec := json.NewDecoder(bufio.NewReader(f))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("reconcile: reading plan %s: %w", path, err)
	}
	if p.Version != PlanVersion {
		return nil, fmt.Errorf("reconcile: plan %s has version %d; this build reads version %d", path, p.Version, PlanVersion)
	}
	return &p, nil
}

// planWriter writes a plan as it is made, one entry a line, so that its
// memory does not grow with the plan.
type planWriter struct {
	w      *bufio.Writer
	n      int
	counts PlanCounts
	err    error
}

func newPlanWriter(w io.Writer, head Plan) *planWriter {
	pw := &planWriter{w: bufio.NewWriter(w)}
	head.Entries = nil
	b, err := json.MarshalIndent(head, "", " ")
	if err != nil {
		pw.err = err
		return pw
	}
	// Reopen the object after the header's fields to stream the entries.
	s := strings.TrimSuffix(strings.TrimSpace(string(b)), "}")
	s = s[:strings.LastIndex(s, `"entries"`)]
	pw.w.WriteString(s + "\"entries\": [\n")
	return pw
}

func (pw *planWriter) add(e PlanEntry) {
	if pw.err != nil {
		return
	}
	switch e.Action {
	case ActionCreate:
		pw.counts.Create++
	case ActionUpdate:
		pw.counts.Update++
	case ActionBan:
		pw.counts.Ban++
	case ActionDelete:
		pw.counts.Delete++
	case ActionOrphan:
		pw.counts.Orphan++
	case ActionNotOurs:
		pw.counts.NotOurs++
	}
	switch {
	case len(e.Conflicts) > 0:
		pw.counts.Conflict++
	case len(e.Drift) > 0:
		pw.counts.Drift++
	}
	b, err := json.Marshal(e)
	if err != nil {
		pw.err = err
		return
	}
	if pw.n > 0 {
		pw.w.WriteString(",\n")
	}
	pw.n++
	pw.w.WriteString("  ")
	pw.w.Write(b)
}

// close ends the plan with its counts; rows are the outcomes of the source
// rows that have no entry.
func (pw *planWriter) close(rows map[checkpoint.Outcome]int64) error {
	pw.counts.Unchanged, pw.counts.Invalid, pw.counts.Failed = rows[checkpoint.Unchanged], rows[checkpoint.Invalid], rows[checkpoint.Failed]
	if pw.err != nil {
		return pw.err
	}
	c, err := json.Marshal(pw.counts)
	if err != nil {
		return err
	}
	fmt.Fprintf(pw.w, "\n ],\n \"counts\": %s\n}\n", c)
	return pw.w.Flush()
}

// sameFields reports whether two sorted field lists are equal.
func sameFields(a, b []string) bool { return slices.Equal(a, b) }
