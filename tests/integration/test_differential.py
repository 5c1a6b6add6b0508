"""Differential test: the same bundle under runc and under gkrun, and what
the container observes compared.

Each bundle of the table (the defaults of `runc spec` and `gkrun spec`, one
field of config.json changed at a time, and the configs podman and ctr
really generate, captured from runs of those tools) runs under runc, gkrun
and, where this host lets it, crun.  In the container `gk-probe observe`
prints one JSON document of everything it can see of its setup (mounts,
/dev, ids, capabilities, rlimits, seccomp, interfaces, sysctls...); a
create that fails is observed as its exit status and the gist of its error.
The observations are normalised (host paths, container ids and namespace
inodes out) and compared with runc's.  Every difference must be listed, with
its reason, in differential_allowlist.py; an entry that no longer matches
anything fails too.  crun's value is shown beside every difference, and an
entry that claims gkrun behaves "like crun" is checked against it.
"""
import copy
import fnmatch
import json
import os
import shutil
import subprocess
import tempfile
import uuid

import pytest

from conftest import ALL_CAPS_5_9, GKRUN, kill_leftover
from differential_allowlist import ALLOW
from orch import CRUN, IMAGE, RUNC, ULIMITS, remove_cgroup_tree, remove_hidden_unified, run

# The fixtures of the orchestrator tests, reused: one private podman and one
# private containerd for the session, each with the gk-probe image.
from test_containerd import containerd  # noqa: F401  (a fixture)
from test_podman import podman_env  # noqa: F401  (a fixture)

PROBE_ARGS = ["/bin/gk-probe", "observe"]
ABSENT = "<absent>"
CAPS = ALL_CAPS_5_9
# The gist of a failed create: the first of these its error message says.
GISTS = ["environment variable", "unknown capability", "rlimit", "sysctl", "hostname",
         "cwd", "absolute path", "user namespace", "executable file not found", "no such file or directory",
         "permission denied", "operation not permitted", "read-only file system",
         "not a directory", "file exists", "invalid argument"]


# --- the runtimes ---------------------------------------------------------------

def crun_command(workdir):
    """crun 1.8 refuses a hybrid host while the (empty) cgroup2 mount at
    /sys/fs/cgroup/unified is visible: run it, as tests/run-tests.sh's
    GK_V1_VIEW does, in a private mount namespace without that mount."""
    if not os.access(CRUN, os.X_OK):
        return None
    if not os.path.ismount("/sys/fs/cgroup/unified"):
        return [CRUN]
    wrapper = os.path.join(workdir, "crun-v1-view")
    with open(wrapper, "w") as f:
        f.write("#!/bin/sh\nexec unshare -m --propagation private sh -c "
                "'umount /sys/fs/cgroup/unified && exec \"$0\" \"$@\"' %s \"$@\"\n" % CRUN)
    os.chmod(wrapper, 0o755)
    return [wrapper]


class Runtime:
    def __init__(self, name, cmd, workdir):
        self.name = name
        self.cmd = cmd
        self.root = os.path.join(workdir, "state-" + name)

    def __call__(self, *args, timeout=60):
        return run(self.cmd + ["--root", self.root] + [str(a) for a in args],
                   timeout=timeout)


