#!/usr/bin/python3
"""Times getting a runnable bundle of the Debian minbase image
(tests/integration/debimage.py: three gzip layers with whiteouts) from a
loopback registry (Debian's docker-registry):

  gkimg           gkimg pull + gkimg bundle, into an empty store
  skopeo+umoci    skopeo copy docker://... oci:DIR + umoci unpack --image DIR
  gkimg-bundle2   a second gkimg bundle of the image already unpacked
  floor           gzip -dc LAYER | tar -x, the three layers one after another
                  (decompression + writing the files, no registry, no checks)
  gunzip          gzip -dc of the three layers to /dev/null

The tools alternate within each round (their order flips every round) so
noise hits all alike; every round starts from an empty store and empty
directories.  After the timing, untimed, every bundle made is run with
gkrun (a script that reads a file of the top layer, checks a whiteout and
runs a hardlinked script), so a tool that wrote a bundle that does not run
fails the benchmark.  Prints a table (median, min-max, ratio to gkimg, and
the median CPU time, user + system, which a busy machine disturbs less), one
`RESULT name median_seconds` line per row, and appends the ratio lines to
$BENCH_RESULTS (see run.sh).

    tests/bench/image.py [BUILD_DIR] [--rounds N]     (as root)

Environment: BENCH_IMAGE_ROUNDS (default 7), BENCH_RESULTS.
"""
import argparse
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import debimage  # noqa: E402
import gkregistry as gr  # noqa: E402

# What every bundle must print when run (debimage.py's third layer).
CHECK = ["/bin/sh", "-c", "cat /etc/gk-image; test -e /etc/motd || echo no motd; "
         "/opt/gk/hello-again"]
CHECK_OUT = "gk test image, three layers\nno motd\nhello from the debian image\n"


