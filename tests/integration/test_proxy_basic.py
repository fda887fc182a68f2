#!/usr/bin/env python3
"""stopgate proxy, outbound basics: the real binary between the Python ESME
and smsc_sim over loopback.

Binds (ok, bad password, unknown system_id), submit relayed with the SMSC's
own message_id, an opted-out number rejected with 0x401 and audited while
another category still passes, submit_multi with a blocked destination,
enquire_link / unbind / unknown command / wrong state, `stopgate check`,
and SIGTERM exiting 0.
"""

import json
import os
import random
import signal
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import smpp  # noqa: E402

harness.require(harness.STOPGATE, harness.SMSC_SIM)

OPTED_OUT = "15551230001"
OTHER = "15551230002"


class ProxyCase(harness.TestCase):
    def start(self, edit=None, smsc_args=()):
        self.smsc = self.h.start_smsc("-u", "acme", "-w", "secret",
                                      *smsc_args)
        self.port = self.h.free_port()
        self.cfg = harness.base_config(self.smsc.port, self.port)
        self.cfg["timeouts"] = {"shutdown_ms": 1000}
        if edit:
            edit(self.cfg)
        self.gw = self.h.start_stopgate(self.cfg)
        self.addCleanup(self.clean_exit)
        self.wait_upstream()
        return self.gw

    def clean_exit(self):
        """SIGTERM: exit 0, nothing from ASan/UBSan in the log."""
        rc = self.gw.stop()
        log = self.gw.log_text()
        self.assertEqual(rc, 0, log[-3000:])
        for m in ("Sanitizer", "runtime error:"):
            self.assertNotIn(m, log)

    def wait_upstream(self):
        harness.wait_until(lambda: self.smsc.ctl().stats()["bound"] >= 1,
                           timeout=10, what="upstream bound")

    def client(self, system_id="marketing", password="mkpass1",
               kind="trx"):
        c = smpp.Client.connect(self.port)
        self.addCleanup(c.close)
        self.assertEqual(c.bind(kind, system_id, password), 0)
        return c

    def optout(self, number, *cats):
        args = ["optout", "add", "-c", self.gw.config, number]
        if cats:
            for c in cats:
                args += ["--category", c]
        else:
            args.append("--all")
        args += ["--source", "staff", "--note", "test"]
        r = self.h.stopgate_cli(*args)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


class TestBind(ProxyCase):
    def test_bind_kinds_and_failures(self):
        self.start()
        for kind in ("tx", "rx", "trx"):
            with smpp.Client.connect(self.port) as c:
                self.assertEqual(c.bind(kind, "marketing", "mkpass1"), 0)
                # sc_interface_version 0x34 in the bind response
                self.assertIn((0x0210, b"\x34"),
                              c.bind_resp.get("tlvs", []))
                self.assertEqual(c.unbind(), 0)
                self.assertTrue(c.wait_closed(3))
        with smpp.Client.connect(self.port) as c:
            self.assertEqual(c.bind("trx", "marketing", "wrong"), 0x0E)
            self.assertTrue(c.wait_closed(3))
        with smpp.Client.connect(self.port) as c:
            self.assertEqual(c.bind("trx", "nobody", "mkpass1"), 0x0F)
            self.assertTrue(c.wait_closed(3))
        # SMPP 5.0 interface_version is accepted too
        with smpp.Client.connect(self.port) as c:
            self.assertEqual(c.bind("trx", "frontdesk", "fdpass1",
                                    interface_version=0x50), 0)
        # the password never reaches the log
        self.assertNotIn("mkpass1", self.gw.log_text())
        self.assertNotIn("wrong", self.gw.log_text())

    def test_several_sessions_per_account(self):
        self.start()
        a = self.client()
        b = self.client()
        self.assertEqual(a.submit("12345", OTHER, b"a")[0], 0)
        self.assertEqual(b.submit("12345", OTHER, b"b")[0], 0)

    def test_repeated_failures_slowed(self):
        self.start()
        times = []
        for _ in range(6):
            with smpp.Client.connect(self.port) as c:
                t0 = time.monotonic()
                self.assertEqual(c.bind("trx", "marketing", "bad",
                                        timeout=10), 0x0E)
                times.append(time.monotonic() - t0)
        self.assertLess(times[0], 0.4)
        self.assertGreater(times[-1], 0.9)


