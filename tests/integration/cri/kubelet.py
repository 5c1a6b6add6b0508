"""What test_cri.py does as a kubelet would: pods and containers through
the CRI, each test's removed at its end, and the checks that nothing of a
removed pod is left on the host."""
import json
import os
import time
import uuid

from conftest import CGROUP_ROOT
from orch import mounts_matching, runtime_ids, wait_for

from cri.node import BUSYBOX_IMAGE


# What the kubelet masks and makes read-only in every container that is not
# privileged (its securitycontext defaults, procMount "Default").
MASKED_PATHS = ["/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys",
                "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                "/proc/sched_debug", "/proc/scsi", "/sys/firmware"]
READONLY_PATHS = ["/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"]


class Pod:
    def __init__(self, kubelet, sid, config):
        self.kubelet = kubelet
        self.id = sid
        self.config = config
        self.containers = []

    @property
    def log_dir(self):
        return self.config.log_directory

    @property
    def cgroup_parent(self):
        return self.config.linux.cgroup_parent

    def create(self, name, cmd, working_dir="", resources=None, envs=None, tty=False,
               **security):
        """CreateContainer of busybox running CMD; SECURITY: fields of its
        LinuxContainerSecurityContext."""
        pb = self.kubelet.pb
        # The pod's namespace modes, as the kubelet passes them down.
        ns = self.config.linux.security_context.namespace_options
        for key in ("run_as_user", "run_as_group"):
            if key in security:
                security[key] = pb.Int64Value(value=security[key])
        if "capabilities" in security:
            add, drop = security["capabilities"]
            security["capabilities"] = pb.Capability(add_capabilities=add,
                                                     drop_capabilities=drop)
        if not security.get("privileged"):
            security.setdefault("masked_paths", MASKED_PATHS)
            security.setdefault("readonly_paths", READONLY_PATHS)
        if "seccomp" in security:
            security["seccomp"] = pb.SecurityProfile(profile_type=security["seccomp"])
        config = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name=name), image=pb.ImageSpec(image=BUSYBOX_IMAGE),
            command=list(cmd), working_dir=working_dir, log_path=name + ".log",
            envs=[pb.KeyValue(key=k, value=v) for k, v in (envs or {}).items()], tty=tty,
            linux=pb.LinuxContainerConfig(
                resources=resources,
                security_context=pb.LinuxContainerSecurityContext(namespace_options=ns,
                                                                  **security)))
        cid = self.kubelet.cri.rt("CreateContainer", pod_sandbox_id=self.id, config=config,
                                  sandbox_config=self.config).container_id
        self.containers.append(cid)
        self.kubelet.node.ids.add(cid)
        return cid

    def run(self, name, cmd, **kw):
        cid = self.create(name, cmd, **kw)
        self.kubelet.cri.rt("StartContainer", container_id=cid)
        return cid


