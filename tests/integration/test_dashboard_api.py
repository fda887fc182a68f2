#!/usr/bin/env python3
"""The dashboard's side of the admin API (SPEC §10), without a browser:

- admin.users: a viewer reads everything and changes nothing (403, nothing
  written), a staff user's name is the actor (source staff) of what they
  record, as `stopgate history` shows; the shared admin.token acts as
  before (actor from the body, source api); /v1/whoami; wrong per-user
  tokens go through the same throttle; no token is ever logged;
  `stopgate check` refuses short, shared and duplicate user tokens,
  duplicate names and unknown roles.
- GET / and /assets/*: served from the binary with a
  Content-Security-Policy, nosniff, no framing, no referrer, no CORS
  header, and an ETag that answers 304.
- /v1/series from the per-day counters: opt-outs per day by category
  (imported with past times), the spike flag (3x the median of the 28
  days before), rejected sends by status, the STOP rate per account and
  category from forwarded messages and the opt-outs attributed to them.
- /v1/audit paging with after=, and the CSV pages with X-Next-After.
- /v1/export streamed in chunks (every number once, in order, CSV and
  JSON lines; a client that hangs up mid-stream costs nothing), and
  POST /v1/import: staff only, the CLI's checks, all or nothing.
"""

import datetime
import http.client
import json
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import smpp  # noqa: E402

harness.require(harness.STOPGATE, harness.SMSC_SIM)

TOKEN = "test-token"
VIEWER = ("vera", "viewer-token-0123456789")
STAFF = ("sam", "staff-token-0123456789")


def users():
    return [{"name": VIEWER[0], "token": VIEWER[1], "role": "viewer"},
            {"name": STAFF[0], "token": STAFF[1], "role": "staff"}]


def day(offset):
    d = datetime.datetime.now(datetime.timezone.utc).date() + \
        datetime.timedelta(days=offset)
    return d.isoformat()


class DashCase(harness.TestCase):
    def start(self, edit=None):
        def ed(cfg):
            cfg["timeouts"] = {"shutdown_ms": 1000}
            cfg["admin"]["users"] = users()
            if edit is not None:
                edit(cfg)
        self.smsc, self.gw, self.cfg = self.h.start_stack(edit=ed,
                                                          admin=True)
        self.port = int(self.cfg["admin"]["bind"].rsplit(":", 1)[1])
        self.addCleanup(self.clean_exit)

    def clean_exit(self):
        self.assertEqual(self.gw.stop(), 0)
        log = self.gw.log_text()
        for tok in (TOKEN, VIEWER[1], STAFF[1]):
            self.assertNotIn(tok, log)

    def req(self, method, path, body=None, token=TOKEN, headers=None):
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if body is not None:
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, r.headers, r.read().decode()
        finally:
            c.close()

    def ok(self, method, path, body=None, token=TOKEN, status=200):
        st, hd, text = self.req(method, path, body, token)
        self.assertEqual(st, status, text)
        return json.loads(text) if text else None

    def cli(self, *args):
        r = self.h.stopgate_cli(*args, "-c", self.gw.config)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout


