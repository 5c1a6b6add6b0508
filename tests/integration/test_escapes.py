"""Known container-escape classes (runc's and crun's advisories), one place
listing them all.  Each test makes the container (or the bundle, the image)
try, asserts the escape fails, and that the host is unchanged.

 1. overwriting the runtime binary through /proc/self/exe (CVE-2019-5736):
    init (pid 1 of `run -d` in a new pid namespace too) and `exec` here;
    /proc/PID/exe of `gkrun exec` in
    test_exec_console.py::test_exec_process_cannot_open_gkrun_binary
 2. mount destinations that are symlinks or `..` out of the rootfs, and
    dangling symlinks (their targets made inside the rootfs): here;
    a tmpfs destination in test_lifecycle.py::test_mount_destination_symlink_cannot_escape
 3. /dev entries that are symlinks: /dev/null (CVE-2025-31133), /dev/console,
    /dev itself for linux.devices: here
 4. the rootfs path swapped for a symlink while create runs: here
 5. fds and cwd of gkrun leaking into the container (CVE-2024-21626),
    and host fds in gkrun processes the container can reach (the init in
    a pod's pid namespace, exec's process at its first instant): here; also test_lifecycle.py::test_no_fd_of_gkrun_leaks_into_the_container
    and ::test_preserve_fds, test_exec_console.py::test_exec_preserve_fds
 6. /proc and /sys entries that must be masked or read-only, a /proc
    symlink in the image, sysctl keys: here; also
    test_lifecycle.py::test_masked_and_readonly_paths
 7. a process regaining privileges it was denied (no_new_privs and a setuid
    binary, the bounding set, seccomp and caps of `exec`, startContainer
    hooks run before no_new_privs and seccomp): here; the
    capability sets, no_new_privs and seccomp filters themselves in
    test_security.py
 8. a hostile image layer (absolute paths, `..`, escaping symlinks and
    hardlinks, devices, bad whiteouts):
    test_unpack.py::test_hostile_layer_refused (11 cases),
    ::test_devices_kept_when_allowed, ::test_wrong_diff_id_refused;
    against the host's disk and time (sparse files and `bundle --copy`,
    inflating layers, dribbling and stalled registries):
    test_escapes_image.py
 9. names that become paths: container ids in
    test_lifecycle.py::test_invalid_ids_are_refused, image references in
    test_pull.py::test_bad_reference_fails_before_any_request
10. writes into /proc redirected by the container's own /proc
    (CVE-2025-52881), mounts inside /proc, sysctls outside the container's
    namespaces, /dev/console bound from a name (CVE-2025-52565): the
    section at the end (bundle-spec/SECURITY.md lists the invariants)
"""
import ctypes
import hashlib
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import threading
import time
import uuid

import pytest

from conftest import BUILD, GKRUN, REPO, cgroup_dirs
from gkcli import run, wait_for


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


# --- overwriting the runtime through /proc/self/exe (CVE-2019-5736) --------

