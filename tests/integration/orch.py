"""Helpers for running gkrun (and runc, the reference) under real orchestrators:
podman + conmon and containerd + its runc shim.

Everything an orchestrator makes lives under a private /tmp/gk-* directory
(storage, state, sockets, network config), its containers' cgroups under a
parent named after that directory, and teardown removes all of it: the
tests never touch a user's podman or containerd.
"""
import hashlib
import io
import json
import os
import shlex
import shutil
import signal
import subprocess
import tarfile
import tempfile
import time
import uuid

import pytest

from gkcli import CGROUP_ROOT, GKRUN, PROBE, REPO
from gkcli import run, wait_for  # noqa: F401 (the orchestrator tests import them from here)

RUNC = shutil.which("runc") or "/usr/sbin/runc"
CRUN = shutil.which("crun") or "/usr/bin/crun"
# Each runtime's default --root: podman does not pass --root to the runtime
# (and its cleanup process drops --runtime-flag), so containers land there.
DEFAULT_ROOTS = {"runc": "/run/runc", "gkrun": "/run/gkrun", "crun": "/run/crun"}
# podman's default rlimits fail under any runtime on hosts without
# CAP_SYS_RESOURCE in the init namespace (the CI VM): ask for what it has.
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]
IMAGE = "localhost/gkbusybox:latest"


# Run by sh in a container: prints lo's flags (0x9: IFF_UP | IFF_LOOPBACK)
# and "over-lo", which went over a TCP connection to itself on 127.0.0.1.
LOOPBACK_SCRIPT = ("cat /sys/class/net/lo/flags; "
                   "nc -l -p 7777 > /tmp/got & "
                   "for i in $(seq 50); do netstat -lnt | grep -q :7777 && break; sleep 0.1; done; "
                   # a client that found no listener yet (busybox's nc -l may
                   # show in netstat before it accepts) tries again
                   "for i in $(seq 50); do echo over-lo 2>/dev/null | nc -w 5 127.0.0.1 7777 "
                   "&& break; sleep 0.1; done; wait; cat /tmp/got")


def runtime_path(name):
    return {"runc": RUNC, "gkrun": GKRUN, "crun": CRUN}[name]


def run_pty(cmd, timeout=60, env=None):
    """Runs CMD with a terminal as its stdin/stdout/stderr (what `-it` and
    `--tty` need); returns (exit status, everything written to the terminal)."""
    import pty
    import select

    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvpe(cmd[0], cmd, env if env is not None else os.environ)
        finally:
            os._exit(127)
    out = b""
    deadline = time.time() + timeout
    try:
        while time.time() < deadline:
            r, _, _ = select.select([fd], [], [], 0.2)
            if r:
                try:
                    data = os.read(fd, 4096)
                except OSError:  # EIO: the other side closed
                    break
                if not data:
                    break
                out += data
            else:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise AssertionError("%s: timed out; output so far: %r" % (" ".join(cmd), out))
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode(errors="replace")


# --- images -----------------------------------------------------------------

def build_rootfs_tar(workdir):
    """bundle-spec/mkrootfs.sh (busybox + gk-probe) as a tar: the one layer."""
    rootfs = os.path.join(workdir, "rootfs")
    subprocess.run([os.path.join(REPO, "bundle-spec", "mkrootfs.sh"), rootfs, PROBE],
                   check=True)
    tar = os.path.join(workdir, "rootfs.tar")
    subprocess.run(["tar", "-C", rootfs, "--numeric-owner", "-cf", tar, "."], check=True)
    shutil.rmtree(rootfs)
    return tar


