#!/usr/bin/env python3
"""stopgate proxy under faults: the SMSC killed and restored under load
(every submit answered, no acknowledged message lost), a stalled SMSC
(back-pressure: bounded memory, every PDU answered once it resumes), and
the per-account rate limit.
"""

import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import smpp  # noqa: E402

harness.require(harness.STOPGATE, harness.SMSC_SIM)

TEMPORARY = (0x08, 0x14, 0x58)
SANITIZER_MARKS = ("Sanitizer", "runtime error:")


def sanitized(pid):
    """True if pid runs with ASan: its quarantine keeps freed memory
    resident, so RSS bounds are loosened."""
    try:
        with open("/proc/%d/maps" % pid) as f:
            return "libasan" in f.read()
    except OSError:
        return False


def rss_bound_kb(pid, kb):
    return kb * 16 if sanitized(pid) else kb


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for ln in f:
            if ln.startswith("VmRSS:"):
                return int(ln.split()[1])
    return 0


class FaultCase(harness.TestCase):
    def start(self, edit=None, smsc_args=(), smsc_port=None):
        self.smsc_port = smsc_port or self.h.free_port()
        self.smsc = self.h.start_smsc("-u", "acme", "-w", "secret",
                                      *smsc_args, port=self.smsc_port)
        self.port = self.h.free_port()
        cfg = harness.base_config(self.smsc_port, self.port)
        up = cfg["upstreams"][0]
        up["reconnect_min_ms"] = 50
        up["reconnect_max_ms"] = 300
        up["response_timeout_ms"] = 3000
        cfg["timeouts"] = {"shutdown_ms": 1000}
        if edit:
            edit(cfg)
        self.cfg = cfg
        self.gw = self.h.start_stopgate(cfg)
        self.addCleanup(self.clean_exit)
        self.wait_bound(self.smsc)

    def clean_exit(self):
        rc = self.gw.stop()
        log = self.gw.log_text()
        self.assertEqual(rc, 0, log[-3000:])
        for m in SANITIZER_MARKS:
            self.assertNotIn(m, log)

    def wait_bound(self, smsc):
        harness.wait_until(lambda: smsc.ctl().stats()["bound"] >= 1,
                           timeout=10, what="upstream bound")

    def client(self, system_id="marketing", password="mkpass1"):
        c = smpp.Client.connect(self.port)
        self.addCleanup(c.close)
        self.assertEqual(c.bind("trx", system_id, password), 0)
        return c


class TestSmscLoss(FaultCase):
    def pump(self, c, bodies, window=20):
        """Send every body as a submit_sm keeping window outstanding;
        returns {body: (status, message_id)}."""
        out = {}
        pending = {}
        it = iter(bodies)
        done = False
        while not done or pending:
            while not done and len(pending) < window:
                try:
                    b = next(it)
                except StopIteration:
                    done = True
                    break
                seq = c.submit_async("12345", "15556660000", b)
                pending[seq] = b
            if pending:
                p = c.read_pdu(15)
                if p.command_id == smpp.SUBMIT_SM_RESP and p.seq in pending:
                    out[pending.pop(p.seq)] = (p.status,
                                               p.get("message_id", ""))
        return out

    def test_kill_and_restore_under_load(self):
        self.start()
        c = self.client()
        results = {}
        results.update(self.pump(c, [b"a%04d" % i for i in range(300)]))
        # Hold the SMSC's answers, note what it received, then kill it:
        # the held ones were never acknowledged.
        ctl = self.smsc.ctl()
        ctl.ok("pause")
        burst = [b"b%04d" % i for i in range(20)]
        seqs = {c.submit_async("12345", "15556660000", b): b for b in burst}
        time.sleep(0.3)
        received1 = {bytes(x["data"]) for x in ctl.last(1024)}
        self.smsc.kill9()
        while seqs:
            p = c.read_pdu(15)
            if p.seq in seqs:
                results[seqs.pop(p.seq)] = (p.status, "")
        # SMSC down: immediate temporary errors
        down = self.pump(c, [b"c%04d" % i for i in range(100)])
        for st, _ in down.values():
            self.assertIn(st, TEMPORARY)
        results.update(down)
        # restored on the same port
        smsc2 = self.h.start_smsc("-u", "acme", "-w", "secret", "-s",
                                  "500000", port=self.smsc_port)
        self.wait_bound(smsc2)
        after = self.pump(c, [b"d%04d" % i for i in range(300)])
        results.update(after)
        received2 = {bytes(x["data"]) for x in smsc2.ctl().last(1024)}

        self.assertEqual(len(results), 300 + 20 + 100 + 300)
        acked = [b for b, (st, _) in results.items() if st == 0]
        for b, (st, mid) in results.items():
            self.assertTrue(st == 0 or st in TEMPORARY, (b, hex(st)))
            if st == 0:
                self.assertNotEqual(mid, "")
        for b in acked:
            self.assertTrue(b in received1 or b in received2,
                            "acked but never received: %r" % b)
        for b in (b"d%04d" % i for i in range(300)):
            self.assertEqual(results[b][0], 0)
        self.assertTrue(self.gw.alive())


