package checkpoint

import "context"

// ClerkIndex is the on-disk copy of one Clerk instance's users that the
// nightly sync diffs the source against, and the fingerprints of the secrets
// the sync sent (Clerk never returns them). It lives in the ledger next to
// the runs, in tables of its own, so that a sync's memory does not grow with
// the number of users.
//
// Everything is kept per scope (the Clerk instance, e.g. the sync's target
// id), so one ledger can serve several instances. The index holds what
// Clerk's API returns of a user (names, identifiers, metadata, flags) and no
// secret; a fingerprint is a keyed hash of a secret, never the secret.
//
// Both stores (sqlite.Store, postgres.Store) implement it; storetest.RunIndex
// is the suite an implementation must pass.
type ClerkIndex interface {
	// ResetIndex forgets the scope's users, its marks and its IndexState
	// (not its fingerprints): the next sync scans Clerk in full.
	ResetIndex(ctx context.Context, scope string) error
	// IndexState says how far the scope's index is complete (see
	// IndexState); the zero IndexState for a scope never scanned.
	IndexState(ctx context.Context, scope string) (IndexState, error)
	// SetIndexState records it, once a scan of Clerk has completed.
	SetIndexState(ctx context.Context, scope string, st IndexState) error
	// PutUsers inserts or replaces users by ClerkID, with their email
	// addresses, in one transaction.
	PutUsers(ctx context.Context, scope string, users []IndexedUser) error
	// UpdatedAts returns the recorded UpdatedAt of these Clerk ids, by
	// Clerk id; ids the index does not hold are absent. A scan re-puts
	// only the users whose updated_at moved.
	UpdatedAts(ctx context.Context, scope string, clerkIDs []string) (map[string]int64, error)
	// UsersByExternalID returns the users holding these external ids, by
	// external id; ids with no user are absent from the map.
	UsersByExternalID(ctx context.Context, scope string, externalIDs []string) (map[string]IndexedUser, error)
	// UsersByEmail returns the users holding these email addresses
	// (compared lower-cased), by lower-cased address.
	UsersByEmail(ctx context.Context, scope string, emails []string) (map[string]IndexedUser, error)
	// ClearMarks forgets the scope's listed and seen marks: a sync calls it
	// before its scan. Marks are written as a run goes (appended, not
	// indexed, so that a mark costs a few bytes, not a page) and read by
	// DropUnlisted, CountUnseen and Unseen.
	ClearMarks(ctx context.Context, scope string) error
	// MarkListed records that a full scan of Clerk listed these users.
	MarkListed(ctx context.Context, scope string, clerkIDs []string) error
	// DropUnlisted forgets the users (and their addresses) not marked
	// listed since ClearMarks: after a full scan, those Clerk no longer
	// has. It returns how many it dropped.
	DropUnlisted(ctx context.Context, scope string) (int64, error)
	// MarkSeen records that the source still has these external ids.
	MarkSeen(ctx context.Context, scope string, externalIDs []string) error
	// CountUnseen counts the users whose external id was not marked seen
	// since ClearMarks (the source did not list them, or they have no
	// external id), split by whether this ledger owns them in scope (see
	// OwningKinds).
	CountUnseen(ctx context.Context, scope string) (UnseenCounts, error)
	// Unseen calls fn for each such user, with or without an external id,
	// ordered by ClerkID, streaming, with Owner set on the users this ledger
	// owns in scope.
	Unseen(ctx context.Context, scope string, fn func(IndexedUser) error) error
	// Owners returns the owning run (see OwningKinds) of each of these
	// users that this ledger owns in scope, by ClerkID; users not owned are
	// absent.
	Owners(ctx context.Context, scope string, users []IndexedUser) (map[string]string, error)
	// Fingerprints returns the recorded fingerprints of these external ids:
	// external id → group → fingerprint. Ids with none are absent.
	Fingerprints(ctx context.Context, scope string, externalIDs []string) (map[string]map[string]string, error)
	// PutFingerprints records fingerprints, replacing those of the same
	// external id and group, in one transaction.
	PutFingerprints(ctx context.Context, scope string, fps []Fingerprint) error
}

// IndexState is how far a scope's index is complete. The index is kept
// between syncs and updated in place: a scan re-puts only the users whose
// updated_at moved, so a night's local cost follows the change, not the
// user base.
type IndexState struct {
	// Version names the encoding of IndexedUser.State the index was
	// written with; a sync that encodes differently resets the index.
	Version string
	// HighWater is Clerk's updated_at (Unix ms) at or before which every
	// change is in the index: the start of the last completed scan, as
	// Clerk's clock saw it. 0: no completed scan, the next one is full.
	HighWater int64
}

// IndexedUser is one Clerk user as the index keeps it.
type IndexedUser struct {
	ClerkID    string
	ExternalID string // "" when the user has none
	// Emails are the user's email addresses, lower-cased, for UsersByEmail.
	Emails []string
	// UpdatedAt is Clerk's updated_at (Unix ms), to tell a stale plan.
	UpdatedAt int64
	// State is the user's comparable fields, encoded by the sync (JSON);
	// the index does not read it. It never holds a secret.
	State []byte
	// Owner is set by Unseen only: the id of the first run of this ledger
	// that created or adopted the user in the index's scope (see OwningKinds); ""
	// when no run did.
	Owner string
}

// UnseenCounts splits the users the source did not list.
type UnseenCounts struct {
	// Owned are the users this ledger created or adopted in the scope: the
	// orphans, the only users a sync may ban or delete.
	Owned int64
	// NotOwned are the others: no external id, or one that no run of this
	// ledger created or adopted in the scope (another system's users).
	NotOwned int64
}

// Ownership: a Clerk user is this ledger's in a scope (its orphan, once the
// source no longer lists it) when a run recorded with Meta[MetaTarget] equal
// to the scope, of a kind in OwningKinds, settled a row with an outcome in
// OwningOutcomes, the user's Clerk id, and the user's external_id as its key
// (external_id is always the row's key). Nothing else makes a user ours:
// not a dry run or a plan (they write nothing), not an orphan, banned or
// deleted row (earlier versions called other systems' users orphans, and
// such rows must not make them ours now), and not a run into another target.
// A user created, then rolled back, is gone from Clerk; one still there
// (a rollback that went elsewhere) is still ours.
var (
	OwningKinds    = []string{"import", "sync", "sync-apply"}
	OwningOutcomes = []Outcome{Created, Exists, Updated, Unchanged, Drift, Conflict}
)

// Fingerprint is a keyed hash of one group of secret fields of one user
// (group "password", "totp" or "backup_codes"), as last sent to or
// recorded for Clerk.
type Fingerprint struct {
	ExternalID string
	Group      string
	Value      string
}
