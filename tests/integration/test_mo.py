#!/usr/bin/env python3
"""stopgate proxy, subscriber replies (SPEC section 4): STOP blocks and is
confirmed once from the number written to; START, HELP (even when opted
out), multipart and UCS-2 STOP, a confirmation that waits while every
SMSC connection is full instead of being lost, ambiguous text to the
review queue, the
opt-out surviving kill -9 right after the deliver_sm_resp, and the outbox
delivered in order once the account's receiver binds.

MO_CRASH_TRIALS (default 20) sets the kill -9 loop length.
"""

import csv
import io
import json
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import smpp  # noqa: E402

harness.require(harness.STOPGATE, harness.SMSC_SIM)

SUB = "15551230000"
OPTOUT_PROMO = ("You're opted out of promo texts from Acme Clinic. "
                "Reply START to resubscribe.")
OPTOUT_ALL = ("You're opted out of all texts from Acme Clinic. "
              "Reply START to resubscribe.")
OPTIN_PROMO = ("You're subscribed again to promo texts from Acme Clinic. "
               "Reply STOP to opt out.")
HELP = "Acme Clinic: reply STOP to opt out, START to opt back in."


class MoCase(harness.TestCase):
    def start(self, edit=None):
        def ed(cfg):
            cfg["timeouts"] = {"shutdown_ms": 1000}
            if edit is not None:
                edit(cfg)
        self.smsc, self.gw, self.cfg = self.h.start_stack(edit=ed)
        self.ctl = self.smsc.ctl()

    def client(self, system_id, password, kind="trx"):
        c = smpp.Client.connect(self.gw.port)
        self.addCleanup(c.close)
        self.assertEqual(c.bind(kind, system_id, password), 0)
        return c

    def mo(self, src, dst, data, dcs=0, *opts):
        """Push an MO, waiting (bounded) for stopgate's upstream session
        to be there (after a restart the simulator may still count the
        old one)."""
        deadline = time.monotonic() + 10
        while True:
            try:
                return self.ctl.mo(src, dst, data, dcs, *opts)
            except harness.HarnessError as e:
                if "no receiver" not in str(e) or \
                        time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def push(self, src, dst, data, dcs=0, *opts, status=0):
        """An MO through the SMSC; asserts the deliver_sm_resp status."""
        seq = self.mo(src, dst, data, dcs, *opts)
        st = self.ctl.wait_resp(seq, 10)
        self.assertEqual(st, status, "deliver_sm_resp for %r" % (data,))
        return st

    def cli(self, *args):
        r = self.h.stopgate_cli(*args, "-c", self.gw.config)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def status(self, number):
        """{category: "allowed" | "blocked"} from `stopgate status`."""
        out = self.cli("status", number, "--format", "jsonl")
        return {j["category"]: j["status"]
                for j in map(json.loads, out.splitlines())}

    def confirmations(self, dst):
        """Submits the SMSC received for dst (our confirmations)."""
        return [s for s in self.ctl.last(200) if s["dst"] == dst]

    def wait_confirmations(self, dst, n):
        return harness.wait_until(
            lambda: (lambda c: c if len(c) >= n else None)(
                self.confirmations(dst)),
            timeout=5, what="%d confirmation(s) to %s" % (n, dst))

    def text(self, sub):
        data = sub["data"]
        if int(sub.get("esm", "0"), 0) & 0x40:
            data = data[data[0] + 1:]
        return smpp.text_decode(data, sub["dcs"])