class TestBackPressure(FaultCase):
    def test_stalled_smsc_bounded_memory(self):
        def edit(cfg):
            cfg["upstreams"][0]["window"] = 10
            cfg["upstreams"][0]["response_timeout_ms"] = 20000
        self.start(edit)
        c = self.client()
        ctl = self.smsc.ctl()
        time.sleep(0.2)
        rss0 = rss_kb(self.gw.pid)
        ctl.ok("pause")
        payload = b"x" * 4000
        pdus = []
        for i in range(3000):
            seq = c.next_seq()
            body = smpp.data_sm_body("12345", "15556660001", tlvs=[
                (smpp.TLV_MESSAGE_PAYLOAD, payload)])
            pdus.append((seq, smpp.pdu_encode(smpp.DATA_SM, seq, body)))
        data = b"".join(p for _, p in pdus)
        sock = c.sock
        sock.setblocking(False)
        sent = 0
        deadline = time.monotonic() + 3
        while sent < len(data) and time.monotonic() < deadline:
            _, w, _ = select.select([], [sock], [], 0.1)
            if w:
                try:
                    sent += sock.send(data[sent:sent + 65536])
                except BlockingIOError:
                    pass
        rss1 = rss_kb(self.gw.pid)
        sys.stdout.write("back-pressure: pushed %d KiB while stalled, "
                         "stopgate RSS %d -> %d KiB\n" %
                         (sent // 1024, rss0, rss1))
        self.assertGreater(sent, 2 * 1024 * 1024)
        self.assertLess(sent, len(data), "the proxy read everything")
        # bounded: far less than what the client pushed
        self.assertLess(rss1 - rss0,
                        rss_bound_kb(self.gw.pid, 4 * 1024))
        self.assertLessEqual(ctl.stats()["submits"], 10 + 1)
        # resume: everything is answered
        ctl.ok("resume")
        sock.setblocking(True)
        sock.sendall(data[sent:])
        want = {seq for seq, _ in pdus}
        statuses = {}
        deadline = time.monotonic() + 60
        while want and time.monotonic() < deadline:
            p = c.read_pdu(20)
            if p.command_id == smpp.DATA_SM_RESP and p.seq in want:
                want.discard(p.seq)
                statuses[p.status] = statuses.get(p.status, 0) + 1
        self.assertEqual(len(want), 0, statuses)
        self.assertEqual(statuses.get(0, 0), 3000, statuses)


class TestSlowConsumer(FaultCase):
    def test_client_not_reading_responses(self):
        """A sender that does not read its responses for a while: the
        proxy's memory stays bounded, and nothing is lost once it reads
        again. (Over loopback the kernel's socket buffers absorb a few MB
        of responses before the proxy's own high watermark is reached;
        test_session.c checks the watermark itself over a socketpair.)"""
        def edit(cfg):
            cfg["upstreams"][0]["window"] = 100
            cfg["accounts"][0]["max_window"] = 1000
        self.start(edit)
        ctl = self.smsc.ctl()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        sock.connect(("127.0.0.1", self.port))
        c = smpp.Client(sock)
        self.addCleanup(c.close)
        self.assertEqual(c.bind("trx", "marketing", "mkpass1"), 0)
        time.sleep(0.2)
        rss0 = rss_kb(self.gw.pid)
        n = 30000
        one = smpp.submit_sm_body("12345", "15556660004", b"s")
        frame = len(smpp.pdu_encode(smpp.SUBMIT_SM, 1, one))
        data = b"".join(smpp.pdu_encode(smpp.SUBMIT_SM, 10 + i, one)
                        for i in range(n))
        sock.setblocking(False)
        sent = 0
        idle_since = time.monotonic()
        deadline = time.monotonic() + 10
        while sent < len(data) and time.monotonic() < deadline:
            _, w, _ = select.select([], [sock], [], 0.2)
            if w:
                try:
                    sent += sock.send(data[sent:sent + 65536])
                    idle_since = time.monotonic()
                except BlockingIOError:
                    pass
            elif time.monotonic() - idle_since > 1.0:
                break      # the proxy stopped reading us
        time.sleep(1.0)
        at_smsc = ctl.stats()["submits"]
        rss1 = rss_kb(self.gw.pid)
        sys.stdout.write("slow consumer: pushed %d of %d submits, %d at "
                         "the SMSC, stopgate RSS %d -> %d KiB\n" %
                         (sent // frame, n, at_smsc, rss0, rss1))
        self.assertLess(rss1 - rss0,
                        rss_bound_kb(self.gw.pid, 8 * 1024))
        sock.setblocking(True)
        sock.sendall(data[sent:])
        got = 0
        deadline = time.monotonic() + 90
        while got < n and time.monotonic() < deadline:
            p = c.read_pdu(20)
            if p.command_id == smpp.SUBMIT_SM_RESP:
                self.assertEqual(p.status, 0)
                got += 1
        self.assertEqual(got, n)


def cpu_s(pid):
    with open("/proc/%d/stat" % pid) as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


class TestDescriptors(harness.TestCase):
    def test_out_of_descriptors_no_spin(self):
        """With its descriptor table full the proxy neither spins nor
        dies, and accepts again once descriptors are free."""
        smsc = self.h.start_smsc("-u", "acme", "-w", "secret")
        port = self.h.free_port()
        cfg = harness.base_config(smsc.port, port)
        cfg["timeouts"] = {"shutdown_ms": 1000}
        path = self.h.write_config(cfg)
        gw = self.h.start("stopgate", ["sh", "-c", "ulimit -n 32 && exec "
                                       "%s run -c %s" % (harness.STOPGATE,
                                                         path)])
        harness.wait_port(port, proc=gw)
        harness.wait_until(lambda: smsc.ctl().stats()["bound"] >= 1,
                           timeout=10, what="upstream bound")
        socks = []
        for _ in range(60):
            socks.append(socket.create_connection(("127.0.0.1", port), 5))
        time.sleep(0.5)
        c0 = cpu_s(gw.pid)
        time.sleep(1.0)
        used = cpu_s(gw.pid) - c0
        self.assertLess(used, 0.25, "accept loop spinning")
        self.assertTrue(gw.alive())
        for s in socks:
            s.close()
        time.sleep(0.5)
        c = smpp.Client.connect(port)
        self.addCleanup(c.close)
        self.assertEqual(c.bind("trx", "marketing", "mkpass1", timeout=5), 0)
        self.assertEqual(c.submit("12345", "15556660009", b"x")[0], 0)
        self.assertEqual(gw.stop(), 0)

    def test_max_sessions(self):
        smsc = self.h.start_smsc("-u", "acme", "-w", "secret")
        port = self.h.free_port()
        cfg = harness.base_config(smsc.port, port)
        cfg["limits"] = {"max_sessions": 2}
        cfg["timeouts"] = {"shutdown_ms": 1000}
        gw = self.h.start_stopgate(cfg)
        time.sleep(0.3)   # the harness's port probe has gone
        a = smpp.Client.connect(port)
        b = smpp.Client.connect(port)
        for c in (a, b):
            self.addCleanup(c.close)
            self.assertEqual(c.bind("trx", "marketing", "mkpass1"), 0)
        third = smpp.Client.connect(port)
        self.addCleanup(third.close)
        self.assertTrue(third.wait_closed(3))
        a.close()
        time.sleep(0.3)
        d = smpp.Client.connect(port)
        self.addCleanup(d.close)
        self.assertEqual(d.bind("trx", "marketing", "mkpass1"), 0)
        self.assertEqual(gw.stop(), 0)


class TestRateLimit(FaultCase):
    def test_token_bucket(self):
        def edit(cfg):
            cfg["accounts"][0]["max_rate"] = 5
            cfg["accounts"][0]["max_burst"] = 10
        self.start(edit)
        c = self.client()
        st = [c.submit("12345", "15556660002", b"r")[0] for _ in range(15)]
        self.assertEqual(st[:10], [0] * 10)
        self.assertIn(0x58, st[10:])
        time.sleep(1.0)
        self.assertEqual(c.submit("12345", "15556660002", b"r")[0], 0)
        # another account is not limited
        fd = self.client("frontdesk", "fdpass1")
        for _ in range(15):
            self.assertEqual(fd.submit("15550100", "15556660002",
                                       b"r")[0], 0)


class TestInflightCap(FaultCase):
    def test_max_window_gives_msgqful(self):
        def edit(cfg):
            cfg["accounts"][0]["max_window"] = 3
        self.start(edit)
        c = self.client()
        self.smsc.ctl().ok("pause")
        seqs = [c.submit_async("12345", "15556660003", b"w")
                for _ in range(5)]
        r4 = c.wait_resp(seqs[3], 5)
        r5 = c.wait_resp(seqs[4], 5)
        self.assertEqual((r4.status, r5.status), (0x14, 0x14))
        self.smsc.ctl().ok("resume")
        for s in seqs[:3]:
            self.assertEqual(c.wait_resp(s, 5).status, 0)


if __name__ == "__main__":
    harness.main()
