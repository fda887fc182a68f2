"""The compliance CLI against a real store (SPEC section 6): every command,
its formats, its exit codes, and bad input that must change nothing."""

import csv
import http.client
import io
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import smpp  # noqa: E402

NUM = "15550001111"


class CliTest(harness.TestCase):

    def setUp(self):
        super().setUp()
        cfg = harness.base_config(harness.free_port(), harness.free_port())
        self.cfg = self.h.write_config(cfg)

    def cli(self, *args, rc=0):
        r = self.h.stopgate_cli(*args)
        self.assertEqual(r.returncode, rc,
                         "stopgate %s\nstdout: %s\nstderr: %s" %
                         (" ".join(map(str, args)), r.stdout, r.stderr))
        return r

    def status(self, number=NUM):
        r = self.cli("status", "-c", self.cfg, number, "--format", "jsonl")
        return {j["category"]: j for j in
                map(json.loads, r.stdout.splitlines())}

    def history(self, number=NUM):
        r = self.cli("history", number, "-c", self.cfg, "--format", "jsonl")
        return [json.loads(line) for line in r.stdout.splitlines()]

    def test_optout_add_and_status(self):
        self.assertEqual({c: s["status"] for c, s in self.status().items()},
                         {"promo": "allowed", "appointments": "allowed",
                          "billing": "allowed"})
        # -c after the number, options in any order
        r = self.cli("optout", "add", NUM, "--category", "promo",
                     "--source", "staff", "--note", "asked by phone",
                     "-c", self.cfg)
        self.assertIn("opted out", r.stdout)
        st = self.status()
        self.assertEqual(st["promo"]["status"], "blocked")
        self.assertEqual(st["appointments"]["status"], "allowed")
        self.assertRegex(st["promo"]["since"],
                         r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
        text = self.cli("status", "-c", self.cfg, NUM).stdout
        self.assertRegex(text, r"promo\s+blocked\s+since")
        self.assertRegex(text, r"billing\s+allowed")
        # the same number written another way is the same subscriber
        st2 = self.status("+1 (555) 000-1111")
        self.assertEqual(st2["promo"]["status"], "blocked")
        st3 = self.status("555-000-1111")
        self.assertEqual(st3["promo"]["status"], "blocked")

    def test_optout_all_then_remove_needs_consent(self):
        self.cli("optout", "add", "-c", self.cfg, NUM, "--all", "--note",
                 "letter")
        self.assertTrue(all(s["status"] == "blocked"
                            for s in self.status().values()))
        r = self.cli("optout", "remove", "-c", self.cfg, NUM, "--all", rc=1)
        self.assertIn("consent", r.stderr)
        self.assertTrue(all(s["status"] == "blocked"
                            for s in self.status().values()))
        self.cli("optout", "remove", "-c", self.cfg, NUM, "--category",
                 "appointments", "--consent", "signed form 2026-11-02")
        st = self.status()
        self.assertEqual(st["appointments"]["status"], "allowed")
        self.assertEqual(st["promo"]["status"], "blocked")
        ev = self.history()
        self.assertEqual([e["action"] for e in ev], ["opt_out", "opt_in"])
        self.assertEqual(ev[1]["consent"], "signed form 2026-11-02")
        self.assertTrue(ev[0]["actor"])      # who acted is recorded
        self.assertEqual(ev[0]["note"], "letter")

    def test_actor_recorded(self):
        self.cli("optout", "add", "-c", self.cfg, NUM, "--category",
                 "billing", "--actor", "jane@front", "--source", "api")
        ev = self.history()
        self.assertEqual(ev[0]["actor"], "jane@front")
        self.assertEqual(ev[0]["source"], "api")

    def test_control_characters_cannot_forge_a_line(self):
        """An actor or note from an API client (or a subscriber's text)
        holding a newline, a terminal escape or a bidirectional override
        is printed escaped by the human-readable history: one event, one
        line; jsonl keeps the exact value."""
        forged = "x\n2026-01-01T00:00:00Z  event 99  opt_in  all"
        self.cli("optout", "add", "-c", self.cfg, NUM, "--category",
                 "billing", "--actor", forged, "--note",
                 "a\x1b[2Jb\u202ec\\d\"e")
        r = self.cli("history", NUM, "-c", self.cfg)
        lines = r.stdout.splitlines()
        self.assertEqual(len(lines), 1, r.stdout)
        self.assertIn("actor=x\\n2026-01-01", lines[0])
        self.assertIn('note="a\\x1b[2Jb\\u{202e}c\\\\d\\"e"', lines[0])
        self.assertNotIn("\x1b", r.stdout)
        self.assertNotIn("\u202e", r.stdout)
        self.assertEqual(self.history()[0]["actor"], forged)

    def test_bad_input_changes_nothing(self):
        r = self.cli("optout", "add", "-c", self.cfg, NUM, "--category",
                     "nosuch", rc=1)
        self.assertIn("nosuch", r.stderr)
        r = self.cli("optout", "add", "-c", self.cfg, "not-a-number",
                     "--all", rc=1)
        self.assertIn("not a phone number", r.stderr)
        self.cli("optout", "add", "-c", self.cfg, NUM, rc=1)   # no scope
        self.cli("optout", "add", "-c", self.cfg, NUM, "--all",
                 "--source", "sms_keyword", rc=1)
        self.cli("optout", "add", NUM, "--all", rc=2)          # no -c
        self.cli("optout", "add", "-c", self.cfg, NUM, "--all",
                 "--bogus", "x", rc=2)
        self.cli("frobnicate", "-c", self.cfg, rc=2)
        self.assertEqual(self.history(), [])

    def test_category_given_twice(self):
        """--category promo --category promo used to fail at the store
        ("category promo twice"); the admin API took it. Once is enough
        in both now."""
        r = self.cli("optout", "add", "-c", self.cfg, NUM, "--category",
                     "promo", "--category", "promo")
        self.assertIn("promo", r.stdout)
        self.assertEqual([(h["action"], h["scope"]) for h in
                          self.history()], [("opt_out", "promo")])
        self.assertEqual(self.status()["promo"]["status"], "blocked")

    def test_bad_config(self):
        bad = self.h.write_config("business_name: [unclosed\n", "bad.yaml")
        r = self.cli("status", "-c", bad, NUM, rc=1)
        self.assertRegex(r.stderr, r"bad\.yaml:\d+:\d+: ")

    def test_import_all_or_nothing(self):
        good = self.h.path("good.csv")
        with open(good, "w") as f:
            f.write("number,category,note,time\r\n"
                    "15550002222,promo,from the old CRM,"
                    "2025-01-02T03:04:05Z\r\n"
                    "+1 555 000 3333,all,\"said \"\"stop\"\", twice\",\r\n"
                    "5550004444,,,\r\n")
        r = self.cli("import", "-c", self.cfg, good)
        self.assertIn("imported 3", r.stdout)
        self.assertEqual(self.status("15550002222")["promo"]["status"],
                         "blocked")
        self.assertEqual(
            self.status("15550002222")["billing"]["status"], "allowed")
        self.assertEqual(self.status("15550004444")["billing"]["status"],
                         "blocked")
        ev = self.history("15550002222")
        self.assertEqual(ev[0]["source"], "import")
        self.assertEqual(ev[0]["time"], "2025-01-02T03:04:05Z")
        self.assertEqual(self.history("15550003333")[0]["note"],
                         'said "stop", twice')

        for name, text, where in [
            ("badnum.csv", "number,category\n15550005555,promo\n"
             "hello,promo\n", ":3:"),
            ("badcat.csv", "number,category\n15550005555,promo\n"
             "15550006666,nosuch\n", ":3:"),
            ("badtime.csv", "number,time\n15550005555,yesterday\n", ":2:"),
            ("future.csv", "number,time\n15550005555,2999-01-01T00:00:00Z\n",
             ":2:"),
            ("fields.csv", "number,category\n15550005555,promo,extra\n",
             ":2:"),
            ("nonum.csv", "phone,category\n15550005555,promo\n", ":1:"),
            ("quote.csv", "number\n\"15550005555\n", "unterminated"),
        ]:
            p = self.h.path(name)
            with open(p, "w") as f:
                f.write(text)
            r = self.cli("import", p, "-c", self.cfg, rc=1)
            self.assertIn(where, r.stderr, name)
            self.assertEqual(self.history("15550005555"), [], name)
        self.cli("import", "-c", self.cfg, self.h.path("missing.csv"), rc=1)

    def test_export(self):
        self.cli("optout", "add", "-c", self.cfg, NUM, "--category", "promo")
        self.cli("optout", "add", "-c", self.cfg, "15550009999", "--all")
        r = self.cli("export", "-c", self.cfg)
        rows = list(csv.DictReader(io.StringIO(r.stdout)))
        got = sorted((x["number"], x["category"], x["state"]) for x in rows)
        self.assertEqual(got, [(NUM, "promo", "opted_out"),
                               ("15550009999", "all", "opted_out")])
        r = self.cli("export", "-c", self.cfg, "--format", "jsonl")
        self.assertEqual(len(r.stdout.splitlines()), 2)

    def test_audit_and_review_empty(self):
        r = self.cli("audit", "-c", self.cfg, "--format", "csv")
        self.assertTrue(r.stdout.startswith("time,account,category,"))
        self.cli("audit", "-c", self.cfg, "--since", "yesterday", rc=1)
        self.cli("audit", "-c", self.cfg, "--since", "2026-01-01",
                 "--number", NUM, "--account", "marketing")
        self.assertEqual(self.cli("review", "list", "-c", self.cfg).stdout,
                         "")
        self.cli("review", "resolve", "-c", self.cfg, "42", "--dismiss",
                 "--note", "x", rc=1)
        self.cli("review", "resolve", "-c", self.cfg, "42", rc=2)

    def test_stats(self):
        self.cli("optout", "add", "-c", self.cfg, NUM, "--category", "promo")
        self.cli("optout", "add", "-c", self.cfg, "15550009999", "--all")
        r = self.cli("stats", "-c", self.cfg, "--format", "jsonl")
        lines = [json.loads(x) for x in r.stdout.splitlines()]
        self.assertEqual(lines[0]["opt_outs"], 2)
        cats = {x["key"]: x["opt_outs"] for x in lines
                if x.get("by") == "category"}
        self.assertEqual(cats, {"promo": 1, "all": 1})
        srcs = {x["key"]: x["opt_outs"] for x in lines
                if x.get("by") == "source"}
        self.assertEqual(srcs, {"staff": 2})
        self.assertIn("opt-outs by category", self.cli(
            "stats", "-c", self.cfg).stdout)


class SameShapeTest(harness.TestCase):
    """SPEC section 6: the CLI and the admin API are the same operations.
    `stopgate history --format jsonl` and GET /v1/numbers/{n}/history
    print each event with the same fields (the API's shape: "all" and
    "categories" as JSON types, "last_sent" when known) and values."""

    def api_history(self, port, number):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            c.request("GET", "/v1/numbers/%s/history" % number,
                      headers={"Authorization": "Bearer test-token"})
            r = c.getresponse()
            body = r.read().decode("utf-8")
            self.assertEqual(r.status, 200, body)
            return json.loads(body)["events"]
        finally:
            c.close()

    def api_status(self, port, number):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            c.request("GET", "/v1/numbers/%s" % number,
                      headers={"Authorization": "Bearer test-token"})
            r = c.getresponse()
            body = r.read().decode("utf-8")
            self.assertEqual(r.status, 200, body)
            return json.loads(body)["categories"]
        finally:
            c.close()

    def test_status_same_fields_as_api(self):
        """`stopgate status --format jsonl` and GET /v1/numbers/{n}: the
        same members per category, LESS and what a cap leaves too (SPEC
        section 9)."""
        def ed(cfg):
            cfg["frequency"] = [{"category": "promo", "max": 3,
                                 "per": "1d",
                                 "less": {"max": 1, "per": "1d"}}]
        smsc, gw, cfg = self.h.start_stack(edit=ed, admin=True)
        port = int(cfg["admin"]["bind"].rsplit(":", 1)[1])
        c = smpp.Client.connect(gw.port)
        self.addCleanup(c.close)
        self.assertEqual(c.bind("trx", "marketing", "mkpass1"), 0)
        self.assertEqual(c.submit("12345", NUM, b"sale")[0], 0)
        ctl = smsc.ctl()
        seq = ctl.mo(NUM, "12345", "LESS")
        self.assertEqual(c.wait_deliver(5).text(), "LESS")
        self.assertEqual(ctl.wait_resp(seq, 10), 0)

        def cli():
            r = self.h.stopgate_cli("status", "-c", gw.config, NUM,
                                    "--format", "jsonl")
            self.assertEqual(r.returncode, 0, r.stderr)
            out = {}
            for line in r.stdout.splitlines():
                j = json.loads(line)
                self.assertEqual(j.pop("number"), NUM)
                out[j.pop("category")] = j
            return out
        # The send is counted once the store writer commits it.
        st = harness.wait_until(
            lambda: (lambda s: s if s["promo"]["sent"] == 1 else None)(
                cli()), timeout=5, what="the send counted")
        api = self.api_status(port, NUM)
        self.assertEqual(st, api)
        self.assertTrue(api["promo"]["less"])
        self.assertEqual((api["promo"]["left"], api["promo"]["max"],
                          api["promo"]["per_s"]), (0, 1, 86400))
        self.assertIn("less_since", api["promo"])
        self.assertEqual(api["billing"], {"status": "allowed"})

    def test_history_same_fields_as_api(self):
        smsc, gw, cfg = self.h.start_stack(admin=True)
        port = int(cfg["admin"]["bind"].rsplit(":", 1)[1])
        c = smpp.Client.connect(gw.port)
        self.addCleanup(c.close)
        self.assertEqual(c.bind("trx", "marketing", "mkpass1"), 0)
        self.assertEqual(c.submit("12345", NUM, b"sale")[0], 0)
        # An opt-out naming the message sent before it, then an opt-in.
        r = self.h.stopgate_cli("optout", "add", "-c", gw.config, NUM,
                                "--category", "promo", "--note", "phone")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.h.stopgate_cli("optout", "remove", "-c", gw.config, NUM,
                                "--all", "--consent", "signed form")
        self.assertEqual(r.returncode, 0, r.stderr)
        r = self.h.stopgate_cli("history", "-c", gw.config, NUM,
                                "--format", "jsonl")
        self.assertEqual(r.returncode, 0, r.stderr)
        cli = [json.loads(line) for line in r.stdout.splitlines()]
        api = self.api_history(port, NUM)
        self.assertEqual(len(cli), 2)
        self.assertEqual([set(e) for e in cli], [set(e) for e in api])
        self.assertEqual(cli, api)
        self.assertIn("all", cli[0])
        self.assertEqual(cli[0]["categories"], ["promo"])
        self.assertTrue(cli[1]["all"])
        self.assertEqual(cli[1]["categories"], [])


if __name__ == "__main__":
    harness.main()