class Lab:
    """The session's runtimes, work directory and cgroup parent; what each
    bundle observed under each runtime, for the allowlist check."""

    def __init__(self, workdir, rootfs):
        self.workdir = workdir
        self.rootfs = rootfs
        self.cgroup_parent = "/" + os.path.basename(workdir)
        self.runtimes = [Runtime("runc", [RUNC], workdir), Runtime("gkrun", [GKRUN], workdir)]
        crun = crun_command(workdir)
        if crun:
            self.runtimes.append(Runtime("crun", crun, workdir))
        self.ids = []
        self.host_ns = {n: os.readlink("/proc/self/ns/" + n) for n in os.listdir("/proc/self/ns")}
        self.diffs = {}  # bundle name -> [(key, runc value, gkrun value)]
        self.skipped = set()  # bundles whose tools are missing here

    def runtime(self, name):
        return next((r for r in self.runtimes if r.name == name), None)

    def observe(self, rt, name, cfg, default_cgroup=False):
        """Runs CFG under RT in a bundle of its own with a copy of the
        rootfs; returns the normalised observation."""
        bundle = tempfile.mkdtemp(dir=self.workdir, prefix="%s-%s-" % (name, rt.name))
        os.chmod(bundle, 0o755)
        shutil.copytree(self.rootfs, os.path.join(bundle, "rootfs"), symlinks=True)
        cid = "gkd-" + uuid.uuid4().hex[:10]
        self.ids.append((rt, cid))
        cfg = copy.deepcopy(cfg)
        cfg["root"]["path"] = "rootfs"
        if not default_cgroup:
            cfg.setdefault("linux", {})["cgroupsPath"] = self.cgroup_parent + "/" + cid
        with open(os.path.join(bundle, "config.json"), "w") as f:
            json.dump(cfg, f, indent=1)
        p = rt("run", "--bundle", bundle, cid)
        rt("delete", "--force", cid, timeout=30)
        subst = [(bundle, "<bundle>"), (self.workdir, "<work>"),
                 (self.cgroup_parent, "<cgparent>"), (cid, "<id>")]
        return normalise(p, subst, self.host_ns)

    def cleanup(self):
        for rt, cid in self.ids:
            kill_leftover(rt.root, cid)
        remove_cgroup_tree(self.cgroup_parent)
        # the runs in each runtime's default cgroup (crun's: hidden)
        remove_hidden_unified(*[cid for _, cid in self.ids])
        shutil.rmtree(self.workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def lab(rootfs):
    if os.geteuid() != 0:
        pytest.skip("runs real containers and needs root")
    for prog in (GKRUN, RUNC):
        if not os.access(prog, os.X_OK):
            pytest.skip("%s is not available" % prog)
    workdir = tempfile.mkdtemp(prefix="gk-diff-")
    os.chmod(workdir, 0o755)
    lab = Lab(workdir, rootfs)
    yield lab
    lab.cleanup()


# --- normalising what the probe printed ----------------------------------------------

def cap_names(hexmask):
    mask = int(hexmask, 16)
    return " ".join(CAPS[i] if i < len(CAPS) else "CAP_%d" % i
                    for i in range(64) if mask >> i & 1)


def gist(stderr):
    text = stderr.lower().replace('\\"', '"')
    return next((g for g in GISTS if g in text), "other")


def normalise(p, subst, host_ns):
    """The probe's JSON without what differs between two runs of the same
    runtime: paths of the bundle and work directory, the container id, the
    pipes' inode numbers, namespace inodes (only "host" or "new" is kept)."""
    try:
        raw = json.loads(p.stdout)
    except ValueError:
        return {"exit": p.returncode, "failed": gist(p.stderr),
                "stdout": p.stdout[:200], "_stderr": p.stderr.strip()[-300:]}
    text = json.dumps(raw)
    for old, new in subst:
        text = text.replace(old, new)
    o = json.loads(text)
    o["exit"] = p.returncode
    o["status"] = {k: (cap_names(v) if k.startswith("Cap") else v)
                   for k, v in o["status"].items()}
    o["ns"] = {k: "host" if v == host_ns.get(k) else "new" if v.startswith(k) else v
               for k, v in o["ns"].items()}
    if o["ns"].get("pid") == "host":  # the host's pid numbers mean nothing here
        o["pid"] = o["ppid"] = "host"
    if o["ns"].get("net") == "host":  # other tests' interfaces come and go
        o["net"] = "host"
    o["fds"] = {fd: ("stdio" if fd in ("0", "1", "2") else
                     target.split(":[")[0] if ":[" in target else target)
                for fd, target in o["fds"].items()}
    mounts = {}
    for m in o["mounts"]:
        point = m.pop("point")
        key = point
        n = 1
        while key in mounts:  # mounted over: the later ones get #2, #3...
            n += 1
            key = "%s#%d" % (point, n)
        m["optional"] = " ".join(sorted(x.split(":")[0] for x in m["optional"]))
        mounts[key] = m
    o["mounts"] = mounts
    return o


def diff(a, b, prefix=""):
    """[(key, a's value, b's value)] where A and B differ; a key only one
    side has is reported once, at its level."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            if k.startswith("_"):
                continue
            out += diff(a.get(k, ABSENT), b.get(k, ABSENT), prefix + ":" + k if prefix else k)
        return out
    if isinstance(a, dict) and a:
        a = "<%d entries>" % len(a)
    if isinstance(b, dict) and b:
        b = "<%d entries>" % len(b)
    return [] if a == b else [(prefix, a, b)]


def differences(a, b):
    """diff() of two observations; of a create that failed under either
    runtime only how it failed counts."""
    if "failed" in a or "failed" in b:
        a, b = ({k: o.get(k, ABSENT) for k in ("exit", "failed")} for o in (a, b))
    return diff(a, b)


def lookup(o, key):
    """The value at KEY (as diff() names it: parts joined by ":") in O."""
    for part in key.split(":") if o is not None else []:
        if not isinstance(o, dict) or part not in o:
            return ABSENT
        o = o[part]
    return o if o is not None else ABSENT


# --- the allowlist --------------------------------------------------------------------

def value_matches(pattern, value):
    return pattern is None or fnmatch.fnmatchcase(
        value if isinstance(value, str) else json.dumps(value), pattern)


def allowed(bundle, key, runc_v, gk_v):
    """The allowlist entries that explain this difference."""
    return [e for e in ALLOW
            if fnmatch.fnmatchcase(bundle, e["bundle"]) and fnmatch.fnmatchcase(key, e["key"])
            and value_matches(e.get("runc"), runc_v) and value_matches(e.get("gkrun"), gk_v)]


def show(v):
    return v if isinstance(v, str) else json.dumps(v)


def compare(lab, name, obs):
    """Fails on a difference between runc and gkrun the allowlist does not
    explain, or on an entry claiming gkrun behaves like crun where crun
    differs."""
    crun_o = obs.get("crun")
    if os.environ.get("GK_DIFF_DUMP"):  # every observation, to study by hand
        with open(os.path.join(os.environ["GK_DIFF_DUMP"], name + ".json"), "w") as f:
            json.dump(obs, f, indent=1, sort_keys=True)
    found = differences(obs["runc"], obs["gkrun"])
    lab.diffs[name] = found
    new, wrong_like = [], []
    for key, rv, gv in found:
        entries = allowed(name, key, rv, gv)
        cv = lookup(crun_o, key) if crun_o is not None else None
        line = "  %s\n    runc:  %s\n    gkrun: %s%s" % (
            key, show(rv), show(gv), "" if crun_o is None else "\n    crun:  %s" % show(cv))
        if not entries:
            new.append(line)
        elif crun_o is not None and any(e.get("like") == "crun" for e in entries) and cv != gv:
            wrong_like.append(line)
    msg = ""
    if new:
        msg += "differences from runc no allowlist entry explains:\n" + "\n".join(new)
    if wrong_like:
        msg += "\nallowlisted 'like crun', but crun differs:\n" + "\n".join(wrong_like)
    if msg:
        errs = "".join("\n%s stderr: %s" % (rt, o["_stderr"])
                       for rt, o in obs.items() if o and "_stderr" in o)
        pytest.fail("bundle %s:\n%s%s" % (name, msg, errs))


# --- the bundles ----------------------------------------------------------------------

def spec_of(prog, workdir):
    """`PROG spec`'s config.json, ready to run the probe without a terminal."""
    d = tempfile.mkdtemp(dir=workdir, prefix="spec-")
    subprocess.run([prog, "spec"], cwd=d, check=True, capture_output=True)
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = list(PROBE_ARGS)
    return cfg


def host_dir(lab, name, files=()):
    """A directory of the host for bind mounts, with FILES in it."""
    d = os.path.join(lab.workdir, "src-" + name)
    os.makedirs(d, exist_ok=True)
    for f in files:
        with open(os.path.join(d, f), "w") as fh:
            fh.write("gk\n")
    return d


def ns_without(cfg, *types):
    cfg["linux"]["namespaces"] = [n for n in cfg["linux"]["namespaces"]
                                  if n["type"] not in types]


def ns_with(cfg, *types):
    for t in types:
        cfg["linux"]["namespaces"].append({"type": t})


def caps(cfg, **sets):
    cfg["process"]["capabilities"] = sets


def mount(cfg, dest, typ, source, options):
    cfg["mounts"].append({"destination": dest, "type": typ, "source": source,
                          "options": options})


def v_user(c, lab):
    c["process"]["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [10, 1000, 20]}


def v_umask(c, lab):
    c["process"]["user"]["umask"] = 0o027


def v_env(c, lab):
    c["process"]["env"] = ["PATH=/bin", "A=1", "B=b", "EMPTY=", "A=2", "HOME=/home/x", "A=3"]


def v_env_user_home(c, lab):
    c["process"]["env"] = ["PATH=/bin"]
    c["process"]["user"] = {"uid": 1000, "gid": 1000}


def v_rlimits(c, lab):
    c["process"]["rlimits"] = [
        {"type": "RLIMIT_NOFILE", "soft": 512, "hard": 4096},
        {"type": "RLIMIT_NPROC", "soft": 300, "hard": 400},
        {"type": "RLIMIT_CORE", "soft": 0, "hard": 18446744073709551615},
        {"type": "RLIMIT_MEMLOCK", "soft": 65536, "hard": 65536},
        {"type": "RLIMIT_STACK", "soft": 1 << 20, "hard": 1 << 22},
    ]


def v_caps_subset(c, lab):
    caps(c, bounding=["CAP_CHOWN", "CAP_NET_ADMIN", "CAP_SYS_PTRACE"],
         effective=["CAP_CHOWN"], permitted=["CAP_CHOWN", "CAP_NET_ADMIN"],
         inheritable=["CAP_NET_ADMIN"], ambient=["CAP_NET_ADMIN"])


def v_caps_user(c, lab):
    c["process"]["user"] = {"uid": 1000, "gid": 1000}
    c["process"]["capabilities"]["ambient"] = ["CAP_KILL"]
    c["process"]["capabilities"]["inheritable"] = ["CAP_KILL"]


def v_mounts_bind(c, lab):
    ro = host_dir(lab, "ro", ["f"])
    rw = host_dir(lab, "rw", ["g"])
    mount(c, "/data/ro", "bind", ro, ["rbind", "ro"])
    mount(c, "/data/rw", "bind", rw, ["bind", "rw", "nosuid", "nodev"])
    mount(c, "/etc/motd", "bind", os.path.join(ro, "f"), ["bind", "ro"])
    mount(c, "/data/slave", "none", ro, ["rbind", "rslave", "noexec"])


def v_mounts_tmpfs(c, lab):
    mount(c, "/scratch", "tmpfs", "tmpfs",
          ["nosuid", "nodev", "noexec", "size=1m", "mode=700", "uid=1000", "gid=1000"])
    mount(c, "/dev/shm", "tmpfs", "shm", ["nosuid", "noexec", "nodev", "mode=1777",
                                          "size=2m"])
    mount(c, "/run", "tmpfs", "tmpfs", ["nosuid", "strictatime", "mode=755", "nr_inodes=100"])


def v_masked(c, lab):
    c["linux"]["maskedPaths"] += ["/etc/hostname", "/home", "/nonexistent"]
    c["linux"]["readonlyPaths"] += ["/run", "/nosuch", "/dev/shm"]


def v_devices(c, lab):
    c["linux"]["devices"] = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666,
         "uid": 0, "gid": 0},
        {"path": "/dev/gk0", "type": "c", "major": 1, "minor": 3, "fileMode": 0o600,
         "uid": 1000, "gid": 1000},
        {"path": "/dev/sub/loop", "type": "b", "major": 7, "minor": 0},
        {"path": "/dev/fifo", "type": "p"},
    ]


