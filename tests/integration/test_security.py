"""Process security on real containers: capabilities, no_new_privs, seccomp
(with its notify listener) and LSM labels, as the container's process sees
them (reported by gk-probe inside the container), and bad settings refused
by `gkrun create` before anything exists."""
import errno
import fcntl
import json
import os
import select
import socket
import struct
import threading

import pytest

from conftest import DEFAULT_CAPS, cgroup_dirs

SIGSYS = 31
CAP_SETS = ("bounding", "effective", "permitted", "inheritable", "ambient")


def probe_caps(out):
    """gk-probe caps output -> {"CapEff": {...}, ...}"""
    sets = {}
    for line in out.splitlines():
        key, _, names = line.partition(":")
        sets[key] = set(names.split())
    assert set(sets) == {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}, out
    return sets


def run_ok(gk, bundle):
    p = gk.run(bundle)
    assert p.returncode == 0, "exit %d\nstdout: %s\nstderr: %s" % (p.returncode, p.stdout, p.stderr)
    return p.stdout


def caps_bundle(gk, caps, user=None):
    b = gk.bundle(["/bin/gk-probe", "caps"])
    b.process["capabilities"] = {k: list(caps.get(k, [])) for k in CAP_SETS}
    if user:
        b.process["user"] = user
    return b


def seccomp_bundle(gk, args, syscalls, default="SCMP_ACT_ALLOW", **extra):
    b = gk.bundle(args)
    b.linux["seccomp"] = dict({"defaultAction": default, "architectures": ["SCMP_ARCH_X86_64"],
                               "syscalls": syscalls}, **extra)
    return b


def assert_nothing_left(gk, cid):
    assert gk.gkrun("list", "-q").stdout.strip() == ""
    assert not os.path.exists(os.path.join(gk.root, cid))
    assert cgroup_dirs(cid) == []


def libseccomp_version(gk):
    feats = json.loads(gk.gkrun("features", check=True).stdout)
    ver = feats["annotations"]["io.github.seccomp.libseccomp.version"]
    return tuple(int(x) for x in ver.split("."))


# --- capabilities ----------------------------------------------------------

def test_default_caps_are_what_config_lists(gk):
    sets = probe_caps(run_ok(gk, gk.bundle(["/bin/gk-probe", "caps"])))
    for key in ("CapBnd", "CapEff", "CapPrm"):
        assert sets[key] == set(DEFAULT_CAPS), key
    assert sets["CapInh"] == set()
    assert sets["CapAmb"] == set()


def test_caps_subset(gk):
    want = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
    b = caps_bundle(gk, {"bounding": want, "effective": want, "permitted": want})
    sets = probe_caps(run_ok(gk, b))
    assert sets["CapBnd"] == set(want)
    assert sets["CapEff"] == set(want)
    assert sets["CapPrm"] == set(want)
    assert sets["CapInh"] == set()


def test_empty_caps(gk):
    sets = probe_caps(run_ok(gk, caps_bundle(gk, {})))
    assert all(v == set() for v in sets.values()), sets


def test_ambient_caps_for_non_root_user(gk):
    want = ["CAP_NET_BIND_SERVICE", "CAP_KILL"]
    b = caps_bundle(gk, {k: want for k in CAP_SETS}, user={"uid": 1000, "gid": 1000})
    sets = probe_caps(run_ok(gk, b))
    # After the exec a non-root process keeps only its ambient caps.
    assert sets["CapAmb"] == set(want)
    assert sets["CapEff"] == set(want)
    assert sets["CapPrm"] == set(want)
    assert sets["CapBnd"] == set(want)


def test_non_root_without_ambient_has_no_effective_caps(gk):
    want = ["CAP_NET_BIND_SERVICE"]
    b = caps_bundle(gk, {k: want for k in ("bounding", "effective", "permitted", "inheritable")},
                    user={"uid": 1000, "gid": 1000})
    sets = probe_caps(run_ok(gk, b))
    assert sets["CapEff"] == set()
    assert sets["CapPrm"] == set()
    assert sets["CapInh"] == set(want)


def test_ambient_cap_not_inheritable_is_skipped(gk):
    # The kernel refuses an ambient cap that is not permitted and
    # inheritable; like runc, that is not an error.
    b = caps_bundle(gk, {"bounding": ["CAP_KILL", "CAP_CHOWN"], "permitted": ["CAP_KILL", "CAP_CHOWN"],
                         "effective": ["CAP_KILL"], "inheritable": ["CAP_KILL"],
                         "ambient": ["CAP_KILL", "CAP_CHOWN"]},
                    user={"uid": 1000, "gid": 1000})
    sets = probe_caps(run_ok(gk, b))
    assert sets["CapAmb"] == {"CAP_KILL"}
    assert sets["CapEff"] == {"CAP_KILL"}


