#!/usr/bin/env python3
"""stopgate proxy, subscriber preferences (SPEC section 9): LESS and FEWER
switch a number to the stricter cap (an event, confirmed once), START and
ALL end it, ALL opts in to everything with the message as consent; a send
over the cap is refused with 0x402 and audited with its reason, a send
inside the recipient's quiet hours with 0x403; a send the SMSC refuses is
not counted; counts survive a restart; SIGHUP changes a cap for the next
send, and one that shortens a window has the store's send log trimmed to
it; `stopgate status` shows LESS and what is left; `stats` counts them.
"""

import json
import os
import signal
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import smpp  # noqa: E402

harness.require(harness.STOPGATE, harness.SMSC_SIM)

SUB = "15551230000"
LESS_PROMO = ("OK, you'll get fewer promo texts from Acme Clinic. "
              "Reply STOP to opt out completely.")
OPTIN_ALL = ("You're subscribed again to all texts from Acme Clinic. "
             "Reply STOP to opt out.")
HELP = "Acme Clinic: reply STOP to opt out, START to opt back in."


def caps(max_=3, per="1d", less=(1, "1d")):
    rule = {"category": "promo", "max": max_, "per": per}
    if less is not None:
        rule["less"] = {"max": less[0], "per": less[1]}
    return [rule]


class PrefsCase(harness.TestCase):
    def start(self, edit=None):
        def ed(cfg):
            cfg["timeouts"] = {"shutdown_ms": 1000}
            cfg["frequency"] = caps()
            if edit is not None:
                edit(cfg)
        self.smsc, self.gw, self.cfg = self.h.start_stack(edit=ed)
        self.ctl = self.smsc.ctl()

    def client(self, system_id="marketing", password="mkpass1"):
        c = smpp.Client.connect(self.gw.port)
        self.addCleanup(c.close)
        self.assertEqual(c.bind("trx", system_id, password), 0)
        return c

    def push(self, src, dst, text, status=0, via=None):
        """An MO through the SMSC; via is the bound client of the
        number's account, which must take the delivery first."""
        deadline = time.monotonic() + 10
        while True:
            try:
                seq = self.ctl.mo(src, dst, text)
                break
            except harness.HarnessError as e:
                if "no receiver" not in str(e) or \
                        time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        if via is not None:
            self.assertEqual(via.wait_deliver(5).text(), text)
        self.assertEqual(self.ctl.wait_resp(seq, 10), status)

    def cli(self, *args):
        r = self.h.stopgate_cli(*args, "-c", self.gw.config)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout

    def jsonl(self, *args):
        return [json.loads(x) for x in
                self.cli(*args, "--format", "jsonl").splitlines()]

    def audit(self, number, n):
        """The audit records of number, once n are written (the store
        writer commits within a few ms)."""
        return harness.wait_until(
            lambda: (lambda a: a if len(a) >= n else None)(
                self.jsonl("audit", "--number", number)),
            timeout=5, what="%d audit record(s)" % n)

    def status(self, number):
        return {j["category"]: j for j in self.jsonl("status", number)}

    def confirmations(self, dst):
        out = []
        for s in self.ctl.last(200):
            if s["dst"] != dst or s["data"].startswith(b"sale"):
                continue
            data = s["data"]
            if int(s.get("esm", "0"), 0) & 0x40:
                data = data[data[0] + 1:]
            out.append(smpp.text_decode(data, s["dcs"]))
        return out

    def wait_confirmations(self, dst, n):
        return harness.wait_until(
            lambda: (lambda c: c if len(c) >= n else None)(
                self.confirmations(dst)),
            timeout=5, what="%d confirmation(s) to %s" % (n, dst))

    def sends(self, c, dst, n, src="12345"):
        return [c.submit(src, dst, b"sale %d" % i)[0] for i in range(n)]

    def reload(self):
        self.h.write_config(self.cfg)
        n = self.gw.log_text().count("event=reloaded")
        self.gw.send_signal(signal.SIGHUP)
        harness.wait_until(
            lambda: self.gw.log_text().count("event=reloaded") > n,
            timeout=5, what="reload")


