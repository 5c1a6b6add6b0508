"""gkrun's bridge networking (org.gk.net.* annotations): veth on a bridge,
addresses from a subnet, NAT, published ports, cleanup after delete and
after a crash.

Every test uses its own bridge (gkt<random>) and its own 10.x.y.0/24, and
sends traffic only between the host and containers or network namespaces it
made.  The `net` fixture removes every container, link, netns, lease, rule
and process a test made, even when it fails.
"""
import concurrent.futures
import ipaddress
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import time
import uuid

import pytest

from conftest import GKRUN, kill_leftover

# where gkrun looks for gkrun-net when it is not beside gkrun (Makefile)
LIBEXECDIR = "/usr/local/libexec/gk"

LEASES = "/run/gkrun-net/leases"


def sh(*args, check=True, **kw):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True,
                          check=check, **kw)


def used_prefixes():
    out = sh("ip", "-4", "route", "show", "table", "all").stdout + sh("ip", "-4", "addr").stdout
    return out


def free_24():
    """A 10.x.y.0/24 that no route or address on this machine touches."""
    used = used_prefixes()
    for _ in range(1000):
        p = "10.%d.%d" % (random.randint(200, 254), random.randint(0, 255))
        if p + "." not in used:
            return p
    raise RuntimeError("no free 10.x.y.0/24")


def nft_table():
    p = sh("nft", "-j", "list", "table", "ip", "gk", check=False)
    if p.returncode != 0:
        return None
    return json.loads(p.stdout)["nftables"]


def rules_of(cid):
    """The rules in table ip gk whose comment names container CID."""
    return [o["rule"] for o in nft_table() or [] if "rule" in o and
            o["rule"].get("comment", "").endswith(" " + cid)]


def read_leases():
    """{ip: (state dir, tag)} of every lease on the host."""
    out = {}
    for name in os.listdir(LEASES) if os.path.isdir(LEASES) else []:
        try:
            lines = open(os.path.join(LEASES, name)).read().split("\n")
        except OSError:
            continue
        if len(lines) > 2:
            out[name] = (lines[0], lines[1])
    return out


def leases_of(root):
    """{ip: id} of the leases that belong to state root ROOT (a lease
    names its container's state directory, ROOT/ID)."""
    root = os.path.realpath(root)
    return {ip: os.path.basename(d) for ip, (d, _) in read_leases().items()
            if os.path.dirname(d) == root}


def net_result(gk, cid):
    """gkrun-net add's result, which gkrun keeps in the state."""
    with open(os.path.join(gk.root, cid, "state.json")) as f:
        return json.loads(json.load(f)["net"])


def files_of(gk, cid):
    """The directory of a container's /etc/hosts, hostname, resolv.conf."""
    return net_result(gk, cid)["files"]


def link_exists(name):
    return sh("ip", "link", "show", name, check=False).returncode == 0


def ports_of(bridge):
    p = sh("ip", "-j", "link", "show", "master", bridge, check=False)
    return [l["ifname"] for l in json.loads(p.stdout or "[]")] if p.returncode == 0 else []


def http_get(host, port, path="/hostname", timeout=5.0):
    """The body of GET PATH, over a plain socket (no proxy settings apply)."""
    with socket.create_connection((host, port), timeout=timeout) as s:
        s.sendall(b"GET %s HTTP/1.0\r\n\r\n" % path.encode())
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n\r\n", 1)[1].decode()


def wait_http(host, port, path="/hostname", timeout=10.0):
    end = time.time() + timeout
    while True:
        try:
            return http_get(host, port, path)
        except (OSError, IndexError):
            if time.time() > end:
                raise
            time.sleep(0.05)


