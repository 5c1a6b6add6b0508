"""linux.netDevices (runtime-spec 1.2+): host interfaces moved into the
container's network namespace at create, renamed when "name" is set, with
their permanent global addresses, and up (bundle-spec/netdevices.md).

The spec forbids moving them out again: the end of the namespace returns
physical devices to the host (the kernel does it) and ends virtual ones.
The tests use virtual interfaces they make (a standalone one, dummy or ifb
where the kernel has no dummy, and a veth pair), unique names, removed in
teardown whatever happened; what comes back or not after delete is the
kernel's rule, checked here so that a namespace gkrun kept alive (a leaked
reference) shows.
"""
import json
import os
import signal
import subprocess
import uuid

import pytest

from gkcli import poll


def sh(*args, check=True):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=check)


def link_exists(name):
    return os.path.exists("/sys/class/net/" + name)


def standalone_kind():
    """A virtual link that needs no peer: dummy, or ifb on kernels without it."""
    for kind in ("dummy", "ifb"):
        name = "gkk" + uuid.uuid4().hex[:8]
        if sh("ip", "link", "add", name, "type", kind, check=False).returncode == 0:
            sh("ip", "link", "del", name, check=False)
            return kind
    pytest.skip("the kernel makes neither dummy nor ifb links")


class Links:
    """Links this test made on the host; all removed at the end, under any
    name they were given (on the host or, if still alive, wherever)."""

    def __init__(self):
        self.names = []

    def name(self):
        n = "gkn" + uuid.uuid4().hex[:8]
        self.names.append(n)
        return n

    def standalone(self, *addrs):
        n = self.name()
        sh("ip", "link", "add", n, "type", standalone_kind())
        for a in addrs:
            sh("ip", "addr", "add", a, "dev", n)
        return n

    def veth(self):
        a, b = self.name(), self.name()
        sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        return a, b

    def cleanup(self):
        for n in self.names:
            if link_exists(n):
                sh("ip", "link", "del", n, check=False)


@pytest.fixture
def links():
    ls = Links()
    yield ls
    ls.cleanup()


def in_netns(pid, *cmd):
    return sh("nsenter", "--net=/proc/%d/ns/net" % pid, *cmd).stdout


def addrs_of(pid, name):
    out = json.loads(in_netns(pid, "ip", "-j", "addr", "show", "dev", name))
    return {"%s/%d" % (a["local"], a["prefixlen"]) for a in out[0]["addr_info"]
            if a.get("scope") == "global"}, out[0]["flags"]


def test_moved_renamed_with_addresses_and_up(gk, links):
    dev = links.standalone("10.251.7.1/24", "fd00:251:7::1/64")
    veth, peer = links.veth()
    inside = "ctr" + uuid.uuid4().hex[:6]
    b = gk.bundle(["sh", "-c", "ls /sys/class/net; cat /sys/class/net/%s/operstate" % veth])
    b.linux["netDevices"] = {dev: {"name": inside}, veth: {}}
    p = gk.run(b, check=True)
    seen = p.stdout.split()
    assert inside in seen and veth in seen and dev not in seen, p.stdout
    assert seen[-1] in ("up", "lowerlayerdown"), p.stdout  # peer on the host is down


def test_addresses_kept_and_gone_from_host(gk, links):
    dev = links.standalone("10.251.8.1/24", "fd00:251:8::1/64")
    inside = "ctr" + uuid.uuid4().hex[:6]
    b = gk.bundle(["sleep", "100"])
    b.linux["netDevices"] = {dev: {"name": inside}}
    cid = gk.create(b)
    pid = gk.state(cid)["pid"]
    assert not link_exists(dev)
    addrs, flags = addrs_of(pid, inside)
    assert addrs == {"10.251.8.1/24", "fd00:251:8::1/64"}
    assert "UP" in flags
    gk.gkrun("delete", "--force", cid, check=True)


