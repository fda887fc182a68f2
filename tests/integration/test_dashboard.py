#!/usr/bin/env python3
"""The compliance dashboard (SPEC §10) in a real browser: headless
Chromium driven by puppeteer-core (pinned in dashboard/package.json,
installed with npm ci into the build tree), against the real daemon with
seeded data.

Seeded: 2 promo opt-outs a day for 107 days and 9 on one day (imported,
with past times: a spike), 4 messages forwarded by marketing today and a
STOP from one of them (the SMSC simulator), a refused send, and two
ambiguous replies whose text is markup (review items).

dashboard/drive.js signs in as staff and reads the overview's SVG (90
bars, the spike flag on the seeded day, the STOP rate), looks a number
up, records an opt-out (seen with `stopgate history`: the staff user's
name as actor), resolves a review item, pages the audit log, reads the
live page, then signs in as a viewer whose opt-out and review resolution
are refused (403 shown). The review texts must appear literally with no
dialog and no element made from them. A screenshot of each page goes to
BUILD/screenshots/. Skipped (exit 0, with the reason) only when chromium
is not installed.
"""

import datetime
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import smpp  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
PKG = os.path.join(HERE, "dashboard")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

TOKEN = "test-token"
VIEWER = ("vera", "viewer-token-0123456789")
STAFF = ("sam", "staff-token-0123456789")
NUM = "15556660001"
LESS_NUM = "15556660003"
NOTE = "asked by phone <b>bold</b>"
XSS = ["<img src=x onerror=alert(1)> cancel",
       "<script>alert(2)</script> please cancel"]


def day(offset):
    d = datetime.datetime.now(datetime.timezone.utc).date() + \
        datetime.timedelta(days=offset)
    return d.isoformat()


def node_modules():
    """npm ci into BUILD/dashboard-node (not the source tree). Returns
    the node_modules path."""
    dest = os.path.join(harness.BUILD, "dashboard-node")
    mods = os.path.join(dest, "node_modules")
    want = json.load(open(os.path.join(PKG, "package.json")))[
        "dependencies"]["puppeteer-core"]
    pj = os.path.join(mods, "puppeteer-core", "package.json")
    if os.path.exists(pj) and json.load(open(pj))["version"] == want:
        return mods
    if shutil.which("npm") is None:
        sys.exit("test_dashboard: npm not installed (apt-get install npm)")
    os.makedirs(dest, exist_ok=True)
    for f in ("package.json", "package-lock.json"):
        shutil.copy(os.path.join(PKG, f), dest)
    print("test_dashboard: npm ci (puppeteer-core %s)" % want)
    env = dict(os.environ, npm_config_audit="false", npm_config_fund="false",
               npm_config_update_notifier="false",
               PUPPETEER_SKIP_DOWNLOAD="1")
    r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=dest,
                       env=env, capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        sys.exit("test_dashboard: npm ci failed: %s" % r.stderr[-2000:])
    return mods


