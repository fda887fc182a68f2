#!/usr/bin/env python3
"""stopgate admin HTTP API: the real daemon with an admin block, spoken to
with http.client over loopback.

Bearer token (401 with WWW-Authenticate, constant answers for wrong and
missing tokens), every endpoint, an opt-out made through the API refusing
a submit through the proxy with 0x401, opt-in without consent refused
(422) with the state unchanged, malformed / oversized / wrongly typed
bodies refused (400 / 413 / 422) with nothing written, the event feed
cursor resumed across pages and a restart, the review queue resolved
through the API, /metrics parsed as Prometheus text, SIGHUP token change,
and the admin API over TLS with a throwaway certificate.
"""

import http.client
import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import smpp  # noqa: E402

harness.require(harness.STOPGATE, harness.SMSC_SIM)

TOKEN = "test-token"
NUM = "15551230001"
SUB = "15557770001"


class Resp:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self.body = body

    def json(self):
        return json.loads(self.body)


class AdminCase(harness.TestCase):
    def start(self, edit=None, tls=False):
        def ed(cfg):
            cfg["timeouts"] = {"shutdown_ms": 1000}
            if tls:
                cfg["admin"]["tls"] = {"cert": "server.pem",
                                       "key": "server.key"}
            if edit is not None:
                edit(cfg)
        if tls:
            make_cert(self.h.dir)
        self.smsc, self.gw, self.cfg = self.h.start_stack(edit=ed,
                                                          admin=True)
        self.admin_port = int(self.cfg["admin"]["bind"].rsplit(":", 1)[1])
        self.tls = tls
        self.addCleanup(self.clean_exit)

    def clean_exit(self):
        rc = self.gw.stop()
        log = self.gw.log_text()
        self.assertEqual(rc, 0, log[-3000:])
        for m in ("Sanitizer", "runtime error:"):
            self.assertNotIn(m, log)
        # The token is never logged.
        self.assertNotIn(TOKEN, log)

    def conn(self):
        if self.tls:
            ctx = ssl.create_default_context(
                cafile=self.h.path("server.pem"))
            return http.client.HTTPSConnection("127.0.0.1", self.admin_port,
                                               timeout=10, context=ctx)
        return http.client.HTTPConnection("127.0.0.1", self.admin_port,
                                          timeout=10)

    def req(self, method, path, body=None, token=TOKEN, headers=None):
        """One request on a fresh connection. body: dict/list (sent as
        JSON), str/bytes (sent as is) or None."""
        h = dict(headers or {})
        if token is not None:
            h["Authorization"] = "Bearer " + token
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        if body is not None:
            h.setdefault("Content-Type", "application/json")
        c = self.conn()
        try:
            c.request(method, path, body=body, headers=h)
            r = c.getresponse()
            return Resp(r.status, r.headers, r.read().decode("utf-8"))
        finally:
            c.close()

    def get(self, path, **kw):
        return self.req("GET", path, **kw)

    def post(self, path, body, **kw):
        return self.req("POST", path, body, **kw)

    def ok(self, r, status=200):
        self.assertEqual(r.status, status, r.body)
        if r.headers.get("Content-Type", "").startswith("application/json"):
            return r.json()
        return r.body

    def err(self, r, status, needle=None):
        self.assertEqual(r.status, status, r.body)
        self.assertTrue(r.headers["Content-Type"].startswith(
            "application/json"), r.headers)
        e = r.json()["error"]
        if needle is not None:
            self.assertIn(needle, e)
        return e

    def client(self, system_id="marketing", password="mkpass1"):
        c = smpp.Client.connect(self.gw.port)
        self.addCleanup(c.close)
        self.assertEqual(c.bind("trx", system_id, password), 0)
        return c

    def status(self, number):
        d = self.ok(self.get("/v1/numbers/" + number))
        return {k: v["status"] for k, v in d["categories"].items()}

    def all_events(self):
        return self.ok(self.get("/v1/events?limit=1000"))["events"]


