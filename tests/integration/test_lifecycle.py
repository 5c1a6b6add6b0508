"""gkrun's lifecycle on real containers: create, start, run, state, kill,
delete, list, hooks, and what the container sees of its setup."""
import json
import os
import signal
import subprocess
import time
import uuid

import pytest

from conftest import GKRUN, cgroup_dirs

RUNC = "/usr/sbin/runc"


def test_run_true_exits_zero(gk):
    p = gk.run(gk.bundle(["/bin/true"]))
    assert p.returncode == 0, p.stderr
    assert gk.gkrun("list", "-q").stdout.strip() == ""


def test_run_exit_status_is_passed_through(gk):
    p = gk.run(gk.bundle(["/bin/sh", "-c", "exit 42"]))
    assert p.returncode == 42


def test_run_killed_by_signal_exits_128_plus_signal(gk):
    # Outside a pid namespace: pid 1 of one would ignore its own SIGKILL.
    b = gk.bundle(["/bin/sh", "-c", "kill -9 $$"])
    b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "pid"]
    p = gk.run(b)
    assert p.returncode == 128 + 9


def test_container_sees_its_own_pid_namespace_and_hostname(gk):
    b = gk.bundle(["/bin/sh", "-c", "echo pid=$$; hostname; cat /proc/1/cmdline | tr '\\0' ' '"])
    b.config["hostname"] = "box1"
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split("\n")
    assert lines[0] == "pid=1"
    assert lines[1] == "box1"
    assert lines[2].startswith("/bin/sh -c")


def test_env_cwd_and_user(gk):
    b = gk.bundle(["/bin/sh", "-c", "echo $FOO; pwd; id -u; id -g; id -G; umask"])
    b.process["env"].append("FOO=bar baz")
    b.process["cwd"] = "/tmp"
    b.process["user"] = {"uid": 1000, "gid": 1000, "additionalGids": [10], "umask": 0o027}
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split("\n")[:6] == ["bar baz", "/tmp", "1000", "1000", "1000 10", "0027"]


def test_home_comes_from_passwd_when_unset(gk):
    b = gk.bundle(["/bin/sh", "-c", "echo $HOME"])
    b.process["user"] = {"uid": 1000, "gid": 1000}
    assert gk.run(b).stdout.strip() == "/home/gkuser"


def test_mounts_proc_dev_and_readonly_root(gk):
    b = gk.bundle(["/bin/sh", "-c",
                   "ls /dev; touch /etc/x 2>&1; echo hi > /tmp/t && cat /tmp/t;"
                   " grep -c '^proc /proc proc' /proc/mounts"])
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    out = p.stdout
    for dev in ("null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm",
                "fd", "stdin", "stdout", "stderr", "mqueue"):
        assert dev in out.split(), dev
    assert "Read-only file system" in out
    assert "hi" in out


def test_masked_and_readonly_paths(gk):
    b = gk.bundle(["/bin/sh", "-c",
                   "wc -c < /proc/keys; ls /sys/firmware | wc -l;"
                   " echo 1 > /proc/sys/kernel/domainname 2>&1 || echo ro"])
    p = gk.run(b)
    lines = p.stdout.split("\n")
    assert lines[0].strip() == "0"
    assert lines[1].strip() == "0"
    assert "ro" in p.stdout or "Read-only" in p.stdout


def test_bind_mount_with_options(gk, tmp_path):
    src = tmp_path / "data"
    src.mkdir()
    (src / "f").write_text("from host\n")
    b = gk.bundle(["/bin/sh", "-c", "cat /data/f; (echo x > /data/g) 2>&1"])
    b.config["mounts"].append({"destination": "/data", "type": "bind", "source": str(src),
                               "options": ["rbind", "ro"]})
    p = gk.run(b)
    assert "from host" in p.stdout
    assert "Read-only file system" in p.stdout
    assert not (src / "g").exists()


