"""Tests of the test peers themselves: smsc_sim (driven through smpp.py and
its control port) and the esme CLI. Because both sides run different
codecs (our C codec in the tools, smpp.py here), this also checks the C
codec end to end over real sockets."""

import os
import struct
import sys
import time

sys.dont_write_bytecode = True  # keep __pycache__ out of the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import smpp  # noqa: E402


SANITIZER_MARKS = ("Sanitizer", "runtime error:")


class SimTest(harness.TestCase):
    def sim(self, *args):
        self.s = self.h.start_smsc(*args)
        self.ctl = self.s.ctl()
        self.addCleanup(self.sim_stopped_cleanly)
        return self.s

    def sim_stopped_cleanly(self):
        """smsc_sim exits 0 on SIGTERM, with nothing from ASan/UBSan."""
        rc = self.s.stop()
        log = self.s.log_text()
        self.assertEqual(rc, 0, log)
        for m in SANITIZER_MARKS:
            self.assertNotIn(m, log)

    def esme(self, *args):
        r = self.h.esme(*args)
        for m in SANITIZER_MARKS:
            self.assertNotIn(m, r.stderr)
        return r

    def client(self, kind="trx", system_id="acme", password="secret"):
        c = smpp.Client.connect(self.s.port)
        self.addCleanup(c.close)
        self.assertEqual(c.bind(kind, system_id, password), 0)
        return c


class TestBind(SimTest):
    def test_any_credentials(self):
        self.sim()
        for kind in ("tx", "rx", "trx"):
            c = self.client(kind, "anyone", "x")
            self.assertEqual(c.bind_resp["system_id"], "smsc_sim")
        st = self.ctl.stats()
        self.assertEqual((st["binds"], st["tx"], st["rx"], st["trx"]),
                         (3, 1, 1, 1))

    def test_wrong_password_closes(self):
        self.sim("-u", "acme", "-w", "secret")
        c = smpp.Client.connect(self.s.port)
        self.assertEqual(c.bind("trx", "acme", "wrong"),
                         smpp.ESME_RINVPASWD)
        self.assertTrue(c.wait_closed(2))
        c = smpp.Client.connect(self.s.port)
        self.assertEqual(c.bind("trx", "other", "secret"),
                         smpp.ESME_RINVSYSID)
        self.assertTrue(c.wait_closed(2))
        self.assertEqual(self.ctl.stats()["bind_fails"], 2)
        self.client()

    def test_already_bound(self):
        self.sim()
        c = self.client()
        self.assertEqual(c.bind("trx", "acme", "secret"), smpp.ESME_RALYBND)

    def test_submit_needs_transmitter(self):
        self.sim()
        c = smpp.Client.connect(self.s.port)
        self.addCleanup(c.close)
        self.assertEqual(c.submit("1", "2", "x")[0], smpp.ESME_RINVBNDSTS)
        self.assertEqual(c.bind("rx", "acme", "secret"), 0)
        self.assertEqual(c.submit("1", "2", "x")[0], smpp.ESME_RINVBNDSTS)


class TestSession(SimTest):
    def test_enquire_link_and_unbind(self):
        self.sim()
        c = self.client()
        self.assertEqual(c.enquire_link(), 0)
        self.assertEqual(c.unbind(), 0)
        self.assertTrue(c.wait_closed(2))

    def test_unknown_command_gets_generic_nack(self):
        self.sim()
        c = self.client()
        seq = c.send(0x00000099)
        r = c.wait_resp(seq)
        self.assertEqual((r.command_id, r.status),
                         (smpp.GENERIC_NACK, smpp.ESME_RINVCMDID))
        self.assertEqual(c.enquire_link(), 0)

    def test_bad_length_closes(self):
        self.sim()
        c = self.client()
        c.send_raw(struct.pack(">I", 8) + b"\0" * 12)
        r = c.read_pdu(2)
        self.assertEqual((r.command_id, r.status),
                         (smpp.GENERIC_NACK, smpp.ESME_RINVCMDLEN))
        self.assertTrue(c.wait_closed(2))

    def test_malformed_body(self):
        self.sim()
        c = self.client()
        # submit_sm whose sm_length runs past the body.
        body = smpp.submit_sm_body("1", "2", b"hello")
        body = body[:-6] + b"\x40" + body[-5:]
        seq = c.send(smpp.SUBMIT_SM, body)
        r = c.wait_resp(seq)
        self.assertNotEqual(r.status, 0)
        self.assertEqual(c.enquire_link(), 0)

    def test_close_drops_everyone(self):
        self.sim()
        a, b = self.client(), self.client("rx")
        self.assertEqual(self.ctl.ok("close"), "ok 2")
        self.assertTrue(a.wait_closed(2))
        self.assertTrue(b.wait_closed(2))
        self.client()  # and binding again works


