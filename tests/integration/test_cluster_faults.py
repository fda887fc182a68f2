#!/usr/bin/env python3
"""Several nodes when things fail (SPEC sections 7 and 8), with a real
PostgreSQL (pgserver.py):

- PostgreSQL stopped mid-traffic: a STOP is still acknowledged (LMDB
  only); past max_lag_ms the node answers 0x58 to sends in categories not
  in fail_open while fail_open ones flow, /healthz is 503 with the reason
  and /metrics shows the lag; after PostgreSQL restarts the STOP is
  shipped, the other node enforces it, and both recover on their own;
- a node SIGKILLed while it ships a large import: after its restart the
  journal drains and PostgreSQL holds every event exactly once;
- a node started before `db migrate` stays unsure and says why, then
  catches up once the schema is there;
- while a long transaction holds the fleet order (a node's large
  shipping batch), receipt map entries still reach PostgreSQL, and the
  events queued behind it follow once it ends;
- a node SIGKILLed while it moves a reply to the shared outbox (its
  insert held by a table lock): the reply is not lost; the insert
  completes in PostgreSQL and the node, restarted, moves its own copy
  again (at least once, as SMPP: one duplicate at most), so the account
  gets it where it binds;
- a node whose store is held by a long write (its follower cannot commit)
  still refuses a STOP from another node at once: what it has read from
  PostgreSQL is enforced before its store has it, and the refusal is
  audited; once the store is free the opt-out is there for good.
"""

import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import pgserver  # noqa: E402
from cluster_fixture import ClusterCase, SUB  # noqa: E402

harness.require(harness.STOPGATE, harness.SMSC_SIM)