def add_gkrun_libs(rootfs, binary=GKRUN):
    """The shared libraries gkrun (or BINARY) needs, so that it really runs
    when the container makes it execute (an attacker's image has a libc)."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True).stdout
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


@pytest.mark.parametrize("case", ["new-pidns", "joined-pidns", "container-hook", "create"])
def test_run_always_protects_its_binary(gk, case):
    """`run` and `create` re-execute from a protected binary whatever the
    container: a new pid namespace is no reason to skip it (see
    test_pid1_running_the_runtime_cannot_write_it_after_it_moves_on)."""
    exe = os.path.realpath(GKRUN)
    b = gk.bundle(["sleep", "5"])
    if case == "joined-pidns":
        other = gk.create(gk.bundle(["sleep", "30"]))
        pid = gk.state(other)["pid"]
        b.linux["namespaces"] = [{"type": "pid", "path": "/proc/%d/ns/pid" % pid}] + [
            {"type": t} for t in ("network", "ipc", "uts", "mount")]
    elif case == "container-hook":
        b.config["hooks"] = {"createContainer": [{"path": "/bin/true"}]}
    b.write()
    cid = gk.new_id()
    cmd = "create" if case == "create" else "run"
    p = subprocess.Popen([GKRUN, "--root", gk.root, cmd, "--bundle", b.path, cid],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        if cmd == "create":
            assert p.wait(timeout=30) == 0
            who = gk.state(cid)["pid"]  # the init, waiting for start
        else:
            # once the container exists, gkrun runs what it will run to the end
            state = os.path.join(gk.root, cid, "state.json")
            deadline = time.time() + 10
            while not os.path.exists(state) and time.time() < deadline:
                time.sleep(0.005)
            who = p.pid
        seen = os.readlink("/proc/%d/exe" % who)
        protected = os.statvfs("/proc/%d/exe" % who).f_flag & os.ST_RDONLY
    finally:
        if p.poll() is None:
            p.kill()
        p.wait(timeout=30)
    assert seen != exe
    assert protected


def test_gkrun_bound_readonly_runs_protected_without_reexec(gk, gkrun_copy):
    """contrib/gkrun-protect.sh binds gkrun read-only over itself: create
    then runs it as it is (no clone, no second exec), and the container's
    init still runs a binary no one can write."""
    binary, before = gkrun_copy
    script = os.path.join(REPO, "contrib", "gkrun-protect.sh")
    on = subprocess.run([script, "on", binary], capture_output=True, text=True)
    try:
        assert on.returncode == 0, on.stderr
        assert "on:" in subprocess.run([script, "status", binary], capture_output=True,
                                       text=True).stdout
        b = gk.bundle(["sleep", "30"])
        b.write()
        cid = gk.new_id()
        gk.ids.append(cid)
        # the container keeps create's stdio: files, not pipes
        p = subprocess.run([binary, "--root", gk.root, "create", "--bundle", b.path, cid],
                           stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=60)
        assert p.returncode == 0
        init = gk.state(cid)["pid"]
        assert os.readlink("/proc/%d/exe" % init) == binary  # not re-executed
        assert os.statvfs("/proc/%d/exe" % init).f_flag & os.ST_RDONLY
        with pytest.raises(OSError):
            os.open("/proc/%d/exe" % init, os.O_WRONLY)
    finally:
        subprocess.run([script, "off", binary], capture_output=True)
    assert "off:" in subprocess.run([script, "status", binary], capture_output=True,
                                    text=True).stdout
    assert sha256(binary) == before


@pytest.mark.parametrize("runtime", ["gkrun", "runc"])
def test_pid1_running_the_runtime_cannot_write_it_after_it_moves_on(gk, gkrun_copy, runtime):
    """CVE-2019-5736 through `run -d` with a new pid namespace: an image
    whose command is /proc/self/exe makes the container's pid 1 the
    runtime's own binary.  A process that holds /proc/1/exe (the test does
    it here, as a process the container starts with `exec` would) opens it
    for writing once pid 1 has moved on: that must fail.  runc resists too
    (a sealed memfd copy), so the test is known to be able to fail."""
    if runtime == "runc":
        if not shutil.which("runc"):
            pytest.skip("runc is not installed")
        binary = os.path.join(gk.workdir, "runc-copy")
        shutil.copy2(shutil.which("runc"), binary)
        before = sha256(binary)
        root = os.path.join(gk.workdir, "runc-root")
        # runc opens its --log file first thing: a fifo holds it there
        args = ["/proc/self/exe", "--log", "/gate", "list"]
    else:
        binary, before = gkrun_copy
        root = gk.root
        args = ["/proc/self/exe"] + BLOCKING_ARGS
    b = gk.bundle(args, copy_rootfs=True)
    b.process["noNewPrivileges"] = False
    rootfs = os.path.join(b.path, "rootfs")
    add_gkrun_libs(rootfs, binary)
    gate = os.path.join(rootfs, "gate")
    os.mkfifo(gate)
    b.write()
    cid = gk.new_id()
    held = -1
    p = subprocess.Popen([binary, "--root", root, "run", "-d", "--bundle", b.path, cid],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        assert p.wait(timeout=30) == 0
        st = subprocess.run([binary, "--root", root, "state", cid], capture_output=True,
                            text=True, timeout=30, check=True)
        pid = json.loads(st.stdout)["pid"]

        def runs_the_runtime():
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                return f.read().split(b"\0")[0] == b"/proc/self/exe"
        wait_for(runs_the_runtime, timeout=20, step=0.01,
                 what="pid 1 to run /proc/self/exe")
        held = os.open("/proc/%d/exe" % pid, os.O_PATH)
        # let pid 1 go on: it exits, and nothing runs the file any more
        p.stdin.close()
        gate_fd = os.open(gate, os.O_RDONLY | os.O_NONBLOCK)
        wait_for(lambda: not os.path.exists("/proc/%d/exe" % pid) or
                 open("/proc/%d/stat" % pid).read().split(") ")[1][0] == "Z",
                 timeout=20, step=0.01, what="pid 1 to exit")
        os.close(gate_fd)
        try:
            fd = os.open("/proc/self/fd/%d" % held, os.O_WRONLY)
        except OSError:
            fd = -1
        if fd >= 0:
            os.write(fd, b"pwned")
            os.close(fd)
    finally:
        if held >= 0:
            os.close(held)
        if p.poll() is None:
            p.kill()
        subprocess.run([binary, "--root", root, "delete", "--force", cid],
                       capture_output=True, timeout=30)
    assert fd < 0, "the runtime binary could be opened for writing"
    assert sha256(binary) == before


# --- mount destinations and /dev entries that are symlinks out of the rootfs --

def host_dir(gk, name):
    """A directory of the host, outside the rootfs, that must stay empty."""
    path = os.path.join(gk.workdir, name)
    os.makedirs(path)
    return path


def no_tmp_mount(b):
    """Host paths under /tmp exist in the image's /tmp, without the tmpfs."""
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] != "/tmp"]
    return b


def assert_untouched(path):
    assert os.listdir(path) == [], "something was written to the host's %s" % path
    assert not os.path.ismount(path)


def escape_setup(gk):
    """A host dir that must stay empty, a volume holding "v" (volume), and
    a bundle with its own rootfs copy: (outside, volume, bundle, rootfs)."""
    outside = host_dir(gk, "outside")
    src = host_dir(gk, "volume")
    with open(os.path.join(src, "v"), "w") as f:
        f.write("volume\n")
    b = no_tmp_mount(gk.bundle(copy_rootfs=True))
    return outside, src, b, os.path.join(b.path, "rootfs")


@pytest.mark.parametrize("kind", ["absolute-symlink", "relative-symlink", "dotdot-destination"])
def test_bind_mount_destination_cannot_leave_rootfs(gk, kind):
    outside, src, b, rootfs = escape_setup(gk)
    inside = os.path.join(rootfs, outside.lstrip("/"))
    os.makedirs(inside)  # where a chroot would resolve the destination
    dest = "/escape"
    if kind == "absolute-symlink":
        os.symlink(outside, os.path.join(rootfs, "escape"))
    elif kind == "relative-symlink":
        os.symlink("../../../../../../../.." + outside, os.path.join(rootfs, "escape"))
    else:
        dest = "/../../../../../../.." + outside
    seen = "/escape" if dest == "/escape" else outside
    b.process["args"] = ["/bin/sh", "-c", "cat %s/v 2>&1; echo x > %s/w" % (seen, seen)]
    b.config["mounts"].append({"destination": dest, "type": "bind", "source": src,
                               "options": ["rbind"]})
    p = gk.run(b)
    assert_untouched(outside)
    assert p.returncode == 0 and "volume" in p.stdout, p.stderr
    assert os.listdir(inside) == []  # the bind was in the container's namespace


