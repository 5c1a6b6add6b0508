"""gkrun waits for what it kills without sleeping in a loop, and hook
failures reach the user once, from gkrun's main: `delete --force` of a
container whose processes ignore SIGTERM (with and without its own pid
namespace) returns promptly and leaves no process or cgroup; a hook with a
timeout that ends early is not waited out; a failing hook's error names
its path and exit status once; poststop warnings also go to
the --log file, at level "warning"."""
import json
import os
import subprocess
import tempfile
import time

import pytest

from conftest import GKRUN, cgroup_dirs

RUNC = "/usr/sbin/runc"

IGNORE_TERM = ["/bin/sh", "-c", "trap '' TERM; sleep 1000 & sleep 1000 & echo up; wait"]


def procs_of(cid):
    """The pids in the container's cgroups (every hierarchy)."""
    pids = set()
    for d in cgroup_dirs(cid):
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                pids.update(int(x) for x in f.read().split())
        except OSError:
            pass
    return pids


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def rt(prog, root, *args, timeout=60):
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as errf:
        p = subprocess.run([prog, "--root", root] + [str(a) for a in args], stdout=out,
                           stderr=errf, text=True, timeout=timeout)
        out.seek(0)
        errf.seek(0)
        p.stdout, p.stderr = out.read(), errf.read()
    return p


@pytest.mark.parametrize("runtime", ["gkrun", "runc"])
@pytest.mark.parametrize("pidns", [True, False], ids=["pidns", "hostpid"])
def test_delete_force_of_sigterm_ignoring_container_is_prompt(gk, runtime, pidns):
    prog = GKRUN if runtime == "gkrun" else RUNC
    if not os.access(prog, os.X_OK):
        pytest.skip("%s is not installed" % prog)
    root = gk.root if runtime == "gkrun" else os.path.join(gk.workdir, "runc-state")
    b = gk.bundle(IGNORE_TERM)
    if not pidns:
        b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "pid"]
    b.write()
    cid = gk.new_id() if runtime == "gkrun" else "gkt-runc-%d" % os.getpid()
    pids = set()
    try:
        p = rt(prog, root, "create", "--bundle", b.path, cid)
        assert p.returncode == 0, p.stderr
        assert rt(prog, root, "start", cid).returncode == 0
        for _ in range(100):
            pids = procs_of(cid)
            if len(pids) >= 3:
                break
            time.sleep(0.05)
        assert len(pids) >= 3, pids
        t = time.monotonic()
        p = rt(prog, root, "delete", "--force", cid)
        took = time.monotonic() - t
        assert p.returncode == 0, p.stderr
        assert took < 2, "delete --force took %.2f s" % took
        assert [pid for pid in pids if alive(pid)] == []
        assert cgroup_dirs(cid) == []
    finally:
        if runtime == "runc":
            rt(prog, root, "delete", "--force", cid)
        for pid in pids:
            if alive(pid):
                os.kill(pid, 9)


def test_hook_that_ends_before_its_timeout_is_not_waited_out(gk):
    b = gk.bundle(["/bin/true"])
    b.config["hooks"] = {"prestart": [{"path": "/bin/true", "timeout": 30}],
                         "poststop": [{"path": "/bin/true", "timeout": 30}]}
    t = time.monotonic()
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    assert time.monotonic() - t < 10


def test_hook_timeout_kills_the_hook(gk, tmp_path):
    pidfile = tmp_path / "hook.pid"
    b = gk.bundle(["/bin/true"])
    b.config["hooks"] = {"createRuntime": [{"path": "/bin/sh", "timeout": 1, "args": [
        "sh", "-c", "echo $$ > %s; exec sleep 100" % pidfile]}]}
    t = time.monotonic()
    p = gk.run(b)
    assert p.returncode != 0
    assert time.monotonic() - t < 8
    assert "createRuntime hook #0 `/bin/sh`: timed out after 1 s" in p.stderr
    assert not alive(int(pidfile.read_text()))


@pytest.mark.parametrize("kind", ["prestart", "createRuntime", "createContainer",
                                  "startContainer"])
def test_failing_hook_error_is_printed_once_with_path_and_status(gk, kind):
    b = gk.bundle(["/bin/true"])
    b.config["hooks"] = {kind: [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]}
    p = gk.run(b)
    assert p.returncode != 0
    want = "%s hook #0 `/bin/sh`: exit status 3" % kind
    assert [line for line in p.stderr.splitlines() if want in line] == \
        [line for line in p.stderr.splitlines() if "hook" in line], p.stderr
    assert p.stderr.count(want) == 1, p.stderr
    assert p.stderr.startswith("gkrun: "), p.stderr


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_poststop_warnings_go_to_stderr_and_the_log(gk, tmp_path, fmt):
    """(A failing poststart hook is an error since runtime-spec 1.3.)"""
    log = tmp_path / "gkrun.log"
    b = gk.bundle(["/bin/true"])
    b.config["hooks"] = {"poststop": [{"path": "/bin/false"},
                                      {"path": "/bin/sh", "args": ["sh", "-c", "exit 4"]}]}
    b.write()
    cid = gk.new_id()
    p = gk.gkrun("--log", log, "--log-format", fmt, "run", "--bundle", b.path, cid)
    assert p.returncode == 0, p.stderr
    warnings = ["poststop hook #0 `/bin/false`: exit status 1",
                "poststop hook #1 `/bin/sh`: exit status 4"]
    assert p.stderr.splitlines() == ["gkrun: warning: " + w for w in warnings]
    lines = log.read_text().splitlines()
    if fmt == "json":
        got = [(e["level"], e["msg"]) for e in map(json.loads, lines)]
    else:
        got = [(line.split(" level=")[1].split(" ")[0],
                line.split(' msg="', 1)[1][:-1]) for line in lines]
    assert got == [("warning", w) for w in warnings]
