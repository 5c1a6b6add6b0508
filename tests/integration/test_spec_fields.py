"""Every field of the runtime spec (Linux) is either applied or refused by
gkrun create, never skipped.

The field list is the runtime-spec JSON schema that Debian's
golang-github-opencontainers-specs-dev ships (~1.1.0-rc), walked leaf by
leaf, plus SUPPLEMENT: the fields added up to runtime-spec 1.3.0.  Each
leaf needs a row in FIELDS (a leaf without one fails the test, so a new
spec field cannot slip by).  A row says how the field shows:

  refused   create fails with `config.json: PATH: not supported by gkrun`
            (PATH the field or the object holding it)
  observed  `gk-probe snapshot` in the container differs from the same
            container without the field (values that differ between two
            runs of the baseline are left out)
  hook      the hook ran with its path, args and env (its exit status is in
            gkrun's message) or timed out
  state     `gkrun state` shows it (annotations)
  cgroup    the host's cgroupfs has the container under that path
  error     this host cannot give it: create fails naming the field
  elsewhere observed by another test file, named in the row (a terminal)
  platform  not a Linux field (the spec's Windows-only members), ignored
  nothing   changes nothing the container gets (the format's version)

The table is also the documentation: bundle-spec/fields.md is generated
from it (`python3 tests/integration/test_spec_fields.py > bundle-spec/fields.md`)
and test_fields_md_is_current keeps the two equal."""
import copy
import json
import os
import re
import sys

import pytest

SCHEMA = "/usr/share/gocode/src/github.com/opencontainers/runtime-spec/schema"
HERE = os.path.dirname(os.path.abspath(__file__))
FIELDS_MD = os.path.join(HERE, "..", "..", "bundle-spec", "fields.md")

# Fields added after the schema Debian ships, up to runtime-spec 1.3.0
# (from the 1.3.0 config.md / config-linux.md), in the walk's notation.
SUPPLEMENT = [
    "process.scheduler.policy", "process.scheduler.nice", "process.scheduler.priority",
    "process.scheduler.flags", "process.scheduler.runtime", "process.scheduler.deadline",
    "process.scheduler.period",
    "process.ioPriority.class", "process.ioPriority.priority",
    "process.execCPUAffinity.initial", "process.execCPUAffinity.final",
    "linux.timeOffsets.*.secs", "linux.timeOffsets.*.nanosecs",
    "linux.netDevices.*.name",
    "linux.memoryPolicy.mode", "linux.memoryPolicy.nodes", "linux.memoryPolicy.flags",
    "linux.intelRdt.schemata", "linux.intelRdt.enableMonitoring",
]

HOOKS = ("prestart", "createRuntime", "createContainer", "startContainer", "poststart",
         "poststop")
