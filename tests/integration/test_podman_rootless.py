"""Rootless podman (`podman --runtime RUNTIME` run by a user) with gkrun and
with runc 1.1 (the reference), the same scenarios and assertions.

The module makes a throwaway user with a subordinate id range of its own
(one line appended to /etc/subuid and one to /etc/subgid, taken out again
afterwards: the files end as they were), and a directory it owns holding
all of podman's state and configuration: storage (vfs), runroot, tmp_dir,
XDG_RUNTIME_DIR, HOME, containers.conf, storage.conf, registries.conf and
the signature policy; nothing of the host's /etc/containers or a home
directory is read.  Every command runs as that user (setpriv, a clean
environment).  Teardown kills every process of the user's uid or its
subordinate ids (podman's pause process, conmon, containers) by pid,
removes the directory and the user.

On a cgroup v1 host (as this one) rootless podman runs its containers
without cgroups of their own (it writes no linux.cgroupsPath and no
limits); the runtime runs euid 0 in podman's user namespace, which runc
counts as rootless (its state under $XDG_RUNTIME_DIR/runc, its rootless
cgroup manager), and gkrun decides the same way.

Networks: `--network none` (only lo) and `--network slirp4netns` (a tap0
of slirp4netns's in the container's own network namespace); the tests send
traffic only to the container itself over loopback, never outside.
"""
import difflib
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import uuid

import pytest

from conftest import GKRUN
from orch import (IMAGE, LOOPBACK_SCRIPT, build_rootfs_tar, mounts_matching, run, toml_dumps,
                  wait_for)

pytestmark = pytest.mark.slow

RUNC = "/usr/sbin/runc"
RUNTIMES = ["gkrun", "runc"]
SUB_COUNT = 65536
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
STORAGE_CONF = '[storage]\ndriver = "vfs"\ngraphroot = "{d}/root"\nrunroot = "{d}/run"\n'
POLICY = {"default": [{"type": "insecureAcceptAnything"}]}


def runtime_binary(name):
    return GKRUN if name == "gkrun" else RUNC


def pids_of_uids(lo, hi):
    """Pids whose real uid is in [LO, HI)."""
    pids = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/status" % d) as f:
                for line in f:
                    if line.startswith("Uid:"):
                        if any(lo <= int(u) < hi for u in line.split()[1:]):
                            pids.append(int(d))
                        break
        except OSError:
            pass
    return pids


def used_sub_ranges():
    ranges = []
    for path in ("/etc/subuid", "/etc/subgid"):
        try:
            with open(path) as f:
                for line in f:
                    parts = line.strip().split(":")
                    if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():
                        ranges.append((int(parts[1]), int(parts[1]) + int(parts[2])))
        except FileNotFoundError:
            pass
    return ranges


def free_sub_start(uid):
    """The start of a range of SUB_COUNT ids nobody's /etc/subuid or
    /etc/subgid line covers (other tests may add theirs meanwhile: ours
    sit far from theirs, keyed by our uid)."""
    used = used_sub_ranges()
    for k in range(1000):
        start = 400000000 + ((uid + k) % 1000) * SUB_COUNT
        if all(start + SUB_COUNT <= a or b <= start for a, b in used):
            return start
    raise AssertionError("no free subordinate id range")


class SubIds:
    """Our line in /etc/subuid and /etc/subgid; remove() takes the user's
    lines out again (other lines, also ones added meanwhile, stay)."""

    def __init__(self, name, start):
        self.name = name
        self.line = "%s:%d:%d\n" % (name, start, SUB_COUNT)
        self.added = []
        for path in ("/etc/subuid", "/etc/subgid"):
            existed = os.path.exists(path)
            with open(path, "a+") as f:
                f.seek(0)
                text = f.read()
                if text and not text.endswith("\n"):
                    raise AssertionError("%s does not end in a newline" % path)
                f.write(self.line)
            self.added.append((path, existed))

    def remove(self):
        for path, existed in self.added:
            with open(path) as f:
                lines = f.readlines()
            keep = [l for l in lines if l.split(":")[0] != self.name]
            if not existed and not keep:
                os.unlink(path)
                continue
            with open(path, "w") as f:
                f.writelines(keep)