class TestSubmit(SimTest):
    def test_submit_ids_and_last(self):
        self.sim("-s", "100")
        c = self.client()
        self.assertEqual(c.submit("12345", "15551234567", "Hello",
                                  service_type="BILL"), (0, "100"))
        self.assertEqual(c.submit("12345", "15551234568", "Привет", dcs=8,
                                  tlvs=[(smpp.TLV_SAR_MSG_REF_NUM,
                                         b"\x00\x07")]), (0, "101"))
        last = self.ctl.last(2)
        self.assertEqual(len(last), 2)
        self.assertEqual((last[0]["src"], last[0]["dst"], last[0]["data"],
                          last[0]["service_type"], last[0]["id"]),
                         ("12345", "15551234567", b"Hello", "BILL", "100"))
        self.assertEqual(last[1]["dcs"], 8)
        self.assertEqual(last[1]["data"], "Привет".encode("utf-16-be"))
        self.assertEqual(last[1]["tlvs"], "020c00020007")
        self.assertEqual(last[1]["system_id"], "acme")
        st = self.ctl.stats()
        self.assertEqual((st["submits"], st["submit_sm"], st["answered"]),
                         (2, 2, 2))

    def test_hex_ids(self):
        self.sim("-i", "hex", "-s", "255")
        c = self.client()
        self.assertEqual(c.submit("1", "2", "x"), (0, "000000FF"))
        self.ctl.ok("set ids pad")
        self.assertEqual(c.submit("1", "2", "x"), (0, "0000000256"))

    def test_data_sm_and_submit_multi(self):
        self.sim()
        c = self.client()
        st, mid = c.data_sm("1", "15551234567", "x" * 300)
        self.assertEqual((st, mid), (0, "1"))
        st, mid, uns = c.submit_multi("1", ["155", "156"], "hi")
        self.assertEqual((st, mid, uns), (0, "2", []))
        last = self.ctl.last(2)
        self.assertEqual((last[0]["cmd"], last[0]["data"]),
                         ("data_sm", b"x" * 300))
        self.assertEqual((last[1]["cmd"], last[1]["dst"]),
                         ("submit_multi", "155,156"))

    def test_error_status(self):
        self.sim("-e", "0x58")
        c = self.client()
        r = c.submit_pdu("1", "2", "x")
        self.assertEqual((r.status, r.body), (smpp.ESME_RTHROTTLED, b""))
        self.ctl.ok("set error 0")
        self.assertEqual(c.submit("1", "2", "x")[0], 0)

    def test_delay(self):
        self.sim("-d", "300")
        c = self.client()
        t0 = time.monotonic()
        self.assertEqual(c.submit("1", "2", "x")[0], 0)
        self.assertGreaterEqual(time.monotonic() - t0, 0.28)

    def test_never_answer(self):
        self.sim("-n")
        c = self.client()
        seq = c.submit_async("1", "2", "x")
        with self.assertRaises(smpp.Timeout):
            c.wait_resp(seq, 0.5)
        self.assertEqual(self.ctl.stats()["unanswered"], 1)
        self.assertEqual(c.enquire_link(), 0)  # still alive

    def test_pause_resume(self):
        self.sim()
        c = self.client()
        self.ctl.ok("pause")
        seqs = [c.submit_async("1", "2", "m%d" % i) for i in range(3)]
        with self.assertRaises(smpp.Timeout):
            c.wait_resp(seqs[0], 0.3)
        self.assertEqual(self.ctl.stats()["held"], 3)
        self.ctl.ok("resume")
        ids = [c.wait_resp(s).get("message_id") for s in seqs]
        self.assertEqual(ids, ["1", "2", "3"])


