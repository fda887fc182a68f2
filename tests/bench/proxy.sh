#!/bin/sh
# tests/bench/proxy.sh: the proxy benchmark (see tests/bench/README.md).
#
# Starts, on 127.0.0.1 and free ports, one SMSC sink (smsc_sim -S), one
# HAProxy (TCP mode, one thread, tests/bench/haproxy.cfg.in) in front of it,
# and two stopgates in front of it, one on a store of 1 M opted-out numbers
# and one on 10 M. Then runs ROUNDS interleaved rounds of loadgen, rotating
# the order of the tests each round, and prints every figure, the ratios
# G1..G8 and G10 (medians of the per-round ratios), stopgate's peak RSS, its RSS
# with 1,000 idle bound sessions, G9 (the longest submit round trip while
# STOPs, a rebuild, an import or admin queries happen: tests/bench/g9.sh)
# and callgrind's instructions per forwarded submit_sm with the top
# functions. Every process it starts is stopped by pid on exit.
#
# Exit status: 0 when every run had no error and every target is met;
# 1 otherwise; missed targets only fail with BENCH_TARGETS=fail.
#
# Environment (defaults in brackets):
#   BUILD [build]            where the binaries are
#   BENCH_ROUNDS [5]         rounds (at least 5 for the figures to count;
#                            0 runs none, nor the 10 M store: for G9 alone)
#   BENCH_SECONDS [3]        measured seconds per test
#   BENCH_WARMUP [1]         unmeasured seconds before each test
#   BENCH_N1 [1000000]       numbers in the first store
#   BENCH_N10 [10000000]     numbers in the second store (G5)
#   BENCH_IDLE [1000]        idle bound sessions for the RSS figure (0:
#                            skip)
#   BENCH_CALLGRIND [1]      0 skips the callgrind count
#   BENCH_CG_MSGS ["2000 12000"]  the two message counts under callgrind
#   BENCH_STOPS_PER_S [20]   STOP MOs per second during G8
#   BENCH_TESTS ["d64 h64 s64 t64 d1 h1 s1 rej f64"]  tests per round (g8
#                            always runs last; a subset is for development)
#   BENCH_G9 [a,b,c,d]       G9 cases (0: none); BENCH_G9_* knobs: g9.sh
#   BENCH_TARGETS [warn]     fail: a missed target fails the section too
#   BENCH_KEEP               set: keep the temporary directory
#   BENCH_PIN                RELAY:GEN:SINK cpu lists, e.g. 0:0:1: every
#                            test runs pinned there (taskset), to see what
#                            placement does; figures so made are not the
#                            bench's (the bench README, "Noise")
set -u
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
tools=$top/$BUILD/tools
stopgate=$top/$BUILD/stopgate
ROUNDS=${BENCH_ROUNDS:-5}
SECS=${BENCH_SECONDS:-3}
WARM=${BENCH_WARMUP:-1}
N1=${BENCH_N1:-1000000}
N10=${BENCH_N10:-10000000}
IDLE=${BENCH_IDLE:-1000}
CALLGRIND=${BENCH_CALLGRIND:-1}
CG_MSGS=${BENCH_CG_MSGS:-"2000 12000"}
STOPS_PER_S=${BENCH_STOPS_PER_S:-20}
TARGETS=${BENCH_TARGETS:-warn}
ONE_IN=100
BASE=12000000000
# Reference targets (2 cores shared by generator, relay and sink).
T_G1=0.25 T_G2=5 T_G3=0.9 T_G4=1.3 T_G5=0.9 T_G6=1.0 T_G8_MS=5
# G10: s64 with a promo frequency cap on every destination ÷ s64 without.
T_G10=0.9
T_G8_MAX_MS=20
T_RSS_MIB=64
# Allocations per forwarded message: per batch at most, never per PDU.
T_ALLOC=0.1

for b in "$stopgate" "$tools/loadgen" "$tools/smsc_sim" "$tools/store_fill"
do
	[ -x "$b" ] || { echo "bench proxy: $b not built"; exit 1; }
done
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
[ -x "$HAPROXY" ] || { echo "bench proxy: haproxy not installed"; exit 1; }

tmp=$(mktemp -d /tmp/stopgate-bench.XXXXXX) || exit 1
pids=""