class RootlessPodman:
    """The user, its private podman, and the image it imported."""

    def __init__(self, layer_src):
        self.name = "gkpr" + uuid.uuid4().hex[:8]
        self.subids = None
        self.dir = None
        subprocess.run(["useradd", "-M", "-s", "/bin/sh", "-K", "SUB_UID_COUNT=0", "-K",
                        "SUB_GID_COUNT=0", self.name], check=True,
                       capture_output=True)
        pw = pwd.getpwnam(self.name)
        self.uid, self.gid = pw.pw_uid, pw.pw_gid
        self.sub = free_sub_start(self.uid)
        self.subids = SubIds(self.name, self.sub)
        self.dir = tempfile.mkdtemp(prefix="gk-podman-rl-")
        os.chmod(self.dir, 0o755)
        d = self.dir
        for sub in ("xdg", "home/.config/containers", "tmp", "netcfg", "image"):
            os.makedirs(os.path.join(d, sub), 0o700)
        conf = {
            "containers": {"seccomp_profile": "/usr/share/containers/seccomp.json"},
            "network": {"network_backend": "netavark", "network_config_dir": d + "/netcfg",
                        "default_rootless_network_cmd": "slirp4netns"},
            "engine": {"cgroup_manager": "cgroupfs", "events_logger": "file",
                       "tmp_dir": d + "/tmp", "hooks_dir": [d + "/hooks.d"],
                       "runtime_supports_json": ["crun", "runc", "gkrun"]},
        }
        files = {
            "containers.conf": toml_dumps(conf),
            "storage.conf": STORAGE_CONF.format(d=d),
            "registries.conf": "unqualified-search-registries = []\n",
            "mounts.conf": "",
            "auth.json": '{"auths": {}}',
            "home/.config/containers/policy.json": json.dumps(POLICY),
        }
        os.makedirs(os.path.join(d, "hooks.d"))
        for rel, text in files.items():
            with open(os.path.join(d, rel), "w") as f:
                f.write(text)
        shutil.copy(layer_src, os.path.join(d, "image", "rootfs.tar"))
        subprocess.run(["chown", "-R", "%d:%d" % (self.uid, self.gid), d], check=True)
        self.env = {
            "PATH": PATH, "HOME": d + "/home", "XDG_CONFIG_HOME": d + "/home/.config",
            "XDG_RUNTIME_DIR": d + "/xdg", "CONTAINERS_CONF": d + "/containers.conf",
            "CONTAINERS_STORAGE_CONF": d + "/storage.conf",
            "CONTAINERS_REGISTRIES_CONF": d + "/registries.conf",
            "REGISTRY_AUTH_FILE": d + "/auth.json", "USER": self.name, "LOGNAME": self.name,
        }
        self.base = ["podman", "--root", d + "/root", "--runroot", d + "/run",
                     "--default-mounts-file", d + "/mounts.conf",
                     "--cgroup-manager", "cgroupfs", "--events-backend", "file"]

    def as_user(self, argv, prefix=()):
        """ARGV as the user, in its environment; PREFIX runs first, as root."""
        env = ["env", "-i"] + ["%s=%s" % kv for kv in self.env.items()]
        return list(prefix) + ["setpriv", "--reuid", str(self.uid), "--regid", str(self.gid),
                "--init-groups"] + env + [str(a) for a in argv]

    def podman(self, *args, runtime=None, timeout=120, check=False, input=None, prefix=()):
        cmd = list(self.base)
        if runtime:
            cmd += ["--runtime", runtime_binary(runtime)]
        return run(self.as_user(cmd + list(args), prefix), cwd=self.dir, timeout=timeout,
                   check=check, input=input)

    def kill_all(self):
        for _ in range(100):
            pids = pids_of_uids(self.uid, self.uid + 1) + \
                pids_of_uids(self.sub, self.sub + SUB_COUNT)
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            time.sleep(0.1)
        raise AssertionError("processes of %s left: %s" % (self.name, pids))

    def cleanup(self):
        try:
            self.kill_all()
        finally:
            if self.dir:
                for line in reversed(mounts_matching(self.dir)):
                    run(["umount", "-l", line.split()[4]])
                shutil.rmtree(self.dir, ignore_errors=True)
            subprocess.run(["userdel", self.name], capture_output=True)
            if self.subids:
                self.subids.remove()


