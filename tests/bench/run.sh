#!/bin/sh
# `make bench`: run every benchmark section and print its figures.
#
# Each section is a shell function run through `section NAME FUNCTION`;
# to add one (e.g. the proxy's), define its function below the others and
# append a `section` line at the end. A section fails if its tool fails
# or its figures miss their target; the script exits non-zero if any did.
#
# Environment: BUILD (default build), STORE_BENCH_ARGS (passed to
# store_bench, e.g. "-n 1000000 -l 500000" for a quick run).
set -u
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
failed=0 failed_names=""

section() {
	name=$1
	shift
	echo "== bench: $name"
	if "$@"; then
		echo "== bench: $name: ok"
	else
		echo "== bench: $name: FAILED"
		failed=$((failed + 1))
		failed_names="$failed_names $name"
	fi
}

# --- store: opt-out lookups/s vs raw LMDB, opt-out commit latency --------
# Target: >= 800,000 lookups/s on one core with 10 M opted-out numbers.
STORE_TARGET_PER_S=800000

bench_store() {
	tool="$top/$BUILD/tools/store_bench"
	[ -x "$tool" ] || { echo "bench store: $tool not built"; return 1; }
	out=$(mktemp /tmp/store-bench-out.XXXXXX) || return 1
	# One core: pin to CPU 0 when taskset is there.
	pin=""
	command -v taskset >/dev/null 2>&1 && pin="taskset -c 0"
	# shellcheck disable=SC2086
	if ! $pin "$tool" ${STORE_BENCH_ARGS:-} | tee "$out"; then
		rm -f "$out"
		return 1
	fi
	awk -v target="$STORE_TARGET_PER_S" '
	/check_per_s=/ {
		for (i = 1; i <= NF; i++) {
			split($i, kv, "=")
			f[kv[1]] = kv[2]
		}
		n = f["store.n"]
		ok = f["check_per_s"] + 0 >= target
		printf "store: %d numbers: %.2f M lookups/s; raw mdb_get " \
		    "of state keys %.2f M/s (ratio %s), of index keys " \
		    "%.2f M/s (ratio %s); target %.2f M/s: %s\n", n,
		    f["check_per_s"] / 1e6, f["raw_mdb_get_per_s"] / 1e6,
		    f["ratio"], f["raw_index_get_per_s"] / 1e6,
		    f["ratio_index"], target / 1e6, ok ? "met" : "MISSED"
		if (!ok || f["raw_hits_match"] != "yes")
			bad = 1
	}
	/commit_ms_p50=/ {
		for (i = 1; i <= NF; i++) {
			split($i, kv, "=")
			f[kv[1]] = kv[2]
		}
		printf "store: %d numbers: opt-out commit p50 %s ms, " \
		    "p99 %s ms\n", f["store.n"], f["commit_ms_p50"],
		    f["commit_ms_p99"]
	}
	END { exit bad }' "$out"
	rc=$?
	rm -f "$out"
	return $rc
}

section store bench_store
# Further sections go here, e.g.: section proxy bench_proxy
section proxy env BUILD="$BUILD" sh "$top/tests/bench/proxy.sh"
# Several nodes on PostgreSQL (G11, G12): skipped without PostgreSQL 15.
section cluster env BUILD="$BUILD" python3 "$top/tests/bench/cluster.py"

echo "bench sections: failed $failed${failed_names:+ ($failed_names )}"
[ "$failed" -eq 0 ]
