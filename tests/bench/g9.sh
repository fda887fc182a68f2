# shellcheck shell=sh disable=SC2154,SC2034
# (proxy.sh assigns and reads the variables named there.)
# tests/bench/g9.sh: G9, what stalls stopgate's event loop (see
# tests/bench/README.md). Sourced by tests/bench/proxy.sh, whose helpers
# (free_port, wait_port, start_stopgate, stop_pid, write_config) and
# variables (tmp, tools, stopgate, top, pids, BASE, ONE_IN, N1, WARM,
# SINK_PORT, CTL_PORT, failures) it uses.
#
# A load of 4 sessions x window 1 runs against a stopgate on a copy of the
# 1 M store as filled, first alone (the baseline), then while, in turn:
#   a  STOPs arrive open loop through the sink's control port;
#   b  admin opt-outs cross the numbers hash's rebuild threshold (its own
#      stopgate and store, sized so the threshold is at BENCH_G9B_N);
#   c  `stopgate import` of a large CSV runs on the same store;
#   d  two admin clients loop GET /v1/audit?account=few over a store of
#      BENCH_G9D_AUDIT audit records, few of them for that account.
# Each run appends "g9 CASE <loadgen line> extra=..." to $tmp/g9results,
# which the summary reads.
#
# Environment (defaults in brackets):
#   BENCH_G9 [a,b,c,d]        cases to run; 0 or empty: none
#   BENCH_G9_SECS [5]         baseline window; (d) queries this long
#   BENCH_G9_STOPS [500]      STOPs in (a) ...
#   BENCH_G9_STOP_SECS [5]    ... pushed over this many seconds
#   BENCH_G9B_N [10000000]    numbers at which (b)'s rebuild happens
#   BENCH_G9C_ROWS [1000000]  rows of (c)'s import
#   BENCH_G9D_AUDIT [1000000] audit records before (d)
#   BENCH_G9_RATE [0]         cap on the load's msg/s (loadgen -R); 0: none
#   BENCH_G9_SETTLE [120]     at most this many seconds waiting, before
#                             each case, for the store writer to be idle
G9=$(echo "${BENCH_G9-a,b,c,d}" | tr ',' ' ')
[ "$G9" = 0 ] && G9=""
G9_SECS=${BENCH_G9_SECS:-5}
G9_STOPS=${BENCH_G9_STOPS:-500}
G9_STOP_SECS=${BENCH_G9_STOP_SECS:-5}
G9B_N=${BENCH_G9B_N:-10000000}
G9C_ROWS=${BENCH_G9C_ROWS:-1000000}
G9D_AUDIT=${BENCH_G9D_AUDIT:-1000000}
G9_RATE=${BENCH_G9_RATE:-0}
G9_SETTLE_MAX=${BENCH_G9_SETTLE:-120}
# Seconds of load before each disturbance starts and after it ends.
G9_LEAD=0.5
G9_TAIL=2
# (b): opt-outs posted before the crossing one, and after it.
G9B_SPARE=20
T_G9_MS=50
# The import's rows (c), (b)'s top-up and its posted opt-outs: new numbers,
# apart from the store's (BASE...), G8's (13...) and G9a's STOPs.
G9A_STOP_BASE=13800000000
G9C_BASE=14000000000
G9B_TOPUP_BASE=14000000000
G9B_POST_BASE=15000000000
G9_TOKEN=bench
: >"$tmp/g9results"

g9_has() {
	case " $G9 " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# g9_record CASE LINE EXTRA: one result; a loadgen error counts as a failure.
g9_record() {
	[ -n "$2" ] || set -- "$1" "loadgen label=g9$1 errors=1" "$3"
	echo "g9 $1 $2 $3" >>"$tmp/g9results"
	case " $2 " in
	*" errors=0 "*) ;;
	*)
		failures=$((failures + 1))
		echo "G9$1: loadgen failed: $(head -3 "$tmp/g9.$1.err")"
		;;
	esac
	echo "$2" | awk -v c="$1" -v x="$3" '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		printf "g9 %-4s %8.0f msg/s  p99 %8.1f us  max %10.1f us  " \
		    "errors %s  %s\n", c, f["msg_per_s"], f["p99_us"], f["max_us"],
		    f["errors"], x }'
}

