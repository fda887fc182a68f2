"""The container image (SPEC section 11): docker/Dockerfile builds, and the
image's own binary and libraries run stopgate.

Builds the image from a clean copy of the sources (no build/ or var/),
with podman through ../shared/tools/container-base.sh where that script
exists (it installs podman and makes the debian:12-slim base from Debian's
packages; these machines have no Docker engine and no registry), else
with podman or docker found on PATH. Then unpacks the image and, through
chroot into it as the image's non-root user:
  - `stopgate check` passes on the image's config and on
    docker/compose/node.yaml (secrets from the environment);
  - stopgate runs against build/tools/smsc_sim on 127.0.0.1: a department
    binds, a message goes through, the subscriber's STOP is recorded in
    the store on the image's volume, and the next send is refused
    (0x401); SIGTERM stops it with status 0.
The runtime image holds no compiler and no -dev package, and its config
is not readable by other users.

Skipped, with the reason, when no container tool is present or
installable, and the chroot part when not root. Prints the build time,
the image size and the total time.
"""

import os
import re
import shutil
import subprocess
import time

import harness
import smpp

TOP = harness.TOP
IMAGE = "localhost/stopgate:test"
BUILD_BOUND = 540       # seconds: tests/run-all.sh gives a suite 600
SOURCES = ["Makefile", "smpp", "config", "store", "proxy", "docker",
           "tests/tools", "tests/unit", "tests/regress",
           "tests/run-unit.sh"]
T0 = time.monotonic()


def base_script():
    """container-base.sh: $STOPGATE_CONTAINER_BASE, or shared/ beside the
    checkout (as in CI)."""
    for p in (os.environ.get("STOPGATE_CONTAINER_BASE"),
              os.path.join(TOP, "..", "shared", "tools",
                           "container-base.sh")):
        if p and os.path.isfile(p):
            return os.path.abspath(p)
    return None


def container_tool():
    """(how, argv prefix to build, tool) or (None, reason, None)."""
    script = base_script()
    if script is not None and os.geteuid() == 0:
        return "container-base.sh", ["bash", script, "build"], "podman"
    for tool in ("podman", "docker"):
        if shutil.which(tool) is None:
            continue
        r = subprocess.run([tool, "info"], capture_output=True, timeout=60)
        if r.returncode == 0:
            # chroot isolation also works where the OCI runtime cannot
            # set up a build container (as container-base.sh does).
            extra = ["--isolation", "chroot", "--network", "host"] \
                if tool == "podman" else []
            return tool, [tool, "build"] + extra, tool
    return None, ("no container tool: podman or docker (with an engine) "
                  "is not installed, and ../shared/tools/container-base.sh "
                  "(which installs podman, as root) is not beside the "
                  "checkout"), None


def run(argv, timeout, **kw):
    return subprocess.run(argv, capture_output=True, text=True,
                          timeout=timeout, **kw)


