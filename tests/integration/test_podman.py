"""gkrun under podman + conmon: the same scenarios against runc (the
reference, which proves the tests) and gkrun (the drop-in).

podman runs with private storage, state, configuration (containers.conf,
storage.conf, registries, signature policy: nothing of the host's /etc or
~/.config is read), network config and cgroup parent (all under one
/tmp/gk-podman-* directory), and its containers' runtime
state goes to the runtime's default root, which is where `podman
--runtime X` puts it.  After every test: no container of ours in
`RUNTIME list`, no mount naming one, no cgroup left under our parent.
"""
import hashlib
import json
import os
import random
import shutil
import socket
import tempfile
import time
import tomllib
import uuid

import pytest

from conftest import GKRUN, REPO
from orch import (DEFAULT_ROOTS, IMAGE, LOOPBACK_SCRIPT, ULIMITS, build_rootfs_tar,
                  cgroup_children, freezer_state, iptables_chains, iptables_remove_new,
                  mounts_matching, remove_cgroup_tree, run, run_pty, runtime_ids, runtime_path,
                  toml_dumps, toml_merge, wait_for)

pytestmark = pytest.mark.slow

def private_containers_conf(d):
    """What of containers.conf must be private to the session under D,
    whatever the host has: netavark (Debian's podman package installs a CNI
    config in /etc/cni/net.d, and with it podman would pick CNI, whose
    plugins are not installed), our network directory, events, temp files
    and (empty) hooks directory.  The seccomp profile is the one podman's
    own dependency (containers-common) ships, named so that a local one in
    /etc/containers is not picked up."""
    return {
        "containers": {"seccomp_profile": "/usr/share/containers/seccomp.json"},
        "network": {"network_backend": "netavark", "network_config_dir": d + "/netcfg"},
        "engine": {"events_logger": "file", "tmp_dir": d + "/tmp", "hooks_dir": [d + "/hooks.d"]},
    }


SESSION_CONF = {"engine": {"cgroup_manager": "cgroupfs",
                           "runtime_supports_json": ["crun", "runc", "gkrun"]}}
STORAGE_CONF = """\
[storage]
driver = "overlay"
graphroot = "{d}/root"
runroot = "{d}/run"
"""
REGISTRIES_CONF = 'unqualified-search-registries = []\n'
POLICY = {"default": [{"type": "insecureAcceptAnything"}]}


def free_subnet():
    """A 10.213.X.0/24 no address or route of this machine uses (the net
    tests use 10.210.x): sessions running at once get different ones."""
    used = run(["ip", "-4", "route", "show", "table", "all"]).stdout + \
        run(["ip", "-4", "addr"]).stdout
    for _ in range(200):
        prefix = "10.213.%d" % random.randrange(256)
        if prefix + "." not in used:
            return prefix
    raise AssertionError("no free 10.213.X.0/24")


def network_config(prefix, tag):
    """podman's default network ("podman"), on a bridge, subnet and network
    id of this session's own."""
    return {
        "name": "podman", "driver": "bridge", "network_interface": "gkpod" + tag,
        "id": hashlib.sha256(tag.encode()).hexdigest(),
        "created": "2024-01-01T00:00:00Z",
        "subnets": [{"subnet": prefix + ".0/24", "gateway": prefix + ".1"}],
        "ipv6_enabled": False, "internal": False, "dns_enabled": False,
        "ipam_options": {"driver": "host-local"},
    }