def test_caps_really_limit_the_process(gk):
    # Without CAP_CHOWN root cannot chown a file it does not own... nor any.
    b = gk.bundle(["/bin/sh", "-c", "touch /tmp/f && chown 1000 /tmp/f && echo chowned"])
    b.process["capabilities"] = {k: ["CAP_KILL"] for k in ("bounding", "effective", "permitted")}
    p = gk.run(b)
    assert p.returncode != 0
    assert "chowned" not in p.stdout
    assert "Operation not permitted" in p.stderr


# --- no_new_privs ------------------------------------------------------------

@pytest.mark.parametrize("nnp,want", [(True, "1"), (False, "0")])
def test_no_new_privileges(gk, nnp, want):
    b = gk.bundle(["/bin/gk-probe", "nnp"])
    b.process["noNewPrivileges"] = nnp
    assert run_ok(gk, b).strip() == want


# --- seccomp -----------------------------------------------------------------

def test_no_seccomp_without_config(gk):
    assert run_ok(gk, gk.bundle(["/bin/gk-probe", "seccomp"])).strip() == "0"


@pytest.mark.parametrize("nnp", [True, False])
def test_seccomp_errno_default_eperm(gk, nnp):
    b = seccomp_bundle(gk, ["/bin/gk-probe", "syscall", "getpid"],
                       [{"names": ["getpid"], "action": "SCMP_ACT_ERRNO"}])
    b.process["noNewPrivileges"] = nnp
    assert run_ok(gk, b).strip() == "errno=EPERM"


@pytest.mark.parametrize("errno_ret", [1, 38], ids=["EPERM", "ENOSYS"])
def test_cwd_is_entered_when_seccomp_refuses_openat2(gk, errno_ret):
    """Without no_new_privs the filter is loaded before the cwd is entered;
    a profile without openat2 (Docker's older ones) must not break that,
    and a /proc fd link as cwd is still refused."""
    rule = [{"names": ["openat2"], "action": "SCMP_ACT_ERRNO", "errnoRet": errno_ret}]
    b = seccomp_bundle(gk, ["/bin/sh", "-c", "pwd"], rule)
    b.process["noNewPrivileges"] = False
    b.process["cwd"] = "/tmp"
    assert run_ok(gk, b).strip() == "/tmp"
    # Without openat2 a magic link cannot be refused as such: chdir follows
    # it and getcwd refuses what is outside the root.  The init's own fd of
    # the container's "/" may be among these: that one is no escape.
    refused = 0
    for fd in range(3, 9):
        b = seccomp_bundle(gk, ["/bin/sh", "-c", "pwd"], rule)
        b.process["noNewPrivileges"] = False
        b.process["cwd"] = "/proc/self/fd/%d" % fd
        p = gk.run(b)
        if p.returncode == 0:
            assert p.stdout == "/\n", (fd, p.stdout, p.stderr)
        else:
            # a missing fd is refused when the cwd is made ("create cwd")
            assert 'cwd ("/proc/self/fd/%d") set in config.json failed' % fd in p.stderr, \
                (fd, p.stdout, p.stderr)
            refused += 1
    assert refused >= 5
    # a host directory the caller leaks into the container (as the
    # CVE-2024-21626 one was) is outside the root: refused
    host = os.open(gk.workdir, os.O_RDONLY | os.O_DIRECTORY)
    try:
        b = seccomp_bundle(gk, ["/bin/sh", "-c", "pwd"], rule)
        b.process["noNewPrivileges"] = False
        b.process["cwd"] = "/proc/self/fd/3"
        # fd 3 of gkrun is the host directory (kept: pass_fds)
        p = gk.run(b, "--preserve-fds", "1", pass_fds=(3, host),
                   preexec_fn=lambda: os.dup2(host, 3))
        assert p.returncode != 0 and "outside the container's root" in p.stderr, \
            (p.stdout, p.stderr)
    finally:
        os.close(host)


def test_seccomp_errno_ret_and_mode(gk):
    b = seccomp_bundle(gk, ["/bin/sh", "-c", "gk-probe syscall mkdir; gk-probe seccomp; gk-probe nnp"],
                       [{"names": ["mkdir", "no_such_syscall_anywhere"], "action": "SCMP_ACT_ERRNO",
                         "errnoRet": 28}])
    b.process["noNewPrivileges"] = False
    assert run_ok(gk, b).split("\n")[:3] == ["errno=ENOSPC", "2", "0"]