class TestContainer(harness.TestCase):
    how, build_argv, tool = None, None, None

    def build_image(self):
        ctx = self.h.path("context")
        for s in SOURCES:
            src = os.path.join(TOP, s)
            dst = os.path.join(ctx, s)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            if os.path.isdir(src):
                shutil.copytree(src, dst, ignore=shutil.ignore_patterns(
                    "__pycache__", "node_modules"))
            else:
                shutil.copy2(src, dst)
        t = time.monotonic()
        # The unit tests are make test's own first suite: not again here.
        r = run(self.build_argv + ["--build-arg", "RUN_UNIT=0", "-f",
                                   os.path.join(ctx, "docker", "Dockerfile"),
                                   "-t", IMAGE, ctx], BUILD_BOUND)
        self.assertEqual(r.returncode, 0, "build failed:\n" +
                         (r.stdout + r.stderr)[-4000:])
        print("  image built with %s in %.0f s" % (self.how,
                                                    time.monotonic() - t))
        shutil.rmtree(ctx)

    def inspect(self, fmt):
        r = run([self.tool, "image", "inspect", "--format", fmt, IMAGE], 60)
        self.assertEqual(r.returncode, 0, r.stderr)
        return r.stdout.strip()

    def unpack(self):
        root = self.h.path("rootfs")
        script = base_script()
        if self.how == "container-base.sh":
            r = run(["bash", script, "rootfs", IMAGE, root], 300)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            return root
        r = run([self.tool, "create", IMAGE], 60)
        self.assertEqual(r.returncode, 0, r.stderr)
        cid = r.stdout.strip()
        try:
            os.makedirs(root)
            exp = subprocess.Popen([self.tool, "export", cid],
                                   stdout=subprocess.PIPE)
            tar = subprocess.run(["tar", "-C", root, "-x"], stdin=exp.stdout,
                                 timeout=300)
            exp.stdout.close()
            self.assertEqual((exp.wait(300), tar.returncode), (0, 0))
        finally:
            run([self.tool, "rm", cid], 60)
        return root

    def user_ids(self, root):
        with open(os.path.join(root, "etc", "passwd")) as f:
            for ln in f:
                p = ln.split(":")
                if p[0] == "stopgate":
                    return int(p[2]), int(p[3])
        self.fail("no stopgate user in the image")

    def chroot(self, root, ids, *argv, env=None, timeout=30):
        return run(["chroot", "--userspec=%d:%d" % ids, root] + list(argv),
                   timeout, env=env)

    def test_image(self):
        self.build_image()
        size = int(self.inspect("{{.Size}}"))
        print("  image size: %.0f MB" % (size / 1e6))
        self.assertEqual(self.inspect("{{.Config.User}}"), "stopgate")
        self.assertIn("/var/lib/stopgate", self.inspect("{{.Config.Volumes}}"))
        if os.geteuid() != 0 or shutil.which("chroot") is None:
            self.skipTest("the image built; running it needs root (chroot)")
        root = self.unpack()
        ids = self.user_ids(root)
        self.assertNotEqual(ids[0], 0)
        self.runtime_is_slim(root)
        self.check_configs(root, ids)
        self.smpp_exchange(root, ids)
        print("  container test: %.0f s" % (time.monotonic() - T0))

    def runtime_is_slim(self, root):
        r = run(["chroot", root, "dpkg-query", "-W", "-f",
                 "${Package}\n"], 60)
        self.assertEqual(r.returncode, 0, r.stderr)
        pkgs = r.stdout.split()
        self.assertIn("libevent-2.1-7", pkgs)
        bad = [p for p in pkgs if p.endswith("-dev") or
               p in ("gcc", "make", "cpp", "pkg-config")]
        self.assertEqual(bad, [])
        st = os.stat(os.path.join(root, "etc", "stopgate", "stopgate.yaml"))
        self.assertEqual(st.st_mode & 0o007, 0)

    def check_configs(self, root, ids):
        r = self.chroot(root, ids, "/usr/local/bin/stopgate", "check", "-c",
                        "/etc/stopgate/stopgate.yaml")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("ok", r.stdout)
        self.assertEqual(r.stderr, "")
        shutil.copy(os.path.join(TOP, "docker", "compose", "node.yaml"),
                    os.path.join(root, "etc", "stopgate", "node.yaml"))
        env = dict(os.environ, STOPGATE_ADMIN_TOKEN="t",
                   STOPGATE_MARKETING_PASSWORD="a",
                   STOPGATE_FRONTDESK_PASSWORD="b",
                   STOPGATE_CARRIER_PASSWORD="c",
                   STOPGATE_POSTGRES="host=postgres dbname=stopgate")
        r = self.chroot(root, ids, "/usr/local/bin/stopgate", "check", "-c",
                        "/etc/stopgate/node.yaml", env=env)
        self.assertEqual((r.returncode, r.stderr), (0, ""), r.stdout)

    def smpp_exchange(self, root, ids):
        smsc = self.h.start_smsc("-u", "acme", "-w", "secret")
        port = self.h.free_port()
        cfg = harness.base_config(smsc.port, port,
                                  store_path="/var/lib/stopgate/test-store")
        path = os.path.join(root, "etc", "stopgate", "test.yaml")
        with open(path, "w") as f:
            f.write(harness.to_yaml(cfg))
        os.chmod(path, 0o600)
        os.chown(path, *ids)
        gw = self.h.start("stopgate-chroot", [
            "chroot", "--userspec=%d:%d" % ids, root,
            "/usr/local/bin/stopgate", "run", "-c",
            "/etc/stopgate/test.yaml"])
        harness.wait_port(port, proc=gw)
        harness.wait_until(lambda: smsc.ctl().stats()["bound"] >= 1,
                           harness.START_BOUND, what="upstream bind")
        with smpp.Client.connect(port) as c:
            # A transmitter: the STOP passed on to marketing waits in the
            # outbox instead of for our deliver_sm_resp.
            self.assertEqual(c.bind("tx", "marketing", "mkpass1"), 0)
            st, mid = c.submit("12345", "15551234567", b"Spring sale")
            self.assertEqual(st, 0)
            self.assertNotEqual(mid, "")
            seq = smsc.ctl().mo("15551234567", "12345",
                                smpp.gsm7_encode("STOP"))
            self.assertEqual(smsc.ctl().wait_resp(seq, 10), 0)
            st, _ = c.submit("12345", "15551234567", b"Sale!")
            self.assertEqual(st, 0x401)
        self.assertEqual(gw.stop(), 0)
        self.assertNotIn("running_as_root", gw.log_text())
        store = os.path.join(root, "var", "lib", "stopgate", "test-store")
        self.assertEqual(os.stat(store).st_uid, ids[0])
        self.assertTrue(any(re.match(r".*\.mdb$|^data", n)
                            for n in os.listdir(store)))


if __name__ == "__main__":
    harness.require(harness.SMSC_SIM)
    how, argv, tool = container_tool()
    if how is None:
        print("skipped: %s" % argv)
        raise SystemExit(0)
    TestContainer.how, TestContainer.build_argv, TestContainer.tool = \
        how, argv, tool
    harness.main()
