"""Install and run in production (SPEC section 11).

make install into a DESTDIR temp dir puts the binary, both man pages, the
systemd unit, the sysusers.d file and the example config where PREFIX
says; the man pages render without groff warnings and cover every command
(stopgate(8)) and every key of config/REFERENCE.md (stopgate.yaml(5));
the unit passes `systemd-analyze verify` and its `systemd-analyze
security` exposure stays under 2.0 (where systemd-analyze exists); make
uninstall removes everything it installed. Every system call the daemon
makes (traced with strace) is one the unit's SystemCallFilter allows.

The daemon: warns when run as root; refuses to start (exit 1, naming the
file and `chmod o-rwx FILE`) when other users can read a config holding
secrets or a password/token file, while `stopgate check` only warns; a
group-readable file, or one in a directory others cannot enter, is fine;
with NOTIFY_SOCKET set it reports READY=1 once it listens, RELOADING=1 and
READY=1 around SIGHUP, STOPPING=1 on SIGTERM.
"""

import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import time

import harness
import smpp

MAKE_BOUND = 300
TOP = harness.TOP

INSTALLED = [
    "sbin/stopgate",
    "share/man/man8/stopgate.8",
    "share/man/man5/stopgate.yaml.5",
    "lib/systemd/system/stopgate.service",
    "lib/sysusers.d/stopgate.conf",
    "share/doc/stopgate/stopgate.yaml.example",
]


def make(*args):
    return subprocess.run(
        ["make", "--no-print-directory", "-s", "-C", TOP,
         "BUILD=" + harness.BUILD] + list(args),
        capture_output=True, text=True, timeout=MAKE_BOUND)


def files_under(d):
    out = []
    for root, _, names in os.walk(d):
        out.extend(os.path.relpath(os.path.join(root, n), d) for n in names)
    return sorted(out)


def render(page):
    """The page as text through groff with every warning on; returns
    (text, warnings)."""
    r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", page],
                       capture_output=True, timeout=60)
    text = re.sub(r".\x08", "", r.stdout.decode("utf-8", "replace"))
    return text, r.stderr.decode("utf-8", "replace")


def reference_keys():
    """Every key named in the first column of config/REFERENCE.md's
    tables."""
    keys = set()
    with open(os.path.join(TOP, "config", "REFERENCE.md"),
              encoding="utf-8") as f:
        for ln in f:
            m = re.match(r"^\| `([^`]+)`", ln)
            if m:
                keys.update(k.strip() for k in m.group(1).split("/"))
    return keys