class TestLess(PrefsCase):
    def test_less_then_start(self):
        """LESS: the stricter cap, one confirmation, an event in the
        history; START ends it."""
        self.start()
        mk = self.client()
        self.push(SUB, "12345", "Less", via=mk)
        self.assertEqual(self.wait_confirmations(SUB, 1), [LESS_PROMO])
        ev = self.jsonl("history", SUB)[-1]
        self.assertEqual(ev["action"], "less")
        st = self.status(SUB)["promo"]
        self.assertTrue(st["less"])
        self.assertEqual((st["left"], st["max"]), (1, 1))
        self.assertEqual(self.sends(mk, SUB, 2), [0, 0x402])
        # A second LESS (an SMSC retry) is not confirmed again.
        self.push(SUB, "12345", "LESS", via=mk)
        time.sleep(0.3)
        self.assertEqual(len(self.confirmations(SUB)), 1)
        # START ends it: the plain cap of 3, one used.
        self.push(SUB, "12345", "START", via=mk)
        self.assertEqual(self.sends(mk, SUB, 3), [0, 0, 0x402])
        self.assertFalse(self.status(SUB)["promo"]["less"])
        text = self.cli("status", SUB)
        self.assertIn("0 of 3 left", text)

    def test_fewer_and_all(self):
        """FEWER is LESS (to a number whose stop_scope is all: the
        categories with a less rule); ALL ends it and opts in to every
        category with the message as consent."""
        self.start()
        mk = self.client()
        self.push(SUB, "15550100", "fewer")
        self.wait_confirmations(SUB, 1)
        self.assertTrue(self.status(SUB)["promo"]["less"])
        self.push(SUB, "15550100", "STOP")
        self.assertEqual(self.status(SUB)["billing"]["status"], "blocked")
        self.push(SUB, "15550100", "All")
        c = self.wait_confirmations(SUB, 3)
        self.assertEqual(c[2], OPTIN_ALL)
        st = self.status(SUB)
        self.assertEqual({k: v["status"] for k, v in st.items()},
                         {"promo": "allowed", "appointments": "allowed",
                          "billing": "allowed"})
        self.assertFalse(st["promo"]["less"])
        ev = self.jsonl("history", SUB)[-1]
        self.assertEqual((ev["action"], ev["scope"]), ("opt_in", "all"))
        self.assertIn("All", ev["consent"])
        self.assertEqual(self.sends(mk, SUB, 2), [0, 0])

    def test_less_without_rule_answers_help(self):
        """A scope with no less rule: the help text, nothing recorded."""
        self.start(edit=lambda cfg: cfg.update(frequency=caps(less=None)))
        self.push(SUB, "12345", "LESS")
        self.assertEqual(self.wait_confirmations(SUB, 1), [HELP])
        self.assertEqual(self.jsonl("history", SUB), [])

    def test_stats_count_less_and_refusals(self):
        self.start()
        mk = self.client()
        self.push(SUB, "12345", "LESS", via=mk)
        self.assertEqual(self.sends(mk, SUB, 2), [0, 0x402])
        self.audit(SUB, 1)
        stats = self.jsonl("stats")
        rows = {(x.get("by"), x.get("key")): x for x in stats}
        self.assertEqual(rows[("prefs", "marketing/promo")]
                         ["frequency_cap"], 1)
        self.assertEqual(stats[0]["less"], 1)