class PodmanEnv:
    """One private podman for the session: storage, state, config."""

    def __init__(self, workdir):
        self.dir = workdir
        self.cgroup_parent = "/" + os.path.basename(workdir)
        for sub in ("netcfg", "tmp", "hooks.d", "home/.config/containers/registries.d"):
            os.makedirs(os.path.join(workdir, sub))
        self.subnet = free_subnet()
        self.bridge_tag = uuid.uuid4().hex[:6]
        with open(os.path.join(workdir, "netcfg", "podman.json"), "w") as f:
            json.dump(network_config(self.subnet, self.bridge_tag), f)
        self.env = self.private_env(toml_merge(private_containers_conf(workdir), SESSION_CONF))
        self.base = ["podman", "--root", os.path.join(workdir, "root"),
                     "--runroot", os.path.join(workdir, "run"),
                     "--default-mounts-file", os.path.join(workdir, "mounts.conf"),
                     "--cgroup-manager", "cgroupfs", "--events-backend", "file"]

    def private_env(self, containers_conf, name="containers.conf"):
        """The environment of a podman that reads no configuration of the
        host's (/etc/containers, /usr/share/containers, ~/.config), only
        files under our directory: CONTAINERS_CONF replaces every system and
        user containers.conf; the signature policy and registries.d are
        looked up in $HOME/.config/containers first."""
        d = self.dir
        files = {
            name: toml_dumps(containers_conf),
            "storage.conf": STORAGE_CONF.format(d=d),
            "registries.conf": REGISTRIES_CONF,
            "mounts.conf": "",
            "auth.json": '{"auths": {}}',
            "home/.config/containers/policy.json": json.dumps(POLICY),
        }
        for rel, text in files.items():
            with open(os.path.join(d, rel), "w") as f:
                f.write(text)
        env = dict(os.environ, CONTAINERS_CONF=os.path.join(d, name),
                   CONTAINERS_STORAGE_CONF=os.path.join(d, "storage.conf"),
                   CONTAINERS_REGISTRIES_CONF=os.path.join(d, "registries.conf"),
                   REGISTRY_AUTH_FILE=os.path.join(d, "auth.json"),
                   HOME=os.path.join(d, "home"), XDG_CONFIG_HOME=os.path.join(d, "home/.config"))
        for var in ("NOTIFY_SOCKET", "XDG_RUNTIME_DIR", "XDG_DATA_HOME", "CONTAINER_HOST",
                    "CONTAINER_CONNECTION"):
            env.pop(var, None)
        return env

    def podman(self, *args, runtime=None, timeout=90, check=False, input=None, env=None):
        cmd = list(self.base)
        if runtime:
            cmd += ["--runtime", runtime_path(runtime)]
        return run(cmd + [str(a) for a in args], timeout=timeout, check=check, input=input,
                   env=env or self.env)


class Podman:
    """podman --runtime RUNTIME for one test; removes its containers."""

    def __init__(self, env, runtime):
        self.env = env
        self.runtime = runtime
        self.ids = set()

    def __call__(self, *args, **kw):
        return self.env.podman(*args, runtime=self.runtime, **kw)

    def cmd(self, *args):
        return self.env.base + ["--runtime", runtime_path(self.runtime)] + list(args)

    def run_args(self, *args):
        return ["run", "--cgroup-parent", self.env.cgroup_parent] + ULIMITS + list(args)

    def run(self, *args, **kw):
        return self(*self.run_args(*args), **kw)

    def start_detached(self, *args, cmd=("sleep", "1000")):
        p = self.run("-d", *args, IMAGE, *cmd)
        assert p.returncode == 0, p.stderr
        cid = p.stdout.strip().splitlines()[-1]
        self.ids.add(cid)
        return cid

    def inspect(self, cid, fmt):
        return self("inspect", "--format", fmt, cid, check=True).stdout.strip()

    def all_ids(self):
        p = self("ps", "-a", "-q", "--no-trunc", check=True)
        return set(p.stdout.split())

    def remove_all(self):
        self.ids |= self.all_ids()
        if self.ids:
            p = self("rm", "-f", "-i", "-t", "0", *sorted(self.ids), timeout=120)
            return p

    def assert_clean(self):
        """Nothing of this test's containers is left behind."""
        self.ids |= self.all_ids()
        self.remove_all()
        left = self.all_ids()
        assert not left, self("ps", "-a", "--no-trunc").stdout
        left = runtime_ids(self.runtime, DEFAULT_ROOTS[self.runtime]) & self.ids
        assert not left, "%s list still shows %s" % (self.runtime, left)
        assert not mounts_matching(*self.ids), "mounts left"
        wait_for(lambda: not [c for c in cgroup_children(self.env.cgroup_parent)
                              if not c.endswith("/conmon")],
                 what="container cgroups under %s to go" % self.env.cgroup_parent)


