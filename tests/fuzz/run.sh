#!/bin/sh
# Smoke-run every libFuzzer target for N seconds on a scratch copy of its
# seed corpus (tests/fuzz/corpus/<target>/) and its regressions
# (tests/regress/<target>/). Usage: run.sh BUILD/fuzz SECONDS
# Exit non-zero if a target fails to run or finds anything.
set -eu
dir=$(cd "$1" && pwd)
secs=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
status=0 n=0
for f in "$dir"/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	work=$(mktemp -d)
	mkdir "$work/corpus"
	[ -d "$top/tests/fuzz/corpus/$name" ] &&
		cp -r "$top/tests/fuzz/corpus/$name/." "$work/corpus/"
	# The regressions seed the run too: mutations near a past crash.
	[ -d "$top/tests/regress/$name" ] &&
		cp -r "$top/tests/regress/$name/." "$work/corpus/"
	echo "== $name ($secs s)"
	rc=0
	(cd "$work" && "$f" -max_total_time="$secs" -print_final_stats=1 \
	    -max_len=70000 corpus >"$work/log" 2>&1) || rc=$?
	grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|#[0-9]+ +DONE)' \
	    "$work/log" || true
	if [ "$rc" -ne 0 ] || ls "$work"/crash-* "$work"/leak-* \
	    "$work"/timeout-* "$work"/oom-* >/dev/null 2>&1; then
		tail -n 40 "$work/log"
		echo "fuzz: $name failed (exit $rc); reproducers:" >&2
		ls "$work" >&2
		status=1
	else
		rm -rf "$work"
	fi
	n=$((n + 1))
done
echo "fuzz targets: $n run"
[ "$n" -gt 0 ] || { echo "fuzz: no targets built" >&2; exit 1; }
exit $status
