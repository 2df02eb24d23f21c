#!/usr/bin/env bash
# The README's test command as .ci/run runs it, with each package's test binary
# under /usr/bin/time (go test -exec): prints every package's wall and CPU
# seconds (user + system, with the processes the tests start), the slowest
# tests, and the whole command's wall and CPU with the load average around it.
# On a shared machine compare CPU seconds, not wall.
#
#   docs/bench/testsuite.sh            # from the repository root
set -euo pipefail
cd "$(dirname "$0")/../.."
export CI="${CI:-true}"
export CLERKMIGRATE_TEST_PG="${CLERKMIGRATE_TEST_PG:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/exec" <<WRAP
#!/usr/bin/env bash
exec /usr/bin/time -f "%e %U %S \$PWD" -a -o "$work/packages" "\$@"
WRAP
chmod +x "$work/exec"

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
status=0
/usr/bin/time -f "whole command: %e s wall, %U s user, %S s system" -o "$work/total" \
  go test -race -count=1 -timeout 20m -json -exec "$work/exec" ./... > "$work/json" || status=$?
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
cat "$work/total"

root=$(pwd)
echo
echo "package                         wall s   CPU s"
awk -v root="$root/" '{ p = $4; sub(root, "", p); w[p] += $1; c[p] += $2 + $3; t += $2 + $3 }
  END { for (p in w) printf "%-30s %7.1f %7.1f\n", p, w[p], c[p]; printf "%-30s %7s %7.1f\n", "all test binaries", "", t }' \
  "$work/packages" | sort -k3 -n -r

echo
echo "slowest tests (wall s)"
grep -o '"Action":"\(pass\|fail\)","Package":"[^"]*","Test":"[^"/]*","Elapsed":[0-9.]*' "$work/json" |
  sed 's/.*"Package":"[^"]*\/clerkmigrate\/\([^"]*\)","Test":"\([^"]*\)","Elapsed":\(.*\)/\3 \1 \2/' |
  sort -n -r | head -15 || true # head's early exit is not a failure
if grep -q '"Action":"fail"' "$work/json"; then
  echo "some tests FAILED" >&2
fi
exit "$status"