# g9_args CASE PORT RANGE: G9_ARGS, the load's options (no spaces inside).
g9_args() {
	G9_ARGS="-p $2 -u bench -P benchpw -n 4 -w 1 -W $WARM -b $BASE -r $3"
	G9_ARGS="$G9_ARGS -m $ONE_IN -l g9$1"
	[ "$G9_RATE" = 0 ] || G9_ARGS="$G9_ARGS -R $G9_RATE"
}

# g9_loadgen CASE PORT RANGE ARGS...: the G9 load, in the foreground.
g9_loadgen() {
	g9_args "$1" "$2" "$3"
	c=$1
	shift 3
	# shellcheck disable=SC2086
	"$tools/loadgen" $G9_ARGS "$@" 2>"$tmp/g9.$c.err"
}

# g9_failed CASE: a case that could not be set up (its failure is counted
# where it happened): n/a in the summary.
g9_failed() {
	echo "g9 $1 loadgen label=g9$1 errors=1" >>"$tmp/g9results"
}

# g9_settle: until the store writer of the G9 stopgate is idle (what
# the cases before left it to do: merging the sent log, indexing audit
# records), so that each case starts from the same state. G9_SETTLE: the
# seconds it took, or "not" after BENCH_G9_SETTLE seconds.
g9_settle() {
	G9_SETTLE=$(python3 "$top/tests/bench/admin_load.py" settle "$G9_ADMIN" \
	    "$G9_TOKEN" "$G9_SETTLE_MAX" | sed -n 's/^settled_s=\([0-9.]*\)$/\1/p')
	[ -n "$G9_SETTLE" ] || G9_SETTLE=not
}

# g9_start CASE PORT RANGE: the load in the background, measuring until
# g9_end; returns once its measured window has started.
g9_start() {
	rm -f "$tmp/g9.ann"
	g9_args "$1" "$2" "$3"
	# Not through a function: $! must be loadgen's pid, for SIGUSR1.
	# shellcheck disable=SC2086
	"$tools/loadgen" $G9_ARGS -d 36000 -A "$tmp/g9.ann" \
	    >"$tmp/g9.$1.out" 2>"$tmp/g9.$1.err" &
	G9_LG=$!
	pids="$pids $G9_LG"
	i=0
	while [ ! -e "$tmp/g9.ann" ] && kill -0 "$G9_LG" 2>/dev/null &&
	    [ $i -lt 600 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep "$G9_LEAD"
}

# g9_end CASE EXTRA: end the window (SIGUSR1) after the tail; record it.
g9_end() {
	sleep "$G9_TAIL"
	kill -USR1 "$G9_LG" 2>/dev/null
	wait "$G9_LG" 2>/dev/null
	rest=""
	for p in $pids; do
		[ "$p" = "$G9_LG" ] || rest="$rest $p"
	done
	pids=$rest
	g9_record "$1" "$(cat "$tmp/g9.$1.out")" "$2"
}

# g9_secs_since T0: seconds since T0 (date +%s.%N).
g9_secs_since() {
	awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }'
}

# g9_start_sg NAME STORE_DIR: a stopgate with the admin API and a second
# account ("few"); sets G9_PORT, G9_ADMIN, G9_PID.
g9_start_sg() {
	G9_PORT=$(free_port)
	SG_ADMIN_PORT=$(free_port)
	G9_ADMIN=$SG_ADMIN_PORT
	SG_EXTRA_ACCOUNT=few
	start_stopgate "$1" "$G9_PORT" "$2" || { SG_ADMIN_PORT=""; \
	    SG_EXTRA_ACCOUNT=""; return 1; }
	SG_ADMIN_PORT="" SG_EXTRA_ACCOUNT=""
	G9_PID=$SG_PID
}

# (a) STOPs open loop: G9_STOPS over G9_STOP_SECS, the window the tail more.
g9_case_a() {
	g9_settle
	line=$(g9_loadgen a "$G9_PORT" $((N1 * ONE_IN)) -B -c "$CTL_PORT" \
	    -T sg9 -O -K "$G9_STOPS" -f "$G9A_STOP_BASE" \
	    -s "$(awk -v n="$G9_STOPS" -v s="$G9_STOP_SECS" \
	    'BEGIN { print n / s }')" \
	    -d "$(awk -v s="$G9_STOP_SECS" -v t="$G9_TAIL" \
	    'BEGIN { print s + t }')" -C "$G9_PID")
	g9_record a "$line" "stop_secs=$G9_STOP_SECS settle_s=$G9_SETTLE"
}

