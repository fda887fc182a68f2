#!/bin/sh
# Replay the parser regressions: each fuzz target, built as a plain program
# with tests/fuzz/standalone.c (see the Makefile), is run over its inputs in
# tests/regress/<target>/ and over its seed corpus tests/fuzz/corpus/<target>/.
# Usage: run.sh BINDIR (the folder holding the standalone fuzz_* programs).
# Prints one line per target; on a failure, the end of its output (which
# names the input being run). Exit non-zero if any target fails.
set -u
bindir=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
passed=0 failed=0 failed_names=""
for bin in "$bindir"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=$(basename "$bin")
	set --
	[ -d "$top/tests/regress/$name" ] && set -- "$@" "$top/tests/regress/$name"
	[ -d "$top/tests/fuzz/corpus/$name" ] &&
		set -- "$@" "$top/tests/fuzz/corpus/$name"
	[ $# -gt 0 ] || continue
	log=$(mktemp)
	if timeout 300 "$bin" "$@" >"$log" 2>&1; then
		echo "regress: $name: $(tail -n 1 "$log" | sed 's/^standalone: //')"
		passed=$((passed + 1))
	else
		tail -n 40 "$log"
		echo "regress: $name FAILED" >&2
		failed=$((failed + 1))
		failed_names="$failed_names $name"
	fi
	rm -f "$log"
done
echo "regress targets: $passed passed, $failed failed"
[ $((passed + failed)) -gt 0 ] || { echo "regress: no targets in $bindir" >&2; exit 1; }
[ "$failed" -eq 0 ] || { echo "failed:$failed_names" >&2; exit 1; }
