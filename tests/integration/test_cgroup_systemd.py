"""--systemd-cgroup with systemd as PID 1: a gkrun container runs
/lib/systemd/systemd (the host's / read-only, tmpfs on /run, /tmp, /var,
its own cgroup namespace and a writable cgroup2 mount), and a gkrun
inside it makes a container with --systemd-cgroup.  systemd makes the
transient scope, the limits hold (a fork loop stops at the pids limit),
and delete stops the scope.

Needs a pure cgroup v2 host (`make check-cgv2` runs it in the v2 VM) and
systemd installed; skipped with the reason otherwise."""
import json
import shutil
import socket
import os
import shlex
import subprocess
import tempfile
import time

import pytest

from conftest import ALL_CAPS, CGROUP_ROOT, GKRUN, base_config

pytestmark = pytest.mark.cgroup

SYSTEMD = "/lib/systemd/systemd"
PURE_V2 = os.path.exists(os.path.join(CGROUP_ROOT, "cgroup.controllers"))


@pytest.fixture
def sysroot():
    """The host's / bound (rbind, private) on a directory of its own: a
    rootfs of "/" itself cannot be pivoted to, and its tmpfs on /tmp would
    hide the bind sources.  Outside the test's workdir, which is removed
    with rmtree: that must never reach into this tree."""
    path = tempfile.mkdtemp(prefix="gk-sysroot-")
    subprocess.run(["mount", "--rbind", "/", path], check=True)
    try:
        subprocess.run(["mount", "--make-rprivate", path], check=True)
        yield path
    finally:
        subprocess.run(["umount", "-R", "-l", path], check=True)
        os.rmdir(path)


def systemd_container(gk, sysroot):
    """A detached container whose PID 1 is systemd; returns its id once
    systemd answers on its private socket."""
    if not PURE_V2:
        pytest.skip("systemd as a container's PID 1 is tested on pure cgroup v2 hosts "
                    "(make check-cgv2)")
    if not os.access(SYSTEMD, os.X_OK):
        pytest.skip("%s is not installed" % SYSTEMD)
    b = gk.bundle([SYSTEMD, "--unit=basic.target", "--log-target=console"])
    b.config = base_config([SYSTEMD], sysroot)
    b.process["args"] = [SYSTEMD, "--unit=basic.target", "--log-level=warning"]
    b.process["env"].append("container=gkrun")
    b.process["noNewPrivileges"] = False
    b.process["capabilities"] = {k: list(ALL_CAPS) for k in
                                 ("bounding", "effective", "permitted")}
    b.linux.pop("readonlyPaths")
    mounts = [m for m in b.config["mounts"] if m["destination"] != "/sys"]
    mounts += [
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "rw"]},
        {"destination": "/run", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "nodev", "mode=755"]},
        {"destination": "/var", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "nodev", "mode=755"]},
        # the tests' bundles and rootfs, below the new /tmp
        {"destination": gk.workdir, "type": "bind", "source": gk.workdir,
         "options": ["rbind", "rw"]},
        {"destination": gk.rootfs_src, "type": "bind", "source": gk.rootfs_src,
         "options": ["rbind", "ro"]},
        # and gkrun itself, wherever the build is
        {"destination": os.path.dirname(GKRUN), "type": "bind",
         "source": os.path.dirname(GKRUN), "options": ["rbind", "ro"]},
    ]
    b.config["mounts"] = mounts
    b.linux["namespaces"].append({"type": "cgroup"})
    cid = gk.create(b)
    gk.gkrun("start", cid, check=True)
    end = time.time() + 60
    while time.time() < end:
        p = gk.gkrun("exec", cid, "/bin/sh", "-c",
                     "systemctl is-system-running 2>&1; test -S /run/systemd/private")
        if p.returncode == 0:
            return cid
        time.sleep(0.5)
    raise AssertionError("systemd did not come up: %s %s" % (p.stdout, p.stderr))


def sh(gk, cid, script, timeout=60):
    p = gk.gkrun("exec", cid, "/bin/sh", "-c", script, timeout=timeout)
    return p


