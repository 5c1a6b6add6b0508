"""Containers without a mount namespace (no linux.namespaces at all, the
OCI validation suite's linux_ns_itype): they share their caller's mount
namespace, and create, exec and delete must leave none of their mounts
behind in it, even when create fails."""
import os
import subprocess

from conftest import GKRUN


# A container without a mount namespace mounts in its caller's namespace:
# these tests run gkrun only inside a throwaway one (`unshare -m`), so a bug
# cannot leave mounts on the host.  Made shared inside (fresh peer groups of
# its own, none with the host): delete must also remove the copies that
# propagate under a shared parent, and / must stay shared, not become a
# slave.
IN_THROWAWAY_NS = """
mount --make-rshared /
show() { echo "$1=$2"; }
under_bundle() { awk -v b="$B" 'index($5, b) == 1' /proc/self/mountinfo | wc -l; }
G="$GKRUN --root $ROOT"
"""


def run_in_throwaway_mount_ns(gk, b, cid, script):
    b.write()
    env = dict(os.environ, GKRUN=GKRUN, ROOT=gk.root, B=b.path, ID=cid)
    p = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                        IN_THROWAWAY_NS + script],
                       env=env, capture_output=True, text=True, timeout=120)
    vals = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
    return p, vals


def no_mount_ns_bundle(gk, args):
    b = gk.bundle(args, copy_rootfs=True)
    b.linux["namespaces"] = []
    del b.config["hostname"]
    with open(os.path.join(b.path, "rootfs", "gk-marker"), "w") as f:
        f.write("in the container's root\n")
    return b


def test_no_mount_namespace_shares_the_callers(gk):
    """No linux.namespaces at all (the suite's linux_ns_itype): the
    container is in its caller's mount namespace, chrooted in its rootfs,
    with masks and read-only paths; delete leaves no mount behind."""
    b = no_mount_ns_bundle(gk, ["/bin/sh", "-c",
                                "echo inside=$(readlink /proc/self/ns/mnt); "
                                "cat /gk-marker; cat /proc/kcore | wc -c; "
                                "echo x > /proc/sys/kernel/hostname 2>/dev/null || echo ro=yes"])
    cid = gk.new_id()
    p, v = run_in_throwaway_mount_ns(gk, b, cid, r"""
show caller "$(readlink /proc/self/ns/mnt)"
show root_before "$(awk '$5 == "/"' /proc/self/mountinfo | cut -d' ' -f7-)"
$G run --bundle "$B" "$ID"
show rc $?
show left "$(under_bundle)"
show root_after "$(awk '$5 == "/"' /proc/self/mountinfo | cut -d' ' -f7-)"
""")
    assert v.get("rc") == "0", p.stdout + p.stderr
    assert v["inside"] == v["caller"]
    assert "in the container's root" in p.stdout
    assert "\n0\n" in p.stdout, "/proc/kcore must be masked"
    assert v.get("ro") == "yes", "/proc/sys must be read-only"
    assert v["left"] == "0", "mounts left under the bundle"
    assert v["root_after"] == v["root_before"] and "shared:" in v["root_after"]


def test_no_mount_namespace_create_exec_delete(gk):
    """create, exec (chrooted like the init), delete --force of a running
    container: the mounts exist while it lives and are gone after."""
    b = no_mount_ns_bundle(gk, ["/bin/sleep", "100"])
    cid = gk.new_id()
    p, v = run_in_throwaway_mount_ns(gk, b, cid, r"""
$G create --bundle "$B" "$ID" || exit 1
pid=$($G state "$ID" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
show ctr "$(readlink /proc/$pid/ns/mnt)"
show caller "$(readlink /proc/self/ns/mnt)"
show during "$(under_bundle)"
$G start "$ID"
show exec "$($G exec "$ID" cat /gk-marker)"
$G delete --force "$ID"
show rc $?
show left "$(under_bundle)"
""")
    assert v.get("rc") == "0", p.stdout + p.stderr
    assert v["ctr"] == v["caller"]
    assert int(v["during"]) > 3, p.stdout
    assert v["exec"] == "in the container's root"
    assert v["left"] == "0", "mounts left under the bundle"


def test_no_mount_namespace_with_host_root_is_refused(gk):
    """root.path "/" without a mount namespace would put the config's
    mounts on the caller's own tree."""
    b = no_mount_ns_bundle(gk, ["/bin/true"])
    b.config["root"] = {"path": "/", "readonly": False}
    cid = gk.new_id()
    p, v = run_in_throwaway_mount_ns(gk, b, cid, r"""
$G run --bundle "$B" "$ID"
show rc $?
""")
    assert v.get("rc") not in (None, "0")
    assert "config.json: root.path: `/` needs a mount namespace" in p.stderr


def test_no_mount_namespace_failed_create_leaves_no_mount(gk):
    b = no_mount_ns_bundle(gk, ["/bin/nosuch"])
    b.config["mounts"].append({"destination": "/data", "type": "tmpfs", "source": "tmpfs"})
    b.config["hooks"] = {"createContainer": [{"path": "/bin/false"}]}
    cid = gk.new_id()
    p, v = run_in_throwaway_mount_ns(gk, b, cid, r"""
$G create --bundle "$B" "$ID"
show rc $?
show left "$(under_bundle)"
""")
    assert v.get("rc") not in (None, "0"), p.stdout + p.stderr
    assert "createContainer hook" in p.stderr
    assert v["left"] == "0", "mounts left under the bundle"