class NetEnv:
    """One test's bridge, subnet, network namespaces and what to undo."""

    def __init__(self, gk):
        self.gk = gk
        self.tag = uuid.uuid4().hex[:8]
        self.bridge = "gkt" + self.tag
        self.prefix = free_24()
        self.subnet = self.prefix + ".0/24"
        self.gateway = self.prefix + ".1"
        self.netns = []
        self.links = []
        self.pids = []
        self.table_existed = nft_table() is not None

    def bundle(self, args, mode="bridge", ports=None, dns=None, subnet=None, **kw):
        b = self.gk.bundle(args, **kw)
        ann = {"org.gk.net.mode": mode}
        if mode == "bridge":
            ann["org.gk.net.bridge"] = self.bridge
            ann["org.gk.net.subnet"] = subnet or self.subnet
        if ports:
            ann["org.gk.net.ports"] = ports
        if dns:
            ann["org.gk.net.dns"] = dns
        b.config["annotations"] = ann
        return b

    def start(self, b, cid=None):
        cid = self.gk.create(b, cid=cid)
        self.gk.gkrun("start", cid, check=True)
        return cid

    def exec(self, cid, script, check=True, timeout=30):
        return self.gk.gkrun("exec", cid, "/bin/sh", "-c", script, check=check, timeout=timeout)

    def ip_of(self, cid):
        out = self.exec(cid, "ip -4 addr show eth0").stdout
        for word in out.split():
            if "/" in word and word[0].isdigit():
                return word.split("/")[0]
        raise AssertionError("no address on eth0: " + out)

    def add_netns(self):
        """A network namespace linked to the host by a veth, in its own
        /30: returns (name, host-side address, netns-side address).  The
        netns has no default route: it can only answer addresses it
        sees, i.e. the host's."""
        p = free_24()
        name = "gkt-%s-%d" % (self.tag, len(self.netns))
        host_if = "gkh%s%d" % (self.tag, len(self.netns))
        self.netns.append(name)
        sh("ip", "netns", "add", name)
        self.links.append(host_if)
        sh("ip", "link", "add", host_if, "type", "veth", "peer", "name", "eth0", "netns", name)
        sh("ip", "addr", "add", p + ".1/30", "dev", host_if)
        sh("ip", "link", "set", host_if, "up")
        sh("ip", "-n", name, "addr", "add", p + ".2/30", "dev", "eth0")
        sh("ip", "-n", name, "link", "set", "eth0", "up")
        sh("ip", "-n", name, "link", "set", "lo", "up")
        return name, p + ".1", p + ".2"

    def cleanup(self):
        for cid in self.gk.ids:
            try:
                self.gk.gkrun("delete", "--force", cid, timeout=30)
            except Exception:
                pass
            kill_leftover(self.gk.root, cid)
        for pid in self.pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        for name in self.netns:
            sh("ip", "netns", "del", name, check=False)
        for name in self.links + ports_of(self.bridge) + [self.bridge]:
            if link_exists(name):
                sh("ip", "link", "del", name, check=False)
        for cid in self.gk.ids:
            for r in rules_of(cid):
                sh("nft", "delete", "rule", "ip", "gk", r["chain"], "handle", r["handle"],
                   check=False)
        table = nft_table()
        if not self.table_existed and table is not None and not any("rule" in o for o in table):
            sh("nft", "delete", "table", "ip", "gk", check=False)
        try:
            os.unlink("/run/gkrun-net/localnet/" + self.bridge)
        except OSError:
            pass
        for ip in leases_of(self.gk.root):
            try:
                os.unlink(os.path.join(LEASES, ip))
            except OSError:
                pass


@pytest.fixture
def net(gk):
    env = NetEnv(gk)
    yield env
    env.cleanup()


def assert_all_gone(net, cids):
    for cid in cids:
        assert rules_of(cid) == []
    assert leases_of(net.gk.root) == {}
    assert ports_of(net.bridge) == []
    assert not link_exists(net.bridge)
    if not net.table_existed:
        assert nft_table() is None


def test_without_annotation_no_network_is_touched(gk, net):
    b = gk.bundle(["/bin/sh", "-c", "ip -o link show; cat /etc/hosts"])
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    links = [l.split(":")[1].strip() for l in p.stdout.splitlines() if ": " in l and "link/" in l]
    assert links == ["lo"]
    # lo alone, set up as runc and crun leave it
    assert "lo: <LOOPBACK,UP" in p.stdout
    # the rootfs's own /etc/hosts, not one of gkrun's
    assert p.stdout.strip().endswith("127.0.0.1\tlocalhost")
    assert leases_of(gk.root) == {}