class TestRoles(DashCase):
    def test_viewer_staff_shared(self):
        self.start()
        num = "15551110001"
        self.assertEqual(self.ok("GET", "/v1/whoami", token=VIEWER[1]),
                         {"name": "vera", "role": "viewer",
                          "shared_token": False})
        self.assertEqual(self.ok("GET", "/v1/whoami", token=STAFF[1]),
                         {"name": "sam", "role": "staff",
                          "shared_token": False})
        self.assertEqual(self.ok("GET", "/v1/whoami")["role"], "staff")
        # A viewer reads...
        for path in ("/v1/numbers/" + num, "/v1/events", "/v1/audit",
                     "/v1/review", "/v1/series", "/v1/live", "/metrics",
                     "/v1/stats"):
            st, _, text = self.req("GET", path, token=VIEWER[1])
            self.assertEqual(st, 200, path + " " + text)
        # ... and changes nothing, whatever the body says.
        for path, body in (
                ("/v1/optouts", {"number": num, "all": True, "note": "x"}),
                ("/v1/optins", {"number": num, "all": True,
                                "consent": "y"}),
                ("/v1/review/1/resolve", {"decision": "dismiss",
                                          "note": "x"}),
                ("/v1/optouts", {"garbage": 1})):
            st, _, text = self.req("POST", path, body, token=VIEWER[1])
            self.assertEqual(st, 403, text)
            self.assertIn("viewer", json.loads(text)["error"])
        self.assertEqual(self.ok("GET", "/v1/events")["events"], [])
        # Staff: the user's name is the actor, the source staff; a name
        # in the body does not change it.
        ev = self.ok("POST", "/v1/optouts", {
            "number": num, "categories": ["promo"], "note": "by phone",
            "actor": "mallory"}, token=STAFF[1], status=201)
        self.assertEqual((ev["actor"], ev["source"]), ("sam", "staff"))
        hist = self.cli("history", num, "--format", "jsonl")
        rows = [json.loads(ln) for ln in hist.splitlines() if ln]
        self.assertEqual([(r["actor"], r["source"]) for r in rows],
                         [("sam", "staff")])
        self.assertIn("blocked", self.cli("status", num))
        # The shared token as before: the body's actor, source api.
        ev = self.ok("POST", "/v1/optins", {
            "number": num, "categories": ["promo"], "consent": "signed",
            "actor": "alice"}, status=201)
        self.assertEqual((ev["actor"], ev["source"]), ("alice", "api"))
        self.assertIn("event=admin_opt_out", self.gw.log_text())

    def test_wrong_user_tokens_throttled(self):
        self.start()
        for i in range(7):
            st, _, _ = self.req("GET", "/v1/whoami",
                                token=STAFF[1][:-1] + str(i % 10) + "x")
            self.assertEqual(st, 401)
        # Past the free five, each 401 waited for the throttle.
        t0 = time.monotonic()
        st, _, _ = self.req("GET", "/v1/whoami", token="nope-nope-nope-no")
        self.assertEqual(st, 401)
        self.assertGreater(time.monotonic() - t0, 0.25)
        # A right token is answered at once after that 401.
        self.assertEqual(self.ok("GET", "/v1/whoami",
                                 token=STAFF[1])["name"], "sam")

    def test_check_refuses_bad_users(self):
        port = harness.free_port()
        cases = [
            ([{"name": "a", "token": "short", "role": "staff"}],
             "shorter than 16"),
            ([{"name": "a", "token": "x" * 16, "role": "boss"}],
             "viewer or staff"),
            ([{"name": "a", "token": "x" * 16, "role": "staff"},
              {"name": "a", "token": "y" * 16, "role": "viewer"}],
             "duplicate admin user"),
            ([{"name": "a", "token": "x" * 16, "role": "staff"},
              {"name": "b", "token": "x" * 16, "role": "viewer"}],
             "has the token of user"),
            ([{"name": "a", "token": TOKEN + "-long-enough",
               "role": "staff"}], "token of admin.token"),
            ([{"name": "a b", "token": "x" * 16, "role": "staff"}],
             "letters, digits"),
            ([{"name": "a", "role": "staff"}], "missing token"),
        ]
        for us, needle in cases:
            cfg = harness.base_config(port, harness.free_port(), port + 1,
                                      store_path=self.h.path("s"))
            cfg["admin"]["users"] = us
            if needle == "token of admin.token":
                cfg["admin"]["token"] = TOKEN + "-long-enough"
            p = self.h.write_config(cfg, "bad.yaml")
            r = self.h.stopgate_cli("check", "-c", p)
            self.assertEqual(r.returncode, 1, (needle, r.stdout))
            self.assertIn(needle, r.stdout + r.stderr)
        # Users alone, no shared token: valid.
        cfg = harness.base_config(port, harness.free_port(), port + 1,
                                  store_path=self.h.path("s"))
        del cfg["admin"]["token"]
        cfg["admin"]["users"] = users()
        p = self.h.write_config(cfg, "good.yaml")
        r = self.h.stopgate_cli("check", "-c", p)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)