def make_cert(d):
    """A self-signed server.pem/server.key for 127.0.0.1."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", "server.key", "-out", "server.pem",
                    "-days", "2", "-subj", "/CN=stopgate admin test",
                    "-addext", "subjectAltName=IP:127.0.0.1"],
                   cwd=d, check=True, capture_output=True, timeout=60)


class TestAuth(AdminCase):
    def test_token_required(self):
        self.start()
        # /healthz needs no token.
        d = self.ok(self.get("/healthz", token=None))
        self.assertEqual(d["status"], "ok")
        self.assertEqual(d["upstreams"], {"carrier": True})
        for tok in (None, "wrong", "", TOKEN + "x", TOKEN[:-1]):
            for path in ("/metrics", "/v1/numbers/" + NUM, "/v1/events",
                         "/nowhere"):
                r = self.get(path, token=tok)
                self.err(r, 401, "bearer token")
                self.assertTrue(r.headers["WWW-Authenticate"]
                                .startswith("Bearer"))
        r = self.post("/v1/optouts", {"number": NUM, "all": True},
                      token="wrong")
        self.err(r, 401)
        self.assertEqual(self.all_events(), [])
        # Scheme is case-insensitive; the token is not.
        self.ok(self.get("/v1/events", token=None,
                         headers={"Authorization": "bearer " + TOKEN}))
        self.err(self.get("/v1/events", token=None, headers={
            "Authorization": "Bearer " + TOKEN.upper()}), 401)
        self.err(self.get("/v1/events", token=None, headers={
            "Authorization": "Basic dGVzdDp0ZXN0"}), 401)
        # With the token: unknown path 404, wrong method 405 with Allow.
        self.err(self.get("/nowhere"), 404)
        self.err(self.get("/v1/numbers/%s/extra" % NUM), 404)
        r = self.req("DELETE", "/v1/numbers/" + NUM)
        self.err(r, 405)
        self.assertEqual(r.headers["Allow"], "GET")
        r = self.req("HEAD", "/v1/events")
        self.assertEqual((r.status, r.body), (200, ""))
        r = self.get("/v1/optouts")
        self.err(r, 405)
        self.assertEqual(r.headers["Allow"], "POST")
        self.assertIn("event=admin_request", self.gw.log_text())
        # Every wrong token given is counted (a missing one is no guess);
        # past the first few they were answered late, not refused.
        m = parse_metrics(self.get("/metrics").body)
        self.assertEqual(m["stopgate_admin_auth_failures_total"], 19)
        self.assertEqual(m["stopgate_admin_unauthorized_total"], 23)

    def test_sighup_token_change(self):
        self.start()
        self.ok(self.get("/v1/events"))
        cfg = dict(self.cfg)
        cfg["admin"] = dict(cfg["admin"], token="second-token")
        self.h.write_config(cfg)
        n = self.gw.log_text().count("event=reloaded")
        self.gw.send_signal(signal.SIGHUP)
        harness.wait_until(
            lambda: self.gw.log_text().count("event=reloaded") > n,
            timeout=5, what="reload")
        self.err(self.get("/v1/events"), 401)
        self.ok(self.get("/v1/events", token="second-token"))
        self.assertNotIn("second-token", self.gw.log_text())


    def reload(self, cfg):
        self.h.write_config(cfg)
        n = self.gw.log_text().count("event=reloaded")
        self.gw.send_signal(signal.SIGHUP)
        harness.wait_until(
            lambda: self.gw.log_text().count("event=reloaded") > n,
            timeout=5, what="reload")

    def test_sighup_moves_and_stops_admin(self):
        self.start()
        old = self.admin_port
        new = self.h.free_port()
        cfg = dict(self.cfg)
        cfg["admin"] = dict(cfg["admin"], bind="127.0.0.1:%d" % new)
        self.reload(cfg)
        self.admin_port = new
        self.ok(self.get("/v1/events"))
        self.assertFalse(harness.port_open(old))
        # Removed: the port closes; added back: it answers again.
        del cfg["admin"]
        self.reload(cfg)
        self.assertFalse(harness.port_open(new))
        cfg["admin"] = dict(self.cfg["admin"])
        self.reload(cfg)
        self.admin_port = old
        self.ok(self.get("/v1/events"))
        # The listener's SMPP side carried on throughout.
        self.assertEqual(self.client().submit("12345", NUM, b"x")[0], 0)


class TestOptouts(AdminCase):
    def test_optout_via_api_blocks_submit(self):
        self.start()
        mk = self.client()
        fd = self.client("frontdesk", "fdpass1")
        self.assertEqual(mk.submit("12345", NUM, b"before")[0], 0)
        ev = self.ok(self.post("/v1/optouts", {
            "number": "+1 (555) 123-0001", "categories": ["promo"],
            "note": "asked on the phone", "actor": "alice"}), 201)
        self.assertEqual(ev["number"], NUM)
        self.assertEqual(ev["action"], "opt_out")
        self.assertEqual(ev["source"], "api")
        self.assertEqual(ev["actor"], "alice")
        self.assertEqual(ev["note"], "asked on the phone")
        self.assertEqual(ev["categories"], ["promo"])
        self.assertFalse(ev["all"])
        self.assertGreater(ev["event_id"], 0)
        self.assertTrue(re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$",
                                 ev["time"]), ev["time"])
        # Enforced by the proxy on its next lookup.
        self.assertEqual(mk.submit("12345", NUM, b"promo")[0], 0x401)
        self.assertEqual(fd.submit("15550100", NUM, b"appt")[0], 0)
        st = self.ok(self.get("/v1/numbers/" + NUM))
        self.assertEqual(st["number"], NUM)
        promo = st["categories"]["promo"]
        self.assertEqual(promo["status"], "blocked")
        self.assertEqual(promo["event_id"], ev["event_id"])
        self.assertEqual(promo["scope"], "category")
        self.assertEqual(st["categories"]["appointments"],
                         {"status": "allowed"})
        # The same number written differently resolves to the same one.
        self.assertEqual(self.status("%2B1%20555%20123%200001")["promo"],
                         "blocked")
        hist = self.ok(self.get("/v1/numbers/%s/history" % NUM))
        self.assertEqual([e["event_id"] for e in hist["events"]],
                         [ev["event_id"]])
        self.assertFalse(hist["truncated"])
        # Attribution: the message sent before the opt-out.
        self.assertEqual(hist["events"][0]["last_sent"]["account"],
                         "marketing")
        # The rejected send is in the audit log (batched: poll).
        def audit():
            d = self.ok(self.get("/v1/audit?number=" + NUM))
            return d["records"]
        recs = harness.wait_until(audit, timeout=5, what="audit record")
        self.assertEqual(len(recs), 1)
        self.assertEqual(recs[0]["status"], "0x00000401")
        self.assertEqual(recs[0]["account"], "marketing")
        self.assertEqual(recs[0]["event_id"], ev["event_id"])
        self.assertEqual(len(recs[0]["body_sha256"]), 64)
        # Filters
        self.assertEqual(self.ok(self.get(
            "/v1/audit?account=frontdesk"))["records"], [])
        self.assertEqual(len(self.ok(self.get(
            "/v1/audit?category=promo&since=2000-01-01T00:00:00Z&limit=5"))
            ["records"]), 1)
        self.assertEqual(self.ok(self.get(
            "/v1/audit?until=2000-01-01"))["records"], [])
        # Opt out of everything: the other account is refused too.
        ev2 = self.ok(self.post("/v1/optouts", {"number": NUM,
                                                "all": True}), 201)
        self.assertTrue(ev2["all"])
        self.assertEqual(ev2["scope"], "all")
        self.assertEqual(ev2["actor"], "api")
        self.assertEqual(fd.submit("15550100", NUM, b"appt")[0], 0x401)

    def test_optin_needs_consent(self):
        self.start()
        self.ok(self.post("/v1/optouts", {"number": NUM, "all": True}), 201)
        before = self.status(NUM)
        self.assertEqual(set(before.values()), {"blocked"})
        n = len(self.all_events())
        for body in ({"number": NUM, "all": True},
                     {"number": NUM, "all": True, "consent": ""},
                     {"number": NUM, "all": True, "consent": None}):
            self.err(self.post("/v1/optins", body), 422, "consent")
        self.assertEqual(self.status(NUM), before)
        self.assertEqual(len(self.all_events()), n)
        ev = self.ok(self.post("/v1/optins", {
            "number": NUM, "categories": ["appointments"],
            "consent": "signed form 2026-11-26", "actor": "bob"}), 201)
        self.assertEqual(ev["action"], "opt_in")
        self.assertEqual(ev["consent"], "signed form 2026-11-26")
        st = self.status(NUM)
        self.assertEqual(st["appointments"], "allowed")
        self.assertEqual(st["promo"], "blocked")
        c = self.client("frontdesk", "fdpass1")
        self.assertEqual(c.submit("15550100", NUM, b"appt")[0], 0)

    def test_bad_requests_change_nothing(self):
        self.start()
        bad = [
            ("{", 400, "malformed JSON"),
            ('{"number": "%s", "all": true' % NUM, 400, "malformed JSON"),
            ('{"number": "%s", "all": true} x' % NUM, 400, "malformed"),
            ('{"number": "1", "number": "2", "all": true}', 400,
             "duplicate"),
            ("[1, 2]", 400, "JSON object"),
            ('"text"', 400, "malformed JSON"),
            ("", 400, "required"),
            (b"\xff\xfe{}", 400, "malformed JSON"),
            ({"number": NUM, "all": True, "colour": "red"}, 400,
             "unknown field"),
            ({"number": 15551230001, "all": True}, 400, "string"),
            ({"number": NUM, "all": "yes"}, 400, "true or false"),
            ({"number": NUM, "categories": "promo"}, 400, "array"),
            ({"number": NUM, "categories": [1]}, 400, "array"),
            ({"number": NUM}, 422, "categories"),
            ({"number": NUM, "categories": []}, 422, "categories"),
            ({"all": True}, 422, "number"),
            ({"number": "", "all": True}, 422, "number"),
            ({"number": "not a number", "all": True}, 422,
             "not a phone number"),
            ({"number": NUM, "categories": ["nope"]}, 422,
             "unknown category"),
            ({"number": NUM, "all": True, "categories": ["promo"]}, 422,
             "not both"),
            ({"number": NUM, "all": True, "note": "x" * 300}, 422,
             "longer than"),
            ({"number": NUM, "all": True, "consent": "yes"}, 400,
             "opt-in"),
            ('{"number": "1555\\u0000", "all": true}', 400, "malformed"),
        ]
        for body, status, needle in bad:
            r = self.post("/v1/optouts", body)
            self.err(r, status, needle)
        # Oversized body: 413, nothing read as a request.
        big = json.dumps({"number": NUM, "all": True, "note": "x" * 100000})
        r = self.post("/v1/optouts", big)
        self.assertEqual(r.status, 413, r.body)
        self.assertEqual(self.all_events(), [])
        self.assertEqual(set(self.status(NUM).values()), {"allowed"})
        # Bad path and query parameters.
        self.err(self.get("/v1/numbers/abc"), 400, "not a phone number")
        self.err(self.get("/v1/numbers/%00"), 404)
        self.err(self.get("/v1/events?after=abc"), 400, "after")
        self.err(self.get("/v1/events?after=-1"), 400, "after")
        self.err(self.get("/v1/events?limit=0"), 400, "limit")
        self.err(self.get("/v1/events?limit=1001"), 400, "limit")
        self.err(self.get("/v1/events?cursor=1"), 400, "unknown query")
        self.err(self.get("/v1/audit?since=yesterday"), 400, "RFC 3339")
        self.err(self.get("/v1/audit?category=nope"), 400, "category")
        self.err(self.get("/v1/audit?number=x"), 400, "phone number")
        self.err(self.get("/v1/review/abc"), 400, "not a number")
        self.err(self.get("/v1/review/999"), 404, "no review item")
        # And the daemon still answers.
        self.ok(self.get("/healthz", token=None))


class TestFeed(AdminCase):
    def test_cursor_resumes(self):
        self.start()
        nums = ["1555888000%d" % i for i in range(5)]
        ids = []
        for n in nums:
            ids.append(self.ok(self.post("/v1/optouts", {
                "number": n, "categories": ["promo"]}), 201)["event_id"])
        self.assertEqual(ids, sorted(ids))
        page = self.ok(self.get("/v1/events?limit=2"))
        self.assertEqual([e["event_id"] for e in page["events"]], ids[:2])
        self.assertTrue(page["more"])
        self.assertEqual(page["next"], ids[1])
        page = self.ok(self.get("/v1/events?limit=2&after=%d" %
                                page["next"]))
        self.assertEqual([e["event_id"] for e in page["events"]], ids[2:4])
        page = self.ok(self.get("/v1/events?limit=2&after=%d" %
                                page["next"]))
        self.assertEqual([e["event_id"] for e in page["events"]], ids[4:])
        self.assertFalse(page["more"])
        cursor = page["next"]
        self.assertEqual(cursor, ids[4])
        empty = self.ok(self.get("/v1/events?after=%d" % cursor))
        self.assertEqual(empty["events"], [])
        self.assertEqual(empty["next"], cursor)
        self.assertFalse(empty["more"])
        # An opt-in by CLI shows up after the cursor, and the cursor
        # still works after a restart.
        r = self.h.stopgate_cli("optout", "remove", "-c", self.gw.config,
                                nums[0], "--category", "promo",
                                "--consent", "web form")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.gw.stop(), 0)
        self.gw = self.h.start_stopgate(self.cfg)
        page = self.ok(self.get("/v1/events?after=%d" % cursor))
        self.assertEqual(len(page["events"]), 1)
        e = page["events"][0]
        self.assertEqual((e["number"], e["action"], e["source"],
                          e["consent"]),
                         (nums[0], "opt_in", "staff", "web form"))
        self.assertGreater(page["next"], cursor)


class TestReview(AdminCase):
    def test_resolve_through_api(self):
        self.start()
        fd = self.client("frontdesk", "fdpass1")
        ctl = self.smsc.ctl()
        seq = None
        deadline = time.monotonic() + 10
        while seq is None:
            try:
                seq = ctl.mo(SUB, "15550100", "please cancel my appointment")
            except harness.HarnessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        fd.wait_deliver(5)
        self.assertEqual(ctl.wait_resp(seq, 10), 0)
        lst = self.ok(self.get("/v1/review"))
        self.assertEqual(len(lst["items"]), 1, lst)
        item = lst["items"][0]
        self.assertEqual(item["number"], SUB)
        self.assertEqual(item["status"], "open")
        self.assertEqual(item["text"], "please cancel my appointment")
        self.assertGreaterEqual(item["age_seconds"], 0)
        rid = item["id"]
        self.assertEqual(self.ok(self.get("/v1/review/%d" % rid))["id"], rid)
        path = "/v1/review/%d/resolve" % rid
        self.err(self.post(path, {"decision": "optout"}), 422, "note")
        self.err(self.post(path, {"decision": "maybe", "note": "x"}), 422,
                 "decision")
        self.err(self.post(path, {"decision": "dismiss", "note": "x",
                                  "all": True}), 422)
        self.err(self.post("/v1/review/999/resolve",
                           {"decision": "dismiss", "note": "x"}), 404)
        self.assertEqual(set(self.status(SUB).values()), {"allowed"})
        d = self.ok(self.post(path, {"decision": "optout",
                                     "note": "wants no more texts",
                                     "actor": "carol"}))
        self.assertEqual(d["item"]["status"], "opted_out")
        self.assertEqual(d["item"]["actor"], "carol")
        self.assertEqual(d["event"]["rule"], "review")
        self.assertTrue(d["event"]["all"])   # stop_scope: all
        self.assertEqual(d["item"]["event_id"], d["event"]["event_id"])
        self.assertEqual(set(self.status(SUB).values()), {"blocked"})
        self.err(self.post(path, {"decision": "dismiss", "note": "x"}), 409,
                 "already resolved")
        self.assertEqual(self.ok(self.get("/v1/review"))["items"], [])
        self.assertEqual(self.ok(self.get("/v1/review/%d" % rid))["status"],
                         "opted_out")


LINE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*'
                  r'(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*"'
                  r'(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\.)*")*)?\})?'
                  r' -?[0-9.e+]+$')


def parse_metrics(text):
    """{name or name{labels}: value}; asserts every line is well formed."""
    out = {}
    types = {}
    for ln in text.splitlines():
        if ln.startswith("# HELP "):
            continue
        if ln.startswith("# TYPE "):
            _, _, name, kind = ln.split(" ", 3)
            assert kind in ("counter", "gauge", "untyped"), ln
            types[name] = kind
            continue
        assert LINE.match(ln), "bad exposition line: %r" % ln
        key, val = ln.rsplit(" ", 1)
        name = key.split("{")[0]
        assert name in types, "no # TYPE for %s" % name
        out[key] = float(val)
    return out


class TestMetrics(AdminCase):
    def test_prometheus_text(self):
        self.start()
        r = self.get("/metrics")
        self.assertEqual(r.status, 200, r.body)
        self.assertTrue(r.headers["Content-Type"].startswith("text/plain"))
        m = parse_metrics(r.body)
        self.assertEqual(m['stopgate_upstream_bound{upstream="carrier"}'], 1)
        self.assertEqual(m["stopgate_submits_forwarded_total"], 0)
        self.assertEqual(m["stopgate_store_up"], 1)
        self.assertGreater(m["stopgate_store_map_used_bytes"], 0)
        c = self.client()
        self.ok(self.post("/v1/optouts", {"number": NUM, "all": True}), 201)
        self.assertEqual(c.submit("12345", "15551230002", b"hi")[0], 0)
        self.assertEqual(c.submit("12345", NUM, b"hi")[0], 0x401)
        m = parse_metrics(self.get("/metrics").body)
        self.assertEqual(m["stopgate_submits_forwarded_total"], 1)
        self.assertEqual(m["stopgate_submits_rejected_optout_total"], 1)
        self.assertEqual(m['stopgate_upstream_submits_total'
                           '{upstream="carrier"}'], 1)
        self.assertEqual(m["stopgate_optout_events_total"], 1)
        self.assertEqual(m["stopgate_sessions"], 1)
        self.assertEqual(m['stopgate_account_sessions_bound'
                           '{account="marketing"}'], 1)
        self.assertGreaterEqual(m["stopgate_admin_requests_total"], 2)
        self.assertEqual(m["stopgate_admin_auth_failures_total"], 0)
        # the refusal's audit record and the forwarded message's
        # attribution reach the store within a few ms; once the writer is
        # idle, the attribution is merged into the last-sent table
        def written():
            x = parse_metrics(self.get("/metrics").body)
            return x if (x["stopgate_writer_records_total"] >= 2 and
                         x["stopgate_sentlog_merged_total"] >= 1) else None
        m = harness.wait_until(written, 5, what="the writer's records")
        self.assertGreaterEqual(m["stopgate_writer_batches_total"], 1)
        self.assertEqual(m["stopgate_writer_failed_total"], 0)
        self.assertEqual(m["stopgate_writer_pending"], 0)
        self.assertEqual(m["stopgate_attrib_dropped_total"], 0)
        self.err(self.req("POST", "/metrics", "{}"), 405)


class TestTls(AdminCase):
    def test_admin_over_tls(self):
        if shutil.which("openssl") is None:
            self.skipTest("no openssl CLI")
        self.start(tls=True)
        d = self.ok(self.get("/healthz", token=None))
        self.assertEqual(d["status"], "ok")
        self.err(self.get("/v1/events", token=None), 401)
        self.ok(self.post("/v1/optouts", {"number": NUM, "all": True}), 201)
        self.assertEqual(set(self.status(NUM).values()), {"blocked"})
        parse_metrics(self.get("/metrics").body)
        # Plain HTTP to the TLS port gets no answer, and the server goes on.
        c = http.client.HTTPConnection("127.0.0.1", self.admin_port,
                                       timeout=5)
        with self.assertRaises((http.client.HTTPException, OSError)):
            c.request("GET", "/healthz")
            c.getresponse().read()
        c.close()
        self.ok(self.get("/healthz", token=None))
        self.assertIn("tls=yes", self.gw.log_text())


if __name__ == "__main__":
    harness.main()
