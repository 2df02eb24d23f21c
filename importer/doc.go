// Package importer is the room of the house that talks to Clerk. It holds
// no code of its own (the README's "How it works" draws the same map);
// its packages are, from the top down:
//
//   - The engines, siblings that never import one another:
//     importer/migrate (the one-off migration and its rollback),
//     importer/validate (the dry run: `validate` and `import --dry-run`),
//     importer/reconcile (the nightly sync).
//   - What they share below them: importer/verdict (a row's verdict, cross-
//     row duplicates included: one code path for every command) and
//     importer/runner (run identity, the ledger cursor, the Pipeline that
//     carries rows from a reader through workers to the ledger, Summary and
//     Progress).
//   - The way to Clerk: importer/clerk/gateway (the client's whole
//     interface behind retries, per-user spacing, the shared
//     importer/clerk/pacer and counting), over importer/clerk (the thin
//     client), with importer/clerk/emulator (a local Clerk) and
//     importer/clerk/spectest (requests checked against Clerk's spec).
//
// Every arrow points down: nothing imports this package, no engine imports
// another, and mapping imports nothing under importer/ (the client takes
// mapping/request's CreateUser). A package below an engine may import the
// one that names its interface (the gateway and the emulator import
// importer/clerk, whose API they implement or serve), never one above it.
package importer