@pytest.fixture(scope="session")
def podman_env(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("podman tests run real containers and need root")
    for prog in ("podman", "conmon"):
        if not shutil.which(prog):
            pytest.skip("%s is not installed (contrib/install-deps.sh --test)" % prog)
    workdir = tempfile.mkdtemp(prefix="gk-podman-")
    os.chmod(workdir, 0o755)
    chains = iptables_chains()
    env = PodmanEnv(workdir)
    try:
        layer = build_rootfs_tar(str(tmp_path_factory.mktemp("gk-podman-image")))
        env.podman("import", layer, IMAGE, check=True, timeout=120)
        yield env
    finally:
        for rt in ("runc", "gkrun"):
            p = env.podman("ps", "-a", "-q", runtime=rt)
            if p.stdout.split():
                env.podman("rm", "-f", "-t", "0", *p.stdout.split(), runtime=rt, timeout=120)
        env.podman("rmi", "-a", "-f", timeout=120)
        env.podman("system", "reset", "-f", timeout=120)
        for line in reversed(mounts_matching(workdir)):
            run(["umount", "-l", line.split()[4]])
        remove_cgroup_tree(env.cgroup_parent)
        iptables_remove_new(chains)
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(params=["runc", "gkrun"])
def podman(request, podman_env):
    if request.param == "gkrun" and not os.access(GKRUN, os.X_OK):
        pytest.skip("gkrun is not built (GK_BUILD=%s)" % os.path.dirname(GKRUN))
    pm = Podman(podman_env, request.param)
    yield pm
    pm.remove_all()


# --- run ---------------------------------------------------------------------------

def test_run_rm_output_and_exit_code(podman):
    p = podman.run("--rm", IMAGE, "sh", "-c", "echo hello; echo oops >&2; exit 3")
    assert p.returncode == 3, p.stderr
    assert p.stdout == "hello\n"
    assert "oops" in p.stderr
    p = podman.run("--rm", "-e", "FOO=bar", "-w", "/tmp", "--hostname", "hh", "--user", "1000:1000",
                   IMAGE, "sh", "-c", "echo $FOO; pwd; hostname; id -u")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["bar", "/tmp", "hh", "1000"]
    podman.assert_clean()


def test_run_stdin(podman):
    p = podman.run("--rm", "-i", IMAGE, "sh", "-c", "cat; echo done", input="piped\n")
    assert p.returncode == 0, p.stderr
    assert p.stdout == "piped\ndone\n"


def test_run_missing_or_not_executable_command(podman):
    """podman maps the runtime's error text to 127 / 126, as with runc."""
    p = podman.run("--rm", IMAGE, "/nosuch")
    assert p.returncode == 127, p.stderr
    assert "/nosuch" in p.stderr
    p = podman.run("--rm", IMAGE, "/etc/passwd")
    assert p.returncode == 126, p.stderr
    # The failed creates are cleaned up without complaints.
    assert "level=error" not in p.stderr, p.stderr
    podman.assert_clean()


def test_run_it_terminal(podman):
    """-it: conmon receives the pty master through the console socket."""
    status, out = run_pty(podman.cmd(*podman.run_args(
        "--rm", "-it", IMAGE, "sh", "-c", "tty; [ -t 0 ] && echo stdin-tty; exit 4")),
        env=podman.env.env)
    assert status == 4, out
    assert "/dev/pts/0" in out and "stdin-tty" in out
    podman.assert_clean()


# --- detached containers: exec, states ------------------------------------------------

def test_detached_then_exec(podman):
    cid = podman.start_detached("--name", "gk-exec-%s" % podman.runtime)
    assert podman.inspect(cid, "{{.State.Status}}") == "running"
    p = podman("ps", "--format", "{{.ID}} {{.Status}}", "--no-trunc")
    assert cid in p.stdout and "Up" in p.stdout
    p = podman("exec", cid, "sh", "-c", "echo exec-out; echo exec-err >&2; exit 5")
    assert p.returncode == 5
    assert p.stdout == "exec-out\n" and "exec-err" in p.stderr
    p = podman("exec", "-i", cid, "cat", input="through stdin\n")
    assert p.stdout == "through stdin\n"
    # Without a terminal, no tty; with -t, a pty (whose output is not lost).
    p = podman("exec", cid, "tty")
    assert p.returncode == 1 and "not a tty" in p.stdout
    p = podman("exec", "-t", cid, "sh", "-c", "tty; echo exec-tty")
    assert p.returncode == 0, p.stderr
    assert "/dev/pts/" in p.stdout and "exec-tty" in p.stdout
    status, out = run_pty(podman.cmd("exec", "-it", cid, "sh", "-c", "[ -t 0 ] && echo in-tty; exit 6"),
                          env=podman.env.env)
    assert status == 6 and "in-tty" in out, out
    p = podman("exec", cid, "/nosuch")
    assert p.returncode == 127
    # exec'd processes are in the container: same pid namespace as sleep.
    p = podman("exec", cid, "ps", "-o", "comm")
    assert "sleep" in p.stdout
    podman.assert_clean()


def test_stop_kill_rm(podman):
    # A PID 1 that exits on SIGTERM: `stop` reports exit 0 promptly.
    cid = podman.start_detached(cmd=("sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"))
    t = time.time()
    p = podman("stop", "-t", "10", cid)
    assert p.returncode == 0, p.stderr
    assert time.time() - t < 8
    assert podman.inspect(cid, "{{.State.Status}}") == "exited"
    assert podman.inspect(cid, "{{.State.ExitCode}}") == "0"
    p = podman("kill", cid)
    assert p.returncode != 0 and "can only kill running containers" in p.stderr
    # podman restarts the stopped container through the runtime again.
    p = podman("start", cid)
    assert p.returncode == 0, p.stderr
    assert podman.inspect(cid, "{{.State.Status}}") == "running"
    p = podman("kill", "-s", "KILL", cid)
    assert p.returncode == 0, p.stderr
    assert podman("wait", cid).stdout.strip() == "137"
    assert podman.inspect(cid, "{{.State.ExitCode}}") == "137"
    # rm -f of a running container.
    cid2 = podman.start_detached()
    p = podman("rm", "-f", "-t", "0", cid2)
    assert p.returncode == 0, p.stderr
    assert cid2 not in podman.all_ids()
    podman.assert_clean()


def test_pause_unpause(podman):
    cid = podman.start_detached()
    pid = int(podman.inspect(cid, "{{.State.Pid}}"))
    p = podman("pause", cid)
    assert p.returncode == 0, p.stderr
    assert podman.inspect(cid, "{{.State.Status}}") == "paused"
    assert freezer_state(pid) == "FROZEN"
    p = podman("ps", "-a", "--format", "{{.Status}}", "--filter", "id=" + cid)
    assert "Paused" in p.stdout
    p = podman("unpause", cid)
    assert p.returncode == 0, p.stderr
    assert podman.inspect(cid, "{{.State.Status}}") == "running"
    assert freezer_state(pid) == "THAWED"
    assert podman("exec", cid, "true").returncode == 0
    # rm -f of a paused container.
    podman("pause", cid, check=True)
    p = podman("rm", "-f", "-t", "0", cid)
    assert p.returncode == 0, p.stderr
    podman.assert_clean()


def test_stats_and_top(podman):
    cid = podman.start_detached("--memory", "64m")
    podman("exec", "-d", cid, "sleep", "999", check=True)
    p = podman("stats", "--no-stream", "--format", "json", cid)
    assert p.returncode == 0, p.stderr
    st = json.loads(p.stdout)[0]
    assert st["id"].startswith(cid[:12])
    assert int(st["pids"]) == 2
    assert st["mem_usage"].split("/")[1].strip() in ("67.11MB", "64MiB"), st
    p = podman("top", cid, "pid", "args")
    assert p.returncode == 0, p.stderr
    assert "sleep 1000" in p.stdout and "sleep 999" in p.stdout
    podman.assert_clean()


# --- resources, network, user namespaces ---------------------------------------------

def test_limits_seen_inside(podman):
    script = ("cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/pids/pids.max "
              "/sys/fs/cgroup/cpu/cpu.cfs_quota_us /sys/fs/cgroup/cpu/cpu.cfs_period_us")
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):  # pure v2 host
        script = "cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/pids.max /sys/fs/cgroup/cpu.max"
    p = podman.run("--rm", "--memory", "64m", "--pids-limit", "50", "--cpus", "0.5",
                   IMAGE, "sh", "-c", script)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["67108864", "50", "50000", "100000"]
    # The container cannot raise its own limits: its cgroup view is read-only.
    p = podman.run("--rm", "--memory", "64m", IMAGE, "sh", "-c",
                   "echo 1 > /sys/fs/cgroup/memory/memory.limit_in_bytes")
    assert p.returncode != 0 and "Read-only file system" in p.stderr
    # And the limit holds: the pids limit stops a fork bomb of 60.
    p = podman.run("--rm", "--pids-limit", "20", IMAGE, "sh", "-c",
                   "(for i in $(seq 60); do sleep 5 & done) 2>/dev/null; "
                   "read n < /sys/fs/cgroup/pids/pids.current; echo $n; kill -9 -1")
    assert p.stdout.split() and 15 <= int(p.stdout.split()[0]) <= 20, (p.stdout, p.stderr)
    podman.assert_clean()


