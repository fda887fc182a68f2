#!/bin/sh
# What `make run` runs: the SMSC simulator on 127.0.0.1:2776 (control port
# 2777) in the background, then stopgate on config/example.yaml in the
# foreground. Ctrl-C or SIGTERM stops stopgate (gracefully, bounded) and
# then the simulator this script started, by pid.
#
# Environment: BUILD (build tree, default build), CONFIG (default: a
# private copy of config/example.yaml, see below), SIM_PORT / CTL_PORT
# (must match the config's upstream port; defaults 2776 / 2777), SIM_LOG
# (var/smsc_sim.log).
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in
/*) build=$BUILD ;;
*) build=$top/$BUILD ;;
esac
config=${CONFIG:-}
SIM_PORT=${SIM_PORT:-2776}
CTL_PORT=${CTL_PORT:-2777}
STOP_SECONDS=20

for b in "$build/stopgate" "$build/tools/smsc_sim" "$build/tools/esme"; do
	if [ ! -x "$b" ]; then
		echo "run-example: $b is not built; run make first" >&2
		exit 1
	fi
done
mkdir -p "$top/var"
# stopgate run refuses a config with secrets that other users can read,
# and the repo's example (passwords, admin token) is 0644 in a checkout:
# run a private copy in var/. Its relative store path, ../var/stopgate,
# names the same store from var/ as from config/, so the CLI commands on
# config/example.yaml see what this daemon writes. The copy is made at
# each start (edit config/example.yaml), or pass CONFIG=FILE.
if [ -z "$config" ]; then
	config=$top/var/example.yaml
	install -m 600 "$top/config/example.yaml" "$config" || exit 1
fi
simlog=${SIM_LOG:-$top/var/smsc_sim.log}
sim_pid=
gw_pid=

# True once pid $1 is gone, false after STOP_SECONDS.
gone_within_bound() {
	n=0
	while kill -0 "$1" 2>/dev/null; do
		[ $n -ge $((STOP_SECONDS * 10)) ] && return 1
		sleep 0.1
		n=$((n + 1))
	done
	return 0
}

# Stop a process we started, by pid: send signal $2 (with "none", just
# wait a bound for it to stop by itself, then SIGTERM), then SIGKILL if
# it is still there after the bound.
stop_pid() {
	[ -n "$1" ] || return 0
	if [ "$2" = none ]; then
		gone_within_bound "$1" || kill -TERM "$1" 2>/dev/null
	else
		kill -"$2" "$1" 2>/dev/null
	fi
	if ! gone_within_bound "$1"; then
		echo "run-example: pid $1 did not stop; killing it" >&2
		kill -KILL "$1" 2>/dev/null
	fi
	wait "$1" 2>/dev/null
}

# Ctrl-C reaches stopgate directly (same process group): let it drain.
# A SIGTERM or SIGHUP to this script is passed on as SIGTERM.
cleanup() {
	trap - EXIT INT TERM HUP
	stop_pid "$gw_pid" "${1:-TERM}"
	gw_pid=
	stop_pid "$sim_pid" TERM
	sim_pid=
}
trap 'cleanup none; exit 0' INT
trap 'cleanup TERM; exit 0' TERM HUP
trap 'cleanup TERM' EXIT

# A fresh log: the readiness check below must not see a previous run's.
rm -f "$simlog"
"$build/tools/smsc_sim" -v -a 127.0.0.1 -p "$SIM_PORT" -c "$CTL_PORT" \
	-u acme -w secret >"$simlog" 2>&1 &
sim_pid=$!
i=0
until grep -q 'listening on' "$simlog" 2>/dev/null; do
	if ! kill -0 "$sim_pid" 2>/dev/null || [ $i -ge 50 ]; then
		echo "run-example: the SMSC simulator did not start:" >&2
		cat "$simlog" >&2
		exit 1
	fi
	sleep 0.1
	i=$((i + 1))
done

rel=${build#"$top"/}
cat <<EOF
------------------------------------------------------------------------
stopgate example: departments bind to 127.0.0.1:2775; upstream is the
SMSC simulator on 127.0.0.1:$SIM_PORT (pid $sim_pid, log ${simlog#"$top"/}).

In another terminal, from $top:
  # send as the marketing department and wait for the delivery receipt
  $rel/tools/esme -u marketing -w mkpass1 send 12345 15551234567 \\
      "Spring sale: 20% off" --wait-dlr 5
  # watch replies and receipts for marketing
  $rel/tools/esme -u marketing -w mkpass1 -b rx listen
  # a subscriber texts STOP to 12345 (via the simulator)
  python3 tests/integration/harness.py -c $CTL_PORT mo 15551234567 12345 STOP
  # the same send is now refused with 0x00000401
  $rel/stopgate status -c config/example.yaml 15551234567

Ctrl-C stops stopgate and the simulator.
------------------------------------------------------------------------
EOF

"$build/stopgate" run -c "$config" &
gw_pid=$!
wait "$gw_pid"
rc=$?
gw_pid=
cleanup TERM
exit $rc
