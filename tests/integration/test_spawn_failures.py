"""A process that fails to become the container's (its init under `run`, a
process under `exec`) reports the child's own error and leaves nothing
behind: no process, no cgroup, no state.  And gkrun, which enters a pid
namespace joined by path for the clone only, is back in its own before it
runs anything else (a hook).  Each test runs against runc too.

Leftover processes are found with a subreaper: the command runs under a
small wrapper that adopts every orphan it leaves (gkrun's children, exec's
second stage included), and reports those still alive."""
import json
import os
import subprocess
import sys
import tempfile

import pytest

from conftest import base_config, cgroup_dirs
from orch import RuntimeUnderTest, runtime_fixture

# Runs argv[1:] as a subreaper; prints the result and the cmdlines of the
# processes still alive that were adopted (then killed and reaped).
SUBREAPER = r"""
import ctypes, json, os, signal, subprocess, sys, tempfile
ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
# files, not pipes: a container left running would hold a pipe open
with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
    p = subprocess.run(sys.argv[1:], stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                       text=True, timeout=60)
    out.seek(0)
    err.seek(0)
    p.stdout, p.stderr = out.read(), err.read()
left = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        with open("/proc/%s/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/%s/cmdline" % pid, "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        continue
    if int(fields[1]) == os.getpid() and fields[0] != "Z":
        left.append(cmd)
        os.kill(int(pid), signal.SIGKILL)
while True:
    try:
        os.waitpid(-1, 0)
    except ChildProcessError:
        break
print(json.dumps({"rc": p.returncode, "stdout": p.stdout, "stderr": p.stderr, "left": left}))
"""


class Runtime(RuntimeUnderTest):
    id_prefix = "gks-"

    def adopted(self, *args):
        """Runs the runtime under the subreaper: (CompletedProcess-like
        dict, cmdlines of what it left running)."""
        out = subprocess.run([sys.executable, "-c", SUBREAPER, self.path, "--root", self.root]
                             + [str(a) for a in args], stdout=subprocess.PIPE, text=True,
                             timeout=90, check=True).stdout
        r = json.loads(out)
        # runc logs its message quoted: msg="... exec: \"sleep\": ..."
        r["stderr"] = r["stderr"].replace('\\"', '"')
        return r

    def bundle(self, args, **process):
        cfg = base_config(args, self.rootfs)
        cfg["process"].update(process)
        path = tempfile.mkdtemp(dir=self.workdir, prefix="bundle-")
        os.chmod(path, 0o755)
        return path, cfg

    def write(self, path, cfg):
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump(cfg, f)
        return path


rt = runtime_fixture(Runtime, "gk-spawn-")


def pid_ns(pid):
    return os.readlink("/proc/%s/ns/pid" % pid)


