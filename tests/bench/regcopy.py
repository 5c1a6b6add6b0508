#!/usr/bin/python3
"""(Not copy.py: that name would hide Python's copy module from http.server.)
Times `gkimg copy` against `skopeo copy`, registry to registry, of the
Debian minbase image (tests/integration/debimage.py: three gzip layers,
cached under /var/cache/gk-test, so the bench runs offline once it has been
built) between two docker-registry instances on loopback, side by side in
interleaved rounds, and prints the medians and their ratio.

    tests/bench/regcopy.py [BUILD_DIR] [--runs N]

Each round each tool copies into a new, empty registry, so every blob is
sent (nothing can be mounted).  gkimg starts from an empty store each
round (cold: it fetches every blob too, into the store's blob area, then
sends them); a copy by a store that still holds the blobs ("gk again") is
timed for gkimg alone.  Appends its ratio line to
$BENCH_RESULTS (see run.sh).

The destination registry's own intake bounds any client: docker-registry
hashes and writes a blob's bytes in one request's goroutine, so the big
layer cannot go up faster than one core does that.  It is timed alone too
(a bare POST and monolithic PUT of the biggest layer from this script, no
client tool) and printed with the ceiling it puts on the ratio: skopeo's
time over it.
"""
import argparse
import http.client
import os
import shutil
import signal
import statistics
import sys
import tempfile
import time
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from pull import REPO, gr, timed  # noqa: E402

sys.path.insert(0, os.path.join(REPO, "tests", "integration"))
import debimage  # noqa: E402


def bench(gkimg, tmp, src_ref, runs):
    """Each tool copies into a registry of its own, started for the round:
    skopeo remembers where it sent a blob (its blob-info cache) and would
    mount it from an earlier round's repository instead of sending it."""
    gk, sk, warm = [], [], []
    for i in range(runs):
        root = os.path.join(tmp, "root-%d" % i)
        for_gk, for_sk = gr.Registry(), gr.Registry()
        try:
            to = "docker://%s/bench/gk:v1" % for_gk.host
            gk.append(timed([gkimg, "--root", root, "copy", "-q", "docker://" + src_ref, to]))
            sk.append(timed(["skopeo", "copy", "-q", "--src-tls-verify=false",
                             "--dest-tls-verify=false", "docker://" + src_ref,
                             "docker://%s/bench/sk:v1" % for_sk.host]))
        finally:
            for_gk.stop()
            for_sk.stop()
        again = gr.Registry()
        try:
            warm.append(timed([gkimg, "--root", root, "copy", "-q", "docker://" + src_ref,
                               "docker://%s/bench/gk:v1" % again.host]))
        finally:
            again.stop()
        shutil.rmtree(root, ignore_errors=True)
    return statistics.median(gk), statistics.median(sk), statistics.median(warm)


def intake(blob, runs):
    """Median seconds a new registry takes to receive BLOB (a path) in
    one monolithic upload: POST for a session, PUT of the whole body."""
    digest = "sha256:" + os.path.basename(blob)
    size = os.path.getsize(blob)
    times = []
    for _ in range(runs):
        reg = gr.Registry()
        try:
            conn = http.client.HTTPConnection(reg.host, timeout=60, blocksize=2 << 20)
            t = time.monotonic()
            conn.request("POST", "/v2/bench/intake/blobs/uploads/")
            resp = conn.getresponse()
            resp.read()
            loc = urllib.parse.urlsplit(resp.getheader("Location"))
            path = "%s?%s&digest=%s" % (loc.path, loc.query, digest)
            with open(blob, "rb") as f:
                conn.request("PUT", path, body=f, headers={
                    "Content-Length": str(size), "Content-Type": "application/octet-stream"})
                resp = conn.getresponse()
                resp.read()
            times.append(time.monotonic() - t)
            conn.close()
            if resp.status != 201:
                raise RuntimeError("intake: the registry answered %d" % resp.status)
        finally:
            reg.stop()
    return statistics.median(times)


def on_signal(sig, frame):
    raise KeyboardInterrupt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build", nargs="?", default=os.path.join(REPO, "build"))
    ap.add_argument("--runs", type=int, default=int(os.environ.get("BENCH_COPY_ROUNDS", "5")))
    a = ap.parse_args()
    gkimg = os.path.join(os.path.abspath(a.build), "gkimg")
    for tool in ("skopeo", "/usr/bin/docker-registry", gkimg):
        if not shutil.which(tool):
            print("copy bench skipped: %s is not installed" % tool)
            return 0
    try:
        layout = debimage.layout()
    except debimage.Unavailable as e:
        print("copy bench skipped: %s" % e)
        return 0
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    tmp = tempfile.mkdtemp(prefix="gk-bench-copy-")
    src = None
    try:
        src = gr.Registry()
        ref = debimage.push(layout, src.host, "bench/debian")
        size = sum(os.path.getsize(b) for b in debimage.layer_blobs(layout))
        g, s, w = bench(gkimg, tmp, ref, a.runs)
        floor = intake(max(debimage.layer_blobs(layout), key=os.path.getsize), a.runs)
        print("%-16s %8s %10s %10s %8s %10s %10s" % ("image", "size", "gkimg", "skopeo", "ratio",
                                                     "gk again", "intake"))
        print("%-16s %7.1fM %9.3fs %9.3fs %7.2fx %9.3fs %9.3fs" % (
            "debian-minbase", size / 1e6, g, s, s / g, w, floor))
        print("(medians of %d copies registry -> registry; ratio = skopeo / gkimg, above 1 "
              "means gkimg is faster; intake: the destination receiving the biggest layer "
              "alone, so no client beats skopeo by more than %.2fx)" % (a.runs, s / floor))
        out = os.environ.get("BENCH_RESULTS")
        if out:
            with open(out, "a") as f:
                f.write("copy registry->registry: skopeo / gkimg\t%.2f\t>= 1.5\t%s\t"
                        "%.2f vs %.2f s (Debian, %.0f MB); from a warm store %.2f s\n"
                        % (s / g, "PASS" if s / g >= 1.5 else "MISS", g, s, size / 1e6, w))
                f.write("copy registry->registry: skopeo / registry intake\t%.2f\t-\tINFO\t"
                        "the ceiling of any client's ratio: the destination took %.2f s to "
                        "receive the biggest layer alone\n" % (s / floor, floor))
    except KeyboardInterrupt:
        print("regcopy.py: interrupted, cleaning up", file=sys.stderr)
        return 130
    finally:
        if src:
            src.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