class TestPage(DashCase):
    def test_assets_and_headers(self):
        self.start()
        st, hd, text = self.req("GET", "/", token=None)
        self.assertEqual(st, 200)
        self.assertTrue(hd["Content-Type"].startswith("text/html"))
        csp = hd["Content-Security-Policy"]
        for d in ("default-src 'self'", "script-src 'self'",
                  "frame-ancestors 'none'"):
            self.assertIn(d, csp)
        self.assertNotIn("unsafe", csp)
        self.assertEqual(hd["X-Content-Type-Options"], "nosniff")
        self.assertEqual(hd["X-Frame-Options"], "DENY")
        self.assertEqual(hd["Referrer-Policy"], "no-referrer")
        # Nothing from another origin, no inline script or style.
        self.assertNotRegex(text, r"(src|href)=\"(https?:)?//")
        self.assertNotRegex(text, r"<script>|<style|\sstyle=|\son[a-z]+=")
        scripts = re.findall(r"<script src=\"([^\"]+)\"", text)
        self.assertEqual(scripts, ["/assets/app.js"])
        st, hd, js = self.req("GET", "/assets/app.js", token=None)
        self.assertEqual(st, 200)
        self.assertTrue(hd["Content-Type"].startswith("text/javascript"))
        # No markup from strings, no code from strings.
        bad = re.findall(r"\.(?:inner|outer)HTML|insertAdjacentHTML|"
                         r"document\.write|\beval\(|new Function", js)
        self.assertEqual(bad, [])
        etag = hd["ETag"]
        st, hd, body = self.req("GET", "/assets/app.js", token=None,
                                headers={"If-None-Match": etag})
        self.assertEqual((st, body), (304, ""))
        st, hd, _ = self.req("GET", "/assets/app.css", token=None)
        self.assertEqual(st, 200)
        self.assertTrue(hd["Content-Type"].startswith("text/css"))
        self.assertEqual(self.req("GET", "/assets/nope.js",
                                  token=None)[0], 404)
        # The API's answers: no script may run from them, no CORS.
        for path, tok in (("/v1/whoami", TOKEN), ("/healthz", None),
                          ("/v1/whoami", None)):
            st, hd, _ = self.req("GET", path, token=tok, headers={
                "Origin": "http://evil.example"})
            self.assertIn("default-src 'none'",
                          hd["Content-Security-Policy"])
            self.assertEqual(hd["X-Content-Type-Options"], "nosniff")
            for k in hd.keys():
                self.assertFalse(k.lower().startswith("access-control"), k)
        st, hd, _ = self.req("OPTIONS", "/v1/optouts", token=None, headers={
            "Origin": "http://evil.example",
            "Access-Control-Request-Method": "POST"})
        self.assertNotEqual(st, 204)
        for k in hd.keys():
            self.assertFalse(k.lower().startswith("access-control"), k)