def build_docker_archive(layer_tar, out, ref=IMAGE):
    """A `docker save` archive of one layer, which `ctr images import` reads."""
    with open(layer_tar, "rb") as f:
        layer = f.read()
    diff_id = hashlib.sha256(layer).hexdigest()
    config = json.dumps({
        "architecture": "amd64", "os": "linux",
        "config": {"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                   "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
    }).encode()
    config_name = hashlib.sha256(config).hexdigest() + ".json"
    manifest = json.dumps([{"Config": config_name, "RepoTags": [ref],
                            "Layers": [diff_id + "/layer.tar"]}]).encode()
    with tarfile.open(out, "w") as t:
        for name, data in ((config_name, config), (diff_id + "/layer.tar", layer),
                           ("manifest.json", manifest)):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mode = 0o644
            t.addfile(ti, io.BytesIO(data))
    return out


# --- what must be gone after removal -------------------------------------------

def runtime_ids(runtime, root):
    """Container ids `RUNTIME --root ROOT list` reports."""
    if not os.path.isdir(root):
        return set()
    p = run([runtime_path(runtime), "--root", root, "list", "-q"], timeout=30)
    assert p.returncode == 0, p.stderr
    return set(p.stdout.split())


def mounts_matching(*needles):
    with open("/proc/self/mountinfo") as f:
        return [l.strip() for l in f if any(n in l for n in needles)]


def cgroup_children(parent):
    """Sub-cgroups left under PARENT (a path relative to each hierarchy)."""
    left = []
    for hier in os.listdir(CGROUP_ROOT):
        d = os.path.join(CGROUP_ROOT, hier, parent.strip("/"))
        if os.path.isdir(d):
            for entry in os.scandir(d):
                if entry.is_dir(follow_symlinks=False):
                    left.append(entry.path)
    return left


def freezer_state(pid):
    """PID's cgroup freezer state as containerd and podman print it:
    FROZEN or THAWED (from cgroup.freeze on a host without a v1 freezer)."""
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, ctrl, path = line.strip().split(":", 2)
            if "freezer" in ctrl.split(","):
                with open("/sys/fs/cgroup/freezer%s/freezer.state" % path) as g:
                    return g.read().strip()
    with open("/proc/%d/cgroup" % pid) as f:  # cgroup v2
        path = f.read().strip().split("::", 1)[1]
    with open("/sys/fs/cgroup%s/cgroup.freeze" % path) as g:
        return "FROZEN" if g.read().strip() == "1" else "THAWED"


def remove_hidden_unified(*rels):
    """crun runs here in a private mount namespace without the hybrid
    host's (empty) cgroup2 mount, and makes its v2 directories in the plain
    tmpfs directory under that mount, which the host's namespace cannot
    see: remove REL (relative to /sys/fs/cgroup/unified) there, likewise
    out of sight."""
    unified = os.path.join(CGROUP_ROOT, "unified")
    paths = [os.path.join(unified, r.strip("/")) for r in rels
             if r.strip("/") and ".." not in r.split("/")]
    if not paths or not os.path.ismount(unified):
        return
    subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                    'umount "$0" && rm -rf -- "$@"', unified] + paths,
                   stdin=subprocess.DEVNULL, capture_output=True, timeout=60)


def remove_cgroup_tree(parent):
    """rmdir PARENT and everything under it, on every hierarchy (ours only),
    and under the hidden cgroup2 directory crun may have used."""
    remove_hidden_unified(parent)
    for hier in os.listdir(CGROUP_ROOT):
        top = os.path.join(CGROUP_ROOT, hier, parent.strip("/"))
        if not os.path.isdir(top):
            continue
        for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -w[0].count("/")):
            for _ in range(50):
                try:
                    os.rmdir(dirpath)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    kill_cgroup_procs(dirpath)
                    time.sleep(0.05)


def kill_cgroup_procs(path):
    try:
        with open(os.path.join(path, "cgroup.procs")) as f:
            pids = [int(x) for x in f.read().split()]
    except OSError:
        return
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# --- netavark's iptables chains ---------------------------------------------------

def iptables_chains():
    """{(table, chain)} of netavark's chains present now."""
    found = set()
    if not shutil.which("iptables"):
        return found
    for table in ("filter", "nat"):
        p = run(["iptables", "-t", table, "-S"], timeout=30)
        for line in p.stdout.splitlines():
            if line.startswith("-N NETAVARK"):
                found.add((table, line.split()[1]))
    return found


