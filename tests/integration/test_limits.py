#!/usr/bin/env python3
"""Limits: no one who can connect can stop the departments.

Each test is a finding from an attack on stopgate from the department
network (SPEC §3, §7): idle connections that used to fill the session cap
and lock every new bind out for 30 s; a bind with an over-long field that
got generic_nack and left the connection open for another try; garbage
PDUs that wrote a log line each, without limit, before any bind; password
guessing from many parallel connections, whose failure count another
account's success used to reset; admin token guessing at thousands a
second; an admin listener that spun at 100 % CPU once file descriptors ran
out; and an admin client that kept a connection open by sending one header
byte a second.

Everything is on 127.0.0.1; every flood is bounded in count and time.
"""

import os
import resource
import socket
import struct
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import smpp  # noqa: E402

harness.require(harness.STOPGATE, harness.SMSC_SIM)

ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
BIND_TRX = 0x00000009
BIND_TRX_RESP = 0x80000009


def cpu_seconds(pid):
    """utime + stime of pid, in seconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def log_lines(proc):
    return proc.log_text().count("\n")


def raise_nofile(n):
    """This test process opens many sockets: make room for them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < n:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(n, hard), hard))


class LimitCase(harness.TestCase):
    def start(self, edit=None, admin=False, wrap=()):
        self.smsc_port = self.h.free_port()
        self.smsc = self.h.start_smsc("-u", "acme", "-w", "secret",
                                      port=self.smsc_port)
        self.port = self.h.free_port()
        self.admin_port = self.h.free_port() if admin else None
        cfg = harness.base_config(self.smsc_port, self.port,
                                  admin_port=self.admin_port)
        cfg["timeouts"] = {"shutdown_ms": 1000}
        if edit:
            edit(cfg)
        self.cfg = cfg
        self.gw = self.h.start_stopgate(cfg, wrap=wrap)
        harness.wait_until(lambda: self.smsc.ctl().stats()["bound"] >= 1,
                           timeout=10, what="upstream bound")

    def bind_client(self, system_id="marketing", password="mkpass1",
                    timeout=5.0, sock=None):
        """Connect (on sock, made earlier, when given: smpp.py uses
        select(), so a client made after a flood of sockets would get a
        descriptor above FD_SETSIZE) and bind."""
        if sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        sock.connect(("127.0.0.1", self.port))
        sock.settimeout(None)
        c = smpp.Client(sock)
        self.addCleanup(c.close)
        return c, c.bind("trx", system_id, password, timeout=timeout)

    def idle_sockets(self, n, port):
        socks = []
        for _ in range(n):
            try:
                socks.append(socket.create_connection(("127.0.0.1", port),
                                                      timeout=2))
            except OSError:
                break
        self.addCleanup(lambda: [s.close() for s in socks])
        return socks


class TestUnboundConnections(LimitCase):
    def test_idle_flood_does_not_lock_out_a_bind(self):
        """1,100 idle connections (more than the default session cap of
        1,024) must not keep a department from binding and sending; a
        session bound before the flood keeps working."""
        raise_nofile(8192)
        self.start(wrap=("prlimit", "--nofile=4096:4096"))
        before, st = self.bind_client()
        self.assertEqual(st, 0)
        later = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        socks = self.idle_sockets(1100, self.port)
        self.assertGreater(len(socks), 1024)
        t0 = time.monotonic()
        c, st = self.bind_client(timeout=5, sock=later)
        self.assertEqual(st, 0, "bind refused during an idle flood")
        self.assertLess(time.monotonic() - t0, 2.0)
        self.assertEqual(c.submit("12345", "15551230000", b"hi")[0], 0)
        self.assertEqual(before.submit("12345", "15551230001", b"hi")[0], 0)

    def test_unbound_connection_closed_within_seconds(self):
        """A connection that never binds is closed after a short default
        timeout (seconds), not after 30 s."""
        self.start()
        s = socket.create_connection(("127.0.0.1", self.port), timeout=2)
        self.addCleanup(s.close)
        s.settimeout(15)
        t0 = time.monotonic()
        try:
            data = s.recv(4096)
            while data:
                data = s.recv(4096)
        except OSError:
            pass
        self.assertLess(time.monotonic() - t0, 12.0)


