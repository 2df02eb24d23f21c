package postgres

import "strings"

// statements are the Store's SQL with the schema filled in.
type statements struct {
	runByID, insertRun, reopenRun, setMeta, meta, runs, finish, interrupt                     string
	lockRow, setContiguous, nextPositions, settle, markInFlight, progressHead, progressCounts string
	holderRow, seqByID, oldCounts, addCounts                                                  string
}

const runColumns = `seq, id, kind, source_fingerprint, mapping_fingerprint, status, started_at, updated_at`

func newStatements(schema string) statements {
	r := strings.NewReplacer("§", schema+".").Replace
	return statements{
		runByID: r(`SELECT ` + runColumns + ` FROM §runs WHERE id = $1`),
		seqByID: r(`SELECT seq FROM §runs WHERE id = $1`),
		insertRun: r(`INSERT INTO §runs (id, kind, source_fingerprint, mapping_fingerprint, status, started_at, updated_at, holder_host, holder_pid, holder_since)
			VALUES ($1, $2, $3, $4, $5, $6, $6, $7, $8, $6) RETURNING seq`),
		reopenRun: r(`UPDATE §runs SET source_fingerprint = $2, mapping_fingerprint = $3, status = $4, updated_at = $5,
			holder_host = $6, holder_pid = $7, holder_since = $5 WHERE seq = $1`),
		setMeta: r(`INSERT INTO §run_meta (run, key, value) VALUES ($1, $2, $3)
			ON CONFLICT (run, key) DO UPDATE SET value = excluded.value`),
		meta:      r(`SELECT key, value FROM §run_meta WHERE run = $1`),
		runs:      r(`SELECT ` + runColumns + ` FROM §runs ORDER BY started_at DESC, seq DESC`),
		finish:    r(`UPDATE §runs SET status = $2, updated_at = now() WHERE seq = $1`),
		interrupt: r(`UPDATE §runs SET status = $2, updated_at = now() WHERE seq = $1 AND status = $3`),
		holderRow: r(`SELECT holder_host, holder_pid, coalesce(holder_since, started_at) FROM §runs WHERE id = $1`),

		lockRow:       r(`SELECT contiguous_to FROM §runs WHERE seq = $1 FOR UPDATE`),
		setContiguous: r(`UPDATE §runs SET contiguous_to = $2, updated_at = $3 WHERE seq = $1`),
		nextPositions: r(`SELECT pos FROM §ledger_rows WHERE run = $1 AND pos > $2 ORDER BY pos LIMIT $3`),
		settle: r(`INSERT INTO §ledger_rows (run, pos, key, in_flight, outcome, clerk_id, error_code, field, message, attempts, retryable, request_hash, updated_at)
			SELECT $1, u.pos, u.key, false, u.outcome, u.clerk_id, u.error_code, u.field, u.message, u.attempts, u.retryable, u.request_hash, $2
			FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::integer[], $11::boolean[], $12::text[])
				AS u (pos, key, outcome, clerk_id, error_code, field, message, attempts, retryable, request_hash)
			ON CONFLICT (run, pos) DO UPDATE SET key = excluded.key, in_flight = excluded.in_flight, outcome = excluded.outcome,
				clerk_id = excluded.clerk_id, error_code = excluded.error_code, field = excluded.field, message = excluded.message,
				attempts = excluded.attempts, retryable = excluded.retryable, request_hash = excluded.request_hash, updated_at = excluded.updated_at`),
		markInFlight: r(`INSERT INTO §ledger_rows (run, pos, key, in_flight, outcome, clerk_id, error_code, field, message, attempts, retryable, request_hash, updated_at)
			SELECT $1, u.pos, u.key, true, '', '', '', '', '', 0, false, u.request_hash, $2
			FROM unnest($3::bigint[], $4::text[], $5::text[]) AS u (pos, key, request_hash)
			ON CONFLICT (run, pos) DO UPDATE SET key = excluded.key, in_flight = true, outcome = '', clerk_id = '', error_code = '',
				field = '', message = '', attempts = 0, retryable = false, request_hash = excluded.request_hash, updated_at = excluded.updated_at`),
		progressHead: r(`SELECT contiguous_to,
			coalesce((SELECT pos FROM §ledger_rows WHERE run = $1 AND in_flight ORDER BY pos LIMIT 1), 0)
			FROM §runs WHERE seq = $1`),
		progressCounts: r(`SELECT outcome, n FROM §run_counts WHERE run = $1 AND n <> 0`),
		oldCounts:      r(`SELECT outcome, count(*) FROM §ledger_rows WHERE run = $1 AND pos = ANY($2::bigint[]) GROUP BY outcome`),
		addCounts: r(`INSERT INTO §run_counts (run, outcome, n) SELECT $1, u.outcome, u.n FROM unnest($2::text[], $3::bigint[]) AS u (outcome, n)
			ON CONFLICT (run, outcome) DO UPDATE SET n = §run_counts.n + excluded.n`),
	}
}

// rowsQuery is the SELECT of Rows before its filters.
func (s *Store) rowsQuery() string {
	return `SELECT pos, key, in_flight, outcome, clerk_id, error_code, field, message, attempts, retryable, request_hash, updated_at
		FROM ` + s.quoted() + `.ledger_rows WHERE run = $1 AND pos >= $2`
}
