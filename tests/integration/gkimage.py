"""Builds test images without a registry or network: layers written with
tarfile from a small description, put into an OCI image layout (and, for
import tests, an oci-archive or a docker-archive like `docker save`'s).

A layer is the bytes of a tar (dir_tar()) or a list of entries, each a dict:
    {"name": "etc/passwd", "data": b"...", "mode": 0o644, "uid": 0, "gid": 0}
    {"name": "usr/bin", "type": "dir", "mode": 0o755}
    {"name": "bin/sh", "type": "symlink", "target": "busybox"}
    {"name": "bin/h2", "type": "hardlink", "target": "bin/h1"}
    {"name": "run/fifo", "type": "fifo"}
    {"name": "dev/sda", "type": "block", "major": 8, "minor": 0}
    {"name": "x", "xattrs": {"user.k": "v"}}   (pax SCHILY.xattr.*)
Names are written as given (with "./" prefixes, absolute or ".." ones for
hostile layers).
"""
import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile

MTIME = 1700000000

TYPES = {
    "file": tarfile.REGTYPE, "dir": tarfile.DIRTYPE, "symlink": tarfile.SYMTYPE,
    "hardlink": tarfile.LNKTYPE, "fifo": tarfile.FIFOTYPE, "char": tarfile.CHRTYPE,
    "block": tarfile.BLKTYPE,
}


def dir_tar(path):
    """An uncompressed layer tar of directory PATH (owners, modes,
    symlinks kept), for images built from a real root filesystem."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name in sorted(os.listdir(path)):
            tf.add(os.path.join(path, name), arcname=name)
    return buf.getvalue()


def layer_tar(entries):
    """The uncompressed tar of a layer description (bytes: already a tar)."""
    if isinstance(entries, bytes):
        return entries
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for e in entries:
            kind = e.get("type", "file")
            ti = tarfile.TarInfo(e["name"])
            ti.type = TYPES[kind]
            ti.mode = e.get("mode", 0o755 if kind == "dir" else 0o644)
            ti.uid, ti.gid = e.get("uid", 0), e.get("gid", 0)
            ti.uname = ti.gname = ""
            ti.mtime = e.get("mtime", MTIME)
            if kind in ("symlink", "hardlink"):
                ti.linkname = e["target"]
            if kind in ("char", "block"):
                ti.devmajor, ti.devminor = e.get("major", 0), e.get("minor", 0)
            if e.get("xattrs"):
                ti.pax_headers = {"SCHILY.xattr." + k: v for k, v in e["xattrs"].items()}
            data = e.get("data", b"") if kind == "file" else b""
            ti.size = len(data)
            tf.addfile(ti, io.BytesIO(data) if data else None)
    return buf.getvalue()


def compress(raw, how):
    if how == "gzip":
        return gzip.compress(raw, mtime=0), "application/vnd.oci.image.layer.v1.tar+gzip"
    if how == "zstd":
        out = subprocess.run(["zstd", "-q", "-c"], input=raw, capture_output=True, check=True)
        return out.stdout, "application/vnd.oci.image.layer.v1.tar+zstd"
    return raw, "application/vnd.oci.image.layer.v1.tar"


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


class Image:
    """An image built from layer descriptions; write it out with
    oci_layout(), oci_archive() or docker_archive()."""

    def __init__(self, layers, config=None, compression="gzip", top=None):
        self.raw = [layer_tar(entries) for entries in layers]
        comps = compression if isinstance(compression, list) else [compression] * len(layers)
        self.blobs = {}
        self.layers = []  # (digest, size, media type, diff_id)
        for raw, how in zip(self.raw, comps):
            blob, mt = compress(raw, how)
            self.blobs[sha(blob)] = blob
            self.layers.append((sha(blob), len(blob), mt, sha(raw)))
        cfg = {
            "architecture": "amd64", "os": "linux",
            "created": "2024-01-01T00:00:00Z",
            "config": dict(config or {}),
            "rootfs": {"type": "layers", "diff_ids": [l[3] for l in self.layers]},
            "history": [{"created_by": "gkimage.py"} for _ in self.layers],
        }
        cfg.update(top or {})  # more top-level fields: author, variant...
        self.config = json.dumps(cfg, sort_keys=True).encode()
        self.blobs[sha(self.config)] = self.config
        manifest = {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                       "digest": sha(self.config), "size": len(self.config)},
            "layers": [{"mediaType": mt, "digest": d, "size": s}
                       for d, s, mt, _ in self.layers],
        }
        self.manifest = json.dumps(manifest, sort_keys=True).encode()
        self.blobs[sha(self.manifest)] = self.manifest
        self.id = sha(self.config)

    @property
    def diff_ids(self):
        return [l[3] for l in self.layers]

    @property
    def chain_ids(self):
        """The layers' chain ids (OCI image spec), the keys of gkimg's
        unpacked layers."""
        out = []
        for d in self.diff_ids:
            out.append(d if not out else sha(("%s %s" % (out[-1], d)).encode()))
        return out


    def oci_layout(self, path, tag="latest"):
        os.makedirs(os.path.join(path, "blobs", "sha256"), exist_ok=True)
        for d, blob in self.blobs.items():
            with open(os.path.join(path, "blobs", "sha256", d[7:]), "wb") as f:
                f.write(blob)
        with open(os.path.join(path, "oci-layout"), "w") as f:
            json.dump({"imageLayoutVersion": "1.0.0"}, f)
        index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                 "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                                "digest": sha(self.manifest), "size": len(self.manifest),
                                "annotations": {"org.opencontainers.image.ref.name": tag}}]}
        with open(os.path.join(path, "index.json"), "w") as f:
            json.dump(index, f)
        return path

    def oci_archive(self, path, tag="latest"):
        layout = path + ".d"
        self.oci_layout(layout, tag)
        with tarfile.open(path, "w") as tf:
            for name in sorted(os.listdir(layout)):
                tf.add(os.path.join(layout, name), arcname=name)
        return path

    def docker_archive(self, path, repotag="gktest/img:latest"):
        """Like `docker save`: manifest.json, the config as <hex>.json and
        each layer as <hex>/layer.tar (uncompressed)."""
        return docker_archive(path, [(self, [repotag])])


def docker_archive(path, images):
    """A docker-archive of several images, as `docker save A B` writes it:
    IMAGES is [(Image, [repotag, ...])], in manifest.json's order (a layer
    two images share is stored once)."""
    with tarfile.open(path, "w") as tf:
        seen = set()

        def add(name, data):
            if name in seen:
                return
            seen.add(name)
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = MTIME
            tf.addfile(ti, io.BytesIO(data))
        entries = []
        for img, repotags in images:
            cfgname = img.id[7:] + ".json"
            add(cfgname, img.config)
            names = []
            for raw in img.raw:
                name = hashlib.sha256(raw).hexdigest() + "/layer.tar"
                add(name, raw)
                names.append(name)
            entries.append({"Config": cfgname, "RepoTags": list(repotags), "Layers": names})
        add("manifest.json", json.dumps(entries).encode())
    return path


def layer_dir(root, chain_id):
    """The tree of an unpacked layer in gkimg's store ROOT."""
    return os.path.join(root, "layers", "chains", chain_id[7:], "fs")