class TestAttribution(MoCase):
    def test_stats_show_what_drove_each_optout(self):
        """A scripted day: three departments' messages, then each
        recipient replies STOP. `stopgate stats` attributes every opt-out
        to the account and category of the last message sent to that
        number before it, and `history` records it on the event."""
        self.start()
        mk = self.client("marketing", "mkpass1")
        fd = self.client("frontdesk", "fdpass1")
        subs = {"15551230001": (mk, "12345", "", "marketing/promo"),
                "15551230002": (fd, "15550100", "",
                                "frontdesk/appointments"),
                "15551230003": (fd, "15550100", "BILL",
                                "frontdesk/billing")}
        for sub, (c, src, st, _) in subs.items():
            self.assertEqual(c.submit(src, sub, b"hello",
                                      service_type=st)[0], 0)
        # an earlier message is superseded by the last one
        self.assertEqual(mk.submit("12345", "15551230002", b"sale")[0], 0)
        self.assertEqual(fd.submit("15550100", "15551230002",
                                   b"see you at 3")[0], 0)
        for sub, (c, src, _, _) in subs.items():
            seq = self.mo(sub, src, "STOP")
            # the department sees the reply and answers it
            self.assertEqual(c.wait_deliver(5).text(), "STOP")
            self.assertEqual(self.ctl.wait_resp(seq, 10), 0)
        stats = [json.loads(x) for x in self.cli(
            "stats", "--format", "jsonl").splitlines()]
        self.assertEqual(stats[0]["opt_outs"], 3)
        drivers = {x["key"]: x["opt_outs"] for x in stats
                   if x.get("by") == "last_sent"}
        self.assertEqual(drivers, {"marketing/promo": 1,
                                   "frontdesk/appointments": 1,
                                   "frontdesk/billing": 1})
        self.assertIn("marketing/promo", self.cli("stats"))
        ev = json.loads(self.cli("history", "15551230003", "--format",
                                 "jsonl").splitlines()[0])
        self.assertEqual(ev["last_sent"]["account"], "frontdesk")
        self.assertEqual(ev["last_sent"]["category"], "billing")
        self.assertEqual(ev["last_sent"]["service_type"], "BILL")