class TestSubmit(ProxyCase):
    def test_submit_relayed_with_smsc_message_id(self):
        self.start(smsc_args=("-s", "777"))
        c = self.client()
        st, mid = c.submit("12345", "15551234567", b"hello")
        self.assertEqual((st, mid), (0, "777"))
        last = self.smsc.ctl().last(1)[0]
        self.assertEqual(last["dst"], "15551234567")
        self.assertEqual(last["data"], b"hello")
        # a national number (TON 2) is normalised before the lookup
        self.optout("15551234567", "promo")
        st, _ = c.submit("12345", "5551234567", b"n", dst_ton=2)
        self.assertEqual(st, 0x401)

    def test_smsc_error_passed_through(self):
        self.start(smsc_args=("-e", "0x45"))
        c = self.client()
        self.assertEqual(c.submit("12345", OTHER, b"x")[0], 0x45)

    def test_optout_rejected_other_category_passes(self):
        self.start()
        self.optout(OPTED_OUT, "promo")
        mk = self.client()
        fd = self.client("frontdesk", "fdpass1")
        before = self.smsc.ctl().stats()["submits"]
        st, mid = mk.submit("12345", OPTED_OUT, b"sale!")
        self.assertEqual(st, 0x401)
        self.assertEqual(mid, "")
        # appointments may still reach the number
        st, mid = fd.submit("15550100", OPTED_OUT, b"your appt")
        self.assertEqual(st, 0)
        self.assertNotEqual(mid, "")
        # "+1 555..." spelled differently is the same subscriber
        st, _ = mk.submit("12345", "+1 (555) 123-0001", b"sale")
        self.assertEqual(st, 0x401)
        self.assertEqual(self.smsc.ctl().stats()["submits"], before + 1)
        # the audit log has the rejected sends (flushed within ~20 ms)
        time.sleep(0.3)
        r = self.h.stopgate_cli("audit", "-c", self.gw.config,
                                "--format", "jsonl")
        self.assertEqual(r.returncode, 0, r.stderr)
        recs = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        self.assertEqual(len(recs), 2, r.stdout)
        self.assertEqual(recs[0]["account"], "marketing")
        self.assertEqual(recs[0]["destination"], OPTED_OUT)

    def test_global_optout_and_service_type(self):
        self.start()
        self.optout(OPTED_OUT)
        fd = self.client("frontdesk", "fdpass1")
        self.assertEqual(fd.submit("15550100", OPTED_OUT, b"x")[0], 0x401)
        self.assertEqual(fd.submit("15550100", OPTED_OUT, b"x",
                                   service_type="BILL")[0], 0x401)
        # service_type BILL maps to billing, which frontdesk may send
        self.assertEqual(fd.submit("15550100", OTHER, b"x",
                                   service_type="BILL")[0], 0)

    def test_category_not_allowed_for_account(self):
        """SPEC section 3: a service_type that maps to a category the
        account may not send is answered ESME_RINVSERTYP (0x15) and
        nothing goes upstream."""
        def edit(cfg):
            cfg["accounts"][0]["service_types"] = {"BILL": "billing"}
        self.start(edit)
        mk = self.client()
        before = self.smsc.ctl().stats()["submits"]
        self.assertEqual(mk.submit("12345", OTHER, b"invoice",
                                   service_type="BILL")[0], 0x15)
        self.assertEqual(mk.submit("12345", OTHER, b"sale")[0], 0)
        self.assertEqual(self.smsc.ctl().stats()["submits"], before + 1)

    def test_per_category_status(self):
        def edit(cfg):
            cfg["categories"][0] = {"name": "promo",
                                    "rejection_status": 0x402}
        self.start(edit)
        self.optout(OPTED_OUT, "promo")
        mk = self.client()
        self.assertEqual(mk.submit("12345", OPTED_OUT, b"x")[0], 0x402)

    def test_data_sm(self):
        self.start()
        self.optout(OPTED_OUT, "promo")
        c = self.client()
        st, mid = c.data_sm("12345", OTHER, b"payload")
        self.assertEqual(st, 0)
        self.assertNotEqual(mid, "")
        self.assertEqual(c.data_sm("12345", OPTED_OUT, b"p")[0], 0x401)

    def test_submit_multi_partial_and_all_blocked(self):
        self.start()
        self.optout(OPTED_OUT, "promo")
        c = self.client()
        st, mid, unsucc = c.submit_multi("12345", [OTHER, OPTED_OUT],
                                         b"multi")
        self.assertEqual(st, 0)
        self.assertNotEqual(mid, "")
        self.assertEqual(len(unsucc), 1)
        self.assertEqual(tuple(unsucc[0])[2:], (OPTED_OUT, 0x401))
        last = self.smsc.ctl().last(1)[0]
        self.assertNotIn(OPTED_OUT, repr(last))
        st, mid, unsucc = c.submit_multi("12345", [OPTED_OUT], b"multi")
        self.assertEqual((st, mid), (0, ""))
        self.assertEqual(len(unsucc), 1)
        # one audit record per refused destination
        time.sleep(0.3)
        r = self.h.stopgate_cli("audit", "-c", self.gw.config,
                                "--format", "jsonl")
        self.assertEqual(len([x for x in r.stdout.splitlines()
                              if x.strip()]), 2, r.stdout)

    # Bug: the decision taken for part 1 of a concatenated message was
    # remembered for up to 60 s and reused for the later parts, so an
    # opt-out committed between two parts (here by the CLI, another
    # process) let the rest of the message through to a number whose
    # opt-out had been acknowledged (SPEC §7 wins over §3's "same
    # decision"). Now only a refusal is remembered; an allowed part is
    # checked against the store again for every part.
    def test_concatenated_parts_optout_between_parts(self):
        self.start()
        c = self.client()
        before = self.smsc.ctl().stats()["submits"]
        udh = bytes([5, 0, 3, 0x42, 3, 1])
        self.assertEqual(c.submit("12345", OTHER, udh + b"part1",
                                  esm_class=0x40)[0], 0)
        # opted out between the parts: parts 2 and 3 are refused
        self.optout(OTHER, "promo")
        for i in (2, 3):
            udh = bytes([5, 0, 3, 0x42, 3, i])
            self.assertEqual(c.submit("12345", OTHER, udh + b"part%d" % i,
                                      esm_class=0x40)[0], 0x401)
        self.assertEqual(self.smsc.ctl().stats()["submits"], before + 1)
        # a new message is blocked
        self.assertEqual(c.submit("12345", OTHER, b"new")[0], 0x401)

    def test_concatenated_refused_parts_same_decision(self):
        """A message refused at part 1 stays refused for its later parts
        even if the number opts in meanwhile (SPEC §3)."""
        self.start()
        self.optout(OTHER, "promo")
        c = self.client()
        udh = bytes([5, 0, 3, 0x43, 2, 1])
        self.assertEqual(c.submit("12345", OTHER, udh + b"part1",
                                  esm_class=0x40)[0], 0x401)
        r = self.h.stopgate_cli("optout", "remove", "-c", self.gw.config,
                                OTHER, "--category", "promo",
                                "--consent", "test")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        udh = bytes([5, 0, 3, 0x43, 2, 2])
        self.assertEqual(c.submit("12345", OTHER, udh + b"part2",
                                  esm_class=0x40)[0], 0x401)
        # a new message goes
        self.assertEqual(c.submit("12345", OTHER, b"new")[0], 0)