@harness.unittest.skipUnless(pgserver.available(), "no PostgreSQL 15")
class Faults(ClusterCase):
    def test_postgres_restart_mid_traffic(self):
        a = self.start_node("a")
        b = self.start_node("b")
        self.pg.stop()
        # The STOP is acknowledged as ever: PostgreSQL is not waited for.
        # (No department bound yet: the STOP's copy for the department
        # waits in the outbox instead of holding the answer.)
        self.assertEqual(a.stop_mo(SUB), 0)
        ca = a.client()
        cf = a.client("frontdesk", "fdpass1")
        harness.wait_until(lambda: a.healthz()[0] == 503, timeout=10,
                           what="a unsure without PostgreSQL")
        code, hz = a.healthz()
        self.assertEqual(hz["status"], "cluster_unsure")
        self.assertIn("PostgreSQL", hz["cluster"]["reason"])
        self.assertGreater(a.metric("stopgate_cluster_lag_seconds"), 1.0)
        self.assertEqual(a.metric("stopgate_cluster_journal_depth"), 1)
        # Not fail_open (promo): throttled; fail_open (appointments):
        # flows on the local replica.
        self.assertEqual(ca.submit("12345", "15551239999", "x")[0], 0x58)
        self.assertEqual(cf.submit("15550100", "15551239999", "x")[0], 0)
        self.assertGreaterEqual(
            a.metric("stopgate_cluster_refused_total"), 1)
        # Staff can still record an opt-out on b meanwhile.
        r = b.cli("optout", "add", "15551230077", "--all")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.pg.start()
        self.wait_sure(a, timeout=20)
        self.wait_sure(b, timeout=20)
        self.wait_blocked(b, SUB)
        self.wait_blocked(a, "15551230077")
        self.assertEqual(self.pg_count(), 2)
        self.assertEqual(ca.submit("12345", "15551239999", "x")[0], 0)
        self.assertEqual(a.metric("stopgate_cluster_journal_depth"), 0)
        self.assertIn("event=cluster_unsure", a.gw.log_text())
        self.assertIn("event=cluster_caught_up", a.gw.log_text())

    def test_kill9_mid_shipping(self):
        a = self.start_node("a")
        b = self.start_node("b")
        n = 5000
        csv = self.h.path("import.csv")
        with open(csv, "w") as f:
            f.write("number,category,note\n")
            for i in range(n):
                f.write("1555200%04d,promo,row %d\n" % (i, i))
        r = a.cli("import", csv)
        self.assertEqual(r.returncode, 0, r.stderr)
        a.gw.kill9()
        shipped = self.pg_count()
        self.restart_node(a)
        harness.wait_until(lambda: self.pg_count() == n, timeout=30,
                           what="every imported event in PostgreSQL")
        harness.wait_until(
            lambda: a.metric("stopgate_cluster_journal_depth") == 0,
            timeout=10, what="a's journal drained")
        self.assertEqual(self.pg.sql(
            "SELECT count(DISTINCT (node, local_id)), count(*), "
            "max(seq) - min(seq) + 1 FROM events WHERE kind = 'event'"),
            [[str(n), str(n), str(n)]])
        harness.wait_until(
            lambda: b.metric("stopgate_cluster_applied_seq") == n,
            timeout=30, what="b applied every event")
        self.wait_blocked(b, "15552000000")
        self.wait_blocked(b, "1555200%04d" % (n - 1))
        sys.stderr.write("(shipped before the kill: %d of %d) " %
                         (shipped, n))

    def test_reload_changes_fail_open(self):
        """SIGHUP swaps in a new fail_open while the node stays in the
        fleet: with PostgreSQL gone, promo flows once it is fail_open,
        appointments stops once it is not."""
        a = self.start_node("a")
        self.pg.stop()
        harness.wait_until(lambda: a.healthz()[0] == 503, timeout=10,
                           what="a unsure without PostgreSQL")
        ca = a.client()
        cf = a.client("frontdesk", "fdpass1")
        self.assertEqual(ca.submit("12345", "15551239999", "x")[0], 0x58)
        self.assertEqual(cf.submit("15550100", "15551239999", "x")[0], 0)
        cfg = dict(a.cfg)
        cfg["cluster"] = dict(cfg["cluster"], fail_open=["promo"])
        self.h.write_config(cfg, os.path.basename(a.gw.config))
        a.gw.send_signal(signal.SIGHUP)
        harness.wait_until(
            lambda: ca.submit("12345", "15551239999", "x")[0] == 0,
            timeout=10, what="promo fail_open after SIGHUP")
        self.assertEqual(cf.submit("15550100", "15551239999", "x")[0], 0x58)
        self.pg.start()
        self.wait_sure(a, timeout=20)
        self.assertEqual(cf.submit("15550100", "15551239999", "x")[0], 0)

    def hold_lock(self, sql):
        """A psql session of our own that has run sql (taking a lock) in
        an open transaction; release() it. Fails if psql ends first."""
        p = subprocess.Popen(
            [pgserver.PSQL, "-h", "127.0.0.1", "-p", str(self.pg.port),
             "-U", "postgres", "-d", self.pg.dbname, "-At", "-v",
             "ON_ERROR_STOP=1"], stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, text=True)
        self.addCleanup(lambda: (p.poll() is None and p.kill(), p.wait()))
        p.stdin.write("BEGIN; %s; \\echo locked\n" % sql)
        p.stdin.flush()
        while True:
            line = p.stdout.readline()
            self.assertNotEqual(line, "", "psql ended before the lock")
            if line.strip() == "locked":
                return p

    @staticmethod
    def release(p):
        p.stdin.write("COMMIT;\n")
        p.stdin.close()
        p.wait(10)

    def test_receipt_map_not_behind_fleet_order(self):
        a = self.start_node("a")
        # Another session holds the fleet order's row lock, as a long
        # shipping transaction of another node would.
        lock = self.hold_lock("SELECT seq FROM fleet_counter WHERE id = 1 "
                              "FOR UPDATE")
        ca = a.client()
        st, mid = ca.submit("12345", "15551239000", "your order shipped",
                            registered_delivery=1)
        self.assertEqual(st, 0)
        harness.wait_until(
            lambda: self.pg.sql("SELECT count(*) FROM receipt_map WHERE "
                                "node = 'a'")[0][0] == "1",
            timeout=10, what="the message id in the fleet's map")
        # An opt-out waits for the order, then follows. (The department
        # gone, the STOP's copy waits in the outbox, not in its answer.)
        ca.close()
        self.assertEqual(a.stop_mo(SUB), 0)
        time.sleep(0.5)
        self.assertEqual(self.pg_count(), 0)
        self.release(lock)
        harness.wait_until(lambda: self.pg_count() == 1, timeout=10,
                           what="the STOP shipped after the lock")

    def test_kill_mid_outbox_move(self):
        a = self.start_node("a")
        b = self.start_node("b")
        lock = self.hold_lock("LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE")
        # frontdesk is bound nowhere: the reply goes to a's outbox, and
        # a's shipper starts moving it, blocked on the lock.
        self.assertEqual(a.stop_mo(SUB, "15550100", "running late"), 0)
        harness.wait_until(
            lambda: self.pg.sql("SELECT count(*) FROM pg_stat_activity "
                                "WHERE wait_event_type = 'Lock'")[0][0] !=
            "0", timeout=10, what="a's move waiting for the lock")
        a.gw.kill9()
        self.release(lock)
        self.restart_node(a)
        harness.wait_until(
            lambda: self.pg.sql("SELECT count(*) FROM outbox")[0][0] == "2",
            timeout=15, what="a's copy moved again after its restart")
        fd = b.client("frontdesk", "fdpass1")
        self.assertEqual(fd.wait_deliver(15).text(), "running late")
        self.assertEqual(fd.wait_deliver(15).text(), "running late")
        harness.wait_until(
            lambda: self.pg.sql("SELECT count(*) FROM outbox")[0][0] == "0",
            timeout=10, what="the shared outbox emptied")
        with self.assertRaises(Exception):
            fd.wait_deliver(1)

    def test_started_before_migrate(self):
        a = self.start_node("a", migrate=False, wait_sure=False)
        harness.wait_until(lambda: "db migrate" in
                           a.healthz()[1]["cluster"]["reason"],
                           timeout=10, what="a says to migrate")
        self.assertEqual(a.healthz()[0], 503)
        self.migrate(a.gw.config)
        self.wait_sure(a, timeout=20)