def v_sysctls(c, lab):
    c["linux"]["sysctl"] = {"net.ipv4.ip_unprivileged_port_start": "80",
                            "kernel.shmmax": "1000000", "net.core.somaxconn": "512",
                            "kernel.msgmax": "4096", "fs.mqueue.msg_max": "20"}


def v_userns(c, lab):
    ns_with(c, "user")
    c["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    c["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def v_seccomp(c, lab):
    c["linux"]["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
        "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO",
                      "errnoRet": 1},
                     {"names": ["socket"], "action": "SCMP_ACT_ERRNO",
                      "args": [{"index": 0, "value": 10, "op": "SCMP_CMP_EQ"}]}]}


def v_resources(c, lab):
    c["linux"]["resources"] = {"memory": {"limit": 64 << 20, "swap": 128 << 20},
                               "pids": {"limit": 77}, "cpu": {"shares": 512, "quota": 50000,
                                                              "period": 100000}}


def setter(path, value):
    """A variation that sets one field (PATH: keys joined by '.')."""
    def apply(c, lab):
        *parents, last = path.split(".")
        o = c
        for p in parents:
            o = o.setdefault(p, {})
        o[last] = value
    return apply


def chain(*fns):
    def apply(c, lab):
        for f in fns:
            f(c, lab)
    return apply