cleanup() {
	for p in $pids; do
		kill -CONT "$p" 2>/dev/null
		kill "$p" 2>/dev/null
	done
	for p in $pids; do
		wait "$p" 2>/dev/null
	done
	pids=""
	if [ -n "${BENCH_KEEP:-}" ]; then
		echo "bench proxy: kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Stop one process we started, by pid, and forget it.
stop_pid() {
	kill -CONT "$1" 2>/dev/null
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	rest=""
	for p in $pids; do
		[ "$p" = "$1" ] || rest="$rest $p"
	done
	pids=$rest
}

free_port() {
	python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# wait_port PORT SECONDS: until something accepts on 127.0.0.1:PORT.
wait_port() {
	python3 -c 'import socket, sys, time
end = time.time() + float(sys.argv[2])
while time.time() < end:
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.05)
sys.exit(1)' "$1" "$2"
}

# status_kib PID FIELD: a /proc/PID/status figure in KiB.
status_kib() {
	awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status" 2>/dev/null
}

# write_config FILE PORT STORE_DIR UPSTREAM_SYSTEM_ID
write_config() {
	cat >"$1" <<EOF
# Written by tests/bench/proxy.sh.
business_name: Bench
default_country_code: "1"
store:
  path: $3
  map_mb: 4096
listeners:
  - bind: 127.0.0.1:$2
categories:
  - promo
accounts:
  - system_id: bench
    password: benchpw
    default_category: promo
    categories: [promo]
    max_window: 256
upstreams:
  - name: sink
    host: 127.0.0.1
    port: $SINK_PORT
    system_id: $4
    password: sink
    bind: transceiver
    sessions: 2
    window: 256
inbound:
  - number: "12345"
    account: bench
    stop_scope: [promo]
limits:
  upstream_queue_max: 100000
EOF
	if [ -n "${SG_ADMIN_PORT:-}" ]; then
		printf 'admin:\n  bind: 127.0.0.1:%s\n  token: bench\n' \
		    "$SG_ADMIN_PORT" >>"$1"
	fi
	# G10: a promo frequency cap (with a LESS rule) on every send, high
	# enough that the generator's random destinations never reach it.
	if [ -n "${SG_FREQ:-}" ]; then
		printf 'frequency:\n  - { category: promo, max: 1000, per: 1d,' \
		    >>"$1"
		printf ' less: { max: 4, per: 7d } }\n' >>"$1"
	fi
	# G9: a second account, password NAMEpw, same category.
	if [ -n "${SG_EXTRA_ACCOUNT:-}" ]; then
		awk -v a="$SG_EXTRA_ACCOUNT" '/^upstreams:/ {
			printf "  - system_id: %s\n    password: %spw\n", a, a
			print "    default_category: promo"
			print "    categories: [promo]" }
		{ print }' "$1" >"$1.tmp" && mv "$1.tmp" "$1"
	fi
}

# start_stopgate NAME PORT STORE_DIR [WRAPPER...]: sets SG_PID.
start_stopgate() {
	name=$1 port=$2 dir=$3
	shift 3
	# Its own upstream system_id, so STOP MOs can be sent to it alone.
	write_config "$tmp/$name.yaml" "$port" "$dir" "$name"
	"$@" "$stopgate" run -c "$tmp/$name.yaml" >"$tmp/$name.log" 2>&1 &
	SG_PID=$!
	pids="$pids $SG_PID"
	if ! wait_port "$port" 60; then
		echo "bench proxy: $name did not listen; its log:"
		tail -20 "$tmp/$name.log"
		return 1
	fi
	# Let the upstream sessions bind before the first submit.
	sleep 1
}

stores="$N1 $N10"
[ "$ROUNDS" -gt 0 ] || stores=$N1
echo "proxy bench: rounds=$ROUNDS secs=$SECS warmup=$WARM" \
    "stores=$(echo $stores | tr ' ' ,) one_in=$ONE_IN (2 cores shared:" \
    "figures are noisy)"

# --- stores ------------------------------------------------------------
# Without rounds (G9 alone) the 10 M store and its stopgate are not needed.
for n in $stores; do
	"$tools/store_fill" -d "$tmp/store-$n" -n "$n" -m "$ONE_IN" \
	    -b "$BASE" || exit 1
done
# The idle-RSS and callgrind stopgates start fresh, on a copy of the 1 M
# store as filled: not on the sent log the rounds leave behind, whose
# index a restarted stopgate would rebuild first.
cp -r "$tmp/store-$N1" "$tmp/store-fresh" || exit 1
# G10's stopgate: the same 1 M store, its own copy.
cp -r "$tmp/store-$N1" "$tmp/store-freq" || exit 1

# --- sink, HAProxy, stopgates -------------------------------------------
SINK_PORT=$(free_port) CTL_PORT=$(free_port)
"$tools/smsc_sim" -S -a 127.0.0.1 -p "$SINK_PORT" -c "$CTL_PORT" \
    >"$tmp/sink.log" 2>&1 &
SINK_PID=$!
pids="$pids $SINK_PID"
wait_port "$SINK_PORT" 10 || { echo "bench proxy: sink did not start"; exit 1; }

HA_PORT=$(free_port)
sed -e "s/@LISTEN_PORT@/$HA_PORT/" -e "s/@SINK_PORT@/$SINK_PORT/" \
    "$top/tests/bench/haproxy.cfg.in" >"$tmp/haproxy.cfg"
"$HAPROXY" -f "$tmp/haproxy.cfg" -db >"$tmp/haproxy.log" 2>&1 &
HA_PID=$!
pids="$pids $HA_PID"
wait_port "$HA_PORT" 10 || { echo "bench proxy: haproxy did not start"; exit 1; }

SG1_PORT=$(free_port)
start_stopgate sg1 "$SG1_PORT" "$tmp/store-$N1" || exit 1
SG1_PID=$SG_PID
SG10_PORT="" SG10_PID=""
if [ "$ROUNDS" -gt 0 ]; then
	SG10_PORT=$(free_port)
	start_stopgate sg10 "$SG10_PORT" "$tmp/store-$N10" || exit 1
	SG10_PID=$SG_PID
