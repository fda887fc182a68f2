"""What the cluster tests share (SPEC section 8): one throwaway PostgreSQL
(pgserver.PgServer), `stopgate db migrate`, and nodes, each a stopgate
with its own store, SMSC simulator and admin port, all with a `cluster:`
section naming the same database."""

import json
import time
import urllib.request

import harness
import pgserver
import smpp

SUB = "15551230001"


class Node:
    def __init__(self, case, name, smsc, gw, cfg):
        self.case, self.name, self.smsc, self.gw, self.cfg = \
            case, name, smsc, gw, cfg
        self.ctl = smsc.ctl()
        self.admin_port = int(cfg["admin"]["bind"].rsplit(":", 1)[1])

    def http(self, path, token=True):
        req = urllib.request.Request("http://127.0.0.1:%d%s" %
                                     (self.admin_port, path))
        if token:
            req.add_header("Authorization", "Bearer test-token")
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def healthz(self):
        code, body = self.http("/healthz", token=False)
        return code, json.loads(body)

    def metric(self, name):
        _, text = self.http("/metrics")
        for ln in text.splitlines():
            if ln.startswith(name + "{") or ln.startswith(name + " "):
                return float(ln.rsplit(" ", 1)[1])
        return None

    def client(self, system_id="marketing", password="mkpass1"):
        c = smpp.Client.connect(self.gw.port)
        self.case.addCleanup(c.close)
        self.case.assertEqual(c.bind("trx", system_id, password), 0)
        return c

    def cli(self, *args):
        return self.case.h.stopgate_cli(*(list(args) +
                                          ["-c", self.gw.config]))

    def stop_mo(self, sub, dst="12345", text="STOP"):
        """A subscriber's STOP through this node's SMSC; returns the
        deliver_sm_resp status."""
        deadline = time.monotonic() + 10
        while True:
            try:
                seq = self.ctl.mo(sub, dst, text)
                break
            except harness.HarnessError as e:
                if "no receiver" not in str(e) or \
                        time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        return self.ctl.wait_resp(seq, 10)


class ClusterCase(harness.TestCase):
    max_lag_ms = 1000
    pg_base = None      # where PostgreSQL's temp dir goes (None: /tmp)

    def setUp(self):
        super().setUp()
        # Removed (and stopped by pid) even if it fails to start.
        self.pg = pgserver.PgServer(base=self.pg_base)
        self.addCleanup(self.pg.remove)
        self.pg.start()
        self.nodes = {}

    def node_config(self, name, smsc_port):
        cfg = harness.base_config(smsc_port, harness.free_port(),
                                  harness.free_port(),
                                  store_path=self.h.path("store-" + name))
        cfg["timeouts"] = {"shutdown_ms": 1000}
        cfg["cluster"] = {"node": name, "postgres": self.pg.conninfo,
                          "max_lag_ms": self.max_lag_ms,
                          "fail_open": ["appointments"]}
        return cfg

    def migrate(self, cfg_path):
        r = self.h.stopgate_cli("db", "migrate", "-c", cfg_path)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def start_node(self, name, migrate=True, wait_sure=True, cfg=None):
        smsc = self.h.start_smsc("-u", "acme", "-w", "secret")
        if cfg is None:
            cfg = self.node_config(name, smsc.port)
        else:
            cfg["upstreams"][0]["port"] = smsc.port
        path = self.h.write_config(cfg, "node-%s.yaml" % name)
        if migrate:
            self.migrate(path)
        gw = self.h.start_stopgate(path, ports=[
            int(cfg["listeners"][0]["bind"].rsplit(":", 1)[1]),
            int(cfg["admin"]["bind"].rsplit(":", 1)[1])], name=name)
        gw.config = path
        gw.port = int(cfg["listeners"][0]["bind"].rsplit(":", 1)[1])
        n = Node(self, name, smsc, gw, cfg)
        self.nodes[name] = n
        harness.wait_until(lambda: smsc.ctl().stats()["bound"] >= 1,
                           timeout=10, what="%s bound upstream" % name)
        if wait_sure:
            self.wait_sure(n)
        return n

    def restart_node(self, n, kill=False):
        if kill:
            n.gw.kill9()
        elif n.gw.alive():
            self.assertEqual(n.gw.stop(), 0, n.gw.log_tail())
        gw = self.h.start_stopgate(n.gw.config, ports=[n.gw.port,
                                                       n.admin_port],
                                   name=n.name)
        gw.config = n.gw.config
        gw.port = n.gw.port
        n.gw = gw
        harness.wait_until(lambda: n.ctl.stats()["bound"] >= 1,
                           timeout=10, what="%s bound again" % n.name)
        return n

    def wait_sure(self, n, timeout=15):
        harness.wait_until(lambda: n.healthz()[0] == 200, timeout=timeout,
                           what="%s caught up (/healthz 200)" % n.name)

    def wait_blocked(self, n, number, timeout=10, system_id="marketing",
                     password="mkpass1", service_type=""):
        c = n.client(system_id, password)
        deadline = time.monotonic() + timeout
        while True:
            st, _ = c.submit("12345", number, "hi",
                             service_type=service_type)
            if st == 0x401:
                return
            if time.monotonic() > deadline:
                self.fail("%s still sends to %s (status 0x%x)" %
                          (n.name, number, st))
            time.sleep(0.02)

    def pg_count(self, where="true", kind="event"):
        return int(self.pg.sql("SELECT count(*) FROM events WHERE "
                               "kind = '%s' AND " % kind + where)[0][0])
