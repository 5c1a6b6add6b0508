"""The Kubernetes path: a kubelet's CRI calls (runtime.v1) to containerd's
CRI plugin, which runs each pod through the runc shim with gkrun, or runc,
as the runtime handler.  Every scenario runs under both handlers and asserts
what the CRI reports and what the containers observe.

One private containerd serves the module (cri/node.py: its own config,
network namespace, pause image and cgroup parent); each test's pods are
stopped and removed at its end, and the module's teardown removes whatever
is left.
"""
import os
import re
import stat
import time

import pytest

from conftest import GKRUN
from cri.client import Client, missing_modules
from cri.kubelet import Kubelet, elapsed
from cri.node import BUSYBOX_IMAGE, PAUSE_IMAGE, cri_containerd, missing_tools
from orch import mounts_matching, runtime_ids, wait_for

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("CRI tests run real pods and need root")
    if not os.access(GKRUN, os.X_OK):
        pytest.skip("gkrun is not built (GK_BUILD=%s)" % os.path.dirname(GKRUN))
    reason = missing_modules() or missing_tools()
    if reason:
        pytest.skip(reason)
    yield from cri_containerd(tmp_path_factory)


@pytest.fixture(scope="module")
def cri(node, tmp_path_factory):
    c = Client(node.sock, str(tmp_path_factory.mktemp("gk-cri-api")))
    c.wait_ready()
    yield c
    c.close()


@pytest.fixture(params=["gkrun", "runc"])
def kubelet(request, node, cri):
    k = Kubelet(node, cri, request.param)
    yield k
    k.cleanup()


def test_runtime_ready_and_images_listed(cri):
    v = cri.rt("Version", version="v1")
    assert v.runtime_name == "containerd" and v.runtime_api_version == "v1"
    conds = {c.type: c.status for c in cri.rt("Status").status.conditions}
    assert conds == {"RuntimeReady": True, "NetworkReady": True}, conds
    tags = {t for i in cri.img("ListImages").images for t in i.repo_tags}
    assert {PAUSE_IMAGE, BUSYBOX_IMAGE} <= tags
    img = cri.img("ImageStatus", image=cri.pb.ImageSpec(image=BUSYBOX_IMAGE)).image
    assert BUSYBOX_IMAGE in img.repo_tags and img.size > 0


def test_run_pod_sandbox(kubelet):
    pb = kubelet.pb
    pod = kubelet.run_pod("sandbox")
    st = kubelet.cri.rt("PodSandboxStatus", pod_sandbox_id=pod.id).status
    assert st.state == pb.SANDBOX_READY
    assert st.runtime_handler == kubelet.handler
    assert st.metadata.name == "sandbox" and st.labels["gk-test"] == kubelet.handler
    assert st.network.ip.startswith("192.0.2.")
    # The handler's runtime runs the sandbox (the pause process), in the
    # cgroup the kubelet chose for the pod.
    assert pod.id in runtime_ids(kubelet.handler, kubelet.runtime_root)
    with open("/proc/%d/cgroup" % kubelet.sandbox_pid(pod)) as f:
        paths = {line.rstrip("\n").split(":", 2)[2] for line in f}
    assert paths == {pod.cgroup_parent + "/" + pod.id}, paths
    kubelet.remove_pod(pod)
    kubelet.assert_pod_gone(pod)


NS_KINDS = ("net", "ipc", "uts", "pid", "mnt")


def container_ns(kubelet, cid):
    code, out, err = kubelet.exec(cid, "sh", "-c", "for k in %s; do readlink /proc/self/ns/$k; "
                                  "done" % " ".join(NS_KINDS))
    assert code == 0, err
    return dict(zip(NS_KINDS, out.split()))