# (c) `stopgate import` of G9C_ROWS new numbers into the running store.
g9_case_c() {
	{ echo number; seq "$G9C_BASE" $((G9C_BASE + G9C_ROWS - 1)); } \
	    >"$tmp/g9c.csv"
	g9_settle
	g9_start c "$G9_PORT" $((N1 * ONE_IN))
	t0=$(date +%s.%N)
	"$stopgate" import -c "$tmp/sg9.yaml" "$tmp/g9c.csv" \
	    >"$tmp/g9c.import.log" 2>&1
	irc=$?
	secs=$(g9_secs_since "$t0")
	[ $irc -eq 0 ] || { failures=$((failures + 1)); \
	    echo "G9c: import failed: $(head -3 "$tmp/g9c.import.log")"; }
	extra="import_rows=$G9C_ROWS import_s=$secs import_rc=$irc"
	g9_end c "$extra settle_s=$G9_SETTLE"
	rm -f "$tmp/g9c.csv"
}

# (d) Audit queries over G9D_AUDIT records, most of them another
# account's: the reject run's way (every destination opted out, each
# refused send audited), then 10 from "few"; wait until all are indexed.
g9_case_d() {
	"$tools/loadgen" -p "$G9_PORT" -u bench -P benchpw -n 4 -w 64 \
	    -N "$G9D_AUDIT" -o rej -b "$BASE" -r $((N1 * ONE_IN)) -m "$ONE_IN" \
	    -l g9dfill >"$tmp/g9dfill.out" 2>&1 &&
	"$tools/loadgen" -p "$G9_PORT" -u few -P fewpw -n 1 -w 1 -N 10 \
	    -o rej -b "$BASE" -r $((N1 * ONE_IN)) -m "$ONE_IN" \
	    -l g9dfew >>"$tmp/g9dfill.out" 2>&1 &&
	python3 "$top/tests/bench/admin_load.py" wait "$G9_ADMIN" "$G9_TOKEN" \
	    stopgate_audit_indexed_total $((G9D_AUDIT + 10)) 900 ||
	    { failures=$((failures + 1)); \
	    echo "G9d: making the audit records failed: $(tail -3 \
	    "$tmp/g9dfill.out")"; g9_failed d; return; }
	g9_settle
	g9_start d "$G9_PORT" $((N1 * ONE_IN))
	for k in 1 2; do
		python3 "$top/tests/bench/admin_load.py" audit "$G9_ADMIN" \
		    "$G9_TOKEN" few "$G9_SECS" >"$tmp/g9d.q$k" 2>&1 &
		eval "q$k=\$!"
	done
	# shellcheck disable=SC2154
	wait "$q1"; qrc1=$?
	# shellcheck disable=SC2154
	wait "$q2"; qrc2=$?
	[ $qrc1 -eq 0 ] && [ $qrc2 -eq 0 ] || { failures=$((failures + 1)); \
	    echo "G9d: audit queries failed: $(cat "$tmp/g9d.q1" \
	    "$tmp/g9d.q2" | head -3)"; }
	extra=$(cat "$tmp/g9d.q1" "$tmp/g9d.q2" | awk '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		n += f["requests"]; e += f["errors"]
		if (f["max_ms"] > mx) mx = f["max_ms"]
		if (f["p50_ms"] > p) p = f["p50_ms"] }
	    END { printf "queries=%d query_errors=%d query_p50_ms=%.1f " \
		"query_max_ms=%.1f", n, e, p, mx }')
	g9_end d "audit_records=$G9D_AUDIT $extra settle_s=$G9_SETTLE"
}

