"""A Debian minbase image of three layers, for the unpack comparison with
umoci and for tests/bench/image.sh:

  1. base     `mmdebstrap --variant=minbase bookworm` (about 160 MB of files)
  2. slim     most of /usr/share/doc deleted (file whiteouts; whole `lib*`
              directories as directory whiteouts), /usr/share/locale and
              /var/log made opaque with a few entries re-added, /etc/motd
              changed, /etc/issue.net replaced by a symlink
  3. extra    a small layer: a file deleted in layer 2 added back, /etc/motd
              deleted, a script (with a user.* xattr) and a hardlink to it,
              and files whose parents the layer does not list, as `docker
              build` writes them: /lib/gk-lib (through lib -> usr/lib),
              /tmp/gk-tmp (1777), /var/mail/gk-mail (2775 root:mail) and
              /usr/local/share/gk/new/file (new directories in an old one)

The OCI layout is cached under /var/cache/gk-test/ keyed by the mmdebstrap
arguments and the day it was built, so only the first use of a day (a
fresh CI machine: about a minute) runs mmdebstrap; an older cache is used
when the mirror cannot be reached.  Building raises Unavailable with the
reason when neither works, and callers skip.

    python3 tests/integration/debimage.py     # prints the layout's path
"""
import contextlib
import datetime
import fcntl
import gzip
import hashlib
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

CACHE = os.environ.get("GK_TEST_CACHE", "/var/cache/gk-test")
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
MMDEBSTRAP = ["mmdebstrap", "--variant=minbase", "--mode=root", "--skip=output/dev",
              "--quiet", SUITE]
TAG = "12"
REF_NAME = "org.opencontainers.image.ref.name"
MT_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
MAX_AGE_DAYS = 7


class Unavailable(Exception):
    """The image cannot be built here (no mmdebstrap, no mirror)."""


def _key():
    args = " ".join(MMDEBSTRAP + [MIRROR, "layers-v3"])
    return "debian-minbase-%s-%s" % (SUITE, hashlib.sha256(args.encode()).hexdigest()[:12])


def _sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _mmdebstrap(out):
    if not shutil.which("mmdebstrap"):
        raise Unavailable("mmdebstrap is not installed (contrib/install-deps.sh --test)")
    p = subprocess.run(MMDEBSTRAP + [out, MIRROR], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=1800)
    if p.returncode != 0:
        tail = (p.stderr or p.stdout).strip().splitlines()[-3:]
        raise Unavailable("mmdebstrap %s from %s failed (offline?): %s"
                          % (SUITE, MIRROR, " | ".join(tail)))


# ---- the layers ----

def _copy_info(ti, **changes):
    new = tarfile.TarInfo(ti.name)
    for attr in ("type", "mode", "uid", "gid", "uname", "gname", "mtime", "linkname",
                 "devmajor", "devminor"):
        setattr(new, attr, getattr(ti, attr))
    new.size = 0
    for k, v in changes.items():
        setattr(new, k, v)
    return new


class _Layer:
    def __init__(self):
        self.buf = io.BytesIO()
        self.tf = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.PAX_FORMAT)
        self.seen = set()

    def dir(self, ti):
        """A directory entry copied from the base (parents of changes)."""
        if ti.name not in self.seen:
            self.seen.add(ti.name)
            self.tf.addfile(_copy_info(ti))

    def parents(self, base, name):
        parts = name.split("/")
        for i in range(2, len(parts)):
            self.dir(base[("/".join(parts[:i]))])

    def file(self, name, data, mode=0o644, mtime=1700000000, uid=0, gid=0, xattrs=None):
        ti = tarfile.TarInfo(name)
        ti.size, ti.mode, ti.mtime, ti.uid, ti.gid = len(data), mode, mtime, uid, gid
        if xattrs:
            ti.pax_headers = {"SCHILY.xattr." + k: v for k, v in xattrs.items()}
        self.tf.addfile(ti, io.BytesIO(data))

    def whiteout(self, name):
        d, _, b = name.rpartition("/")
        self.file(d + "/.wh." + b, b"")

    def add(self, ti, data=None):
        self.tf.addfile(ti, io.BytesIO(data) if data is not None else None)

    def raw(self):
        self.tf.close()
        return self.buf.getvalue()


