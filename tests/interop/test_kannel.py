#!/usr/bin/env python3
"""Debian's Kannel as a department's SMPP client sending through stopgate.

Kannel's bearerbox binds to stopgate as a transceiver with the marketing
account (config from kannel/kannel.conf.in plus kannel/smsc-trx.conf.in, or
smsc-tx-rx.conf.in for separate transmitter and receiver binds); messages
go in through smsbox's sendsms HTTP interface; stopgate's upstream is
smsc_sim.

  - bearerbox binds (stopgate logs the bind, the admin status shows the
    SMSC online);
  - a message sent with sendsms arrives at smsc_sim (control port `last`)
    with its text, and Kannel hears the SMSC's own message id (dlr-url
    type 8, %F);
  - the delivery receipt from smsc_sim flows back through stopgate to
    Kannel, which matches it to the message (dlr-url type 1, DELIVRD);
  - a message to a number opted out with `stopgate optout add` never
    reaches smsc_sim: Kannel gets 0x401 (dlr-url type 16 "NACK/0x00000401")
    and stopgate's audit log has it;
  - the same with a bind_transmitter plus a bind_receiver (receipts come
    back on the receiver); UCS-2 text passes unchanged;
  - a long text split by Kannel into UDH parts arrives whole; to an
    opted-out number every part is refused;
  - a subscriber's reply (MO) reaches Kannel's sms-service; replies that
    arrive while Kannel is down reach it, in order, when it is back;
  - STOP from the subscriber: Kannel sees the reply, the subscriber gets
    one confirmation, and Kannel's next send there is refused;
  - a wrong password is refused with 0x0E (Kannel logs it);
  - with the SMSC gone Kannel gets a temporary error (0x58/0x14), keeps
    the message and it is delivered once the SMSC is back; a burst of 40
    messages, a quarter refused, each gets exactly one final DLR;
  - SIGHUP keeps Kannel's bind and applies a new rejection status;
  - Kannel's enquire_link is answered; unbind on shutdown is clean.

The dlr-url points at a small HTTP listener in this test. Skips (exit 0)
only when bearerbox/smsbox or our binaries are missing. 127.0.0.1 only,
every wait bounded, only our own pids signalled.
"""

import http.server
import json
import os
import re
import shutil
import signal
import sys
import threading
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import harness  # noqa: E402

harness.require(harness.STOPGATE, harness.SMSC_SIM)
BEARERBOX = shutil.which("bearerbox") or "/usr/sbin/bearerbox"
SMSBOX = shutil.which("smsbox") or "/usr/sbin/smsbox"
if not (os.access(BEARERBOX, os.X_OK) and os.access(SMSBOX, os.X_OK)):
    print("skipped: Kannel not installed (apt-get install kannel)")
    sys.exit(0)

TEMPLATES = os.path.join(HERE, "kannel")
ALLOWED = "15551230002"
OPTED_OUT = "15551230001"
FROM = "12345"
SENDSMS_USER = "dept"
SENDSMS_PASSWORD = "deptpw1"
ADMIN_PASSWORD = "kadmin1"

# Kannel DLR types (dlr-mask bits)
DLR_DELIVERED = 1
DLR_FAILED = 2
DLR_SMSC_ACK = 8
DLR_SMSC_NACK = 16