def test_mode_none_gives_lo_only_and_etc_files(net):
    b = net.bundle(["/bin/sleep", "100"], mode="none")
    b.config["hostname"] = "lonely"
    cid = net.start(b)
    out = net.exec(cid, "ip -o link show; cat /etc/hostname /etc/hosts").stdout
    assert "lo: <LOOPBACK,UP" in out
    assert "eth0" not in out
    assert "lonely\n" in out
    assert "127.0.0.1\tlocalhost lonely" in out
    assert leases_of(net.gk.root) == {}
    files = files_of(net.gk, cid)
    assert os.path.exists(files + "/hosts") and not os.path.exists(files + "/resolv.conf")
    net.gk.gkrun("delete", "--force", cid, check=True)
    assert not os.path.exists(files)


def test_two_containers_ping_each_other_over_the_bridge(net):
    a = net.start(net.bundle(["/bin/sleep", "100"]))
    b = net.start(net.bundle(["/bin/sleep", "100"]))
    ip_a, ip_b = net.ip_of(a), net.ip_of(b)
    assert ip_a != ip_b
    for ip in (ip_a, ip_b):
        assert ipaddress.ip_address(ip) in ipaddress.ip_network(net.subnet)
        assert ip != net.gateway
    assert net.exec(a, "ping -c 1 -W 3 " + ip_b).returncode == 0
    assert net.exec(b, "ping -c 1 -W 3 " + ip_a).returncode == 0
    assert net.exec(a, "ping -c 1 -W 3 " + net.gateway).returncode == 0
    # the container's view: eth0, default route via the bridge, /etc/hosts
    route = net.exec(a, "ip route").stdout
    assert "default via %s dev eth0" % net.gateway in route
    hosts = net.exec(a, "cat /etc/hosts").stdout
    assert "%s\tgktest" % ip_a in hosts
    # both host ends are on the bridge, which has the gateway address
    assert len(ports_of(net.bridge)) == 2
    assert net.gateway + "/24" in sh("ip", "-4", "addr", "show", net.bridge).stdout


def test_resolv_conf_from_host_or_annotation(net):
    host = open("/etc/resolv.conf").read().split("\n")
    want = [l.split()[1] for l in host if l.startswith("nameserver") and
            not l.split()[1].startswith("127.") and ":" not in l.split()[1]][:3]
    want = want or ["8.8.8.8", "8.8.4.4"]
    p = net.gk.run(net.bundle(["/bin/cat", "/etc/resolv.conf"]))
    assert p.returncode == 0, p.stderr
    assert [l.split()[1] for l in p.stdout.split("\n") if l.startswith("nameserver")] == want
    p = net.gk.run(net.bundle(["/bin/cat", "/etc/resolv.conf"], dns="192.0.2.53,192.0.2.54"))
    assert p.returncode == 0, p.stderr
    assert [l.split()[1] for l in p.stdout.split("\n") if l.startswith("nameserver")] == \
        ["192.0.2.53", "192.0.2.54"]


def test_published_port_answers_from_host_netns_and_containers(net):
    port = random.randint(20000, 40000)
    server = net.bundle(["httpd", "-f", "-p", "80", "-h", "/etc"], ports="%d:80" % port)
    server.config["hostname"] = "srv-" + net.tag
    srv = net.start(server)
    want = "srv-%s\n" % net.tag
    # from the host: loopback and the bridge-facing address
    assert wait_http("127.0.0.1", port) == want
    assert http_get(net.gateway, port) == want
    # from another network namespace, through the host's address on its link
    ns, host_addr, _ = net.add_netns()
    client = ("import socket; s = socket.create_connection(('%s', %d), timeout=5); "
              "s.sendall(b'GET /hostname HTTP/1.0\\r\\n\\r\\n'); d = b''\n"
              "while True:\n c = s.recv(4096)\n if not c: break\n d += c\n"
              "print(d.split(b'\\r\\n\\r\\n', 1)[1].decode(), end='')") % (host_addr, port)
    p = sh("ip", "netns", "exec", ns, "/usr/bin/python3", "-c", client, timeout=30)
    assert p.stdout == want
    # from another container on the bridge, and from the server itself
    # (hairpin), through the gateway's published port
    other = net.start(net.bundle(["/bin/sleep", "100"]))
    get = "printf 'GET /hostname HTTP/1.0\\r\\n\\r\\n' | nc -w 5 %s %d" % (net.gateway, port)
    assert net.exec(other, get).stdout.endswith(want)
    assert net.exec(srv, get).stdout.endswith(want)
    # a port nobody published is not forwarded
    with pytest.raises(OSError):
        http_get("127.0.0.1", port + 1, timeout=2)


