#!/usr/bin/python3
"""Times `gkimg push` from its store against `skopeo copy` from an OCI
layout, of the same images to the same local registry (docker-registry on
loopback), side by side, and prints the medians and their ratio.

    tests/bench/push.py [BUILD_DIR] [--runs N]

Images: as in pull.py (busybox, and five layers of about 60 MB), and the
Debian minbase image of regcopy.py (one 60 MB layer; skipped when it
cannot be built).  Each round each tool pushes into a registry started for
it (cold: every blob is sent): skopeo remembers where it sent a blob (its
blob-info cache, which no flag turns off) and would mount it from an
earlier round's repository of the same registry instead of sending it.  A
second push of the same image, where every blob is skipped, is timed for
gkimg alone.  Appends one ratio line per image to $BENCH_RESULTS (see
run.sh).
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from pull import REPO, big_image, busybox_image, gr, timed  # noqa: E402,F401

sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import debimage  # noqa: E402


def bench(gkimg, root, src, layout, runs):
    gk, sk = [], []
    warm = 0.0
    for i in range(runs):
        for_gk, for_sk = gr.Registry(), gr.Registry()
        try:
            to = "%s/bench/gk:v1" % for_gk.host
            gk.append(timed([gkimg, "--root", root, "push", "-q", src, to]))
            sk.append(timed(["skopeo", "copy", "-q", "--dest-tls-verify=false", layout,
                             "docker://%s/bench/sk:v1" % for_sk.host]))
            warm = timed([gkimg, "--root", root, "push", "-q", src, to])
        finally:
            for_gk.stop()
            for_sk.stop()
    return statistics.median(gk), statistics.median(sk), warm


def debian(tmp, src):
    """The Debian image at SRC: (reference, its oci: layout, layer bytes),
    or None (and why) when it cannot be built here."""
    try:
        layout = debimage.layout()
    except debimage.Unavailable as e:
        print("debian-minbase skipped: %s" % e)
        return None
    ref = debimage.push(layout, src.host, "bench/debian")
    size = sum(os.path.getsize(b) for b in debimage.layer_blobs(layout))
    return ref, "oci:%s:%s" % (layout, debimage.TAG), size


def results(name, size, g, s, w):
    out = os.environ.get("BENCH_RESULTS")
    if not out:
        return
    with open(out, "a") as f:
        f.write("push %s: skopeo / gkimg\t%.2f\t>= 1.5\t%s\t%.2f vs %.2f s (%.0f MB); "
                "again %.2f s\n" % (name, s / g, "PASS" if s / g >= 1.5 else "MISS", g, s,
                                     size / 1e6, w))


def on_signal(sig, frame):
    raise KeyboardInterrupt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(REPO, "build"))
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    gkimg = os.path.join(os.path.abspath(a.build), "gkimg")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    tmp = tempfile.mkdtemp(prefix="gk-bench-push-")
    src = gr.Registry()
    try:
        images = []
        for name, img in (("busybox", busybox_image(tmp)), ("big-5-layers", big_image())):
            ref = "%s/bench/%s:v1" % (src.host, name)
            src.push_image("bench/" + name, "v1", img)
            layout = os.path.join(tmp, "oci-" + name)
            subprocess.run(["skopeo", "copy", "-q", "--src-tls-verify=false", "docker://" + ref,
                            "oci:%s:bench" % layout], check=True)
            images.append((name, ref, "oci:%s:bench" % layout,
                           sum(s for _, s, _, _ in img.layers)))
        deb = debian(tmp, src)
        if deb:
            images.append(("debian-minbase",) + deb)
        print("%-14s %8s %10s %10s %8s %10s" % ("image", "size", "gkimg", "skopeo", "ratio",
                                                "gk again"))
        for name, ref, layout, size in images:
            root = os.path.join(tmp, "root-" + name)
            subprocess.run([gkimg, "--root", root, "pull", "-q", ref], check=True,
                           stdout=subprocess.DEVNULL)
            g, s, w = bench(gkimg, root, ref, layout, a.runs)
            print("%-14s %7.1fM %9.3fs %9.3fs %7.2fx %9.3fs" % (name, size / 1e6, g, s, s / g,
                                                              w))
            results(name, size, g, s, w)
        print("(medians of %d cold pushes, each into a new registry; ratio = skopeo / gkimg, "
              "above 1 means gkimg is faster)" % a.runs)
    except KeyboardInterrupt:
        print("push.py: interrupted, cleaning up", file=sys.stderr)
        return 130
    finally:
        src.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
