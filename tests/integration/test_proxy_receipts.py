#!/usr/bin/env python3
"""stopgate proxy, inbound: delivery receipts routed to the account that
sent the message (by receipted_message_id, else the receipt text's id in
another base), the department's deliver_sm_resp status relayed to the
SMSC, the outbox when no receiver is bound, and MOs routed by inbound
number.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import smpp  # noqa: E402

harness.require(harness.STOPGATE, harness.SMSC_SIM)


class ReceiptCase(harness.TestCase):
    def start(self, *smsc_args):
        self.smsc = self.h.start_smsc("-u", "acme", "-w", "secret",
                                      *smsc_args)
        self.ctl = self.smsc.ctl()
        self.port = self.h.free_port()
        cfg = harness.base_config(self.smsc.port, self.port)
        cfg["timeouts"] = {"shutdown_ms": 1000}
        self.gw = self.h.start_stopgate(cfg)
        self.addCleanup(self.clean_exit)
        harness.wait_until(lambda: self.ctl.stats()["bound"] >= 1,
                           timeout=10, what="upstream bound")

    def clean_exit(self):
        rc = self.gw.stop()
        log = self.gw.log_text()
        self.assertEqual(rc, 0, log[-3000:])
        for m in ("Sanitizer", "runtime error:"):
            self.assertNotIn(m, log)

    def client(self, system_id, password, kind="trx"):
        c = smpp.Client.connect(self.port)
        self.addCleanup(c.close)
        self.assertEqual(c.bind(kind, system_id, password), 0)
        return c


class TestReceipts(ReceiptCase):
    def test_two_accounts_each_get_their_own(self):
        self.start("-r", "50")
        mk = self.client("marketing", "mkpass1")
        fd_tx = self.client("frontdesk", "fdpass1", "tx")
        fd_rx = self.client("frontdesk", "fdpass1", "rx")
        mids = {}
        for i in range(5):
            st, mid = mk.submit("12345", "1555000100%d" % i, b"m",
                                registered_delivery=1)
            self.assertEqual(st, 0)
            mids.setdefault("mk", []).append(mid)
            st, mid = fd_tx.submit("15550100", "1555000200%d" % i, b"f",
                                   registered_delivery=1)
            self.assertEqual(st, 0)
            mids.setdefault("fd", []).append(mid)
        got_mk = [mk.wait_deliver(5) for _ in range(5)]
        got_fd = [fd_rx.wait_deliver(5) for _ in range(5)]

        def ids(ds):
            return sorted(d.tlv(smpp.TLV_RECEIPTED_MESSAGE_ID)
                          .rstrip(b"\0").decode() for d in ds)
        self.assertEqual(ids(got_mk), sorted(mids["mk"]))
        self.assertEqual(ids(got_fd), sorted(mids["fd"]))
        for d in got_mk + got_fd:
            self.assertEqual(d["esm_class"] & 0x3C, 0x04)
        with self.assertRaises(smpp.Timeout):
            mk.wait_deliver(0.3)
        harness.wait_until(lambda: self.ctl.stats()["deliver_resps"] >= 10,
                           what="deliver_sm_resps at the SMSC")
        self.assertEqual(self.ctl.stats()["deliver_errs"], 0)

    def test_text_id_in_other_base(self):
        # hex ids in submit_sm_resp, decimal in the receipt text, no TLV
        self.start("-r", "50", "-i", "hex", "-I", "dec", "-s", "4096")
        self.ctl.ok("set dlrtlv 0")
        mk = self.client("marketing", "mkpass1")
        fd = self.client("frontdesk", "fdpass1")
        st, mid = fd.submit("15550100", "15550002001", b"x",
                            registered_delivery=1)
        self.assertEqual((st, mid), (0, "00001000"))
        d = fd.wait_deliver(5)
        self.assertEqual(smpp.receipt_parse(d["short_message"])["id"],
                         "4096")
        with self.assertRaises(smpp.Timeout):
            mk.wait_deliver(0.3)

    def test_department_status_relayed_and_no_receiver(self):
        self.start("-r", "100000")
        mk = self.client("marketing", "mkpass1")
        # registered_delivery: only a message that asked for a receipt
        # is in the receipt map (issue 6)
        st, mid = mk.submit("12345", "15550003001", b"x",
                            registered_delivery=1)
        self.assertEqual(st, 0)
        mk.deliver_status = 0x45
        _, ln = self.ctl.cmd("dlr %s DELIVRD 15550003001 12345" % mid)
        mk.wait_deliver(2)
        self.assertEqual(self.ctl.wait_resp(int(ln.split()[1])), 0x45)
        # no receiver bound for the account: kept in the durable outbox
        # (the SMSC gets OK) and delivered when one binds
        mk.close()
        fd = self.client("frontdesk", "fdpass1", "tx")
        st, mid = fd.submit("15550100", "15550003002", b"x",
                            registered_delivery=1)
        self.assertEqual(st, 0)
        rx = self.client("marketing", "mkpass1", "rx")  # other account
        _, ln = self.ctl.cmd("dlr %s DELIVRD 15550003002 15550100" % mid)
        self.assertEqual(self.ctl.wait_resp(int(ln.split()[1])), 0)
        with self.assertRaises(smpp.Timeout):
            rx.wait_deliver(0.3)
        fd_rx = self.client("frontdesk", "fdpass1", "rx")
        d = fd_rx.wait_deliver(5)
        self.assertEqual(smpp.receipt_parse(d["short_message"])["id"], mid)

    def test_late_resp_after_sender_left(self):
        # the sender goes away before the SMSC answers; its receipt
        # still reaches another session of the same account
        self.start("-d", "300", "-r", "50")
        tx = smpp.Client.connect(self.port)
        self.assertEqual(tx.bind("tx", "marketing", "mkpass1"), 0)
        rx = self.client("marketing", "mkpass1", "rx")
        tx.submit_async("12345", "15550004001", b"x", registered_delivery=1)
        tx.close()
        d = rx.wait_deliver(5)
        self.assertEqual(d["esm_class"] & 0x3C, 0x04)
        self.assertTrue(self.gw.alive())


    def test_held_receipts_bounded_by_submits_in_flight(self):
        # A receipt may overtake its submit_sm_resp, so it is held while
        # submits await a response; but an upstream holds no more than it
        # has in flight: the rest are answered at once, not queued.
        self.start("-r", "100000")
        mk = self.client("marketing", "mkpass1")
        self.ctl.ok("pause")
        seq = mk.submit_async("12345", "15550005001", b"x",
                              registered_delivery=1)
        harness.wait_until(lambda: self.ctl.stats()["held"] >= 1,
                           what="submit held at the SMSC")
        pushed = []
        for i in range(4):
            _, ln = self.ctl.cmd("dlr unknown%d DELIVRD 15550005001 12345"
                                 % i)
            pushed.append(int(ln.split()[1]))
        # one held (the one in flight could be its), three answered now
        def answered():
            self.ctl.stats()  # collects the resp lines that came meanwhile
            return sum(1 for s in pushed if s in self.ctl.resps)
        harness.wait_until(lambda: answered() >= 3, timeout=5,
                           what="receipts beyond the in-flight count answered")
        self.assertNotIn(pushed[0], self.ctl.resps)
        for s in pushed[1:]:
            self.assertEqual(self.ctl.resps[s], 0)
        self.ctl.ok("resume")
        self.assertEqual(mk.wait_resp(seq, 5).status, 0)
        self.assertIn("event=receipt_held", self.gw.log_text())


class TestMo(ReceiptCase):
    def test_mo_to_inbound_account(self):
        self.start()
        mk = self.client("marketing", "mkpass1")
        fd = self.client("frontdesk", "fdpass1")
        seq = self.ctl.mo("15557770001", "12345", "hello marketing")
        d = mk.wait_deliver(3)
        self.assertEqual(d.text(), "hello marketing")
        self.assertEqual(self.ctl.wait_resp(seq), 0)
        seq = self.ctl.mo("15557770001", "15550100", "hello frontdesk")
        d = fd.wait_deliver(3)
        self.assertEqual(d.text(), "hello frontdesk")
        self.assertEqual(self.ctl.wait_resp(seq), 0)
        with self.assertRaises(smpp.Timeout):
            mk.wait_deliver(0.3)

    def test_round_robin_receivers(self):
        self.start()
        a = self.client("marketing", "mkpass1", "rx")
        b = self.client("marketing", "mkpass1", "rx")
        for i in range(4):
            self.ctl.mo("1555777000%d" % i, "12345", "m%d" % i)
        got = 0
        for c in (a, b):
            for _ in range(2):
                c.wait_deliver(3)
                got += 1
        self.assertEqual(got, 4)


if __name__ == "__main__":
    harness.main()
