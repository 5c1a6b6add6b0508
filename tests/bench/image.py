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
directories.  Prints a table (median, min-max, ratio to gkimg) and one
`RESULT name median_seconds` line per row.

    tests/bench/image.py [BUILD_DIR] [--rounds N]
"""
import argparse
import os
import shutil
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


def timed(cmds, shell=False):
    t = time.monotonic()
    for cmd in cmds:
        subprocess.run(cmd, check=True, shell=shell, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE)
    return time.monotonic() - t


def fresh(path):
    shutil.rmtree(path, ignore_errors=True)
    return path


class Bench:
    def __init__(self, gkimg, ref, blobs, tmp):
        self.gkimg, self.ref, self.blobs, self.tmp = gkimg, ref, blobs, tmp
        self.times = {"gkimg": [], "skopeo+umoci": [], "gkimg-bundle2": [], "floor": [],
                      "gunzip": []}

    def gk(self):
        root, b = fresh(os.path.join(self.tmp, "store")), fresh(os.path.join(self.tmp, "b1"))
        self.times["gkimg"].append(timed([
            [self.gkimg, "--root", root, "pull", "-q", self.ref],
            [self.gkimg, "--root", root, "bundle", self.ref, b]]))
        b2 = fresh(os.path.join(self.tmp, "b2"))
        self.times["gkimg-bundle2"].append(timed([
            [self.gkimg, "--root", root, "bundle", self.ref, b2]]))
        for d in (b, b2):
            subprocess.run([self.gkimg, "--root", root, "unbundle", d], check=True)

    def sk(self):
        oci, b = fresh(os.path.join(self.tmp, "oci")), fresh(os.path.join(self.tmp, "umoci"))
        self.times["skopeo+umoci"].append(timed([
            ["skopeo", "copy", "-q", "--src-tls-verify=false", "docker://" + self.ref,
             "oci:%s:bench" % oci],
            ["umoci", "unpack", "--image", "%s:bench" % oci, b]]))

    def floor(self):
        d = fresh(os.path.join(self.tmp, "floor"))
        os.makedirs(d)
        self.times["floor"].append(timed(
            ["gzip -dc %s | tar -x --numeric-owner -C %s" % (blob, d) for blob in self.blobs],
            shell=True))
        self.times["gunzip"].append(timed(
            ["gzip -dc %s >/dev/null" % blob for blob in self.blobs], shell=True))

    def round(self, i):
        order = [self.gk, self.sk, self.floor]
        for step in (order if i % 2 == 0 else order[::-1]):
            step()

    def report(self):
        ref = statistics.median(self.times["gkimg"])
        print("%-15s %9s %19s %14s" % ("", "median s", "min-max s", "ratio to gkimg"))
        for name, ts in self.times.items():
            med = statistics.median(ts)
            print("%-15s %9.3f %9.3f-%-9.3f %13.2fx" % (name, med, min(ts), max(ts), med / ref))
        sk = statistics.median(self.times["skopeo+umoci"])
        print("gkimg is %.2fx faster than skopeo+umoci (goal 2x); second bundle %.1f ms "
              "(goal < 20 ms); gkimg is %.2fx the floor" % (
                  sk / ref, statistics.median(self.times["gkimg-bundle2"]) * 1000,
                  ref / statistics.median(self.times["floor"])))
        for name, ts in self.times.items():
            print("RESULT image-%s %.4f" % (name, statistics.median(ts)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(REPO, "build"))
    ap.add_argument("--rounds", type=int, default=5)
    a = ap.parse_args()
    gkimg = os.path.join(os.path.abspath(a.build), "gkimg")
    for tool in ("skopeo", "umoci", "/usr/bin/docker-registry", gkimg):
        if not shutil.which(tool):
            print("image bench skipped: %s is not installed" % tool)
            return 0
    try:
        layout = debimage.layout()
    except debimage.Unavailable as e:
        print("image bench skipped: %s" % e)
        return 0
    tmp = tempfile.mkdtemp(prefix="gk-bench-image-")
    reg = gr.Registry()
    try:
        ref = debimage.push(layout, reg.host, "gktest/debian")
        blobs = debimage.layer_blobs(layout)
        size = sum(os.path.getsize(b) for b in blobs)
        print("image: Debian %s minbase, %d layers, %.1f MB compressed, %d rounds" % (
            debimage.SUITE, len(blobs), size / 1e6, a.rounds))
        b = Bench(gkimg, ref, blobs, tmp)
        b.floor()  # warms the page cache with the blobs; not counted
        b.times = {k: [] for k in b.times}
        for i in range(a.rounds):
            b.round(i)
        b.report()
    finally:
        reg.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
