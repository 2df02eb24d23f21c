package ledger

import (
	"strings"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// OwnerSubquery is the SQL subquery, over a clerk_index row aliased u,
// that yields the id of the first run owning that user in u.scope (no row
// when none does), by the rule of checkpoint.OwningKinds. table names a
// ledger table as the store's SQL spells it; next gives the store's next
// placeholder ("?" or "$4", "$5", ...), and the arguments come back in the
// order the placeholders appear. hint follows the alias of ledger_rows
// (SQLite's "INDEXED BY ledger_rows_clerk_id").
//
// It probes ledger_rows by clerk_id: the stores keep an index on it
// (ledger_rows_clerk_id, on the rows with a Clerk id), which the term below lets
// the planner use.
func OwnerSubquery(table func(string) string, hint string, next func() string) (string, []any) {
	var args []any
	bind := func(v string) string {
		args = append(args, v)
		return next()
	}
	in := func(vs []string) string {
		ps := make([]string, len(vs))
		for i, v := range vs {
			ps[i] = bind(v)
		}
		return strings.Join(ps, ", ")
	}
	outcomes := make([]string, len(checkpoint.OwningOutcomes))
	for i, o := range checkpoint.OwningOutcomes {
		outcomes[i] = string(o)
	}
	q := `SELECT x.id FROM ` + table("ledger_rows") + ` r ` + hint + ` JOIN ` + table("runs") + ` x ON x.seq = r.run JOIN ` +
		table("run_meta") + ` m ON m.run = r.run AND m.key = ` + bind(checkpoint.MetaTarget) +
		` WHERE r.clerk_id = u.clerk_id AND r.clerk_id <> '' AND r.key = u.external_id AND m.value = u.scope` +
		` AND r.outcome IN (` + in(outcomes) + `) AND x.kind IN (` + in(checkpoint.OwningKinds) + `)` +
		` ORDER BY r.run LIMIT 1`
	return q, args
}