def test_network_none(podman):
    """Only lo, and up: the container reaches itself on 127.0.0.1."""
    p = podman.run("--rm", "--network", "none", IMAGE, "sh", "-c",
                   "ls /sys/class/net; " + LOOPBACK_SCRIPT)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["lo", "0x9", "over-lo"], p.stdout + p.stderr


def test_device_and_privileged(podman):
    """podman writes each device's fileMode with its file-type bits."""
    p = podman.run("--rm", "--device", "/dev/zero:/dev/gkzero", IMAGE,
                   "sh", "-c", "stat -c '%a %F %t:%T' /dev/gkzero; head -c 3 /dev/gkzero | wc -c")
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["666 character special file 1:5", "3"]
    p = podman.run("--rm", "--privileged", IMAGE, "sh", "-c",
                   "stat -c '%a %F %t:%T' /dev/null; cat /proc/self/status | grep CapEff")
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "666 character special file 1:3"
    assert lines[1].split()[1] != "0000000000000000"


@pytest.fixture(scope="session")
def bridge_works(podman_env):
    """podman's bridge needs netavark and iptables: try it once with runc."""
    p = podman_env.podman("run", "--rm", *ULIMITS, IMAGE, "true", runtime="runc")
    if p.returncode != 0:
        pytest.skip("podman's bridge network does not work on this host: " +
                    p.stderr.strip().splitlines()[-1])