def test_mount_destination_symlink_cannot_escape(gk, tmp_path):
    """A symlink in the rootfs pointing out must resolve inside the rootfs."""
    b = gk.bundle(["/bin/sh", "-c", "cat /escape/marker"], copy_rootfs=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    os.symlink(str(outside), os.path.join(b.path, "rootfs", "escape"))
    b.config["mounts"].append({"destination": "/escape", "type": "tmpfs", "source": "tmpfs"})
    p = gk.run(b)
    # The tmpfs went onto rootfs/<outside path>, never onto the host's dir.
    assert os.listdir(outside) == []
    assert not os.path.ismount(str(outside))
    assert p.returncode != 0 or "marker" not in p.stdout


def test_create_start_state_kill_delete(gk):
    b = gk.bundle(["/bin/sleep", "100"])
    pidfile = os.path.join(gk.workdir, "pid")
    cid = gk.create(b, "--pid-file", pidfile)
    st = gk.state(cid)
    assert st["status"] == "created"
    assert st["id"] == cid
    assert st["bundle"] == b.path
    pid = int(open(pidfile).read())
    assert st["pid"] == pid
    gk.gkrun("start", cid, check=True)
    assert gk.state(cid)["status"] == "running"
    assert open("/proc/%d/cmdline" % pid).read().startswith("/bin/sleep")
    gk.gkrun("kill", cid, "KILL", check=True)
    for _ in range(100):
        if gk.state(cid)["status"] == "stopped":
            break
        time.sleep(0.05)
    assert gk.state(cid)["status"] == "stopped"
    p = gk.gkrun("kill", cid, "TERM")
    assert p.returncode != 0 and "container not running" in p.stderr
    gk.gkrun("delete", cid, check=True)
    p = gk.gkrun("state", cid)
    assert p.returncode != 0
    assert 'container "%s" does not exist' % cid in p.stderr


def test_start_twice_and_delete_running(gk):
    cid = gk.create(gk.bundle(["/bin/sleep", "100"]))
    gk.gkrun("start", cid, check=True)
    p = gk.gkrun("start", cid)
    assert p.returncode != 0 and "cannot start an already running container" in p.stderr
    p = gk.gkrun("delete", cid)
    assert p.returncode != 0 and "not stopped" in p.stderr
    gk.gkrun("delete", "--force", cid, check=True)
    assert gk.gkrun("list", "-q").stdout.strip() == ""


def test_start_returns_after_the_process_exec(gk):
    """`gkrun start` returns once the container's process has replaced the
    init: a signal sent right after start reaches the program and its
    handlers, not an init that drops it (the suite's killsig).  The
    startContainer hook, which the init runs between start and the execve,
    makes that window half a second wide."""
    b = gk.bundle(["/bin/sleep", "100"])
    b.config["hooks"] = {"startContainer": [{"path": "/bin/sleep", "args": ["sleep", "0.5"]}]}
    cid = gk.create(b)
    pid = gk.state(cid)["pid"]
    gk.gkrun("start", cid, check=True)
    with open("/proc/%d/comm" % pid) as f:
        assert f.read().strip() == "sleep"


def test_delete_created_container_kills_its_init(gk):
    pidfile = os.path.join(gk.workdir, "pid")
    cid = gk.create(gk.bundle(["/bin/true"]), "--pid-file", pidfile)
    pid = int(open(pidfile).read())
    gk.gkrun("delete", cid, check=True)
    assert not os.path.exists("/proc/%d/cmdline" % pid) or \
        open("/proc/%d/stat" % pid).read().split()[2] == "Z"


def test_duplicate_id_is_refused(gk):
    cid = gk.create(gk.bundle(["/bin/sleep", "10"]))
    b = gk.bundle(["/bin/true"])
    b.write()
    p = gk.gkrun("create", "--bundle", b.path, cid)
    assert p.returncode != 0
    assert "container with id exists: %s" % cid in p.stderr
    assert gk.state(cid)["status"] == "created"


@pytest.mark.parametrize("bad", ["../x", "a/b", ".", "..", "", "a b"])
def test_invalid_ids_are_refused(gk, bad):
    b = gk.bundle()
    b.write()
    p = gk.gkrun("create", "--bundle", b.path, bad)
    assert p.returncode != 0
    assert "id" in p.stderr
    assert not os.path.exists(os.path.join(gk.root, "x"))


def test_missing_binary_fails_create_with_reason_and_leaves_nothing(gk):
    b = gk.bundle(["/bin/nosuch"])
    b.write()
    cid = gk.new_id()
    p = gk.gkrun("create", "--bundle", b.path, cid)
    assert p.returncode != 0
    assert '"/bin/nosuch"' in p.stderr and "No such file" in p.stderr
    assert gk.gkrun("list", "-q").stdout.strip() == ""
    assert not os.path.exists(os.path.join(gk.root, cid))
    assert cgroup_dirs(cid) == []


def deny_unshare(errno_value):
    """A preexec_fn that makes unshare(2) fail with ERRNO_VALUE in the
    process and its children (a seccomp filter, after no_new_privs)."""
    import ctypes
    nr = {"x86_64": 272, "aarch64": 97}[os.uname().machine]

    class Filter(ctypes.Structure):
        _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte),
                    ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint)]

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(Filter))]

    insns = (Filter * 4)(
        Filter(0x20, 0, 0, 0),                        # ld [0]: the syscall number
        Filter(0x15, 0, 1, nr),                       # jeq unshare
        Filter(0x06, 0, 0, 0x00050000 | errno_value),  # ret ERRNO
        Filter(0x06, 0, 0, 0x7fff0000))               # ret ALLOW
    prog = Prog(len(insns), insns)

    def install():
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(38, 1, 0, 0, 0) or libc.prctl(22, 2, ctypes.byref(prog), 0, 0):
            os._exit(99)
    return install


