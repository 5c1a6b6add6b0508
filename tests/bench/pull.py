#!/usr/bin/python3
"""Times `gkimg pull` against `skopeo copy` (to an oci: directory) of the
same images from the same local registry (docker-registry on loopback),
side by side, and prints the medians and their ratio.

    tests/bench/pull.py [BUILD_DIR] [--runs N]

Images: a busybox rootfs (one gzip layer), and a 5-layer image of about
60 MB (random and text data, gzip and zstd) so parallelism and streaming
matter.  Each run pulls into an empty store / directory (cold); a warm
re-pull of an image already present is timed for gkimg alone.
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

import gkregistry as gr  # noqa: E402
from gkimage import dir_tar  # noqa: E402


def busybox_image(tmp):
    rootfs = os.path.join(tmp, "rootfs")
    subprocess.run([os.path.join(REPO, "bundle-spec", "mkrootfs.sh"), rootfs], check=True,
                   stdout=subprocess.DEVNULL)
    return gr.Image([dir_tar(rootfs)], compression="gzip")


def big_image():
    rnd = os.urandom
    text = b"".join(b"line %d of some log-like text that compresses well\n" % i
                    for i in range(300000))
    layers = [
        [{"name": "opt/a.bin", "data": rnd(20 << 20)}],
        [{"name": "opt/b.bin", "data": rnd(15 << 20)}],
        [{"name": "var/log/big.log", "data": text}],
        [{"name": "opt/c.bin", "data": rnd(10 << 20)}],
        [{"name": "opt/d.bin", "data": rnd(5 << 20)}],
    ]
    return gr.Image(layers, compression=["gzip", "zstd", "gzip", "gzip", "zstd"])


def timed(cmd):
    t = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    return time.monotonic() - t


def bench(gkimg, ref, runs, tmp):
    gk, sk = [], []
    for i in range(runs):
        root = os.path.join(tmp, "gk-root-%d" % i)
        oci = os.path.join(tmp, "oci-%d" % i)
        gk.append(timed([gkimg, "--root", root, "pull", "-q", ref]))
        sk.append(timed(["skopeo", "copy", "-q", "--src-tls-verify=false",
                         "docker://" + ref, "oci:%s:bench" % oci]))
        warm = timed([gkimg, "--root", root, "pull", "-q", ref])
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(oci, ignore_errors=True)
    return statistics.median(gk), statistics.median(sk), warm


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(REPO, "build"))
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    gkimg = os.path.join(os.path.abspath(a.build), "gkimg")
    tmp = tempfile.mkdtemp(prefix="gk-bench-pull-")
    reg = gr.Registry()
    try:
        images = {"busybox": busybox_image(tmp), "big-5-layers": big_image()}
        print("%-14s %8s %10s %10s %8s %10s" % ("image", "size", "gkimg", "skopeo", "ratio",
                                                "gk warm"))
        for name, img in images.items():
            reg.push_image("bench/" + name, "v1", img)
            size = sum(s for _, s, _, _ in img.layers)
            g, s, w = bench(gkimg, "%s/bench/%s:v1" % (reg.host, name), a.runs, tmp)
            print("%-14s %7.1fM %9.3fs %9.3fs %7.2fx %9.3fs" % (name, size / 1e6, g, s, s / g,
                                                              w))
        print("(medians of %d cold pulls; ratio = skopeo / gkimg, above 1 means gkimg is "
              "faster)" % a.runs)
    finally:
        reg.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