def test_containers_share_the_pods_namespaces(kubelet):
    pod = kubelet.run_pod("shared")
    a = pod.run("a", ["sh", "-c", "nc -l -p 7777 > /tmp/got; sleep 1000"])
    b = pod.run("b", ["sleep", "1000"])
    # The handler's runtime runs them, and the other handler's does not.
    other = {"gkrun": "runc", "runc": "gkrun"}[kubelet.handler]
    assert {pod.id, a, b} <= runtime_ids(kubelet.handler, kubelet.runtime_root)
    assert not {pod.id, a, b} & runtime_ids(other, kubelet.runtime_root.replace(
        "/%s/" % kubelet.handler, "/%s/" % other))
    na, nb = container_ns(kubelet, a), container_ns(kubelet, b)
    # network, IPC and UTS are the pod's; pid and mount each container's own
    assert [na[k] == nb[k] for k in NS_KINDS] == [True, True, True, False, False], (na, nb)
    # ... and the pod's are the sandbox's (its pause process's), not the node's
    pause = kubelet.sandbox_pid(pod)
    assert os.readlink("/proc/%d/ns/net" % pause) == na["net"]
    assert os.readlink("/proc/%d/ns/net" % kubelet.node.proc.pid) != na["net"]
    assert kubelet.exec(b, "hostname")[1] == "shared\n"
    # The shared IPC namespace comes with the sandbox's /dev/shm.
    assert kubelet.exec(a, "sh", "-c", "echo from-a > /dev/shm/x")[0] == 0
    assert kubelet.exec(b, "cat", "/dev/shm/x")[1] == "from-a\n"
    # One loopback: b reaches a's listener on 127.0.0.1.
    code, out, err = kubelet.exec(b, "sh", "-c", "for i in $(seq 50); do "
                                  "echo over-lo | nc -w 5 127.0.0.1 7777 && exit 0; "
                                  "sleep 0.1; done; exit 1")
    assert code == 0, err
    assert kubelet.exec(a, "cat", "/tmp/got")[1] == "over-lo\n"


def test_shared_process_namespace(kubelet):
    """shareProcessNamespace: the pod's pid namespace, the pause process its
    pid 1, each container seeing the others' processes."""
    pb = kubelet.pb
    pod = kubelet.run_pod("pidns", pid=pb.POD)
    a = pod.run("a", ["sleep", "1001"])
    b = pod.run("b", ["sleep", "1002"])
    assert container_ns(kubelet, a)["pid"] == container_ns(kubelet, b)["pid"]
    assert kubelet.exec(b, "cat", "/proc/1/cmdline")[1] == "/pause\0"
    ps = kubelet.exec(b, "ps", "-o", "args")[1]
    assert "sleep 1001" in ps and "sleep 1002" in ps, ps
    # An orphan in the pod is reaped by pause, not left a zombie.
    kubelet.exec(a, "sh", "-c", "sleep 0.2 & exit 0")
    time.sleep(0.5)
    code, out, err = kubelet.exec(b, "ps", "-o", "pid,stat,args")
    assert code == 0 and "sleep 1001" in out, err
    assert not [l for l in out.splitlines() if l.split()[1].startswith("Z")], out


def test_host_network_pod(kubelet):
    """hostNetwork: no network namespace of the pod's, the node's (here,
    containerd's own) instead; no CNI address."""
    pb = kubelet.pb
    pod = kubelet.run_pod("hostnet", network=pb.NODE)
    cid = pod.run("c", ["sleep", "1000"])
    node_net = os.readlink("/proc/%d/ns/net" % kubelet.node.proc.pid)
    assert container_ns(kubelet, cid)["net"] == node_net
    st = kubelet.cri.rt("PodSandboxStatus", pod_sandbox_id=pod.id).status
    assert st.state == pb.SANDBOX_READY and st.network.ip == ""


