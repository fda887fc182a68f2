#!/bin/sh
# Run every cmocka unit test binary given; print one closing summary line.
# Exit non-zero if any suite failed.
passed=0 failed=0 failed_names=""
for t in "$@"; do
	if timeout 120 "$t"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failed_names="$failed_names $t"
	fi
done
echo "unit suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ] || { echo "failed:$failed_names" >&2; exit 1; }