class TestSeries(DashCase):
    def test_series_from_counters(self):
        self.start()
        # Opt-outs by import, on past days: 2 a day on days -117..-11
        # (promo: the window and the 28 days before it), then 9 on day -5: 9 > 3 x 2 (a spike), and 5 of
        # billing on day -3 (median of the 28 days before: 2; 5 < 6).
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
        for _ in range(5):
            n += 1
            rows.append("1555200%04d,billing,seed,%sT09:00:00Z" %
                        (n, day(-3)))
        p = self.h.path("seed.csv")
        with open(p, "w") as f:
            f.write("\n".join(rows) + "\n")
        self.cli("import", p)
        # Today: marketing sends to 4 numbers, one replies STOP, and a
        # send to an opted-out number is refused.
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

        def series():
            return self.ok("GET", "/v1/series?days=90", token=VIEWER[1])
        harness.wait_until(lambda: any(
            r["forwarded"] == 4 and r["attributed"] == 1
            for r in series()["stop_rate"]), timeout=10,
            what="forwarded messages counted")
        s = series()
        self.assertEqual(len(s["days"]), 90)
        self.assertEqual((s["from"], s["to"]), (day(-89), day(0)))
        promo = s["optouts_by_category"]["promo"]
        self.assertEqual(len(promo), 90)
        self.assertEqual(promo[89 - 5], 9)
        self.assertEqual(promo[89 - 20], 2)
        self.assertEqual(promo[89], 1)     # today's STOP (scope promo)
        self.assertEqual(s["optouts_by_category"]["billing"][89 - 3], 5)
        self.assertEqual(sum(s["optouts"]), 2 * 79 + 9 + 5 + 1)
        self.assertEqual(s["events"]["opt_out"], s["optouts"])
        self.assertEqual([(f["day"], f["optouts"], f["median"])
                          for f in s["spikes"]],
                         [(day(-5), 9, 2)])
        self.assertEqual(s["rejected"]["0x00000401"][89], 1)
        rate = [r for r in s["stop_rate"] if r["account"] == "marketing"]
        self.assertEqual(rate, [{"account": "marketing",
                                 "category": "promo", "forwarded": 4,
                                 "attributed": 1, "rate": 0.25}])
        st, _, text = self.req("GET", "/v1/series?days=0")
        self.assertEqual(st, 400, text)
        st, _, text = self.req("GET", "/v1/series?days=367")
        self.assertEqual(st, 400, text)
        stats = self.ok("GET", "/v1/stats")
        self.assertEqual(stats["totals"]["opt_outs"], 214 + 9 + 5 + 1)

    def test_audit_pages(self):
        self.start()
        num = "15554440000"
        self.ok("POST", "/v1/optouts", {"number": num, "all": True,
                                        "note": "x"}, status=201)
        c = smpp.Client.connect(self.gw.port)
        self.addCleanup(c.close)
        self.assertEqual(c.bind("trx", "marketing", "mkpass1"), 0)
        for _ in range(5):
            self.assertEqual(c.submit("12345", num, b"x")[0], 0x401)
        harness.wait_until(lambda: len(self.ok(
            "GET", "/v1/audit?limit=10")["records"]) == 5, timeout=10,
            what="audit records")
        seen, after = [], None
        while True:
            q = "/v1/audit?limit=2" + ("&after=" + after if after else "")
            d = self.ok("GET", q, token=VIEWER[1])
            seen += [r["id"] for r in d["records"]]
            if not d["more"]:
                self.assertNotIn("next", d)
                break
            after = d["next"]
        self.assertEqual(len(seen), 5)
        self.assertEqual(len(set(seen)), 5)
        # CSV: a header row on the first page only.
        lines, after = [], None
        while True:
            q = "/v1/audit?format=csv&limit=2" + (
                "&after=" + after if after else "")
            st, hd, text = self.req("GET", q)
            self.assertEqual(st, 200, text)
            self.assertTrue(hd["Content-Type"].startswith("text/csv"))
            lines += text.splitlines()
            after = hd.get("X-Next-After")
            if not after:
                break
        self.assertTrue(lines[0].startswith("time,account,category"))
        self.assertEqual(len(lines), 6)
        self.assertEqual(self.req("GET", "/v1/audit?after=x")[0], 400)
        self.assertEqual(self.req("GET", "/v1/audit?format=xml")[0], 400)