class Kubelet:
    """One test's pods, all through one runtime handler."""

    def __init__(self, node, cri, handler):
        self.node = node
        self.cri = cri
        self.pb = cri.pb
        self.handler = handler
        self.runtime_root = os.path.join(node.dir, "runtime-root", handler, "k8s.io")
        self.pods = []

    def run_pod(self, name="pod", privileged=False, pid=None, network=None, sysctls=None):
        """RunPodSandbox as the kubelet asks for a pod.  PID, NETWORK: the
        pod's namespace modes (shareProcessNamespace: pid=POD; hostNetwork:
        network=NODE); SYSCTLS: the pod's."""
        pb = self.pb
        uid = uuid.uuid4().hex
        log_dir = os.path.join(self.node.dir, "pod-logs", uid)
        os.makedirs(log_dir)
        config = pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=name, uid=uid, namespace="gk-test"),
            # the kubelet sets none for hostNetwork pods: they have the node's
            hostname="" if network == pb.NODE else name, log_directory=log_dir,
            # containerd would copy the host's resolv.conf without one
            dns_config=pb.DNSConfig(servers=["192.0.2.53"], searches=["gk.test"]),
            labels={"gk-test": self.handler},
            linux=pb.LinuxPodSandboxConfig(
                cgroup_parent="/%s/pod%s" % (self.node.cgroup_parent, uid),
                sysctls=sysctls or {},
                security_context=pb.LinuxSandboxSecurityContext(
                    namespace_options=pb.NamespaceOption(
                        network=pb.POD if network is None else network,
                        pid=pb.CONTAINER if pid is None else pid, ipc=pb.POD),
                    privileged=privileged)))
        sid = self.cri.rt("RunPodSandbox", config=config,
                          runtime_handler=self.handler).pod_sandbox_id
        self.node.ids.add(sid)
        pod = Pod(self, sid, config)
        self.pods.append(pod)
        return pod

    def exec(self, cid, *cmd, timeout=0):
        """ExecSync: (exit code, stdout, stderr), the output as text."""
        r = self.cri.rt("ExecSync", container_id=cid, cmd=list(cmd), timeout=timeout)
        return r.exit_code, r.stdout.decode(), r.stderr.decode()

    def sandbox_info(self, pod):
        """containerd's verbose PodSandboxStatus info (pid, runtimeSpec...)."""
        r = self.cri.rt("PodSandboxStatus", pod_sandbox_id=pod.id, verbose=True)
        return json.loads(r.info["info"])

    def sandbox_pid(self, pod):
        return self.sandbox_info(pod)["pid"]

    def sandbox_netns(self, pod):
        """The path of the pod's network namespace (a bind mount)."""
        spec = self.sandbox_info(pod)["runtimeSpec"]
        return [n["path"] for n in spec["linux"]["namespaces"] if n["type"] == "network"][0]

    def container_pid(self, cid):
        r = self.cri.rt("ContainerStatus", container_id=cid, verbose=True)
        return json.loads(r.info["info"])["pid"]

    def status(self, cid):
        return self.cri.rt("ContainerStatus", container_id=cid).status

    def wait_exited(self, cid, timeout=30):
        wait_for(lambda: self.status(cid).state == self.pb.CONTAINER_EXITED, timeout,
                 what="container %s to exit" % cid[:12])
        return self.status(cid)

    def remove_pod(self, pod):
        self.cri.rt("StopPodSandbox", pod_sandbox_id=pod.id)
        self.cri.rt("RemovePodSandbox", pod_sandbox_id=pod.id)

    def cleanup(self):
        for pod in self.pods:
            try:
                self.remove_pod(pod)
            except Exception:  # the module's teardown removes what is left
                pass

    def assert_pod_gone(self, pod):
        """Nothing of POD is left: in the CRI, the runtime, the mount
        table, the cgroup tree, the process table."""
        ids = [pod.id] + pod.containers
        listed = self.cri.rt("ListPodSandbox").items
        assert pod.id not in [p.id for p in listed]
        listed = self.cri.rt("ListContainers").containers
        assert not set(ids) & {c.id for c in listed}
        left = runtime_ids(self.handler, self.runtime_root) & set(ids)
        assert not left, "%s list still shows %s" % (self.handler, left)
        assert not mounts_matching(*ids), "mounts left"
        wait_for(lambda: not cgroup_dirs_under(pod.cgroup_parent), timeout=10,
                 what="the pod's cgroups to go: %s" % cgroup_dirs_under(pod.cgroup_parent))
        wait_for(lambda: not shims_of(self.node, pod.id), timeout=10,
                 what="the pod's shim to exit")


def cgroup_dirs_under(parent):
    """The cgroups below PARENT on every hierarchy (PARENT itself stays:
    containerd never removes a pod's parent, the kubelet does)."""
    found = []
    for hier in os.listdir(CGROUP_ROOT):
        top = os.path.join(CGROUP_ROOT, hier, parent.strip("/"))
        if os.path.isdir(top):
            found += [e.path for e in os.scandir(top) if e.is_dir(follow_symlinks=False)]
    return found


def shims_of(node, sandbox_id):
    """Shims of NODE serving the pod SANDBOX_ID (started with -id SANDBOX_ID)."""
    pids = []
    for pid in node.shim_pids():
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if sandbox_id.encode() in argv:
            pids.append(pid)
    return pids


def elapsed(fn, *args, **kw):
    start = time.monotonic()
    fn(*args, **kw)
    return time.monotonic() - start
