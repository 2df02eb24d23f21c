#!/usr/bin/env bash
# Nightly sync figures (issue 13), measured on the CLI itself: `clerkmigrate
# sync` of a generated CSV into a separate `clerkmigrate emulator` process
# whose limit is raised (no 429), each sync under /usr/bin/time -v. Prints,
# per sync: CPU seconds (user + sys), bytes written (File system outputs x
# 512, the kernel's write_bytes of the process), peak RSS, wall, the list
# pages and the outcomes.
#
#   docs/bench/sync.sh [USERS]        (from the repository root; default 100000)
#
# Steps: import USERS users (not measured), a first sync (it records the
# secrets' fingerprints and builds the Clerk index: not measured), then
#   noop      a full sync with nothing to do
#   noop2     the same again
#   change1   a full sync with 1 % of the users changed (a last name)
#   noop3     a full sync with nothing to do after it
# and, with PRUNE=1, `clerkmigrate prune` and the ledger's size before/after.
# KEEP=1 keeps the work directory. OLD=BINARY (a clerkmigrate built from an
# earlier commit, of the same ledger schema) adds PAIRS (default 5) no-op
# syncs of OLD and of this build in turn, on the same ledger and emulator
# after the first sync, and prints the median CPU of each and the median of
# the pairs' ratios (this build / OLD).
set -euo pipefail

users=${1:-100000}
root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
go build -o "$work/clerkmigrate" "$root/cmd/clerkmigrate"
cm="$work/clerkmigrate"
key=sk_live_syncbench
export CLERK_SECRET_KEY=$key

# gen N FILE [CHANGED]: N users in the sample's columns; with CHANGED, every
# 100th user has another last name.
gen() {
	awk -v n="$1" -v changed="${3:-}" 'BEGIN {
		print "id,email,secondary_emails,email_verified,first_name,last_name,username,phone,phone_verified,password_hash,hasher,totp_secret,backup_codes,public_metadata,plan,role,created_at,is_disabled,locale"
		for (i = 1; i <= n; i++) {
			last = "Lovelace" i
			if (changed != "" && i % 100 == 7) last = "Byron" i
			printf "b%d,user%d@example.com,,true,Ada,%s,user%d,,,$2a$10$54cbf.ymtKSc4jsKFRlzae9cuuBPUuF9HdApTvElGczWqU1ST1uv6,bcrypt,,,,free,member,2020-01-02 03:04:05,0,en-US\n", i, i, last, i
		}
	}' > "$2"
}

log="$work/emulator.log"
"$cm" emulator --addr 127.0.0.1:0 --rate 1000000000 > "$log" 2>&1 &
for _ in $(seq 100); do
	url=$(sed -n 's/^clerk emulator listening on \([^ ]*\).*/\1/p' "$log")
	[ -n "$url" ] && break
	sleep 0.1
done
url=${url%/v1}
[ -n "$url" ] || { cat "$log" >&2; exit 1; }

timev() { sed -n "s/^[[:space:]]*$2: //p" "$1"; }
seconds() { awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }'; }
ledger="$work/out/ledger.db"

# measure NAME CMD...: runs CMD under /usr/bin/time -v and prints its figures.
measure() {
	local name=$1 tv="$work/time-$1.txt" out="$work/$1.log"
	shift
	local load
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	set +e
	/usr/bin/time -v -o "$tv" "$@" > "$out" 2>&1
	local code=$?
	set -e
	local user sys wall rss blocks
	user=$(timev "$tv" 'User time (seconds)')
	sys=$(timev "$tv" 'System time (seconds)')
	wall=$(timev "$tv" 'Elapsed (wall clock) time (h:mm:ss or m:ss)' | seconds)
	rss=$(timev "$tv" 'Maximum resident set size (kbytes)')
	blocks=$(timev "$tv" 'File system outputs')
	printf '%s: exit %s, load %s\n  CPU %.2f s (user %s + sys %s), written %.1f MB, peak RSS %d MB, wall %s s\n' \
		"$name" "$code" "$load" "$(echo "$user + $sys" | bc)" "$user" "$sys" "$(echo "$blocks * 512 / 1000000" | bc -l)" \
		"$((rss / 1024))" "$wall"
	grep -E '^  (calls|clerk scan|unchanged|updated|orphan|not ours)' "$out" | sed 's/^/  /' || true
	ls -l "$ledger"* 2>/dev/null | awk '{ s += $5 } END { printf "  ledger files: %.1f MB\n", s / 1e6 }'
}

gen "$users" "$work/base.csv"
gen "$users" "$work/changed.csv" 1
common=(--mapping "$root/samples/legacy_users.mapping.yaml" --target "$url/v1" --out "$work/out" --rate 1000000000 --no-progress)
echo "importing $users users (not measured)..."
"$cm" import --source "$work/base.csv" "${common[@]}" > "$work/import.log" 2>&1 || { tail "$work/import.log"; exit 1; }
measure first "$cm" sync --source "$work/base.csv" "${common[@]}"
if [ -n "${OLD:-}" ]; then
	cpu() { awk -F'[ (]+' '/^  CPU/ { print $3 }'; }
	: > "$work/pairs.txt"
	for i in $(seq "${PAIRS:-5}"); do
		a=$(measure "old$i" "$OLD" sync --source "$work/base.csv" "${common[@]}" | tee /dev/stderr | cpu)
		b=$(measure "new$i" "$cm" sync --source "$work/base.csv" "${common[@]}" | tee /dev/stderr | cpu)
		echo "$a $b" >> "$work/pairs.txt"
	done 2>&1
	sort -n -k1 "$work/pairs.txt" | awk '{ a[NR] = $1 } END { printf "OLD no-op CPU median %s s\n", a[int((NR + 1) / 2)] }'
	sort -n -k2 "$work/pairs.txt" | awk '{ b[NR] = $2 } END { printf "this build no-op CPU median %s s\n", b[int((NR + 1) / 2)] }'
	awk '{ print $2 / $1 }' "$work/pairs.txt" | sort -n | awk '{ r[NR] = $1 } END { printf "ratio (this build / OLD): median %.2f, spread %.2f-%.2f over %d pairs\n", r[int((NR + 1) / 2)], r[1], r[NR], NR }'
fi
measure noop "$cm" sync --source "$work/base.csv" "${common[@]}"
measure noop2 "$cm" sync --source "$work/base.csv" "${common[@]}"
measure change1 "$cm" sync --source "$work/changed.csv" "${common[@]}"
measure noop3 "$cm" sync --source "$work/changed.csv" "${common[@]}"
if [ -n "${PRUNE:-}" ]; then
	measure prune "$cm" prune --out "$work/out" --keep-runs 2
	echo "  ledger after VACUUM:"; sqlite3 "$ledger" 'VACUUM' 2>/dev/null && ls -l "$ledger" | awk '{ printf "  %.1f MB\n", $5 / 1e6 }' || true
fi
