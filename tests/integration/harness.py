"""Helpers for stopgate's integration tests.

    import harness, smpp

    class T(harness.TestCase):
        def test_bind(self):
            smsc = self.h.start_smsc()                      # smsc_sim
            cfg = harness.base_config(smsc.port, self.h.free_port(), ...)
            gw = self.h.start_stopgate(cfg)                 # waits for ports
            with smpp.Client.connect(gw.port) as c:
                self.assertEqual(c.bind("trx", "marketing", "mkpass1"), 0)

    if __name__ == "__main__":
        harness.main()

Rules kept here so every test file follows them: everything binds to
127.0.0.1; every wait is bounded; only processes this module started are
signalled, by pid (SIGTERM, then SIGKILL after a bound); each test gets a
temp dir holding its config, store and process logs, printed (with the
logs) when the test fails and removed when it passes (kept if
KEEP_TMP=1). harness.main() runs unittest and ends with 'N passed,
N failed', exiting 1 on any failure.

Environment: BUILD (build tree, default "build", relative to the top of the
checkout), STOPGATE_TOP (top of the checkout; default found from this file).
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.dont_write_bytecode = True  # keep __pycache__ out of the tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smpp  # noqa: E402

TOP = os.environ.get("STOPGATE_TOP") or os.path.dirname(
    os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(TOP, os.environ.get("BUILD", "build"))
STOPGATE = os.path.join(BUILD, "stopgate")
SMSC_SIM = os.path.join(BUILD, "tools", "smsc_sim")
ESME = os.path.join(BUILD, "tools", "esme")

STOP_BOUND = 10.0      # seconds between SIGTERM and SIGKILL
START_BOUND = 10.0     # seconds for a process to open its ports


class HarnessError(Exception):
    pass


# --- ports -----------------------------------------------------------------

_given_ports = set()


def free_port():
    """A TCP port on 127.0.0.1 that was free just now (never the same one
    twice in this process)."""
    for _ in range(100):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if port not in _given_ports:
            _given_ports.add(port)
            return port
    raise HarnessError("no free port")


def free_ports(n):
    return [free_port() for _ in range(n)]


def port_open(port, host="127.0.0.1"):
    try:
        socket.create_connection((host, port), timeout=0.5).close()
        return True
    except OSError:
        return False


def wait_port(port, timeout=START_BOUND, proc=None, host="127.0.0.1"):
    """Wait until port accepts a connection. If proc (a Proc) exits first,
    raise with its log tail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(port, host):
            return
        if proc is not None and proc.popen.poll() is not None:
            raise HarnessError("%s exited (%s) before opening port %d:\n%s" %
                               (proc.name, proc.popen.returncode, port,
                                proc.log_tail()))
        time.sleep(0.05)
    raise HarnessError("port %d not open after %.1fs" % (port, timeout))