def test_pod_sysctls_and_env(kubelet):
    """The pod's (namespaced) sysctls in each of its containers; a
    container's env."""
    pod = kubelet.run_pod("sysctls", sysctls={"net.ipv4.ip_unprivileged_port_start": "81",
                                              "kernel.shm_rmid_forced": "1"})
    cid = pod.run("c", ["sleep", "1000"], envs={"GK_ONE": "1", "GK_SPACES": "a b  c"})
    out = kubelet.exec(cid, "cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start",
                       "/proc/sys/kernel/shm_rmid_forced")[1]
    assert out.split() == ["81", "1"], out
    code, out, err = kubelet.exec(cid, "sh", "-c", 'echo "$GK_ONE|$GK_SPACES"')
    assert (code, out) == (0, "1|a b  c\n"), err


def test_exec_sync_exit_codes_and_output(kubelet):
    pod = kubelet.run_pod("exec")
    cid = pod.run("c", ["sleep", "1000"])
    assert kubelet.exec(cid, "sh", "-c", "echo out; echo err >&2; exit 3") == (3, "out\n", "err\n")
    assert kubelet.exec(cid, "true") == (0, "", "")
    # A command that cannot run is the runtime's error, reported by the CRI.
    with pytest.raises(kubelet.cri.grpc.RpcError) as e:
        kubelet.exec(cid, "/nosuch")
    assert "/nosuch" in e.value.details(), e.value.details()
    # A command past its timeout is ended, and the call says so.
    start = time.monotonic()
    with pytest.raises(kubelet.cri.grpc.RpcError) as e:
        kubelet.exec(cid, "sleep", "60", timeout=1)
    assert time.monotonic() - start < 15
    assert "timeout 1s exceeded" in e.value.details(), e.value.details()
    # The container is still there and running.
    assert kubelet.status(cid).state == kubelet.pb.CONTAINER_RUNNING
    assert kubelet.exec(cid, "echo", "still")[1] == "still\n"


LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)) "
                      r"(stdout|stderr) ([FP]) (.*)$")


def read_cri_log(path):
    """[(stream, tag, text)] of a CRI log file, every line checked."""
    entries = []
    with open(path) as f:
        for line in f.read().splitlines():
            m = LOG_LINE.match(line)
            assert m, "not a CRI log line: %r" % line
            entries.append((m.group(4), m.group(5), m.group(6)))
    return entries


def test_container_log_in_cri_format(kubelet):
    pod = kubelet.run_pod("logs")
    cid = pod.run("talker", ["sh", "-c", "echo hello; echo oops >&2; sleep 0.2; echo bye"])
    st = kubelet.wait_exited(cid)
    assert (st.exit_code, st.reason) == (0, "Completed")
    assert st.log_path == os.path.join(pod.log_dir, "talker.log")
    entries = read_cri_log(st.log_path)
    assert [e for e in entries if e[0] == "stdout"] == [("stdout", "F", "hello"),
                                                        ("stdout", "F", "bye")]
    assert [e for e in entries if e[0] == "stderr"] == [("stderr", "F", "oops")]


def memory_cgroup_usable():
    if os.path.exists("/sys/fs/cgroup/cgroup.controllers"):
        with open("/sys/fs/cgroup/cgroup.controllers") as f:
            return "memory" in f.read().split()
    return os.path.isdir("/sys/fs/cgroup/memory")


def test_memory_limit_oom_killed(kubelet):
    if not memory_cgroup_usable():
        pytest.skip("no memory cgroup controller here")
    pod = kubelet.run_pod("oom")
    res = kubelet.pb.LinuxContainerResources(memory_limit_in_bytes=32 << 20)
    # dd's one 128 MiB buffer, filled from /dev/zero, cannot fit in 32 MiB.
    cid = pod.run("hog", ["dd", "if=/dev/zero", "of=/dev/null", "bs=128M", "count=1"],
                  resources=res)
    st = kubelet.wait_exited(cid)
    assert (st.exit_code, st.reason) == (137, "OOMKilled"), (st.exit_code, st.reason)
    # The same limit lets a smaller buffer through.
    cid = pod.run("fits", ["dd", "if=/dev/zero", "of=/dev/null", "bs=4M", "count=1"],
                  resources=res)
    st = kubelet.wait_exited(cid)
    assert (st.exit_code, st.reason) == (0, "Completed")


