#!/usr/bin/env python3
"""stopgate proxy against a scripted SMSC (Python, in a thread): query_sm /
cancel_sm / replace_sm go to the upstream that carried the message; the
SMSC's generic_nack and error statuses pass through unchanged with the
department's own sequence numbers; a silent SMSC gives a temporary error;
a data_sm receipt is relayed and its data_sm_resp goes back.
"""

import os
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import smpp  # noqa: E402

harness.require(harness.STOPGATE)

SANITIZER_MARKS = ("Sanitizer", "runtime error:")


class FakeSmsc(threading.Thread):
    """Accepts stopgate's bind and answers with handler(conn, pdu), which
    returns True if it answered (else the PDU is dropped silently)."""

    def __init__(self, handler):
        super().__init__(daemon=True)
        self.listener = smpp.Listener()
        self.port = self.listener.port
        self.handler = handler
        self.seen = []
        self.conn = None
        self.bound = threading.Event()
        self.stop = threading.Event()
        self.lock = threading.Lock()

    def run(self):
        try:
            self.conn, _ = self.listener.accept_bind(10)
            self.bound.set()
            while not self.stop.is_set():
                try:
                    with self.lock:
                        p = self.conn.read_pdu(0.05)
                except smpp.Timeout:
                    continue
                self.seen.append(p)
                if not p.command_id & smpp.RESP:
                    self.handler(self.conn, p)
        except (smpp.Closed, smpp.Timeout, OSError):
            pass

    def send(self, command_id, body):
        with self.lock:
            return self.conn.send(command_id, body)

    def close(self):
        self.stop.set()
        self.join(2)
        if self.conn is not None:
            self.conn.close()
        self.listener.close()


def default_handler(conn, p):
    if p.command_id == smpp.SUBMIT_SM:
        conn.respond(p, 0, smpp.resp_body("MSG%d" % p.seq))
    elif p.command_id == smpp.QUERY_SM:
        conn.respond(p, 0, p.body.split(b"\0")[0] + b"\0" +
                     smpp.cstr("") + bytes((2, 0)))
    elif p.command_id in (smpp.CANCEL_SM, smpp.REPLACE_SM):
        conn.respond(p, 0)
    elif p.command_id == smpp.DATA_SM:
        conn.send(smpp.GENERIC_NACK, b"", p.seq, 0x03)


class TestUpstream(harness.TestCase):
    def start(self, handler=default_handler):
        self.smsc = FakeSmsc(handler)
        self.smsc.start()
        self.addCleanup(self.smsc.close)
        self.port = self.h.free_port()
        cfg = harness.base_config(self.smsc.port, self.port)
        cfg["upstreams"][0]["response_timeout_ms"] = 1000
        cfg["timeouts"] = {"shutdown_ms": 1000}
        self.gw = self.h.start_stopgate(cfg)
        self.addCleanup(self.clean_exit)
        self.assertTrue(self.smsc.bound.wait(10))
        time.sleep(0.2)
        c = smpp.Client.connect(self.port)
        self.addCleanup(c.close)
        self.assertEqual(c.bind("trx", "marketing", "mkpass1"), 0)
        return c

    def clean_exit(self):
        rc = self.gw.stop()
        log = self.gw.log_text()
        self.assertEqual(rc, 0, log[-3000:])
        for m in SANITIZER_MARKS:
            self.assertNotIn(m, log)

    def test_query_cancel_replace(self):
        c = self.start()
        c.seq = 1000  # our numbering differs from the proxy's upstream one
        st, mid = c.submit("12345", "15556660030", b"x")
        self.assertEqual(st, 0)
        self.assertTrue(mid.startswith("MSG"))
        time.sleep(0.1)  # the receipt map batch is written
        seq = c.send(smpp.QUERY_SM, smpp.cstr(mid) + bytes((1, 1)) +
                     smpp.cstr("12345"))
        r = c.wait_resp(seq)
        self.assertEqual((r.command_id, r.status), (smpp.QUERY_SM | smpp.RESP,
                                                    0))
        q = [p for p in self.smsc.seen if p.command_id == smpp.QUERY_SM]
        self.assertEqual(q[0].body.split(b"\0")[0].decode(), mid)
        seq = c.send(smpp.CANCEL_SM, smpp.cstr("") + smpp.cstr(mid) +
                     bytes((1, 1)) + smpp.cstr("12345") + bytes((1, 1)) +
                     smpp.cstr("15556660030"))
        r = c.wait_resp(seq)
        self.assertEqual((r.command_id, r.status),
                         (smpp.CANCEL_SM | smpp.RESP, 0))

    def test_nack_and_timeout_pass_through(self):
        def handler(conn, p):
            if p.command_id == smpp.SUBMIT_SM:
                text = p["short_message"]
                if text == b"nack":
                    conn.send(smpp.GENERIC_NACK, b"", p.seq, 0x0A)
                elif text == b"err":
                    conn.respond(p, 0x45)
                elif text == b"ok":
                    conn.respond(p, 0, smpp.resp_body("ID1"))
                # "silent": no answer at all
        c = self.start(handler)
        c.seq = 5000
        r = c.submit_pdu("12345", "15556660031", b"nack")
        self.assertEqual((r.command_id, r.status, r.seq),
                         (smpp.GENERIC_NACK, 0x0A, 5001))
        self.assertEqual(c.submit("12345", "15556660031", b"err")[0], 0x45)
        t0 = time.monotonic()
        st, _ = c.submit("12345", "15556660031", b"silent", timeout=10)
        self.assertIn(st, (0x08, 0x58, 0x14))
        self.assertLess(time.monotonic() - t0, 8)

    def test_data_sm_receipt_relayed(self):
        c = self.start()
        st, mid = c.submit("12345", "15556660032", b"x",
                           registered_delivery=1)
        self.assertEqual(st, 0)
        time.sleep(0.1)
        body = smpp.data_sm_body("15556660032", "12345", esm_class=0x04,
                                 tlvs=[(smpp.TLV_RECEIPTED_MESSAGE_ID,
                                        mid.encode() + b"\0"),
                                       (0x0427, b"\x02")])
        seq = self.smsc.send(smpp.DATA_SM, body)
        p = c.wait_for(lambda p: p.command_id == smpp.DATA_SM, 5)
        self.assertEqual(p.tlv(smpp.TLV_RECEIPTED_MESSAGE_ID),
                         mid.encode() + b"\0")
        c.respond(p, 0, smpp.resp_body(""))
        harness.wait_until(lambda: any(
            x.command_id == smpp.DATA_SM_RESP and x.seq == seq
            for x in list(self.smsc.seen)), what="data_sm_resp upstream")


if __name__ == "__main__":
    harness.main()