class TestBindFields(LimitCase):
    def raw_bind(self, system_id, password):
        c = smpp.Client.connect(self.port)
        self.addCleanup(c.close)
        body = (system_id.encode() + b"\0" + password.encode() + b"\0" +
                b"\0" + bytes((0x34, 0, 0)) + b"\0")
        seq = c.send(BIND_TRX, body)
        return c, c.wait_resp(seq, timeout=5)

    def test_overlong_password_answers_bind_resp_and_closes(self):
        """SMPP 3.4 allows 8 password characters: a 9-character one gets a
        bind_transceiver_resp with ESME_RINVPASWD, and the connection is
        closed, so no second try on it goes uncounted; /metrics counts
        it as a refused bind."""
        self.start(admin=True)
        c, r = self.raw_bind("frontdesk", "123456789")
        self.assertEqual(r.command_id, BIND_TRX_RESP)
        self.assertEqual(r.status, ESME_RINVPASWD)
        self.assertTrue(c.wait_closed(timeout=5))
        req = urllib.request.Request(
            "http://127.0.0.1:%d/metrics" % self.admin_port,
            headers={"Authorization": "Bearer test-token"})
        with urllib.request.urlopen(req, timeout=5) as resp:
            text = resp.read().decode()
        self.assertIn("\nstopgate_binds_refused_total 1\n", text)

    def test_overlong_system_id_answers_bind_resp_and_closes(self):
        self.start()
        c, r = self.raw_bind("x" * 20, "pw")
        self.assertEqual(r.command_id, BIND_TRX_RESP)
        self.assertEqual(r.status, ESME_RINVSYSID)
        self.assertTrue(c.wait_closed(timeout=5))


class TestGarbage(LimitCase):
    def garbage(self, seq):
        # A well-framed PDU with a command_id nobody defines.
        return struct.pack(">IIII", 16, 0x00000777, 0, seq)

    def test_malformed_pdus_before_bind_close_the_connection(self):
        self.start()
        c = smpp.Client.connect(self.port)
        self.addCleanup(c.close)
        for i in range(1, 50):
            try:
                c.send_raw(self.garbage(i))
            except OSError:
                break
        self.assertTrue(c.wait_closed(timeout=5),
                        "still open after 49 malformed PDUs before bind")

    def test_garbage_flood_writes_a_bounded_log(self):
        """Four unbound connections sending garbage as fast as they can
        for 3 s: the log grows by summaries, not a line per PDU, and a
        bound department keeps its latency."""
        self.start()
        dept, st = self.bind_client()
        self.assertEqual(st, 0)
        lines0 = log_lines(self.gw)
        stop = time.monotonic() + 3.0
        sent = [0]

        def flood():
            blob = b"".join(self.garbage(i) for i in range(1, 200))
            while time.monotonic() < stop:
                try:
                    s = socket.create_connection(("127.0.0.1", self.port),
                                                 timeout=2)
                except OSError:
                    time.sleep(0.01)
                    continue
                try:
                    while time.monotonic() < stop:
                        s.sendall(blob)
                        sent[0] += 199
                except OSError:
                    pass
                finally:
                    s.close()

        threads = [threading.Thread(target=flood) for _ in range(4)]
        for t in threads:
            t.start()
        worst = 0.0
        while time.monotonic() < stop:
            t0 = time.monotonic()
            self.assertEqual(dept.submit("12345", "15551230002", b"x")[0], 0)
            worst = max(worst, time.monotonic() - t0)
            time.sleep(0.05)
        for t in threads:
            t.join(10)
        grown = log_lines(self.gw) - lines0
        self.assertGreater(sent[0], 1000)
        self.assertLess(grown, 2000, "%d log lines for %d garbage PDUs" %
                        (grown, sent[0]))
        self.assertLess(worst, 0.5)