class TestProtocol(ProxyCase):
    def test_enquire_unknown_wrong_state(self):
        self.start()
        with smpp.Client.connect(self.port) as c:
            # before bind: enquire_link fine, submit in the wrong state
            self.assertEqual(c.enquire_link(), 0)
            seq = c.send(smpp.SUBMIT_SM, smpp.submit_sm_body(
                "1", OTHER, b"x"))
            r = c.wait_resp(seq)
            self.assertEqual(r.status, 0x04)
        c = self.client()
        self.assertEqual(c.enquire_link(), 0)
        seq = c.send(0x00000777)
        r = c.wait_resp(seq)
        self.assertEqual((r.command_id, r.status),
                         (smpp.GENERIC_NACK, 0x03))
        # a second bind on a bound session
        seq = c.send(smpp.BIND_TRANSCEIVER, smpp.bind_body(
            "marketing", "mkpass1"))
        self.assertEqual(c.wait_resp(seq).status, 0x05)
        # malformed body: generic_nack, session carries on
        seq = c.send(smpp.SUBMIT_SM, b"\x00" * 3)
        r = c.wait_resp(seq)
        self.assertEqual(r.command_id, smpp.GENERIC_NACK)
        self.assertNotEqual(r.status, 0)
        self.assertEqual(c.submit("12345", OTHER, b"ok")[0], 0)
        # receiver may not submit
        rx = self.client(kind="rx")
        seq = rx.send(smpp.SUBMIT_SM, smpp.submit_sm_body("1", OTHER, b"x"))
        self.assertEqual(rx.wait_resp(seq).status, 0x04)

    def test_garbage_and_oversize_isolated(self):
        self.start()
        good = self.client()
        bad = smpp.Client.connect(self.port)
        self.addCleanup(bad.close)
        bad.send_raw(b"\xff\xff\xff\xffGARBAGE" * 10)
        self.assertTrue(bad.wait_closed(3))
        big = self.client("frontdesk", "fdpass1")
        big.send_raw(struct.pack(">IIII", 10 * 1024 * 1024, 4, 0, 9))
        self.assertTrue(big.wait_closed(3))
        # before bind, a 2 KiB PDU is already too big
        pre = smpp.Client.connect(self.port)
        self.addCleanup(pre.close)
        pre.send_raw(struct.pack(">IIII", 2048, 2, 0, 1) + b"\0" * 2032)
        self.assertTrue(pre.wait_closed(3))
        self.assertEqual(good.submit("12345", OTHER, b"still here")[0], 0)
        self.assertTrue(self.gw.alive())

    def test_random_pdus_isolated(self):
        # well-framed PDUs with random ids and bodies from a bound client
        self.start()
        good = self.client()
        fuzz = self.client("frontdesk", "fdpass1")
        rnd = random.Random(1234)
        ids = [0x04, 0x21, 0x103, 0x03, 0x07, 0x08, 0x06, 0x15, 0x02,
               0x80000005, 0x80000103, 0x80000000, 0x102, 0x0B]
        frames = []
        for i in range(2000):
            cid = rnd.choice(ids + [rnd.getrandbits(32)])
            body = bytes(rnd.getrandbits(8)
                         for _ in range(rnd.randrange(0, 120)))
            frames.append(struct.pack(">IIII", 16 + len(body), cid, 0,
                                      i + 1) + body)
        try:
            fuzz.send_raw(b"".join(frames))
            fuzz.wait_closed(2)
        except OSError:
            pass
        self.assertTrue(self.gw.alive())
        self.assertEqual(good.submit("12345", OTHER, b"fine")[0], 0)
        self.assertEqual(good.enquire_link(), 0)

    def test_idle_enquire_and_timeout(self):
        def edit(cfg):
            cfg["timeouts"] = {"idle_ms": 3000, "shutdown_ms": 1000}
        self.start(edit)
        # The silent one binds first: under a sanitizer on a loaded
        # machine a bind can take long enough that a client bound before
        # it would go unread past idle_ms.
        silent = self.client("frontdesk", "fdpass1")
        silent.auto_enquire = False
        alive = self.client()
        # the proxy asks a quiet client; one that answers stays
        p = alive.wait_for(lambda p: p.command_id == smpp.ENQUIRE_LINK, 6)
        self.assertEqual(p.command_id, smpp.ENQUIRE_LINK)
        self.assertTrue(silent.wait_closed(8))
        self.assertEqual(alive.submit("12345", OTHER, b"still")[0], 0)

    def test_bind_timeout(self):
        def edit(cfg):
            cfg["timeouts"] = {"bind_ms": 1000}
        self.start(edit)
        with smpp.Client.connect(self.port) as c:
            self.assertTrue(c.wait_closed(4))