def test_bridge_network(podman, bridge_works):
    cid = podman.start_detached()
    p = podman("exec", cid, "sh", "-c", "ip -4 -o addr show eth0; ip route")
    assert p.returncode == 0, p.stderr
    subnet = podman.env.subnet
    assert "inet %s." % subnet in p.stdout
    assert "default via %s.1" % subnet in p.stdout
    ip = podman.inspect(cid, "{{.NetworkSettings.IPAddress}}")
    assert ip.startswith(subnet + ".")
    # The host reaches the container through the bridge.
    podman("exec", "-d", cid, "sh", "-c", "echo pong | nc -l -p 7777", check=True)
    wait_for(lambda: podman("exec", cid, "netstat", "-ln").stdout.count(":7777") > 0,
             what="the listener")
    with socket.create_connection((ip, 7777), timeout=10) as s:
        assert s.recv(16) == b"pong\n"
    podman.assert_clean()
    bridge = "/sys/class/net/gkpod" + podman.env.bridge_tag
    assert not os.path.exists(bridge) or not os.listdir(bridge + "/brif")


def test_userns_uidmap(podman):
    cid = podman.start_detached("--uidmap", "0:100000:65536", "--gidmap", "0:100000:65536")
    p = podman("exec", cid, "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u")
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["0", "100000", "65536"] * 2 + ["0"]
    pid = int(podman.inspect(cid, "{{.State.Pid}}"))
    with open("/proc/%d/status" % pid) as f:
        uids = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
    assert uids == ["100000"] * 4
    # Files the container creates belong to the mapped ids on the host.
    podman("exec", cid, "touch", "/tmp/made-inside", check=True)
    merged = podman.inspect(cid, "{{.GraphDriver.Data.MergedDir}}")
    assert os.stat(os.path.join(merged, "tmp/made-inside")).st_uid == 100000
    podman.assert_clean()