@pytest.mark.skipif(os.uname().machine not in ("x86_64", "aarch64"), reason="syscall numbers")
def test_namespaces_the_init_cannot_make_are_reported_and_nothing_is_left(gk):
    """The init makes its mount, network, uts and ipc namespaces itself
    while gkrun makes the cgroups: when the kernel refuses them (here a
    seccomp filter on gkrun says ENOSPC, as a namespace limit would), run
    and create say why, and leave no state or cgroup."""
    b = gk.bundle(["/bin/true"])
    for cmd in ("run", "create"):
        b.write()
        cid = gk.new_id()
        p = gk.gkrun(cmd, "--bundle", b.path, cid, preexec_fn=deny_unshare(28))
        assert p.returncode != 0
        assert "create namespaces: No space left on device" in p.stderr, p.stderr
        assert gk.gkrun("list", "-q").stdout.strip() == ""
        assert not os.path.exists(os.path.join(gk.root, cid))
        assert cgroup_dirs(cid) == []


def test_missing_binary_in_path(gk):
    p = gk.run(gk.bundle(["nosuchcmd"]))
    assert p.returncode != 0
    assert 'exec: "nosuchcmd": executable file not found in $PATH' in p.stderr


def test_failing_mount_is_reported(gk):
    b = gk.bundle(["/bin/true"])
    b.config["mounts"].append({"destination": "/x", "type": "nosuchfs", "source": "none"})
    p = gk.run(b)
    assert p.returncode != 0
    assert "mounts[7]" in p.stderr and "nosuchfs" in p.stderr


def test_bad_config_is_refused_before_anything_is_created(gk):
    b = gk.bundle()
    b.process["args"] = []
    b.write()
    cid = gk.new_id()
    p = gk.gkrun("create", "--bundle", b.path, cid)
    assert p.returncode != 0
    assert "config.json: process.args" in p.stderr
    assert not os.path.exists(os.path.join(gk.root, cid))


def test_list_formats(gk):
    cid = gk.create(gk.bundle(["/bin/sleep", "10"]))
    table = gk.gkrun("list", check=True).stdout
    assert table.split("\n")[0].split()[:3] == ["ID", "PID", "STATUS"]
    assert cid in table and "created" in table
    js = json.loads(gk.gkrun("list", "--format", "json", check=True).stdout)
    assert [c["id"] for c in js] == [cid] and js[0]["status"] == "created"
    assert gk.gkrun("list", "-q", check=True).stdout.split() == [cid]


def test_no_fd_of_gkrun_leaks_into_the_container(gk):
    b = gk.bundle(["/bin/sh", "-c", "ls /proc/self/fd"])
    p = gk.run(b, pass_fds=())
    assert p.returncode == 0, p.stderr
    # ls itself holds one fd for the directory it lists (3).
    assert sorted(p.stdout.split()) in (["0", "1", "2"], ["0", "1", "2", "3"])


