// Package reconcile is the nightly sync (`clerkmigrate sync`): after the
// bulk import the legacy system lives on until cut-over, and each night the
// sync creates who is new, updates who changed and reports (or bans, or
// deletes) who vanished, at a cost proportional to the change, not to the
// user base.
//
// # How a sync runs
//
//  1. Scan: the ledger's checkpoint.ClerkIndex, its copy of Clerk's users,
//     is kept between runs and brought in step (see "The index"), one page
//     at a time through the Clerk gateway every write of the sync takes
//     too: memory holds one page.
//  2. Pass: the source is read first for the duplicate rule of validate and
//     import (verdict.Scan: a later row holding an earlier row's email,
//     phone number, username or key is invalid, a duplicate of it, and
//     costs no call), then again in batches of 200 rows; each batch is
//     mapped, looked up in the index (by external_id; new users' emails too),
//     marked seen and diffed field by field. An unchanged user costs no call.
//     A changed one costs one call per kind of change: POST
//     /v1/email_addresses and /v1/phone_numbers for each missing address
//     (verified; a new primary one is made primary as it is added), one PATCH
//     /v1/users/{id} for names, username, locale, a primary switch to an
//     address the user already has, and changed secrets; one PATCH (Merge) or
//     PUT (Replace) /metadata; ban/unban, lock/unlock. With
//     PruneIdentifiers, then one DELETE /v1/email_addresses/{id} or
//     /v1/phone_numbers/{id} for each address the source no longer lists
//     (see "Pruning identifiers"). A missing user is created as the import
//     creates it, idempotently by external_id.
//  3. Orphans: the Clerk users the source did not yield are split in two
//     lists (see "Ownership"). Orphans, the users this ledger created or
//     adopted in this target, are recorded with outcome orphan;
//     BanOrphans or DeleteOrphans act on them only when there are at most
//     MaxDelete of them (BanOrphans in bulk: one POST /v1/users/ban per
//     50 users, each settled banned only when Clerk's answer holds it
//     banned; DeleteOrphans one DELETE each, Clerk has no bulk delete);
//     otherwise the whole step is refused
//     (OrphanGuardError) and nothing is banned or deleted, since a broken
//     source must not wipe an instance. The others are recorded not_ours
//     and never touched, whatever the options. An incremental source
//     (--since) yields only changed rows, so orphans are not judged: only
//     a full sync (a full source and a full scan) judges them.
//
// Every source row ends with exactly one outcome in the ledger (created,
// updated, unchanged, failed, invalid; skipped in an apply for a row the plan
// did not cover), every other Clerk user the source does not list with one
// more (orphan, banned, deleted, failed; not_ours), at positions after the
// source's last. An unchanged row with nothing to say (no message) whose
// user an earlier row already made ours (see "Ownership") is counted, not
// recorded as a row of its own (checkpoint.Tallier): the run's counts, and
// so status and summary.json (rows.not_listed), hold it; the outcome files
// list the rows recorded. A night with nothing to do writes a few counts,
// not a row per user. The first row of a user (an import's created or
// exists, a sync's first match) is always recorded: it is what makes the
// user ours, and `clerkmigrate prune` keeps it (checkpoint.Pruner).
//
// # The index
//
// The index is kept between runs and updated in place, so that a night's
// local cost follows the change, not the user base. A scan writes only
// the users whose updated_at moved (checkpoint.ClerkIndex.UpdatedAts), and
// decodes only those in full: it lists with clerk.API's ListUsersLazy,
// which reads each user's id and updated_at and keeps the rest as Clerk
// sent it (clerk.ListedUser). It records, once complete, the index's
// high-water mark: Clerk's newest
// updated_at as the scan began (checkpoint.IndexState; also in the run's
// Meta, MetaClerkScan and MetaClerkHighWater).
//
//   - A full scan (every sync whose source is not incremental) lists every
//     user in created_at order with the starting_after cursor, marks each
//     listed, and then drops the users it did not list: those deleted in
//     Clerk. A full scan costs one more call than its pages: the newest
//     updated_at, asked first (order_by=-updated_at, limit 1).
//   - An incremental scan (Config.Incremental, --since-last) lists the users
//     updated since the mark less Config.ClerkOverlap (order_by=-updated_at,
//     newest first, by offset: Clerk's cursor works only in created_at
//     order; each page starts a tenth of a page early, so that a user
//     deleted between two requests skips no one) and stops at the first
//     older user: 200 changes cost a page; past MaxIncrementalPages (50,000
//     users changed: Clerk's large offsets time out) it goes on as a full
//     scan. It cannot see users deleted in
//     Clerk: the index keeps them until the next full scan, and an update
//     to one fails with resource_not_found. An index without a mark (the
//     first sync, a ledger from before, a reset) is scanned in full.
//
// The marks of a run (listed, seen) are appended to the ledger, not
// indexed, and read by one anti-join each; an index written with another
// encoding of the user's state (stateVersion) is rebuilt.
//
// # Ownership
//
// A destructive step never reaches beyond what this migration did. An
// instance holds users this tool never made: those who signed up in Clerk
// (no external_id), those another system created (a CRM sync, a second
// tenant's import, an admin: a foreign external_id). So an orphan is a user
// that a run of this ledger created or adopted in this very target and that
// the source no longer lists: a row settled created or exists by an import,
// or created, updated or unchanged by a sync or an applied plan, with the
// user's Clerk id and its external_id as key, in a run whose Meta
// MetaTarget is the sync's target (checkpoint.OwningKinds). A user the
// import found already there under its external_id (exists) was adopted:
// the source named it as its own, so it is ours. Dry runs and plans adopt
// nothing; nor does an orphan, banned or deleted row (earlier versions
// called other systems' users orphans; those rows do not make them ours).
// A user created and then rolled back is gone; one still there is still
// ours. Every other user the source does not list is not ours: counted
// apart (Summary.NotOurs, the orphan step's Meta), listed in the plan
// (action not_ours, with the reason) and in the ledger, and never banned or
// deleted; MaxDelete counts only orphans. The log names each user on each
// list, up to 100 a list.
//
// # Per-user limit
//
// Clerk allows 10 updates per user per 10 s (PATCH user, PATCH|PUT
// metadata). The gateway spaces them (importer/clerk/gateway: a per-user
// token bucket of half the budget as burst and the other half spread over
// the window), so no window ever sees more than the budget, whichever
// worker writes. In practice a user needs at most two limited writes (one
// PATCH, one metadata write), which never wait.
//
// # Pruning identifiers
//
// By default an email address or phone number that Clerk has and the source
// does not is left in place: after a user's email changes in the legacy
// system, Clerk keeps the old one as a secondary address, which still signs
// in and which no one else can take. Config.PruneIdentifiers
// (--prune-identifiers) deletes them: emails are compared case-insensitively,
// phones in E.164. The deletes come after the adds and the PATCH that
// switches the primary: Clerk would promote another verified address of
// its choosing if the primary went first, and it refuses to delete a
// user's last identification. They pass the gateway like every other
// write (Clerk documents no per-user budget for them, so they are not
// spaced per user), and a 404 counts as done. A kind the source lists none of for
// a user is left alone, with a note in the ledger's message ("kept N
// phone_number: ..."): a user's last identifier is never removed, and the
// mapping may not carry that kind at all. Plans name the deletions as fields
// remove_email_address and remove_phone_number, and record the flag: a plan
// is applied only with the same setting.
//
// The trade-off, and why it is off by default: during a trickle migration
// users may add addresses in Clerk themselves (a second email, an MFA
// phone); the source does not list those, so pruning deletes them too. Turn
// it on when the legacy system is the only place addresses are managed.
//
// # Three-way diff: Clerk-side edits
//
// People edit users in Clerk too (an admin fixes a name, the user adds an
// address, Clerk-side code sets a metadata key), so "Clerk differs from
// the source" does not mean "the source changed". The ledger keeps, per
// user, what the tool last wrote or found equal to the source: the base
// (runner.Fields in the fingerprint group "fields", one record a user of
// short keyed HMACs, never a value in clear; the import records it for
// every user it creates). Each managed field is judged from the source's
// value (s), Clerk's (c) and the base (b):
//
//   - s equals c: nothing to write (the base becomes s);
//   - only s changed since b: written (outcome updated);
//   - only c changed: a Clerk-side edit, kept, outcome drift, reported
//     every sync until one side changes;
//   - both changed: a conflict, outcome conflict; Clerk's value is kept,
//     or the source's sent with Config.SourceWins (--source-wins);
//   - no base (a user an earlier version imported, one the import found
//     already there, a rotated secret key): the source wins, as before;
//     the base is recorded from then on.
//
// A row's outcome is conflict over drift over updated or unchanged, its
// message names the fields of each; plans carry them per entry (drift,
// conflicts; action keep when nothing is written) and in their counts.
// Fields: first_name, last_name, username, locale (a managed field the
// source leaves empty clears Clerk's value when that is a change of the
// source's; an empty value the tool wrote that Clerk now holds is drift);
// created_at, legal_accepted_at, delete_self_enabled,
// create_organization_enabled, create_organizations_limit, banned, locked
// (compared only when the source gives a value: an empty cell leaves
// Clerk's); the primary email address and phone number; each email
// address and phone number as a member of a set (one the tool wrote that
// Clerk no longer has was removed in Clerk and is not added back; with
// PruneIdentifiers one Clerk has that the tool never wrote was added in
// Clerk and is kept, as drift); each top-level key of the three metadata
// objects (in Merge mode only the source's keys, and Clerk's value is
// equal when it contains the source's; in Replace mode a key added in
// Clerk is kept, as drift, and one the source dropped is removed). The
// secrets (below) cannot be read back and stay two-way. The properties
// the sync cannot update at all (web3_wallet, skip_password_requirement,
// skip_legal_checks, skip_user_requirement, bypass_client_trust) are named
// in a warning, the run's Meta (not_synced) and the plan when the mapping
// sets them.
//
// # Secrets: the fingerprint rule
//
// Clerk never returns passwords, digests, TOTP secrets or backup codes, so
// the sync cannot compare them. The ledger keeps, per user and group
// (password, totp, backup_codes; all of a user's groups, "fields" too, in
// one row since schema version 5), a fingerprint: an HMAC-SHA256 of the
// source's value under a key derived from the instance's secret key (never
// stored), prefixed with an id of that key (runner.Fingerprinter). A secret
// is sent only when its fingerprint changed since it was last sent. The
// import records the fingerprints of every user it creates (migrate.Config
// Index and FingerprintKey, the same key and scope), so a secret changed
// between the import and the first sync is sent by that sync. When no
// fingerprint is recorded under the current key (a user the import found
// already there, an import by an earlier version, or after the secret key
// was rotated), the fingerprint is recorded and nothing is sent: the sync
// cannot tell what Clerk holds.
// A secret the source dropped cannot be taken back through the API: its
// fingerprint is updated, nothing is sent, and the row's message says so
// (once: "password removed in the source: not synced ...").
//
// # Plans
//
// With Config.PlanTo the sync writes a plan (JSON: create / update / ban /
// delete / orphan / not_ours entries with the names of the changed fields,
// never a value of a field, so no secret; an orphan names the run that made
// it ours, a user not ours why it is not) and sends nothing. With Config.ApplyPlan it
// carries out exactly that plan: it is refused before any write when it was
// made for another target, source fingerprint, mapping or metadata mode, or
// when any planned user changed in Clerk since (its updated_at differs, it
// is gone, or a user to create now exists); a row whose recomputed change
// differs from its entry fails with plan_mismatch, and changed rows the plan
// does not hold are skipped.
//
// # Incremental syncs
//
// With a Postgres source and an updated-at column, Run records the latest
// updated-at it read (Config.HighWater) in the run's Meta under
// MetaHighWater once the source is read to its end. The CLI's --since-last
// offers the mark of the newest finished sync over the same server,
// database, table or query and column, into the same target (Meta
// run.MetaSinceSource and MetaTarget), as the next run's lower bound,
// less --since-overlap (5 minutes): a row whose transaction committed after
// the snapshot of the run that set the mark, with an older updated-at, is
// re-read within that margin. Re-reading costs no call, since an unchanged
// user is left alone. Each invocation is its own run; Config.Incremental
// skips the orphan step (OrphansNotJudged) and scans Clerk incrementally
// (see "The index"); the CLI's --full makes a full sync of a --since-last
// command line.
//
// # Known limits
//
// Email addresses and phone numbers that Clerk has and the source does not
// are left in place unless PruneIdentifiers is set; fields the mapping does
// not set are not compared (Config.Managed lists those it does: for the
// text fields and metadata an empty source value clears Clerk's, when the
// source emptied it since the tool last wrote it).
package reconcile