class TestReceipts(SimTest):
    def test_receipt_on_transceiver(self):
        self.sim("-r", "50")
        c = self.client()
        st, mid = c.submit("12345", "15551234567", "Reply STOP to end",
                           registered_delivery=1)
        self.assertEqual(st, 0)
        d = c.wait_deliver(2)
        self.assertEqual(d["esm_class"], smpp.ESM_DLR)
        self.assertEqual((d["source_addr"], d["destination_addr"]),
                         ("15551234567", "12345"))
        self.assertEqual(d.tlv(smpp.TLV_RECEIPTED_MESSAGE_ID),
                         mid.encode() + b"\0")
        self.assertEqual(d.tlv(smpp.TLV_MESSAGE_STATE), b"\x02")
        r = smpp.receipt_parse(d["short_message"])
        self.assertEqual((r["id"], r["stat"], r["err"], r["sub"],
                          r["dlvrd"]), (mid, "DELIVRD", "000", "001", "001"))
        self.assertEqual(r["text"], "Reply STOP to end")
        self.assertEqual(len(r["submit date"]), 10)
        self.assertEqual(self.ctl.stats()["receipts"], 1)

    def test_receipt_goes_to_own_receiver(self):
        self.sim("-r", "10")
        other = self.client("rx", "other", "x")
        tx = self.client("tx")
        rx = self.client("rx")
        st, mid = tx.submit("1", "2", "x", registered_delivery=1)
        d = rx.wait_deliver(2)
        self.assertEqual(d.tlv(smpp.TLV_RECEIPTED_MESSAGE_ID)[:-1].decode(),
                         mid)
        with self.assertRaises(smpp.Timeout):
            other.wait_deliver(0.2)

    def test_no_receipt_unless_asked(self):
        self.sim("-r", "10")
        c = self.client()
        c.submit("1", "2", "x")
        c.submit("1", "2", "x", registered_delivery=2)  # failure only
        with self.assertRaises(smpp.Timeout):
            c.wait_deliver(0.3)

    def test_receipt_forms(self):
        self.sim("-r", "10", "-i", "hex", "-I", "dec", "-s", "4096")
        c = self.client()
        st, mid = c.submit("1", "2", "x", registered_delivery=1)
        self.assertEqual(mid, "00001000")
        d = c.wait_deliver(2)
        self.assertEqual(smpp.receipt_parse(d["short_message"])["id"],
                         "4096")
        self.ctl.ok("set dlrtlv 0")
        self.ctl.ok("set dlrstat UNDELIV")
        c.submit("1", "2", "x", registered_delivery=1)
        d = c.wait_deliver(2)
        self.assertIsNone(d.tlv(smpp.TLV_RECEIPTED_MESSAGE_ID))
        r = smpp.receipt_parse(d["short_message"])
        self.assertEqual((r["stat"], r["dlvrd"]), ("UNDELIV", "000"))

    def test_no_receiver_drops(self):
        self.sim("-r", "10")
        c = self.client("tx")
        c.submit("1", "2", "x", registered_delivery=1)
        harness.wait_until(lambda: self.ctl.stats()["receipts_dropped"]
                           == 1, 2, what="receipt dropped")

    def test_pushed_receipt(self):
        self.sim()
        c = self.client()
        seq = self.ctl.cmd("dlr 0000ABC UNDELIV 15551234567 12345")[1]
        d = c.wait_deliver(2)
        self.assertEqual(d["esm_class"], smpp.ESM_DLR)
        self.assertEqual(d.tlv(smpp.TLV_RECEIPTED_MESSAGE_ID), b"0000ABC\0")
        self.assertEqual(d.tlv(smpp.TLV_MESSAGE_STATE), b"\x05")
        self.assertEqual(self.ctl.wait_resp(int(seq.split()[1])), 0)