SECCOMP_ALLOW = {"defaultAction": "SCMP_ACT_ALLOW"}
MKDIR_ERRNO = {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO"}
# root stays root (the shared rootfs is root's); the second range varies
USERNS = {"linux.namespaces": "+user",
          "linux.uidMappings": [{"containerID": 0, "hostID": 0, "size": 1000},
                                {"containerID": 1000, "hostID": 200000, "size": 1000}],
          "linux.gidMappings": [{"containerID": 0, "hostID": 0, "size": 1000},
                                {"containerID": 1000, "hostID": 200000, "size": 1000}]}
MOUNT = {"destination": "/tmp/m", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}
BIND = {"destination": "/tmp/b", "type": "bind", "source": "/usr/share", "options": ["rbind", "ro"]}
DEVICE = {"path": "/dev/gkfoo", "type": "c", "major": 1, "minor": 3}
DEV_RULE = {"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rwm"}
THROTTLE = [{"major": 7, "minor": 0, "rate": 1048576}]


def with_(base, **changes):
    d = dict(base)
    d.update(changes)
    return d


def refused(value, at=None):
    return ("refused", None, value, at)


def observed(value, base=None):
    return ("observed", base, value, None)


def error(value, base=None, why=""):
    return ("error", base, value, why)


# leaf -> (how, base changes (both runs) or None, test changes, detail)
# Changes map a dotted path (as in the schema walk, [] = the first element)
# to a value; "linux.namespaces": "+TYPE" adds a namespace.
FIELDS = {
    "ociVersion": ("nothing", None, {"ociVersion": "1.0.0"}, "the format's version"),
    "annotations": ("state", None, {"annotations": {"org.example.k": "v"}}, None),
    "hostname": observed({"hostname": "other"}),
    "domainname": observed({"domainname": "example.org"}),
    "root.path": observed({"root.path": "@copy"}),
    "root.readonly": observed({"root.readonly": False}),
    "mounts[].destination": observed({"mounts.+": with_(MOUNT, destination="/tmp/n")},
                                     {"mounts.+": MOUNT}),
    "mounts[].options": observed({"mounts.+": with_(MOUNT, options=["size=2m"])},
                                 {"mounts.+": MOUNT}),
    "mounts[].source": observed({"mounts.+": with_(MOUNT, source="other")}, {"mounts.+": MOUNT}),
    "mounts[].type": observed({"mounts.+": with_(MOUNT, type="ramfs", options=[])},
                              {"mounts.+": MOUNT}),
    "process.args": observed({"process.args": ["/bin/gk-probe", "snapshot", "x"]}),
    "process.env": observed({"process.env": ["A=1"]}),
    "process.cwd": observed({"process.cwd": "/tmp"}),
    "process.noNewPrivileges": observed({"process.noNewPrivileges": False}),
    "process.oomScoreAdj": observed({"process.oomScoreAdj": 500}),
    "process.user.uid": observed({"process.user.uid": 1}),
    "process.user.gid": observed({"process.user.gid": 1}),
    "process.user.umask": observed({"process.user.umask": 0o77}),
    "process.user.additionalGids": observed({"process.user.additionalGids": [7]}),
    "process.user.username": ("platform", None, {}, "Windows only (config.md)"),
    "process.commandLine": ("platform", None, {}, "Windows only (config.md)"),
    "process.capabilities.bounding": observed({"process.capabilities.bounding": []}),
    # applied (capset before exec), then recomputed by execve(2): the
    # permitted set for root, the ambient set for others (capabilities(7))
    "process.capabilities.effective": ("nothing", None, {},
                                       "execve(2) recomputes the effective set, in every runtime"),
    "process.capabilities.permitted": observed({"process.capabilities.permitted": []},
                                               {"process.capabilities.effective": []}),
    "process.capabilities.inheritable": observed(
        {"process.capabilities.inheritable": ["CAP_KILL"]}),
    "process.capabilities.ambient": observed(
        {"process.capabilities.ambient": ["CAP_KILL"],
         "process.capabilities.inheritable": ["CAP_KILL"]},
        {"process.capabilities.inheritable": ["CAP_KILL"]}),
    "process.terminal": ("elsewhere", None, {}, "test_exec_console.py"),
    "process.consoleSize.height": ("elsewhere", None, {}, "test_exec_console.py"),
    "process.consoleSize.width": ("elsewhere", None, {}, "test_exec_console.py"),
    "process.apparmorProfile": ("lsm", None, {"process.apparmorProfile": "unconfined"}, None),
    "process.selinuxLabel": ("lsm", None,
                             {"process.selinuxLabel": "system_u:system_r:container_t:s0"},
                             None),
    "process.rlimits[].type": observed({"process.rlimits": [
        {"type": "RLIMIT_NPROC", "hard": 1024, "soft": 1024}]}),
    "process.rlimits[].soft": observed({"process.rlimits": [
        {"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 512}]}),
    "process.rlimits[].hard": observed({"process.rlimits": [
        {"type": "RLIMIT_NOFILE", "hard": 2048, "soft": 1024}]}),
    "process.scheduler.policy": observed({"process.scheduler": {"policy": "SCHED_BATCH"}}),
    "process.scheduler.nice": observed({"process.scheduler": {"policy": "SCHED_OTHER",
                                                             "nice": 5}}),
    "process.scheduler.priority": observed({"process.scheduler": {"policy": "SCHED_FIFO",
                                                                 "priority": 1}}),
    "process.scheduler.flags": observed({"process.scheduler": {
        "policy": "SCHED_OTHER", "flags": ["SCHED_FLAG_RESET_ON_FORK"]}}),
    "process.scheduler.runtime": observed({"process.scheduler": {
        "policy": "SCHED_DEADLINE", "runtime": 1000000, "deadline": 2000000,
        "period": 3000000}}),
    "process.scheduler.deadline": observed({"process.scheduler": {
        "policy": "SCHED_DEADLINE", "runtime": 1000000, "deadline": 2000000}}),
    "process.scheduler.period": observed({"process.scheduler": {
        "policy": "SCHED_DEADLINE", "runtime": 1000000, "period": 3000000}}),
    "process.ioPriority.class": observed({"process.ioPriority": {"class": "IOPRIO_CLASS_IDLE"}}),
    "process.ioPriority.priority": observed({"process.ioPriority": {"class": "IOPRIO_CLASS_BE",
                                                                   "priority": 6}}),
    # not for the init (config.md): what `gkrun exec` gives its process
    "process.execCPUAffinity.initial": ("elsewhere", None, {}, "test_process_attrs.py"),
    "process.execCPUAffinity.final": ("elsewhere", None, {}, "test_process_attrs.py"),
    "linux.sysctl": observed({"linux.sysctl": {"kernel.shmmax": "12345678"}}),
    "linux.maskedPaths": observed({"linux.maskedPaths.+": "/proc/cmdline"}),
    "linux.readonlyPaths": observed({"linux.readonlyPaths.+": "/proc/tty"}),
    "linux.rootfsPropagation": observed({"linux.rootfsPropagation": "shared"}),
    "linux.mountLabel": ("lsm", None, {"linux.mountLabel": "system_u:object_r:container_file_t:s0"},
                         None),
    "linux.cgroupsPath": ("cgroup", None, {"linux.cgroupsPath": "@cgpath"}, None),
    "linux.namespaces[].type": observed({"linux.namespaces": "+time"}),
    "linux.namespaces[].path": ("nspath", None, {}, None),
    "linux.uidMappings[].containerID": observed(
        {"linux.uidMappings[1].containerID": 1500}, USERNS),
    "linux.uidMappings[].hostID": observed({"linux.uidMappings[1].hostID": 300000}, USERNS),
    "linux.uidMappings[].size": observed({"linux.uidMappings[1].size": 10}, USERNS),
    "linux.gidMappings[].containerID": observed(
        {"linux.gidMappings[1].containerID": 1500}, USERNS),
    "linux.gidMappings[].hostID": observed({"linux.gidMappings[1].hostID": 300000}, USERNS),
    "linux.gidMappings[].size": observed({"linux.gidMappings[1].size": 10}, USERNS),
    # an idmapped bind mount: mountinfo says "idmapped"
    "mounts[].uidMappings[].containerID": observed(
        {"mounts.+": with_(BIND, uidMappings=[{"containerID": 0, "hostID": 5000, "size": 10}],
                           gidMappings=[{"containerID": 0, "hostID": 5000, "size": 10}])},
        with_(USERNS, **{"mounts.+": BIND})),
    "linux.timeOffsets.*.secs": observed({"linux.timeOffsets": {"monotonic": {"secs": 100}}},
                                         {"linux.namespaces": "+time"}),
    "linux.timeOffsets.*.nanosecs": observed(
        {"linux.timeOffsets": {"boottime": {"secs": 0, "nanosecs": 5000}}},
        {"linux.namespaces": "+time"}),
    "linux.devices[].path": observed({"linux.devices": [with_(DEVICE, path="/dev/gkbar")]},
                                     {"linux.devices": [DEVICE]}),
    "linux.devices[].type": observed({"linux.devices": [with_(DEVICE, type="b")]},
                                     {"linux.devices": [DEVICE]}),
    "linux.devices[].major": observed({"linux.devices": [with_(DEVICE, major=5, minor=0)]},
                                      {"linux.devices": [DEVICE]}),
    "linux.devices[].minor": observed({"linux.devices": [with_(DEVICE, minor=5)]},
                                      {"linux.devices": [DEVICE]}),
    "linux.devices[].fileMode": observed({"linux.devices": [with_(DEVICE, fileMode=0o600)]},
                                         {"linux.devices": [DEVICE]}),
    "linux.devices[].uid": observed({"linux.devices": [with_(DEVICE, uid=5)]},
                                    {"linux.devices": [DEVICE]}),
    "linux.devices[].gid": observed({"linux.devices": [with_(DEVICE, gid=5)]},
                                    {"linux.devices": [DEVICE]}),
    "linux.personality.domain": observed({"linux.personality": {"domain": "LINUX32"}}),
    "linux.personality.flags": observed({"linux.personality": {"domain": "LINUX",
                                                              "flags": ["ADDR_NO_RANDOMIZE"]}}),
    "linux.memoryPolicy.mode": observed({"linux.memoryPolicy": {"mode": "MPOL_INTERLEAVE",
                                                               "nodes": "0"}}),
    "linux.memoryPolicy.nodes": observed({"linux.memoryPolicy": {"mode": "MPOL_BIND",
                                                                "nodes": "0"}}),
    "linux.memoryPolicy.flags": observed({"linux.memoryPolicy": {
        "mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]}}),
    # needs a host interface made for it (and removed): test_netdevices.py
    "linux.netDevices.*.name": ("elsewhere", None, {}, "test_netdevices.py"),
    "linux.intelRdt.closID": error({"linux.intelRdt": {"closID": "gk"}},
                                    why="resctrl is not mounted"),
    "linux.intelRdt.l3CacheSchema": error({"linux.intelRdt": {"l3CacheSchema": "L3:0=f"}},
                                    why="resctrl is not mounted"),
    "linux.intelRdt.memBwSchema": error({"linux.intelRdt": {"memBwSchema": "MB:0=50"}},
                                    why="resctrl is not mounted"),
    "linux.intelRdt.schemata": error({"linux.intelRdt": {"schemata": ["L3:0=f"]}},
                                    why="resctrl is not mounted"),
    "linux.intelRdt.enableCMT": refused({"linux.intelRdt": {"enableCMT": True}}),
    "linux.intelRdt.enableMBM": refused({"linux.intelRdt": {"enableMBM": True}}),
    "linux.intelRdt.enableMonitoring": error({"linux.intelRdt": {"enableMonitoring": True}},
                                    why="resctrl is not mounted"),
    # seccomp: the observe probe's calls (mkdir, socket) and Seccomp in status
    "linux.seccomp.defaultAction": observed({"linux.seccomp": SECCOMP_ALLOW}),
    "linux.seccomp.architectures": observed(
        {"linux.seccomp": with_(SECCOMP_ALLOW, architectures=["SCMP_ARCH_X86"],
                                syscalls=[MKDIR_ERRNO])},
        {"linux.seccomp": with_(SECCOMP_ALLOW, syscalls=[MKDIR_ERRNO])}),
    "linux.seccomp.defaultErrnoRet": ("elsewhere", None, {}, "test_security.py"),
    "linux.seccomp.flags": observed(
        {"linux.seccomp": with_(SECCOMP_ALLOW, flags=["SECCOMP_FILTER_FLAG_SPEC_ALLOW"])},
        {"linux.seccomp": SECCOMP_ALLOW}),
    "linux.seccomp.listenerPath": ("error", None, {"linux.seccomp": with_(
        SECCOMP_ALLOW, listenerPath="/nonexistent/gk.sock",
        syscalls=[{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}])}, "no agent listens"),
    "linux.seccomp.listenerMetadata": ("elsewhere", None, {}, "test_seccomp_notify.py"),
    "linux.seccomp.syscalls[].names": observed({"linux.seccomp": with_(
        SECCOMP_ALLOW, syscalls=[MKDIR_ERRNO])}, {"linux.seccomp": SECCOMP_ALLOW}),
    "linux.seccomp.syscalls[].action": observed({"linux.seccomp": with_(
        SECCOMP_ALLOW, syscalls=[with_(MKDIR_ERRNO, action="SCMP_ACT_KILL")])},
        {"linux.seccomp": with_(SECCOMP_ALLOW, syscalls=[MKDIR_ERRNO])}),
    "linux.seccomp.syscalls[].errnoRet": observed({"linux.seccomp": with_(
        SECCOMP_ALLOW, syscalls=[with_(MKDIR_ERRNO, errnoRet=13)])},
        {"linux.seccomp": with_(SECCOMP_ALLOW, syscalls=[MKDIR_ERRNO])}),
    "linux.seccomp.syscalls[].args[].index": observed({"linux.seccomp": with_(
        SECCOMP_ALLOW, syscalls=[{"names": ["socket"], "action": "SCMP_ACT_ERRNO",
                                  "args": [{"index": 0, "value": 10, "op": "SCMP_CMP_EQ"}]}])},
        {"linux.seccomp": SECCOMP_ALLOW}),
    "linux.seccomp.syscalls[].args[].value": observed({"linux.seccomp": with_(
        SECCOMP_ALLOW, syscalls=[{"names": ["socket"], "action": "SCMP_ACT_ERRNO",
                                  "args": [{"index": 0, "value": 10, "op": "SCMP_CMP_EQ"}]}])},
        {"linux.seccomp": with_(SECCOMP_ALLOW, syscalls=[{
            "names": ["socket"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 0, "value": 99, "op": "SCMP_CMP_EQ"}]}])}),
    "linux.seccomp.syscalls[].args[].op": observed({"linux.seccomp": with_(
        SECCOMP_ALLOW, syscalls=[{"names": ["socket"], "action": "SCMP_ACT_ERRNO",
                                  "args": [{"index": 0, "value": 10, "op": "SCMP_CMP_EQ"}]}])},
        {"linux.seccomp": with_(SECCOMP_ALLOW, syscalls=[{
            "names": ["socket"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 0, "value": 10, "op": "SCMP_CMP_NE"}]}])}),
    "linux.seccomp.syscalls[].args[].valueTwo": observed({"linux.seccomp": with_(
        SECCOMP_ALLOW, syscalls=[{"names": ["socket"], "action": "SCMP_ACT_ERRNO",
                                  "args": [{"index": 0, "value": 0xff, "valueTwo": 10,
                                            "op": "SCMP_CMP_MASKED_EQ"}]}])},
        {"linux.seccomp": with_(SECCOMP_ALLOW, syscalls=[{
            "names": ["socket"], "action": "SCMP_ACT_ERRNO",
            "args": [{"index": 0, "value": 0xff, "valueTwo": 99,
                      "op": "SCMP_CMP_MASKED_EQ"}]}])}),
    # linux.resources: the container's own cgroupfs (cgroup namespace)
    "linux.resources.devices[].allow": observed({"linux.resources.devices": [DEV_RULE]}),
    "linux.resources.devices[].type": observed(
        {"linux.resources.devices": [with_(DEV_RULE, type="b")]},
        {"linux.resources.devices": [DEV_RULE]}),
    "linux.resources.devices[].major": observed(
        {"linux.resources.devices": [with_(DEV_RULE, major=5)]},
        {"linux.resources.devices": [DEV_RULE]}),
    "linux.resources.devices[].minor": observed(
        {"linux.resources.devices": [with_(DEV_RULE, minor=5)]},
        {"linux.resources.devices": [DEV_RULE]}),
    "linux.resources.devices[].access": observed(
        {"linux.resources.devices": [with_(DEV_RULE, access="r")]},
        {"linux.resources.devices": [DEV_RULE]}),
    "linux.resources.memory.limit": observed({"linux.resources.memory": {"limit": 256 << 20}}),
    "linux.resources.memory.reservation": observed(
        {"linux.resources.memory": {"reservation": 128 << 20}}),
    "linux.resources.memory.swap": observed(
        {"linux.resources.memory": {"limit": 256 << 20, "swap": 512 << 20}},
        {"linux.resources.memory": {"limit": 256 << 20}}),
    "linux.resources.memory.kernel": observed({"linux.resources.memory": {"kernel": 64 << 20}}),
    "linux.resources.memory.kernelTCP": observed(
        {"linux.resources.memory": {"kernelTCP": 64 << 20}}),
    "linux.resources.memory.swappiness": observed({"linux.resources.memory": {"swappiness": 7}}),
    "linux.resources.memory.disableOOMKiller": observed(
        {"linux.resources.memory": {"disableOOMKiller": True}}),
    "linux.resources.memory.useHierarchy": ("nothing", None,
                                            {"linux.resources.memory": {"useHierarchy": False}},
                                            "always on in current kernels"),
    "linux.resources.memory.checkBeforeUpdate": ("nothing", None, {
        "linux.resources.memory": {"checkBeforeUpdate": True}}, "applies to update only"),
    "linux.resources.cpu.shares": observed({"linux.resources.cpu": {"shares": 512}}),
    "linux.resources.cpu.quota": observed({"linux.resources.cpu": {"quota": 50000}}),
    "linux.resources.cpu.period": observed({"linux.resources.cpu": {"period": 50000}}),
    "linux.resources.cpu.burst": observed(
        {"linux.resources.cpu": {"quota": 50000, "burst": 10000}},
        {"linux.resources.cpu": {"quota": 50000}}),
    "linux.resources.cpu.realtimeRuntime": error(
        {"linux.resources.cpu": {"realtimeRuntime": 1000}},
        why="the parent cgroup has no real-time budget"),
    "linux.resources.cpu.realtimePeriod": observed(
        {"linux.resources.cpu": {"realtimePeriod": 500000}}),
    "linux.resources.cpu.cpus": observed({"linux.resources.cpu": {"cpus": "0"}}),
    "linux.resources.cpu.mems": observed({"linux.resources.cpu": {"mems": "0-63"}}),
    "linux.resources.cpu.idle": observed({"linux.resources.cpu": {"idle": 1}}),
    "linux.resources.pids.limit": observed({"linux.resources.pids": {"limit": 0}}),
    "linux.resources.blockIO.weight": observed({"linux.resources.blockIO": {"weight": 500}}),
    "linux.resources.blockIO.leafWeight": observed(
        {"linux.resources.blockIO": {"leafWeight": 500}}),
    "linux.resources.blockIO.weightDevice[].major": observed(
        {"linux.resources.blockIO": {"weightDevice": [{"major": 7, "minor": 0, "weight": 500}]}}),
    "linux.resources.blockIO.weightDevice[].minor": observed(
        {"linux.resources.blockIO": {"weightDevice": [{"major": 7, "minor": 1, "weight": 500}]}},
        {"linux.resources.blockIO": {"weightDevice": [{"major": 7, "minor": 0, "weight": 500}]}}),
    "linux.resources.blockIO.weightDevice[].weight": observed(
        {"linux.resources.blockIO": {"weightDevice": [{"major": 7, "minor": 0, "weight": 200}]}},
        {"linux.resources.blockIO": {"weightDevice": [{"major": 7, "minor": 0, "weight": 500}]}}),
    "linux.resources.blockIO.weightDevice[].leafWeight": observed(
        {"linux.resources.blockIO": {"weightDevice": [{"major": 7, "minor": 0,
                                                       "leafWeight": 200}]}}),
    "linux.resources.hugepageLimits[].pageSize": observed(
        {"linux.resources.hugepageLimits": [{"pageSize": "2MB", "limit": 2 << 20}]}),
    "linux.resources.hugepageLimits[].limit": observed(
        {"linux.resources.hugepageLimits": [{"pageSize": "2MB", "limit": 4 << 20}]},
        {"linux.resources.hugepageLimits": [{"pageSize": "2MB", "limit": 2 << 20}]}),
    "linux.resources.network.classID": observed({"linux.resources.network": {"classID": 0x100001}}),
    "linux.resources.network.priorities[].name": observed(
        {"linux.resources.network": {"priorities": [{"name": "lo", "priority": 5}]}}),
    "linux.resources.network.priorities[].priority": observed(
        {"linux.resources.network": {"priorities": [{"name": "lo", "priority": 6}]}},
        {"linux.resources.network": {"priorities": [{"name": "lo", "priority": 5}]}}),
    "linux.resources.rdma.*.hcaHandles": error(
        {"linux.resources.rdma": {"gkdev0": {"hcaHandles": 1}}}, why="no such RDMA device"),
    "linux.resources.rdma.*.hcaObjects": error(
        {"linux.resources.rdma": {"gkdev0": {"hcaObjects": 1}}}, why="no such RDMA device"),
    "linux.resources.unified": observed({"linux.resources.unified": {"pids.max": "7"}}),
}
for _kind in ("Read", "Write"):
    for _unit in ("Bps", "IOPS"):
        _key = "linux.resources.blockIO.throttle%s%sDevice" % (_kind, _unit)
        for _leaf, _other in (("major", {"major": 7, "minor": 0, "rate": 1048576}),
                              ("minor", {"major": 7, "minor": 0, "rate": 1048576}),
                              ("rate", {"major": 7, "minor": 0, "rate": 2097152})):
            FIELDS["%s[].%s" % (_key, _leaf)] = observed(
                {_key: [dict(_other, minor=1) if _leaf == "minor" else _other]},
                {_key: THROTTLE} if _leaf != "major" else None)
for _m in ("gidMappings", "uidMappings"):
    for _leaf in ("containerID", "hostID", "size"):
        FIELDS["mounts[].%s[].%s" % (_m, _leaf)] = FIELDS["mounts[].uidMappings[].containerID"]
for _h in HOOKS:
    _hook = {"path": "/bin/sh", "args": ["sh", "-c", 'test "$GK_HOOK" = 1 && exit 7'],
             "env": ["GK_HOOK=1"]}
    for _leaf in ("path", "args", "env"):
        FIELDS["hooks.%s[].%s" % (_h, _leaf)] = ("hook", None, {"hooks": {_h: [_hook]}},
                                                "exit status 7")
    FIELDS["hooks.%s[].timeout" % _h] = ("hook", None, {"hooks": {_h: [{
        "path": "/bin/sleep", "args": ["sleep", "5"], "timeout": 1}]}}, "timed out")


# --- the schema walk -------------------------------------------------------

def schema_paths():
    cache = {}

    def load(name):
        if name not in cache:
            with open(os.path.join(SCHEMA, name)) as f:
                cache[name] = json.load(f)
        return cache[name]

    def resolve(node, cur):
        while "$ref" in node:
            name, _, frag = node["$ref"].partition("#")
            cur = name or cur
            node = load(cur)
            for part in filter(None, frag.split("/")):
                node = node[part]
        return node, cur

    out = set()

    def walk(node, cur, path, depth):
        node, cur = resolve(node, cur)
        if depth > 12:
            return
        for k in ("oneOf", "anyOf", "allOf"):
            for sub in node.get(k, []):
                walk(sub, cur, path, depth + 1)
        for k, v in node.get("properties", {}).items():
            p = path + "." + k if path else k
            out.add(p)
            walk(v, cur, p, depth + 1)
        if isinstance(node.get("items"), dict):
            walk(node["items"], cur, path + "[]", depth + 1)
        extra = [node["additionalProperties"]] if isinstance(
            node.get("additionalProperties"), dict) else []
        for v in extra + list(node.get("patternProperties", {}).values()):
            walk(v, cur, path + ".*", depth + 1)

    walk(load("config-schema.json"), "config-schema.json", "", 0)
    return {p for p in out
            if not p.startswith(("windows", "solaris", "vm", "zos", "freebsd"))}


def leaves():
    paths = schema_paths() | set(SUPPLEMENT)
    return sorted(p for p in paths
                  if not any(q.startswith(p + ".") or q.startswith(p + "[]") for q in paths))


# --- applying a row ----------------------------------------------------------

def apply(cfg, changes, gk):
    for path, value in (changes or {}).items():
        if path == "linux.namespaces":
            typ, _, nspath = value[1:].partition("=")
            ns = [n for n in cfg["linux"]["namespaces"] if n["type"] != typ]
            ns.append({"type": typ, "path": nspath} if nspath else {"type": typ})
            cfg["linux"]["namespaces"] = ns
            continue
        if value == "@copy":
            value = gk.bundle(copy_rootfs=True).path + "/rootfs"
        parts = path.replace("[", ".[").split(".")
        node = cfg
        for i, part in enumerate(parts[:-1]):
            key = int(part[1:-1]) if part.startswith("[") else part
            if isinstance(node, dict) and key not in node:
                node[key] = {}
            node = node[key]
        last = parts[-1]
        if last == "+":
            node.append(copy.deepcopy(value))
        elif last.startswith("["):
            node[int(last[1:-1])] = copy.deepcopy(value)
        else:
            node[last] = copy.deepcopy(value)


def config_for(gk, base, test):
    b = gk.bundle(["/bin/gk-probe", "snapshot"])
    b.linux["namespaces"].append({"type": "cgroup"})
    b.config["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup",
                               "source": "cgroup", "options": ["ro", "nosuid", "nodev"]})
    apply(b.config, base, gk)
    apply(b.config, test, gk)
    return b


def flatten(d, prefix=""):
    out = {}
    if isinstance(d, dict):
        for k, v in d.items():
            out.update(flatten(v, prefix + "/" + k))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            out.update(flatten(v, prefix + "/%d" % i))
    else:
        out[prefix] = d
    return out


def host_refused(stderr, leaf):
    """gkrun refused what this host cannot give, naming the field."""
    for line in stderr.splitlines():
        if line.startswith("gkrun: config.json: "):
            path = no_index(line.split("config.json: ", 1)[1].split(": ")[0])
            want = dotted(leaf)
            if want == path or want.startswith(path + ".") or path.startswith(want + "."):
                return True
    return False


def snapshot(gk, base, test):
    """What the container observes, with its exit status; None when gkrun
    refused the config (stderr then says why)."""
    p = gk.run(config_for(gk, base, test), timeout=60)
    if p.stderr.startswith("gkrun:"):
        return None, p.stderr
    try:
        got = flatten(json.loads(p.stdout))
    except ValueError:
        got = {}
    got["/exit"] = p.returncode
    return got, p.stderr


def ssb_mitigated_for_seccomp():
    try:
        with open("/sys/devices/system/cpu/vulnerabilities/spec_store_bypass") as f:
            return "seccomp" in f.read()
    except OSError:
        return False


def ia32_syscalls_work():
    """gk-probe's int 0x80 getpid, run on the host outside any container
    (some hypervisors have no 32-bit system call entry)."""
    from conftest import PROBE
    import subprocess
    try:
        out = subprocess.run([PROBE, "snapshot"], capture_output=True, text=True,
                             timeout=30).stdout
        return json.loads(out)["extra"].get("int80") == "exit 0"
    except (OSError, ValueError, KeyError, subprocess.SubprocessError):
        return False


# Observed fields whose effect only some hosts show.
HOST_NEEDS = {
    "linux.seccomp.architectures": (ia32_syscalls_work,
                                    "the extra architecture shows in a 32-bit system call, "
                                    "which this host's kernel cannot take (int 0x80 faults)"),
    "linux.seccomp.flags": (ssb_mitigated_for_seccomp,
                            "SECCOMP_FILTER_FLAG_SPEC_ALLOW shows in Speculation_Store_Bypass "
                            "only where the kernel mitigates SSB for seccomp tasks"),
}


# What differs from one run of the same container to the next, by nature:
# counters, usage and pressure files, namespace ids, random uuids.  Left out
# by name, so that noise can never pass for a field's effect.
VOLATILE = re.compile(r"usage|\.stat$|numa_stat|pressure|random/uuid|"
                      r"cpuacct\.|/proc/sys/kernel/random/|events$|\.current$|\.peak$")


@pytest.fixture(scope="module")
def volatile(tmp_path_factory):
    return set()


def test_every_schema_field_has_a_row():
    if not os.path.isdir(SCHEMA):
        pytest.skip("golang-github-opencontainers-specs-dev is not installed "
                    "(contrib/install-deps.sh --test)")
    missing = [p for p in leaves() if p not in FIELDS]
    assert missing == [], "spec fields without a row in FIELDS: %s" % missing


def dotted(leaf):
    return leaf.replace("[]", "")


def no_index(path):
    return re.sub(r"\[[0-9]+\]", "", path)


def refusal_names(stderr, leaf):
    """The refusal names the field or an object holding it."""
    want = dotted(leaf)
    for line in stderr.splitlines():
        if "not supported by gkrun" not in line or "config.json: " not in line:
            continue
        path = line.split("config.json: ", 1)[1].split(": ")[0]
        norm = no_index(path)
        for k in ("monotonic", "boottime", "gkdummy0"):
            norm = norm.replace("." + k, ".*")
        if want == norm or want.startswith(norm + "."):
            return True
    return False


@pytest.mark.parametrize("leaf", sorted(FIELDS))
def test_field_is_applied_or_refused(gk, leaf, volatile):
    how, base, test, detail = FIELDS[leaf]
    if how in ("platform", "elsewhere", "nothing"):
        assert detail
        return
    b = config_for(gk, base, test)
    if how == "refused":
        b.write()
        cid = gk.new_id()
        p = gk.gkrun("create", "--bundle", b.path, cid)
        assert p.returncode != 0
        assert refusal_names(p.stderr, detail or leaf), p.stderr
        return
    if how == "error":
        p = gk.run(b, timeout=60)
        assert p.returncode != 0 and dotted(leaf).split("[")[0].split(".*")[0] \
            .rsplit(".", 1)[0] in p.stderr, p.stderr
        return
    if how == "lsm":
        p = gk.run(b, timeout=60)
        if p.returncode != 0:
            assert "not enabled on this host" in p.stderr, p.stderr
        else:
            assert json.loads(p.stdout)["extra"]["attr/current"]
        return
    if how == "hook":
        p = gk.run(b, timeout=60)
        assert detail in p.stderr, p.stderr
        return
    if how == "state":
        b.write()
        cid = gk.create(b)
        assert gk.state(cid)["annotations"] == test["annotations"]
        return
    if how == "nspath":
        # join the ipc namespace of a container of this test
        other = gk.create(gk.bundle(["/bin/sleep", "100"]))
        pid = gk.state(other)["pid"]
        got, stderr = snapshot(gk, None, {"linux.namespaces": "+ipc=/proc/%d/ns/ipc" % pid})
        assert got is not None, stderr
        assert got["/observe/ns/ipc"] == os.readlink("/proc/%d/ns/ipc" % pid)
        return
    if how == "cgroup":
        name = "gk-specfields-" + gk.new_id()
        b.linux["cgroupsPath"] = "/" + name
        cid = gk.create(b)
        found = [d for d, _, _ in os.walk("/sys/fs/cgroup") if d.endswith("/" + name)]
        gk.gkrun("delete", "--force", cid, check=True)
        assert found
        return
    assert how == "observed"
    if leaf in HOST_NEEDS and not HOST_NEEDS[leaf][0]():
        pytest.skip(HOST_NEEDS[leaf][1])
    if not volatile:
        runs = [snapshot(gk, None, None)[0] for _ in range(3)]
        keys = set().union(*runs)
        volatile.update(k for k in keys if len({repr(r.get(k)) for r in runs}) > 1)
        volatile.add("")
    got, stderr = snapshot(gk, base, test)
    if got is None:  # this host cannot: a refusal naming the field is fine
        assert host_refused(stderr, leaf), stderr
        return
    want, stderr = snapshot(gk, base, None)
    assert want is not None, stderr
    diff = sorted(k for k in set(got) | set(want)
                  if k not in volatile and not VOLATILE.search(k) and got.get(k) != want.get(k))
    assert diff, "%s changes nothing the container observes" % leaf


# --- the documentation -------------------------------------------------------

HOW_TEXT = {
    "refused": "refused at create: `config.json: PATH: not supported by gkrun`",
    "observed": "applied: seen from inside (`gk-probe snapshot`)",
    "hook": "applied: the hook runs (its status or timeout in gkrun's message)",
    "state": "applied: `gkrun state`",
    "cgroup": "applied: the host's cgroupfs",
    "error": "applied where the host can; this host cannot",
    "elsewhere": "applied: tested in",
    "platform": "not a Linux field: ignored, as the spec says",
    "nothing": "changes nothing the container gets",
    "lsm": "applied when the LSM is enabled, refused when not",
    "nspath": "applied: seen from inside (joins the namespace)",
}


def fields_md():
    lines = ["# config.json fields: applied or refused",
             "",
             "Generated from tests/integration/test_spec_fields.py (which checks every",
             "row against a real container); do not edit by hand.  Every field of the",
             "runtime spec 1.3.0 (Linux) is listed; fields not in the spec are ignored,",
             "as the spec says.",
             "",
             "| field | gkrun | note |",
             "| --- | --- | --- |"]
    for leaf in sorted(FIELDS):
        how, _, _, detail = FIELDS[leaf]
        note = detail if isinstance(detail, str) and how not in ("hook", "refused") else ""
        lines.append("| `%s` | %s | %s |" % (leaf, HOW_TEXT[how], note))
    return "\n".join(lines) + "\n"


def test_fields_md_is_current():
    with open(FIELDS_MD) as f:
        assert f.read() == fields_md(), \
            "run: python3 tests/integration/test_spec_fields.py > bundle-spec/fields.md"


if __name__ == "__main__":
    sys.stdout.write(fields_md())