class TestCaps(PrefsCase):
    def test_cap_audit_restart_and_reload(self):
        """0x402 past the cap, audited with its reason; a refused send is
        not counted; counts kept across a restart; SIGHUP raises the cap
        for the next send."""
        self.start(edit=lambda cfg: cfg.update(
            frequency=caps(2, "7d", None)))
        mk = self.client()
        # The SMSC refuses one: it does not count.
        self.ctl.ok("set error 0x45")
        self.assertEqual(self.sends(mk, SUB, 1), [0x45])
        self.ctl.ok("set error 0")
        self.assertEqual(self.sends(mk, SUB, 3), [0, 0, 0x402])
        # Another category and another number are not capped.
        other = "15551239999"
        self.assertEqual(self.sends(mk, other, 2), [0, 0])
        fd = self.client("frontdesk", "fdpass1")
        self.assertEqual(self.sends(fd, SUB, 3, "15550100"), [0, 0, 0])
        audit = self.audit(SUB, 1)
        self.assertEqual(len(audit), 1)
        self.assertEqual(audit[0]["status"], "0x00000402")
        self.assertEqual(audit[0]["reason"], "frequency_cap")
        self.assertEqual(audit[0]["category"], "promo")
        self.assertIn("reject_frequency_cap", self.gw.log_text())
        # A restart keeps the counts.
        mk.close()
        self.assertEqual(self.gw.stop(), 0)
        self.gw = self.h.start_stopgate(self.cfg)
        harness.wait_until(lambda: self.ctl.stats()["bound"] >= 1, 10,
                           what="rebind")
        mk = self.client()
        self.assertEqual(self.sends(mk, SUB, 1), [0x402])
        self.assertEqual(self.status(SUB)["promo"]["left"], 0)
        # SIGHUP: a cap of 3 lets one more through.
        self.cfg["frequency"] = caps(3, "7d", None)
        self.reload()
        self.assertEqual(self.sends(mk, SUB, 2), [0, 0x402])
        # A status of its own is configurable.
        self.cfg["rejection"]["frequency_status"] = 0x4f1
        self.reload()
        self.assertEqual(self.sends(mk, SUB, 1), [0x4f1])

    def test_reload_shorter_window_trims_the_log(self):
        """A reload that shortens the cap window has the store's send
        log trimmed to it at once, by the housekeeping thread, while the
        loop serves: sends older than the new window leave the store."""
        self.start(edit=lambda cfg: cfg.update(
            frequency=caps(5, "1d", None)))
        mk = self.client()
        self.assertEqual(self.sends(mk, SUB, 2), [0, 0])
        harness.wait_until(
            lambda: self.status(SUB)["promo"]["left"] == 3,
            timeout=5, what="the sends in the store")
        # Send times are whole seconds: 3 s puts them past a 2 s window.
        time.sleep(3.2)
        self.cfg["frequency"] = caps(5, "2s", None)
        self.reload()
        # `status` reads the log with the day's window again: only a
        # trimmed log shows the two sends gone.
        self.cfg["frequency"] = caps(5, "1d", None)
        self.h.write_config(self.cfg)
        harness.wait_until(
            lambda: self.status(SUB)["promo"]["left"] == 5,
            timeout=5, what="the send log trimmed")
        self.assertNotIn("prefs_prune_failed", self.gw.log_text())
        self.assertEqual(self.sends(mk, "15551239999", 1), [0])

    def test_metrics(self):
        """/metrics counts the sends refused for a cap."""
        def ed(cfg):
            cfg["frequency"] = caps(1, "1h", None)
            cfg["admin"] = {"bind": "127.0.0.1:%d" % harness.free_port(),
                            "token": "test-token"}
        self.start(edit=ed)
        mk = self.client()
        self.assertEqual(self.sends(mk, SUB, 2), [0, 0x402])
        port = int(self.cfg["admin"]["bind"].rsplit(":", 1)[1])
        req = urllib.request.Request(
            "http://127.0.0.1:%d/metrics" % port,
            headers={"Authorization": "Bearer test-token"})
        body = urllib.request.urlopen(req, timeout=5).read().decode()
        self.assertIn("stopgate_submits_rejected_frequency_total 1", body)
        self.assertIn("stopgate_submits_rejected_quiet_hours_total 0",
                      body)

    def test_multi_waiting_for_window_counted_once(self):
        """A submit_multi that waits for window space is decided again
        when there is room: its destinations count once."""
        def ed(cfg):
            cfg["upstreams"][0]["window"] = 1
        self.start(edit=ed)
        mk = self.client()
        self.ctl.ok("pause")
        first = mk.submit_async("12345", "16665550001", b"sale 0")
        harness.wait_until(lambda: self.ctl.stats()["held"] >= 1,
                           what="the window full at the SMSC")
        seq = mk.send(smpp.SUBMIT_MULTI, smpp.submit_multi_body(
            "12345", [SUB], b"sale multi"))
        # Decided, and put back to wait for the window.
        time.sleep(0.5)
        self.ctl.ok("resume")
        self.assertEqual(mk.wait_resp(first, 5).status, 0)
        self.assertEqual(mk.wait_resp(seq, 5).status, 0)
        st = harness.wait_until(
            lambda: (lambda p: p if p["sent"] >= 1 else None)(
                self.status(SUB)["promo"]), timeout=5,
            what="the send counted")
        time.sleep(0.3)     # a second count would be in the same batch
        st = self.status(SUB)["promo"]
        self.assertEqual((st["sent"], st["left"]), (1, 2))
        # The proxy's own count agrees: two more, then the cap.
        self.assertEqual(self.sends(mk, SUB, 3), [0, 0, 0x402])

    def test_multi_part_waiting_for_window_counted_once(self):
        """The same for the first part of a concatenated message: the
        parts count once, and waiting does not make it count none."""
        def ed(cfg):
            cfg["upstreams"][0]["window"] = 1
        self.start(edit=ed)
        mk = self.client()
        self.ctl.ok("pause")
        first = mk.submit_async("12345", "16665550001", b"sale 0")
        harness.wait_until(lambda: self.ctl.stats()["held"] >= 1,
                           what="the window full at the SMSC")
        seq = mk.send(smpp.SUBMIT_MULTI, smpp.submit_multi_body(
            "12345", [SUB], bytes([5, 0, 3, 0x42, 2, 1]) + b"part1",
            esm_class=smpp.ESM_UDHI))
        time.sleep(0.5)
        self.ctl.ok("resume")
        self.assertEqual(mk.wait_resp(first, 5).status, 0)
        self.assertEqual(mk.wait_resp(seq, 5).status, 0)
        self.assertEqual(mk.submit_multi(
            "12345", [SUB], bytes([5, 0, 3, 0x42, 2, 2]) + b"part2",
            esm_class=smpp.ESM_UDHI)[0], 0)
        harness.wait_until(
            lambda: (lambda p: p if p["sent"] >= 1 else None)(
                self.status(SUB)["promo"]), timeout=5,
            what="the message counted")
        time.sleep(0.3)
        st = self.status(SUB)["promo"]
        self.assertEqual((st["sent"], st["left"]), (1, 2))
        self.assertEqual(self.sends(mk, SUB, 3), [0, 0, 0x402])


    def test_part_waiting_for_window_counted_once(self):
        """The first part of a concatenated submit_sm that waits for
        window space counts when it goes: the message counts once, not
        none (the parts after it are not counted again)."""
        def ed(cfg):
            cfg["upstreams"][0]["window"] = 1
        self.start(edit=ed)
        mk = self.client()
        self.ctl.ok("pause")
        first = mk.submit_async("12345", "16665550001", b"sale 0")
        harness.wait_until(lambda: self.ctl.stats()["held"] >= 1,
                           what="the window full at the SMSC")
        seq = mk.submit_async("12345", SUB,
                              bytes([5, 0, 3, 0x43, 2, 1]) + b"part1",
                              esm_class=smpp.ESM_UDHI)
        time.sleep(0.5)
        self.ctl.ok("resume")
        self.assertEqual(mk.wait_resp(first, 5).status, 0)
        self.assertEqual(mk.wait_resp(seq, 5).status, 0)
        self.assertEqual(mk.submit("12345", SUB,
                                   bytes([5, 0, 3, 0x43, 2, 2]) + b"part2",
                                   esm_class=smpp.ESM_UDHI)[0], 0)
        harness.wait_until(
            lambda: (lambda p: p if p["sent"] >= 1 else None)(
                self.status(SUB)["promo"]), timeout=5,
            what="the message counted")
        time.sleep(0.3)
        st = self.status(SUB)["promo"]
        self.assertEqual((st["sent"], st["left"]), (1, 2))
        self.assertEqual(self.sends(mk, SUB, 3), [0, 0, 0x402])