@pytest.fixture(scope="module")
def rlpodman(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("making a user takes root")
    for prog in ("podman", "conmon", "newuidmap", "slirp4netns"):
        if not shutil.which(prog):
            pytest.skip("%s is not installed (contrib/install-deps.sh --test)" % prog)
    layer = build_rootfs_tar(str(tmp_path_factory.mktemp("gk-podman-rl-image")))
    pm = RootlessPodman(layer)
    try:
        p = pm.podman("import", pm.dir + "/image/rootfs.tar", IMAGE, timeout=300)
        assert p.returncode == 0, p.stderr
        yield pm
    finally:
        pm.cleanup()


class Podman:
    """podman --runtime RUNTIME as the user, for one test."""

    def __init__(self, pm, runtime):
        self.pm = pm
        self.runtime = runtime

    def __call__(self, *args, **kw):
        return self.pm.podman(*args, runtime=self.runtime, **kw)

    def run(self, *args, **kw):
        return self("run", *args, **kw)

    def start_detached(self, *args, cmd=("sleep", "1000")):
        p = self.run("-d", *args, IMAGE, *cmd)
        assert p.returncode == 0, p.stderr
        return p.stdout.strip().splitlines()[-1]

    def inspect(self, cid, fmt):
        return self("inspect", "--format", fmt, cid, check=True).stdout.strip()

    def all_ids(self):
        return set(self("ps", "-a", "-q", "--no-trunc", check=True).stdout.split())

    def state_dir(self):
        """Where the runtime keeps its containers' state: podman passes it
        no --root, so the runtime's default for a user."""
        return os.path.join(self.pm.dir, "xdg", self.runtime)

    def assert_clean(self):
        left = self.all_ids()
        if left:
            self("rm", "-f", "-t", "0", *sorted(left))
        assert not left, "containers left: %s" % left
        state = self.state_dir()
        assert not os.path.isdir(state) or not os.listdir(state), os.listdir(state)
        assert not pids_of_uids(self.pm.sub, self.pm.sub + SUB_COUNT)


@pytest.fixture(params=RUNTIMES)
def podman(request, rlpodman):
    if request.param == "gkrun" and not os.access(GKRUN, os.X_OK):
        pytest.skip("gkrun is not built (GK_BUILD=%s)" % os.path.dirname(GKRUN))
    pm = Podman(rlpodman, request.param)
    yield pm
    left = pm.all_ids()
    if left:
        pm("rm", "-f", "-t", "0", *sorted(left))


def map_lines(text):
    return [l.split() for l in text.splitlines() if len(l.split()) == 3 and l.split()[0].isdigit()]


# --- run --rm ------------------------------------------------------------------------

def test_run_id_maps_and_exit_code(podman):
    """root in the container is the user; the rest of the ids are its
    subordinate range; output and exit code come back."""
    pm = podman.pm
    p = podman.run("--rm", "--network", "none", IMAGE, "sh", "-c",
                   "id; cat /proc/self/uid_map /proc/self/gid_map; echo oops >&2; exit 3")
    assert p.returncode == 3, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0].startswith("uid=0(root) gid=0(root)"), p.stdout
    want = [["0", str(pm.uid), "1"], ["1", str(pm.sub), str(SUB_COUNT)]]
    gwant = [["0", str(pm.gid), "1"], ["1", str(pm.sub), str(SUB_COUNT)]]
    assert map_lines(p.stdout) == want + gwant
    assert "oops" in p.stderr
    podman.assert_clean()