class TestPrefsSeries(DashCase):
    """Subscriber preferences (SPEC section 9) on the overview and the
    audit: rejected sends labelled by reason, LESS counted apart from
    opt-outs, the audit filtered by reason."""

    def prefs_edit(self, cfg):
        # promo: one a day (LESS: one a week); quiet from an hour ago to
        # an hour ahead for numbers starting 1555 (UTC), the others in
        # Tokyo, outside it (see test_prefs.py).
        cfg["frequency"] = [{"category": "promo", "max": 1, "per": "1d",
                             "less": {"max": 1, "per": "7d"}}]
        now = time.gmtime()
        m = now.tm_hour * 60 + now.tm_min
        cfg["quiet_hours"] = [{
            "category": "promo",
            "from": "%02d:%02d" % divmod((m - 60) % 1440, 60),
            "to": "%02d:%02d" % divmod((m + 60) % 1440, 60)}]
        cfg["timezones"] = {"default": "Asia/Tokyo",
                            "prefixes": {"1": "Asia/Tokyo",
                                         "1555": "Etc/UTC"}}

    def test_reasons_and_less(self):
        self.start(self.prefs_edit)
        out, capped, quiet, less = ("16664440000", "16665550000",
                                    "15551230000", "16665550001")
        ev = self.ok("POST", "/v1/optouts", {"number": out, "all": True},
                     status=201)
        c = smpp.Client.connect(self.gw.port)
        self.addCleanup(c.close)
        self.assertEqual(c.bind("trx", "marketing", "mkpass1"), 0)
        self.assertEqual([c.submit("12345", n, b"sale")[0] for n in
                          (capped, capped, quiet, out)],
                         [0, 0x402, 0x403, 0x401])
        ctl = self.smsc.ctl()
        seq = ctl.mo(less, "12345", "LESS")
        self.assertEqual(c.wait_deliver(5).text(), "LESS")
        self.assertEqual(ctl.wait_resp(seq, 10), 0)

        def series():
            return self.ok("GET", "/v1/series?days=90", token=VIEWER[1])
        s = harness.wait_until(
            lambda: (lambda s: s if len(s["rejected"]) == 3 and
                     sum(s["events"].get("less", [])) == 1 else None)(
                series()), timeout=10, what="refusals and LESS counted")
        self.assertEqual(s["rejected_reasons"], {
            "0x00000401": "opted_out", "0x00000402": "frequency_cap",
            "0x00000403": "quiet_hours"})
        for st in s["rejected_reasons"]:
            self.assertEqual(s["rejected"][st][89], 1)
        # LESS is not an opt-out: only the staff one is counted as such.
        self.assertEqual(s["events"]["less"][89], 1)
        self.assertEqual(sum(s["optouts"]), 1)
        self.assertEqual(s["events"]["opt_out"], s["optouts"])
        self.assertEqual({k: sum(v) for k, v in
                          s["optouts_by_category"].items()}, {"*": 1})
        self.assertEqual([r["attributed"] for r in s["stop_rate"]], [0])
        # The audit: each record's reason, and a filter by it.
        for why, num, text in (
                ("frequency_cap", capped, "frequency_cap"),
                ("quiet_hours", quiet, "quiet_hours"),
                ("opted_out", out, "opted out (event %d)" % ev["event_id"])):
            recs = self.ok("GET", "/v1/audit?reason=" + why,
                           token=VIEWER[1])["records"]
            self.assertEqual([(r["destination"], r["reason"])
                              for r in recs], [(num, text)])
        recs = self.ok("GET", "/v1/audit?reason=quiet_hours&number=" +
                       capped)["records"]
        self.assertEqual(recs, [])
        st, _, text = self.req("GET", "/v1/audit?format=csv&reason="
                               "frequency_cap")
        self.assertEqual(st, 200, text)
        self.assertEqual(len(text.splitlines()), 2)
        self.assertIn(capped, text.splitlines()[1])
        st, _, text = self.req("GET", "/v1/audit?reason=spam")
        self.assertEqual(st, 400, text)
        self.assertIn("reason", text)