@pytest.mark.parametrize("kind", ["absolute", "relative", "file"])
def test_dangling_symlink_destination_is_made_inside_rootfs(gk, kind):
    """A destination that is a symlink to something missing (an image's
    /etc/resolv.conf pointing into /run) is followed as runc does: the
    target is made inside the rootfs, wherever the link points."""
    outside, src, b, rootfs = escape_setup(gk)
    if kind == "file":
        os.makedirs(os.path.join(rootfs, "etc"), exist_ok=True)
        os.symlink("../run/resolve/stub.conf", os.path.join(rootfs, "etc", "stub.conf"))
        dest, source, made = "/etc/stub.conf", os.path.join(src, "v"), "run/resolve/stub.conf"
        check = "cat /etc/stub.conf"
    else:
        target = outside + "/data" if kind == "absolute" else \
            "../../../../../../../.." + outside + "/data"
        os.symlink(target, os.path.join(rootfs, "escape"))
        dest, source, made = "/escape/sub", src, outside.lstrip("/") + "/data/sub"
        check = "cat /escape/sub/v; echo x > /escape/sub/w"
    b.process["args"] = ["/bin/sh", "-c", check]
    b.config["mounts"].append({"destination": dest, "type": "bind", "source": source,
                               "options": ["rbind"]})
    p = gk.run(b)
    assert p.returncode == 0 and p.stdout.startswith("volume"), p.stderr
    assert_untouched(outside)
    assert os.path.lexists(os.path.join(rootfs, made))


def rootfs_dev_bundle(gk, args, **kw):
    """A bundle whose /dev is the image's own (no tmpfs from gkrun), where
    an image can plant symlinks."""
    b = no_tmp_mount(gk.bundle(args, copy_rootfs=True, **kw))
    b.config["mounts"] = [m for m in b.config["mounts"] if m["destination"] != "/dev"]
    return b, os.path.join(b.path, "rootfs")


def test_dev_null_symlink_cannot_unmask_proc(gk):
    """runc's CVE-2025-31133: maskedPaths bind /dev/null; a /dev/null that
    is a symlink to a /proc/sys file would bind that file, writable, over
    the masked path.  gkrun refuses to create the container."""
    b, rootfs = rootfs_dev_bundle(gk, ["/bin/sh", "-c", "echo pwned > /proc/keys; hostname"])
    os.symlink("/proc/sys/kernel/hostname", os.path.join(rootfs, "dev", "null"))
    cid = gk.new_id()
    p = gk.run(b, cid=cid)
    assert p.returncode != 0
    assert "pwned" not in p.stdout
    assert ("linux.maskedPaths: /dev/null in the container is not the null device"
            " (a symlink)") in p.stderr
    assert not os.path.exists(os.path.join(gk.root, cid))
    assert cgroup_dirs(cid) == []


def test_dev_null_symlink_is_replaced_on_gkruns_dev(gk):
    """With /dev a tmpfs of gkrun's, /dev/null is a fresh node whatever the
    image has there, and masking works."""
    b = gk.bundle(["/bin/sh", "-c", "ls -l /dev/null; wc -c < /proc/keys; echo x > /proc/keys"],
                  copy_rootfs=True)
    os.symlink("/proc/sys/kernel/hostname", os.path.join(b.path, "rootfs", "dev", "null"))
    p = gk.run(b)
    assert p.stdout.startswith("crw-rw-rw-"), p.stdout + p.stderr
    assert p.stdout.split("\n")[1].strip() == "0"


def test_dev_console_symlink_is_not_followed(gk):
    """/dev/console (terminal: true) is checked after pivot_root: a symlink
    there, to a path that is also the host's, gets no pty mounted on its
    target, in the container or on the host; create fails, as runc's does."""
    outside = host_dir(gk, "outside")
    victim = os.path.join(outside, "victim")
    with open(victim, "w") as f:
        f.write("host file\n")
    b, rootfs = rootfs_dev_bundle(gk, ["/bin/sh", "-c", "cat %s; echo done" % victim],
                                  terminal=True)
    os.mknod(os.path.join(rootfs, "dev", "null"), stat.S_IFCHR | 0o666, os.makedev(1, 3))
    inside = os.path.join(rootfs, victim.lstrip("/"))
    os.makedirs(os.path.dirname(inside))
    with open(inside, "w") as f:
        f.write("image file\n")
    os.symlink(victim, os.path.join(rootfs, "dev", "console"))
    from test_exec_console import ConsoleSocket
    cs = ConsoleSocket(gk.workdir)
    cid = gk.new_id()
    p = gk.gkrun("create", "--bundle", b.write(), "--console-socket", cs.path, cid)
    assert p.returncode != 0
    assert "/dev/console in the container is a symlink" in p.stderr
    assert not os.path.exists(os.path.join(gk.root, cid))
    for path, text in ((victim, "host file\n"), (inside, "image file\n")):
        assert not os.path.ismount(path)
        with open(path) as f:
            assert f.read() == text


def test_linux_devices_under_a_dev_symlink_stay_in_rootfs(gk):
    outside = host_dir(gk, "outside")
    b, rootfs = rootfs_dev_bundle(gk, ["/bin/true"])
    b.config["mounts"] = [m for m in b.config["mounts"] if not m["destination"].startswith("/dev")]
    os.rmdir(os.path.join(rootfs, "dev"))
    os.symlink(outside, os.path.join(rootfs, "dev"))
    os.makedirs(os.path.join(rootfs, outside.lstrip("/")))
    b.linux["devices"] = [{"path": "/dev/gk-null", "type": "c", "major": 1, "minor": 3}]
    b.linux["maskedPaths"] = []
    p = gk.run(b)
    assert_untouched(outside)
    assert p.returncode == 0, p.stderr
    assert os.path.exists(os.path.join(rootfs, outside.lstrip("/"), "gk-null"))


# --- the rootfs path swapped for a symlink while create runs ------------------

RENAME_EXCHANGE = 2