def test_run_writes_files_as_mapped_ids(podman):
    """Files made in the container belong to the user (root inside) or to
    its subordinate ids (other users inside), as the host sees them."""
    pm = podman.pm
    name = "gk-write-%s" % podman.runtime
    p = podman.run("--name", name, "--network", "none", IMAGE, "sh", "-c",
                   "echo by-root > /by-root && touch /by-1000 && chown 1000:1000 /by-1000 && "
                   "cat /by-root && stat -c %u:%g /by-1000")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["by-root", "1000:1000"]
    cid = podman.inspect(name, "{{.ID}}")
    root = os.path.join(pm.dir, "root", "vfs", "dir")
    layer = [os.path.join(root, d) for d in os.listdir(root)
             if os.path.exists(os.path.join(root, d, "by-root"))]
    assert len(layer) == 1, (cid, os.listdir(root))
    st = os.stat(os.path.join(layer[0], "by-root"))
    assert (st.st_uid, st.st_gid) == (pm.uid, pm.gid)
    st = os.stat(os.path.join(layer[0], "by-1000"))
    assert (st.st_uid, st.st_gid) == (pm.sub + 999, pm.sub + 999)
    podman("rm", name, check=True)
    podman.assert_clean()


# --- detached: exec, stop, rm ----------------------------------------------------------

def test_detached_exec_stop_rm(podman):
    pm = podman.pm
    cid = podman.start_detached("--network", "none",
                                cmd=("sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"))
    assert podman.inspect(cid, "{{.State.Status}}") == "running"
    # The runtime's state is the user's, under XDG_RUNTIME_DIR (podman
    # gives the runtime no --root).
    assert os.path.isdir(os.path.join(podman.state_dir(), cid))
    p = podman("exec", cid, "sh", "-c", "id -u; cat /proc/self/uid_map; echo err >&2; exit 5")
    assert p.returncode == 5
    assert p.stdout.split() == ["0", "0", str(pm.uid), "1", "1", str(pm.sub), str(SUB_COUNT)]
    assert "err" in p.stderr
    p = podman("exec", "-i", cid, "cat", input="through stdin\n")
    assert p.stdout == "through stdin\n"
    p = podman("exec", "--user", "1000", cid, "id", "-u")
    assert p.stdout.strip() == "1000", p.stderr
    # exec'd processes share the container's pid namespace
    p = podman("exec", cid, "ps", "-o", "pid,comm")
    assert p.returncode == 0, p.stderr
    assert ["1", "sh"] in [l.split() for l in p.stdout.splitlines()]
    p = podman("exec", cid, "/nosuch")
    assert p.returncode == 127
    # The host sees the container's processes as the user's.
    pid = int(podman.inspect(cid, "{{.State.Pid}}"))
    with open("/proc/%d/status" % pid) as f:
        uids = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
    assert set(uids) == {str(pm.uid)}
    # TERM ends it (exit 0, not 137), well before the 30 s after which
    # podman would KILL (the bound leaves room for a slow VM's podman)
    t = time.time()
    p = podman("stop", "-t", "30", cid)
    took = time.time() - t
    assert p.returncode == 0, p.stderr
    assert podman.inspect(cid, "{{.State.Status}}") == "exited"
    assert podman.inspect(cid, "{{.State.ExitCode}}") == "0"
    assert took < 25, "stop took %.1fs" % took
    # podman starts the stopped container again through the runtime
    p = podman("start", cid)
    assert p.returncode == 0, p.stderr
    assert podman.inspect(cid, "{{.State.Status}}") == "running"
    p = podman("rm", "-f", "-t", "0", cid)
    assert p.returncode == 0, p.stderr
    assert not os.path.exists(os.path.join(podman.state_dir(), cid))
    podman.assert_clean()


def test_stop_kills_after_timeout(podman):
    """A PID 1 without a TERM handler ignores TERM: stop -t 2 kills it
    after the two seconds, 137."""
    cid = podman.start_detached("--network", "none")
    t = time.time()
    p = podman("stop", "-t", "2", cid)
    took = time.time() - t
    assert p.returncode == 0, p.stderr
    assert podman.inspect(cid, "{{.State.ExitCode}}") == "137"
    assert took > 1.5, "stop took %.1fs" % took
    p = podman("kill", cid)
    assert p.returncode != 0 and "can only kill running containers" in p.stderr
    podman("rm", cid, check=True)
    podman.assert_clean()


# --- networks -----------------------------------------------------------------------------

def test_network_none(podman):
    """Only lo, up: the container reaches itself over 127.0.0.1."""
    p = podman.run("--rm", "--network", "none", IMAGE, "sh", "-c",
                   "ls /sys/class/net; " + LOOPBACK_SCRIPT)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["lo", "0x9", "over-lo"], p.stdout + p.stderr
    podman.assert_clean()