def test_preserve_fds(gk, tmp_path):
    f = open(tmp_path / "extra", "w+")
    f.write("kept\n")
    f.flush()
    os.lseek(f.fileno(), 0, os.SEEK_SET)
    fd = f.fileno()
    os.dup2(fd, 3) if fd != 3 else None
    b = gk.bundle(["/bin/sh", "-c", "cat <&3"])
    b.write()
    cid = gk.new_id()
    p = subprocess.run([GKRUN, "--root", gk.root, "run", "--preserve-fds", "1", "--bundle",
                        b.path, cid], capture_output=True, text=True, pass_fds=(3,), timeout=30)
    assert "kept" in p.stdout, p.stderr


def test_global_flag_spellings(gk):
    b = gk.bundle(["/bin/true"])
    b.write()
    cid = gk.new_id()
    p = subprocess.run([GKRUN, "-root=" + gk.root, "--log-format=json", "--rootless=false",
                        "run", "-bundle", b.path, cid], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_log_json_records_errors(gk):
    log = os.path.join(gk.workdir, "log.json")
    p = gk.gkrun("--log", log, "--log-format", "json", "delete", "nosuch")
    # flags after --root: gkrun() puts --root first
    assert p.returncode != 0
    line = open(log).read().strip().split("\n")[-1]
    obj = json.loads(line)
    assert obj["level"] == "error"
    assert obj["msg"] == 'container "nosuch" does not exist'
    assert "time" in obj


def test_run_detach_then_kill(gk):
    b = gk.bundle(["/bin/sleep", "100"])
    p = gk.run(b, "--detach")
    assert p.returncode == 0, p.stderr
    cid = gk.ids[-1]
    assert gk.state(cid)["status"] == "running"
    gk.gkrun("kill", cid, "9", check=True)
    gk.gkrun("delete", "-f", cid, check=True)


def test_hooks_run_in_order_with_state(gk, tmp_path):
    log = tmp_path / "hooks.log"
    hook = tmp_path / "hook.sh"
    hook.write_text("#!/bin/sh\nread state\necho \"$1 $(echo \"$state\" | "
                    "sed 's/.*\"status\": *\"\\([a-z]*\\)\".*/\\1/')\" >> %s\n" % log)
    hook.chmod(0o755)
    b = gk.bundle(["/bin/true"])
    b.config["hooks"] = {k: [{"path": str(hook), "args": ["hook.sh", k]}] for k in
                         ("prestart", "createRuntime", "createContainer", "poststart",
                          "poststop")}
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    names = [l.split()[0] for l in log.read_text().split("\n") if l]
    assert names == ["prestart", "createRuntime", "createContainer", "poststart", "poststop"]


def test_hooks_inside_the_container_get_the_runtime_state(gk, tmp_path):
    """createContainer and startContainer hooks run inside the container,
    but the state on their stdin is the runtime's, as for every hook:
    valid JSON whatever the bundle path holds (a quote here), the whole id,
    and the init's pid as the host sees it."""
    b = gk.bundle(["/bin/sleep", "30"], copy_rootfs=True)
    odd = os.path.join(os.path.dirname(b.path), 'bundle "quoted" \\ dir')
    os.rename(b.path, odd)
    b.path = odd
    b.config["root"]["path"] = "rootfs"
    created = tmp_path / "create.json"
    b.config["hooks"] = {
        # before pivot_root: a path of the host resolves
        "createContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > %s" % created]}],
        # after pivot_root: inside the container's root
        "startContainer": [{"path": "/bin/sh", "args": ["sh", "-c", "cat > /start.json"]}],
    }
    b.write()
    cid = "gkt-" + uuid.uuid4().hex + "-" + "x" * 200
    gk.ids.append(cid)
    p = gk.gkrun("create", "--bundle", b.path, cid)
    assert p.returncode == 0, p.stderr
    pid = gk.state(cid)["pid"]
    gk.gkrun("start", cid, check=True)
    for path, status in ((str(created), "creating"),
                         (os.path.join(odd, "rootfs", "start.json"), "created")):
        with open(path) as f:
            st = json.load(f)
        assert st["id"] == cid
        assert st["pid"] == pid
        assert st["bundle"] == odd
        assert st["status"] == status


def test_failing_hook_fails_create_and_leaves_nothing(gk, tmp_path):
    b = gk.bundle(["/bin/true"])
    b.config["hooks"] = {"createRuntime": [{"path": "/bin/false"}]}
    b.write()
    cid = gk.new_id()
    p = gk.gkrun("create", "--bundle", b.path, cid)
    assert p.returncode != 0
    assert "createRuntime hook" in p.stderr
    assert gk.gkrun("list", "-q").stdout.strip() == ""
    assert cgroup_dirs(cid) == []