@pytest.mark.parametrize("crash", [False, True], ids=["delete", "kill9-delete"])
def test_after_delete_the_namespace_ends(gk, links, crash):
    """Virtual devices end with the namespace (spec: the runtime MUST NOT move
    them out): the veth's host end goes too.  Were the namespace kept alive
    by anything of gkrun's, the peer would stay."""
    veth, peer = links.veth()
    b = gk.bundle(["sleep", "100"])
    b.linux["netDevices"] = {veth: {"name": "eth7"}}
    cid = gk.create(b)
    pid = gk.state(cid)["pid"]
    assert link_exists(peer) and not link_exists(veth)
    if crash:
        os.kill(pid, signal.SIGKILL)
    gk.gkrun("delete", "--force", cid, check=True)
    assert poll(lambda: not link_exists(peer), timeout=10), "veth peer still on the host"
    assert not link_exists(veth) and not link_exists("eth7")


def test_template_name(gk, links):
    dev = links.standalone()
    b = gk.bundle(["ls", "/sys/class/net"])
    b.linux["netDevices"] = {dev: {"name": "gkx%d"}}
    p = gk.run(b, check=True)
    assert "gkx0" in p.stdout.split(), p.stdout


def test_failure_gives_back_what_was_moved(gk, links):
    """The second device cannot take the name "lo": the first comes back to
    the host, with its name and addresses, and nothing of the container stays."""
    first = links.standalone("10.251.9.1/24")
    second = links.standalone()
    b = gk.bundle(["true"])
    b.linux["netDevices"] = {first: {"name": "moved0"}, second: {"name": "lo"}}
    b.write()
    cid = gk.new_id()
    p = gk.gkrun("create", "--bundle", b.path, cid)
    assert p.returncode != 0
    assert "config.json: linux.netDevices: %s: `lo` exists in the container already" % second \
        in p.stderr, p.stderr
    assert link_exists(first) and link_exists(second)
    assert "10.251.9.1/24" in sh("ip", "-o", "addr", "show", "dev", first).stdout
    assert gk.gkrun("state", cid).returncode != 0


def refused(gk, b, msg):
    b.write()
    cid = gk.new_id()
    p = gk.gkrun("create", "--bundle", b.path, cid)
    assert p.returncode != 0
    assert msg in p.stderr, p.stderr
    assert gk.gkrun("state", cid).returncode != 0
    return p


def test_refused_without_network_namespace(gk, links):
    dev = links.standalone()
    b = gk.bundle(["true"])
    b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "network"]
    b.linux["netDevices"] = {dev: {}}
    refused(gk, b, "config.json: linux.netDevices: needs a network namespace of the "
            "container's own")
    assert link_exists(dev)


def test_refused_host_network_namespace_by_path(gk, links):
    dev = links.standalone()
    b = gk.bundle(["true"])
    for n in b.linux["namespaces"]:
        if n["type"] == "network":
            n["path"] = "/proc/%d/ns/net" % os.getpid()
    b.linux["netDevices"] = {dev: {}}
    refused(gk, b, "is the host's")
    assert link_exists(dev)


def test_refused_missing_interface(gk, links):
    missing = links.name()
    b = gk.bundle(["true"])
    b.linux["netDevices"] = {missing: {}}
    refused(gk, b, "config.json: linux.netDevices: %s: no such interface on the host" % missing)


@pytest.mark.parametrize("devices,msg", [
    ({"a/b": {}}, "host interface name: must not contain"),
    ({"gkq1": {"name": "x" * 16}}, "name: longer than 15 bytes"),
    ({"gkq1": {"name": "a b"}}, "name: must not contain"),
    ({"gkq1": {"name": "e%s"}}, "template"),
    ({"gkq1": {"name": "same"}, "gkq2": {"name": "same"}},
     "name \"same\" is also the container's name of \"gkq1\""),
    ({"gkq1": {}, "gkq2": {"name": "gkq1"}}, "is also the container's name"),
    ({"gkq1": []}, "must be an object"),
])
def test_refused_bad_names(gk, devices, msg):
    b = gk.bundle(["true"])
    b.linux["netDevices"] = devices
    p = refused(gk, b, msg)
    assert "linux.netDevices" in p.stderr