def test_network_slirp4netns(podman):
    """slirp4netns's tap0 in the container's own network namespace, with
    the address slirp4netns gives (10.0.2.100) and a default route through
    it; traffic only over loopback (nothing is sent outside)."""
    need_tun(podman.pm)
    p = podman.run("--rm", "--network", "slirp4netns", IMAGE, "sh", "-c",
                   "ls /sys/class/net; ip -4 -o addr show tap0; ip route; " + LOOPBACK_SCRIPT)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    assert out.split()[:2] == ["lo", "tap0"], out
    assert "inet 10.0.2.100/24" in out, out
    assert "default via 10.0.2.2 dev tap0" in out, out
    assert out.split()[-2:] == ["0x9", "over-lo"], out
    podman.assert_clean()


# --- user namespaces --------------------------------------------------------------------------

def test_userns_keep_id(podman):
    """--userns keep-id: a user namespace of the container's own in
    podman's, the user's uid kept as itself."""
    pm = podman.pm
    p = podman.run("--rm", "--network", "none", "--userns", "keep-id", IMAGE, "sh", "-c",
                   "id -u; id -g; cat /proc/self/uid_map")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split()
    assert lines[:2] == [str(pm.uid), str(pm.gid)], p.stdout
    # the user's uid is mapped to itself (through podman's namespace: its 0)
    maps = map_lines(p.stdout)
    assert [str(pm.uid), "0", "1"] in maps, maps
    podman.assert_clean()


# --- gkrun and runc, side by side -------------------------------------------------------------

VIEW = ("id; cat /proc/self/uid_map /proc/self/gid_map /proc/self/setgroups; "
        "grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; ls /dev | sort; "
        "stat -c '%n %a %u:%g %F' /dev/null /dev/zero /dev/tty /dev/pts /dev/shm /dev/mqueue; "
        "awk '{for (i = 7; $i != \"-\"; i++); print $5, $(i + 1), $6}' /proc/self/mountinfo | sort; ulimit -n; hostname; "
        "cat /proc/self/oom_score_adj; ls /sys/fs/cgroup | head -3")


# Where gkrun differs from runc 1.1.5 on purpose, for root as for a user
# (tests/integration/differential_allowlist.py has the same rows, and
# bundle-spec/cgroups.md the reasons): on a hybrid host gkrun binds the
# unified hierarchy too, and a read-only cgroup mount is read-only down to
# its tmpfs.  Each pair: (runc's line or None, gkrun's line or None).
ACCEPTED = [
    (None, "/sys/fs/cgroup/unified cgroup2 ro,nosuid,nodev,noexec,relatime"),
    ("/sys/fs/cgroup tmpfs rw,nosuid,nodev,noexec,relatime",
     "/sys/fs/cgroup tmpfs ro,nosuid,nodev,noexec,relatime"),
]


def accepted(lines, gkrun):
    """LINES without the accepted lines of runc (GKRUN false) or gkrun."""
    drop = {pair[int(gkrun)] for pair in ACCEPTED if pair[int(gkrun)]}
    return [l for l in lines if l not in drop]


def tun_usable(pm):
    """slirp4netns opens /dev/net/tun as the user: a host that keeps it
    0600 (as this CI VM) lets no user have a slirp4netns network."""
    p = run(pm.as_user(["sh", "-c", "exec 3<>/dev/net/tun"]), cwd=pm.dir)
    return p.returncode == 0


def need_tun(pm):
    if not tun_usable(pm):
        st = os.stat("/dev/net/tun")
        pytest.skip("/dev/net/tun is mode %o here: no user can open it for slirp4netns"
                    % (st.st_mode & 0o777))