class TestKeywords(MoCase):
    def test_stop_blocks_and_confirms(self):
        self.start()
        mk = self.client("marketing", "mkpass1")
        seq = self.mo(SUB, "12345", "STOP")
        # The department still sees the reply; its answer goes to the
        # SMSC.
        d = mk.wait_deliver(5)
        self.assertEqual(d.text(), "STOP")
        self.assertEqual(self.ctl.wait_resp(seq, 10), 0)
        self.assertEqual(self.status(SUB), {"promo": "blocked",
                                            "appointments": "allowed",
                                            "billing": "allowed"})
        c = self.wait_confirmations(SUB, 1)
        self.assertEqual(len(c), 1)
        self.assertEqual(c[0]["src"], "12345")  # the number written to
        self.assertEqual(self.text(c[0]), OPTOUT_PROMO)
        self.assertEqual(c[0].get("rd"), "0x00")
        # The department can no longer send promo to the number.
        st, _ = mk.submit("12345", SUB, b"sale!")
        self.assertEqual(st, 0x401)

    def test_duplicate_stop_one_confirmation(self):
        self.start()
        self.push(SUB, "15550100", "STOP")
        self.push(SUB, "15550100", "STOP")   # an SMSC retry
        self.wait_confirmations(SUB, 1)
        time.sleep(0.5)
        c = self.confirmations(SUB)
        self.assertEqual(len(c), 1)
        self.assertEqual(self.text(c[0]), OPTOUT_ALL)
        self.assertEqual(set(self.status(SUB).values()), {"blocked"})

    def test_start_and_help(self):
        self.start()
        self.push(SUB, "12345", "Stop")
        self.assertEqual(self.status(SUB)["promo"], "blocked")
        self.push(SUB, "12345", "start")
        self.assertEqual(self.status(SUB)["promo"], "allowed")
        c = self.wait_confirmations(SUB, 2)
        self.assertEqual(self.text(c[1]), OPTIN_PROMO)
        # HELP, also to a number that is opted out.
        other = "15551230001"
        self.push(other, "12345", "STOP")
        self.push(other, "12345", "HELP")
        c = self.wait_confirmations(other, 2)
        self.assertEqual(self.text(c[1]), HELP)
        self.assertEqual(self.status(other)["promo"], "blocked")

    def test_multipart_stop(self):
        self.start()
        # UDH 8-bit reference: decided on the last part only.
        self.push(SUB, "12345", smpp.udh_concat(7, 2, 1) +
                  smpp.gsm7_encode("Please st"), 0, "udh")
        self.assertEqual(self.status(SUB)["promo"], "allowed")
        self.push(SUB, "12345", smpp.udh_concat(7, 2, 2) +
                  smpp.gsm7_encode("op texting me"), 0, "udh")
        self.assertEqual(self.status(SUB)["promo"], "blocked")
        self.wait_confirmations(SUB, 1)
        # SAR TLVs, parts out of order.
        other = "15551230002"
        self.push(other, "12345", "OP", 0, "sar=300/2/2")
        self.assertEqual(self.status(other)["promo"], "allowed")
        self.push(other, "12345", "ST", 0, "sar=300/2/1")
        self.assertEqual(self.status(other)["promo"], "blocked")

    def test_ucs2_stop(self):
        self.start()
        self.push(SUB, "12345", "ＳＴＯＰ".encode("utf-16-be"), 8)
        self.assertEqual(self.status(SUB)["promo"], "blocked")
        self.wait_confirmations(SUB, 1)

    def test_ambiguous_goes_to_review(self):
        self.start()
        fd = self.client("frontdesk", "fdpass1")
        seq = self.mo(SUB, "15550100", "please cancel my appointment")
        self.assertEqual(fd.wait_deliver(5).text(),
                         "please cancel my appointment")
        self.assertEqual(self.ctl.wait_resp(seq, 10), 0)
        self.assertEqual(set(self.status(SUB).values()), {"allowed"})
        out = self.cli("review", "list", "--format", "jsonl")
        items = [json.loads(x) for x in out.splitlines()]
        self.assertEqual(len(items), 1, out)
        self.assertIn("please cancel my appointment", json.dumps(items[0]))
        time.sleep(0.3)
        self.assertEqual(self.confirmations(SUB), [])

    def test_review_resolved_from_cli(self):
        """review resolve --optout takes the stop_scope of the number
        written to when no flag names one, or the --category given."""
        self.start()
        other = "15551239998"
        self.push(SUB, "12345", "please cancel my appointment")
        self.push(other, "15550100", "please cancel my appointment")
        items = {j["number"]: j["id"] for j in map(json.loads, self.cli(
            "review", "list", "--format", "jsonl").splitlines())}
        self.cli("review", "resolve", str(items[SUB]), "--optout",
                 "--note", "asked by phone")
        self.assertEqual(self.status(SUB), {"promo": "blocked",
                                            "appointments": "allowed",
                                            "billing": "allowed"})
        self.cli("review", "resolve", str(items[other]), "--optout",
                 "--category", "billing", "--note", "billing only")
        self.assertEqual(self.status(other), {"promo": "allowed",
                                              "appointments": "allowed",
                                              "billing": "blocked"})
        hist = [json.loads(x) for x in self.cli(
            "history", other, "--format", "jsonl").splitlines()]
        self.assertEqual([(h["rule"], h["source"], h["scope"], h["note"])
                          for h in hist],
                         [("review", "staff", "billing", "billing only")])
        self.assertEqual(self.cli("review", "list"), "")

    def test_odd_addresses_escaped_in_cli_output(self):
        """The SMSC's addresses reach the CLI's machine formats: an
        alphanumeric sender (TON 5) may hold a quote or a comma, and a
        destination that does not normalise is recorded as it came. history,
        review list and export used to print them unescaped, so a jsonl line
        did not parse and a csv row grew extra columns."""
        self.start()
        odd_to, alnum = '12"4,5', 'Ac"me,x'
        self.push(SUB, odd_to, "STOP")
        self.push(alnum, "15550100", "please cancel my appointment", 0,
                  "sto=5")
        self.push(alnum, odd_to, "STOP", 0, "sto=5")
        hist = [json.loads(x) for x in
                self.cli("history", SUB, "--format", "jsonl").splitlines()]
        self.assertEqual([h["inbound"] for h in hist], [odd_to])
        review = [json.loads(x) for x in self.cli(
            "review", "list", "--format", "jsonl").splitlines()]
        self.assertEqual([r["number"] for r in review], [alnum])
        export = [json.loads(x) for x in
                  self.cli("export", "--format", "jsonl").splitlines()]
        self.assertEqual(sorted(e["number"] for e in export),
                         sorted([SUB, alnum]))
        for args in (("history", SUB), ("review", "list"), ("export",)):
            rows = list(csv.reader(io.StringIO(
                self.cli(*args, "--format", "csv"))))
            self.assertGreater(len(rows), 1, args)
            for row in rows[1:]:
                self.assertEqual(len(row), len(rows[0]), (args, row))
            self.assertTrue(any(odd_to in r or alnum in r
                                for r in rows[1:]), (args, rows))