def wait_until(pred, timeout=5.0, interval=0.05, what="condition"):
    """Poll pred() until true; returns its value or raises HarnessError."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise HarnessError("timed out waiting for %s" % what)
        time.sleep(interval)


# --- YAML ------------------------------------------------------------------

def _yaml_scalar(v):
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    # A JSON string is a valid YAML double-quoted scalar.
    return json.dumps(str(v), ensure_ascii=False)


def _yaml_lines(v, indent):
    pad = "  " * indent
    out = []
    if isinstance(v, dict):
        if not v:
            return [pad + "{}"]
        for k, x in v.items():
            key = str(k)
            if isinstance(x, (dict, list)) and x:
                out.append("%s%s:" % (pad, key))
                out += _yaml_lines(x, indent + 1)
            elif isinstance(x, dict):
                out.append("%s%s: {}" % (pad, key))
            elif isinstance(x, list):
                out.append("%s%s: []" % (pad, key))
            else:
                out.append("%s%s: %s" % (pad, key, _yaml_scalar(x)))
    elif isinstance(v, list):
        for x in v:
            if isinstance(x, (dict, list)) and x:
                sub = _yaml_lines(x, indent + 1)
                out.append(pad + "- " + sub[0].lstrip())
                out += sub[1:]
            else:
                out.append(pad + "- " + (_yaml_scalar(x) if not isinstance(
                    x, (dict, list)) else ("{}" if isinstance(x, dict)
                                           else "[]")))
    else:
        out.append(pad + _yaml_scalar(v))
    return out


def to_yaml(v):
    """Block-style YAML for dicts/lists/scalars (strings always quoted)."""
    return "\n".join(_yaml_lines(v, 0)) + "\n"


def base_config(upstream_port, listen_port, admin_port=None,
                store_path="./var/stopgate"):
    """The SPEC section 2 example as a dict, wired to the given ports.
    Tests edit it before write_config()."""
    cfg = {
        "business_name": "Acme Clinic",
        "default_country_code": "1",
        "store": {"path": store_path},
        "listeners": [{"bind": "127.0.0.1:%d" % listen_port}],
        "categories": [
            "promo",
            {"name": "appointments", "keywords": ["APPT"]},
            "billing",
        ],
        "accounts": [
            {"system_id": "marketing", "password": "mkpass1",
             "default_category": "promo", "categories": ["promo"],
             "service_types": {}},
            {"system_id": "frontdesk", "password": "fdpass1",
             "default_category": "appointments",
             "categories": ["appointments", "billing"],
             "service_types": {"BILL": "billing"}},
        ],
        "upstreams": [
            {"name": "carrier", "host": "127.0.0.1", "port": upstream_port,
             "system_id": "acme", "password": "secret",
             "bind": "transceiver", "sessions": 1, "window": 50,
             "tls": False},
        ],
        "routes": [{"upstream": "carrier"}],
        "inbound": [
            {"number": "12345", "account": "marketing",
             "stop_scope": ["promo"]},
            {"number": "15550100", "account": "frontdesk",
             "stop_scope": "all"},
        ],
        "rejection": {"command_status": 0x401},
    }
    if admin_port is not None:
        cfg["admin"] = {"bind": "127.0.0.1:%d" % admin_port,
                        "token": "test-token"}
    return cfg


# --- processes -------------------------------------------------------------

class Proc:
    """A process we started: name, popen, pid, log path."""

    def __init__(self, name, argv, log_path, cwd=None, env=None):
        self.name = name
        self.argv = argv
        self.log_path = log_path
        self.log = open(log_path, "wb")
        self.popen = subprocess.Popen(argv, stdout=self.log,
                                      stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, cwd=cwd,
                                      env=env)
        self.pid = self.popen.pid

    def alive(self):
        return self.popen.poll() is None

    def send_signal(self, sig):
        """Send sig to our child only (by pid), if it still runs."""
        if self.popen.poll() is None:
            os.kill(self.pid, sig)

    def stop(self, bound=STOP_BOUND, sig=signal.SIGTERM):
        """SIGTERM (or sig), wait up to bound seconds, then SIGKILL.
        Returns the exit status (negative for a signal)."""
        if self.popen.poll() is None:
            try:
                os.kill(self.pid, sig)
                self.popen.wait(bound)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait(5)
            except ProcessLookupError:
                pass
        if not self.log.closed:
            self.log.close()
        return self.popen.returncode

    def kill9(self):
        """SIGKILL now (crash tests)."""
        return self.stop(bound=0.1, sig=signal.SIGKILL)

    def wait(self, timeout):
        return self.popen.wait(timeout)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log_tail(self, n=40):
        return "\n".join(self.log_text().splitlines()[-n:])


class Smsc(Proc):
    """A running smsc_sim; port (SMPP) and ctl_port (control)."""

    def __init__(self, argv, log_path, port, ctl_port):
        super().__init__("smsc_sim", argv, log_path)
        self.port = port
        self.ctl_port = ctl_port
        self._ctl = None

    def ctl(self):
        if self._ctl is None:
            self._ctl = Control(self.ctl_port)
        return self._ctl

    def stop(self, bound=STOP_BOUND, sig=signal.SIGTERM):
        if self._ctl is not None:
            self._ctl.close()
            self._ctl = None
        return super().stop(bound, sig)


class Control:
    """Client for smsc_sim's control port (one text line per command).

    Replies end with a line starting 'ok' or 'err'; 'resp SEQ STATUS' lines
    (answers to pushed deliver_sm) may arrive at any time and are collected
    in self.resps {seq: status or 'closed'}."""

    def __init__(self, port, timeout=5.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout)
        self.buf = b""
        self.timeout = timeout
        self.resps = {}

    def _line(self, deadline):
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise smpp.Timeout("control: no reply")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise smpp.Timeout("control: no reply")
            if not chunk:
                raise smpp.Closed("control connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode("latin-1").rstrip("\r")

    def _note(self, line):
        parts = line.split()
        if len(parts) >= 3 and parts[0] == "resp":
            st = parts[2]
            self.resps[int(parts[1])] = st if st == "closed" else int(st, 0)
            return True
        return False

    def cmd(self, line, timeout=None):
        """Send one command; returns (list of data lines, final ok/err line).
        Raises HarnessError on 'err'."""
        self.sock.sendall(line.encode("latin-1") + b"\n")
        deadline = time.monotonic() + (timeout or self.timeout)
        data = []
        while True:
            ln = self._line(deadline)
            if self._note(ln):
                continue
            if ln.startswith("ok"):
                return data, ln
            if ln.startswith("err"):
                raise HarnessError("smsc_sim %r: %s" % (line, ln))
            data.append(ln)

    def ok(self, line):
        return self.cmd(line)[1]

    def mo(self, src, dst, data, dcs=0, *opts):
        """Push an MO deliver_sm; data is bytes (or str, encoded per dcs by
        smpp.text_encode). Returns its sequence number."""
        if isinstance(data, str):
            data = smpp.text_encode(data, dcs)
        hx = data.hex() or "-"
        _, ln = self.cmd(" ".join(["mo", src, dst, "0x%x" % dcs, hx] +
                                  list(opts)))
        return int(ln.split()[1])

    def wait_resp(self, seq, timeout=5.0):
        """Status of the deliver_sm_resp for a pushed PDU (or 'closed')."""
        deadline = time.monotonic() + timeout
        while seq not in self.resps:
            self._note(self._line(deadline))
        return self.resps.pop(seq)

    def stats(self):
        """dict of counters."""
        _, ln = self.cmd("stats")
        out = {}
        for kv in ln.split()[1:]:
            k, _, v = kv.partition("=")
            out[k] = int(v, 0) if v.lstrip("-").isdigit() or \
                v.startswith("0x") else v
        return out

    def last(self, n=1):
        """Last n submits received (oldest first), as dicts: cmd, src, dst
        (comma-joined for submit_multi), dcs, data (bytes: short_message or
        message_payload), service_type, seq (int), system_id, esm, rd, id,
        status (strings, hex where numeric), tlvs (wire-form hex)."""
        data, _ = self.cmd("last %d" % n)
        out = []
        for ln in data:
            p = ln.split()
            if not p or p[0] != "submit":
                continue
            d = {"src": _dash(p[1]), "dst": _dash(p[2]),
                 "dcs": int(p[3], 0),
                 "data": bytes.fromhex(_dash(p[4])),
                 "service_type": _dash(p[5])}
            for kv in p[6:]:
                k, _, v = kv.partition("=")
                d[k] = _dash(v)
            if "seq" in d:
                d["seq"] = int(d["seq"])
            out.append(d)
        return out

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _dash(s):
    return "" if s == "-" else s


# --- per-test harness ------------------------------------------------------

class Harness:
    """Owns one test's temp dir and the processes it starts."""

    def __init__(self, name="test"):
        self.dir = tempfile.mkdtemp(prefix="stopgate-it-%s-" %
                                    name.split(".")[-1][:40])
        self.procs = []

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    @staticmethod
    def free_port():
        return free_port()

    def write_config(self, cfg, name="stopgate.yaml"):
        """cfg: YAML text or a dict (see base_config). Returns the path."""
        text = cfg if isinstance(cfg, str) else to_yaml(cfg)
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        return p

    def start_smsc(self, *args, port=None, ctl_port=None, wait=True):
        """Start smsc_sim with extra args (e.g. "-u", "acme", "-w",
        "secret", "-d", "200"). Returns an Smsc."""
        port = port or free_port()
        ctl_port = ctl_port or free_port()
        argv = [SMSC_SIM, "-a", "127.0.0.1", "-p", str(port),
                "-c", str(ctl_port)] + [str(a) for a in args]
        p = Smsc(argv, self.path("smsc_sim-%d.log" % port), port, ctl_port)
        self.procs.append(p)
        if wait:
            wait_port(port, proc=p)
            wait_port(ctl_port, proc=p)
        return p

    def start_stopgate(self, cfg, ports=None, args=(), name="stopgate",
                       wait=True, wrap=()):
        """Start `stopgate run -c CONFIG`. cfg is a path, YAML text or a
        dict; ports to wait for default to the dict's listeners (and admin).
        The Proc gets .config (path) and .port (first listener). wrap is
        a command that execs the rest (e.g. prlimit), so the pid stays
        stopgate's."""
        if isinstance(cfg, str) and os.path.exists(cfg):
            path = cfg
        else:
            path = self.write_config(cfg)
        if ports is None:
            ports = []
            if isinstance(cfg, dict):
                for ln in cfg.get("listeners", []):
                    ports.append(int(str(ln["bind"]).rsplit(":", 1)[1]))
                if "admin" in cfg:
                    ports.append(int(str(cfg["admin"]["bind"])
                                     .rsplit(":", 1)[1]))
        argv = list(wrap) + [STOPGATE, "run", "-c", path] + list(args)
        p = Proc(name, argv, self.path("%s-%d.log" % (name, len(self.procs))),
                 cwd=self.dir)
        p.config = path
        p.port = ports[0] if ports else None
        self.procs.append(p)
        if wait:
            for port in ports:
                wait_port(port, proc=p)
        return p

    def start_stack(self, edit=None, smsc_args=(), admin=False,
                    wait_bound=True):
        """smsc_sim (credentials acme/secret, as in base_config) plus
        stopgate on base_config wired to it, store in the temp dir. edit(cfg)
        may change the dict first. Waits until stopgate has bound upstream
        (wait_bound). Returns (smsc, gw, cfg); gw.port is the listener."""
        smsc = self.start_smsc("-u", "acme", "-w", "secret", *smsc_args)
        cfg = base_config(smsc.port, free_port(),
                          free_port() if admin else None,
                          store_path=self.path("store"))
        if edit is not None:
            edit(cfg)
        gw = self.start_stopgate(cfg)
        if wait_bound:
            wait_until(lambda: smsc.ctl().stats()["bound"] >= 1, START_BOUND,
                       what="stopgate to bind upstream")
            # The simulator counts the bind as it answers it: stopgate
            # may not have read the answer yet (a send then gets 0x58).
            wait_until(lambda: "event=available" in gw.log_text(),
                       START_BOUND, what="stopgate to see its upstream bound")
        return smsc, gw, cfg

    def start(self, name, argv, cwd=None, env=None):
        """Start any other process (recorded, stopped with the rest)."""
        p = Proc(name, list(argv), self.path("%s-%d.log" %
                                             (name, len(self.procs))),
                 cwd=cwd or self.dir, env=env)
        self.procs.append(p)
        return p

    def stopgate_cli(self, *args, timeout=30, input=None):
        """Run `stopgate ARGS...` to completion (CLI subcommands). Returns
        subprocess.CompletedProcess with text stdout/stderr."""
        # Invalid UTF-8 in the output shows up as U+FFFD for the test to
        # catch, instead of an exception here.
        return subprocess.run([STOPGATE] + [str(a) for a in args],
                              capture_output=True, encoding="utf-8",
                              errors="replace", timeout=timeout,
                              cwd=self.dir, input=input)

    def esme(self, *args, timeout=30):
        """Run build/tools/esme to completion."""
        return subprocess.run([ESME] + [str(a) for a in args],
                              capture_output=True, encoding="utf-8",
                              errors="replace", timeout=timeout,
                              cwd=self.dir)

    def stop_all(self):
        for p in reversed(self.procs):
            p.stop()

    def dump_logs(self, out=sys.stderr):
        out.write("\n--- logs in %s\n" % self.dir)
        for p in self.procs:
            out.write("--- %s (pid %d, exit %s): %s\n" %
                      (p.name, p.pid, p.popen.returncode, " ".join(p.argv)))
            out.write(p.log_tail(80) + "\n")

    def remove(self):
        if os.environ.get("KEEP_TMP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)


SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                   "runtime error:", "WARNING: ThreadSanitizer")