class TestMo(SimTest):
    def test_mo_push_and_resp_status(self):
        self.sim()
        c = self.client("rx")
        c.deliver_status = smpp.ESME_RX_T_APPN
        seq = self.ctl.mo("15551234567", "12345", "STOP")
        d = c.wait_deliver(2)
        self.assertEqual((d["source_addr"], d["destination_addr"],
                          d["esm_class"], d.text()),
                         ("15551234567", "12345", 0, "STOP"))
        self.assertEqual(self.ctl.wait_resp(seq), smpp.ESME_RX_T_APPN)
        st = self.ctl.stats()
        self.assertEqual((st["deliver_resps"], st["deliver_errs"]), (1, 1))

    def test_mo_variants(self):
        self.sim()
        c = self.client()
        udh = smpp.udh_concat(7, 2, 1)
        self.ctl.mo("155", "12345", udh + b"ST", 0, "udh")
        d = c.wait_deliver(2)
        self.assertEqual((d["esm_class"], d.text()), (smpp.ESM_UDHI, "ST"))
        self.ctl.mo("155", "12345", "arrêt", 8, "payload", "sto=2", "dto=0")
        d = c.wait_deliver(2)
        self.assertEqual((d["short_message"], d.text()), (b"", "arrêt"))
        self.assertEqual((d["source_addr_ton"], d["dest_addr_ton"]), (2, 0))
        self.ctl.mo("155", "12345", "OP", 0, "sar=513/2/2")
        d = c.wait_deliver(2)
        self.assertEqual(d.tlv(smpp.TLV_SAR_MSG_REF_NUM), b"\x02\x01")
        self.assertEqual(d.tlv(smpp.TLV_SAR_TOTAL_SEGMENTS), b"\x02")
        self.assertEqual(d.tlv(smpp.TLV_SAR_SEGMENT_SEQNUM), b"\x02")
        self.ctl.mo("155", "12345", b"x" * 300, 4)
        d = c.wait_deliver(2)
        self.assertEqual(d.tlv(smpp.TLV_MESSAGE_PAYLOAD), b"x" * 300)

    def test_mo_to_named_receiver(self):
        self.sim()
        a = self.client("rx", "a", "x")
        b = self.client("rx", "b", "x")
        self.ctl.mo("155", "12345", "hi", 0, "to=b")
        self.assertEqual(b.wait_deliver(2).text(), "hi")
        with self.assertRaises(smpp.Timeout):
            a.wait_deliver(0.2)

    def test_mo_without_receiver(self):
        self.sim()
        self.client("tx")
        with self.assertRaises(harness.HarnessError):
            self.ctl.mo("155", "12345", "STOP")

    def test_resp_closed(self):
        self.sim()
        c = self.client("rx")
        c.auto_deliver_resp = False
        seq = self.ctl.mo("155", "12345", "STOP")
        c.wait_deliver(2)
        c.close()
        self.assertEqual(self.ctl.wait_resp(seq), "closed")

    def test_raw(self):
        self.sim()
        c = self.client()
        c.auto_enquire = False
        self.ctl.ok("raw " + smpp.pdu_encode(smpp.ENQUIRE_LINK, 77).hex())
        p = c.read_pdu(2)
        self.assertEqual((p.command_id, p.seq), (smpp.ENQUIRE_LINK, 77))


class TestSink(SimTest):
    def test_pipelined(self):
        self.sim("-S")
        c = self.client()
        n = 2000
        t0 = time.monotonic()
        body = smpp.submit_sm_body("1", "15551234567", "bench")
        data = b"".join(smpp.pdu_encode(smpp.SUBMIT_SM, i + 1, body)
                        for i in range(n))
        c.send_raw(data)
        ids = set()
        while len(ids) < n:
            p = c.read_pdu(5)
            self.assertEqual((p.command_id, p.status),
                             (smpp.SUBMIT_SM_RESP, 0))
            ids.add(p["message_id"])
        dt = time.monotonic() - t0
        print("  sink: %d submits answered in %.3fs" % (n, dt))
        self.assertEqual(self.ctl.stats()["submits"], n)