def test_outbound_traffic_is_masqueraded(net):
    ns, host_addr, ns_addr = net.add_netns()
    port = random.randint(20000, 40000)
    # a one-shot server in the netns that answers with the peer's address
    server = ("import socket, sys; s = socket.socket(); "
              "s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); "
              "s.bind(('%s', %d)); s.listen(1); print('ready', flush=True); "
              "c, a = s.accept(); c.sendall(a[0].encode() + b'\\n'); c.close()") % (ns_addr, port)
    srv = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", server],
                           stdout=subprocess.PIPE, text=True)
    net.pids.append(srv.pid)
    try:
        assert srv.stdout.readline().strip() == "ready"
        cid = net.start(net.bundle(["/bin/sleep", "100"]))
        p = net.exec(cid, "nc -w 5 %s %d </dev/null" % (ns_addr, port))
        # the netns has no route to the container's subnet: the answer only
        # comes back because the source was rewritten to the host's address
        assert p.stdout.strip() == host_addr
    finally:
        srv.kill()
        srv.wait()


def test_delete_removes_rules_lease_veth_then_bridge_and_table(net):
    a = net.start(net.bundle(["/bin/sleep", "100"], ports="%d:80" % random.randint(20000, 40000)))
    b = net.start(net.bundle(["/bin/sleep", "100"]))
    ip_a = net.ip_of(a)
    files_a, files_b = files_of(net.gk, a), files_of(net.gk, b)
    assert os.path.exists(files_a + "/hosts") and os.path.exists(files_b + "/resolv.conf")
    # gkrun-net's result in the state names the host end of the veth
    veth_a, veth_b = net_result(net.gk, a)["interface"], net_result(net.gk, b)["interface"]
    assert sorted(ports_of(net.bridge)) == sorted([veth_a, veth_b])
    assert net_result(net.gk, a)["ip"] == ip_a + "/24"
    assert len(rules_of(a)) == 8  # 3 postrouting, 2 forward, 1 input, 2 for the port
    assert len(rules_of(b)) == 6
    assert sorted(leases_of(net.gk.root).values()) == sorted([a, b])
    assert len(ports_of(net.bridge)) == 2
    net.gk.gkrun("delete", "--force", a, check=True)
    assert rules_of(a) == [] and len(rules_of(b)) == 6
    assert list(leases_of(net.gk.root).values()) == [b]
    assert ip_a not in leases_of(net.gk.root)
    assert len(ports_of(net.bridge)) == 1
    assert link_exists(net.bridge)
    assert not os.path.exists(files_a) and os.path.exists(files_b)
    assert not link_exists(veth_a) and link_exists(veth_b)
    net.gk.gkrun("delete", "--force", b, check=True)
    assert not link_exists(veth_b)
    assert_all_gone(net, [a, b])
    assert not os.path.exists(files_b)
    # the address went back to the pool
    c = net.start(net.bundle(["/bin/sleep", "100"]))
    assert net.ip_of(c) == ip_a


def test_fifty_parallel_creates_get_fifty_addresses(net):
    def create(_):
        return net.gk.create(net.bundle(["/bin/sleep", "100"]))

    def start_and_ip(cid):
        net.gk.gkrun("start", cid, check=True)
        return net.ip_of(cid)

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        cids = list(pool.map(create, range(50)))
        ips = list(pool.map(start_and_ip, cids))
    assert len(set(ips)) == 50
    assert all(ipaddress.ip_address(ip) in ipaddress.ip_network(net.subnet) for ip in ips)
    assert net.gateway not in ips
    assert sorted(leases_of(net.gk.root)) == sorted(ips)
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda c: net.gk.gkrun("delete", "--force", c), cids))
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results if r.returncode]
    assert_all_gone(net, cids)