fi
SGF_PORT="" SGF_PID=""
case " ${BENCH_TESTS:-f64} " in
*" f64 "*)
	if [ "$ROUNDS" -gt 0 ]; then
		SGF_PORT=$(free_port)
		SG_FREQ=1 start_stopgate sgf "$SGF_PORT" "$tmp/store-freq" ||
		    exit 1
		SGF_PID=$SG_PID
	fi ;;
esac

results=$tmp/results
: >"$results"
failures=0

# focus PID: only that stopgate runs (none for ""). The other is paused
# with SIGSTOP, so the background work a stopgate does when its traffic
# stops (merging the sent log, indexing audit records) takes no CPU or
# disk from whatever is being measured, HAProxy included.
focus() {
	for p in $SG1_PID $SG10_PID $SGF_PID; do
		if [ "$p" = "$1" ]; then
			kill -CONT "$p" 2>/dev/null
		else
			kill -STOP "$p" 2>/dev/null
		fi
	done
}

# pin_pid PID CPUS: every thread of PID onto CPUS (BENCH_PIN).
pin_pid() {
	for task in /proc/"$1"/task/*; do
		taskset -pc "$2" "${task##*/}" >/dev/null 2>&1
	done
}

# run_test ROUND NAME: one loadgen run, its line appended to results.
run_test() {
	r=$1 t=$2
	case $t in
	s64 | s1 | rej | g8) focus "$SG1_PID" ;;
	t64) focus "$SG10_PID" ;;
	f64) focus "$SGF_PID" ;;
	*) focus "" ;;
	esac
	rng="-b $BASE -r $((N1 * ONE_IN)) -m $ONE_IN"
	common="-u bench -P benchpw -d $SECS -W $WARM"
	case $t in
	d64) args="-p $SINK_PORT -n 4 -w 64 -C $SINK_PID" ;;
	h64) args="-p $HA_PORT -n 4 -w 64 -C $HA_PID -C $SINK_PID" ;;
	s64) args="-p $SG1_PORT -n 4 -w 64 -C $SG1_PID -C $SINK_PID" ;;
	f64) args="-p $SGF_PORT -n 4 -w 64 -C $SGF_PID -C $SINK_PID" ;;
	t64) args="-p $SG10_PORT -n 4 -w 64 -C $SG10_PID -C $SINK_PID"
	     rng="-b $BASE -r $((N10 * ONE_IN)) -m $ONE_IN" ;;
	d1) args="-p $SINK_PORT -n 4 -w 1 -C $SINK_PID" ;;
	h1) args="-p $HA_PORT -n 4 -w 1 -C $HA_PID -C $SINK_PID" ;;
	s1) args="-p $SG1_PORT -n 4 -w 1 -C $SG1_PID -C $SINK_PID" ;;
	rej) args="-p $SG1_PORT -n 4 -w 64 -o rej -C $SG1_PID -C $SINK_PID" ;;
	g8)
		# G1 traffic at half this round's G1 rate, STOPs on top.
		rate=$(awk -v r="$r" '$1 == r && $2 == "s64" {
		    for (i = 3; i <= NF; i++)
			if ($i ~ /^msg_per_s=/) {
				split($i, kv, "="); print int(kv[2] / 2) } }' \
		    "$results" | tail -1)
		[ -n "$rate" ] && [ "$rate" -gt 0 ] || rate=1000
		args="-p $SG1_PORT -n 4 -w 64 -R $rate -B -c $CTL_PORT -T sg1"
		args="$args -s $STOPS_PER_S -f $((13000000000 + r * 1000000))"
		args="$args -C $SG1_PID -C $SINK_PID" ;;
	esac
	lgwrap=""
	if [ -n "${BENCH_PIN:-}" ]; then
		case $t in
		h*) relay=$HA_PID ;;
		f*) relay=$SGF_PID ;;
		s* | rej | g8) relay=$SG1_PID ;;
		t*) relay=$SG10_PID ;;
		*) relay="" ;;
		esac
		pin_pid "$SINK_PID" "$(echo "$BENCH_PIN" | cut -d: -f3)"
		[ -z "$relay" ] ||
		    pin_pid "$relay" "$(echo "$BENCH_PIN" | cut -d: -f1)"
		lgwrap="taskset -c $(echo "$BENCH_PIN" | cut -d: -f2)"
	fi
	# shellcheck disable=SC2086
	line=$($lgwrap "$tools/loadgen" $common $rng $args -l "$t" \
	    2>"$tmp/lg.err")
	rc=$?
	if [ $rc -ne 0 ] || [ -z "$line" ]; then
		failures=$((failures + 1))
		echo "round $r $t: loadgen exit $rc: $(head -3 "$tmp/lg.err")"
	fi
	[ -n "$line" ] || line="loadgen label=$t errors=1"
	echo "$r $t $line" >>"$results"
	echo "$r $t $line" | awk '{
		for (i = 3; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
		printf "round %s %-4s %8.0f msg/s  p50 %8.1f us  p99 %8.1f us" \
		    "  p999 %8.1f us  relay cpu %7.3f us/msg  errors %s", $1, $2,
		    f["msg_per_s"], f["p50_us"], f["p99_us"], f["p999_us"],
		    f["cpu0_us_per_msg"], f["errors"]
		if ("stops" in f)
			printf "  stops %s p99 %s ms max %s ms (errors %s)",
			    f["stops"], f["stop_p99_ms"], f["stop_max_ms"],
			    f["stop_errors"] + f["stop_timeouts"]
		printf "\n" }'
}