def test_systemd_cgroup_makes_a_scope_with_limits_and_delete_stops_it(gk, sysroot):
    outer = systemd_container(gk, sysroot)
    inner = gk.bundle(["/bin/sh", "-c", "sleep 1000"])
    inner.linux["cgroupsPath"] = "gktest.slice:gkt:inner"
    inner.linux["resources"] = {"pids": {"limit": 10}, "memory": {"limit": 48 * 1024 * 1024}}
    inner.write()
    scope = "/sys/fs/cgroup/gktest.slice/gkt-inner.scope"
    gkin = "%s --root /run/gkin --systemd-cgroup" % GKRUN
    # created and started: systemd runs the scope, with our limits
    p = sh(gk, outer, "%s run --detach --bundle %s inner && systemctl is-active gkt-inner.scope"
           " && cat %s/pids.max %s/memory.max && systemctl show -p TasksMax gkt-inner.scope"
           % (gkin, shlex.quote(inner.path), scope, scope))
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert p.stdout.split() == ["active", "10", str(48 * 1024 * 1024), "TasksMax=10"], p.stdout
    # the init is in the scope, and a fork loop stops at the limit
    p = sh(gk, outer, "%s state inner" % gkin)
    assert p.returncode == 0, p.stderr
    pid = json.loads(p.stdout)["pid"]
    p = sh(gk, outer, "cat /proc/%d/cgroup" % pid)
    assert p.stdout.strip() == "0::/gktest.slice/gkt-inner.scope", p.stdout
    loop = ("sh -c 'i=0; while [ $i -lt 40 ]; do sleep 30 & i=$((i+1)); done' 2>/dev/null;"
            " set -- /proc/[0-9]*; echo $#")
    p = sh(gk, outer, "%s exec inner /bin/sh -c %s" % (gkin, shlex.quote(loop)))
    assert p.returncode == 0, (p.stdout, p.stderr)
    assert 1 <= int(p.stdout.strip()) <= 10, p.stdout
    # a second container may not take the scope's name
    p = sh(gk, outer, "%s run --detach --bundle %s inner2" % (gkin, shlex.quote(inner.path)))
    assert p.returncode != 0 and "unit `gkt-inner.scope` already exists" in p.stderr, p.stderr
    p = sh(gk, outer, "systemctl is-active gkt-inner.scope")
    assert p.stdout.strip() == "active", p.stdout
    # delete stops the unit: scope and cgroup gone
    p = sh(gk, outer, "%s delete --force inner; systemctl is-active gkt-inner.scope;"
           " test -d %s && echo left" % (gkin, scope))
    assert p.stdout.split() == ["inactive"], (p.stdout, p.stderr)


def test_systemd_cgroup_is_driven_by_the_static_gkrun_alone(gk):
    """No second build: the gkrun binary alone in a directory (nothing
    beside it to hand over to) loads libsystemd itself and talks D-Bus.
    Runs on any host: PID 1 of a new pid namespace is a script named
    `systemd` (what the driver checks), and the "system bus" is a socket
    the test listens on, which sees sd-bus's authentication arrive."""
    if subprocess.run(["readelf", "-l", GKRUN], capture_output=True,
                      text=True).stdout.count("INTERP") != 0:
        pytest.skip("this gkrun is linked dynamically (no static archives here)")
    lone = os.path.join(gk.workdir, "lone")
    os.makedirs(lone)
    shutil.copy2(GKRUN, os.path.join(lone, "gkrun"))
    bus = os.path.join(gk.workdir, "bus")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    srv.bind(bus)
    srv.listen(1)
    srv.settimeout(20)
    b = gk.bundle(["/bin/true"])
    cid = gk.new_id()
    b.linux["cgroupsPath"] = "gktest.slice:gkt:" + cid
    b.write()
    init = os.path.join(gk.workdir, "systemd")
    with open(init, "w") as f:
        f.write("#!/bin/sh\nDBUS_SYSTEM_BUS_ADDRESS=unix:path=%s %s --root %s "
                "--systemd-cgroup run --bundle %s %s\n" %
                (bus, os.path.join(lone, "gkrun"), gk.root, b.path, cid))
    os.chmod(init, 0o755)
    p = subprocess.Popen(["unshare", "--pid", "--fork", "--mount-proc", init],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            p.kill()
            raise AssertionError("gkrun never connected: %s" % (p.communicate(),))
        conn.settimeout(10)
        hello = conn.recv(64)
        conn.close()
        out, err = p.communicate(timeout=30)
    finally:
        srv.close()
        if p.poll() is None:
            p.kill()
            p.wait()
    # sd-bus's greeting: a NUL byte, then SASL authentication
    assert hello.startswith(b"\0AUTH"), hello
    assert p.returncode != 0
    assert "--systemd-cgroup" in err and "gkrun-full" not in err, err
    assert gk.gkrun("list", "-q").stdout.strip() == ""