def test_hook_timeout(gk):
    b = gk.bundle(["/bin/true"])
    b.config["hooks"] = {"prestart": [{"path": "/bin/sleep", "args": ["sleep", "10"],
                                       "timeout": 1}]}
    t = time.time()
    p = gk.run(b)
    assert p.returncode != 0 and "timed out" in p.stderr
    assert time.time() - t < 8


def hooks_with_failing_first(log, kind):
    """A failing hook, then one that records that it ran."""
    return {kind: [{"path": "/bin/false", "args": ["false"]},
                   {"path": "/bin/sh", "args": ["sh", "-c", "echo ran >> %s" % log]}]}


@pytest.mark.parametrize("runtime", ["gkrun", "runc"])
def test_failing_poststart_hook_fails_run_and_removes_the_container(gk, tmp_path, runtime):
    """runtime-spec 1.3 (lifecycle step 9): a failing poststart hook is an
    error, the container is stopped and destroyed; the hooks after it do
    not run.  runc did so before the spec said it; gk used to warn."""
    prog = GKRUN if runtime == "gkrun" else RUNC
    if not os.access(prog, os.X_OK):
        pytest.skip("%s is not installed" % prog)
    root = gk.root if runtime == "gkrun" else str(tmp_path / "runc-state")
    log = tmp_path / "poststart.log"
    b = gk.bundle(["/bin/sleep", "100"])
    b.config["hooks"] = hooks_with_failing_first(log, "poststart")
    b.write()
    cid = gk.new_id()
    try:
        p = subprocess.run([prog, "--root", root, "run", "--bundle", b.path, cid],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
        assert p.returncode != 0
        if runtime == "gkrun":
            assert "poststart hook #0 `/bin/false`: exit status 1" in p.stderr, p.stderr
            assert "warning" not in p.stderr
        assert not log.exists()
        listed = subprocess.run([prog, "--root", root, "list", "-q"], capture_output=True,
                                text=True, timeout=30).stdout.split()
        assert cid not in listed
        assert cgroup_dirs(cid) == []
    finally:
        if runtime == "runc":
            subprocess.run([prog, "--root", root, "delete", "--force", cid],
                           capture_output=True, timeout=30)


@pytest.mark.parametrize("pidns", [True, False], ids=["pidns", "hostpid"])
def test_failing_poststart_hook_fails_start_and_stops_the_container(gk, tmp_path, pidns):
    log = tmp_path / "poststart.log"
    b = gk.bundle(["/bin/sh", "-c", "sleep 100 & sleep 100"])
    if not pidns:
        b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "pid"]
    b.config["hooks"] = hooks_with_failing_first(log, "poststart")
    cid = gk.create(b)
    pid = gk.state(cid)["pid"]
    p = gk.gkrun("start", cid)
    assert p.returncode != 0
    assert "poststart hook #0 `/bin/false`: exit status 1" in p.stderr, p.stderr
    assert not log.exists()
    assert gk.state(cid)["status"] == "stopped"
    assert not os.path.exists("/proc/%d" % pid) or \
        open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] == "Z"
    for d in cgroup_dirs(cid):
        with open(os.path.join(d, "cgroup.procs")) as f:
            assert f.read().split() == [], d
    gk.gkrun("delete", cid, check=True)
    assert cgroup_dirs(cid) == []


def test_failing_poststop_hook_warns_and_later_hooks_run(gk, tmp_path):
    log = tmp_path / "poststop.log"
    b = gk.bundle(["/bin/true"])
    b.config["hooks"] = hooks_with_failing_first(log, "poststop")
    cid = gk.create(b)
    gk.gkrun("start", cid, check=True)
    gk.gkrun("kill", cid, "KILL")
    p = gk.gkrun("delete", "--force", cid)
    assert p.returncode == 0, p.stderr
    assert "warning: poststop hook #0" in p.stderr
    assert log.read_text() == "ran\n"


def hooks_saving_stdin(tmp_path, kinds):
    return {k: [{"path": "/bin/sh", "args": ["sh", "-c", "cat > %s" % (tmp_path / k)]}]
            for k in kinds}


