"""A throwaway PostgreSQL 15 server for the cluster tests (SPEC section 8).

PgServer(dir=None).start() runs `initdb` into a fresh temp dir (as the
`postgres` user through runuser when we are root, since the server refuses
to run as root; as the current user otherwise), starts `postgres` on a free
127.0.0.1 port with its unix sockets in the temp dir, and creates the
database `stopgate`. stop() / kill9() end it by its pid only; start() again
reuses the same data directory (a restart). sql() runs a query through
psql and returns its rows.
"""

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time

from harness import free_port, wait_until

PG_BIN = os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin")
PSQL = shutil.which("psql") or os.path.join(PG_BIN, "psql")


def available():
    return os.path.exists(os.path.join(PG_BIN, "postgres")) and \
        os.path.exists(os.path.join(PG_BIN, "initdb"))


class PgServer:
    def __init__(self, dbname="stopgate", base=None):
        """base: the folder its temp dir goes in (None: the default)."""
        self.dir = tempfile.mkdtemp(prefix="stopgate-pg-", dir=base)
        os.chmod(self.dir, 0o755)
        self.data = os.path.join(self.dir, "data")
        self.dbname = dbname
        self.port = free_port()
        self.proc = None
        self.log_path = os.path.join(self.dir, "postgres.log")
        self.user = None
        if os.geteuid() == 0:
            self.user = "postgres"
            pw = pwd.getpwnam(self.user)
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self._initdb()

    def _as_user(self, argv):
        if self.user is None:
            return argv
        return ["runuser", "-u", self.user, "--"] + argv

    def _initdb(self):
        subprocess.run(self._as_user(
            [os.path.join(PG_BIN, "initdb"), "-D", self.data, "-U",
             "postgres", "--auth=trust", "-E", "UTF8", "--no-locale",
             "--no-sync"]), check=True, capture_output=True, timeout=120)

    @property
    def conninfo(self):
        return ("host=127.0.0.1 port=%d dbname=%s user=postgres "
                "connect_timeout=3" % (self.port, self.dbname))

    def start(self, create=True):
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self._as_user(
            [os.path.join(PG_BIN, "postgres"), "-D", self.data,
             "-p", str(self.port), "-c", "listen_addresses=127.0.0.1",
             "-c", "unix_socket_directories=" + self.dir,
             "-c", "fsync=off", "-c", "max_connections=50"]),
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        log.close()
        wait_until(self._ready, timeout=30, what="postgres to accept")
        if create and not self.sql("SELECT 1 FROM pg_database WHERE "
                                   "datname = '%s'" % self.dbname,
                                   db="postgres"):
            self.sql("CREATE DATABASE %s" % self.dbname, db="postgres")
        return self

    def _ready(self):
        if self.proc.poll() is not None:
            raise RuntimeError("postgres exited: %s" % self.log_tail())
        r = subprocess.run([PSQL, "-h", "127.0.0.1", "-p", str(self.port),
                            "-U", "postgres", "-d", "postgres", "-Atc",
                            "SELECT 1"], capture_output=True, timeout=10)
        return r.returncode == 0

    def sql(self, query, db=None):
        """Rows of query as lists of strings ('|'-separated by psql)."""
        r = subprocess.run([PSQL, "-h", "127.0.0.1", "-p", str(self.port),
                            "-U", "postgres", "-d", db or self.dbname,
                            "-v", "ON_ERROR_STOP=1", "-Atc", query],
                           capture_output=True, encoding="utf-8",
                           timeout=30)
        if r.returncode != 0:
            raise RuntimeError("psql: %s" % r.stderr)
        return [ln.split("|") for ln in r.stdout.splitlines() if ln]

    def _pid(self):
        # runuser forks postgres as its child: signal the postmaster by
        # the pid it wrote, never by name.
        try:
            with open(os.path.join(self.data, "postmaster.pid")) as f:
                return int(f.readline())
        except (OSError, ValueError):
            return None

    def stop(self, sig=signal.SIGINT, bound=30):
        """Fast shutdown (SIGINT) of the postmaster; wait for it."""
        if self.proc is None or self.proc.poll() is not None:
            return
        pid = self._pid()
        if pid is not None:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        try:
            self.proc.wait(bound)
        except subprocess.TimeoutExpired:
            pid = self._pid()
            if pid is not None:
                os.kill(pid, signal.SIGKILL)
            self.proc.kill()
            self.proc.wait(5)
        # The postmaster's children end with it; wait for its pid file.
        deadline = time.time() + 10
        while os.path.exists(os.path.join(self.data, "postmaster.pid")) \
                and time.time() < deadline and sig != signal.SIGKILL:
            time.sleep(0.05)

    def log_tail(self, n=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def remove(self):
        self.stop()
        if os.environ.get("KEEP_TMP") != "1":
            shutil.rmtree(self.dir, ignore_errors=True)