def test_rootfs_swapped_for_symlink_during_create(gk):
    """A racer exchanges the bundle's rootfs with a symlink to a directory
    of the host while containers are created (the symlink-exchange races of
    runc's CVE-2021-30465 family): a container that is created must have
    its rootfs as root, and nothing of it may be mounted or created in the
    host's directory.  (When create itself resolves the symlink, root.path
    names the host directory, which has no /bin/sleep: create fails.)"""
    libc = ctypes.CDLL(None, use_errno=True)
    outside = host_dir(gk, "outside")
    b = gk.bundle(["/bin/sleep", "100"], copy_rootfs=True)
    b.config["mounts"].append({"destination": "/gk-swap-probe", "type": "tmpfs",
                               "source": "tmpfs"})
    b.write()
    rootfs = os.path.join(b.path, "rootfs")
    real = os.stat(rootfs)
    swap = os.path.join(b.path, "swap")
    os.symlink(outside, swap)
    stop = threading.Event()

    def racer():
        while not stop.is_set():
            libc.renameat2(-100, rootfs.encode(), -100, swap.encode(), RENAME_EXCHANGE)

    t = threading.Thread(target=racer)
    t.start()
    created = 0
    try:
        # most creates lose the race one way or the other: tries enough for
        # a few to go through
        for i in range(300):
            if i >= 30 and created >= 3:
                break
            for name in os.listdir(outside):
                os.rmdir(os.path.join(outside, name))
            cid = gk.new_id()
            p = gk.gkrun("create", "--bundle", b.path, cid, timeout=30)
            if p.returncode == 0:
                created += 1
                r = os.stat("/proc/%d/root/" % gk.state(cid)["pid"])
                assert (r.st_dev, r.st_ino) == (real.st_dev, real.st_ino), \
                    "the container got another root"
                assert os.listdir(outside) == [], "mounts went to the host's directory"
            gk.gkrun("delete", "--force", cid, timeout=30)
    finally:
        stop.set()
        t.join()
        if os.path.islink(rootfs):
            os.rename(rootfs, swap + ".2")
            os.rename(swap, rootfs)
    assert not os.path.ismount(outside)
    assert created > 0, "the race left no create through: nothing was tested"


# --- hooks inside the container, bound as its process is ------------------------