VARIATIONS = {
    "exit-status": setter("process.args", PROBE_ARGS + ["7"]),
    "user-groups": v_user,
    "umask": v_umask,
    "cwd-tmp": setter("process.cwd", "/tmp"),
    "cwd-missing": setter("process.cwd", "/srv/app"),
    "cwd-relative": setter("process.cwd", "tmp"),
    "env": v_env,
    "env-invalid": setter("process.env", ["PATH=/bin", "NOEQUALS"]),
    "env-empty-name": setter("process.env", ["PATH=/bin", "=x"]),
    "env-user-home": v_env_user_home,
    "rlimits": v_rlimits,
    "rlimit-unknown": setter("process.rlimits", [{"type": "RLIMIT_BOGUS", "soft": 1,
                                                  "hard": 1}]),
    "nnp-off": setter("process.noNewPrivileges", False),
    "caps-none": setter("process.capabilities", {}),
    "caps-subset": v_caps_subset,
    "caps-user": v_caps_user,
    "caps-unknown": lambda c, lab: c["process"]["capabilities"]["bounding"].append("CAP_BOGUS"),
    "hostname": chain(setter("hostname", "box"), setter("domainname", "example.org")),
    "hostname-no-uts": lambda c, lab: ns_without(c, "uts"),
    "root-rw": setter("root.readonly", False),
    "root-ro": setter("root.readonly", True),
    "mounts-bind": v_mounts_bind,
    "mounts-bind-rw-root": chain(v_mounts_bind, setter("root.readonly", False)),
    "mounts-tmpfs": v_mounts_tmpfs,
    "mount-relative-dest": lambda c, lab: mount(c, "scratch", "tmpfs", "tmpfs", ["size=1m"]),
    # runtime-spec 1.1-1.3 fields (issue 17): what each runtime gives the process
    "sched-batch": setter("process.scheduler", {"policy": "SCHED_BATCH", "nice": 5}),
    "io-priority": setter("process.ioPriority", {"class": "IOPRIO_CLASS_IDLE", "priority": 0}),
    "personality-flags": setter("linux.personality", {"domain": "LINUX",
                                                      "flags": ["ADDR_NO_RANDOMIZE"]}),
    "memory-policy": setter("linux.memoryPolicy", {"mode": "MPOL_INTERLEAVE", "nodes": "0"}),
    "mount-tmpcopyup": lambda c, lab: mount(c, "/etc", "tmpfs", "tmpfs", ["tmpcopyup"]),
    "mount-label": setter("linux.mountLabel", "system_u:object_r:container_file_t:s0"),
    "mount-cgroup-rw": lambda c, lab: next(m for m in c["mounts"] if m["type"] == "cgroup")
    ["options"].remove("ro"),
    "masked-readonly": v_masked,
    "devices": v_devices,
    "sysctls": v_sysctls,
    "sysctl-host-net": chain(lambda c, lab: ns_without(c, "network"),
                             setter("linux.sysctl", {"net.core.somaxconn": "512"})),
    "no-netns": lambda c, lab: ns_without(c, "network"),
    "no-pidns": lambda c, lab: ns_without(c, "pid"),
    "no-ipcns": lambda c, lab: ns_without(c, "ipc"),
    "cgroupns": lambda c, lab: ns_with(c, "cgroup"),
    "userns": v_userns,
    "seccomp": v_seccomp,
    "oom-score-adj": setter("process.oomScoreAdj", 123),
    "resources": v_resources,
    "exec-missing": setter("process.args", ["/nosuch"]),
    "exec-not-executable": setter("process.args", ["/etc/hosts"]),
}