tests=${BENCH_TESTS:-"d64 h64 s64 t64 d1 h1 s1 rej f64"}
ntests=$(echo $tests | wc -w)
r=1
while [ "$r" -le "$ROUNDS" ]; do
	# Rotate the order by one each round; g8 needs s64 first, so last.
	order=""
	for t in $tests; do
		order="$order $t"
	done
	rot=$(( (r - 1) % ntests ))
	order=$(echo $order | awk -v k="$rot" '{
		for (i = 0; i < NF; i++) printf "%s ", $((i + k) % NF + 1) }')
	for t in $order g8; do
		run_test "$r" "$t"
	done
	r=$((r + 1))
done

kill -CONT "$SG1_PID" "$SG10_PID" $SGF_PID 2>/dev/null

# --- G8 floor and check -------------------------------------------------
# The same STOP pushes straight to a receiver bound to the sink, no relay:
# what the measurement itself costs.
floor=""
if [ "$ROUNDS" -gt 0 ]; then
	floor=$("$tools/loadgen" -p "$SINK_PORT" -u floor -P floor -n 1 -w 1 \
	    -R 1 -d "$SECS" -W 0 -B -c "$CTL_PORT" -s "$STOPS_PER_S" \
	    -T floor -f 13900000000 -l g8floor 2>>"$tmp/lg.err")
fi
G8_FLOOR=$(echo "$floor" | sed -n 's/.* stop_p99_ms=\([0-9.]*\).*/\1/p')
G8_FLOOR_MAX=$(echo "$floor" | sed -n 's/.* stop_max_ms=\([0-9.]*\).*/\1/p')
# Did the first STOP of round 1 become an opt-out in the store?
G8_RECORDED=no
"$stopgate" status -c "$tmp/sg1.yaml" 13001000000 2>"$tmp/status.err" |
    grep -q blocked && G8_RECORDED=yes
# Say why not, when the CLI itself failed.
[ "$G8_RECORDED" = yes ] || [ ! -s "$tmp/status.err" ] ||
    G8_RECORDED="no ($(head -1 "$tmp/status.err"))"

HWM1=$(status_kib "$SG1_PID" VmHWM)
HWM10=$(status_kib "$SG10_PID" VmHWM)
ANON1=$(status_kib "$SG1_PID" RssAnon)
HA_HWM=$(status_kib "$HA_PID" VmHWM)
[ -z "$SG10_PID" ] || stop_pid "$SG10_PID"
[ -z "$SGF_PID" ] || stop_pid "$SGF_PID"

# --- G9: what stalls the event loop -------------------------------------
# Its own stopgates and stores; the rounds' stopgate is done.
. "$top/tests/bench/g9.sh"
if [ -n "$G9" ]; then
	stop_pid "$SG1_PID"
	g9_run
fi

# --- RSS with idle bound sessions, on a fresh stopgate ------------------
IDLE_RSS=0 IDLE_ANON=0 IDLE_FILE=0
if [ "$IDLE" -gt 0 ]; then
	SGI_PORT=$(free_port)
	start_stopgate sgidle "$SGI_PORT" "$tmp/store-fresh" || exit 1
	SGI_PID=$SG_PID
	IDLE_BASE_RSS=$(status_kib "$SGI_PID" VmRSS)
	"$tools/loadgen" -p "$SGI_PORT" -u bench -P benchpw -n "$IDLE" -i \
	    -d 4 -W 0 -l idle >"$tmp/idle.out" 2>"$tmp/idle.err" &
	IDLE_LG=$!
	pids="$pids $IDLE_LG"
	IDLE_RSS=0 IDLE_ANON=0 IDLE_FILE=0
	i=0
	while [ $i -lt 150 ] && kill -0 "$IDLE_LG" 2>/dev/null; do
		v=$(status_kib "$SGI_PID" VmRSS)
		if [ -n "$v" ] && [ "$v" -gt "$IDLE_RSS" ]; then
			IDLE_RSS=$v
			IDLE_ANON=$(status_kib "$SGI_PID" RssAnon)
			IDLE_FILE=$(status_kib "$SGI_PID" RssFile)
		fi
		sleep 0.2
		i=$((i + 1))
	done
	stop_pid "$IDLE_LG"
	idle_rc=0
	grep -q ' errors=0 ' "$tmp/idle.out" || idle_rc=1
	IDLE_HWM=$(status_kib "$SGI_PID" VmHWM)
	IDLE_BOUND=$(sed -n 's/.* bound=\([0-9]*\).*/\1/p' "$tmp/idle.out")
	[ $idle_rc -eq 0 ] || { failures=$((failures + 1)); \
	    echo "idle sessions: loadgen exit $idle_rc:" \
	    "$(head -3 "$tmp/idle.err")"; }
	stop_pid "$SGI_PID"
fi

