#!/usr/bin/env python3
"""The admin API runs beside the SMPP loop, not on it.

The finding: the admin API shared the proxy's event loop, so a request
that takes long held up every department's submits. /v1/audit?account=X
walks the whole audit log; with 100,000 records, two clients looping it
pushed the submit round-trip median from 0.48 ms to 377 ms. Now the API
has its own thread, event loop and store handle, and only copies the
figures it needs from the SMPP loop.

The test fills the audit log with 100,000 refusals (store_fill opts a
block of numbers out, loadgen sends to them), then times submits through
a bound client one at a time while two clients loop that audit query,
and asserts the median stays under 5 ms and the slowest under 50 ms. The
machine the suite runs on is shared: a pause of the whole process by the
scheduler (seen at 60-130 ms with no admin client at all, load 9 on two
cores) is not what is measured, so "the slowest" is the 99.9th
percentile (the 10th slowest of ~10,000); each walk of the log takes
20-50 ms, so on a shared loop that percentile was a walk or two. Under a
sanitizer build the bounds are 4 times wider.
"""

import json
import os
import subprocess
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import smpp  # noqa: E402

LOADGEN = os.path.join(harness.BUILD, "tools", "loadgen")
STORE_FILL = os.path.join(harness.BUILD, "tools", "store_fill")
harness.require(harness.STOPGATE, harness.SMSC_SIM, LOADGEN, STORE_FILL)

TOKEN = "test-token"
BASE = 15550000000      # opted out: BASE + 2 * j for j < BLOCK
BLOCK = 1000
RECORDS = 100000
WORST_MS = 50.0
P50_MS = 5.0
SLOW = 4.0 if "san" in os.environ.get("BUILD", "") else 1.0


class TestAdminThread(harness.TestCase):
    def get(self, path, timeout=30):
        req = urllib.request.Request(
            "http://127.0.0.1:%d%s" % (self.admin_port, path),
            headers={"Authorization": "Bearer " + TOKEN})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()

    def metric(self, name):
        _, text = self.get("/metrics")
        for ln in text.splitlines():
            if ln.startswith(name + " "):
                return float(ln.split()[1])
        return None

    def fill_audit(self):
        """RECORDS refused sends, each an audit record."""
        out = subprocess.run(
            [LOADGEN, "-p", str(self.gw.port), "-u", "marketing",
             "-P", "mkpass1", "-n", "2", "-w", "50", "-N", str(RECORDS),
             "-b", str(BASE), "-r", str(2 * BLOCK), "-m", "2", "-o", "rej"],
            capture_output=True, text=True, timeout=300)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        harness.wait_until(
            lambda: (self.metric("stopgate_store_audit_records") or 0)
            >= RECORDS, timeout=60, what="the audit records committed")

    def test_audit_queries_do_not_stall_submits(self):
        store = self.h.path("store")
        out = subprocess.run([STORE_FILL, "-d", store, "-n", str(BLOCK),
                              "-m", "2", "-b", str(BASE), "-c", "promo"],
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)

        def edit(cfg):
            cfg["timeouts"] = {"shutdown_ms": 1000}
        self.smsc, self.gw, cfg = self.h.start_stack(edit=edit, admin=True)
        self.admin_port = int(cfg["admin"]["bind"].rsplit(":", 1)[1])
        self.fill_audit()

        # The query walks every record: frontdesk sent none of them.
        t0 = time.monotonic()
        st, body = self.get("/v1/audit?account=frontdesk&limit=10")
        walk_ms = (time.monotonic() - t0) * 1000
        self.assertEqual(st, 200)
        self.assertEqual(json.loads(body)["records"], [])

        stop = threading.Event()
        queries = [0]
        errors = []

        def loop():
            while not stop.is_set():
                try:
                    st, _ = self.get("/v1/audit?account=frontdesk&limit=10")
                    if st == 200:
                        queries[0] += 1
                except Exception as e:  # noqa: BLE001
                    errors.append(repr(e))
                    return

        c = smpp.Client.connect(self.gw.port)
        self.addCleanup(c.close)
        self.assertEqual(c.bind("trx", "marketing", "mkpass1"), 0)
        # Warm the path before timing it.
        for i in range(20):
            self.assertEqual(c.submit("12345", "1555999%04d" % i, b"w")[0],
                             0)
        threads = [threading.Thread(target=loop) for _ in range(2)]
        for t in threads:
            t.start()
        times = []
        try:
            end = time.monotonic() + 4.0
            i = 0
            while time.monotonic() < end:
                t0 = time.monotonic()
                status = c.submit("12345", "1555888%04d" % (i % 10000),
                                  b"hi")[0]
                times.append((time.monotonic() - t0) * 1000)
                self.assertEqual(status, 0)
                i += 1
        finally:
            stop.set()
            for t in threads:
                t.join(60)
        self.assertEqual(errors, [])
        self.assertGreater(queries[0], 2, "the audit queries did not run")
        times.sort()
        self.assertGreater(len(times), 50)
        p50 = times[len(times) // 2]
        p999 = times[len(times) - 1 - len(times) // 1000]
        sys.stderr.write("audit walk %.1f ms; %d queries; %d submits: "
                         "p50 %.2f ms, p99.9 %.2f ms, max %.2f ms\n" %
                         (walk_ms, queries[0], len(times), p50, p999,
                          times[-1]))
        # On the old shared loop every submit queued behind a walk.
        self.assertLess(p50, P50_MS * SLOW)
        self.assertLess(p999, WORST_MS * SLOW,
                        "submits took up to %.1f ms while the audit log "
                        "was walked (p50 %.2f ms)" % (p999, p50))
        self.assertEqual(self.gw.stop(), 0)


if __name__ == "__main__":
    harness.main()