def _read_base(path):
    members, data = {}, {}
    with tarfile.open(path) as tf:
        for ti in tf:
            name = ti.name.rstrip("/")
            members[name] = ti
            if ti.isfile() and (name.startswith("./usr/share/doc/dpkg/") or
                                name.startswith("./usr/share/locale/de/") or
                                name in ("./etc/motd", "./etc/bash.bashrc")):
                data[name] = tf.extractfile(ti).read()
    return members, data


def _slim_layer(base, data):
    L = _Layer()
    docs = sorted(n for n in base if n.startswith("./usr/share/doc/"))
    for pkg in sorted({n.split("/")[4] for n in docs}):
        top = "./usr/share/doc/" + pkg
        L.parents(base, top)
        if pkg.startswith("lib") and base[top].isdir():
            L.whiteout(top)                       # a directory deleted
            continue
        for n in docs:
            if n.startswith(top + "/") and n.count("/") == 5 and \
                    not n.endswith("/copyright") and not base[n].isdir():
                L.parents(base, n)
                L.whiteout(n)                     # files deleted, copyright kept
    # /usr/share/locale: only German left (opaque directory, entries re-added)
    L.parents(base, "./usr/share/locale/x")
    L.dir(base["./usr/share/locale"])
    L.file("./usr/share/locale/.wh..wh..opq", b"")
    for n in sorted(base):
        if n.startswith("./usr/share/locale/de/") or n == "./usr/share/locale/de":
            ti = base[n]
            if ti.isdir():
                L.dir(ti)
            else:
                L.add(ti, data.get(n))
    # /var/log: emptied, one new file
    L.parents(base, "./var/log/x")
    L.dir(base["./var/log"])
    L.file("./var/log/.wh..wh..opq", b"")
    L.file("./var/log/gk-build.log", b"slimmed by tests/integration/debimage.py\n")
    # changed and replaced files
    L.parents(base, "./etc/motd")
    L.file("./etc/motd", data["./etc/motd"] + b"\nBuilt for gk's tests.\n")
    L.add(_copy_info(base["./etc/issue.net"], type=tarfile.SYMTYPE, linkname="issue",
                     mode=0o777))
    L.file("./etc/bash.bashrc", data["./etc/bash.bashrc"], mode=0o600)   # mode change
    return L.raw()


def _extra_layer(base, data):
    L = _Layer()
    name = "./usr/share/doc/dpkg/changelog.gz"
    L.parents(base, name)
    L.add(base[name], data[name])                 # deleted in layer 2, added back
    L.dir(base["./etc"])
    L.whiteout("./etc/motd")                      # changed in layer 2, deleted here
    L.file("./etc/gk-image", b"gk test image, three layers\n")
    L.add(_copy_info(base["./usr"], name="./opt"))
    L.add(_copy_info(base["./usr"], name="./opt/gk"))
    L.file("./opt/gk/hello", b"#!/bin/sh\necho hello from the debian image\n", mode=0o755,
           xattrs={"user.gk.origin": "debimage.py"})
    ln = tarfile.TarInfo("./opt/gk/hello-again")
    ln.type, ln.linkname, ln.mtime = tarfile.LNKTYPE, "./opt/gk/hello", 1700000000
    L.add(ln)
    # no entries for their parents: the image's own decide them
    L.file("./lib/gk-lib", b"through the lib -> usr/lib symlink\n")
    L.file("./tmp/gk-tmp", b"in a 1777 directory\n")
    L.file("./var/mail/gk-mail", b"in a 2775 root:mail directory\n", mode=0o660, gid=8)
    L.file("./usr/local/share/gk/new/file", b"new directories in an old one\n")
    return L.raw()


# ---- the OCI layout ----