class TestGuessing(LimitCase):
    def attempts(self, nconn, seconds, system_id="frontdesk"):
        """nconn connections guessing passwords in parallel for seconds;
        returns how many wrong guesses were answered."""
        stop = time.monotonic() + seconds
        answered = [0]
        lock = threading.Lock()

        def guess():
            while time.monotonic() < stop:
                try:
                    c = smpp.Client.connect(self.port, timeout=2)
                except OSError:
                    time.sleep(0.05)
                    continue
                try:
                    left = max(0.1, stop - time.monotonic())
                    st = c.bind("trx", system_id, "wrong", timeout=left)
                    if st == ESME_RINVPASWD:
                        with lock:
                            answered[0] += 1
                except smpp.Error:
                    pass
                finally:
                    c.close()

        threads = [threading.Thread(target=guess) for _ in range(nconn)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(seconds + 10)
        return answered[0]

    def test_parallel_guessing_is_throttled(self):
        """200 connections guessing at once get at most a handful of
        answers a second between them, not one each per delay."""
        raise_nofile(4096)
        self.start()
        n = self.attempts(200, 12.0)
        self.assertLess(n, 40, "%d wrong passwords answered in 12 s" % n)

    def test_another_accounts_success_does_not_reset(self):
        """Holding marketing's password does not speed up guessing
        frontdesk's: a successful bind from the same address leaves the
        failure count of the address and of frontdesk as it was."""
        self.start()
        t0 = time.monotonic()
        answered = 0
        while time.monotonic() - t0 < 4.0:
            ok, st = self.bind_client()         # marketing, correct
            self.assertEqual(st, 0)
            ok.close()
            c = smpp.Client.connect(self.port)
            try:
                st = c.bind("trx", "frontdesk", "wrong", timeout=6)
                if st == ESME_RINVPASWD:
                    answered += 1
            except smpp.Error:
                pass
            finally:
                c.close()
        self.assertLess(answered, 10, "%d guesses in 4 s" % answered)

    def test_correct_bind_still_works_while_guessing(self):
        """The throttle delays the guesser's answers, not a department
        that knows its password."""
        raise_nofile(4096)
        self.start()
        th = threading.Thread(target=self.attempts, args=(20, 3.0))
        th.start()
        time.sleep(1.0)
        t0 = time.monotonic()
        _, st = self.bind_client("marketing", "mkpass1")
        took = time.monotonic() - t0
        th.join(15)
        self.assertEqual(st, 0)
        self.assertLess(took, 1.0)


class TestAdminLimits(LimitCase):
    def get(self, path, token, timeout=5):
        req = urllib.request.Request(
            "http://127.0.0.1:%d%s" % (self.admin_port, path),
            headers={"Authorization": "Bearer " + token})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code

    def test_bad_tokens_are_throttled(self):
        self.start(admin=True)
        stop = time.monotonic() + 3.0
        answered = [0]
        lock = threading.Lock()

        def guess():
            while time.monotonic() < stop:
                try:
                    st = self.get("/v1/review", "guess",
                                  timeout=max(0.2, stop - time.monotonic()))
                except OSError:
                    continue
                if st == 401:
                    with lock:
                        answered[0] += 1

        threads = [threading.Thread(target=guess) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(15)
        self.assertLess(answered[0], 60,
                        "%d bad tokens answered in 3 s" % answered[0])
        # The right token still works at once.
        self.assertEqual(self.get("/v1/review", "test-token"), 200)

    def test_admin_listener_survives_fd_exhaustion(self):
        """With 256 file descriptors, 400 idle admin connections must not
        spin the loop or flood the log, and once they go the admin API
        and SMPP binds work again."""
        raise_nofile(4096)
        self.start(admin=True, wrap=("prlimit", "--nofile=256:256"))
        lines0 = log_lines(self.gw)
        socks = self.idle_sockets(400, self.admin_port)
        self.assertGreater(len(socks), 50)
        cpu0 = cpu_seconds(self.gw.popen.pid)
        time.sleep(2.0)
        busy = cpu_seconds(self.gw.popen.pid) - cpu0
        self.assertLess(busy, 0.6, "%.2f s of CPU in 2 s idle" % busy)
        for s in socks:
            s.close()
        harness.wait_until(lambda: self.get("/healthz", "") == 200,
                           timeout=10, what="/healthz after the flood")
        _, st = self.bind_client()
        self.assertEqual(st, 0)
        self.assertLess(log_lines(self.gw) - lines0, 200)

    def test_slow_request_is_cut_at_its_deadline(self):
        """A client sending one header byte a second does not keep an
        admin connection open past the whole-request deadline."""
        def edit(cfg):
            cfg["timeouts"]["admin_request_ms"] = 3000
        self.start(edit=edit, admin=True)
        s = socket.create_connection(("127.0.0.1", self.admin_port),
                                     timeout=2)
        self.addCleanup(s.close)
        req = b"GET /v1/review HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 40
        t0 = time.monotonic()
        closed = False
        for b in req:
            try:
                s.send(bytes((b,)))
            except OSError:
                closed = True
                break
            time.sleep(0.5)
            if time.monotonic() - t0 > 12:
                break
        if not closed:
            s.settimeout(3)
            try:
                closed = s.recv(1) == b""
            except OSError:
                closed = True
        self.assertTrue(closed)
        self.assertLess(time.monotonic() - t0, 10.0)


if __name__ == "__main__":
    harness.main()
