#!/usr/bin/env bash
# Pacing figures (issue 14), measured on the CLI itself: `clerkmigrate import`
# of a generated CSV into a separate `clerkmigrate emulator` process that counts
# fixed 10 s windows per secret key and adds latency (half of it before the
# window counts a request), faults on demand. Each import runs under
# /usr/bin/time -v; the figures are ratios, which a loaded machine moves far
# less than absolute times. The load average is printed with each.
#
#   docs/bench/pacing.sh CASE [USERS]        (from the repository root)
#
#   CASE         emulator (budget, latency, faults)            the import
#   known-prod   1000/10 s, 20±10 ms                          told its key's budget (sk_live_)
#   known-dev    100/10 s, 20±10 ms                           told its key's budget (sk_test_)
#   slow         1000/10 s, 400±200 ms                        default flags
#   learn-prod   1000/10 s, 20±10 ms                          --rate 1200 (told 20 % too much)
#   learn-dev    100/10 s, 20±10 ms                           --rate 120
#   faults       1000/10 s, 20±10 ms, 5 % 5xx, 2 % lost answers, 1 % resets,
#                1 % answers 20 s late; then the same without faults
#   faults-10x   as faults at 10000/10 s
#   cpu          limit raised (no 429), no latency: CPU per row of the CLI
#
# USERS defaults to 20000 (100000 for cpu). At 100/10 s 20,000 users take
# 33 minutes: run long cases with nohup and a log.
#
# Prints, per import: achieved ÷ budget (requests the emulator accepted per
# second of the import's run, and of the whole process, over the real budget),
# the 429 share (the emulator's 429s ÷ every request it saw), the summary's
# request count against the emulator's, wall and CPU per row; for the fault
# cases the ratio of walls with and without faults.
set -euo pipefail

case_=${1:?usage: docs/bench/pacing.sh CASE [USERS]}
users=${2:-20000}
[ "$case_" = cpu ] && users=${2:-100000}

root=$(cd "$(dirname "$0")/../.." && pwd)
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; [ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
go build -o "$work/clerkmigrate" "$root/cmd/clerkmigrate"
cm="$work/clerkmigrate"

# gen N FILE: N users in the sample's columns, a real bcrypt digest each.
gen() {
	awk -v n="$1" 'BEGIN {
		print "id,email,secondary_emails,email_verified,first_name,last_name,username,phone,phone_verified,password_hash,hasher,totp_secret,backup_codes,public_metadata,plan,role,created_at,is_disabled,locale"
		for (i = 1; i <= n; i++)
			printf "b%d,user%d@example.com,,true,Ada,Lovelace%d,user%d,,,$2a$10$54cbf.ymtKSc4jsKFRlzae9cuuBPUuF9HdApTvElGczWqU1ST1uv6,bcrypt,,,,free,member,2020-01-02 03:04:05,0,en-US\n", i, i, i, i
	}' > "$2"
}

# emulator KEY FLAGS...: starts an emulator for KEY; sets $url.
emulator() {
	local key=$1
	shift
	local log="$work/emulator.$RANDOM.log"
	CLERK_SECRET_KEY=$key "$cm" emulator --addr 127.0.0.1:0 "$@" > "$log" 2>&1 &
	emu_pid=$!
	for _ in $(seq 100); do
		url=$(sed -n 's/^clerk emulator listening on \([^ ]*\).*/\1/p' "$log")
		url=${url%/v1}
		[ -n "$url" ] && return
		sleep 0.1
	done
	echo "emulator did not start:" >&2
	cat "$log" >&2
	exit 1
}

stop_emulator() { kill "$emu_pid"; wait "$emu_pid" 2>/dev/null || true; }

# timev FILE KEY: the value of a /usr/bin/time -v line.
timev() { sed -n "s/^[[:space:]]*$2: //p" "$1"; }

# seconds H:MM:SS.ss or M:SS.ss → seconds
seconds() { awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }'; }