# --- configs podman and ctr generate, captured through a runc wrapper ------------------

WRAPPER = """#!/bin/sh
# Saves the config.json of every bundle created through it, then runs runc.
prev= bundle= create=
for a in "$@"; do
        case "$prev" in --bundle|-b) bundle=$a ;; esac
        case "$a" in --bundle=*) bundle=${a#--bundle=} ;; create) create=1 ;; esac
        prev=$a
done
if [ -n "$create" ] && [ -n "$bundle" ]; then
        cp "$bundle/config.json" "%(save)s/config-$$.json"
fi
exec %(runc)s "$@"
"""


def wrapper(lab, tag):
    """A runc wrapper named runc (podman picks its log format by the name)
    and the directory it saves configs into."""
    d = os.path.join(lab.workdir, "wrap-" + tag)
    save = os.path.join(d, "saved")
    os.makedirs(save)
    path = os.path.join(d, "runc")
    with open(path, "w") as f:
        f.write(WRAPPER % {"save": save, "runc": RUNC})
    os.chmod(path, 0o755)
    return path, save


def saved_config(save, out):
    names = os.listdir(save)
    assert len(names) == 1, "expected one saved config.json, got %s\n%s" % (names, out)
    with open(os.path.join(save, names[0])) as f:
        return json.load(f)