class TestInstall(harness.TestCase):
    def install(self, *args):
        r = make(*args)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_install_uninstall_destdir(self):
        dest = self.h.path("root")
        self.install("install", "DESTDIR=" + dest, "PREFIX=/usr/local")
        files = files_under(dest)
        self.assertEqual(files, sorted("usr/local/" + f for f in INSTALLED))
        base = os.path.join(dest, "usr", "local")
        mode = os.stat(os.path.join(base, "sbin", "stopgate")).st_mode
        self.assertEqual(stat.S_IMODE(mode), 0o755)
        r = subprocess.run([os.path.join(base, "sbin", "stopgate"), "--help"],
                           capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        self.assertIn("stopgate run -c FILE", r.stdout)

        unit = open(os.path.join(base, INSTALLED[3])).read()
        for line in ("Type=notify",
                     "ExecStart=/usr/local/sbin/stopgate run -c "
                     "/etc/stopgate/stopgate.yaml",
                     "ExecReload=/bin/kill -HUP $MAINPID",
                     "Restart=on-failure", "User=stopgate",
                     "StateDirectory=stopgate", "CapabilityBoundingSet=\n",
                     "NoNewPrivileges=yes", "ProtectSystem=strict",
                     "ProtectHome=yes", "PrivateTmp=yes",
                     "PrivateDevices=yes", "MemoryDenyWriteExecute=yes",
                     "SystemCallFilter=@system-service"):
            self.assertIn(line, unit)
        self.assertNotIn("@", re.sub(r"SystemCallFilter=.*", "", unit))
        self.assertRegex(unit, r"LimitNOFILE=\d{5,}")
        users = open(os.path.join(base, INSTALLED[4])).read()
        self.assertRegex(users, r"(?m)^u stopgate ")

        # The example config validates, and puts the store in the
        # unit's StateDirectory.
        example = os.path.join(base, INSTALLED[5])
        r = self.h.stopgate_cli("check", "-c", example)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("/var/lib/stopgate/store", open(example).read())

        self.check_man_pages(base)

        self.install("uninstall", "DESTDIR=" + dest, "PREFIX=/usr/local")
        self.assertEqual(files_under(dest), [])

    def check_man_pages(self, base):
        page8 = os.path.join(base, INSTALLED[1])
        page5 = os.path.join(base, INSTALLED[2])
        if shutil.which("groff") is None:
            print("  (groff not installed: man pages not rendered)")
            return
        text8, warn = render(page8)
        self.assertEqual(warn, "", "groff warnings in stopgate.8")
        for word in ("run", "check", "status", "optout add", "optout remove",
                     "history", "audit", "import", "export", "stats",
                     "review list", "review resolve", "SIGHUP", "SIGTERM",
                     "EXIT STATUS", "NOTIFY_SOCKET", "--config", "--format",
                     "--category", "--all", "--source", "--note", "--consent",
                     "--actor", "--since", "--until", "--number",
                     "--account", "--optout", "--dismiss",
                     "/etc/stopgate/stopgate.yaml", "/var/lib/stopgate",
                     "/usr/local/lib/systemd/system/stopgate.service",
                     "CAP_NET_BIND_SERVICE", "chmod o-rwx"):
            self.assertIn(word, text8)
        text5, warn = render(page5)
        self.assertEqual(warn, "", "groff warnings in stopgate.yaml.5")
        flat = re.sub(r"\s+", " ", text5.replace("\u2010\n", ""))
        missing = [k for k in sorted(reference_keys()) if k not in flat]
        self.assertEqual(missing, [], "keys of REFERENCE.md not in the page")
        self.assertNotIn("`", text5)
        self.assertNotIn("@SYSCONFDIR@", text5)
        if shutil.which("man") is not None:
            for page in (page8, page5):
                r = subprocess.run(["man", "--warnings", "-l", page],
                                   capture_output=True, timeout=60,
                                   env=dict(os.environ, MANPAGER="cat",
                                            PAGER="cat", MANWIDTH="80"))
                self.assertEqual(r.returncode, 0)
                self.assertEqual(r.stderr, b"", page)
                self.assertGreater(len(r.stdout), 2000)

    def test_unit_verify_and_security(self):
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze not installed")
        # A PREFIX install (no DESTDIR), so that the unit's ExecStart and
        # its Documentation= man pages exist where the unit says.
        prefix = self.h.path("usr")
        self.install("install", "PREFIX=" + prefix)
        unit = os.path.join(prefix, "lib", "systemd", "system",
                            "stopgate.service")
        env = dict(os.environ, MANPATH=os.path.join(prefix, "share", "man"),
                   SYSTEMD_LOG_COLOR="0")
        r = subprocess.run(["systemd-analyze", "verify", unit],
                           capture_output=True, text=True, timeout=60,
                           env=env, cwd=self.h.dir)
        self.assertEqual((r.returncode, r.stdout + r.stderr), (0, ""))
        r = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                            "--no-pager", unit], capture_output=True,
                           text=True, timeout=60, env=env, cwd=self.h.dir)
        m = re.search(r"Overall exposure level for stopgate\.service: "
                      r"([0-9.]+)", r.stdout + r.stderr)
        if m is None:
            print("  (systemd-analyze security --offline not supported: %s)"
                  % (r.stderr.strip().splitlines() or [""])[-1])
        else:
            print("  systemd-analyze security exposure: %s" % m.group(1))
            self.assertLess(float(m.group(1)), 2.0)
        self.install("uninstall", "PREFIX=" + prefix)
        self.assertEqual(files_under(prefix), [])


def syscall_groups():
    """systemd-analyze's syscall groups, each expanded to its calls."""
    r = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"],
                       capture_output=True, text=True, timeout=60)
    groups, cur = {}, None
    for ln in r.stdout.splitlines():
        s = ln.strip()
        if not s or s.startswith("#"):
            continue
        if ln.startswith("@"):
            cur = groups.setdefault(s, [])
        elif cur is not None:
            cur.append(s)

    def expand(g):
        out = set()
        for x in groups.get(g, []):
            out |= expand(x) if x.startswith("@") else {x}
        return out
    return expand