def host_cgroup_value(pid, v1_ctrl, v1_file, v2_file):
    """A cgroup file of PID's, from the host: v1's where the controller has
    a hierarchy, else the unified one's."""
    with open("/proc/%d/cgroup" % pid) as f:
        paths = {}
        for line in f:
            _, ctrls, path = line.rstrip("\n").split(":", 2)
            for c in ctrls.split(","):
                paths[c] = path
    if v1_ctrl in paths and os.path.isdir("/sys/fs/cgroup/" + v1_ctrl):
        name = "/sys/fs/cgroup/%s%s/%s" % (v1_ctrl, paths[v1_ctrl], v1_file)
    else:
        name = "/sys/fs/cgroup%s/%s" % (paths[""], v2_file)
    with open(name) as f:
        return f.read().strip()


def test_update_container_resources(kubelet):
    pb = kubelet.pb
    pod = kubelet.run_pod("update")
    cid = pod.run("c", ["sleep", "1000"], resources=pb.LinuxContainerResources(
        memory_limit_in_bytes=64 << 20, cpu_period=100000, cpu_quota=50000))
    pid = kubelet.container_pid(cid)
    memory = ("memory", "memory.limit_in_bytes", "memory.max")
    quota = ("cpu", "cpu.cfs_quota_us", "cpu.max")
    assert host_cgroup_value(pid, *memory) == str(64 << 20)
    assert host_cgroup_value(pid, *quota).split()[0] == "50000"
    kubelet.cri.rt("UpdateContainerResources", container_id=cid, linux=pb.LinuxContainerResources(
        memory_limit_in_bytes=48 << 20, cpu_period=100000, cpu_quota=25000))
    assert host_cgroup_value(pid, *memory) == str(48 << 20)
    assert host_cgroup_value(pid, *quota).split()[0] == "25000"
    assert kubelet.exec(cid, "true")[0] == 0


def test_working_dir_missing_from_image_is_made(kubelet):
    pod = kubelet.run_pod("workdir")
    cid = pod.run("c", ["sh", "-c", "pwd; sleep 1000"], working_dir="/no/such/dir")
    assert kubelet.exec(cid, "pwd") == (0, "/no/such/dir\n", "")
    assert kubelet.exec(cid, "sh", "-c", "test -d /no/such/dir && echo dir")[1] == "dir\n"
    wait_for(lambda: read_cri_log(os.path.join(pod.log_dir, "c.log")),
             what="the container's first log line")
    assert read_cri_log(os.path.join(pod.log_dir, "c.log")) == [("stdout", "F", "/no/such/dir")]


def test_readonly_rootfs(kubelet):
    pod = kubelet.run_pod("ro")
    ro = pod.run("ro", ["sleep", "1000"], readonly_rootfs=True)
    rw = pod.run("rw", ["sleep", "1000"])
    code, _, err = kubelet.exec(ro, "touch", "/newfile")
    assert code != 0 and "Read-only file system" in err, err
    assert kubelet.exec(ro, "awk", '$2 == "/" { print $4 }', "/proc/mounts")[1].startswith("ro")
    # The pod's volumes stay writable.
    assert kubelet.exec(ro, "touch", "/dev/shm/ok")[0] == 0
    assert kubelet.exec(rw, "touch", "/newfile") == (0, "", "")


def test_run_as_user_and_group(kubelet):
    pod = kubelet.run_pod("ids")
    cid = pod.run("c", ["sleep", "1000"], run_as_user=1234, run_as_group=5678,
                  supplemental_groups=[4321])
    code, out, err = kubelet.exec(cid, "gk-probe", "ids")
    assert code == 0, err
    ids = dict(line.split("=", 1) for line in out.splitlines())
    assert (ids["uid"], ids["gid"], ids["euid"], ids["egid"]) == ("1234", "5678", "1234", "5678")
    assert set(ids["groups"].split(",")) == {"5678", "4321"}, ids
    # The container's own process, seen from the host.
    status = proc_status(kubelet.container_pid(cid))
    assert status["Uid"].split()[0] == "1234" and status["Gid"].split()[0] == "5678"