# --- callgrind: instructions per forwarded submit_sm -------------------
# Each message's sent-log record is merged into the last-sent table later,
# when the writer is idle; under valgrind that happens partly during the
# run, by chance. So each run waits (admin API) until every record is
# merged before stopping: the count includes each message's merge, and
# does not depend on timing.
CG_LINE="callgrind: skipped"
CG_IPM=""
CG_MERGE=""
# cg_merge_ir FILE: instructions spent merging the sent log (inclusive).
cg_merge_ir() {
	command -v callgrind_annotate >/dev/null 2>&1 || return 0
	callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
	    awk '$NF ~ /^\[/ && $(NF - 1) ~ /:store_sentlog_merge$/ {
		gsub(",", "", $1); print $1; exit }'
}
# cg_wait_merged ADMIN_PORT N: until N sent-log records are merged (120 s).
cg_wait_merged() {
	python3 - "$1" "$2" <<'PY'
import sys, time, urllib.request
port, want = sys.argv[1], int(sys.argv[2])
req = urllib.request.Request("http://127.0.0.1:%s/metrics" % port,
                             headers={"Authorization": "Bearer bench"})
deadline = time.monotonic() + 120
while time.monotonic() < deadline:
    try:
        body = urllib.request.urlopen(req, timeout=10).read().decode()
        m = dict(l.rsplit(" ", 1) for l in body.splitlines()
                 if l and not l.startswith("#"))
        if (float(m.get("stopgate_sentlog_merged_total", 0)) >= want and
                float(m.get("stopgate_writer_pending", 1)) == 0):
            sys.exit(0)
    except OSError:
        pass
    time.sleep(0.2)
sys.exit(1)
PY
}
# cg_allocs FILE: calls to malloc, calloc and realloc (the C allocator
# behind libevent, LMDB and ours) in a callgrind output file.
cg_allocs() {
	awk '/^c?fn=\(/ {
		id = $0; sub(/^c?fn=\(/, "", id); name = id
		sub(/\).*/, "", id); sub(/^[0-9]+\) ?/, "", name)
		if (name != "") names[id] = name
		if ($0 ~ /^cfn=/) cur = names[id]
		next }
	/^calls=/ && (cur == "malloc" || cur == "calloc" || cur == "realloc") {
		split($0, a, /[= ]/); n += a[2] }
	END { print n + 0 }' "$1"
}
# cg_run WINDOW N: stopgate under callgrind forwards N messages at 4 x
# WINDOW; its output is one file per thread, $tmp/cg.WINDOW.N.out-TT:
# thread 01 is the event loop, 02 the store writer. Returns non-zero on
# failure.
cg_run() {
	port=$(free_port)
	SG_ADMIN_PORT=$(free_port)
	start_stopgate "cg$1x$2" "$port" "$tmp/store-fresh" valgrind \
	    --tool=callgrind --separate-threads=yes \
	    --callgrind-out-file="$tmp/cg.$1.$2.out" ||
	    { SG_ADMIN_PORT=""; return 1; }
	cgpid=$SG_PID
	cg_rc=0
	"$tools/loadgen" -p "$port" -u bench -P benchpw -n 4 -w "$1" \
	    -N "$2" -b "$BASE" -r $((N1 * ONE_IN)) -m "$ONE_IN" \
	    -l "cg$1x$2" >"$tmp/cg.$1.$2.lg" 2>&1 || cg_rc=1
	cg_wait_merged "$SG_ADMIN_PORT" "$2" || cg_rc=1
	SG_ADMIN_PORT=""
	stop_pid "$cgpid"
	return $cg_rc
}
# cg_sum_ir FILE: instructions of every thread of one run.
cg_sum_ir() {
	cat "$1"-[0-9]* 2>/dev/null | awk '/^summary:/ { n += $2; k++ }
	    END { if (k > 0) printf "%.0f\n", n }'
}
# per_msg A B: (B - A) / (n2 - n1), the per-message difference.
per_msg() {
	awk -v a="$1" -v b="$2" -v n1="$cg_n1" -v n2="$cg_n2" \
	    -v f="${3:-%.0f}" 'BEGIN { printf f, (b - a) / (n2 - n1) }'
}
CG_ALLOC64="" CG_ALLOC1="" CG_WALLOC64="" CG_WALLOC1=""
if [ "$CALLGRIND" = 1 ] && command -v valgrind >/dev/null 2>&1; then
	cg_ok=1
	set -- $CG_MSGS
	cg_n1=$1 cg_n2=$2
	# Window 64 for the instruction count; window 1 too for allocations,
	# where every PDU finds its buffers empty.
	for w in 64 1; do
		for n in $cg_n1 $cg_n2; do
			cg_run "$w" "$n" || { cg_ok=0; break 2; }
		done
	done
	f1=$tmp/cg.64.$cg_n1.out f2=$tmp/cg.64.$cg_n2.out
	i1=$(cg_sum_ir "$f1") i2=$(cg_sum_ir "$f2")
	if [ "$cg_ok" = 1 ] && [ -n "$i1" ] && [ -n "$i2" ]; then
		CG_IPM=$(per_msg "$i1" "$i2")
		CG_LINE="callgrind: $CG_IPM instructions per forwarded submit_sm"
		m1=$(cg_merge_ir "$f1-02") m2=$(cg_merge_ir "$f2-02")
		if [ -n "$m1" ] && [ -n "$m2" ]; then
			CG_MERGE=$(per_msg "$m1" "$m2")
			CG_LINE="$CG_LINE, of which $CG_MERGE merge its sent-log"
			CG_LINE="$CG_LINE record into the last-sent table later"
		fi
		CG_LINE="$CG_LINE ($i1 Ir for $cg_n1 msgs, $i2 Ir for $cg_n2)"
		# The event loop's allocations: the submit path. The writer
		# thread's are per transaction (LMDB allocates each cursor).
		g1=$tmp/cg.1.$cg_n1.out g2=$tmp/cg.1.$cg_n2.out
		CG_ALLOC64=$(per_msg "$(cg_allocs "$f1-01")" \
		    "$(cg_allocs "$f2-01")" %.3f)
		CG_ALLOC1=$(per_msg "$(cg_allocs "$g1-01")" \
		    "$(cg_allocs "$g2-01")" %.3f)
		CG_WALLOC64=$(per_msg "$(cg_allocs "$f1-02")" \
		    "$(cg_allocs "$f2-02")" %.3f)
		CG_WALLOC1=$(per_msg "$(cg_allocs "$g1-02")" \
		    "$(cg_allocs "$g2-02")" %.3f)
	else
		CG_LINE="callgrind: failed (see $tmp/cg*.log)"
		failures=$((failures + 1))
	fi