class TestConfirmWaits(MoCase):
    def test_confirmation_waits_for_window(self):
        """A STOP while the SMSC connection's window is full of a
        department's sends: the opt-out is acknowledged at once and the
        confirmation goes as soon as the SMSC answers them."""
        def ed(cfg):
            cfg["upstreams"][0]["window"] = 2
        self.start(ed)
        self.ctl.cmd("set delay 1500")
        mk = self.client("marketing", "mkpass1")
        seqs = [mk.submit_async("12345", "1555999000%d" % i, "hi")
                for i in range(2)]
        time.sleep(0.2)     # both in the window, unanswered
        seq = self.mo(SUB, "12345", "STOP")
        d = mk.wait_deliver(5)
        self.assertEqual(d.text(), "STOP")
        t0 = time.monotonic()
        self.assertEqual(self.ctl.wait_resp(seq, 10), 0)
        self.assertLess(time.monotonic() - t0, 1.0)
        self.assertEqual(self.status(SUB)["promo"], "blocked")
        c = self.wait_confirmations(SUB, 1)
        self.assertEqual(self.text(c[0]), OPTOUT_PROMO)
        for q in seqs:
            self.assertEqual(mk.wait_resp(q, 10).status, 0)
        log = self.gw.log_text()
        self.assertIn("event=confirm_waiting number=%s" % SUB, log)
        self.assertNotIn("confirm_dropped", log)