def test_run_as_username_from_the_image(kubelet):
    """A user name, which containerd looks up in the image's /etc/passwd and
    /etc/group (gkuser: 1000:1000, in group wheel, 10)."""
    pod = kubelet.run_pod("username")
    cid = pod.run("c", ["sleep", "1000"], run_as_username="gkuser")
    ids = dict(line.split("=", 1) for line in kubelet.exec(cid, "gk-probe", "ids")[1].split())
    assert (ids["uid"], ids["gid"]) == ("1000", "1000"), ids
    assert set(ids["groups"].split(",")) == {"1000", "10"}, ids


def test_capabilities_and_no_new_privs(kubelet):
    pod = kubelet.run_pod("caps")
    cid = pod.run("c", ["sleep", "1000"], capabilities=(["NET_ADMIN"], ["CHOWN"]),
                  no_new_privs=True)
    plain = pod.run("plain", ["sleep", "1000"])
    caps = dict(line.split(":", 1) for line in
                kubelet.exec(cid, "gk-probe", "caps")[1].splitlines())
    eff = set(caps["CapEff"].split())
    assert "CAP_NET_ADMIN" in eff and "CAP_CHOWN" not in eff and "CAP_SYS_ADMIN" not in eff
    assert set(caps["CapBnd"].split()) == eff
    code, _, err = kubelet.exec(cid, "chown", "1:1", "/tmp")
    assert code != 0 and "Operation not permitted" in err, err
    assert kubelet.exec(cid, "gk-probe", "nnp")[1] == "1\n"
    assert kubelet.exec(plain, "gk-probe", "nnp")[1] == "0\n"
    assert kubelet.exec(plain, "chown", "1:1", "/tmp")[0] == 0


def test_tty_container(kubelet):
    """tty: the process's stdio is a terminal, its output logged as stdout."""
    pod = kubelet.run_pod("tty")
    cid = pod.run("c", ["sh", "-c", "tty; [ -t 1 ] && echo out-is-tty"], tty=True)
    st = kubelet.wait_exited(cid)
    assert (st.exit_code, st.reason) == (0, "Completed")
    entries = read_cri_log(st.log_path)
    texts = [text.rstrip("\r") for stream, _, text in entries if stream == "stdout"]
    assert texts[-1] == "out-is-tty" and texts[0].startswith("/dev/pts/"), entries


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def test_seccomp_runtime_default(kubelet):
    pb = kubelet.pb
    pod = kubelet.run_pod("seccomp")
    confined = pod.run("default", ["sleep", "1000"],
                       seccomp=pb.SecurityProfile.RuntimeDefault)
    free = pod.run("unconfined", ["sleep", "1000"], seccomp=pb.SecurityProfile.Unconfined)
    assert kubelet.exec(confined, "gk-probe", "seccomp")[1] == "2\n"
    assert kubelet.exec(free, "gk-probe", "seccomp")[1] == "0\n"
    # containerd's default profile has no keyctl: refused with EPERM.
    assert kubelet.exec(confined, "gk-probe", "syscall", "keyctl")[1] == "errno=EPERM\n"
    assert kubelet.exec(free, "gk-probe", "syscall", "keyctl")[1] != "errno=EPERM\n"
    assert proc_status(kubelet.container_pid(confined))["Seccomp"] == "2"