def adopt(cfg, lab, tag, private):
    """A captured config rewritten to run the probe in the test's rootfs:
    no terminal, no hooks, no namespace of the orchestrator's joined, no
    cgroup of its, and the bind-mount sources it made under PRIVATE (its
    /etc/hosts, resolv.conf, /dev/shm...) copied, since they go with it."""
    cfg = copy.deepcopy(cfg)
    cfg["root"] = {"path": "rootfs", "readonly": cfg.get("root", {}).get("readonly", False)}
    cfg["process"].update(args=list(PROBE_ARGS), terminal=False)
    cfg["process"].pop("consoleSize", None)
    cfg.pop("hooks", None)
    cfg["linux"].pop("cgroupsPath", None)
    for ns in cfg["linux"].get("namespaces", []):
        ns.pop("path", None)
    for i, m in enumerate(cfg.get("mounts", [])):
        src = m.get("source", "")
        if src.startswith(private + "/"):
            copy_to = os.path.join(lab.workdir, "src-%s" % tag, "%d-%s" % (i, os.path.basename(src)))
            os.makedirs(os.path.dirname(copy_to), exist_ok=True)
            if os.path.isdir(src):
                shutil.copytree(src, copy_to, symlinks=True)
            else:
                shutil.copy2(src, copy_to)
            m["source"] = copy_to
    return cfg


@pytest.fixture(scope="module")
def podman_config(lab, podman_env):  # noqa: F811
    path, save = wrapper(lab, "podman")
    name = "gkd-" + uuid.uuid4().hex[:10]
    try:
        p = podman_env.podman("--runtime", path, "run", "--name", name, "--network", "none",
                              "--cgroup-parent", podman_env.cgroup_parent, *ULIMITS,
                              IMAGE, *PROBE_ARGS)
        assert p.returncode == 0, p.stderr
        return adopt(saved_config(save, p.stderr), lab, "podman", podman_env.dir)
    finally:
        podman_env.podman("--runtime", path, "rm", "-f", "-t", "0", name, timeout=120)


@pytest.fixture(scope="module")
def ctr_config(lab, containerd):  # noqa: F811
    path, save = wrapper(lab, "ctr")
    cid = "gkd-" + uuid.uuid4().hex[:10]
    containerd.ids.add(cid)
    try:
        p = containerd.ctr("run", "--runtime", "io.containerd.runc.v2", "--runc-binary", path,
                           "--runc-root", os.path.join(containerd.dir, "runc-diff"),
                           "--fifo-dir", containerd.fifo_dir, IMAGE, cid, *PROBE_ARGS)
        assert p.returncode == 0, p.stderr
        return adopt(saved_config(save, p.stderr), lab, "ctr", containerd.dir)
    finally:
        containerd.ctr("task", "rm", "-f", cid, timeout=30)
        containerd.ctr("containers", "rm", cid, timeout=30)