@pytest.mark.parametrize("runtime", ["gkrun", "runc"])
def test_start_container_hooks_run_under_no_new_privs_and_seccomp(gk, runtime):
    """startContainer hooks run inside the container: no_new_privs and the
    seccomp filter are in force before they run (a setuid binary run by a
    hook gains nothing), as runc does it."""
    if runtime == "runc" and not shutil.which("runc"):
        pytest.skip("runc is not installed")
    b = gk.bundle(["/bin/true"], copy_rootfs=True)
    b.process["noNewPrivileges"] = True
    b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
        {"names": ["sethostname"], "action": "SCMP_ACT_ERRNO"}]}
    b.config["hooks"] = {"startContainer": [{"path": "/bin/sh", "args": [
        "sh", "-c", "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status > /hook.out"]}]}
    b.write()
    cid = gk.new_id()
    if runtime == "runc":
        root = os.path.join(gk.workdir, "runc-root")
        p = subprocess.run(["runc", "--root", root, "run", "--bundle", b.path, cid],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        subprocess.run(["runc", "--root", root, "delete", "-f", cid], capture_output=True)
    else:
        p = gk.run(b, cid=cid)
    assert p.returncode == 0, p.stderr
    with open(os.path.join(b.path, "rootfs", "hook.out")) as f:
        seen = dict(l.split(":\t") for l in f.read().split("\n") if l)
    assert seen == {"NoNewPrivs": "1", "Seccomp": "2"}


# --- fds and cwd of gkrun reaching the container -------------------------------

FAULT_GKRUN = os.path.join(BUILD, "fault", "gkrun")


def host_fs_fds(pid, allowed=()):
    """The fds of PID that name a file of the host's filesystem: anything
    with a path but /dev/null, a pty, a pid-only procfs ("/N/fd" whose
    procfs has no /sys: not the host's /proc) and ALLOWED.  Sockets,
    pipes, namespaces and anon inodes have no path."""
    bad = {}
    for n in os.listdir("/proc/%d/fd" % pid):
        link = "/proc/%d/fd/%s" % (pid, n)
        try:
            t = os.readlink(link)
        except FileNotFoundError:
            continue
        if not t.startswith("/") or t == "/dev/null" or t.startswith("/dev/pts/") or \
                t in allowed:
            continue
        if re.fullmatch(r"/\d+/fd", t) and not os.path.exists(link + "/../../sys"):
            continue
        bad[int(n)] = t
    return bad


def stopped_child(ppid, timeout=20):
    """The child of PPID that has stopped itself (GK_PAUSE)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for tid in os.listdir("/proc/%d/task" % ppid):
            with open("/proc/%d/task/%s/children" % (ppid, tid)) as f:
                for c in f.read().split():
                    with open("/proc/%s/stat" % c) as st:
                        if st.read().rsplit(") ", 1)[1][0] == "T":
                            return int(c)
        time.sleep(0.01)
    raise AssertionError("no stopped child of %d" % ppid)


@pytest.mark.skipif(not os.path.exists(FAULT_GKRUN), reason="no fault build: run `make fault`")
def test_no_host_fd_in_any_process_the_container_can_reach(gk):
    """Every gkrun process that a container's processes can see (same pid
    namespace) holds no fd of the host's filesystem but the exec fifo it is
    about to use: the init of a container joining a pod's pid namespace,
    from its first instant (GK_PAUSE=create.init) and while it waits for
    start; the process of `gkrun exec` from its first instant in the
    container's pid namespace (GK_PAUSE=exec.child), whose root is then the
    container's already."""
    pod = gk.create(gk.bundle(["sleep", "60"]))
    gk.gkrun("start", pod, check=True)
    pod_pid = gk.state(pod)["pid"]
    b = gk.bundle(["sleep", "60"])
    b.linux["namespaces"] = [{"type": "pid", "path": "/proc/%d/ns/pid" % pod_pid}] + [
        {"type": t} for t in ("network", "ipc", "uts", "mount")]
    b.write()
    cid = gk.new_id()
    fifo = os.path.join(gk.root, cid, "exec.fifo")
    env = dict(os.environ, GK_PAUSE="create.init")
    p = subprocess.Popen([FAULT_GKRUN, "--root", gk.root, "create", "--bundle", b.path, cid],
                         env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    try:
        init = stopped_child(p.pid)
        assert host_fs_fds(init, allowed=(fifo,)) == {}
        os.kill(init, signal.SIGCONT)
        assert p.wait(timeout=30) == 0, p.stderr.read()
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    assert gk.state(cid)["status"] == "created"
    assert host_fs_fds(init, allowed=(fifo,)) == {}  # waiting for start
    gk.gkrun("start", cid, check=True)
    assert host_fs_fds(init) == {}
    for target in (cid, pod):
        env = dict(os.environ, GK_PAUSE="exec.child")
        p = subprocess.Popen([FAULT_GKRUN, "--root", gk.root, "exec", "-d", target, "true"],
                             env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE)
        try:
            child = stopped_child(p.pid)
            assert host_fs_fds(child) == {}
            root, host = os.stat("/proc/%d/root" % child), os.stat("/")
            assert (root.st_dev, root.st_ino) != (host.st_dev, host.st_ino)
            os.kill(child, signal.SIGCONT)
            assert p.wait(timeout=30) == 0, p.stderr.read()
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()


@pytest.mark.parametrize("fd", range(3, 9))
def test_cwd_through_leaked_fd_is_refused(gk, fd):
    """runc's CVE-2024-21626: process.cwd "/proc/self/fd/N" names a
    directory fd gkrun still holds (a host cgroup, its /proc) and gives the
    process a cwd outside its root, from where ".." reaches the host."""
    b = gk.bundle(["/bin/sh", "-c", "ls ../../../..; pwd"])
    b.process["cwd"] = "/proc/self/fd/%d" % fd
    p = gk.run(b)
    assert p.returncode != 0, p.stdout
    assert p.stdout == ""
    # refused when its missing directories are made ("create cwd") or
    # when it is entered ("chdir to cwd"), whichever finds it first
    assert 'cwd ("/proc/self/fd/%d") set in config.json failed' % fd in p.stderr


def test_exec_cwd_through_leaked_fd_is_refused(gk):
    cid = gk.create(gk.bundle(["/bin/sleep", "100"]))
    gk.gkrun("start", cid, check=True)
    for fd in range(3, 9):
        p = gk.gkrun("exec", "--cwd", "/proc/self/fd/%d" % fd, cid, "/bin/sh", "-c",
                     "ls ../../../..; pwd")
        assert p.returncode != 0, (fd, p.stdout)
        assert p.stdout == ""
        assert "chdir to cwd" in p.stderr


def test_cwd_symlink_resolves_inside_rootfs(gk):
    outside = host_dir(gk, "outside")
    b = no_tmp_mount(gk.bundle(["/bin/sh", "-c", "pwd; touch here"], copy_rootfs=True))
    rootfs = os.path.join(b.path, "rootfs")
    os.makedirs(os.path.join(rootfs, outside.lstrip("/")))
    os.symlink(outside, os.path.join(rootfs, "work"))
    b.process["cwd"] = "/work"
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    assert_untouched(outside)
    assert os.path.exists(os.path.join(rootfs, outside.lstrip("/"), "here"))


def fds_seen(p):
    assert p.returncode == 0, p.stderr
    return {int(line.split()[0]): line.split(None, 1)[1] if " " in line else ""
            for line in p.stdout.splitlines()}


def test_host_fds_reach_the_container_only_when_preserved(gk):
    """Open fds of gkrun's caller (here directories of the host, as fds
    3-6) are closed on exec unless --preserve-fds keeps them, for run and
    exec alike."""
    held = [os.open("/", os.O_RDONLY | os.O_DIRECTORY) for _ in range(4)]

    def as_3_to_6():
        for i, fd in enumerate(held):
            os.dup2(fd, 3 + i)

    def gkrun_fds(*args):
        return sorted(fds_seen(gk.gkrun(*args, timeout=30, preexec_fn=as_3_to_6,
                                        pass_fds=(3, 4, 5, 6))))
    try:
        b = gk.bundle(["/bin/gk-probe", "fds"])
        b.write()
        assert gkrun_fds("run", "--bundle", b.path, gk.new_id()) == [0, 1, 2]
        assert gkrun_fds("run", "--preserve-fds", "2", "--bundle", b.path,
                         gk.new_id()) == [0, 1, 2, 3, 4]
        cid = gk.create(gk.bundle(["/bin/sleep", "100"]))
        gk.gkrun("start", cid, check=True)
        assert gkrun_fds("exec", cid, "/bin/gk-probe", "fds") == [0, 1, 2]
        assert gkrun_fds("exec", "--preserve-fds", "1", cid, "/bin/gk-probe",
                         "fds") == [0, 1, 2, 3]
    finally:
        for fd in held:
            os.close(fd)


# --- /proc and /sys: masked and read-only paths -------------------------------

def read_host(path):
    with open(path) as f:
        return f.read()


def test_proc_and_sys_writes_are_refused_and_masks_hold(gk):
    """What maskedPaths and readonlyPaths protect stays protected, and the
    container cannot take the protection off (no CAP_SYS_ADMIN: no
    umount, no remount).  Writes put back the value the host has, so a
    failing test leaves the host as it was."""
    core = read_host("/proc/sys/kernel/core_pattern").strip()
    helper = read_host("/sys/kernel/uevent_helper").strip() if \
        os.path.exists("/sys/kernel/uevent_helper") else ""
    script = ("for f in /proc/sys/kernel/core_pattern:'%s' /proc/sysrq-trigger:h"
              " /sys/kernel/uevent_helper:'%s'; do"
              "  (echo \"${f#*:}\" > \"${f%%%%:*}\") 2>/dev/null && echo \"wrote ${f%%%%:*}\";"
              " done;"
              " echo keys=$(wc -c < /proc/keys) timer=$(wc -c < /proc/timer_list)"
              " firmware=$(ls /sys/firmware | wc -l);"
              " umount /proc/keys 2>/dev/null && echo unmounted;"
              " umount /proc/sys 2>/dev/null && echo unmounted;"
              " mount -o remount,rw /proc/sys 2>/dev/null && echo remounted;"
              " mount -o remount,rw /sys 2>/dev/null && echo remounted; true") % (core, helper)
    p = gk.run(gk.bundle(["/bin/sh", "-c", script]))
    assert p.returncode == 0, p.stderr
    assert "wrote" not in p.stdout
    assert "keys=0 timer=0 firmware=0" in p.stdout
    assert "unmounted" not in p.stdout and "remounted" not in p.stdout
    assert read_host("/proc/sys/kernel/core_pattern").strip() == core


def test_proc_symlink_in_image_keeps_masks(gk):
    """An image whose /proc is a symlink (runc's CVE-2019-16884 family):
    procfs lands where the symlink leads inside the rootfs, and the masks
    and read-only paths, resolved the same way, still cover it."""
    b = gk.bundle(["/bin/sh", "-c", "wc -c < /proc/keys;"
                   " (echo x > /proc/sys/kernel/domainname) 2>/dev/null && echo wrote; true"],
                  copy_rootfs=True)
    rootfs = os.path.join(b.path, "rootfs")
    os.rmdir(os.path.join(rootfs, "proc"))
    os.makedirs(os.path.join(rootfs, "elsewhere"))
    os.symlink("/elsewhere", os.path.join(rootfs, "proc"))
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["0"]


def test_sysctl_key_cannot_leave_proc_sys(gk):
    outside = host_dir(gk, "outside")
    b = gk.bundle(["/bin/true"])
    b.linux["sysctl"] = {"kernel/../../../../../../..%s/x" % outside: "1"}
    cid = gk.new_id()
    p = gk.run(b, cid=cid)
    assert p.returncode != 0
    assert "linux.sysctl: invalid key" in p.stderr
    assert_untouched(outside)


# --- a process regaining privileges it was denied -----------------------------

def setuid_probe(gk, **kw):
    """A bundle whose image has a setuid-root copy of gk-probe."""
    b = gk.bundle(copy_rootfs=True, **kw)
    if os.statvfs(b.path).f_flag & os.ST_NOSUID:
        pytest.skip("%s is on a nosuid mount: no setuid binary works there" % b.path)
    path = os.path.join(b.path, "rootfs", "bin", "suid-probe")
    shutil.copy(os.path.join(b.path, "rootfs", "bin", "gk-probe"), path)
    os.chown(path, 0, 0)
    os.chmod(path, 0o4755)
    b.process["user"] = {"uid": 1000, "gid": 1000}
    return b


def probe_line(out, key):
    for word in out.split():
        if word.startswith(key + "="):
            return word.split("=", 1)[1]
    raise AssertionError("no %s in %r" % (key, out))


@pytest.mark.parametrize("nnp", [True, False])
def test_setuid_binary_under_no_new_privs(gk, nnp):
    """With noNewPrivileges a setuid-root binary runs as the user; without,
    the same binary does become root (so this test can tell)."""
    b = setuid_probe(gk)
    b.process["args"] = ["/bin/suid-probe", "ids"]
    b.process["noNewPrivileges"] = nnp
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    assert probe_line(p.stdout, "euid") == ("1000" if nnp else "0")


def test_bounding_set_caps_a_setuid_root_binary(gk):
    """Becoming root through a setuid binary gives no capability outside
    the bounding set."""
    b = setuid_probe(gk)
    b.process["args"] = ["/bin/sh", "-c", "/bin/suid-probe ids; /bin/suid-probe caps"]
    b.process["noNewPrivileges"] = False
    b.process["capabilities"] = {"bounding": ["CAP_KILL"], "effective": [], "permitted": []}
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    assert probe_line(p.stdout, "euid") == "0"
    for line in p.stdout.splitlines():
        if line.startswith(("CapEff", "CapPrm", "CapBnd")):
            assert set(line.split(":", 1)[1].split()) <= {"CAP_KILL"}, line


def test_exec_gets_the_containers_seccomp_and_bounding_set(gk):
    """`gkrun exec` without --cap gives the new process no more than the
    container's init: the same bounding set and the same seccomp filter."""
    b = gk.bundle(["/bin/sleep", "100"])
    b.process["capabilities"] = {k: ["CAP_KILL"] for k in ("bounding", "effective", "permitted")}
    b.linux["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["SCMP_ARCH_X86_64"],
                          "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_ERRNO"}]}
    cid = gk.create(b)
    gk.gkrun("start", cid, check=True)
    p = gk.gkrun("exec", cid, "/bin/sh", "-c", "gk-probe syscall getpid; gk-probe caps",
                 check=True)
    lines = p.stdout.splitlines()
    assert lines[0] == "errno=EPERM"
    caps = {l.split(":")[0]: set(l.split(":", 1)[1].split()) for l in lines[1:] if ":" in l}
    assert caps["CapBnd"] == {"CAP_KILL"}
    assert caps["CapEff"] <= {"CAP_KILL"}