def test_seccomp_unfiltered_syscall_still_works(gk):
    b = seccomp_bundle(gk, ["/bin/gk-probe", "syscall", "mkdir"],
                       [{"names": ["getpid"], "action": "SCMP_ACT_ERRNO"}])
    assert run_ok(gk, b).strip() == "ok"


@pytest.mark.parametrize("action", ["SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
                                    "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP"])
def test_seccomp_kill_exits_by_sigsys(gk, action):
    b = seccomp_bundle(gk, ["/bin/gk-probe", "syscall", "getpid"],
                       [{"names": ["getpid"], "action": action}])
    p = gk.run(b)
    assert p.returncode == 128 + SIGSYS, (p.returncode, p.stdout, p.stderr)
    assert p.stdout == ""


def test_seccomp_trace_without_tracer_is_enosys_and_log_allows(gk):
    b = seccomp_bundle(gk, ["/bin/sh", "-c", "gk-probe syscall mkdir; gk-probe syscall keyctl"],
                       [{"names": ["mkdir"], "action": "SCMP_ACT_TRACE"},
                        {"names": ["keyctl"], "action": "SCMP_ACT_LOG"}])
    assert run_ok(gk, b).split("\n")[:2] == ["errno=ENOSYS", "ok"]


def test_seccomp_argument_filter(gk):
    no_randomize = 0x0040000
    b = seccomp_bundle(
        gk, ["/bin/sh", "-c", "gk-probe syscall personality %d; gk-probe syscall personality 0;"
                              " gk-probe syscall personality" % no_randomize],
        [{"names": ["personality"], "action": "SCMP_ACT_ERRNO",
          "args": [{"index": 0, "value": no_randomize, "op": "SCMP_CMP_EQ"}]}])
    assert run_ok(gk, b).split("\n")[:3] == ["errno=EPERM", "ok", "ok"]


def test_seccomp_masked_eq(gk):
    # deny chmod that sets the setuid bit: (mode & 04000) == 04000
    b = seccomp_bundle(
        gk, ["/bin/sh", "-c", "gk-probe syscall chmod /tmp 04777; gk-probe syscall chmod /tmp 01777"],
        [{"names": ["chmod"], "action": "SCMP_ACT_ERRNO",
          "args": [{"index": 1, "value": 0o4000, "valueTwo": 0o4000, "op": "SCMP_CMP_MASKED_EQ"}]}])
    assert run_ok(gk, b).split("\n")[:2] == ["errno=EPERM", "ok"]


def test_seccomp_args_on_different_indexes_are_anded(gk):
    # socket(AF_INET, SOCK_STREAM) denied; AF_INET datagram and AF_UNIX stream allowed
    b = seccomp_bundle(
        gk, ["/bin/sh", "-c", "gk-probe syscall socket AF_INET; gk-probe syscall socket AF_INET 2;"
                              " gk-probe syscall socket AF_UNIX"],
        [{"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13,
          "args": [{"index": 0, "value": 2, "op": "SCMP_CMP_EQ"},
                   {"index": 1, "value": 1, "op": "SCMP_CMP_EQ"}]}])
    assert run_ok(gk, b).split("\n")[:3] == ["errno=EACCES", "ok", "ok"]


def test_seccomp_args_on_same_index_are_ored(gk):
    b = seccomp_bundle(
        gk, ["/bin/sh", "-c", "for v in 8 9 0; do gk-probe syscall personality $v; done"],
        [{"names": ["personality"], "action": "SCMP_ACT_ERRNO",
          "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"},
                   {"index": 0, "value": 9, "op": "SCMP_CMP_EQ"}]}])
    assert run_ok(gk, b).split("\n")[:3] == ["errno=EPERM", "errno=EPERM", "ok"]


# What the exec and gk-probe (static glibc) need once the filter is loaded.
PROBE_SYSCALLS = [
    "execve", "execveat", "brk", "arch_prctl", "set_tid_address", "set_robust_list", "rseq",
    "prlimit64", "readlink", "readlinkat", "getrandom", "mprotect", "mmap", "munmap",
    "newfstatat", "fstat", "write", "writev", "exit", "exit_group", "uname", "getpid",
    "close", "read", "openat", "rt_sigaction", "rt_sigprocmask", "ioctl", "futex",
    "fcntl", "lseek", "statx", "access", "faccessat2", "getuid", "geteuid",
]


