#!/usr/bin/env python3
"""Admin API clients for the proxy bench's G9 (tests/bench/README.md).

  admin_load.py audit PORT TOKEN ACCOUNT SECONDS
      GET /v1/audit?account=ACCOUNT&limit=100 in a loop, one request at a
      time on one keep-alive connection, for SECONDS.
  admin_load.py optouts PORT TOKEN FIRST COUNT
      POST /v1/optouts for FIRST, FIRST+1, ... (COUNT numbers, "all"
      categories), one at a time, timing each.
  admin_load.py wait PORT TOKEN METRIC VALUE TIMEOUT
      until /metrics shows METRIC >= VALUE and stopgate_writer_pending 0
      (exit 1 after TIMEOUT seconds).
  admin_load.py settle PORT TOKEN TIMEOUT
      until the store writer is idle: nothing pending and every forwarded
      submit's sent-log record merged; prints the seconds it took (exit 1
      after TIMEOUT seconds).

audit and optouts print one "key=value" line: requests, errors, p50 and max
in ms, and (optouts) which request (1-based) was the slowest. Exit status 0
when every request succeeded.
"""
import http.client
import json
import sys
import time


class Client:
    def __init__(self, port, token):
        self.port = int(port)
        self.headers = {"Authorization": "Bearer " + token}
        self.conn = None

    def request(self, method, path, body=None):
        """(status, body); status 0 on a connection error."""
        headers = dict(self.headers)
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        for _ in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(
                        "127.0.0.1", self.port, timeout=300)
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                return resp.status, resp.read()
            except (OSError, http.client.HTTPException):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
        return 0, b""


def quantile(xs, q):
    if not xs:
        return 0.0
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def report(mode, times, errors, extra=""):
    ms = [t * 1e3 for t in times]
    print("admin_load mode=%s requests=%d errors=%d p50_ms=%.3f "
          "max_ms=%.3f%s" % (mode, len(ms), errors, quantile(ms, 0.5),
                             max(ms) if ms else 0.0, extra))
    sys.stdout.flush()
    return 0 if errors == 0 and ms else 1


def run_audit(c, account, secs):
    path = "/v1/audit?account=%s&limit=100" % account
    times, errors = [], 0
    end = time.monotonic() + float(secs)
    while time.monotonic() < end:
        t0 = time.monotonic()
        status, _ = c.request("GET", path)
        times.append(time.monotonic() - t0)
        if status != 200:
            errors += 1
    return report("audit", times, errors)


def run_optouts(c, first, count):
    times, errors = [], 0
    for i in range(int(count)):
        body = {"number": str(int(first) + i), "all": True,
                "note": "bench G9b", "actor": "bench"}
        t0 = time.monotonic()
        status, _ = c.request("POST", "/v1/optouts", body)
        times.append(time.monotonic() - t0)
        if status != 201:
            errors += 1
    slowest = times.index(max(times)) + 1 if times else 0
    return report("optouts", times, errors, " slowest=%d" % slowest)


def metrics(c):
    status, body = c.request("GET", "/metrics")
    if status != 200:
        return {}
    m = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            k, _, v = line.rpartition(" ")
            try:
                m[k] = float(v)
            except ValueError:
                pass
    return m


def run_wait(c, name, value, timeout):
    end = time.monotonic() + float(timeout)
    while time.monotonic() < end:
        m = metrics(c)
        if (m.get(name, -1) >= float(value) and
                m.get("stopgate_writer_pending", 1) == 0):
            return 0
        time.sleep(0.5)
    print("admin_load: %s did not reach %s in %s s" % (name, value, timeout),
          file=sys.stderr)
    return 1


def run_settle(c, timeout):
    t0 = time.monotonic()
    end = t0 + float(timeout)
    m = {}
    while time.monotonic() < end:
        m = metrics(c)
        if (m.get("stopgate_writer_pending", 1) == 0 and
                m.get("stopgate_sentlog_merged_total", -1) >=
                m.get("stopgate_submits_forwarded_total", 0)):
            print("settled_s=%.1f" % (time.monotonic() - t0))
            return 0
        time.sleep(0.5)
    print("settled_s=%.1f not_settled merged=%.0f forwarded=%.0f" % (
        time.monotonic() - t0, m.get("stopgate_sentlog_merged_total", -1),
        m.get("stopgate_submits_forwarded_total", -1)))
    return 1


def main(argv):
    if len(argv) < 4 or argv[1] not in ("audit", "optouts", "wait",
                                        "settle"):
        print(__doc__, file=sys.stderr)
        return 2
    c = Client(argv[2], argv[3])
    if argv[1] == "audit" and len(argv) == 6:
        return run_audit(c, argv[4], argv[5])
    if argv[1] == "optouts" and len(argv) == 6:
        return run_optouts(c, argv[4], argv[5])
    if argv[1] == "wait" and len(argv) == 7:
        return run_wait(c, argv[4], argv[5], argv[6])
    if argv[1] == "settle" and len(argv) == 5:
        return run_settle(c, argv[4])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