def test_prestart_hook_sees_created_create_runtime_creating(gk, tmp_path):
    """Prestart hooks get status "created" (as crun, and as the validation
    suite's hooks_stdin wants); createRuntime keeps "creating"."""
    b = gk.bundle(["/bin/true"])
    b.config["hooks"] = hooks_saving_stdin(tmp_path, ["prestart", "createRuntime"])
    cid = gk.create(b)
    pid = gk.state(cid)["pid"]
    pre = json.loads((tmp_path / "prestart").read_text())
    assert (pre["status"], pre["id"], pre["pid"]) == ("created", cid, pid)
    assert pre["bundle"] == b.path
    assert json.loads((tmp_path / "createRuntime").read_text())["status"] == "creating"


def test_prestart_hook_sees_created_in_run_mode(gk, tmp_path):
    """run has no exec fifo: the status must still be "created", not a
    derived "running"."""
    b = gk.bundle(["/bin/true"])
    b.config["hooks"] = hooks_saving_stdin(tmp_path, ["prestart", "createRuntime"])
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    assert json.loads((tmp_path / "prestart").read_text())["status"] == "created"
    assert json.loads((tmp_path / "createRuntime").read_text())["status"] == "creating"


def test_user_namespace_with_mappings(gk):
    b = gk.bundle(["/bin/sh", "-c", "cat /proc/self/uid_map; id -u"], copy_rootfs=True)
    b.linux["namespaces"].append({"type": "user"})
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    subprocess.run(["chown", "-R", "100000:100000", os.path.join(b.path, "rootfs")], check=True)
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[:4] == ["0", "100000", "65536", "0"]


def test_join_existing_network_namespace(gk):
    name = "gkt-ns-" + str(os.getpid())
    subprocess.run(["ip", "netns", "add", name], check=True)
    try:
        subprocess.run(["ip", "netns", "exec", name, "ip", "link", "add", "gktva", "type",
                        "veth", "peer", "name", "gktvb"], check=True)
        b = gk.bundle(["/bin/sh", "-c", "ip -o link show | grep -c ': gktva@'"])
        b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "network"]
        b.linux["namespaces"].append({"type": "network", "path": "/run/netns/" + name})
        p = gk.run(b)
        assert p.stdout.strip() == "1", p.stderr
    finally:
        subprocess.run(["ip", "netns", "del", name])


def test_sysctl_and_oom_score_adj(gk):
    b = gk.bundle(["/bin/sh", "-c",
                   "cat /proc/sys/net/ipv4/ip_forward; cat /proc/self/oom_score_adj"])
    b.linux["sysctl"] = {"net.ipv4.ip_forward": "1"}
    b.process["oomScoreAdj"] = 123
    p = gk.run(b)
    assert p.stdout.split() == ["1", "123"], p.stderr


