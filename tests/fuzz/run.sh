#!/bin/sh
# Smoke-run every libFuzzer target for N seconds on a scratch copy of its
# seed corpus (tests/fuzz/corpus/<target>/). Usage: run.sh BUILD/fuzz SECONDS
set -eu
dir=$1 secs=$2
top=$(cd "$(dirname "$0")/../.." && pwd)
status=0 n=0
for f in "$dir"/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	work=$(mktemp -d)
	[ -d "$top/tests/fuzz/corpus/$name" ] &&
		cp -r "$top/tests/fuzz/corpus/$name/." "$work/"
	echo "== $name ($secs s)"
	if ! (cd "$work" && "$f" -max_total_time="$secs" -print_final_stats=1 \
	    -max_len=70000 "$work" 2>&1 | tail -n 12); then
		status=1
	fi
	if ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* >/dev/null 2>&1 ||
	    ls crash-* >/dev/null 2>&1; then
		echo "fuzz: $name found a crash" >&2
		status=1
	fi
	rm -rf "$work"
	n=$((n + 1))
done
echo "fuzz targets: $n run"
exit $status