fi

# --- summary ------------------------------------------------------------
echo "== proxy bench: medians over $ROUNDS rounds"
awk -v rounds="$ROUNDS" -v tg1="$T_G1" -v tg2="$T_G2" -v tg3="$T_G3" \
    -v tg4="$T_G4" -v tg5="$T_G5" -v tg6="$T_G6" -v tg8="$T_G8_MS" \
    -v tg10="$T_G10" \
    -v tg8max="$T_G8_MAX_MS" -v tg9="$T_G9_MS" -v idle_on="$IDLE" \
    -v g8_floor_max="${G8_FLOOR_MAX:-n/a}" \
    -v trss="$T_RSS_MIB" -v hwm1="${HWM1:-0}" -v hwm10="${HWM10:-0}" \
    -v anon1="${ANON1:-0}" -v hahwm="${HA_HWM:-0}" \
    -v idle_n="${IDLE_BOUND:-0}" -v idle_rss="$IDLE_RSS" \
    -v idle_anon="${IDLE_ANON:-0}" -v idle_file="${IDLE_FILE:-0}" \
    -v idle_hwm="${IDLE_HWM:-0}" -v idle_base="${IDLE_BASE_RSS:-0}" \
    -v cg_ipm="$CG_IPM" -v cg_merge="$CG_MERGE" -v cg_line="$CG_LINE" \
    -v cg_alloc64="$CG_ALLOC64" -v cg_alloc1="$CG_ALLOC1" \
    -v cg_walloc64="$CG_WALLOC64" -v cg_walloc1="$CG_WALLOC1" \
    -v talloc="$T_ALLOC" \
    -v mode="$TARGETS" \
    -v g8_floor="${G8_FLOOR:-n/a}" -v g8_rec="$G8_RECORDED" '