def in_pid_ns(ns):
    """The pids of every live process in the pid namespace NS."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if pid_ns(pid) == ns:
                found.append(int(pid))
        except OSError:
            pass
    return found


def assert_nothing_left(rt, cid, r):
    assert r["left"] == [], "left running: %r" % r["left"]
    assert cgroup_dirs(cid) == []
    assert not os.path.exists(os.path.join(rt.root, cid))
    assert rt("list", "-q").stdout.strip() == ""


FAILURES = {
    # a process.cwd that is a file: the child's chdir fails
    "cwd-is-a-file": (["/bin/true"], {"cwd": "/bin/gk-probe"}, ["/bin/gk-probe", "not a directory"]),
    # a binary that is not there: the child's lookup (or execve) fails
    "missing-binary": (["/bin/nosuch"], {}, ['"/bin/nosuch"', "no such file or directory"]),
}


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_run_reports_the_child_error_and_leaves_nothing(rt, case):
    args, process, words = FAILURES[case]
    path, cfg = rt.bundle(args, **process)
    cid = rt.new_id()
    r = rt.adopted("run", "--bundle", rt.write(path, cfg), cid)
    assert r["rc"] != 0
    for w in words:
        assert w in r["stderr"].lower(), r["stderr"]
    assert_nothing_left(rt, cid, r)


def start_sleeper(rt):
    path, cfg = rt.bundle(["/bin/sleep", "100"])
    cid = rt.new_id()
    rt("run", "-d", "--bundle", rt.write(path, cfg), cid, check=True)
    return cid, rt.state(cid)["pid"]


@pytest.mark.parametrize("case", sorted(FAILURES))
def test_exec_reports_the_child_error_and_leaves_nothing(rt, case):
    args, process, words = FAILURES[case]
    cid, init = start_sleeper(rt)
    extra = ["--cwd", process["cwd"]] if "cwd" in process else []
    r = rt.adopted("exec", *extra, cid, *args)
    assert r["rc"] != 0
    for w in words:
        assert w in r["stderr"].lower(), r["stderr"]
    assert r["left"] == [], "left running: %r" % r["left"]
    # the container holds its init alone, and goes on
    assert in_pid_ns(pid_ns(init)) == [init]
    assert rt.state(cid)["status"] == "running"
    ok = rt.adopted("exec", cid, "/bin/true")
    assert ok["rc"] == 0, ok["stderr"]
    assert ok["left"] == []


def test_exec_succeeds_and_leaves_nothing_but_its_process(rt):
    """The exec'd process runs and is reported as gkrun's exit status;
    neither stage of the spawn outlives it."""
    cid, init = start_sleeper(rt)
    r = rt.adopted("exec", cid, "/bin/sh", "-c", "exit 7")
    assert r["rc"] == 7, r["stderr"]
    assert r["left"] == []
    assert in_pid_ns(pid_ns(init)) == [init]


@pytest.mark.parametrize("cmd", ["run", "create"])
def test_runtime_stays_in_its_own_pid_namespace_after_joining_one(rt, cmd):
    """A pid namespace given by path is entered for the init's clone only:
    the createRuntime and prestart hooks gkrun runs afterwards (its
    children) are in the host's pid namespace, not the container's."""
    _, init = start_sleeper(rt)
    out = os.path.join(rt.workdir, "hook-ns")
    path, cfg = rt.bundle(["/bin/true"])
    hook = {"path": "/bin/sh", "args": ["sh", "-c", "readlink /proc/self/ns/pid >> " + out]}
    cfg["hooks"] = {"createRuntime": [hook], "prestart": [hook]}
    for ns in cfg["linux"]["namespaces"]:
        if ns["type"] == "pid":
            ns["path"] = "/proc/%d/ns/pid" % init
    cid = rt.new_id()
    r = rt.adopted(cmd, "--bundle", rt.write(path, cfg), cid)
    assert r["rc"] == 0, r["stderr"]
    with open(out) as f:
        seen = f.read().split()
    assert seen == [os.readlink("/proc/self/ns/pid")] * 2
    assert pid_ns(init) not in seen


def test_start_reports_a_failure_between_start_and_exec(gk):
    """Between start and the execve the init runs the startContainer hooks:
    when one fails, `gkrun start` says so and fails (the runtime spec: "the
    runtime MUST generate an error"), instead of the init printing on the
    container's stderr.  runc prints it there and starts with success, so
    this test is gkrun's only."""
    b = gk.bundle(["/bin/true"])
    b.config["hooks"] = {"startContainer": [
        {"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]}
    cid = gk.create(b)
    p = gk.gkrun("start", cid)
    assert p.returncode != 0
    assert "startContainer hook #0 `/bin/sh`: exit status 3" in p.stderr
    assert gk.state(cid)["status"] == "stopped"
    assert gk.gkrun("delete", cid).returncode == 0
    assert cgroup_dirs(cid) == []


def test_exec_joins_the_time_namespace_too(gk):
    """exec enters every namespace of the init, in the one order the init
    uses for those given by path: the time namespace too, so the process
    sees the container's clocks (its boot time), not the host's.  (runc
    1.1 has no time namespaces: gkrun's only.)"""
    b = gk.bundle(["/bin/sleep", "100"])
    b.linux["namespaces"].append({"type": "time"})
    b.linux["timeOffsets"] = {"boottime": {"secs": 86400 * 1000, "nanosecs": 0}}
    cid = gk.new_id()
    b.write()
    gk.gkrun("run", "-d", "--bundle", b.path, cid, check=True)
    p = gk.gkrun("exec", cid, "/bin/cat", "/proc/uptime")
    assert p.returncode == 0, p.stderr
    assert float(p.stdout.split()[0]) > 86400 * 1000