def iptables_remove_new(before):
    """Removes the netavark chains that appeared since BEFORE (netavark
    leaves its top-level chains behind when the last container goes)."""
    now = iptables_chains()
    new = now - before
    # Another podman's network still in use (its own NETAVARK-<hash> chain,
    # its rules in NETAVARK_FORWARD) needs the shared chains: leave them.
    if any(not c.startswith("NETAVARK-HOSTPORT-") and c.startswith("NETAVARK-")
           for _, c in now):
        return
    if "-A NETAVARK_FORWARD" in run(["iptables", "-t", "filter", "-S"], timeout=30).stdout:
        return
    for table, chain in new:
        p = run(["iptables", "-t", table, "-S"], timeout=30)
        for line in p.stdout.splitlines():
            words = shlex.split(line)
            if words[:1] == ["-A"] and "-j" in words and words[words.index("-j") + 1] == chain \
                    and (words[1], chain) not in new:
                run(["iptables", "-t", table, "-D"] + words[1:], timeout=30)
    for table, chain in new:
        run(["iptables", "-t", table, "-F", chain], timeout=30)
    for table, chain in new:
        run(["iptables", "-t", table, "-X", chain], timeout=30)


# --- TOML (containerd's config): tomllib reads it, this writes it back -------------

def toml_merge(base, extra):
    """EXTRA's keys over BASE's, tables merged key by key: what a user
    merging a snippet into a config file by hand ends up with."""
    for k, v in extra.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            toml_merge(base[k], v)
        else:
            base[k] = v
    return base


def _toml_key(k):
    return k if k and all(c.isalnum() or c in "-_" for c in k) else json.dumps(k)


def _toml_value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a TOML basic string is JSON's string syntax
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):  # only empty or scalar inline tables reach here
        return "{" + ", ".join("%s = %s" % (_toml_key(k), _toml_value(x))
                               for k, x in v.items()) + "}"
    raise TypeError("no TOML for %r" % (v,))


def toml_dumps(doc, prefix=()):
    """DOC (dicts of str, int, bool, lists) as TOML text: scalars first,
    then one [table] per nested dict."""
    lines = []
    tables = []
    for k, v in doc.items():
        if isinstance(v, dict):
            tables.append((k, v))
        else:
            lines.append("%s = %s" % (_toml_key(k), _toml_value(v)))
    out = ""
    if prefix and (lines or not tables):
        out += "[%s]\n" % ".".join(_toml_key(p) for p in prefix)
    out += "".join(l + "\n" for l in lines)
    for k, v in tables:
        out += "\n" + toml_dumps(v, prefix + (k,))
    return out


class RuntimeUnderTest:
    """One runtime (runc, gkrun) run directly, with its own --root under
    WORKDIR; removes its containers at the end.  Test files subclass it
    for the bundles they make (runtime_fixture)."""
    id_prefix = "gkr-"

    def __init__(self, name, workdir, rootfs):
        self.name = name
        self.path = runtime_path(name)
        self.workdir = workdir
        self.root = os.path.join(workdir, "root")
        self.rootfs = rootfs
        self.ids = []

    def __call__(self, *args, env=None, timeout=60, check=False):
        return run([self.path, "--root", self.root] + [str(a) for a in args],
                   env=env, timeout=timeout, check=check)

    def new_id(self):
        cid = self.id_prefix + uuid.uuid4().hex[:10]
        self.ids.append(cid)
        return cid

    def state(self, cid):
        return json.loads(self("state", cid, check=True).stdout)

    def cleanup(self):
        for cid in self.ids:
            self("delete", "--force", cid)


def runtime_fixture(cls, prefix):
    """A fixture `rt`: each test once under runc and once under gkrun, as a
    CLS with a fresh work directory (PREFIX under /tmp)."""
    @pytest.fixture(params=["runc", "gkrun"])
    def rt(request, rootfs):
        if os.geteuid() != 0:
            pytest.skip("runs real containers and needs root")
        if not os.access(runtime_path(request.param), os.X_OK):
            pytest.skip("%s is not available" % request.param)
        workdir = tempfile.mkdtemp(prefix=prefix)
        os.chmod(workdir, 0o755)
        r = cls(request.param, workdir, rootfs)
        yield r
        r.cleanup()
        shutil.rmtree(workdir, ignore_errors=True)
    return rt