# --- the tests --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def base(lab):
    return spec_of(RUNC, lab.workdir)


def observe_all(lab, name, cfg, default_cgroup=False):
    return {rt.name: lab.observe(rt, name, cfg, default_cgroup) for rt in lab.runtimes}


@pytest.mark.parametrize("name", ["runc-spec", "gkrun-spec"])
def test_spec_defaults(lab, name):
    """As generated, cgroupsPath left out: each runtime's default cgroup."""
    cfg = spec_of(RUNC if name == "runc-spec" else GKRUN, lab.workdir)
    compare(lab, name, observe_all(lab, name, cfg, default_cgroup=True))


@pytest.mark.parametrize("name", list(VARIATIONS))
def test_variation(lab, base, name):
    """`runc spec`'s config with one field changed."""
    cfg = copy.deepcopy(base)
    VARIATIONS[name](cfg, lab)
    compare(lab, name, observe_all(lab, name, cfg))


@pytest.mark.parametrize("tool", ["podman", "ctr"])
def test_orchestrator_config(lab, request, tool):
    """The config.json podman (`podman run`) and ctr (`ctr run`) hand their
    runtime, captured from a real run and pointed at the test's rootfs."""
    try:
        cfg = request.getfixturevalue(tool + "_config")
    except pytest.skip.Exception:
        lab.skipped.add(tool)
        raise
    compare(lab, tool, observe_all(lab, tool, cfg))


# --- rootless: `runc spec --rootless` bundles run by an unprivileged user ---------------
#
# The same comparison, both runtimes run by a throwaway user (test_rootless's
# User: useradd, setpriv, its own XDG_RUNTIME_DIR, removed with every process
# of its uid).  No cgroupsPath: nothing is delegated to the user, so neither
# runtime makes a cgroup; crun is not run here (its hybrid-host wrapper
# unmounts, which a user cannot).  Each row is one of the things a user
# namespace changes (bundle-spec/rootless.md).

LOCKED_SRC = "locked"  # in the user's directory: a nosuid,nodev,noexec tmpfs


