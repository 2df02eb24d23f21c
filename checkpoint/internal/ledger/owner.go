package ledger

import (
	"context"
	"slices"

	"github.com/clerkmigrate/clerkmigrate/checkpoint"
)

// The ownership rule (checkpoint.OwningKinds) is read in two steps that
// leave a query planner no room for a bad plan, even on tables it has no
// statistics for yet (a sync right after a bulk import): the owning runs of
// the scope (a few rows: runs joined with their target), then, a page of
// unseen users at a time, the ledger rows holding those users' Clerk ids,
// through ledger_rows_clerk_id, the one index whose first column is
// clerk_id. A single correlated query let Postgres intersect that index
// with ledger_rows_outcome, reading every row of the import for each user
// (17 ms a user over a 200,000-row import).

// OwningRunsQuery is what the stores ask for the owning runs of a scope:
// (seq, id) of the runs of an owning kind whose MetaTarget is the scope.
// table names a ledger table as the store's SQL spells it; ph gives its
// placeholders in order. The arguments are OwningRunsArgs(scope).
func OwningRunsQuery(table func(string) string, ph func() string) string {
	return `SELECT x.seq, x.id FROM ` + table("runs") + ` x JOIN ` + table("run_meta") + ` m ON m.run = x.seq AND m.key = ` +
		ph() + ` WHERE m.value = ` + ph() + ` AND x.kind IN (` + list(len(checkpoint.OwningKinds), ph) + `)`
}

// OwningRunsArgs are OwningRunsQuery's arguments.
func OwningRunsArgs(scope string) []any {
	args := []any{checkpoint.MetaTarget, scope}
	for _, k := range checkpoint.OwningKinds {
		args = append(args, k)
	}
	return args
}

// OwnerRowsQuery is what the stores ask for the ledger rows that may own
// n users: (clerk_id, key, run) of the rows with an owning outcome holding
// one of n Clerk ids. hint follows the table (SQLite's INDEXED BY). The
// arguments are OwnerRowsArgs(clerkIDs).
func OwnerRowsQuery(table, hint string, ph func() string, n int) string {
	return `SELECT clerk_id, key, run FROM ` + table + ` ` + hint + ` WHERE clerk_id IN (` + list(n, ph) +
		`) AND clerk_id <> '' AND outcome IN (` + list(len(checkpoint.OwningOutcomes), ph) + `)`
}

// OwnerRowsArgs are OwnerRowsQuery's arguments.
func OwnerRowsArgs(clerkIDs []string) []any {
	args := make([]any, 0, len(clerkIDs)+len(checkpoint.OwningOutcomes))
	for _, id := range clerkIDs {
		args = append(args, id)
	}
	for _, o := range checkpoint.OwningOutcomes {
		args = append(args, string(o))
	}
	return args
}

// OwnerRow is a ledger row OwnerRowsQuery returned.
type OwnerRow struct {
	ClerkID, Key string
	Run          int64 // runs.seq
}

// OwningRuns reads OwningRunsQuery's result: seq → run id. The caller
// closes rows.
func OwningRuns(rows Rows) (map[int64]string, error) {
	runs := map[int64]string{}
	for rows.Next() {
		var seq int64
		var id string
		if err := rows.Scan(&seq, &id); err != nil {
			return nil, err
		}
		runs[seq] = id
	}
	return runs, rows.Err()
}

// OwnerRows reads OwnerRowsQuery's result. The caller closes rows.
func OwnerRows(rows Rows) ([]OwnerRow, error) {
	var out []OwnerRow
	for rows.Next() {
		var r OwnerRow
		if err := rows.Scan(&r.ClerkID, &r.Key, &r.Run); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SetOwners sets the Owner of each user of page: the first owning run (the
// lowest seq in runs, a map of seq to id) with a row of the user's Clerk id
// whose key is the user's external_id. rows come from OwnerRowsQuery over
// the page's Clerk ids.
func SetOwners(page []checkpoint.IndexedUser, runs map[int64]string, rows []OwnerRow) {
	first := map[string]int64{} // clerk_id + "\x00" + key -> lowest owning seq
	for _, r := range rows {
		if _, ok := runs[r.Run]; !ok {
			continue
		}
		k := r.ClerkID + "\x00" + r.Key
		if seq, ok := first[k]; !ok || r.Run < seq {
			first[k] = r.Run
		}
	}
	for i := range page {
		if page[i].ExternalID == "" {
			continue
		}
		if seq, ok := first[page[i].ClerkID+"\x00"+page[i].ExternalID]; ok {
			page[i].Owner = runs[seq]
		}
	}
}

// Owners is a store's ClerkIndex.Owners: the owning run of each of users
// that runs (the scope's owning runs, seq -> id) own, by Clerk id, reading
// the ledger rows of chunk users at a time with rows (OwnerRowsQuery).
func Owners(users []checkpoint.IndexedUser, chunk int, runs map[int64]string, rows func(clerkIDs []string) ([]OwnerRow, error)) (map[string]string, error) {
	out := map[string]string{}
	if len(users) == 0 || len(runs) == 0 {
		return out, nil
	}
	page := slices.Clone(users)
	for start := 0; start < len(page); start += chunk {
		part := page[start:min(len(page), start+chunk)]
		owners, err := rows(ClerkIDs(part))
		if err != nil {
			return nil, err
		}
		SetOwners(part, runs, owners)
		for _, u := range part {
			if u.Owner != "" {
				out[u.ClerkID] = u.Owner
			}
		}
	}
	return out, nil
}

// EarlierRuns lists the runs (seq -> id) before seq.
func EarlierRuns(runs map[int64]string, seq int64) []int64 {
	out := []int64{}
	for r := range runs {
		if r < seq {
			out = append(out, r)
		}
	}
	return out
}

// ClerkIDs lists the page's Clerk ids.
func ClerkIDs(page []checkpoint.IndexedUser) []string {
	ids := make([]string, len(page))
	for i, u := range page {
		ids[i] = u.ClerkID
	}
	return ids
}

// CountUnseen counts what unseen (a store's Unseen) yields, by ownership.
func CountUnseen(ctx context.Context, scope string, unseen func(context.Context, string, func(checkpoint.IndexedUser) error) error) (checkpoint.UnseenCounts, error) {
	var c checkpoint.UnseenCounts
	err := unseen(ctx, scope, func(u checkpoint.IndexedUser) error {
		if u.Owner != "" {
			c.Owned++
		} else {
			c.NotOwned++
		}
		return nil
	})
	return c, err
}

// list is n placeholders separated by commas.
func list(n int, ph func() string) string {
	s := ""
	for i := range n {
		if i > 0 {
			s += ", "
		}
		s += ph()
	}
	return s
}