class TestEsmeCli(SimTest):
    def test_send_with_receipt(self):
        self.sim("-u", "acme", "-w", "secret", "-r", "20")
        r = self.esme("-p", self.s.port, "-u", "acme", "-w", "secret",
                        "send", "12345", "15551234567", "Hello {you} €",
                        "--service-type", "BILL", "--wait-dlr", "3")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0],
                         "submit_sm_resp status=0x00000000 message_id=1")
        self.assertIn("deliver_sm receipt", lines[1])
        self.assertIn("receipted_message_id=1 message_state=2", lines[1])
        last = self.ctl.last(1)[0]
        self.assertEqual((last["dcs"], last["service_type"], last["rd"]),
                         (0, "BILL", "0x01"))
        self.assertEqual(smpp.gsm7_decode(last["data"]), "Hello {you} €")

    def test_send_ucs2_and_long(self):
        self.sim()
        r = self.esme("-p", self.s.port, "-u", "a", "-w", "b", "send",
                        "1", "2", "Привет")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.ctl.last(1)[0]["dcs"], 8)
        r = self.esme("-p", self.s.port, "-u", "a", "-w", "b", "send",
                        "1", "2", "z" * 200)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("part=2/2", r.stdout)
        parts = self.ctl.last(2)
        self.assertEqual([p["esm"] for p in parts], ["0x40", "0x40"])

    def test_exit_codes(self):
        self.sim("-u", "acme", "-w", "secret")
        base = ["-p", self.s.port, "-u", "acme"]
        r = self.esme(*base, "-w", "nope", "send", "1", "2", "x")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "bind_transceiver_resp "
                         "status=0x0000000e error=ESME_RINVPASWD\n")
        self.ctl.ok("set error 0x401")
        r = self.esme(*base, "-w", "secret", "send", "1", "2", "x")
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "submit_sm_resp status=0x00000401 "
                         "message_id=\n")
        r = self.esme("-p", harness.free_port(), "-u", "a", "-w", "b",
                        "send", "1", "2", "x")
        self.assertEqual(r.returncode, 2)
        r = self.esme(*base, "send", "1", "2", "x")  # no -w
        self.assertEqual(r.returncode, 2)

    def test_listen(self):
        self.sim()
        p = self.h.start("esme", [harness.ESME, "-p", str(self.s.port),
                                  "-u", "mk", "-w", "pw", "-b", "rx",
                                  "listen", "--count", "2", "--timeout",
                                  "5"])
        harness.wait_until(lambda: self.ctl.stats()["rx"] == 1, 3,
                           what="esme bound")
        s1 = self.ctl.mo("15551234567", "12345", "STOP")
        s2 = self.ctl.mo("15551234567", "12345", "Ça va?", 8)
        self.assertEqual(p.wait(5), 0)
        self.assertEqual((self.ctl.wait_resp(s1), self.ctl.wait_resp(s2)),
                         (0, 0))
        out = p.log_text()
        self.assertNotIn("Sanitizer", out)
        self.assertIn('from=15551234567 to=12345 esm_class=0x00 '
                      'data_coding=0x00 text="STOP"', out)
        self.assertIn('text="Ça va?"', out)


class TestRunExample(harness.TestCase):
    """tests/tools/run-example.sh (make run) on free ports: stopgate binds
    to the simulator it starts, a message goes through, and SIGTERM stops
    both."""

    def test_run_example(self):
        if not os.access(harness.STOPGATE, os.X_OK):
            self.skipTest("stopgate not built")
        sim_port, ctl_port, gw_port = harness.free_ports(3)
        cfg = harness.base_config(sim_port, gw_port,
                                  store_path=self.h.path("store"))
        env = dict(os.environ, CONFIG=self.h.write_config(cfg),
                   SIM_PORT=str(sim_port), CTL_PORT=str(ctl_port),
                   SIM_LOG=self.h.path("smsc_sim.log"))
        script = os.path.join(harness.TOP, "tests", "tools",
                              "run-example.sh")
        p = self.h.start("run-example", ["sh", script], env=env)
        harness.wait_port(gw_port, proc=p)
        ctl = harness.Control(ctl_port)
        self.addCleanup(ctl.close)
        harness.wait_until(lambda: ctl.stats()["bound"] >= 1, 10,
                           what="stopgate bound to the simulator")
        r = self.h.esme("-p", gw_port, "-u", "marketing", "-w", "mkpass1",
                        "send", "12345", "15551234567", "hello",
                        "--wait-dlr", "5")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("deliver_sm receipt", r.stdout)
        self.assertIn("Ctrl-C stops stopgate", p.log_text())
        sim_pid = int(p.log_text().split("(pid ")[1].split(",")[0])
        self.assertEqual(p.stop(), 0)
        self.assertFalse(harness.port_open(gw_port))
        self.assertFalse(harness.port_open(sim_port))
        with self.assertRaises(ProcessLookupError):
            os.kill(sim_pid, 0)


if __name__ == "__main__":
    harness.require(harness.SMSC_SIM, harness.ESME)
    harness.main()