def test_masked_and_readonly_paths(kubelet):
    """What the kubelet asks to hide and to protect in /proc and /sys."""
    pod = kubelet.run_pod("masked")
    cid = pod.run("c", ["sleep", "1000"])
    with open("/proc/timer_list") as f:
        assert f.read(1)  # not empty on the host
    assert kubelet.exec(cid, "sh", "-c", "wc -c < /proc/timer_list") == (0, "0\n", "")
    assert kubelet.exec(cid, "ls", "/sys/firmware") == (0, "", "")
    code, _, err = kubelet.exec(cid, "sh", "-c", "echo 1 > /proc/sys/vm/drop_caches")
    assert code != 0 and "Read-only file system" in err, err


def host_block_device():
    for name in sorted(os.listdir("/dev")):
        if stat.S_ISBLK(os.stat(os.path.join("/dev", name)).st_mode):
            return name
    pytest.skip("the host has no block device in /dev")


def test_privileged_container_sees_host_devices(kubelet):
    dev = host_block_device()
    pod = kubelet.run_pod("priv", privileged=True)
    priv = pod.run("priv", ["sleep", "1000"], privileged=True)
    plain = pod.run("plain", ["sleep", "1000"])
    code, _, err = kubelet.exec(priv, "dd", "if=/dev/" + dev, "of=/dev/null", "bs=512",
                                "count=1")
    assert code == 0, err
    assert dev in kubelet.exec(priv, "ls", "/dev")[1].split()
    assert dev not in kubelet.exec(plain, "ls", "/dev")[1].split()
    capeff = proc_status(kubelet.container_pid(priv))["CapEff"]
    assert int(capeff, 16) == int(proc_status(os.getpid())["CapBnd"], 16), capeff


def test_stop_container_grace_period(kubelet):
    pod = kubelet.run_pod("stop")
    # sleep as pid 1 of its pid namespace: SIGTERM, without a handler, is ignored.
    stubborn = pod.run("stubborn", ["sleep", "1000"])
    polite = pod.run("polite", ["sh", "-c", "trap 'exit 3' TERM; touch /tmp/trapped; "
                                "while :; do sleep 0.1; done"])
    # SIGTERM before the trap is set would be ignored: wait for it.
    wait_for(lambda: kubelet.exec(polite, "test", "-f", "/tmp/trapped")[0] == 0,
             what="the trap to be set")
    took = elapsed(kubelet.cri.rt, "StopContainer", container_id=polite, timeout=30)
    assert took < 5, took
    st = kubelet.status(polite)
    assert st.state == kubelet.pb.CONTAINER_EXITED and st.exit_code == 3
    took = elapsed(kubelet.cri.rt, "StopContainer", container_id=stubborn, timeout=2)
    assert 2 <= took < 10, took
    st = kubelet.status(stubborn)
    assert st.state == kubelet.pb.CONTAINER_EXITED and st.exit_code == 137
    # Stopping a stopped container is no error.
    kubelet.cri.rt("StopContainer", container_id=stubborn, timeout=2)


def test_stop_and_remove_pod_leaves_nothing(kubelet):
    pb = kubelet.pb
    pod = kubelet.run_pod("gone")
    a = pod.run("a", ["sleep", "1000"])
    b = pod.run("b", ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"])
    c = pod.create("never-started", ["true"])
    netns = kubelet.sandbox_netns(pod)
    assert any(netns in line for line in mounts_matching(netns))
    kubelet.cri.rt("StopPodSandbox", pod_sandbox_id=pod.id)
    st = kubelet.cri.rt("PodSandboxStatus", pod_sandbox_id=pod.id).status
    assert st.state == pb.SANDBOX_NOTREADY
    assert [kubelet.status(x).state for x in (a, b)] == [pb.CONTAINER_EXITED] * 2
    assert not mounts_matching(netns)
    # Idempotent, as the kubelet expects.
    kubelet.cri.rt("StopPodSandbox", pod_sandbox_id=pod.id)
    kubelet.cri.rt("RemovePodSandbox", pod_sandbox_id=pod.id)
    kubelet.assert_pod_gone(pod)
    assert not mounts_matching(c)
    kubelet.cri.rt("RemovePodSandbox", pod_sandbox_id=pod.id)
