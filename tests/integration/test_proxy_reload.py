#!/usr/bin/env python3
"""stopgate proxy, SIGHUP: a valid new config is applied without dropping
bound sessions (a new account can bind, a changed password applies to new
binds, routes and upstream settings follow); an invalid one is refused,
logged, and the old config stays in force.
"""

import copy
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
import smpp  # noqa: E402

harness.require(harness.STOPGATE, harness.SMSC_SIM)

SANITIZER_MARKS = ("Sanitizer", "runtime error:")


class TestReload(harness.TestCase):
    def setUp(self):
        super().setUp()
        self.smsc = self.h.start_smsc("-u", "acme", "-w", "secret")
        self.port = self.h.free_port()
        self.cfg = harness.base_config(self.smsc.port, self.port)
        self.cfg["timeouts"] = {"shutdown_ms": 1000}
        self.gw = self.h.start_stopgate(self.cfg)
        harness.wait_until(lambda: self.smsc.ctl().stats()["bound"] >= 1,
                           timeout=10, what="upstream bound")

    def tearDown(self):
        rc = self.gw.stop()
        log = self.gw.log_text()
        self.assertEqual(rc, 0, log[-3000:])
        for m in SANITIZER_MARKS:
            self.assertNotIn(m, log)

    def reload(self, cfg_or_text, expect):
        self.h.write_config(cfg_or_text)
        n = self.gw.log_text().count(expect)
        self.gw.send_signal(signal.SIGHUP)
        harness.wait_until(lambda: self.gw.log_text().count(expect) > n,
                           timeout=5, what=expect)

    def bind(self, system_id, password, kind="trx"):
        c = smpp.Client.connect(self.port)
        self.addCleanup(c.close)
        return c, c.bind(kind, system_id, password)

    def test_valid_reload_keeps_sessions(self):
        old, st = self.bind("marketing", "mkpass1")
        self.assertEqual(st, 0)
        self.assertEqual(self.bind("dispatch", "dpass1")[1], 0x0F)
        new = copy.deepcopy(self.cfg)
        new["accounts"].append({
            "system_id": "dispatch", "password": "dpass1",
            "default_category": "appointments",
            "categories": ["appointments"], "service_types": {}})
        new["accounts"][0]["password"] = "mkpass2"
        new["upstreams"][0]["window"] = 20
        self.reload(new, "event=reloaded")
        d, st = self.bind("dispatch", "dpass1")
        self.assertEqual(st, 0)
        self.assertEqual(d.submit("15550100", "15556660010", b"x")[0], 0)
        # the bound session survived, and still sends
        self.assertEqual(old.submit("12345", "15556660010", b"y")[0], 0)
        self.assertEqual(old.enquire_link(), 0)
        # the new password applies to new binds
        self.assertEqual(self.bind("marketing", "mkpass1")[1], 0x0E)
        self.assertEqual(self.bind("marketing", "mkpass2")[1], 0)
        # the upstream stayed bound the whole time: one bind only
        self.assertEqual(self.smsc.ctl().stats()["binds"], 1)

    def test_invalid_reload_refused(self):
        old, st = self.bind("marketing", "mkpass1")
        self.assertEqual(st, 0)
        self.reload("business_name: [broken\n", "event=reload_refused")
        self.reload(harness.to_yaml(self.cfg) + "bogus: 1\n",
                    "event=reload_refused")
        self.assertIn("event=config_error", self.gw.log_text())
        self.assertEqual(old.submit("12345", "15556660011", b"y")[0], 0)
        self.assertEqual(self.bind("frontdesk", "fdpass1")[1], 0)
        self.assertTrue(self.gw.alive())

    def test_removed_account_sessions_end(self):
        old, st = self.bind("frontdesk", "fdpass1")
        self.assertEqual(st, 0)
        new = copy.deepcopy(self.cfg)
        del new["accounts"][1]
        new["inbound"] = [new["inbound"][0]]
        self.reload(new, "event=reloaded")
        self.assertTrue(old.wait_closed(3))
        self.assertEqual(self.bind("frontdesk", "fdpass1")[1], 0x0F)
        self.assertEqual(self.bind("marketing", "mkpass1")[1], 0)


if __name__ == "__main__":
    harness.main()