# run NAME BUDGET KEY [IMPORT FLAGS...]: imports $csv into $url, prints the
# figures; sets $wall (the process's wall time in seconds).
run() {
	local name=$1 budget=$2 key=$3
	shift 3
	local out="$work/out-$name" tv="$work/time-$name.txt"
	local load
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	set +e
	CLERK_SECRET_KEY=$key /usr/bin/time -v -o "$tv" "$cm" import --source "$csv" \
		--mapping "$root/samples/legacy_users.mapping.yaml" --target "$url/v1" --out "$out" "$@" > "$work/import-$name.log" 2>&1
	local code=$?
	set -e
	local stats summary
	stats=$(curl -sf -H "Authorization: Bearer $key" "$url/__emulator/stats")
	summary=$(ls "$out"/*/summary.json)
	wall=$(timev "$tv" 'Elapsed (wall clock) time (h:mm:ss or m:ss)' | seconds)
	local user sys run_s
	user=$(timev "$tv" 'User time (seconds)')
	sys=$(timev "$tv" 'System time (seconds)')
	run_s=$(jq '.timing.duration_seconds' "$summary")
	jq -n --arg name "$name" --arg load "$load" --argjson code "$code" --argjson budget "$budget" \
		--argjson wall "$wall" --argjson run "$run_s" --argjson user "$user" --argjson sys "$sys" \
		--argjson rows "$users" --argjson emu "$stats" --slurpfile sum "$summary" -r '
		($emu.total - $emu.rate_limited) as $accepted |
		($budget / 10) as $perSec |
		"\($name): exit \($code), load \($load)\n" +
		"  achieved ÷ budget: \($accepted / $run / $perSec * 10000 | round / 10000) over the run, " +
		"\($accepted / $wall / $perSec * 10000 | round / 10000) over the whole process (\($accepted) accepted in \($run) s / \($wall) s)\n" +
		"  429 share: \($emu.rate_limited / $emu.total * 100000 | round / 100000) (\($emu.rate_limited) of \($emu.total)); fullest window \($emu.peak_window) of \($budget)\n" +
		"  requests: summary \($sum[0].throughput.requests), emulator \($emu.total); retries \($sum[0].throughput.retries), 429s \($sum[0].throughput.rate_limited_429)\n" +
		"  rows: \($sum[0].counts_by_outcome | to_entries | map(select(.value > 0) | "\(.key) \(.value)") | join(", "))\n" +
		"  CPU: \(($user + $sys) / $rows * 1e6 | round) µs per row (user \($user) s + sys \($sys) s), wall \($wall) s"'
	grep -i "max-in-flight\|stopped\|error" "$work/import-$name.log" | head -5 || true
}

csv="$work/users.csv"
gen "$users" "$csv"
live=sk_live_pacingbench
test=sk_test_pacingbench
lat=(--latency 10ms --jitter 20ms) # 20±10 ms
mix=(--fault-seed 7 --fault-5xx 0.05 --fault-lost 0.02 --fault-reset 0.01 --fault-slow 0.01 --fault-slow-delay 20s)

case $case_ in
known-prod) emulator $live "${lat[@]}"; run "$case_" 1000 $live; stop_emulator ;;
known-dev) emulator $test "${lat[@]}"; run "$case_" 100 $test; stop_emulator ;;
slow) emulator $live --latency 200ms --jitter 400ms; run "$case_" 1000 $live; stop_emulator ;;
learn-prod) emulator $live "${lat[@]}"; run "$case_" 1000 $live --rate 1200; stop_emulator ;;
learn-dev) emulator $test "${lat[@]}"; run "$case_" 100 $test --rate 120; stop_emulator ;;
faults | faults-10x)
	budget=1000
	[ "$case_" = faults-10x ] && budget=10000
	emulator $live --rate $budget "${lat[@]}"
	run "$case_-clean" $budget $live --rate $budget
	clean=$wall
	stop_emulator
	emulator $live --rate $budget "${lat[@]}" "${mix[@]}"
	run "$case_-faulty" $budget $live --rate $budget
	stop_emulator
	echo "$case_: wall with faults ÷ wall without: $(awk -v a="$wall" -v b="$clean" 'BEGIN { printf "%.3f", a / b }') ($wall s / $clean s)"
	;;
cpu) emulator $live --rate 1000000000; run "$case_" 1000000000 $live --rate 1000000000; stop_emulator ;;
*) echo "unknown case $case_" >&2; exit 2 ;;
esac