# --- /proc written through gkrun's own procfs; mounts inside /proc; sysctls
# only in the container's namespaces; /dev/console from the pty's fd --------
# (runc's CVE-2025-52881 and CVE-2025-52565, checkProcMount, and its sysctl
# validation).  Where runc resists too, the same bundle runs under runc.

RUNC = shutil.which("runc") or "/usr/sbin/runc"


class Runtime:
    """gkrun or runc on one test's bundles, with its own --root; every
    container it made is force-deleted at the end."""

    def __init__(self, gk, name):
        self.gk, self.name = gk, name
        self.binary = GKRUN if name == "gkrun" else RUNC
        self.root = gk.root if name == "gkrun" else os.path.join(gk.workdir, "runc-state")
        self.ids = []

    def __call__(self, *args, timeout=60):
        p = run([self.binary, "--root", self.root, *args], timeout=timeout)
        # runc logs its error as msg="...", its quotes escaped
        p.stderr = p.stderr.replace('\\"', '"')
        return p

    def run(self, b, verb="run"):
        b.write()
        cid = self.gk.new_id() if self.name == "gkrun" else "gkt-" + uuid.uuid4().hex[:10]
        self.ids.append(cid)
        return cid, self(verb, "--bundle", b.path, cid)

    def cleanup(self):
        if self.name == "runc":
            for cid in self.ids:
                self("delete", "--force", cid, timeout=30)


@pytest.fixture(params=["gkrun", "runc"])
def runtime(gk, request):
    if request.param == "runc" and not os.access(RUNC, os.X_OK):
        pytest.skip("runc is not installed")
    rt = Runtime(gk, request.param)
    yield rt
    rt.cleanup()


def canary(gk, name="canary"):
    """A host directory holding "target" (world-writable, as a file an
    attack could reach would be): it must keep its content."""
    d = host_dir(gk, name)
    path = os.path.join(d, "target")
    with open(path, "w") as f:
        f.write("canary\n")
    os.chmod(path, 0o666)
    return d, path


