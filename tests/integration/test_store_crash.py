#!/usr/bin/env python3
"""Store crash safety (SPEC §7): kill -9 a writer in the middle of a burst
of opt-out commits, reopen, and check that every acknowledged opt-out is
there and the environment opens and takes writes cleanly.

The writer (build/tools/store_tool write) prints a number only after
store_optout_apply() returned, so each printed line is an acknowledged
opt-out. It starts from a 1 MB map so that some kills land while the map
is being grown. Repeated STORE_CRASH_RUNS times (default 50) within about
50 seconds; prints the number of runs and of acknowledged writes checked.
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

TOP = os.environ.get("STOPGATE_TOP") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BUILD", "build")
TOOL = os.path.join(TOP, BUILD, "tools", "store_tool")
RUNS = int(os.environ.get("STORE_CRASH_RUNS", "50"))
BUDGET_S = 50


def main():
    if not os.access(TOOL, os.X_OK):
        print("test_store_crash: %s not built (make tools)" % TOOL)
        return 1
    rng = random.Random(int(os.environ.get("STORE_CRASH_SEED",
                                           str(os.getpid()))))
    d = tempfile.mkdtemp(prefix="store-crash-", dir="/tmp")
    acked = runs = 0
    t_end = time.monotonic() + BUDGET_S
    try:
        for run in range(RUNS):
            if time.monotonic() > t_end:
                print("test_store_crash: time budget reached")
                break
            ack = os.path.join(d, "acked-%d.txt" % run)
            with open(ack, "w") as out:
                w = subprocess.Popen(
                    [TOOL, "write", os.path.join(d, "env"),
                     str(run * 1000000), "1000000", "1"],
                    stdout=out, stderr=subprocess.DEVNULL)
                time.sleep(rng.uniform(0.02, 0.3))
                os.kill(w.pid, signal.SIGKILL)
                w.wait()
            r = subprocess.run([TOOL, "verify", os.path.join(d, "env"), ack],
                               capture_output=True, text=True, timeout=60)
            runs += 1
            words = r.stdout.split()
            if r.returncode != 0 or len(words) != 4:
                print("test_store_crash: run %d: verify failed (rc %d)\n%s%s"
                      % (run, r.returncode, r.stdout, r.stderr))
                return 1
            acked += int(words[1])
        if runs == 0 or acked == 0:
            print("test_store_crash: nothing was acknowledged")
            return 1
        print("test_store_crash: %d kill -9 runs, %d acknowledged opt-outs "
              "all present after reopen, 0 missing" % (runs, acked))
        return 0
    finally:
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
