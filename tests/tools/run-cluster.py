#!/usr/bin/env python3
"""What `make run-cluster` runs (README "Several nodes"): a throwaway
PostgreSQL 15 started like the cluster tests do (tests/integration/
pgserver.py: initdb into a temp dir, as the postgres user when run as root,
a free 127.0.0.1 port), `stopgate db migrate`, the SMSC simulator on
127.0.0.1:2776 (control 2777), and two stopgate nodes on it:

  node a: departments 127.0.0.1:2775, admin 127.0.0.1:8775
  node b: departments 127.0.0.1:2785, admin 127.0.0.1:8785

configs and stores under var/cluster/ (the config is SPEC section 2's
example with a `cluster:` section). Ctrl-C or SIGTERM stops the nodes,
the simulator and PostgreSQL, each by its pid; PostgreSQL's data goes
with it (the nodes' stores stay, bound to their node names: remove
var/cluster/ to start over).
"""

import os
import signal
import subprocess
import sys
import time

top = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(top, "tests", "integration"))
import harness  # noqa: E402
import pgserver  # noqa: E402

NODES = {"a": (2775, 8775), "b": (2785, 8785)}
SIM_PORT, CTL_PORT = 2776, 2777


def node_config(name, pg):
    port, admin = NODES[name]
    cfg = harness.base_config(SIM_PORT, port, admin,
                              store_path="store-" + name)
    cfg["admin"]["token"] = "change-me"
    cfg["cluster"] = {"node": name, "postgres": pg.conninfo,
                      "max_lag_ms": 2000, "fail_open": ["appointments"]}
    return cfg


def main():
    if not pgserver.available():
        print("run-cluster: PostgreSQL 15 is not installed "
              "(make deps installs it)", file=sys.stderr)
        return 1
    var = os.path.join(top, "var", "cluster")
    os.makedirs(var, exist_ok=True)
    procs = []
    pg = None

    def stop(*_):
        for p in reversed(procs):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(20)
                except subprocess.TimeoutExpired:
                    p.kill()
        if pg is not None:
            pg.remove()
        sys.exit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pg = pgserver.PgServer()
    try:
        pg.start()
    except Exception:
        pg.remove()
        raise
    sim_log = open(os.path.join(var, "smsc_sim.log"), "wb")
    procs.append(subprocess.Popen(
        [harness.SMSC_SIM, "-v", "-a", "127.0.0.1", "-p", str(SIM_PORT),
         "-c", str(CTL_PORT), "-u", "acme", "-w", "secret"],
        stdout=sim_log, stderr=subprocess.STDOUT))
    harness.wait_port(SIM_PORT)
    paths = {}
    for name in NODES:
        path = os.path.join(var, "node-%s.yaml" % name)
        # stopgate refuses a config with secrets others can read.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(harness.to_yaml(node_config(name, pg)))
        paths[name] = path
    r = subprocess.run([harness.STOPGATE, "db", "migrate", "-c",
                        paths["a"]], capture_output=True, text=True)
    print(r.stdout + r.stderr, end="")
    if r.returncode != 0:
        stop()
    for name in NODES:
        log = open(os.path.join(var, "node-%s.log" % name), "wb")
        procs.append(subprocess.Popen(
            [harness.STOPGATE, "run", "-c", paths[name]], stdout=log,
            stderr=subprocess.STDOUT))
        harness.wait_port(NODES[name][0])
    rel = os.path.relpath(harness.BUILD, top)
    print("""------------------------------------------------------------------------
Two stopgate nodes on one PostgreSQL (%s):
  node a: departments 127.0.0.1:2775, admin 127.0.0.1:8775
  node b: departments 127.0.0.1:2785, admin 127.0.0.1:8785
Configs, stores and logs in var/cluster/.

In another terminal, from %s:
  # a subscriber texts STOP to 12345 through node a's SMSC session
  python3 tests/integration/harness.py -c %d mo 15551234567 12345 STOP
  # node b refuses the same number (0x00000401) within milliseconds
  %s/tools/esme -p 2785 -u marketing -w mkpass1 send 12345 15551234567 hi
  # replication position and lag of each node
  %s/stopgate status -c var/cluster/node-b.yaml
  curl -s 127.0.0.1:8785/healthz

Ctrl-C stops the nodes, the simulator and PostgreSQL.
------------------------------------------------------------------------"""
          % (pg.conninfo, top, CTL_PORT, rel, rel), flush=True)
    while all(p.poll() is None for p in procs):
        time.sleep(0.5)
    print("run-cluster: a process exited; see var/cluster/*.log",
          file=sys.stderr)
    stop()


if __name__ == "__main__":
    sys.exit(main())
