#!/usr/bin/env python3
"""stopgate proxy: the receipt map records only messages that asked for
something back.

Why (issue 6): every forwarded submit_sm wrote an (upstream, message_id)
-> account record, and committing those batches dominated the event loop.
A message whose registered_delivery asks for no SMSC receipt (bits 1-0),
no SME acknowledgement (bits 3-2) and no intermediate notification (bit 4)
gets no record now: a receipt the SMSC sends for it anyway is acknowledged
and logged as unroutable, not relayed. One that asked is relayed as before.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import smpp  # noqa: E402

harness.require(harness.STOPGATE, harness.SMSC_SIM)


class TestReceiptMap(harness.TestCase):
    def test_only_messages_asking_for_receipts_are_mapped(self):
        # receipts only when pushed through the control port
        smsc = self.h.start_smsc("-u", "acme", "-w", "secret",
                                 "-r", "100000")
        ctl = smsc.ctl()
        port = self.h.free_port()
        cfg = harness.base_config(smsc.port, port)
        cfg["timeouts"] = {"shutdown_ms": 1000}
        gw = self.h.start_stopgate(cfg)
        harness.wait_until(lambda: ctl.stats()["bound"] >= 1,
                           timeout=10, what="upstream bound")
        mk = smpp.Client.connect(port)
        self.addCleanup(mk.close)
        self.assertEqual(mk.bind("trx", "marketing", "mkpass1"), 0)

        st, quiet = mk.submit("12345", "15550005001", b"no receipt")
        self.assertEqual(st, 0)
        st, asked = mk.submit("12345", "15550005002", b"receipt",
                              registered_delivery=1)
        self.assertEqual(st, 0)
        st, inter = mk.submit("12345", "15550005003", b"intermediate",
                              registered_delivery=0x10)
        self.assertEqual(st, 0)

        # not asked for: acknowledged to the SMSC, not relayed
        _, ln = ctl.cmd("dlr %s DELIVRD 15550005001 12345" % quiet)
        self.assertEqual(ctl.wait_resp(int(ln.split()[1])), 0)
        with self.assertRaises(smpp.Timeout):
            mk.wait_deliver(0.5)
        harness.wait_until(
            lambda: "event=receipt_unroutable" in gw.log_text() and
            "message_id=%s" % quiet in gw.log_text(),
            5, what="receipt_unroutable logged")

        # asked for (final receipt, or intermediate notification): relayed
        for mid, dest in ((asked, "15550005002"), (inter, "15550005003")):
            ctl.cmd("dlr %s DELIVRD %s 12345" % (mid, dest))
            d = mk.wait_deliver(5)
            self.assertEqual(
                d.tlv(smpp.TLV_RECEIPTED_MESSAGE_ID).rstrip(b"\0").decode(),
                mid)

        rc = gw.stop()
        self.assertEqual(rc, 0, gw.log_text()[-3000:])
        for m in ("Sanitizer", "runtime error:"):
            self.assertNotIn(m, gw.log_text())


if __name__ == "__main__":
    harness.main()