@harness.unittest.skipUnless(pgserver.available(), "no PostgreSQL 15")
class BusyStore(ClusterCase):
    # Long enough that b stays sure while its follower waits for the
    # store: the refusal seen must be the opt-out's (0x401), not 0x58.
    max_lag_ms = 8000

    def hold_store(self, n):
        """Keep n's store write lock (an LMDB write transaction in
        another process) until the returned process's stdin closes."""
        tool = os.path.join(harness.BUILD, "tools", "store_tool")
        p = subprocess.Popen([tool, "hold", n.cfg["store"]["path"]],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True)
        self.addCleanup(lambda: (p.poll() is None and p.kill(), p.wait()))
        self.assertEqual(p.stdout.readline().strip(), "held")
        return p

    def test_refused_while_store_is_busy(self):
        a = self.start_node("a")
        b = self.start_node("b")
        cb = b.client()
        self.assertEqual(cb.submit("12345", SUB, "before")[0], 0)
        held = self.hold_store(b)
        t0 = time.monotonic()
        self.assertEqual(a.stop_mo(SUB), 0)
        harness.wait_until(
            lambda: cb.submit("12345", SUB, "x")[0] == 0x401, timeout=5,
            interval=0.02, what="b refuses while its store is held")
        self.assertLess(time.monotonic() - t0, 5)
        # The store has not got it yet: b's follower is still waiting.
        self.assertEqual(b.metric("stopgate_cluster_events_applied_total"),
                         0)
        self.assertEqual(held.poll(), None)
        held.stdin.close()
        held.wait(10)
        harness.wait_until(
            lambda: b.metric("stopgate_cluster_events_applied_total") == 1,
            timeout=10, what="b applied the STOP")
        self.assertEqual(cb.submit("12345", SUB, "after")[0], 0x401)
        # The refusals are audited on b like any opted-out send; the
        # early one before b had the event names it as the fleet's.
        harness.wait_until(
            lambda: "not yet in this node's store" in
            b.cli("audit", "--number", SUB).stdout,
            timeout=10, what="b's audit shows the early refusal")


if __name__ == "__main__":
    harness.main()