def test_kill_9_mid_create_is_cleaned_by_delete_force(net):
    hook_pid = os.path.join(net.gk.workdir, "hook.pid")
    b = net.bundle(["/bin/sleep", "100"], ports="%d:80" % random.randint(20000, 40000))
    # the createRuntime hook runs once the network is attached
    b.config["hooks"] = {"createRuntime": [{"path": "/bin/sh", "args": [
        "sh", "-c", "echo $$ > %s; exec sleep 60" % hook_pid]}]}
    b.write()
    cid = net.gk.new_id()
    p = subprocess.Popen([GKRUN, "--root", net.gk.root, "create", "--bundle", b.path, cid],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    net.pids.append(p.pid)
    for _ in range(400):
        if os.path.exists(hook_pid) and open(hook_pid).read().strip():
            break
        time.sleep(0.025)
    net.pids.append(int(open(hook_pid).read()))
    assert len(ports_of(net.bridge)) == 1
    assert list(leases_of(net.gk.root).values()) == [cid]
    assert len(rules_of(cid)) == 8
    files = files_of(net.gk, cid)
    assert os.path.isdir(files)
    p.send_signal(signal.SIGKILL)
    p.wait()
    os.kill(net.pids[-1], signal.SIGKILL)
    d = net.gk.gkrun("delete", "--force", cid)
    assert d.returncode == 0, d.stderr
    assert_all_gone(net, [cid])
    assert not os.path.exists(files)


def wait_stopped(gk, cid):
    for _ in range(200):
        if gk.state(cid)["status"] == "stopped":
            return
        time.sleep(0.025)
    raise AssertionError("container %s did not stop" % cid)


def test_lease_of_a_dead_container_is_reclaimed(net):
    # a /30 has room for exactly one container
    one = net.prefix + ".0/30"
    a = net.start(net.bundle(["/bin/sleep", "100"], subnet=one,
                             ports="%d:80" % random.randint(20000, 40000)))
    assert net.ip_of(a) == net.prefix + ".2"
    p = net.gk.gkrun("create", "--bundle", net.bundle(["/bin/sleep", "100"], subnet=one).write(),
                     net.gk.new_id())
    assert p.returncode != 0
    assert "subnet %s: no free address left" % one in p.stderr
    # the init dies but the container is not deleted: its address is free
    os.kill(net.gk.state(a)["pid"], signal.SIGKILL)
    wait_stopped(net.gk, a)
    b = net.start(net.bundle(["/bin/sleep", "100"], subnet=one))
    assert net.ip_of(b) == net.prefix + ".2"
    assert rules_of(a) == []
    assert list(leases_of(net.gk.root).values()) == [b]
    # deleting the dead one leaves the new owner's lease and rules alone
    net.gk.gkrun("delete", a, check=True)
    assert list(leases_of(net.gk.root).values()) == [b]
    assert len(rules_of(b)) == 6
    assert net.exec(b, "ping -c 1 -W 3 " + net.gateway).returncode == 0
    net.gk.gkrun("delete", "--force", b, check=True)
    assert_all_gone(net, [a, b])


def test_bridge_in_a_user_namespace(net):
    b = net.bundle(["/bin/sh", "-c", "id -u; ping -c 1 -W 3 %s >/dev/null && echo ok" %
                    net.gateway], copy_rootfs=True)
    b.linux["namespaces"].append({"type": "user"})
    b.linux["uidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    b.linux["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    sh("chown", "-R", "100000:100000", os.path.join(b.path, "rootfs"))
    p = net.gk.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["0", "ok"]
    assert_all_gone(net, net.gk.ids)


@pytest.mark.parametrize("ann,msg", [
    ({"org.gk.net.mode": "wifi"}, "annotation `org.gk.net.mode`: `wifi`: must be none, host or bridge"),
    ({"org.gk.net.mode": "bridge", "org.gk.net.ports": "80"},
     "annotation `org.gk.net.ports`: `80`: want HOST:CONTAINER[/tcp|udp]"),
    ({"org.gk.net.mode": "bridge", "org.gk.net.subnet": "10.1.2.3/24"},
     "annotation `org.gk.net.subnet`: `10.1.2.3/24`: host bits set"),
    ({"org.gk.net.mode": "bridge", "org.gk.net.bridge": "a/b"},
     "annotation `org.gk.net.bridge`: `a/b`: not a valid interface name"),
    ({"org.gk.net.ports": "80:80"}, "annotation `org.gk.net.mode`: org.gk.net.* annotations given without it"),
])
def test_bad_annotations_are_refused(net, ann, msg):
    b = net.gk.bundle(["/bin/true"])
    b.config["annotations"] = ann
    p = net.gk.run(b)
    assert p.returncode != 0
    assert msg in p.stderr
    assert leases_of(net.gk.root) == {}
    assert net.gk.gkrun("list", "-q").stdout.strip() == ""


def test_bridge_needs_its_own_network_namespace(net):
    b = net.bundle(["/bin/true"])
    b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "network"]
    p = net.gk.run(b)
    assert p.returncode != 0
    assert "bridge: config.json: linux.namespaces: needs a new network namespace" in p.stderr
    assert leases_of(net.gk.root) == {}


def test_host_mode_shares_the_host_network(net):
    b = net.bundle(["/bin/sh", "-c", "ip -o link show"], mode="host")
    b.linux["namespaces"] = [n for n in b.linux["namespaces"] if n["type"] != "network"]
    p = net.gk.run(b)
    assert p.returncode == 0, p.stderr
    host_links = [l.split(":")[1].strip().split("@")[0]
                  for l in sh("ip", "-o", "link", "show").stdout.splitlines()]
    seen = [l.split(":")[1].strip().split("@")[0] for l in p.stdout.splitlines()]
    # the host's first links (lo, then its own interfaces) are seen inside
    assert seen[:2] == host_links[:2] and len(seen) > 1
    assert leases_of(net.gk.root) == {}
    b = net.bundle(["/bin/true"], mode="host")
    p = net.gk.run(b)
    assert p.returncode != 0
    assert "host: config.json: linux.namespaces: must not have a network namespace" in p.stderr


def test_a_link_that_is_not_a_bridge_is_left_alone(net):
    ns, host_if_addr, _ = net.add_netns()
    host_if = net.links[-1]
    b = net.bundle(["/bin/true"])
    b.config["annotations"]["org.gk.net.bridge"] = host_if
    p = net.gk.run(b)
    assert p.returncode != 0
    assert "bridge `%s`: exists and is not a bridge" % host_if in p.stderr
    addrs = sh("ip", "-4", "-o", "addr", "show", host_if).stdout
    assert host_if_addr + "/30" in addrs and net.gateway not in addrs
    assert link_exists(host_if)
    assert leases_of(net.gk.root) == {}


def test_an_existing_bridge_is_used_and_kept(net):
    sh("ip", "link", "add", "name", net.bridge, "type", "bridge")
    p = net.gk.run(net.bundle(["/bin/sh", "-c", "ping -c 1 -W 3 %s >/dev/null && echo ok" %
                               net.gateway]))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "ok"
    # gkrun did not make it, so gkrun does not remove it, and the
    # route_localnet it turned on for 127.0.0.1:PORT is off again
    assert link_exists(net.bridge)
    assert ports_of(net.bridge) == [] and leases_of(net.gk.root) == {}
    with open("/proc/sys/net/ipv4/conf/%s/route_localnet" % net.bridge) as f:
        assert f.read().strip() == "0"


def test_containers_cannot_reach_the_hosts_loopback(net):
    """route_localnet (needed for 127.0.0.1:PORT) must not let a container
    send to services the host keeps on 127.0.0.1 (CVE-2020-8558's hole)."""
    port = random.randint(20000, 40000)
    b = net.bundle(["/bin/sleep", "100"], ports="%d:80" % port)
    for k in ("bounding", "effective", "permitted"):
        b.process["capabilities"][k].append("CAP_NET_ADMIN")
    b.linux["sysctl"] = {"net.ipv4.conf.all.route_localnet": "1"}
    cid = net.start(b)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout(3)
        # route the container's 127.0.0.0/8 to the host and send it a datagram
        net.exec(cid, "ip route del local 127.0.0.1 table local; "
                      "ip route del local 127.0.0.0/8 table local; ip link set lo down; "
                      "ip route add 127.0.0.0/8 via %s dev eth0; "
                      "timeout 2 tftp -g -r x -l /dev/null 127.0.0.1 %d; true" %
                 (net.gateway, s.getsockname()[1]))
        with pytest.raises(socket.timeout):
            s.recvfrom(100)


def test_networked_run_reaches_a_server_the_test_made(net):
    """`gkrun run` end to end: the one gkrun-net call at create gives the
    container eth0 and a route out; it fetches a page from a server in a
    network namespace the test made, through the host; the run's end
    removes veth, rules, lease and files."""
    ns, host_addr, ns_addr = net.add_netns()
    port = random.randint(20000, 40000)
    page = "hello-" + net.tag
    server = ("import http.server, sys\n"
              "class H(http.server.BaseHTTPRequestHandler):\n"
              " def do_GET(self):\n"
              "  self.send_response(200); self.end_headers(); self.wfile.write(b'%s')\n"
              " def log_message(self, *a): pass\n"
              "s = http.server.HTTPServer(('%s', %d), H); print('ready', flush=True)\n"
              "s.handle_request()\n") % (page, ns_addr, port)
    srv = subprocess.Popen(["ip", "netns", "exec", ns, "/usr/bin/python3", "-c", server],
                           stdout=subprocess.PIPE, text=True)
    net.pids.append(srv.pid)
    try:
        assert srv.stdout.readline().strip() == "ready"
        p = net.gk.run(net.bundle(["/bin/sh", "-c", "ping -c 1 -W 3 %s >/dev/null && "
                                   "printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 %s %d" %
                                   (net.gateway, ns_addr, port)]))
        assert p.returncode == 0, p.stderr
        assert p.stdout.startswith("HTTP/1.0 200") and p.stdout.endswith("\n\n" + page)
    finally:
        srv.kill()
        srv.wait()
    assert_all_gone(net, net.gk.ids)
    assert not [d for d in os.listdir("/run/gkrun-net/files") if d in str(net.gk.ids)]


def lone_gkrun(gk, net_program=None):
    """A copy of gkrun in a directory of its own, with NET_PROGRAM (text of
    a script) beside it as gkrun-net, or nothing."""
    lone = os.path.join(gk.workdir, "lone")
    os.makedirs(lone)
    shutil.copy2(GKRUN, os.path.join(lone, "gkrun"))
    if net_program:
        with open(os.path.join(lone, "gkrun-net"), "w") as f:
            f.write(net_program)
        os.chmod(os.path.join(lone, "gkrun-net"), 0o755)
    return os.path.join(lone, "gkrun")


def assert_nothing_made(net, cid):
    assert leases_of(net.gk.root) == {}
    assert not link_exists(net.bridge)
    assert rules_of(cid) == []
    assert net.gk.gkrun("list", "-q").stdout.strip() == ""
    assert not os.path.exists(os.path.join(net.gk.root, cid))


@pytest.mark.skipif(os.path.exists(os.path.join(LIBEXECDIR, "gkrun-net")),
                    reason="a gkrun-net is installed in " + LIBEXECDIR)
def test_missing_gkrun_net_is_a_clear_error_and_leaves_nothing(net):
    gkrun = lone_gkrun(net.gk)
    b = net.bundle(["/bin/true"])
    b.write()
    cid = net.gk.new_id()
    p = sh(gkrun, "--root", net.gk.root, "run", "--bundle", b.path, cid, check=False)
    assert p.returncode != 0
    assert "networking needs gkrun-net: not found beside gkrun (`%s`) or in `%s`" % (
        os.path.dirname(gkrun), LIBEXECDIR) in p.stderr, p.stderr
    assert_nothing_made(net, cid)
    # a container without org.gk.net.* does not need it
    p = sh(gkrun, "--root", net.gk.root, "run", "--bundle",
           net.gk.bundle(["/bin/true"]).write(), net.gk.new_id(), check=False)
    assert p.returncode == 0, p.stderr


def test_gkrun_net_of_another_version_refuses_and_leaves_nothing(net):
    real = os.path.join(os.path.dirname(GKRUN), "gkrun-net")
    # gkrun-net asked by an older gkrun: the request's version rewritten
    gkrun = lone_gkrun(net.gk, "#!/bin/sh\nsed 's/\"gkrunVersion\":\"[^\"]*\"/"
                               "\"gkrunVersion\":\"0.0.9\"/' | %s \"$@\"\n" % real)
    b = net.bundle(["/bin/true"], ports="%d:80" % random.randint(20000, 40000))
    b.write()
    cid = net.gk.new_id()
    p = sh(gkrun, "--root", net.gk.root, "run", "--bundle", b.path, cid, check=False)
    assert p.returncode != 0
    assert "gkrun: gkrun-net add: version %s does not match gkrun 0.0.9: install gkrun " \
        "and gkrun-net from the same build" % gk_version() in p.stderr, p.stderr
    assert_nothing_made(net, cid)
    # and asked directly
    p = subprocess.run([real, "del"], input='{"gkrunVersion": "0.0.9", "id": "x", '
                       '"stateDir": "/nonexistent"}', capture_output=True, text=True)
    assert p.returncode == 1
    assert "does not match gkrun 0.0.9" in json.loads(p.stdout)["error"]


def gk_version():
    return sh(GKRUN, "--version").stdout.split()[2]


def test_gkrun_net_del_is_idempotent(net):
    """del after a full teardown, and with no record at all, is success."""
    real = os.path.join(os.path.dirname(GKRUN), "gkrun-net")
    cid = net.start(net.bundle(["/bin/sleep", "100"]))
    state_dir = os.path.join(os.path.realpath(net.gk.root), cid)
    req = json.dumps({"gkrunVersion": gk_version(), "id": cid, "stateDir": state_dir})
    for _ in range(2):
        p = subprocess.run([real, "del"], input=req, capture_output=True, text=True)
        assert p.returncode == 0 and json.loads(p.stdout) == {}, p.stdout
        assert leases_of(net.gk.root) == {} and rules_of(cid) == []
        assert ports_of(net.bridge) == []
    # delete's own call then finds nothing left to do
    net.gk.gkrun("delete", "--force", cid, check=True)
    assert_all_gone(net, [cid])


def test_delete_of_a_container_made_before_gkrun_net(net):
    """A gkrun from before gkrun-net kept its networking record in
    state.json ("net": "v1 ...") and leases as ROOT\\nID\\nTAG: delete
    still removes the veth, rules, lease and files of such a container."""
    cid = net.start(net.bundle(["/bin/sleep", "100"], ports="%d:80" % random.randint(20000, 40000)))
    state_dir = os.path.join(os.path.realpath(net.gk.root), cid)
    with open(os.path.join(state_dir, "net.record")) as f:
        record = f.read()
    os.unlink(os.path.join(state_dir, "net.record"))
    with open(os.path.join(state_dir, "state.json")) as f:
        st = json.load(f)
    result = json.loads(st["net"])
    st["net"] = record
    with open(os.path.join(state_dir, "state.json"), "w") as f:
        json.dump(st, f)
    ip = result["ip"].split("/")[0]
    with open(os.path.join(LEASES, ip), "w") as f:
        f.write("%s\n%s\n%s\n" % (os.path.realpath(net.gk.root), cid, result["tag"]))
    assert link_exists(result["interface"]) and len(rules_of(cid)) == 8
    net.gk.gkrun("delete", "--force", cid, check=True)
    assert not link_exists(result["interface"])
    assert not os.path.exists(os.path.join(LEASES, ip))
    assert not os.path.exists(result["files"])
    assert_all_gone(net, [cid])