class TestExportImport(DashCase):
    def raw(self, method, path, body=None, token=TOKEN, ctype="text/csv"):
        h = {"Authorization": "Bearer " + token}
        if body is not None:
            h["Content-Type"] = ctype
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return r.status, r.headers, r.read().decode()
        finally:
            c.close()

    def test_import(self):
        self.start()
        good = "number,category,note,time\n15557000001,promo,form,\n" \
            "+1 555 700 0002,all,,2026-01-05T10:00:00Z\n"
        st, _, text = self.raw("POST", "/v1/import", good, token=VIEWER[1])
        self.assertEqual(st, 403, text)
        bad = good + "nonsense,promo,,\n15557000004,nope,,\n"
        st, _, text = self.raw("POST", "/v1/import", bad, token=STAFF[1])
        self.assertEqual(st, 422, text)
        d = json.loads(text)
        self.assertIn("2 bad rows; nothing was imported", d["error"])
        self.assertEqual(len(d["problems"]), 2)
        self.assertTrue(d["problems"][0].startswith("body:4: "), d)
        self.assertTrue(d["problems"][1].startswith("body:5: "), d)
        self.assertEqual(self.ok("GET", "/v1/events")["events"], [])
        for body, code in (("", 400), ("x" * (65 * 1024), 413),
                           ("name\nfoo\n", 422), ("number\n\"open\n",
                                                  422)):
            st, _, text = self.raw("POST", "/v1/import", body,
                                   token=STAFF[1])
            self.assertEqual(st, code, text)
        self.assertEqual(self.ok("GET", "/v1/events")["events"], [])
        st, _, text = self.raw("POST", "/v1/import", good, token=STAFF[1])
        self.assertEqual(st, 201, text)
        self.assertEqual(json.loads(text)["imported"], 2)
        evs = self.ok("GET", "/v1/events")["events"]
        self.assertEqual([(e["number"], e["source"], e["actor"], e["scope"])
                          for e in evs],
                         [("15557000001", "import", "sam", "promo"),
                          ("15557000002", "import", "sam", "all")])
        self.assertEqual(evs[1]["time"], "2026-01-05T10:00:00Z")

    def test_export_streamed(self):
        self.start()
        n = 30000
        p = self.h.path("many.csv")
        with open(p, "w") as f:
            f.write("number,category\n")
            for i in range(n):
                f.write("1555800%04d,%s\n" % (i % 10000, ("promo", "billing",
                                                        "all")[i // 10000]))
        self.cli("import", p)
        st, hd, text = self.raw("GET", "/v1/export", token=VIEWER[1])
        self.assertEqual(st, 200)
        self.assertEqual(hd["Transfer-Encoding"], "chunked")
        self.assertTrue(hd["Content-Type"].startswith("text/csv"))
        self.assertIn("default-src 'none'", hd["Content-Security-Policy"])
        lines = text.splitlines()
        self.assertEqual(lines[0], "number,category,state,since,event_id")
        self.assertEqual(len(lines), 1 + n)
        nums = [ln.split(",")[0] for ln in lines[1:]]
        self.assertEqual(nums, sorted(nums))
        self.assertEqual(len(set(nums)), 10000)
        # Each number's entries together, its global one first.
        self.assertEqual(lines[1].split(",")[:3], ["15558000000", "all",
                                                   "opted_out"])
        self.assertEqual(text, self.cli("export"))
        st, hd, text = self.raw("GET", "/v1/export?format=jsonl")
        self.assertEqual(st, 200)
        rows = [json.loads(ln) for ln in text.splitlines()]
        self.assertEqual(len(rows), n)
        self.assertEqual(self.raw("GET", "/v1/export?format=xml")[0], 400)
        # A client that goes away mid-stream: the stream ends, the API
        # answers the next request.
        for _ in range(3):
            c = http.client.HTTPConnection("127.0.0.1", self.port,
                                           timeout=10)
            c.request("GET", "/v1/export", headers={
                "Authorization": "Bearer " + TOKEN})
            r = c.getresponse()
            self.assertEqual(len(r.read(1000)), 1000)
            c.sock.shutdown(2)
            c.close()
        time.sleep(0.5)
        self.assertEqual(self.ok("GET", "/v1/whoami")["name"], "api")
        self.assertEqual(self.ok("GET", "/healthz", token=None)["status"],
                         "ok")


if __name__ == "__main__":
    harness.main()
