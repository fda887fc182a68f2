#!/usr/bin/env python3
"""The store's disk fills up (SPEC §4, §7): nothing acknowledged is lost.

The store lives on a small tmpfs this test mounts itself (as root; the
test is skipped with a note where mounting is not permitted). With the
tmpfs filled to the last byte, refused sends go on being answered 0x401
(their audit records are kept in memory by the writer and retried) and
STOPs are answered 0x64 (or 0 when the commit found room in pages LMDB
already had). Space comes back; with no further help, every refused send
has its audit record and every STOP answered 0 is in the store.
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import smpp  # noqa: E402

harness.require(harness.STOPGATE, harness.SMSC_SIM)

OPTED_OUT = "15551239999"
REFUSED = 1500		# refused sends while the disk is full
STOPS = 40		# STOPs while the disk is full


class StoreFull(harness.TestCase):
    def mount(self):
        mnt = self.h.path("store")
        os.mkdir(mnt)
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m",
                            "tmpfs", mnt], capture_output=True, text=True)
        if r.returncode != 0:
            self.skipTest("cannot mount a tmpfs here (needs root): %s" %
                          r.stderr.strip())

        def umount():
            self.h.stop_all()
            subprocess.run(["umount", "-l", mnt], capture_output=True)
        self.addCleanup(umount)
        return mnt

    def fill(self, mnt):
        """Fill the tmpfs to the last byte; returns the filler's path."""
        path = os.path.join(mnt, "filler")
        chunk = b"\0" * 65536
        with open(path, "wb", buffering=0) as f:
            for size in (65536, 4096, 512, 1):
                try:
                    while True:
                        f.write(chunk[:size])
                except OSError:
                    pass
        return path

    def cli(self, *args):
        r = self.h.stopgate_cli(*args, "-c", self.gw.config)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def audit_count(self):
        out = self.cli("audit", "--format", "jsonl")
        return sum(1 for x in out.splitlines()
                   if x.strip() and json.loads(x)["destination"] ==
                   OPTED_OUT)

    def test_disk_full_keeps_refusals_and_acknowledged_stops(self):
        mnt = self.mount()

        def ed(cfg):
            cfg["store"]["path"] = os.path.join(mnt, "env")
            cfg["timeouts"] = {"shutdown_ms": 1000}
        self.smsc, self.gw, self.cfg = self.h.start_stack(edit=ed)
        ctl = self.smsc.ctl()
        self.cli("optout", "add", OPTED_OUT, "--all")
        c = smpp.Client.connect(self.gw.port)
        self.addCleanup(c.close)
        self.assertEqual(c.bind("trx", "marketing", "mkpass1"), 0)
        self.assertEqual(c.submit("12345", OPTED_OUT, b"before")[0], 0x401)

        filler = self.fill(mnt)
        acked, failed = [], 0
        for i in range(REFUSED):
            st = c.submit("12345", OPTED_OUT, b"sale %d" % i)[0]
            # 0x14 only once the kept records reach their bound
            self.assertIn(st, (0x401, 0x14))
            self.assertNotEqual(st, 0x14, "bound reached at %d" % i)
            if i % (REFUSED // STOPS) == 0:
                sub = "1555300%04d" % i
                seq = ctl.mo(sub, "12345", "STOP")
                st = ctl.wait_resp(seq, 10)
                self.assertIn(st, (0, 0x64))
                if st == 0:
                    acked.append(sub)
                else:
                    failed += 1
        harness.wait_until(
            lambda: "event=store_batch_failed" in self.gw.log_text(),
            timeout=5, what="a failed batch commit while full")

        os.unlink(filler)
        harness.wait_until(
            lambda: "event=store_batch_recovered" in self.gw.log_text(),
            timeout=10, what="the writer to recover on its own")
        self.assertEqual(self.audit_count(), REFUSED + 1)
        for sub in acked:
            out = self.cli("status", sub, "--format", "jsonl")
            st = {j["category"]: j["status"]
                  for j in map(json.loads, out.splitlines())}
            self.assertEqual(st.get("promo"), "blocked", sub)
        # STOPs work again once there is room
        seq = ctl.mo("15553009999", "12345", "STOP")
        c.wait_deliver(5)	# the department gets the reply first
        self.assertEqual(ctl.wait_resp(seq, 10), 0)
        self.assertNotIn("event=reject_unaudited", self.gw.log_text())
        print("test_store_full: %d refused sends audited after the disk "
              "filled, %d STOPs acknowledged and stored, %d answered 0x64"
              % (REFUSED, len(acked), failed))


if __name__ == "__main__":
    harness.main()
