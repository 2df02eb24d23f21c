#!/usr/bin/env bash
# `clerkmigrate validate` end to end on a generated 1,000,000-row CSV (every
# report file included), measured on the CLI process with /usr/bin/time -v,
# beside a bare encoding/csv read of the same file (samples/csvread) and,
# optionally, another build of the CLI: the commands run in turn (NEW, csvread,
# [OLD], NEW, ...), so that the ratios of each round compare runs taken at the
# same moment of a shared machine. Prints each run, then medians of the
# figures and of the per-round ratios, and the load average before and after.
#
#   docs/bench/validate1m.sh [-n ROUNDS] [-r ROWS] [OLD_REV]   (from the repository root)
#
# OLD_REV (a commit) is built in a temporary worktree and run as OLD.
# Defaults: 7 rounds, 1,000,000 rows. Work files go to ${BENCH_DIR:-/tmp/validate1m}.
# The validate runs exit 1: the generated file has rows with problems.
set -euo pipefail

rounds=7 rows=1000000
while getopts n:r: o; do
	case $o in
	n) rounds=$OPTARG ;;
	r) rows=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
old_rev=${1:-}
dir=${BENCH_DIR:-/tmp/validate1m}
mkdir -p "$dir"

if [ ! -s "$dir/data/synth.csv" ] || [ "$(cat "$dir/data/rows" 2>/dev/null)" != "$rows" ]; then
	go run ./samples/gen -rows "$rows" -out "$dir/data"
	echo "$rows" >"$dir/data/rows"
fi
go build -o "$dir/new" ./cmd/clerkmigrate
go build -o "$dir/csvread" ./samples/csvread
cmds=(new csvread)
if [ -n "$old_rev" ]; then
	rm -rf "$dir/oldsrc"
	git worktree add --detach "$dir/oldsrc" "$old_rev" >/dev/null
	(cd "$dir/oldsrc" && go build -o "$dir/old" ./cmd/clerkmigrate)
	git worktree remove --force "$dir/oldsrc"
	cmds+=(old)
fi

# one NAME: runs it once under /usr/bin/time, prints "NAME wall cpu maxrss_MiB".
one() {
	local name=$1 tf=$dir/time.txt
	case $name in
	csvread) /usr/bin/time -v -o "$tf" "$dir/csvread" "$dir/data/synth.csv" >/dev/null ;;
	*)
		rm -rf "$dir/out-$name"
		/usr/bin/time -v -o "$tf" "$dir/$name" validate --no-progress --source "$dir/data/synth.csv" \
			--mapping "$dir/data/synth.mapping.yaml" --out "$dir/out-$name" >/dev/null 2>&1 || true
		;;
	esac
	awk -v n="$name" -F': ' '
		/Elapsed \(wall clock\)/ { k = split($2, t, ":"); w = (k == 3) ? t[1]*3600 + t[2]*60 + t[3] : t[1]*60 + t[2] }
		/User time/ { u = $2 } /System time/ { s = $2 } /Maximum resident/ { m = $2 / 1024 }
		END { printf "%s %.2f %.2f %.1f\n", n, w, u + s, m }' "$tf"
}

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
one new >/dev/null # warm-up: page cache, binary
for ((i = 1; i <= rounds; i++)); do
	for c in "${cmds[@]}"; do one "$c"; done
done | tee "$dir/runs.txt"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"

# medians of each command's figures, and of the per-round ratios new/csvread and new/old.
awk -v rows="$rows" '
	function max(x) { return x > 0.01 ? x : 0.01 }
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j > 0 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t }
		return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
	}
	{ k[$1]++; w[$1, k[$1]] = $2; c[$1, k[$1]] = $3; m[$1, k[$1]] = $4 }
	END {
		for (name in k) {
			n = k[name]
			for (i = 1; i <= n; i++) { a[i] = w[name, i]; b[i] = c[name, i]; d[i] = m[name, i] }
			mw = median(a, n); mc = median(b, n); md = median(d, n)
			printf "%-8s median wall %.2f s, cpu %.2f s, peak %.1f MiB", name, mw, mc, md
			if (name != "csvread") printf ", %.0f rows/s at the median wall", rows / mw
			printf "\n"
		}
		for (i = 1; i <= k["new"]; i++) { rw[i] = w["new", i] / max(w["csvread", i]); rc[i] = c["new", i] / max(c["csvread", i]) }
		printf "new/csvread: wall %.2fx, cpu %.2fx (medians of %d rounds)\n", median(rw, k["new"]), median(rc, k["new"]), k["new"]
		if (k["old"]) {
			for (i = 1; i <= k["new"]; i++) { rw[i] = w["new", i] / max(w["old", i]); rc[i] = c["new", i] / max(c["old", i]) }
			printf "new/old: wall %.3f, cpu %.3f (medians of %d rounds)\n", median(rw, k["new"]), median(rc, k["new"]), k["new"]
		}
	}' "$dir/runs.txt"