def assert_canary(path):
    with open(path) as f:
        assert f.read() == "canary\n", "a write was redirected onto the canary"


def with_userns(b):
    b.linux["namespaces"].append({"type": "user"})
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    subprocess.run(["chown", "-R", "100000:100000", os.path.join(b.path, "rootfs")], check=True)
    return b


PORT_START = "/proc/sys/net/ipv4/ip_unprivileged_port_start"


@pytest.mark.parametrize("userns", ["host", "private", "private-host-pidns"],
                         ids=["host-userns", "private-userns", "private-userns-host-pidns"])
def test_sysctl_write_is_not_redirected_by_the_containers_proc(gk, userns):
    """CVE-2025-52881: sysctls written by path through the container's
    /proc follow what the image and the volumes put there.  Here the image's
    /proc (procfs is mounted elsewhere, on /realproc, which runc allows)
    holds a symlink at the sysctl's path into a volume: the value must go
    to the container's own sysctl and the volume's file stay as it was.
    gkrun writes through a fresh procfs of its own; in a user namespace
    without a pid namespace of its own the kernel refuses one (the host's
    pid namespace is not the user namespace's), and gkrun's own /proc,
    opened before any mount of the container, is used: both are tried.
    (runc 1.1 writes through the symlink: not run against it.)"""
    vol, target = canary(gk)
    host_value = read_host(PORT_START)
    b = gk.bundle(["/bin/cat", "/realproc/sys/net/ipv4/ip_unprivileged_port_start"],
                  copy_rootfs=True)
    rootfs = os.path.join(b.path, "rootfs")
    for m in b.config["mounts"]:
        if m["destination"] == "/proc":
            m["destination"] = "/realproc"
    b.config["mounts"].append({"destination": "/canary", "type": "bind", "source": vol,
                               "options": ["rbind"]})
    os.makedirs(os.path.join(rootfs, "proc", "sys", "net", "ipv4"))
    os.symlink("/canary/target", os.path.join(rootfs, PORT_START.lstrip("/")))
    b.linux["sysctl"] = {"net.ipv4.ip_unprivileged_port_start": "1000"}
    if userns != "host":
        with_userns(b)
    if userns == "private-host-pidns":
        without_ns(b, "pid")
        # no procfs can be mounted there either: the host's, bound
        for m in b.config["mounts"]:
            if m["destination"] == "/realproc":
                m.update(type="bind", source="/proc", options=["rbind"])
    p = gk.run(b)
    assert_canary(target)
    assert read_host(PORT_START) == host_value
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "1000"


def test_mount_on_a_symlink_into_proc_is_refused(gk, runtime):
    """The volume variant: the image's /data -> /proc/sys/net, and a volume
    on /data whose ipv4/ip_unprivileged_port_start is a symlink to a
    canary.  The mount resolves inside /proc: refused before anything is
    written, by gkrun as by runc."""
    vol, target = canary(gk)
    os.makedirs(os.path.join(vol, "ipv4"))
    os.symlink("/canary/target", os.path.join(vol, "ipv4", "ip_unprivileged_port_start"))
    b = gk.bundle(["/bin/cat", PORT_START], copy_rootfs=True)
    rootfs = os.path.join(b.path, "rootfs")
    # the shared rootfs it copies may hold a /data mount point another
    # test's runtime made
    if os.path.isdir(os.path.join(rootfs, "data")) and not os.path.islink(os.path.join(rootfs, "data")):
        os.rmdir(os.path.join(rootfs, "data"))
    os.symlink("/proc/sys/net", os.path.join(rootfs, "data"))
    b.config["mounts"].append({"destination": "/canary", "type": "bind", "source": vol,
                               "options": ["rbind"]})
    b.config["mounts"].append({"destination": "/data", "type": "bind", "source": vol,
                               "options": ["rbind"]})
    b.linux["sysctl"] = {"net.ipv4.ip_unprivileged_port_start": "1000"}
    cid, p = runtime.run(b)
    assert_canary(target)
    assert p.returncode != 0, p.stdout
    assert "cannot be mounted because it is inside /proc" in p.stderr
    if runtime.name == "gkrun":
        n = len(b.config["mounts"]) - 1
        assert ('config.json: mounts[%d]: destination "/data" resolves to "/proc/sys/net"'
                ' cannot be mounted because it is inside /proc' % n) in p.stderr
        assert not os.path.exists(os.path.join(gk.root, cid))
        assert cgroup_dirs(cid) == []


PROC_MOUNTS = {
    # case: (destination, source kind, type, refused with)
    "dir-in-proc": ("/proc/sys/kernel", "dir", "bind", "cannot be mounted because it is inside /proc"),
    "tmpfs-in-proc": ("/proc/sys", None, "tmpfs", "cannot be mounted because it is inside /proc"),
    "dir-on-proc": ("/proc", "dir", "bind", "cannot be mounted because it is not of type proc"),
    "lxcfs-file": ("/proc/uptime", "file", "bind", None),
}


@pytest.mark.parametrize("case", sorted(PROC_MOUNTS))
def test_mount_destinations_inside_proc(gk, runtime, case):
    """Only a procfs on /proc and binds on the few files lxcfs emulates
    (/proc/uptime here) may be mounted inside /proc."""
    dest, kind, fstype, refused = PROC_MOUNTS[case]
    if runtime.name == "runc" and fstype != "bind":
        pytest.skip("runc 1.1 checks bind mounts only")
    src = host_dir(gk, "src")
    if kind == "file":
        src = os.path.join(src, "uptime")
        with open(src, "w") as f:
            f.write("12345.00 0.00\n")
    b = gk.bundle(["/bin/cat", "/proc/uptime"])
    m = {"destination": dest, "type": fstype, "source": src if kind else "tmpfs"}
    if kind:
        m["options"] = ["rbind"]
    b.config["mounts"].append(m)
    cid, p = runtime.run(b)
    if refused:
        assert p.returncode != 0, p.stdout
        assert refused in p.stderr
        if runtime.name == "gkrun":
            assert ('config.json: mounts[%d]: "%s" %s' % (len(b.config["mounts"]) - 1, dest,
                                                           refused)) in p.stderr
            assert not os.path.exists(os.path.join(gk.root, cid))
    else:
        assert p.returncode == 0, p.stderr
        assert p.stdout == "12345.00 0.00\n"


