#!/usr/bin/env python3
"""Several nodes on one PostgreSQL (SPEC section 8), with a real server
(pgserver.py) and two or three real stopgate nodes.

- `stopgate db migrate` creates the schema and is idempotent;
- a STOP on node A is refused on node B, and is in PostgreSQL once;
- staff opt-outs and opt-ins on either node reach the other, in order;
- a node that joins late catches up from zero, its own history shipped;
- `stopgate status` shows the replication position;
- a config without `cluster:` is unchanged (every other test).
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import pgserver  # noqa: E402
from cluster_fixture import ClusterCase, SUB  # noqa: E402

harness.require(harness.STOPGATE, harness.SMSC_SIM)


@harness.unittest.skipUnless(pgserver.available(), "no PostgreSQL 15")
class TwoNodes(ClusterCase):
    def test_migrate_idempotent(self):
        cfg = self.node_config("a", 1)
        path = self.h.write_config(cfg, "a.yaml")
        out = self.migrate(path)
        self.assertIn("applied migration 1", out)
        self.assertIn("applied migration 2", out)
        self.assertIn("applied migration 3", out)
        self.assertIn("applied migration 4", out)
        out = self.migrate(path)
        self.assertIn("nothing to do", out)
        self.assertEqual(self.pg.sql("SELECT version FROM schema_version "
                                     "ORDER BY version"),
                         [["1"], ["2"], ["3"], ["4"]])

    def test_stop_on_a_refused_on_b(self):
        a = self.start_node("a")
        b = self.start_node("b")
        cb = b.client()
        self.assertEqual(cb.submit("12345", SUB, "hi")[0], 0)
        self.assertEqual(a.stop_mo(SUB), 0)
        self.wait_blocked(b, SUB)
        # In PostgreSQL once, from node a, and in b's history.
        self.assertEqual(self.pg_count("number = '%s'" % SUB), 1)
        self.assertEqual(self.pg.sql("SELECT node, body->>'action' FROM "
                                     "events WHERE kind = 'event'"),
                         [["a", "opt_out"]])
        h = b.cli("history", SUB)
        self.assertEqual(h.returncode, 0, h.stderr)
        self.assertIn("opt_out", h.stdout.replace("opted out", "opt_out"))
        # Other categories still flow on b (stop_scope is promo only).
        cf = b.client("frontdesk", "fdpass1")
        self.assertEqual(cf.submit("15550100", SUB, "appt")[0], 0)
        st = b.cli("status")
        self.assertEqual(st.returncode, 0, st.stderr)
        # The STOP and b's own audit record of the refused send.
        self.assertRegex(st.stdout, r"cluster node b: applied fleet seq "
                         r"\d+, journal \d+ rows? to ship")
        self.assertRegex(st.stdout, r"cluster: fleet seq \d+, \d+ behind, "
                         r"lag [0-9.]+ s")
        self.assertEqual(b.metric("stopgate_cluster_events_applied_total"),
                         1)
        code, hz = b.healthz()
        self.assertEqual(code, 200)
        self.assertTrue(hz["cluster"]["sure"])

    def test_staff_both_ways_in_order(self):
        a = self.start_node("a")
        b = self.start_node("b")
        num = "15551230009"
        r = a.cli("optout", "add", num, "--all", "--note", "phone call")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_blocked(b, num)
        # Opt back in on b for promo only, with consent: a follows.
        r = b.cli("optout", "remove", num, "--category", "promo",
                  "--consent", "signed form")
        self.assertEqual(r.returncode, 0, r.stderr)
        ca = a.client()
        harness.wait_until(lambda: ca.submit("12345", num, "x")[0] == 0,
                           timeout=10, what="a to follow b's opt-in")
        # Billing is still blocked on a (global flag, promo exception).
        cf = a.client("frontdesk", "fdpass1")
        st, _ = cf.submit("15550100", num, "bill", service_type="BILL")
        self.assertEqual(st, 0x401)
        self.assertEqual(self.pg.sql(
            "SELECT category, is_exception FROM state WHERE number = '%s' "
            "ORDER BY category" % num), [["*", "f"], ["promo", "t"]])
        for n in (a, b):
            s = n.cli("status", num, "--format", "jsonl")
            self.assertEqual(s.returncode, 0, s.stderr)
        self.assertEqual(a.cli("status", num).stdout.count("blocked"),
                         b.cli("status", num).stdout.count("blocked"))

    def test_audit_reads_the_fleet(self):
        """A send refused on b is in a's audit log (and in
        PostgreSQL once), with its account and category."""
        a = self.start_node("a")
        b = self.start_node("b")
        num = "15551230042"
        r = a.cli("optout", "add", num, "--category", "promo")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.wait_blocked(b, num)
        harness.wait_until(lambda: self.pg_count(kind="audit") >= 1,
                           timeout=10, what="b's audit record shipped")
        rows = self.pg.sql("SELECT node, number, body->>'account', "
                           "body->>'category', body->>'status' FROM events "
                           "WHERE kind = 'audit'")
        self.assertEqual(rows[0], ["b", num, "marketing", "promo",
                                   str(0x401)])

        def on_a():
            r = a.cli("audit", "--number", num, "--format", "jsonl")
            return r.returncode == 0 and "marketing" in r.stdout
        harness.wait_until(on_a, timeout=10, what="b's refusal on a")
        self.assertEqual(self.pg_count(kind="audit"),
                         len(rows))

    def test_review_on_any_node(self):
        """An ambiguous reply on a is in b's review queue; b resolves it
        with an opt-out: a's queue is empty and a enforces the opt-out."""
        a = self.start_node("a")
        b = self.start_node("b")
        self.assertEqual(a.stop_mo(SUB, "15550100",
                                   "please cancel my appointment"), 0)

        def listed(n):
            r = n.cli("review", "list", "--format", "jsonl")
            return [json.loads(x) for x in r.stdout.splitlines()]
        harness.wait_until(lambda: len(listed(b)) == 1, timeout=10,
                           what="a's review item on b")
        item = listed(b)[0]
        self.assertEqual(item["number"], SUB)
        self.assertIn("cancel", json.dumps(item))
        r = b.cli("review", "resolve", str(item["id"]), "--optout",
                  "--note", "called back")
        self.assertEqual(r.returncode, 0, r.stderr)
        harness.wait_until(lambda: listed(a) == [], timeout=10,
                           what="b's resolution on a")
        self.wait_blocked(a, SUB)
        kinds = self.pg.sql("SELECT node, kind FROM events WHERE kind "
                            "LIKE 'review%' ORDER BY seq")
        self.assertEqual(kinds, [["a", "review"], ["b", "review_done"]])
        self.assertEqual(self.pg.sql(
            "SELECT body->>'origin_node', body->>'status' FROM events "
            "WHERE kind = 'review_done'"), [["a", "opted_out"]])

    def test_reply_waits_then_crosses_nodes(self):
        """A subscriber's ordinary reply for frontdesk arrives on a while
        frontdesk is bound nowhere: acknowledged, it waits in
        PostgreSQL's shared outbox; frontdesk binds on b and gets it
        there, once."""
        a = self.start_node("a")
        b = self.start_node("b")
        self.assertEqual(a.stop_mo(SUB, "15550100", "running late"), 0)
        harness.wait_until(
            lambda: self.pg.sql("SELECT count(*) FROM outbox")[0][0] == "1",
            timeout=10, what="the reply in the shared outbox")
        self.assertEqual(self.pg.sql("SELECT account, from_node FROM "
                                     "outbox"), [["frontdesk", "a"]])
        fd = b.client("frontdesk", "fdpass1")
        self.assertEqual(fd.wait_deliver(10).text(), "running late")
        harness.wait_until(
            lambda: self.pg.sql("SELECT count(*) FROM outbox")[0][0] == "0",
            timeout=10, what="the shared outbox emptied")
        # A second reply while frontdesk is bound on b only: it crosses.
        self.assertEqual(a.stop_mo(SUB, "15550100", "see you at 3"), 0)
        self.assertEqual(fd.wait_deliver(10).text(), "see you at 3")
        self.assertGreaterEqual(
            a.metric("stopgate_cluster_outbox_moved_total"), 2)
        with self.assertRaises(Exception):
            fd.wait_deliver(1)

    def test_receipt_crosses_nodes(self):
        """A message sent through a; the carrier delivers its receipt on
        b, which has never seen the message id: b finds it in the
        fleet's receipt map and the receipt reaches marketing, bound on
        a only."""
        a = self.start_node("a")
        b = self.start_node("b")
        ca = a.client()
        st, mid = ca.submit("12345", "15551239000", "your order shipped",
                            registered_delivery=1)
        self.assertEqual(st, 0)
        self.assertTrue(mid)
        harness.wait_until(
            lambda: self.pg.sql("SELECT count(*) FROM receipt_map WHERE "
                                "node = 'a'")[0][0] == "1",
            timeout=10, what="a's message id in the fleet's map")
        # Not a's own receipt from its SMSC (DELIVRD): b's (UNDELIV).
        b.ctl.cmd("dlr %s UNDELIV 15551239000 12345" % mid)
        d = ca.wait_deliver(15, pred=lambda p: b"stat:UNDELIV" in
                            p.get("short_message", b""))
        self.assertIn(("id:%s" % mid).encode(), d.get("short_message"))
        self.assertIn("event=receipt_kept account=@fleet-receipts",
                      b.gw.log_text())

    def test_less_crosses_nodes(self):
        # LESS on a (SPEC section 9) switches the number to the stricter
        # cap on b too; it is an event of the fleet, not an opt-out.
        def with_caps(name):
            cfg = self.node_config(name, 1)
            cfg["frequency"] = [{"category": "promo", "max": 3, "per": "1d",
                                 "less": {"max": 1, "per": "1d"}}]
            return cfg
        a = self.start_node("a", cfg=with_caps("a"))
        b = self.start_node("b", cfg=with_caps("b"))
        self.assertEqual(a.stop_mo(SUB, text="LESS"), 0)

        def less_on_b():
            r = b.cli("status", SUB, "--format", "jsonl")
            if r.returncode != 0:
                return None
            for line in r.stdout.splitlines():
                j = json.loads(line)
                if j.get("category") == "promo" and j.get("less"):
                    return j
            return None
        harness.wait_until(less_on_b, timeout=10, what="LESS on b")
        self.assertEqual(self.pg.sql("SELECT node, body->>'action' FROM "
                                     "events WHERE kind = 'event'"),
                         [["a", "less"]])
        # Not an opt-out anywhere: the fleet state has no row, and b
        # forwards one promo text, then refuses the next with 0x402.
        self.assertEqual(self.pg_count("true", kind="event"), 1)
        self.assertEqual(self.pg.sql("SELECT count(*) FROM state"), [["0"]])
        # The daemon follows its store's event feed every second.
        time.sleep(1.5)
        cb = b.client()
        self.assertEqual(cb.submit("12345", SUB, "sale 1")[0], 0)
        self.assertEqual(cb.submit("12345", SUB, "sale 2")[0], 0x402)

    def test_caps_count_every_node(self):
        # A cap of 2 a day (SPEC section 9) counts the sends of the whole
        # fleet: one on a and one on b, and the third is refused on
        # either node once each has applied the other's.
        def with_caps(name):
            cfg = self.node_config(name, 1)
            cfg["frequency"] = [{"category": "promo", "max": 2,
                                 "per": "1d"}]
            return cfg
        a = self.start_node("a", cfg=with_caps("a"))
        # A sent row older than the longest window goes (b deletes on
        # its first turn): the log does not grow with the traffic.
        self.pg.sql("WITH c AS (UPDATE fleet_counter SET seq = seq + 1 "
                    "WHERE id = 1 RETURNING seq) "
                    "INSERT INTO events (seq, node, kind, local_id, number, "
                    "time, body) SELECT c.seq, 'z', 'sent', 1, '1', "
                    "now() - interval '2 days', '{\"category\": "
                    "\"promo\", \"time\": 1}' FROM c")
        b = self.start_node("b", cfg=with_caps("b"))
        harness.wait_until(lambda: self.pg_count("node = 'z'",
                                                 kind="sent") == 0,
                           timeout=10, what="old sent row deleted")
        self.assertEqual(a.client().submit("12345", SUB, "sale 1")[0], 0)
        self.assertEqual(b.client().submit("12345", SUB, "sale 2")[0], 0)

        def sent_on(node):
            def check():
                r = node.cli("status", SUB, "--format", "jsonl")
                if r.returncode != 0:
                    return None
                for line in r.stdout.splitlines():
                    j = json.loads(line)
                    if j.get("category") == "promo" and j.get("sent") == 2:
                        return j
                return None
            return check
        harness.wait_until(sent_on(a), timeout=10, what="2 sends on a")
        harness.wait_until(sent_on(b), timeout=10, what="2 sends on b")
        # Small rows: the number, the time and {category, time}.
        self.assertEqual(sorted(self.pg.sql(
            "SELECT node, number, body->>'category' FROM events "
            "WHERE kind = 'sent'")), [["a", SUB, "promo"],
                                      ["b", SUB, "promo"]])
        # The daemons read their store's send log every 100 ms.
        time.sleep(0.5)
        self.assertEqual(a.client().submit("12345", SUB, "sale 3")[0], 0x402)
        self.assertEqual(b.client().submit("12345", SUB, "sale 3")[0], 0x402)
        # Another number is not capped by them.
        other = SUB[:-1] + ("1" if SUB[-1] != "1" else "2")
        self.assertEqual(b.client().submit("12345", other, "sale")[0], 0)

    def test_late_joiner_catches_up(self):
        a = self.start_node("a")
        nums = ["1555123%04d" % i for i in range(40)]
        for num in nums[:20]:
            r = a.cli("optout", "add", num, "--category", "promo")
            self.assertEqual(r.returncode, 0, r.stderr)
        # c had history of its own before it joined the fleet.
        cfg_c = self.node_config("c", 1)
        del cfg_c["cluster"]
        pre = self.h.write_config(cfg_c, "c-pre.yaml")
        r = self.h.stopgate_cli("optout", "add", nums[30], "--category",
                                "promo", "-c", pre)
        self.assertEqual(r.returncode, 0, r.stderr)
        cfg_c["cluster"] = self.node_config("c", 1)["cluster"]
        c = self.start_node("c", cfg=cfg_c)
        for num in nums[:20] + [nums[30]]:
            self.wait_blocked(c, num, timeout=5)
        self.wait_blocked(a, nums[30])
        self.assertEqual(self.pg_count(), 21)
        # Three nodes: b joins last and sees both.
        b = self.start_node("b")
        self.wait_blocked(b, nums[0])
        self.wait_blocked(b, nums[30])
        cb = b.client()
        self.assertEqual(cb.submit("12345", nums[35], "x")[0], 0)

    def test_node_name_bound_to_store(self):
        a = self.start_node("a")
        self.assertEqual(a.gw.stop(), 0)
        cfg = dict(a.cfg)
        cfg["cluster"] = dict(cfg["cluster"], node="other")
        path = self.h.write_config(cfg, "renamed.yaml")
        gw = self.h.start_stopgate(path, ports=[], name="renamed")
        self.assertEqual(gw.wait(15), 1)
        self.assertIn("belongs to cluster node 'a'", gw.log_text())


if __name__ == "__main__":
    harness.main()
