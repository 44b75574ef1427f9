#!/usr/bin/env bash
# Runs every `go test -fuzz` target in the module for a short time each.
#   scripts/fuzz-all.sh [DURATION]   (default 10s)
# On a loaded machine the fuzzing engine sometimes gives up on a slow
# worker with "context deadline exceeded" and no failing input; such a run
# is repeated once. A real finding (a "Failing input" saved under
# testdata/fuzz) fails the script.
set -uo pipefail
cd "$(dirname "$0")/.."
fuzztime=${1:-10s}
status=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
while IFS= read -r line; do
	file=${line%%:*}
	name=$(sed -E 's/^.*func (Fuzz[A-Za-z0-9_]*)\(.*/\1/' <<<"$line")
	pkg=./$(dirname "$file")
	for try in 1 2; do
		echo "== $pkg $name ($fuzztime)"
		if go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "$pkg" >"$log" 2>&1; then
			tail -n 2 "$log"
			break
		fi
		cat "$log"
		if [ "$try" = 1 ] && grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input' "$log"; then
			echo "-- fuzzing engine timed out a worker (machine busy); running $name again"
			continue
		fi
		status=1
		break
	done
done < <(grep -rn --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]*\(' . | sed 's|^\./||')
exit $status