class TestCase(unittest.TestCase):
    """unittest.TestCase with self.h, a Harness stopped after each test.
    A process whose log shows an ASan/UBSan/LSan report fails the test
    (make check runs this suite on a sanitizer build)."""

    def setUp(self):
        self.h = Harness(self.id())
        # Cleanups run last-in first-out: stop everything, then look.
        self.addCleanup(self._check_sanitizers)
        self.addCleanup(self.h.stop_all)

    def _check_sanitizers(self):
        for p in self.h.procs:
            text = p.log_text()
            for mark in SANITIZER_MARKS:
                if mark in text:
                    self.fail("%s (pid %d) reported %r; log: %s" %
                              (p.name, p.pid, mark, p.log_path))


# --- runner ----------------------------------------------------------------

class _Result(unittest.TextTestResult):
    def _harness_done(self, test, ok):
        h = getattr(test, "h", None)
        if not isinstance(h, Harness):
            return
        h.stop_all()
        if ok:
            h.remove()
        else:
            h.dump_logs(self.stream)

    def addSuccess(self, test):
        super().addSuccess(test)
        self._harness_done(test, True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        self._harness_done(test, False)

    def addError(self, test, err):
        super().addError(test, err)
        self._harness_done(test, False)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        self._harness_done(test, True)


def require(*paths):
    """Skip the whole file (exit 0 with a note) if a binary is missing."""
    missing = [p for p in paths if not os.access(p, os.X_OK)]
    if missing:
        print("skipped: not built: %s" % " ".join(missing))
        sys.exit(0)


def main(module="__main__"):
    """Run the module's unittest tests, print 'N passed, N failed', exit 1
    on any failure or error. argv may name tests (unittest syntax)."""
    prog = unittest.main(module=module, exit=False, verbosity=2,
                         testRunner=unittest.TextTestRunner(
                             resultclass=_Result, verbosity=2,
                             stream=sys.stdout))
    r = prog.result
    bad = len(r.failures) + len(r.errors)
    good = r.testsRun - bad - len(r.skipped)
    name = os.path.basename(sys.argv[0])
    print("%s: %d passed, %d failed%s" % (name, good, bad,
          ", %d skipped" % len(r.skipped) if r.skipped else ""))
    sys.exit(1 if bad or r.testsRun == 0 else 0)


# --- command line: talk to a running smsc_sim -------------------------------

def _cli(argv):
    """python3 tests/integration/harness.py [-c CTL_PORT] mo FROM TO TEXT
       python3 tests/integration/harness.py [-c CTL_PORT] ctl COMMAND...
    mo: a subscriber's message (GSM 7-bit, else UCS-2) from the simulator
    (make run's is on control port 2777); prints the deliver_sm_resp status.
    ctl: any control command (see tests/tools/smsc_sim.c); prints the
    reply."""
    port = 2777
    if len(argv) >= 2 and argv[0] == "-c":
        port = int(argv[1])
        argv = argv[2:]
    if len(argv) == 4 and argv[0] == "mo":
        try:
            dcs, data = 0, smpp.gsm7_encode(argv[3])
        except ValueError:
            dcs, data = 8, argv[3].encode("utf-16-be")
        ctl = Control(port)
        seq = ctl.mo(argv[1], argv[2], data, dcs)
        st = ctl.wait_resp(seq, 10)
        print("deliver_sm seq=%d answered %s" %
              (seq, st if st == "closed" else "status=0x%08x" % st))
        return 0 if st == 0 else 1
    if len(argv) >= 2 and argv[0] == "ctl":
        data, last = Control(port).cmd(" ".join(argv[1:]))
        print("\n".join(data + [last]))
        return 0
    print(_cli.__doc__.strip(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    try:
        sys.exit(_cli(sys.argv[1:]))
    except (OSError, smpp.Error, HarnessError) as e:
        print("harness: %s" % e, file=sys.stderr)
        sys.exit(2)