def test_seccomp_default_errno_with_allow_rule(gk):
    # Everything but mkdir allowed, written as a rule; mkdir falls to the
    # default action and its defaultErrnoRet.
    b = seccomp_bundle(gk, ["/bin/gk-probe", "syscall", "mkdir"],
                       [{"names": PROBE_SYSCALLS, "action": "SCMP_ACT_ALLOW"}],
                       default="SCMP_ACT_ERRNO", defaultErrnoRet=38)
    assert run_ok(gk, b).strip() == "errno=ENOSYS"




# --- refused configs -----------------------------------------------------------

def create_fails(gk, bundle):
    cid = gk.new_id()
    bundle.write()
    p = gk.gkrun("create", "--bundle", bundle.path, cid)
    assert p.returncode != 0, p.stdout
    assert_nothing_left(gk, cid)
    return p.stderr


def test_unknown_action_refused(gk):
    b = seccomp_bundle(gk, ["/bin/true"], [{"names": ["mkdir"], "action": "SCMP_ACT_EXPLODE"}])
    err = create_fails(gk, b)
    assert 'linux.seccomp.syscalls[0].action: unknown action "SCMP_ACT_EXPLODE"' in err


def test_unknown_architecture_refused(gk):
    b = seccomp_bundle(gk, ["/bin/true"], [])
    b.linux["seccomp"]["architectures"] = ["SCMP_ARCH_X86_64", "SCMP_ARCH_PDP11"]
    err = create_fails(gk, b)
    assert 'unknown architecture "SCMP_ARCH_PDP11"' in err


def test_architecture_unsupported_by_libseccomp_refused(gk):
    if libseccomp_version(gk) >= (2, 6):
        pytest.skip("this libseccomp knows loongarch64")
    b = seccomp_bundle(gk, ["/bin/true"], [])
    b.linux["seccomp"]["architectures"] = ["SCMP_ARCH_LOONGARCH64"]
    err = create_fails(gk, b)
    assert ('config.json: linux.seccomp: architectures[0]: "SCMP_ARCH_LOONGARCH64"'
            ' is not supported by libseccomp 2.') in err


def test_flag_unsupported_by_libseccomp_refused(gk):
    if libseccomp_version(gk) >= (2, 6):
        pytest.skip("this libseccomp supports SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")
    b = seccomp_bundle(gk, ["/bin/true"], [], flags=["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"])
    err = create_fails(gk, b)
    assert ('config.json: linux.seccomp: flags[0]: "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"'
            ' is not supported by libseccomp 2.') in err


def test_seccomp_log_flag_accepted(gk):
    b = seccomp_bundle(gk, ["/bin/gk-probe", "seccomp"], [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO"}],
                       flags=["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"])
    assert run_ok(gk, b).strip() == "2"


# struct seccomp_notif (80 bytes) and seccomp_notif_resp (24 bytes) of
# <linux/seccomp.h>; ioctls _IOWR('!', 0 / 1, ...).
NOTIF_RECV = 0xC0000000 | (80 << 16) | (ord("!") << 8) | 0
NOTIF_SEND = 0xC0000000 | (24 << 16) | (ord("!") << 8) | 1


class SeccompListener:
    """A listenerPath server: takes the message gkrun sends on each
    connection (state JSON + notify fd) and answers every notification on
    those fds with ERRNO."""

    def __init__(self, path, answer_errno):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(str(path))
        self.sock.listen(4)
        self.sock.settimeout(0.2)
        self.errno = answer_errno
        self.states, self.nfds, self.handled = [], [], []
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self.accept_loop, daemon=True)]
        self.threads[0].start()

    @property
    def state(self):
        return self.states[0] if self.states else None

    def accept_loop(self):
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self.serve, args=(conn,), daemon=True)
            self.threads.append(t)
            t.start()

    def serve(self, conn):
        with conn:
            conn.settimeout(30)
            try:
                msg, fds, _, _ = socket.recv_fds(conn, 65536, 4)
            except OSError:
                return
            if not fds:
                return
            self.states.append(json.loads(msg))
            self.nfds.append(len(fds))
            try:
                self.answer(fds[0])
            finally:
                for fd in fds:
                    os.close(fd)

    def answer(self, nfd):
        while not self.stop.is_set():
            r, _, _ = select.select([nfd], [], [], 0.1)
            if not r:
                continue
            req = bytearray(80)
            try:
                fcntl.ioctl(nfd, NOTIF_RECV, req, True)
            except OSError:
                return  # the filter's last process is gone
            nid, pid, _, nr = struct.unpack_from("=QIIi", req)
            self.handled.append((nr, pid))
            resp = bytearray(struct.pack("=QqiI", nid, 0, -self.errno, 0))
            try:
                fcntl.ioctl(nfd, NOTIF_SEND, resp, True)
            except OSError:
                pass

    def close(self):
        self.stop.set()
        for t in list(self.threads):
            t.join(10)
        self.sock.close()