@pytest.mark.parametrize("net", ["none", "slirp4netns"])
def test_gkrun_and_runc_look_the_same(rlpodman, net):
    """The same container as the user sees it from inside, under gkrun and
    under runc: ids and maps, capabilities, /dev, mount points and
    filesystem types, limits; the lines must be equal."""
    if not os.access(GKRUN, os.X_OK):
        pytest.skip("gkrun is not built")
    if net == "slirp4netns":
        need_tun(rlpodman)
    seen = {}
    for runtime in RUNTIMES:
        p = rlpodman.podman("run", "--rm", "--network", net, "--hostname", "hh", IMAGE, "sh", "-c",
                            VIEW, runtime=runtime)
        assert p.returncode == 0, (runtime, p.stderr)
        seen[runtime] = accepted(p.stdout.splitlines(), runtime == "gkrun")
    assert seen["gkrun"] == seen["runc"], "\n".join(
        difflib.unified_diff(seen["runc"], seen["gkrun"], "runc", "gkrun", lineterm=""))
    assert not Podman(rlpodman, "gkrun").all_ids()


# --- cgroup v2: a delegated subtree ------------------------------------------------------------

def remove_cgroup_dirs(top):
    """rmdir TOP and everything under it, deepest first (their processes
    are gone: the user's were killed)."""
    for dirpath, _, _ in sorted(os.walk(top), key=lambda w: -w[0].count("/")):
        for _ in range(50):
            try:
                os.rmdir(dirpath)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.1)


@pytest.mark.cgroup
def test_delegated_cgroup_v2_limits(podman):
    """Pure cgroup v2 with a subtree delegated to the user (what systemd's
    Delegate=yes gives: the directory, cgroup.procs, cgroup.subtree_control
    and cgroup.threads are the user's; podman runs in a leaf of it, as a
    delegated session does).  `--cgroup-parent` names the subtree: podman
    then writes linux.cgroupsPath PARENT/libpod-ID, the runtime makes it
    with the limits, and they hold.  Runs in the cgroup-v2 VM (make
    check-cgv2): there is no user systemd there, so cgroupfs."""
    if not os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        pytest.skip("needs a pure cgroup v2 host (make check-cgv2)")
    with open("/sys/fs/cgroup/cgroup.subtree_control") as f:
        if not {"memory", "pids"} <= set(f.read().split()):
            pytest.skip("memory and pids are not enabled for the root's children")
    pm = podman.pm
    name = "gkpr-%s-%s" % (podman.runtime, uuid.uuid4().hex[:6])
    deleg = os.path.join("/sys/fs/cgroup", name)
    shell = os.path.join(deleg, "shell")
    os.mkdir(deleg)
    try:
        for f in ("", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads"):
            os.chown(os.path.join(deleg, f), pm.uid, pm.gid)
        os.mkdir(shell)
        for f in ("", "cgroup.procs"):
            os.chown(os.path.join(shell, f), pm.uid, pm.gid)
        enter = ["sh", "-c", 'echo $$ > %s/cgroup.procs && exec "$@"' % shell, "sh"]
        p = podman("run", "-d", "--network", "none", "--cgroup-parent", "/" + name,
                   "--memory", "64m", "--pids-limit", "20", IMAGE, "sleep", "1000",
                   prefix=enter)
        assert p.returncode == 0, p.stderr
        cid = p.stdout.split()[-1]
        pid = int(podman.inspect(cid, "{{.State.Pid}}"))
        with open("/proc/%d/cgroup" % pid) as f:
            path = f.read().strip().split("::", 1)[1]
        assert path == "/%s/libpod-%s" % (name, cid)
        cg = "/sys/fs/cgroup" + path
        with open(cg + "/memory.max") as f:
            assert f.read().strip() == str(64 << 20)
        # the pids limit holds: 60 sleeps started, at most 20 processes
        p = podman("exec", cid, "sh", "-c",
                   "(for i in $(seq 60); do sleep 5 & done) 2>/dev/null; "
                   "cat /sys/fs/cgroup/pids.current /sys/fs/cgroup/pids.max; kill -9 -1",
                   prefix=enter)
        got = p.stdout.split()
        assert len(got) == 2 and 15 <= int(got[0]) <= 20 and got[1] == "20", (p.stdout, p.stderr)
        p = podman("rm", "-f", "-t", "0", cid, prefix=enter)
        assert p.returncode == 0, p.stderr
        wait_for(lambda: not os.path.exists(cg), what="the container's cgroup to go")
        podman.assert_clean()
    finally:
        pm.kill_all()
        remove_cgroup_dirs(deleg)