# --- sd_notify ----------------------------------------------------------------------

def test_sdnotify_container(podman, tmp_path):
    """--sdnotify=container: READY=1 from inside reaches podman's caller."""
    host = str(tmp_path / "notify.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    srv.bind(host)
    srv.settimeout(20)
    try:
        env = dict(podman.env.env, NOTIFY_SOCKET=host)
        p = podman.run("-d", "--sdnotify=container", IMAGE, "sh", "-c",
                       "sleep 0.5; gk-probe notify READY=1; sleep 1000", env=env)
        assert p.returncode == 0, p.stderr
        podman.ids.add(p.stdout.split()[-1])
        got = b""
        while b"READY=1" not in got:
            got += srv.recv(4096) + b"\n"
        assert b"MAINPID=" in got
    finally:
        srv.close()
    podman.assert_clean()


def test_contrib_containers_conf_makes_gkrun_the_default(podman_env):
    """contrib/podman/containers.conf over the session's private settings
    (directories, netavark): podman picks gkrun by name, without --runtime."""
    if not os.access(GKRUN, os.X_OK):
        pytest.skip("gkrun is not built")
    with open(os.path.join(REPO, "contrib", "podman", "containers.conf"), "rb") as f:
        contrib = tomllib.load(f)
    paths = contrib["engine"]["runtimes"]["gkrun"]
    assert "/usr/local/bin/gkrun" in paths
    paths.insert(0, GKRUN)
    env = podman_env.private_env(toml_merge(private_containers_conf(podman_env.dir), contrib),
                                 name="contrib-containers.conf")
    base = podman_env.base[:podman_env.base.index("--cgroup-manager")]
    p = run(base + ["info", "--format", "{{.Host.OCIRuntime.Name}} {{.Host.CgroupManager}} "
                    "{{.Host.NetworkBackend}}"], env=env, check=True)
    assert p.stdout.split() == ["gkrun", "cgroupfs", "netavark"]
    p = run(base + ["run", "--rm", "--cgroup-parent", podman_env.cgroup_parent] + ULIMITS +
            [IMAGE, "sh", "-c", "echo via-conf; exit 2"], env=env)
    assert p.returncode == 2, p.stderr
    assert p.stdout == "via-conf\n"
    # gkrun's JSON error log is what podman reports (runtime_supports_json).
    p = run(base + ["run", "--rm", "--cgroup-parent", podman_env.cgroup_parent] + ULIMITS +
            [IMAGE, "/nosuch"], env=env)
    assert p.returncode == 127 and '"/nosuch"' in p.stderr
    assert not run(base + ["ps", "-a", "-q"], env=env).stdout.strip()