def rl_devices(c, user):
    c["linux"]["devices"] = [
        {"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 0o666},
        {"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200, "fileMode": 0o666}]


def rl_sysfs(c, user):
    c["mounts"] = [m if m["destination"] != "/sys" else
                   {"destination": "/sys", "type": "sysfs", "source": "sysfs",
                    "options": ["nosuid", "noexec", "nodev", "ro"]} for m in c["mounts"]]


def rl_locked(c, user):
    mount(c, "/mnt", "bind", os.path.join(user.dir, LOCKED_SRC), ["rbind", "ro"])


def rl_locked_prefix(user):
    """As root before the user's command: a mount namespace of its own in
    which the bind source is a tmpfs with the flags a user namespace locks."""
    src = os.path.join(user.dir, LOCKED_SRC)
    os.makedirs(src, exist_ok=True)
    return ["unshare", "-m", "--propagation", "private", "sh", "-c",
            "mount -t tmpfs -o nosuid,nodev,noexec,mode=755 gkrl %s && exec \"$@\"" % src,
            "sh"]


ROOTLESS = {
    "rootless-spec": lambda c, user: None,
    "rootless-devices": rl_devices,
    "rootless-sysfs-no-netns": rl_sysfs,
    "rootless-sysfs-netns": lambda c, user: (rl_sysfs(c, user), ns_with(c, "network")),
    "rootless-additional-gids": lambda c, user: c["process"]["user"].__setitem__(
        "additionalGids", [0]),
    "rootless-sysctl-ipc": setter("linux.sysctl", {"kernel.msgmax": "4096"}),
    "rootless-sysctl-net-no-netns": setter("linux.sysctl", {"net.core.somaxconn": "512"}),
    "rootless-sysctl-net-netns": lambda c, user: (
        ns_with(c, "network"), c["linux"].__setitem__(
            "sysctl", {"net.ipv4.ip_unprivileged_port_start": "80"})),
    "rootless-sysctl-host": setter("linux.sysctl", {"vm.swappiness": "10"}),
    "rootless-locked-flags": rl_locked,
    "rootless-memory-limit": setter("linux.resources", {"memory": {"limit": 64 << 20}}),
}
ROOTLESS_PREFIX = {"rootless-locked-flags": rl_locked_prefix}


@pytest.fixture(scope="module")
def rl_user(lab):
    from test_rootless import User
    try:
        u = User(lab.rootfs)
    except (OSError, subprocess.CalledProcessError) as e:
        lab.skipped.update(ROOTLESS)
        pytest.skip("cannot make a test user: %s" % e)
    yield u
    u.cleanup()


@pytest.fixture(scope="module")
def rootless_base(rl_user):
    d = tempfile.mkdtemp(dir=rl_user.dir, prefix="spec-")
    os.chown(d, rl_user.uid, rl_user.gid)
    rl_user.cmd(RUNC, "spec", "--rootless", cwd=d, check=True)
    with open(os.path.join(d, "config.json")) as f:
        cfg = json.load(f)
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = list(PROBE_ARGS)
    return cfg


def observe_as_user(lab, user, rt_name, name, cfg, prefix=()):
    """CFG run by USER under the runtime RT_NAME, in a bundle (and state
    root) of the user's; the normalised observation."""
    binary = GKRUN if rt_name == "gkrun" else RUNC
    bundle = tempfile.mkdtemp(dir=user.dir, prefix="%s-%s-" % (name, rt_name))
    shutil.copytree(lab.rootfs, os.path.join(bundle, "rootfs"), symlinks=True)
    cfg = copy.deepcopy(cfg)
    cfg["root"]["path"] = "rootfs"
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(cfg, f, indent=1)
    subprocess.run(["chown", "-R", "%d:%d" % (user.uid, user.gid), bundle], check=True)
    state = os.path.join(user.dir, "state-" + rt_name)
    cid = "gkd-" + uuid.uuid4().hex[:10]
    p = user.cmd(binary, "--root", state, "run", "--bundle", bundle, cid, prefix=prefix)
    user.cmd(binary, "--root", state, "delete", "--force", cid, timeout=30)
    subst = [(bundle, "<bundle>"), (user.dir, "<home>"), (cid, "<id>")]
    return normalise(p, subst, lab.host_ns)


@pytest.mark.parametrize("name", list(ROOTLESS))
def test_rootless_variation(lab, rl_user, rootless_base, name):
    """`runc spec --rootless`'s config with one field changed, run by a
    user under runc and gkrun."""
    cfg = copy.deepcopy(rootless_base)
    ROOTLESS[name](cfg, rl_user)
    prefix = ROOTLESS_PREFIX[name](rl_user) if name in ROOTLESS_PREFIX else ()
    obs = {rt: observe_as_user(lab, rl_user, rt, name, cfg, prefix) for rt in ("runc", "gkrun")}
    compare(lab, name, obs)


BUNDLES = ["runc-spec", "gkrun-spec"] + list(VARIATIONS) + ["podman", "ctr"] + list(ROOTLESS)


def test_allowlist_entries_all_match(lab):
    """Each entry still explains some difference (of the bundles that ran
    here: an entry whose bundles did not all run is not judged)."""
    ran = set(lab.diffs)
    stale = []
    for e in ALLOW:
        covered = [b for b in BUNDLES if fnmatch.fnmatchcase(b, e["bundle"])]
        if not covered or any(b not in ran and b not in lab.skipped for b in covered):
            if not covered:
                stale.append(e)
            continue
        if not any(fnmatch.fnmatchcase(key, e["key"]) and value_matches(e.get("runc"), rv)
                   and value_matches(e.get("gkrun"), gv)
                   for b in covered if b in ran for key, rv, gv in lab.diffs[b]):
            stale.append(e)
    assert not stale, "allowlist entries that match no difference any more:\n" + \
        "\n".join("  %(bundle)s %(key)s: %(reason)s" % e for e in stale)