# (b) A store sized so that the numbers hash's rebuild comes at about
# G9B_N numbers: store_fill puts F numbers and sizes the hash for them
# (F * 8/5 slots, rounded to whole 16 KB chunks of 512); it is rebuilt
# by the add that would fill it past 4/5, so F = G9B_N * 25/32. The
# Bloom filter, sized for 2 F, is not crossed. Imports (at most 1 M rows
# each: the CLI's limit) top it up to G9B_SPARE adds short of the
# threshold before stopgate starts; then, in the window, admin opt-outs
# one at a time: number G9B_SPARE + 1 is the one that rebuilds.
g9_case_b() {
	# shellcheck disable=SC2046
	set -- $(awk -v n="$G9B_N" 'BEGIN {
		f = int(n * 25 / 32); slots = 512
		nch = int((int(f / 5) * 8 + slots) / slots)
		cmax = int(nch * slots * 4 / 5)
		printf "%d %d\n", f, cmax }')
	fill=$1 cmax=$2
	topup=$((cmax - fill - G9B_SPARE))
	dir=$tmp/store-g9b
	"$tools/store_fill" -d "$dir" -n "$fill" -m "$ONE_IN" -b "$BASE" ||
	    { failures=$((failures + 1)); g9_failed b; return; }
	# The CLI's config; start_stopgate writes it again, with the admin API.
	write_config "$tmp/sg9b.yaml" 1 "$dir" sg9b
	t0=$(date +%s.%N)
	done_rows=0
	while [ "$done_rows" -lt "$topup" ]; do
		n=$((topup - done_rows))
		[ "$n" -le 1000000 ] || n=1000000
		first=$((G9B_TOPUP_BASE + done_rows))
		{ echo number; seq "$first" $((first + n - 1)); } \
		    >"$tmp/g9b.csv"
		"$stopgate" import -c "$tmp/sg9b.yaml" "$tmp/g9b.csv" \
		    >>"$tmp/g9b.import.log" 2>&1 ||
		    { failures=$((failures + 1)); echo "G9b: top-up import" \
		    "failed: $(tail -3 "$tmp/g9b.import.log")"; g9_failed b; \
		    return; }
		done_rows=$((done_rows + n))
	done
	rm -f "$tmp/g9b.csv"
	echo "g9 b: store of $fill numbers topped up by $topup in" \
	    "$(g9_secs_since "$t0") s; the hash rebuilds at $((cmax + 1))"
	g9_start_sg sg9b "$dir" ||
	    { failures=$((failures + 1)); g9_failed b; return; }
	g9_settle
	g9_start b "$G9_PORT" $((fill * ONE_IN))
	python3 "$top/tests/bench/admin_load.py" optouts "$G9_ADMIN" \
	    "$G9_TOKEN" "$G9B_POST_BASE" $((2 * G9B_SPARE)) >"$tmp/g9b.post" \
	    2>&1 || { failures=$((failures + 1)); \
	    echo "G9b: admin opt-outs failed: $(head -3 "$tmp/g9b.post")"; }
	extra=$(awk -v n=$((cmax + 1)) -v at=$((G9B_SPARE + 1)) '{
		for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		printf "rebuild_at=%d posts=%d post_p50_ms=%.1f post_max_ms=%.1f " \
		    "slowest_post=%d crossing_post=%d", n, f["requests"],
		    f["p50_ms"], f["max_ms"], f["slowest"], at }' "$tmp/g9b.post")
	g9_end b "$extra settle_s=$G9_SETTLE"
	stop_pid "$G9_PID"
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$dir"
}

# g9_run: every case asked for, on stopgates of their own; nothing else
# of the bench runs meanwhile.
g9_run() {
	[ -n "$G9" ] || return 0
	echo "g9: cases $G9: max submit round trip at 4 x 1 while something" \
	    "else happens (target <= $T_G9_MS ms)"
	cp -r "$tmp/store-fresh" "$tmp/store-g9" || return 1
	g9_start_sg sg9 "$tmp/store-g9" ||
	    { failures=$((failures + 1)); return 1; }
	g9_settle
	g9_record base "$(g9_loadgen base "$G9_PORT" $((N1 * ONE_IN)) \
	    -d "$G9_SECS" -C "$G9_PID")" "settle_s=$G9_SETTLE"
	! g9_has a || g9_case_a
	! g9_has c || g9_case_c
	! g9_has d || g9_case_d
	stop_pid "$G9_PID"
	[ -n "${BENCH_KEEP:-}" ] || rm -rf "$tmp/store-g9"
	! g9_has b || g9_case_b
	return 0
}