class TestDashboard(harness.TestCase):
    def seed(self):
        rows = ["number,category,note,time"]
        n = 0
        for d in range(-117, -10):
            for _ in range(2):
                n += 1
                rows.append("1555200%04d,promo,seed,%sT12:00:00Z" %
                            (n, day(d)))
        for _ in range(9):
            n += 1
            rows.append("1555200%04d,promo,seed,%sT09:00:00Z" % (n, day(-5)))
        p = self.h.path("seed.csv")
        with open(p, "w") as f:
            f.write("\n".join(rows) + "\n")
        self.cli("import", p)
        c = smpp.Client.connect(self.gw.port)
        self.addCleanup(c.close)
        self.assertEqual(c.bind("trx", "marketing", "mkpass1"), 0)
        for i in range(4):
            self.assertEqual(c.submit("12345", "1555300000%d" % i,
                                      b"sale")[0], 0)
        self.assertEqual(c.submit("12345", "15552000001", b"x")[0], 0x401)
        ctl = self.smsc.ctl()
        seq = ctl.mo("15553000000", "12345", "STOP")
        self.assertEqual(c.wait_deliver(5).text(), "STOP")
        self.assertEqual(ctl.wait_resp(seq, 10), 0)
        # LESS: the stricter cap (nothing sent yet, so all of it left).
        seq = ctl.mo(LESS_NUM, "12345", "LESS")
        self.assertEqual(c.wait_deliver(5).text(), "LESS")
        self.assertEqual(ctl.wait_resp(seq, 10), 0)
        # Ambiguous replies to frontdesk (not bound: kept in the outbox).
        for i, text in enumerate(XSS):
            seq = ctl.mo("1555400000%d" % i, "15550100", text)
            self.assertEqual(ctl.wait_resp(seq, 10), 0)
        return c

    def cli(self, *args):
        r = self.h.stopgate_cli(*args, "-c", self.gw.config)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def test_dashboard_in_chromium(self):
        mods = node_modules()

        def ed(cfg):
            cfg["timeouts"] = {"shutdown_ms": 1000}
            cfg["frequency"] = [{"category": "promo", "max": 3,
                                 "per": "1d",
                                 "less": {"max": 2, "per": "7d"}}]
            cfg["admin"]["users"] = [
                {"name": VIEWER[0], "token": VIEWER[1], "role": "viewer"},
                {"name": STAFF[0], "token": STAFF[1], "role": "staff"}]
        self.smsc, self.gw, cfg = self.h.start_stack(edit=ed, admin=True)
        port = int(cfg["admin"]["bind"].rsplit(":", 1)[1])
        self.seed()
        shots = os.path.join(harness.BUILD, "screenshots")
        os.makedirs(shots, exist_ok=True)
        dash = {"url": "http://127.0.0.1:%d/" % port, "staff": STAFF[1],
                "viewer": VIEWER[1], "number": NUM, "lessNumber": LESS_NUM,
                "viewerNumber":
                "15556660002", "note": NOTE, "shots": shots,
                "chromium": CHROMIUM}
        env = dict(os.environ, DASH=json.dumps(dash), NODE_PATH=mods)
        r = subprocess.run(["node", os.path.join(PKG, "drive.js")], env=env,
                           capture_output=True, text=True, timeout=180)
        try:
            out = json.loads(r.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            self.fail("drive.js: rc %d\n%s\n%s" % (r.returncode,
                                                   r.stdout[-2000:],
                                                   r.stderr[-3000:]))
        self.assertEqual(r.returncode, 0, json.dumps(out, indent=1)[-3000:])
        self.check(out, shots)

    def check(self, out, shots):
        # Signed in as sam (staff); the token only in sessionStorage.
        self.assertEqual(out["who"], "sam (staff)")
        self.assertEqual(out["tokenInStorage"], STAFF[1])
        self.assertEqual(out["cookies"], 0)
        self.assertEqual(out["tokenInUrls"], 0)
        self.assertEqual(out["foreign"], [])
        self.assertEqual(out["pageErrors"], [])
        # No CSP violation, no script error.
        # Every request answered but the viewer's two changes (403).
        self.assertEqual(out["failed"], [
            "403 POST /v1/optouts at viewer",
            "403 POST /v1/review/%s/resolve at viewer" %
            out["reviewLeft"][0]], out["consoleErrors"])
        # The overview: 90 days of bars, the seeded series, one spike.
        ov = out["overview"]
        self.assertEqual(ov["bars"], 90)
        self.assertEqual(ov["days"][-1], day(0))
        self.assertEqual(ov["series"], ["promo"])
        self.assertEqual(ov["spikes"], [day(-5)])
        self.assertEqual(ov["totals"][89 - 5], 9)
        self.assertEqual(ov["totals"][89 - 20], 2)
        self.assertEqual(ov["totals"][89], 1)
        self.assertGreaterEqual(ov["rejectedBars"], 1)
        # Series named by reason; LESS counted apart from opt-outs.
        self.assertEqual(ov["rejectedLegend"], ["opted out 0x401"])
        self.assertEqual(ov["less"], "Fewer texts (LESS) in these days: "
                         "1, not counted as opt-outs.")
        self.assertIn(["marketing", "promo", "4", "1", "25.00 %"],
                      ov["stopRate"])
        # The number: promo blocked by sam, the note shown as text.
        self.assertIn(["promo", "allowed"], out["statusBefore"])
        self.assertIn(["promo", "blocked"], out["statusAfter"])
        self.assertIn("by sam", out["optoutNotice"])
        # LESS shown per capped category with what the cap leaves, as
        # `stopgate status` says it.
        less = {r[0]: r[1:] for r in out["lessStatus"]}
        self.assertEqual(less["promo"][0], "1")
        self.assertTrue(less["promo"][1].startswith("fewer texts (LESS)"),
                        less)
        self.assertTrue(less["promo"][1].endswith("2 of 2 left per 7 d"),
                        less)
        self.assertIn("LESS  2 of 2 left per 604800s",
                      self.cli("status", LESS_NUM))
        self.assertEqual(less["billing"], ["0", ""])
        self.assertEqual(out["historyMarkup"], 0)
        row = out["history"][-1]
        self.assertEqual((row[1], row[3], row[4]), ("opt_out", "staff",
                                                    "sam"))
        self.assertIn(NOTE, row[5])
        hist = [json.loads(ln) for ln in self.cli(
            "history", NUM, "--format", "jsonl").splitlines() if ln]
        self.assertEqual([(h["actor"], h["source"], h["note"])
                          for h in hist], [("sam", "staff", NOTE)])
        self.assertIn("blocked", self.cli("status", NUM))
        # The review queue: the markup literally, nothing run or made.
        self.assertEqual(sorted(x["text"] for x in out["review"]),
                         sorted(XSS))
        self.assertEqual(out["dialogs"], 0)
        self.assertEqual(out["reviewImgs"], 0)
        self.assertEqual(out["anyImgs"], 0)
        self.assertEqual(len(out["reviewLeft"]), 1)
        resolved = [json.loads(ln) for ln in self.cli(
            "history", "15554000000", "--format", "jsonl").splitlines()
            if ln]
        self.assertEqual([(h["actor"], h["rule"]) for h in resolved],
                         [("sam", "review")])
        # Audit and live.
        self.assertEqual(len(out["auditRows"]), 1)
        self.assertEqual(out["auditRows"][0][4], "15552000001")
        csv = out["auditCsv"].splitlines()
        self.assertTrue(csv[0].startswith("time,account,category"), csv)
        self.assertEqual(len(csv), 2)
        self.assertIn("15552000001", csv[1])
        self.assertIn(["carrier", "yes"], out["live"]["upstreams"])
        self.assertIn(["marketing", "1"], out["live"]["accounts"])
        self.assertEqual(out["live"]["sessions"], "1")
        # Signed out: the token is gone. A viewer is refused, and told.
        self.assertIsNone(out["storageAfterSignout"])
        self.assertEqual(out["viewerWho"], "vera (viewer)")
        for k in ("viewerOptoutError", "viewerReviewError"):
            self.assertTrue(out[k].startswith("403"), out[k])
            self.assertIn("viewer", out[k])
        self.assertEqual(self.cli("history", "15556660002").strip()
                         .count("opt_out"), 0)
        for name in ("overview", "number", "review", "audit", "live",
                     "viewer-refused"):
            p = os.path.join(shots, name + ".png")
            self.assertGreater(os.path.getsize(p), 1000, p)
        log = self.gw.log_text()
        for tok in (TOKEN, VIEWER[1], STAFF[1]):
            self.assertNotIn(tok, log)


if __name__ == "__main__":
    if CHROMIUM is None:
        print("test_dashboard: skipped: chromium is not installed "
              "(apt-get install chromium)")
        sys.exit(0)
    harness.require(harness.STOPGATE, harness.SMSC_SIM)
    harness.main()