class TestQuietHours(PrefsCase):
    def quiet_edit(self, cfg):
        """Quiet from an hour ago to an hour ahead, in UTC, for numbers
        starting 1555 (a prefix zone); the default zone is nine hours
        off, so other numbers are outside the window."""
        now = time.gmtime()
        m = now.tm_hour * 60 + now.tm_min
        cfg["quiet_hours"] = [{
            "category": "promo",
            "from": "%02d:%02d" % divmod((m - 60) % 1440, 60),
            "to": "%02d:%02d" % divmod((m + 60) % 1440, 60)}]
        cfg["timezones"] = {"default": "Asia/Tokyo",
                            "prefixes": {"1": "Asia/Tokyo",
                                         "1555": "Etc/UTC"}}

    def test_quiet_hours_refused(self):
        self.start(edit=self.quiet_edit)
        mk = self.client()
        self.assertEqual(self.sends(mk, SUB, 1), [0x403])
        # Tokyo is outside the window: allowed.
        self.assertEqual(self.sends(mk, "16665550000", 1), [0])
        # Other categories have no quiet hours.
        fd = self.client("frontdesk", "fdpass1")
        self.assertEqual(self.sends(fd, SUB, 1, "15550100"), [0])
        audit = self.audit(SUB, 1)
        self.assertEqual([(a["status"], a["reason"]) for a in audit],
                         [("0x00000403", "quiet_hours")])
        # HELP is answered inside quiet hours.
        self.push(SUB, "12345", "HELP", via=mk)
        self.assertEqual(self.wait_confirmations(SUB, 1), [HELP])

    def test_check_errors(self):
        """stopgate check: unknown zone, from == to, bad duration, a less
        rule not stricter, an unknown category, each with line:col."""
        path = self.h.write_config(
            "business_name: A\n"
            "default_country_code: \"1\"\n"
            "store: { path: ./s }\n"
            "listeners: [ { bind: \"127.0.0.1:1\" } ]\n"
            "categories: [promo]\n"
            "accounts: [ { system_id: m, password: p,"
            " default_category: promo } ]\n"
            "upstreams: [ { name: c, host: 127.0.0.1, port: 2,"
            " system_id: a, password: b } ]\n"
            "frequency:\n"
            "  - { category: promo, max: 2, per: 1d,"
            " less: { max: 3, per: 1d } }\n"
            "  - { category: nope, max: 2, per: 2w }\n"
            "quiet_hours:\n"
            "  - { category: promo, from: \"21:00\", to: \"21:00\" }\n"
            "timezones: { default: Mars/Olympus }\n", "bad.yaml")
        r = self.h.stopgate_cli("check", "-c", path)
        self.assertEqual(r.returncode, 1)
        err = r.stdout + r.stderr
        for want in ("bad.yaml:9:", "'less' must be stricter",
                     "bad.yaml:10:", "unknown category 'nope'",
                     "'per' must be a duration",
                     "bad.yaml:12:", "same time",
                     "bad.yaml:13:", "unknown time zone 'Mars/Olympus'"):
            self.assertIn(want, err)


if __name__ == "__main__":
    harness.main()