def without_ns(b, ns):
    b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != ns]
    if ns == "uts":
        del b.config["hostname"]
    return b


HOST_DOMAINNAME = "/proc/sys/kernel/domainname"
SYSCTL_REFUSED = {
    # case: (key, namespace left out, runc's message)
    "host-global": ("kernel.printk_ratelimit", None, "is not in a separate kernel namespace"),
    "domainname-without-uts": ("kernel.domainname", "uts",
                               "is not in a separate kernel namespace"),
    "net-without-netns": ("net.ipv4.ip_unprivileged_port_start", "network",
                          "not allowed in host network namespace"),
    "ipc-without-ipcns": ("kernel.shmmax", "ipc", "is not allowed in the hosts ipc namespace"),
    "mqueue-without-ipcns": ("fs.mqueue.msg_max", "ipc",
                             "is not allowed in the hosts ipc namespace"),
    "hostname": ("kernel.hostname", None, "is not allowed as it conflicts with the OCI"),
}


@pytest.mark.parametrize("case", sorted(SYSCTL_REFUSED))
def test_sysctl_outside_the_containers_namespaces_is_refused(gk, runtime, case):
    """A sysctl whose namespace is not the container's own would change the
    host's: refused at create, with runc's message, nothing left behind.
    The value is the host's own, so that even a wrong write changes
    nothing; the host's value is checked all the same."""
    key, ns, message = SYSCTL_REFUSED[case]
    path = "/proc/sys/" + key.replace(".", "/")
    before = read_host(path)
    b = gk.bundle(["/bin/true"])
    if ns:
        without_ns(b, ns)
    b.linux["sysctl"] = {key: before.strip() or "gk-unset"}
    cid, p = runtime.run(b, verb="create")
    assert read_host(path) == before
    assert p.returncode != 0, p.stdout
    assert ('sysctl "%s" %s' % (key, message)) in p.stderr
    if runtime.name == "gkrun":
        assert "config.json: linux.sysctl: " in p.stderr
        assert not os.path.exists(os.path.join(gk.root, cid))
        assert cgroup_dirs(cid) == []


@pytest.mark.parametrize("key", ["kernel..shmmax", ".kernel.shmmax", "kernel.shmmax.",
                                 "kernel/shmmax", ""])
def test_sysctl_key_with_empty_names_or_slashes_is_refused(gk, key):
    b = gk.bundle(["/bin/true"])
    b.linux["sysctl"] = {key: "1"}
    cid = gk.new_id()
    p = gk.gkrun("create", "--bundle", b.write(), cid)
    assert p.returncode != 0
    assert 'config.json: linux.sysctl: invalid key "%s"' % key in p.stderr
    assert not os.path.exists(os.path.join(gk.root, cid))


def test_sysctls_in_the_containers_namespaces_are_applied(gk, runtime):
    """The namespaced ones are set where the container sees them (its own
    /proc/sys), and the host's stay as they were."""
    want = {"kernel.domainname": "gk.example", "net.ipv4.ip_unprivileged_port_start": "1000",
            "kernel.shmmax": "123456789", "fs.mqueue.msg_max": "20"}
    paths = ["/proc/sys/" + k.replace(".", "/") for k in sorted(want)]
    before = [read_host(path) for path in paths]
    b = gk.bundle(["/bin/cat"] + paths)
    b.linux["sysctl"] = want
    _, p = runtime.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == [want[k] for k in sorted(want)]
    assert [read_host(path) for path in paths] == before


@pytest.mark.parametrize("userns", [False, True], ids=["host-userns", "private-userns"])
def test_time_namespace_offsets_are_written(gk, userns):
    """linux.timeOffsets go through gkrun's own procfs too
    (/proc/PID/timens_offsets): the container's boot time moves."""
    b = gk.bundle(["/bin/cat", "/proc/uptime"], copy_rootfs=userns)
    b.linux["namespaces"].append({"type": "time"})
    b.linux["timeOffsets"] = {"boottime": {"secs": 86400 * 1000, "nanosecs": 0}}
    if userns:
        with_userns(b)
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    assert float(p.stdout.split()[0]) > 86400 * 1000


def test_dev_console_is_the_pty_mounted_from_its_fd(gk):
    """CVE-2025-52565: /dev/console is the container's pty, bound from the
    fd gkrun holds (not from its name in /dev/pts): the same device as the
    process's stdin, a mount of devpts, and what is written there reaches
    the console socket's master."""
    from test_exec_console import ConsoleSocket, read_until
    b = gk.bundle(["/bin/sh", "-c",
                   "stat -c 'console=%t:%T' /dev/console; stat -L -c 'stdin=%t:%T' /proc/self/fd/0;"
                   " grep -c ' /dev/console .* devpts ' /proc/self/mountinfo;"
                   " echo via-console > /dev/console; echo done"], terminal=True)
    cs = ConsoleSocket(gk.workdir)
    cid = gk.create(b, "--console-socket", cs.path)
    master = cs.master()
    gk.gkrun("start", cid, check=True)
    out = read_until(master, b"done")
    os.close(master)
    words = out.split()
    console = [w for w in words if w.startswith("console=")]
    assert console and console[0].split("=")[1] == \
        [w for w in words if w.startswith("stdin=")][0].split("=")[1], out
    assert "1" in words and "via-console" in words, out


def test_domainname_without_uts_namespace_is_refused(gk):
    """setdomainname without a UTS namespace of its own would rename the
    host's domain: refused at create, as hostname is."""
    before = read_host(HOST_DOMAINNAME)
    b = without_ns(gk.bundle(["/bin/true"]), "uts")
    b.config["domainname"] = "gk-must-not-appear.example"
    cid = gk.new_id()
    p = gk.gkrun("create", "--bundle", b.write(), cid)
    assert read_host(HOST_DOMAINNAME) == before
    assert p.returncode != 0
    assert ("config.json: domainname: unable to set domainname without a private UTS"
            " namespace") in p.stderr
    assert not os.path.exists(os.path.join(gk.root, cid))