def _write_layout(path, raws):
    blobs = os.path.join(path, "blobs", "sha256")
    os.makedirs(blobs)

    def put(data):
        d = _sha(data)
        with open(os.path.join(blobs, d[7:]), "wb") as fh:
            fh.write(data)
        return d

    layers = []
    for raw in raws:
        gz = gzip.compress(raw, compresslevel=6, mtime=0)
        layers.append({"mediaType": MT_LAYER, "digest": put(gz), "size": len(gz)})
    config = json.dumps({
        "architecture": "amd64", "os": "linux", "created": "2024-01-01T00:00:00Z",
        "config": {"Cmd": ["/bin/bash"], "Env": [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
        "rootfs": {"type": "layers", "diff_ids": [_sha(r) for r in raws]},
        "history": [{"created_by": "debimage.py " + n} for n in ("base", "slim", "extra")],
    }, sort_keys=True).encode()
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": put(config), "size": len(config)},
        "layers": layers}, sort_keys=True).encode()
    md = put(manifest)
    with open(os.path.join(path, "oci-layout"), "w") as fh:
        json.dump({"imageLayoutVersion": "1.0.0"}, fh)
    with open(os.path.join(path, "index.json"), "w") as fh:
        json.dump({"schemaVersion": 2, "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md,
            "size": len(manifest), "annotations": {REF_NAME: TAG}}]}, fh)


def _build(dest, tmpdir):
    tar = os.path.join(tmpdir, "rootfs.tar")
    _mmdebstrap(tar)
    base, data = _read_base(tar)
    with open(tar, "rb") as fh:
        raw0 = fh.read()
    os.unlink(tar)
    work = os.path.join(tmpdir, "layout")
    _write_layout(work, [raw0, _slim_layer(base, data), _extra_layer(base, data)])
    os.rename(work, dest)


def _cached(key):
    """(path, age in days) of the cached layouts for KEY, newest first."""
    out = []
    today = datetime.date.today()
    for name in os.listdir(CACHE):
        if name.startswith(key + "-") and os.path.exists(os.path.join(CACHE, name, "index.json")):
            try:
                day = datetime.datetime.strptime(name[len(key) + 1:], "%Y%m%d").date()
            except ValueError:
                continue
            out.append((os.path.join(CACHE, name), (today - day).days))
    return sorted(out, key=lambda x: x[1])


def layout():
    """The OCI layout's path (tag TAG), built when no recent one is cached.
    Raises Unavailable with the reason."""
    os.makedirs(CACHE, exist_ok=True)
    key = _key()
    with open(os.path.join(CACHE, ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        have = _cached(key)
        if have and have[0][1] < MAX_AGE_DAYS:
            return have[0][0]
        dest = os.path.join(CACHE, "%s-%s" % (key, datetime.date.today().strftime("%Y%m%d")))
        tmpdir = tempfile.mkdtemp(prefix=".build-", dir=CACHE)
        try:
            _build(dest, tmpdir)
        except Unavailable:
            if have:
                return have[0][0]  # stale, but better than nothing offline
            raise
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
        for old, _ in have:
            shutil.rmtree(old, ignore_errors=True)
        return dest


def push(layout_dir, host, repo):
    """Copies the layout into the registry at HOST (plain HTTP) as REPO:TAG,
    blobs unchanged; returns the reference."""
    ref = "%s/%s:%s" % (host, repo, TAG)
    subprocess.run(["skopeo", "copy", "-q", "--preserve-digests", "--dest-tls-verify=false",
                    "oci:%s:%s" % (layout_dir, TAG), "docker://" + ref],
                   check=True, capture_output=True, timeout=300)
    return ref


def layer_blobs(layout_dir):
    """Paths of the layer blobs, bottom first."""
    with open(os.path.join(layout_dir, "index.json")) as fh:
        md = json.load(fh)["manifests"][0]["digest"]
    with open(os.path.join(layout_dir, "blobs", "sha256", md[7:])) as fh:
        m = json.load(fh)
    return [os.path.join(layout_dir, "blobs", "sha256", l["digest"][7:]) for l in m["layers"]]


if __name__ == "__main__":
    try:
        print(layout())
    except Unavailable as e:
        print("debimage: %s" % e, file=sys.stderr)
        sys.exit(77)