class DlrListener:
    """An HTTP server on 127.0.0.1 recording every dlr-url hit as a dict
    of its query parameters (first value each)."""

    def __init__(self):
        self.hits = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                q = urllib.parse.urlsplit(self.path).query
                d = {k: v[0] for k, v in
                     urllib.parse.parse_qs(q, keep_blank_values=True)
                     .items()}
                d["path"] = urllib.parse.urlsplit(self.path).path
                with outer.lock:
                    outer.hits.append(d)
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.1},
                                       daemon=True)
        self.thread.start()

    def find(self, **want):
        with self.lock:
            return [h for h in self.hits
                    if all(h.get(k) == str(v) for k, v in want.items())]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class KannelCase(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.dlr = DlrListener()
        self.addCleanup(self.dlr.close)

    def start_kannel(self, smpp_port, system_id="marketing",
                     password="mkpass1", smsbox=True, transceiver=True):
        """Write the config from the template, start bearerbox, then
        (smsbox) wait for its ports, start smsbox and wait for sendsms."""
        self.admin_port = self.h.free_port()
        self.smsbox_port = self.h.free_port()
        self.sendsms_port = self.h.free_port()
        # a fresh directory per start (a test may restart Kannel)
        self.nkannel = getattr(self, "nkannel", 0) + 1
        kdir = self.h.path("kannel-%d" % self.nkannel)
        os.mkdir(kdir)
        subst = {
            "ADMIN_PORT": self.admin_port,
            "ADMIN_PASSWORD": ADMIN_PASSWORD,
            "SMSBOX_PORT": self.smsbox_port,
            "SENDSMS_PORT": self.sendsms_port,
            "DIR": kdir,
            "SMPP_PORT": smpp_port,
            "SYSTEM_ID": system_id,
            "PASSWORD": password,
            "SENDSMS_USER": SENDSMS_USER,
            "SENDSMS_PASSWORD": SENDSMS_PASSWORD,
            "HTTP_PORT": self.dlr.port,
        }
        text = ""
        for t in ("kannel.conf.in", "smsc-trx.conf.in" if transceiver
                  else "smsc-tx-rx.conf.in"):
            with open(os.path.join(TEMPLATES, t)) as f:
                text += f.read()
        for k, v in subst.items():
            text = text.replace("@%s@" % k, str(v))
        self.assertIsNone(re.search(r"^[^#]*@[A-Z_]+@", text, re.M))
        self.kdir = kdir
        conf = os.path.join(kdir, "kannel.conf")
        with open(conf, "w") as f:
            f.write(text)
        self.bb = self.h.start("bearerbox", [BEARERBOX, "-v", "1", conf],
                               cwd=kdir)
        if not smsbox:
            return
        harness.wait_port(self.admin_port, proc=self.bb)
        harness.wait_port(self.smsbox_port, proc=self.bb)
        self.sb = self.h.start("smsbox", [SMSBOX, "-v", "1", conf],
                               cwd=kdir)
        harness.wait_port(self.sendsms_port, proc=self.sb)
        # smsbox opens sendsms before it has loaded its users and
        # services; a request in between crashes it (Kannel 1.4.5).
        harness.wait_until(
            lambda: "Connected to bearerbox" in self.klog("smsbox.log"),
            10, what="smsbox to connect to bearerbox")

    def klog(self, name):
        try:
            with open(os.path.join(self.kdir, name), "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def admin_status(self):
        url = ("http://127.0.0.1:%d/status.txt?password=%s" %
               (self.admin_port, ADMIN_PASSWORD))
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.read().decode("utf-8", "replace")

    def smsc_online(self):
        for ln in self.admin_status().splitlines():
            if "stopgate" in ln and "online" in ln:
                return True
        return False

    def sendsms(self, to, text, tag, **extra):
        """One message through smsbox; dlr-url carries tag back; extra
        sendsms parameters (coding=2...). Returns (HTTP status, body)."""
        dlr_url = ("http://127.0.0.1:%d/dlr?tag=%s&type=%%d&reply=%%A"
                   "&to=%%p&from=%%P&fid=%%F&smsc=%%i" %
                   (self.dlr.port, tag))
        q = {
            "username": SENDSMS_USER, "password": SENDSMS_PASSWORD,
            "from": FROM, "to": to, "text": text,
            "dlr-mask": str(DLR_DELIVERED | DLR_FAILED | DLR_SMSC_ACK |
                            DLR_SMSC_NACK),
            "dlr-url": dlr_url,
        }
        q.update({k: str(v) for k, v in extra.items()})
        q = urllib.parse.urlencode(q)
        url = "http://127.0.0.1:%d/cgi-bin/sendsms?%s" % (
            self.sendsms_port, q)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode("utf-8", "replace")

    def start_all(self, optout=True, transceiver=True):
        """smsc_sim, stopgate, OPTED_OUT opted out of promo, Kannel bound
        to stopgate as marketing. Returns (smsc, gw)."""
        smsc, gw, _ = self.h.start_stack(smsc_args=("-s", "900",
                                                    "-r", "100"))
        if optout:
            r = self.h.stopgate_cli("optout", "add", "-c", gw.config,
                                    OPTED_OUT, "--category", "promo",
                                    "--source", "staff", "--note",
                                    "kannel interop")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.start_kannel(gw.port, transceiver=transceiver)
        harness.wait_until(self.smsc_online, 15,
                           what="Kannel's SMSC connection online")
        return smsc, gw

    def stop_kannel(self):
        """smsbox then bearerbox, by pid; bearerbox unbinds first."""
        self.sb.stop(bound=10)
        self.bb.stop(bound=15)


class TestKannel(KannelCase):
    def test_send_receipt_and_optout(self):
        smsc, gw = self.start_all()
        # bearerbox bound to stopgate as the marketing transceiver
        harness.wait_until(
            lambda: "system_id=marketing bind=trx" in gw.log_text(), 5,
            what="stopgate to log Kannel's bind")

        # an allowed message reaches the SMSC through stopgate
        st, body = self.sendsms(ALLOWED, "Kannel says hi", "ok1")
        self.assertEqual(st, 202, body)
        ctl = smsc.ctl()
        harness.wait_until(lambda: ctl.stats()["submits"] >= 1, 15,
                           what="the submit at smsc_sim")
        got = ctl.last(1)[0]
        self.assertEqual((got["src"], got["dst"], got["data"]),
                         (FROM, ALLOWED, b"Kannel says hi"))
        self.assertEqual(got["system_id"], "acme")
        self.assertEqual(got["id"], "900")

        # Kannel heard the SMSC's own message id, then the receipt
        ack = harness.wait_until(
            lambda: self.dlr.find(tag="ok1", type=DLR_SMSC_ACK), 15,
            what="Kannel's SMSC-ack DLR")
        self.assertEqual(ack[0]["fid"], "900")
        self.assertEqual(ack[0]["smsc"], "stopgate")
        dlv = harness.wait_until(
            lambda: self.dlr.find(tag="ok1", type=DLR_DELIVERED), 15,
            what="the delivery receipt back at Kannel")
        self.assertEqual(dlv[0]["fid"], "900")
        self.assertIn("stat:DELIVRD", dlv[0]["reply"])
        self.assertEqual(dlv[0]["to"], ALLOWED)

        # the opted-out number: refused by stopgate with 0x401
        st, body = self.sendsms(OPTED_OUT, "Sale! 20% off", "no1")
        self.assertEqual(st, 202, body)
        nack = harness.wait_until(
            lambda: self.dlr.find(tag="no1", type=DLR_SMSC_NACK), 15,
            what="Kannel's SMSC-nack DLR for the opted-out number")
        self.assertIn("0x00000401", nack[0]["reply"])
        # Kannel does not retry it: no further submit and no ack later
        time.sleep(1.0)
        self.assertEqual(self.dlr.find(tag="no1", type=DLR_SMSC_ACK), [])
        self.assertEqual(self.dlr.find(tag="no1", type=DLR_DELIVERED), [])
        self.assertEqual(len(self.dlr.find(tag="no1")), 1)
        self.assertEqual(ctl.stats()["submits"], 1)
        self.assertNotIn(OPTED_OUT, repr(ctl.last(10)))
        self.assertIn("SMSC returned error code 0x00000401",
                      self.klog("smsc-stopgate.log"))
        acc = self.klog("access.log")
        self.assertRegex(acc, r"REJECTED Send SMS \[SMSC:stopgate\].*"
                         r"\[to:%s\]" % OPTED_OUT)
        self.assertRegex(acc, r"Sent SMS \[SMSC:stopgate\].*\[FID:900\]"
                         r".*\[to:%s\]" % ALLOWED)
        r = self.h.stopgate_cli("audit", "-c", gw.config, "--format",
                                "jsonl")
        self.assertEqual(r.returncode, 0, r.stderr)
        recs = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        self.assertEqual(len(recs), 1, r.stdout)
        self.assertEqual((recs[0]["account"], recs[0]["category"],
                          recs[0]["destination"]),
                         ("marketing", "promo", OPTED_OUT))

        # and the allowed number still passes afterwards
        st, body = self.sendsms(ALLOWED, "second", "ok2")
        self.assertEqual(st, 202, body)
        harness.wait_until(
            lambda: self.dlr.find(tag="ok2", type=DLR_DELIVERED), 15,
            what="the second delivery receipt")
        self.assertEqual(ctl.stats()["submits"], 2)

        # Kannel's enquire_link (every second when idle) is answered
        harness.wait_until(
            lambda: "type_name: enquire_link_resp" in
            self.klog("smsc-stopgate.log"), 5,
            what="an enquire_link_resp at Kannel")

        # Kannel shuts down with an unbind stopgate answers
        self.stop_kannel()
        harness.wait_until(
            lambda: "system_id=marketing" in gw.log_text() and
            "reason=unbind" in gw.log_text(), 5,
            what="stopgate to log Kannel's unbind")
        self.assertIn("type_name: unbind_resp",
                      self.klog("smsc-stopgate.log"))
        self.assertTrue(gw.alive())
        self.assertEqual(gw.stop(), 0, gw.log_tail())

    def test_burst(self):
        """40 sendsms requests in a row (every fourth to the opted-out
        number) with an SMSC answering after 30 ms: Kannel keeps up to 10
        submits pending through stopgate; each allowed message is relayed
        once and its receipt matched, each refused one NACKed once."""
        smsc, gw = self.start_all()
        smsc.ctl().ok("set delay 30")
        for i in range(40):
            to = OPTED_OUT if i % 4 == 3 else ALLOWED
            st, body = self.sendsms(to, "burst %02d" % i, "b%02d" % i)
            self.assertEqual(st, 202, body)
        ctl = smsc.ctl()
        harness.wait_until(
            lambda: len([h for h in self.dlr.hits
                         if h.get("type") in ("1", "16")]) >= 40, 30,
            what="a final DLR for each of the 40 messages")
        for i in range(40):
            tag = "b%02d" % i
            if i % 4 == 3:
                self.assertEqual(len(self.dlr.find(tag=tag,
                                                   type=DLR_SMSC_NACK)), 1)
                self.assertEqual(self.dlr.find(tag=tag, type=DLR_DELIVERED),
                                 [])
            else:
                self.assertEqual(len(self.dlr.find(tag=tag,
                                                   type=DLR_DELIVERED)), 1)
        self.assertEqual(ctl.stats()["submits"], 30)
        texts = sorted(p["data"] for p in ctl.last(100))
        self.assertEqual(texts, sorted(b"burst %02d" % i for i in range(40)
                                       if i % 4 != 3))
        self.assertEqual(gw.log_text().count("event=reject_optout"), 10)

    def test_smsc_down_kannel_retries(self):
        """While the SMSC is gone stopgate answers Kannel with a temporary
        error; Kannel keeps the message and retries, and it is delivered
        exactly once when the SMSC is back."""
        smsc, gw = self.start_all(optout=False)
        port, ctl_port = smsc.port, smsc.ctl_port
        smsc.stop()
        harness.wait_until(lambda: "bound=no" in gw.log_text(), 10,
                           what="stopgate to lose its upstream")
        st, body = self.sendsms(ALLOWED, "held back", "down1")
        self.assertEqual(st, 202, body)
        harness.wait_until(
            lambda: re.search(r"SMSC returned error code 0x000000(58|14)",
                              self.klog("smsc-stopgate.log")), 10,
            what="a temporary error at Kannel")
        self.assertEqual(self.dlr.find(tag="down1", type=DLR_SMSC_NACK), [])
        smsc2 = self.h.start_smsc("-u", "acme", "-w", "secret", "-s", "950",
                                  port=port, ctl_port=ctl_port)
        dlv = harness.wait_until(
            lambda: self.dlr.find(tag="down1", type=DLR_DELIVERED), 30,
            what="the held message delivered after the SMSC is back")
        self.assertEqual(dlv[0]["fid"], "950")
        time.sleep(1.5)
        self.assertEqual(smsc2.ctl().stats()["submits"], 1)
        self.assertEqual(len(self.dlr.find(tag="down1",
                                           type=DLR_DELIVERED)), 1)
        self.assertEqual(self.dlr.find(tag="down1", type=DLR_SMSC_NACK), [])

    def test_reload_keeps_kannel_bound(self):
        """SIGHUP with a new opt-out rejection status: Kannel's bind stays
        up (no second bind) and the new status is what Kannel sees."""
        smsc, gw = self.start_all()
        cfg = harness.base_config(smsc.port, gw.port,
                                  store_path=self.h.path("store"))
        cfg["rejection"] = {"command_status": 0x402}
        self.h.write_config(cfg)
        gw.send_signal(signal.SIGHUP)
        harness.wait_until(lambda: "event=reloaded" in gw.log_text(), 10,
                           what="stopgate to reload")
        st, body = self.sendsms(ALLOWED, "after reload", "r1")
        self.assertEqual(st, 202, body)
        harness.wait_until(
            lambda: self.dlr.find(tag="r1", type=DLR_DELIVERED), 15,
            what="a receipt after the reload")
        st, body = self.sendsms(OPTED_OUT, "after reload", "r2")
        self.assertEqual(st, 202, body)
        nack = harness.wait_until(
            lambda: self.dlr.find(tag="r2", type=DLR_SMSC_NACK), 15,
            what="Kannel's SMSC-nack DLR after the reload")
        self.assertIn("0x00000402", nack[0]["reply"])
        self.assertEqual(self.klog("smsc-stopgate.log")
                         .count("type_name: bind_transceiver_resp"), 1)
        self.assertEqual(gw.log_text().count("event=bind "), 1)

    def test_transmitter_and_receiver_binds(self):
        """Kannel with transceiver-mode false: a bind_transmitter for
        submits and a bind_receiver for receipts, both as marketing; the
        receipt comes back on the receiver."""
        smsc, gw = self.start_all(transceiver=False)
        harness.wait_until(
            lambda: "system_id=marketing bind=tx" in gw.log_text() and
            "system_id=marketing bind=rx" in gw.log_text(), 10,
            what="Kannel's two binds at stopgate")
        st, body = self.sendsms(ALLOWED, "two binds", "trx0")
        self.assertEqual(st, 202, body)
        dlv = harness.wait_until(
            lambda: self.dlr.find(tag="trx0", type=DLR_DELIVERED), 15,
            what="the receipt through the receiver bind")
        self.assertEqual(dlv[0]["fid"], "900")
        st, body = self.sendsms(OPTED_OUT, "two binds", "trx1")
        self.assertEqual(st, 202, body)
        nack = harness.wait_until(
            lambda: self.dlr.find(tag="trx1", type=DLR_SMSC_NACK), 15,
            what="Kannel's SMSC-nack DLR")
        self.assertIn("0x00000401", nack[0]["reply"])
        self.assertEqual(smsc.ctl().stats()["submits"], 1)

    def test_unicode_text(self):
        """sendsms with coding=2 (UCS-2): the bytes reach the SMSC as
        data_coding 8, UTF-16BE, unchanged."""
        smsc, gw = self.start_all(optout=False)
        text = "Grüße, 東京 ✓"
        st, body = self.sendsms(ALLOWED, text, "u1", coding=2,
                                charset="UTF-8")
        self.assertEqual(st, 202, body)
        ctl = smsc.ctl()
        harness.wait_until(lambda: ctl.stats()["submits"] >= 1, 15,
                           what="the submit at smsc_sim")
        got = ctl.last(1)[0]
        self.assertEqual(got["dcs"], 8)
        self.assertEqual(got["data"], text.encode("utf-16-be"))

    def test_concatenated_message(self):
        """Kannel splits a long text into UDH parts: every part of an
        allowed one reaches the SMSC, no part of a refused one does."""
        smsc, gw = self.start_all()
        text = "".join("Spring sale part %02d. " % i for i in range(15))
        self.assertGreater(len(text), 300)
        st, body = self.sendsms(ALLOWED, text, "long1")
        self.assertEqual(st, 202, body)
        ctl = smsc.ctl()
        harness.wait_until(lambda: ctl.stats()["submits"] >= 3, 15,
                           what="three parts at smsc_sim")
        parts = ctl.last(3)
        refs = set()
        joined = b""
        for i, p in enumerate(parts):
            self.assertEqual(p["dst"], ALLOWED)
            self.assertTrue(int(p["esm"], 16) & 0x40, p)
            udh = p["data"][:p["data"][0] + 1]
            # 8-bit reference concatenation IE: 00 03 ref total seq
            self.assertEqual((udh[1], udh[2], udh[4], udh[5]),
                             (0x00, 0x03, 3, i + 1), udh.hex())
            refs.add(udh[3])
            joined += p["data"][len(udh):]
        self.assertEqual(len(refs), 1)
        self.assertEqual(joined.decode("latin-1"), text)
        harness.wait_until(lambda: self.dlr.find(tag="long1",
                                                 type=DLR_SMSC_ACK),
                           15, what="Kannel's SMSC-ack DLR")

        st, body = self.sendsms(OPTED_OUT, text, "long2")
        self.assertEqual(st, 202, body)
        harness.wait_until(lambda: self.dlr.find(tag="long2",
                                                 type=DLR_SMSC_NACK),
                           15, what="Kannel's SMSC-nack DLR")
        # every part is refused: stopgate audits each one, nothing more
        # reaches the SMSC
        harness.wait_until(
            lambda: gw.log_text().count("event=reject_optout") >= 3, 10,
            what="three refused parts")
        time.sleep(0.5)
        self.assertEqual(ctl.stats()["submits"], 3)
        self.assertNotIn(OPTED_OUT, repr(ctl.last(10)))
        self.assertEqual(self.dlr.find(tag="long2", type=DLR_SMSC_ACK), [])

    def test_mo_reaches_kannel(self):
        """A subscriber's reply to 12345 is passed on to marketing, here
        Kannel, which hands it to its sms-service (our HTTP listener)."""
        smsc, gw = self.start_all(optout=False)
        ctl = smsc.ctl()
        seq = ctl.mo(ALLOWED, FROM, "see you at 5")
        self.assertEqual(ctl.wait_resp(seq, 10), 0)
        hit = harness.wait_until(lambda: self.dlr.find(path="/mo"), 10,
                                 what="the MO at Kannel's sms-service")
        self.assertEqual(len(hit), 1, hit)
        self.assertEqual((hit[0]["text"], hit[0]["smsc"]),
                         ("see you at 5", "stopgate"))
        # Kannel writes a "+" for TON international
        self.assertEqual(hit[0]["from"].lstrip("+"), ALLOWED)
        self.assertEqual(hit[0]["to"].lstrip("+"), FROM)
        # Kannel does not answer it (max-messages 0)
        time.sleep(0.5)
        self.assertEqual(ctl.stats()["submits"], 0)

    def test_stop_then_kannel_send_refused(self):
        """A subscriber texts STOP to 12345: Kannel (marketing) still sees
        the reply, the subscriber gets one confirmation, and Kannel's next
        send to the number is refused with 0x401."""
        smsc, gw = self.start_all(optout=False)
        ctl = smsc.ctl()
        seq = ctl.mo(OPTED_OUT, FROM, "STOP")
        self.assertEqual(ctl.wait_resp(seq, 10), 0)
        harness.wait_until(lambda: self.dlr.find(path="/mo", text="STOP"),
                           10, what="the STOP at Kannel's sms-service")
        conf = harness.wait_until(
            lambda: [p for p in ctl.last(10) if p["dst"] == OPTED_OUT],
            10, what="the confirmation at smsc_sim")
        self.assertEqual(conf[0]["src"], FROM)
        st, body = self.sendsms(OPTED_OUT, "Sale!", "after-stop")
        self.assertEqual(st, 202, body)
        nack = harness.wait_until(
            lambda: self.dlr.find(tag="after-stop", type=DLR_SMSC_NACK),
            15, what="Kannel's SMSC-nack DLR after STOP")
        self.assertIn("0x00000401", nack[0]["reply"])
        self.assertEqual(len([p for p in ctl.last(10)
                              if p["dst"] == OPTED_OUT]), 1)

    def test_outbox_while_kannel_down(self):
        """Replies that arrive while Kannel is down are kept by stopgate
        (the SMSC gets 0) and reach Kannel, in order, once it binds
        again."""
        smsc, gw = self.start_all(optout=False)
        self.stop_kannel()
        harness.wait_until(lambda: "reason=unbind" in gw.log_text(), 5,
                           what="Kannel's unbind at stopgate")
        ctl = smsc.ctl()
        texts = ["first reply", "second reply", "third reply"]
        for t in texts:
            self.assertEqual(ctl.wait_resp(ctl.mo(ALLOWED, FROM, t), 10), 0)
        self.assertEqual(gw.log_text().count("event=mo_kept"), 3)
        self.assertEqual(self.dlr.find(path="/mo"), [])

        self.start_kannel(gw.port)
        harness.wait_until(lambda: len(self.dlr.find(path="/mo")) >= 3, 15,
                           what="the kept replies at Kannel")
        self.assertEqual(sorted(h["text"] for h in
                                self.dlr.find(path="/mo")), sorted(texts))
        # in order as bearerbox received them
        got = re.findall(r"Receive SMS \[SMSC:stopgate\].*"
                         r"\[msg:\d+:([^]]*)\]", self.klog("access.log"))
        self.assertEqual(got, texts)
        time.sleep(0.5)
        self.assertEqual(len(self.dlr.find(path="/mo")), 3)

    def test_wrong_password_refused(self):
        _, gw, _ = self.h.start_stack()
        # Kannel 1.4.5 treats ESME_RINVPASWD as fatal for the connection,
        # and its bearerbox may then abort on its own assertion
        # (gwlist_remove_producer in bb_smscconn_killed): only its log is
        # checked here, not that it stays up.
        self.start_kannel(gw.port, password="not-it", smsbox=False)
        harness.wait_until(
            lambda: "code 0x0000000e" in self.klog("smsc-stopgate.log"),
            15, what="Kannel to log ESME_RINVPASWD")
        harness.wait_until(
            lambda: "event=bind_refused system_id=marketing" in
            gw.log_text(), 5, what="stopgate to log the refused bind")
        self.assertNotIn("event=bind system_id=marketing", gw.log_text())
        self.assertNotIn("not-it", gw.log_text())
        self.assertTrue(gw.alive())


if __name__ == "__main__":
    harness.main()