class TestStop(ProxyCase):
    def test_sigterm_waits_for_inflight(self):
        self.start(smsc_args=("-d", "600"))
        c = self.client()
        seq = c.submit_async("12345", "15551230009", b"in flight")
        time.sleep(0.1)
        self.gw.send_signal(signal.SIGTERM)
        # the SMSC's answer still reaches us, then the proxy unbinds
        r = c.wait_resp(seq, 5)
        self.assertEqual(r.status, 0)
        self.assertNotEqual(r.get("message_id", ""), "")
        p = c.wait_for(lambda p: p.command_id == smpp.UNBIND, 5)
        c.respond(p)
        self.assertTrue(c.wait_closed(3))
        self.assertEqual(self.gw.wait(10), 0)


class TestCommands(harness.TestCase):
    def test_check(self):
        good = self.h.write_config(harness.base_config(2776, 2775), "ok.yaml")
        r = self.h.stopgate_cli("check", "-c", good)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        bad = self.h.write_config(
            "business_name: x\nbogus_key: 1\naccounts: 3\n", "bad.yaml")
        r = self.h.stopgate_cli("check", "-c", bad)
        self.assertEqual(r.returncode, 1)
        lines = [x for x in r.stdout.splitlines() if x.strip()]
        self.assertGreaterEqual(len(lines), 2, r.stdout)
        for ln in lines:
            self.assertRegex(ln, r"^%s:\d+:\d+: " % bad.replace(".", r"\."))
        # -c after other words, and usage errors
        r = self.h.stopgate_cli("check")
        self.assertEqual(r.returncode, 2)
        r = self.h.stopgate_cli("nonsense")
        self.assertNotEqual(r.returncode, 0)

    def test_sigterm_exits_zero_with_clients(self):
        smsc = self.h.start_smsc("-u", "acme", "-w", "secret")
        port = self.h.free_port()
        gw = self.h.start_stopgate(harness.base_config(smsc.port, port))
        harness.wait_until(lambda: smsc.ctl().stats()["bound"] >= 1,
                           timeout=10, what="upstream bound")
        c = smpp.Client.connect(port)
        self.addCleanup(c.close)
        self.assertEqual(c.bind("trx", "marketing", "mkpass1"), 0)
        t0 = time.monotonic()
        gw.send_signal(signal.SIGTERM)
        # the proxy unbinds us; answer it
        p = c.wait_for(lambda p: p.command_id == smpp.UNBIND, 5)
        c.respond(p)
        self.assertEqual(gw.wait(10), 0)
        self.assertLess(time.monotonic() - t0, 8)


if __name__ == "__main__":
    harness.main()
