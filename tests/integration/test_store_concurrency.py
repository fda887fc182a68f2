#!/usr/bin/env python3
"""Store multi-process visibility (SPEC §5): a change committed by one
process is enforced by another process's next lookup.

Two writer processes (build/tools/store_tool write) opt out numbers
concurrently, each printing a number only after its commit returned; each
writer's output is piped to its own watcher process (store_tool watch),
which looks every acknowledged number up at once in its own environment
handle and must find it blocked (and never-written numbers allowed). Both
start from a 1 MB map, so the map grows under them while they run.
"""
import os
import shutil
import subprocess
import sys
import tempfile

TOP = os.environ.get("STOPGATE_TOP") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("BUILD", "build")
TOOL = os.path.join(TOP, BUILD, "tools", "store_tool")
COUNT = int(os.environ.get("STORE_CONC_COUNT", "2000"))


def main():
    if not os.access(TOOL, os.X_OK):
        print("test_store_concurrency: %s not built (make tools)" % TOOL)
        return 1
    d = tempfile.mkdtemp(prefix="store-conc-", dir="/tmp")
    env = os.path.join(d, "env")
    procs = []
    ok = True
    try:
        # Create the environment first so both writers start on it.
        subprocess.run([TOOL, "write", env, "9000000", "1", "1"],
                       stdout=subprocess.DEVNULL, check=True, timeout=30)
        pairs = []
        for first in (0, 5000000):
            w = subprocess.Popen([TOOL, "write", env, str(first), str(COUNT),
                                  "1"], stdout=subprocess.PIPE)
            r = subprocess.Popen([TOOL, "watch", env, "1"], stdin=w.stdout,
                                 stdout=subprocess.PIPE, text=True)
            w.stdout.close()
            procs += [w, r]
            pairs.append((w, r))
        watched = map_mb = 0
        for w, r in pairs:
            out, _ = r.communicate(timeout=120)
            w.wait(timeout=120)
            words = out.split()
            if w.returncode != 0 or r.returncode != 0 or len(words) != 6 \
                    or int(words[1]) != COUNT or words[3] != "0":
                print("test_store_concurrency: writer rc %s, watcher rc %s: "
                      "%s" % (w.returncode, r.returncode, out.strip()))
                ok = False
            else:
                watched += int(words[1])
                map_mb = int(words[5])
        if ok:
            print("test_store_concurrency: 2 writers x %d opt-outs, %d "
                  "acknowledged writes each seen by the other process's "
                  "next lookup, 0 missed; map grew 1 -> %d MB under them"
                  % (COUNT, watched, map_mb))
        return 0 if ok else 1
    except subprocess.TimeoutExpired:
        print("test_store_concurrency: timed out")
        return 1
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(d, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