def cpu_of_children():
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(cpu, cmds, shell=False):
    """Wall seconds of CMDS, one after another; appends their CPU seconds
    (user + system, their children included) to CPU."""
    c, t = cpu_of_children(), time.monotonic()
    for cmd in cmds:
        subprocess.run(cmd, check=True, shell=shell, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    t = time.monotonic() - t
    cpu.append(cpu_of_children() - c)
    return t


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    return path


class Bench:
    def __init__(self, build, ref, blobs, tmp):
        self.gkimg = os.path.join(build, "gkimg")
        self.gkrun = os.path.join(build, "gkrun")
        self.ref, self.blobs, self.tmp = ref, blobs, tmp
        self.times = {"gkimg": [], "skopeo+umoci": [], "gkimg-bundle2": [], "floor": [],
                      "gunzip": []}
        self.cpu = {k: [] for k in self.times}

    def runnable(self, tool, bundle):
        """Runs BUNDLE with gkrun (terminal off, CHECK as the process)."""
        path = os.path.join(bundle, "config.json")
        with open(path) as f:
            cfg = json.load(f)
        cfg["process"]["terminal"] = False
        cfg["process"]["args"] = CHECK
        with open(path, "w") as f:
            json.dump(cfg, f)
        p = subprocess.run([self.gkrun, "--root", os.path.join(self.tmp, "run"), "run",
                            "--bundle", bundle, "gk-bench-image-%d" % os.getpid()],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True,
                           timeout=60)
        if p.returncode != 0 or p.stdout != CHECK_OUT:
            raise RuntimeError("the bundle %s wrote does not run as expected: exit %d, "
                               "stdout %r, stderr %r" % (tool, p.returncode, p.stdout,
                                                          p.stderr.strip()))

    def gk(self):
        root, b = fresh(os.path.join(self.tmp, "store")), fresh(os.path.join(self.tmp, "b1"))
        self.times["gkimg"].append(timed(self.cpu["gkimg"], [
            [self.gkimg, "--root", root, "pull", "-q", self.ref],
            [self.gkimg, "--root", root, "bundle", self.ref, b]]))
        b2 = fresh(os.path.join(self.tmp, "b2"))
        self.times["gkimg-bundle2"].append(timed(self.cpu["gkimg-bundle2"], [
            [self.gkimg, "--root", root, "bundle", self.ref, b2]]))
        for d in (b, b2):
            self.runnable("gkimg", d)
            subprocess.run([self.gkimg, "--root", root, "unbundle", d], check=True)

    def sk(self):
        oci, b = fresh(os.path.join(self.tmp, "oci")), fresh(os.path.join(self.tmp, "umoci"))
        self.times["skopeo+umoci"].append(timed(self.cpu["skopeo+umoci"], [
            ["skopeo", "copy", "-q", "--src-tls-verify=false", "docker://" + self.ref,
             "oci:%s:bench" % oci],
            ["umoci", "unpack", "--image", "%s:bench" % oci, b]]))
        self.runnable("umoci", b)

    def floor(self):
        d = fresh(os.path.join(self.tmp, "floor"))
        os.makedirs(d)
        self.times["floor"].append(timed(
            self.cpu["floor"],
            ["gzip -dc %s | tar -x --numeric-owner -C %s" % (blob, d) for blob in self.blobs],
            shell=True))
        self.times["gunzip"].append(timed(
            self.cpu["gunzip"],
            ["gzip -dc %s >/dev/null" % blob for blob in self.blobs], shell=True))

    def round(self, i):
        order = [self.gk, self.sk, self.floor]
        for step in (order if i % 2 == 0 else order[::-1]):
            step()

    def report(self):
        med = {k: statistics.median(ts) for k, ts in self.times.items()}
        ref = med["gkimg"]
        print("%-15s %9s %19s %14s %10s" % ("", "median s", "min-max s", "ratio to gkimg",
                                            "CPU s"))
        for name, ts in self.times.items():
            print("%-15s %9.3f %9.3f-%-9.3f %13.2fx %10.3f" % (
                name, med[name], min(ts), max(ts), med[name] / ref,
                statistics.median(self.cpu[name])))
        sk, b2, fl = med["skopeo+umoci"], med["gkimg-bundle2"] * 1000, med["floor"]
        print("gkimg is %.2fx faster than skopeo+umoci (goal 2x); second bundle %.1f ms "
              "(goal < 20 ms); gkimg is %.2fx the floor" % (sk / ref, b2, ref / fl))
        for name in self.times:
            print("RESULT image-%s %.4f" % (name, med[name]))
        rows = [
            ("image pull+bundle: skopeo+umoci / gkimg", sk / ref, ">= 2",
             sk / ref >= 2, "%.2f vs %.2f s; CPU %.2f vs %.2f s" % (
                 ref, sk, statistics.median(self.cpu["gkimg"]),
                 statistics.median(self.cpu["skopeo+umoci"]))),
            ("image second bundle, ms", b2, "< 20", b2 < 20,
             "max %.1f ms" % (max(self.times["gkimg-bundle2"]) * 1000)),
            ("image pull+bundle: gkimg / floor", ref / fl, "-", None,
             "%.2f vs %.2f s gzip -dc|tar -x; gzip -dc alone %.2f s" % (ref, fl, med["gunzip"])),
        ]
        out = os.environ.get("BENCH_RESULTS")
        if out:
            with open(out, "a") as f:
                for metric, value, goal, ok, detail in rows:
                    verdict = "INFO" if ok is None else "PASS" if ok else "MISS"
                    f.write("%s\t%.2f\t%s\t%s\t%s\n" % (metric, value, goal, verdict, detail))


def on_signal(sig, frame):
    raise KeyboardInterrupt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(REPO, "build"))
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("BENCH_IMAGE_ROUNDS", 7)))
    a = ap.parse_args()
    build = os.path.abspath(a.build)
    if os.getuid() != 0:
        sys.exit("image.py: run as root")
    for tool in ("skopeo", "umoci", "/usr/bin/docker-registry", os.path.join(build, "gkimg"),
                 os.path.join(build, "gkrun")):
        if not shutil.which(tool):
            print("image bench skipped: %s is not installed" % tool)
            return 0
    try:
        layout = debimage.layout()
    except debimage.Unavailable as e:
        print("image bench skipped: %s" % e)
        return 0
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    tmp = tempfile.mkdtemp(prefix="gk-bench-image-")
    reg = gr.Registry()
    try:
        ref = debimage.push(layout, reg.host, "gktest/debian")
        blobs = debimage.layer_blobs(layout)
        size = sum(os.path.getsize(b) for b in blobs)
        print("image: Debian %s minbase, %d layers, %.1f MB compressed, %d rounds" % (
            debimage.SUITE, len(blobs), size / 1e6, a.rounds))
        b = Bench(build, ref, blobs, tmp)
        b.floor()  # warms the page cache with the blobs; not counted
        b.times = {k: [] for k in b.times}
        b.cpu = {k: [] for k in b.times}
        for i in range(a.rounds):
            b.round(i)
        b.report()
    except KeyboardInterrupt:
        print("image.py: interrupted, cleaning up", file=sys.stderr)
        return 130
    finally:
        reg.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