class TestSyscallFilter(harness.TestCase):
    """Without systemd as PID 1 the unit's SystemCallFilter cannot be run
    here: instead, every system call the daemon makes (under strace:
    start, a send and its receipt, a STOP, the admin API, SIGHUP,
    SIGTERM) must be one the unit allows."""

    def test_daemon_syscalls_allowed_by_unit(self):
        for tool in ("strace", "systemd-analyze"):
            if shutil.which(tool) is None:
                self.skipTest("%s not installed" % tool)
        with open(harness.STOPGATE, "rb") as f:
            binary = f.read()
            if b"__asan_init" in binary or b"__ubsan_handle" in binary:
                self.skipTest("sanitizer build: its runtime's own calls "
                              "are not the product's, and LSan fails "
                              "under ptrace")
        unit = open(os.path.join(TOP, "config", "stopgate.service.in")).read()
        allow = set(re.findall(r"(?m)^SystemCallFilter=(@[\w-]+)$", unit))
        deny = set(re.findall(r"@[\w-]+", " ".join(re.findall(
            r"(?m)^SystemCallFilter=~(.*)$", unit))))
        self.assertEqual(allow, {"@system-service"})
        expand = syscall_groups()
        allowed = set().union(*(expand(g) for g in allow)) - \
            set().union(*(expand(g) for g in deny))
        self.assertGreater(len(allowed), 100)

        admin = self.h.free_port()
        smsc = self.h.start_smsc("-u", "acme", "-w", "secret")
        port = self.h.free_port()
        cfg = harness.base_config(smsc.port, port, admin,
                                  store_path=self.h.path("store"))
        path = self.h.write_config(cfg)
        trace = self.h.path("trace.txt")
        p = self.h.start("strace", ["strace", "-f", "-qq", "-o", trace,
                                    harness.STOPGATE, "run", "-c", path])
        harness.wait_port(port, proc=p)
        harness.wait_until(lambda: smsc.ctl().stats()["bound"] >= 1,
                           harness.START_BOUND, what="upstream bind")
        with open(trace) as f:
            gw_pid = int(f.readline().split()[0])
        r = self.h.esme("-p", port, "-u", "marketing", "-w", "mkpass1",
                        "send", "12345", "15551234567", "hi",
                        "--wait-dlr", "5")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        seq = smsc.ctl().mo("15551234567", "12345", smpp.gsm7_encode("STOP"))
        self.assertEqual(smsc.ctl().wait_resp(seq, 10), 0)
        with socket.create_connection(("127.0.0.1", admin), 5) as c:
            c.sendall(b"GET /metrics HTTP/1.0\r\nAuthorization: Bearer "
                      b"test-token\r\n\r\n")
            self.assertIn(b"200", c.recv(100))
        os.kill(gw_pid, signal.SIGHUP)
        harness.wait_until(lambda: "event=reloaded" in p.log_text() or
                           "event=reloaded" in open(trace).read(), 10,
                           what="reload")
        os.kill(gw_pid, signal.SIGTERM)
        self.assertEqual(p.wait(20), 0)
        used = set()
        with open(trace) as f:
            for ln in f:
                m = re.match(r"^\d+ +(\w+)\(", ln)
                if m:
                    used.add(m.group(1))
        self.assertGreater(len(used), 20)
        self.assertEqual(sorted(used - allowed), [])


