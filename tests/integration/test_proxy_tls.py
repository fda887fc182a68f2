#!/usr/bin/env python3
"""stopgate proxy, TLS listener: a throwaway CA and server certificate made
with the openssl CLI; a client that verifies the server binds and submits
over TLS next to a plain listener; with client_ca set, a client without a
certificate is refused and one with a CA-signed certificate gets in.
"""

import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import smpp  # noqa: E402

harness.require(harness.STOPGATE, harness.SMSC_SIM)
if shutil.which("openssl") is None:
    print("skipped: no openssl CLI")
    sys.exit(0)

SANITIZER_MARKS = ("Sanitizer", "runtime error:")


def openssl(d, *args):
    subprocess.run(["openssl"] + list(args), cwd=d, check=True,
                   capture_output=True, timeout=60)


def make_pki(d, ca="ca"):
    """ca.pem/ca.key, server.pem/server.key (SAN IP:127.0.0.1),
    client.pem/client.key, all signed by the CA."""
    openssl(d, "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", ca + ".key", "-out", ca + ".pem", "-days", "2",
            "-subj", "/CN=stopgate test CA " + ca)
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1\n")
    for name in ("server", "client"):
        openssl(d, "req", "-newkey", "rsa:2048", "-nodes",
                "-keyout", name + ".key", "-out", name + ".csr",
                "-subj", "/CN=" + name)
        openssl(d, "x509", "-req", "-in", name + ".csr", "-CA",
                ca + ".pem", "-CAkey", ca + ".key", "-CAcreateserial", "-out",
                name + ".pem", "-days", "2", "-extfile", "san.ext")


class TestTls(harness.TestCase):
    def start(self, client_ca=False):
        make_pki(self.h.dir)
        self.smsc = self.h.start_smsc("-u", "acme", "-w", "secret")
        self.plain = self.h.free_port()
        self.tls = self.h.free_port()
        cfg = harness.base_config(self.smsc.port, self.plain)
        tls = {"cert": "server.pem", "key": "server.key"}
        if client_ca:
            tls["client_ca"] = "ca.pem"
        cfg["listeners"].append({"bind": "127.0.0.1:%d" % self.tls,
                                 "tls": tls})
        cfg["timeouts"] = {"shutdown_ms": 1000}
        self.gw = self.h.start_stopgate(cfg)
        self.addCleanup(self.clean_exit)
        harness.wait_until(lambda: self.smsc.ctl().stats()["bound"] >= 1,
                           timeout=10, what="upstream bound")

    def clean_exit(self):
        rc = self.gw.stop()
        log = self.gw.log_text()
        self.assertEqual(rc, 0, log[-3000:])
        for m in SANITIZER_MARKS:
            self.assertNotIn(m, log)

    def tls_client(self, cert=False, ca="ca.pem"):
        ctx = ssl.create_default_context(cafile=self.h.path(ca))
        if cert:
            ctx.load_cert_chain(self.h.path("client.pem"),
                                self.h.path("client.key"))
        raw = socket.create_connection(("127.0.0.1", self.tls), timeout=5)
        s = ctx.wrap_socket(raw, server_hostname="127.0.0.1")
        s.settimeout(None)
        c = smpp.Client(s)
        self.addCleanup(c.close)
        return c

    def test_tls_bind_submit(self):
        self.start()
        c = self.tls_client()
        self.assertEqual(c.bind("trx", "marketing", "mkpass1"), 0)
        st, mid = c.submit("12345", "15556660020", b"over tls")
        self.assertEqual(st, 0)
        self.assertNotEqual(mid, "")
        self.assertEqual(c.enquire_link(), 0)
        # the plain listener works alongside
        p = smpp.Client.connect(self.plain)
        self.addCleanup(p.close)
        self.assertEqual(p.bind("trx", "frontdesk", "fdpass1"), 0)
        self.assertIn("tls=yes", self.gw.log_text())
        # a plain-text client on the TLS port gets nowhere, and the
        # proxy carries on
        raw = smpp.Client.connect(self.tls)
        self.addCleanup(raw.close)
        raw.send(smpp.BIND_TRANSCEIVER,
                 smpp.bind_body("marketing", "mkpass1"))
        self.assertTrue(raw.wait_closed(5))
        self.assertEqual(c.submit("12345", "15556660020", b"again")[0], 0)

    def test_sighup_renews_certificate(self):
        self.start()
        old = self.tls_client()
        self.assertEqual(old.bind("trx", "marketing", "mkpass1"), 0)
        make_pki(self.h.dir, ca="ca2")      # new server.pem from ca2
        n = self.gw.log_text().count("event=reloaded")
        self.gw.send_signal(signal.SIGHUP)
        harness.wait_until(
            lambda: self.gw.log_text().count("event=reloaded") > n,
            timeout=5, what="reload")
        new = self.tls_client(ca="ca2.pem")
        self.assertEqual(new.bind("trx", "frontdesk", "fdpass1"), 0)
        with self.assertRaises(ssl.SSLError):
            self.tls_client(ca="ca.pem")
        # the connection made before the renewal carries on
        self.assertEqual(old.submit("12345", "15556660022", b"x")[0], 0)

    def test_client_certificate_required(self):
        self.start(client_ca=True)
        with self.assertRaises((ssl.SSLError, OSError, smpp.Closed,
                                smpp.Timeout)):
            c = self.tls_client()
            c.bind("trx", "marketing", "mkpass1", timeout=3)
        c = self.tls_client(cert=True)
        self.assertEqual(c.bind("trx", "marketing", "mkpass1"), 0)
        self.assertEqual(c.submit("12345", "15556660021", b"mtls")[0], 0)


if __name__ == "__main__":
    harness.main()