class TestDurability(MoCase):
    def test_optout_survives_kill9(self):
        trials = int(os.environ.get("MO_CRASH_TRIALS", "20"))
        self.start()
        lost = []
        for i in range(trials):
            number = "1555990%04d" % i
            seq = self.mo(number, "12345", smpp.gsm7_encode("STOP"), 0)
            st = self.ctl.wait_resp(seq, 10)
            # kill -9 as soon as the SMSC has its OK.
            self.gw.kill9()
            self.assertEqual(st, 0)
            if self.status(number).get("promo") != "blocked":
                lost.append(number)
            self.gw = self.h.start_stopgate(self.gw.config, ports=[
                self.gw.port])
            harness.wait_until(
                lambda: self.ctl.stats()["bound"] >= 1, 10,
                what="stopgate to bind upstream again")
        print("kill -9 after deliver_sm_resp: %d trials, %d opt-outs "
              "lost" % (trials, len(lost)))
        self.assertEqual(lost, [])

    def test_multipart_stop_survives_kill9(self):
        # Each acknowledged part is durable: a STOP split over parts is
        # acted on when its last part comes after a crash.
        self.start()
        for n, (number, mk) in enumerate([
                ("15559800001", lambda seq: (
                    smpp.udh_concat(9, 3, seq), "udh")),
                ("15559800002", lambda seq: (b"", "sar=301/3/%d" % seq))]):
            parts = ["Please ", "st", "op"]
            for seq, text in enumerate(parts[:2], 1):
                udh, opt = mk(seq)
                data = udh + smpp.gsm7_encode(text) if udh else text
                self.push(number, "12345", data, 0, opt)
            self.assertEqual(self.status(number)["promo"], "allowed")
            # kill -9 once the SMSC has its OK for both.
            self.gw.kill9()
            self.gw = self.h.start_stopgate(self.gw.config,
                                            ports=[self.gw.port])
            harness.wait_until(lambda: self.ctl.stats()["bound"] >= 1, 10,
                               what="stopgate to bind upstream again")
            udh, opt = mk(3)
            data = udh + smpp.gsm7_encode(parts[2]) if udh else parts[2]
            self.push(number, "12345", data, 0, opt)
            self.assertEqual(self.status(number)["promo"], "blocked",
                             "case %d" % n)
            c = self.wait_confirmations(number, 1)
            self.assertEqual(self.text(c[0]), OPTOUT_PROMO)

    def test_outbox_in_order_after_late_bind(self):
        self.start()
        texts = ["first", "second", "third", "STOP"]
        for t in texts:
            # Nobody of marketing bound: kept durably, answered OK.
            self.push(SUB, "12345", t)
        # Survives a restart too.
        self.gw.kill9()
        self.gw = self.h.start_stopgate(self.gw.config,
                                        ports=[self.gw.port])
        harness.wait_until(lambda: self.ctl.stats()["bound"] >= 1, 10,
                           what="stopgate to bind upstream again")
        mk = self.client("marketing", "mkpass1", "rx")
        got = [mk.wait_deliver(5).text() for _ in texts]
        self.assertEqual(got, texts)
        with self.assertRaises(smpp.Timeout):
            mk.wait_deliver(1.5)
        # Delivered and deleted: a new receiver gets nothing again.
        mk.close()
        mk2 = self.client("marketing", "mkpass1", "rx")
        with self.assertRaises(smpp.Timeout):
            mk2.wait_deliver(1.5)
        # Live again once the outbox is empty.
        seq = self.mo(SUB, "12345", "live")
        self.assertEqual(mk2.wait_deliver(5).text(), "live")
        self.assertEqual(self.ctl.wait_resp(seq, 10), 0)

    def test_outbox_full_is_temporary(self):
        def edit(cfg):
            cfg["retention"] = {"outbox_max": 2}
        self.start(edit)
        self.push(SUB, "12345", "one")
        self.push(SUB, "12345", "two")
        # Beyond the bound: the SMSC keeps it and redelivers later.
        self.push(SUB, "12345", "three", status=0x64)
        # A STOP is committed before the outbox is tried: its opt-out
        # holds even though the SMSC is told to redeliver it.
        self.push(SUB, "12345", "STOP", status=0x64)
        self.assertEqual(self.status(SUB)["promo"], "blocked")
        mk = self.client("marketing", "mkpass1", "rx")
        self.assertEqual([mk.wait_deliver(5).text() for _ in range(2)],
                         ["one", "two"])


class TestReload(MoCase):
    def test_sighup_keywords_and_replies(self):
        self.start()
        self.push(SUB, "12345", "HALT")
        self.assertEqual(self.status(SUB)["promo"], "allowed")
        self.cfg["keywords"] = {"opt_out": ["STOP", "HALT"]}
        self.cfg["replies"] = {"opt_out": "{business}: no more "
                                          "{categories}."}
        self.h.write_config(self.cfg)
        self.gw.send_signal(signal.SIGHUP)
        harness.wait_until(lambda: "event=reloaded" in self.gw.log_text(),
                           5, what="the reload")
        self.push(SUB, "12345", "halt")
        self.assertEqual(self.status(SUB)["promo"], "blocked")
        c = self.wait_confirmations(SUB, 1)
        self.assertEqual(self.text(c[0]), "Acme Clinic: no more promo.")


if __name__ == "__main__":
    harness.main()