@pytest.mark.parametrize("nnp", [True, False])
def test_seccomp_notify_fd_goes_to_listener(gk, tmp_path, nnp):
    """SCMP_ACT_NOTIFY on mkdir with a listenerPath: the listener gets the
    container process state and the notify fd, and its answer (an errno of
    its choice) is what mkdir in the container returns."""
    path = tmp_path / "listener.sock"
    listener = SeccompListener(path, errno.ENOTUNIQ)
    try:
        b = gk.bundle(["/bin/sh", "-c", "exec mkdir /tmp/x"])
        b.process["noNewPrivileges"] = nnp
        b.linux["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW",
            "listenerPath": str(path),
            "listenerMetadata": "gk-test-meta",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}],
        }
        b.config["annotations"] = {"org.gk.test": "yes"}
        cid = gk.new_id()
        p = gk.run(b, cid=cid)
    finally:
        listener.close()
    assert p.returncode == 1, p.stdout + p.stderr
    assert os.strerror(errno.ENOTUNIQ) in p.stderr
    assert listener.handled, "no notification reached the listener"
    st = listener.state
    assert listener.nfds == [1]
    assert st["fds"] == ["seccompFd"] and st["metadata"] == "gk-test-meta"
    # the container's pid 1 made the call: its pid as the host sees it
    assert st["pid"] == st["state"]["pid"] == listener.handled[0][1]
    assert (st["state"]["id"], st["state"]["bundle"]) == (cid, b.path)
    assert st["state"]["annotations"] == {"org.gk.test": "yes"}
    assert st["ociVersion"] and st["state"]["status"] in ("creating", "running")


def test_seccomp_listener_unreachable_fails_create(gk, tmp_path):
    b = gk.bundle(["/bin/true"])
    b.linux["seccomp"] = {
        "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": str(tmp_path / "none.sock"),
        "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}
    p = gk.run(b)
    assert p.returncode != 0
    assert "listenerPath: connect to `%s`" % (tmp_path / "none.sock") in p.stderr


def test_seccomp_notify_fd_of_exec_goes_to_listener(gk, tmp_path):
    """gkrun exec loads the container's filter too: its notify fd reaches
    the listener with the exec'd process's pid and the init's."""
    path = tmp_path / "listener.sock"
    listener = SeccompListener(path, errno.ENOTUNIQ)
    try:
        b = gk.bundle(["/bin/sleep", "100"])
        b.linux["seccomp"] = {
            "defaultAction": "SCMP_ACT_ALLOW", "listenerPath": str(path),
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}
        cid = gk.create(b)
        gk.gkrun("start", cid, check=True)
        init = gk.state(cid)["pid"]
        p = gk.gkrun("exec", cid, "mkdir", "/tmp/y")
        gk.gkrun("delete", "--force", cid)
    finally:
        listener.close()
    assert p.returncode == 1 and os.strerror(errno.ENOTUNIQ) in p.stderr, p.stderr
    assert len(listener.states) == 2, listener.states
    ex = listener.states[1]
    assert ex["state"]["pid"] == init and ex["pid"] not in (0, init)
    assert ex["pid"] == listener.handled[-1][1]


def test_apparmor_profile_without_apparmor_refused(gk):
    if open_text("/sys/module/apparmor/parameters/enabled").startswith("Y"):
        pytest.skip("AppArmor is enabled on this host")
    b = gk.bundle(["/bin/true"])
    b.process["apparmorProfile"] = "gk-test-profile"
    err = create_fails(gk, b)
    assert ('apparmor profile "gk-test-profile" requested but AppArmor is not enabled'
            ' on this host') in err


def test_selinux_label_without_selinux_refused(gk):
    if os.path.exists("/sys/fs/selinux/enforce"):
        pytest.skip("SELinux is enabled on this host")
    b = gk.bundle(["/bin/true"])
    b.process["selinuxLabel"] = "system_u:system_r:container_t:s0"
    err = create_fails(gk, b)
    assert ('selinux label "system_u:system_r:container_t:s0" requested but SELinux is not'
            ' enabled on this host') in err


def open_text(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""
