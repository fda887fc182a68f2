#!/bin/sh
# Run the suites beyond the unit tests: CLI, integration and interop.
# Each suite is an executable script under tests/<kind>/ named test_*.sh or
# test_*.py; BUILD points at the build tree to test (default build).
set -u
BUILD=${BUILD:-build}
export BUILD
top=$(cd "$(dirname "$0")/.." && pwd)
export STOPGATE_TOP="$top"
passed=0 failed=0 failed_names=""
for t in "$top"/tests/integration/test_* "$top"/tests/interop/test_*; do
	[ -f "$t" ] || continue
	case "$t" in
	*.py) cmd="python3 $t" ;;
	*.sh) cmd="sh $t" ;;
	*) continue ;;
	esac
	echo "== $(basename "$t")"
	if timeout 600 $cmd; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failed_names="$failed_names $(basename "$t")"
	fi
done
echo "integration suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || { echo "failed:$failed_names" >&2; exit 1; }