function median(arr, n,    i, j, t, a) {
	if (n == 0)
		return "nan"
	for (i = 1; i <= n; i++)
		a[i] = arr[i]
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
# The q quantile of arr[1..n] (nearest rank).
function quantile(arr, n, q,    i, j, t, a, k) {
	for (i = 1; i <= n; i++)
		a[i] = arr[i] + 0
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	k = int(q * n + 0.999999)
	return a[k < 1 ? 1 : k]
}
function fig(r, t, k) { return v[r, t, k] + 0 }
function has(r, t) { return (r, t) in seen }
# key: the proxy.summary key (default: the name in lower case).
function check(name, val, target, is_max, key,    ok) {
	if (val == "nan") {
		printf "%-4s n/a (no complete round)\n", name
		return
	}
	ok = is_max ? val <= target : val >= target
	printf "%-4s %8.3f  target %s %s: %s\n", name, val,
	    is_max ? "<=" : ">=", target, ok ? "met" : "MISSED"
	kv = kv sprintf(" %s=%.4f", key == "" ? tolower(name) : key, val)
	if (!ok)
		missed++
}
# G9 lines (tests/bench/g9.sh): "g9 CASE key=value ...".
$1 == "g9" {
	c = $2; g9seen[c] = 1
	for (i = 3; i <= NF; i++) {
		split($i, p, "=")
		g9v[c, p[1]] = p[2]
	}
	next
}
function g9(c, k) { return g9v[c, k] }
function g9_print(    c, o, what, ms) {
	if (!("base" in g9seen))
		return
	print "G9: the longest submit -> submit_sm_resp at 4 sessions x " \
	    "window 1, ms (1 M store; b: its own store), while:"
	ms = g9("base", "max_us") / 1000
	printf "G9   baseline (nothing else happening): max %.3f ms, " \
	    "p99 %.3f ms, %.0f msg/s\n", ms, g9("base", "p99_us") / 1000,
	    g9("base", "msg_per_s")
	kv = kv sprintf(" g9_base_max_ms=%.3f g9_base_p99_ms=%.3f", ms,
	    g9("base", "p99_us") / 1000)
	what["a"] = sprintf("%d STOPs pushed open loop over %s s, answered " \
	    "p99 %s ms, max %s ms", g9("a", "stops_pushed"),
	    g9("a", "stop_secs"), g9("a", "stop_p99_ms"), g9("a", "stop_max_ms"))
	what["b"] = sprintf("opt-outs crossing the numbers hash threshold at " \
	    "%d numbers: the slowest POST (number %d of %d; %d crosses) " \
	    "took %s ms, p50 %s ms", g9("b", "rebuild_at"),
	    g9("b", "slowest_post"), g9("b", "posts"),
	    g9("b", "crossing_post"), g9("b", "post_max_ms"),
	    g9("b", "post_p50_ms"))
	what["c"] = sprintf("stopgate import of %d rows, which took %s s",
	    g9("c", "import_rows"), g9("c", "import_s"))
	what["d"] = sprintf("2 clients looped GET /v1/audit?account=few " \
	    "over %d records: %d queries, p50 %s ms, max %s ms",
	    g9("d", "audit_records"), g9("d", "queries"),
	    g9("d", "query_p50_ms"), g9("d", "query_max_ms"))
	split("a b c d", o, " ")
	for (i = 1; i <= 4; i++) {
		c = o[i]
		if (!(c in g9seen))
			continue
		if (g9(c, "errors") != 0 || g9(c, "max_us") == "") {
			printf "G9%s  n/a (the run failed)\n", c
			continue
		}
		check("G9" c, g9(c, "max_us") / 1000, tg9, 1, "g9" c "_max_ms")
		printf "       p99 %.3f ms; %s\n", g9(c, "p99_us") / 1000, what[c]
		kv = kv sprintf(" g9%s_p99_ms=%.3f", c, g9(c, "p99_us") / 1000)
	}
}
{
	r = $1; t = $2; seen[r, t] = 1
	for (i = 3; i <= NF; i++) {
		split($i, p, "=")
		v[r, t, p[1]] = p[2]
	}
	errors += v[r, t, "errors"]
	if (t == "rej")
		rejected += v[r, t, "status_rej"]
	tests[t] = 1
}
END {
	split("d64 h64 s64 t64 d1 h1 s1 rej f64 g8", order, " ")
	printf "%-5s %10s %10s %10s %10s %12s %12s\n", "test", "msg/s",
	    "p50 us", "p99 us", "p999 us", "relay us/msg", "sink us/msg"
	for (o = 1; o <= 10; o++) {
		t = order[o]
		if (!(t in tests))
			continue
		split("msg_per_s p50_us p99_us p999_us cpu0_us_per_msg " \
		    "cpu1_us_per_msg", ks, " ")
		line = sprintf("%-5s", t)
		for (q = 1; q <= 6; q++) {
			n = 0
			for (r = 1; r <= rounds; r++)
				if (has(r, t))
					xs[++n] = fig(r, t, ks[q])
			m = median(xs, n)
			line = line sprintf(" %*.1f", q >= 5 ? 12 : 10, m)
			med[t, ks[q]] = m
		}
		print line
	}
	n1 = n2 = n3 = n4 = n5 = n6 = n8 = n10 = 0
	for (r = 1; r <= rounds; r++) {
		if (has(r, "s64") && has(r, "h64") && fig(r, "h64", "msg_per_s"))
			g1[++n1] = fig(r, "s64", "msg_per_s") / \
			    fig(r, "h64", "msg_per_s")
		if (has(r, "s64") && has(r, "h64") &&
		    fig(r, "h64", "cpu0_us_per_msg") > 0)
			g2[++n2] = fig(r, "s64", "cpu0_us_per_msg") / \
			    fig(r, "h64", "cpu0_us_per_msg")
		if (has(r, "s1") && has(r, "h1") && fig(r, "h1", "msg_per_s")) {
			g3[++n3] = fig(r, "s1", "msg_per_s") / \
			    fig(r, "h1", "msg_per_s")
			if (fig(r, "h1", "p99_us") > 0)
				g4[++n4] = fig(r, "s1", "p99_us") / \
				    fig(r, "h1", "p99_us")
		}
		if (has(r, "t64") && has(r, "s64") && fig(r, "s64", "msg_per_s"))
			g5[++n5] = fig(r, "t64", "msg_per_s") / \
			    fig(r, "s64", "msg_per_s")
		if (has(r, "f64") && has(r, "s64") && fig(r, "s64", "msg_per_s"))
			g10[++n10] = fig(r, "f64", "msg_per_s") / \
			    fig(r, "s64", "msg_per_s")
		if (has(r, "rej") && has(r, "s64") && fig(r, "s64", "msg_per_s"))
			g6[++n6] = fig(r, "rej", "msg_per_s") / \
			    fig(r, "s64", "msg_per_s")
		if (has(r, "g8") && fig(r, "g8", "stops") > 0) {
			g8[++n8] = fig(r, "g8", "stop_p99_ms")
			# every STOP of every round, for the pooled p99
			ns = split(v[r, "g8", "stop_us"], sv, ",")
			for (i = 1; i <= ns; i++)
				pool[++npool] = sv[i] / 1000
			if (fig(r, "g8", "stop_max_ms") > g8max)
				g8max = fig(r, "g8", "stop_max_ms")
		}
		stop_bad += fig(r, "g8", "stop_errors") + \
		    fig(r, "g8", "stop_timeouts")
	}
	missed = 0
	print "ratios (median of per-round ratios; G8 is STOP received " \
	    "-> deliver_sm_resp p99 in ms; RSS is RssAnon in MiB with " \
	    "the idle sessions bound):"
	check("G1", median(g1, n1), tg1, 0)
	check("G2", median(g2, n2), tg2, 1)
	check("G3", median(g3, n3), tg3, 0)
	check("G4", median(g4, n4), tg4, 1)
	check("G5", median(g5, n5), tg5, 0)
	check("G6", median(g6, n6), tg6, 0)
	if (n10 > 0)
		check("G10", median(g10, n10), tg10, 0)
	if (rounds == 0)
		print "G8   n/a (no rounds)"
	else if (n8 == 0 || stop_bad > 0)
		printf "G8   n/a (MO path not wired: %d STOPs failed or " \
		    "timed out)\n", stop_bad
	else {
		# A round has about 60 STOPs, so its own p99 is its maximum:
		# G8 is the p99 of the STOPs of every round pooled.
		if (npool >= 100)
			check("G8", quantile(pool, npool, 0.99), tg8, 1)
		else
			check("G8", median(g8, n8), tg8, 1)
		printf "       over %d STOPs; median of the per-round p99 " \
		    "(each the round max) %.3f ms\n", npool, median(g8, n8)
		# The worst case: the largest over every round.
		check("G8max", g8max, tg8max, 1, "g8_max_ms")
	}
	printf "G8   floor (sink -> generator receiver, no relay): p99 %s " \
	    "ms, max %s ms; round 1 STOP recorded as an opt-out: %s\n",
	    g8_floor, g8_floor_max, g8_rec
	printf "RSS  stopgate VmHWM %.1f MiB (1M store; RssAnon %.1f MiB), " \
	    "%.1f MiB (10M store); haproxy VmHWM %.1f MiB\n", hwm1 / 1024,
	    anon1 / 1024, hwm10 / 1024, hahwm / 1024
	printf "RSS  %d idle bound sessions: VmRSS %.1f MiB (RssAnon %.1f, " \
	    "RssFile %.1f; %.1f MiB before binding), VmHWM %.1f MiB\n",
	    idle_n, idle_rss / 1024, idle_anon / 1024, idle_file / 1024,
	    idle_base / 1024, idle_hwm / 1024
	if (idle_on > 0)
		check("RSS", idle_anon / 1024, trss, 1)
	g9_print()
	print cg_line
	if (cg_alloc64 != "") {
		printf "ALLOC allocations per forwarded submit_sm on the " \
		    "event loop (callgrind: malloc, calloc, realloc): %.3f " \
		    "at window 64, %.3f at window 1; store writer thread, " \
		    "per transaction: %.3f and %.3f\n", cg_alloc64,
		    cg_alloc1, cg_walloc64, cg_walloc1
		check("ALLOC", cg_alloc64 > cg_alloc1 ? cg_alloc64 : cg_alloc1,
		    talloc, 1)
	}
	printf "generator errors %d (expected rejections in the reject " \
	    "run: %d)\n", errors, rejected
	printf "proxy.summary%s errors=%d rejected=%d hwm_kib=%d " \
	    "hwm10_kib=%d idle_sessions=%d idle_rss_kib=%d " \
	    "idle_anon_kib=%d cg_ir_per_msg=%s cg_merge_ir_per_msg=%s", kv,
	    errors, rejected, hwm1, hwm10, idle_n, idle_rss, idle_anon,
	    cg_ipm == "" ? "n/a" : cg_ipm, cg_merge == "" ? "n/a" : cg_merge
	for (o = 1; o <= 10; o++) {
		t = order[o]
		if (t in tests)
			printf " %s.msg_per_s=%.0f %s.p99_us=%.1f", t,
			    med[t, "msg_per_s"], t, med[t, "p99_us"]
	}
	printf "\n"
	if (errors > 0)
		exit 2
	if (missed > 0 && mode != "warn")
		exit 1
}' "$results" "$tmp/g9results"
rc=$?

if [ -n "$CG_IPM" ] && command -v callgrind_annotate >/dev/null 2>&1; then
	set -- $CG_MSGS
	echo "== callgrind, $2 msgs (startup included): top self cost," \
	    "event loop thread"
	callgrind_annotate "$tmp/cg.64.$2.out-01" 2>/dev/null |
	    awk '/^-+$/ { d++; next } d >= 3 && /[0-9] \(/' | sed -n 2,11p
	for th in "01 event loop:10" "02 store writer:6"; do
		echo "== callgrind: top inclusive cost in our sources," \
		    "${th#* }" | sed 's/:[0-9]*$//'
		callgrind_annotate --inclusive=yes \
		    "$tmp/cg.64.$2.out-${th%% *}" 2>/dev/null |
		    awk -v top="$top/" '/^-+$/ { d++; next }
		    d >= 3 && index($0, top) &&
		    !/below main|main\.c:main|daemon_main|start_thread/ {
			sub(/ \[.*/, ""); gsub(top, "")
			if (!seen[$3]++) print }' | head -"${th##*:}"
	done
fi

[ $rc -eq 0 ] && [ $failures -eq 0 ] && [ "$ROUNDS" -ge 5 ] && exit 0
[ "$ROUNDS" -ge 5 ] || echo "proxy bench: fewer than 5 rounds: not a result"
[ $failures -eq 0 ] || echo "proxy bench: $failures runs failed"
exit 1
