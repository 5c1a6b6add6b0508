"""Known container-escape classes (runc's and crun's advisories), one test
each: the container tries, the escape fails, and the host is unchanged.

Other escape tests live beside the feature they guard: mount destinations
through symlinks, leaked fds and masked/read-only /proc and /sys paths in
test_lifecycle.py, /proc/PID/exe of `gkrun exec` in test_exec_console.py,
hostile layer tars in test_unpack.py."""
import hashlib
import os
import shutil
import subprocess
import threading
import time

import pytest

from conftest import GKRUN


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture
def gkrun_copy(gk):
    """A private copy of gkrun for the test to run (and an attack to aim
    at): its hash must be the same afterwards."""
    path = os.path.join(gk.workdir, "gkrun-copy")
    shutil.copy2(GKRUN, path)
    return path, sha256(path)


def gkrun_with(gk, binary, *args, **kw):
    p = subprocess.run([binary, "--root", gk.root] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=60, **kw)
    return p


# --- overwriting the runtime through /proc/self/exe (CVE-2019-5736) --------

def add_gkrun_libs(rootfs):
    """The shared libraries gkrun needs, so that it really runs when the
    container makes it execute (an attacker's image has a libc)."""
    out = subprocess.run(["ldd", GKRUN], capture_output=True, text=True, check=True).stdout
    for word in out.split():
        if word.startswith("/") and os.path.exists(word):
            dst = os.path.join(rootfs, word.lstrip("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            shutil.copy(word, dst)


def grabber(gk):
    """A running container whose gk-probe holds every foreign binary a
    process of its pid namespace runs and tries to write to it."""
    w = gk.bundle(["/bin/sh", "-c", "/bin/gk-probe grab-exe 6 > /grab.out"], copy_rootfs=True)
    w.process["noNewPrivileges"] = False
    rootfs = os.path.join(w.path, "rootfs")
    add_gkrun_libs(rootfs)
    cid = gk.create(w)
    gk.gkrun("start", cid, check=True)
    time.sleep(0.3)
    return cid, rootfs


def grab_result(gk, cid, rootfs):
    deadline = time.time() + 20
    while time.time() < deadline and gk.state(cid)["status"] != "stopped":
        time.sleep(0.2)
    with open(os.path.join(rootfs, "grab.out")) as f:
        return f.read()


# The attacking gkrun blocks in `update --resources -` reading its stdin,
# long enough for the grabber to find it.
BLOCKING_ARGS = ["update", "--resources", "-", "x"]


def test_init_running_proc_self_exe_cannot_overwrite_gkrun(gk, gkrun_copy):
    """A container whose command is /proc/self/exe makes its init exec
    gkrun's own binary: a process of the same pid namespace grabs it and
    writes once it has exited."""
    binary, before = gkrun_copy
    wid, rootfs = grabber(gk)
    pid = gk.state(wid)["pid"]
    b = gk.bundle(["/proc/self/exe"] + BLOCKING_ARGS)
    b.config["root"]["path"] = rootfs
    b.linux["namespaces"] = [{"type": "pid", "path": "/proc/%d/ns/pid" % pid}] + [
        {"type": t} for t in ("network", "ipc", "uts", "mount")]
    b.write()
    cid = gk.new_id()
    p = subprocess.Popen([binary, "--root", gk.root, "run", "--bundle", b.path, cid],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(1.5)
    p.stdin.close()
    p.wait(timeout=30)
    out = grab_result(gk, wid, rootfs)
    assert "grabbed" in out  # the attack reached a runtime binary...
    assert "wrote" not in out.split()  # ...and could not write it
    assert sha256(binary) == before


def test_exec_of_proc_self_exe_cannot_overwrite_gkrun(gk, gkrun_copy):
    """The same through `gkrun exec CID /proc/self/exe` and through a
    "#!/proc/self/exe" script run by exec."""
    binary, before = gkrun_copy
    cid, rootfs = grabber(gk)
    with open(os.path.join(rootfs, "bin", "evil"), "w") as f:
        f.write("#!/proc/self/exe\n")
    os.chmod(os.path.join(rootfs, "bin", "evil"), 0o755)
    for cmd in ("/proc/self/exe", "/bin/evil") * 2:
        p = subprocess.Popen([binary, "--root", gk.root, "exec", cid, cmd] + BLOCKING_ARGS,
                             stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        p.stdin.close()
        p.wait(timeout=30)
    out = grab_result(gk, cid, rootfs)
    assert "wrote" not in out.split()
    assert sha256(binary) == before