class TestRunChecks(harness.TestCase):
    def start_run(self, cfg_path, env=None):
        return self.h.start("stopgate", [harness.STOPGATE, "run", "-c",
                                         cfg_path], env=env)

    def exposed_config(self, cfg, mode, name="stopgate.yaml"):
        """cfg written in a directory every user can enter."""
        d = self.h.path("public")
        os.makedirs(d, exist_ok=True)
        os.chmod(self.h.dir, 0o755)
        os.chmod(d, 0o755)
        p = os.path.join(d, name)
        with open(p, "w") as f:
            f.write(harness.to_yaml(cfg) if isinstance(cfg, dict) else cfg)
        os.chmod(p, mode)
        return p

    def assert_refused(self, cfg_path, secret_path):
        p = self.start_run(cfg_path)
        self.assertEqual(p.wait(10), 1)
        log = p.log_text()
        self.assertIn("event=start_failed reason=permissions", log)
        self.assertIn("%s" % secret_path, log)
        self.assertIn("chmod o-rwx %s" % secret_path, log)
        r = self.h.stopgate_cli("check", "-c", cfg_path)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("warning: ", r.stderr)
        self.assertIn("chmod o-rwx %s" % secret_path, r.stderr)

    def assert_starts(self, cfg_path, port):
        p = self.start_run(cfg_path)
        harness.wait_port(port, proc=p)
        self.assertEqual(p.stop(), 0)
        r = self.h.stopgate_cli("check", "-c", cfg_path)
        self.assertEqual((r.returncode, r.stderr), (0, ""))

    def test_world_readable_config_with_passwords(self):
        port = self.h.free_port()
        cfg = harness.base_config(self.h.free_port(), port,
                                  store_path=self.h.path("store"))
        path = self.exposed_config(cfg, 0o644)
        self.assert_refused(path, path)
        os.chmod(path, 0o640)           # group read is allowed
        self.assert_starts(path, port)

    def test_private_directory_is_enough(self):
        # Every other test relies on this: a 0644 file in a 0700 temp dir.
        port = self.h.free_port()
        cfg = harness.base_config(self.h.free_port(), port,
                                  store_path=self.h.path("store"))
        path = self.h.write_config(cfg)
        os.chmod(path, 0o644)
        self.assertEqual(stat.S_IMODE(os.stat(self.h.dir).st_mode), 0o700)
        self.assert_starts(path, port)

    def test_secret_files(self):
        port = self.h.free_port()
        cfg = harness.base_config(self.h.free_port(), port,
                                  self.h.free_port(),
                                  store_path=self.h.path("store"))
        for a in cfg["accounts"]:
            del a["password"]
            a["password_env"] = "SG_TEST_PW"
        del cfg["upstreams"][0]["password"]
        cfg["upstreams"][0]["password_file"] = "carrier.pw"
        del cfg["admin"]["token"]
        cfg["admin"]["token_file"] = "admin.token"
        os.environ["SG_TEST_PW"] = "mkpass1"
        self.addCleanup(os.environ.pop, "SG_TEST_PW", None)
        # No secret in the config itself: it may be world-readable.
        path = self.exposed_config(cfg, 0o644)
        pw = self.exposed_config("secret\n", 0o644, "carrier.pw")
        tok = self.exposed_config("test-token\n", 0o600, "admin.token")
        self.assert_refused(path, pw)
        os.chmod(pw, 0o600)
        os.chmod(tok, 0o604)
        self.assert_refused(path, tok)
        os.chmod(tok, 0o600)
        self.assert_starts(path, port)

    def test_root_warning(self):
        port = self.h.free_port()
        cfg = harness.base_config(self.h.free_port(), port,
                                  store_path=self.h.path("store"))
        p = self.h.start_stopgate(cfg)
        self.assertEqual(p.stop(), 0)
        if os.geteuid() == 0:
            self.assertIn("event=running_as_root", p.log_text())
        else:
            self.assertNotIn("event=running_as_root", p.log_text())

    def test_notify(self):
        sock_path = self.h.path("notify.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(s.close)
        s.bind(sock_path)
        s.settimeout(10)
        port = self.h.free_port()
        cfg = harness.base_config(self.h.free_port(), port,
                                  store_path=self.h.path("store"))
        path = self.h.write_config(cfg)
        p = self.start_run(path, env=dict(os.environ,
                                          NOTIFY_SOCKET=sock_path))
        msg = s.recv(4096).decode()
        self.assertIn("READY=1", msg)
        self.assertIn("MAINPID=%d" % p.pid, msg)
        self.assertTrue(harness.port_open(port))    # listening by then
        p.send_signal(signal.SIGHUP)
        self.assertIn("RELOADING=1", s.recv(4096).decode())
        self.assertIn("READY=1", s.recv(4096).decode())
        with smpp.Client.connect(port) as c:
            self.assertIsNotNone(c)
        p.send_signal(signal.SIGTERM)
        self.assertIn("STOPPING=1", s.recv(4096).decode())
        self.assertEqual(p.wait(10), 0)
        # An abstract socket name ("@...") works too.
        a = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.addCleanup(a.close)
        name = "stopgate-test-%d-%d" % (os.getpid(), int(time.time()))
        a.bind("\0" + name)
        a.settimeout(10)
        p = self.start_run(path, env=dict(os.environ,
                                          NOTIFY_SOCKET="@" + name))
        self.assertIn("READY=1", a.recv(4096).decode())
        self.assertEqual(p.stop(), 0)


if __name__ == "__main__":
    harness.require(harness.STOPGATE)
    harness.main()