def test_rlimits(gk):
    b = gk.bundle(["/bin/sh", "-c", "ulimit -n; ulimit -Hn"])
    b.process["rlimits"] = [{"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456}]
    assert gk.run(b).stdout.split() == ["123", "456"]


def test_spec_writes_a_runnable_default(gk, tmp_path):
    d = tmp_path / "b"
    d.mkdir()
    subprocess.run([GKRUN, "spec", "--bundle", str(d)], check=True)
    cfg = json.load(open(d / "config.json"))
    assert cfg["process"]["args"] == ["sh"]
    assert cfg["root"]["path"] == "rootfs"
    assert cfg["ociVersion"] == "1.3.0"
    p = subprocess.run([GKRUN, "spec", "--bundle", str(d)], capture_output=True, text=True)
    assert p.returncode != 0 and "exists" in p.stderr


def test_state_and_list_say_runtime_spec_1_3(gk):
    cid = gk.create(gk.bundle(["/bin/true"]))
    assert gk.state(cid)["ociVersion"] == "1.3.0"
    listed = json.loads(gk.gkrun("list", "--format", "json", check=True).stdout)
    assert [c["ociVersion"] for c in listed] == ["1.3.0"]
    assert "spec: 1.3.0" in gk.gkrun("--version", check=True).stdout


def test_features_is_json(gk):
    p = gk.gkrun("features", check=True)
    f = json.loads(p.stdout)
    assert "createRuntime" in f["hooks"]
    assert "CAP_SYS_ADMIN" in f["linux"]["capabilities"]
    assert "user" in f["linux"]["namespaces"]


def test_version():
    p = subprocess.run([GKRUN, "--version"], capture_output=True, text=True)
    assert p.returncode == 0 and p.stdout.startswith("gkrun version ")


def test_linux_devices_are_created(gk):
    b = gk.bundle(["/bin/sh", "-c", "ls -ln /dev/gkzero; head -c 4 /dev/gkzero | wc -c"])
    b.linux["devices"] = [{"path": "/dev/gkzero", "type": "c", "major": 1, "minor": 5,
                           "fileMode": 0o640, "uid": 1000, "gid": 1000}]
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    line = p.stdout.split("\n")[0].split()
    assert line[0] == "crw-r-----" and line[2:4] == ["1000", "1000"]
    assert line[4:6] == ["1,", "5"]
    assert p.stdout.split("\n")[1].strip() == "4"


def test_no_pivot(gk):
    p = gk.run(gk.bundle(["/bin/sh", "-c", "ls /; cat /proc/1/cmdline"]), "--no-pivot")
    assert p.returncode == 0, p.stderr
    assert "bin" in p.stdout.split()


def test_domainname_personality_and_namespaces(gk):
    b = gk.bundle(["/bin/sh", "-c", "cat /proc/sys/kernel/domainname; uname -m; cat /proc/self/cgroup | tail -1"])
    b.config["domainname"] = "example.test"
    b.linux["personality"] = {"domain": "LINUX32"}
    b.linux["namespaces"].append({"type": "cgroup"})
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split("\n")
    assert lines[0] == "example.test"
    assert lines[1] in ("i686", "i386")
    assert lines[2].endswith(":/")  # the container's cgroup is its root


def test_ipc_and_uts_are_private(gk):
    b = gk.bundle(["/bin/sh", "-c", "readlink /proc/self/ns/ipc; readlink /proc/self/ns/uts"])
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    ipc, uts = p.stdout.split()
    assert ipc != os.readlink("/proc/self/ns/ipc")
    assert uts != os.readlink("/proc/self/ns/uts")


def test_hostname_without_uts_namespace_is_refused(gk):
    b = gk.bundle()
    b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "uts"]
    p = gk.run(b)
    assert p.returncode != 0
    assert "unable to set hostname without a private UTS namespace" in p.stderr


def test_rootfs_propagation_shared(gk):
    b = gk.bundle(["/bin/sh", "-c", "awk '$5 == \"/\"' /proc/self/mountinfo"])
    b.linux["rootfsPropagation"] = "shared"
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    assert "shared:" in p.stdout


def test_rootfs_propagation_and_state_of_dead_init(gk):
    b = gk.bundle(["/bin/sh", "-c", "exit 0"])
    b.linux["rootfsPropagation"] = "rprivate"
    cid = gk.create(b)
    gk.gkrun("start", cid, check=True)
    for _ in range(100):
        st = gk.state(cid)
        if st["status"] == "stopped":
            break
        time.sleep(0.02)
    assert st["status"] == "stopped" and st["pid"] == 0
    gk.gkrun("delete", cid, check=True)


def test_delete_force_after_gkrun_crash_mid_create(gk, tmp_path):
    """A gkrun create killed while a hook runs leaves a half-made container;
    delete --force removes all of it."""
    flag = tmp_path / "in-hook"
    hook = tmp_path / "hook.sh"
    hook.write_text("#!/bin/sh\ntouch %s\nsleep 30\n" % flag)
    hook.chmod(0o755)
    b = gk.bundle(["/bin/sleep", "100"])
    b.config["hooks"] = {"createRuntime": [{"path": str(hook)}]}
    b.write()
    cid = gk.new_id()
    proc = subprocess.Popen([GKRUN, "--root", gk.root, "create", "--bundle", b.path, cid],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        if flag.exists():
            break
        time.sleep(0.02)
    assert flag.exists()
    init_pid = json.load(open(os.path.join(gk.root, cid, "state.json")))["pid"]
    proc.kill()
    proc.wait()
    gk.gkrun("delete", "--force", cid, check=True)
    assert gk.gkrun("list", "-q").stdout.strip() == ""
    assert cgroup_dirs(cid) == []
    time.sleep(0.1)
    assert not os.path.exists("/proc/%d" % init_pid) or \
        open("/proc/%d/stat" % init_pid).read().split()[2] in "ZX"
