"""Mount settings that change what the container gets (issue 17): idmapped
bind mounts ("idmap", "ridmap", a mount's own uidMappings/gidMappings),
observed by gk-probe inside and by stat on the host."""
import json
import os
import subprocess

import pytest

USERNS = [{"containerID": 0, "hostID": 100000, "size": 65536}]


def userns_bundle(gk, args):
    """A bundle with a user namespace (0 -> host 100000) and its own copy of
    the rootfs, owned by the container's root."""
    b = gk.bundle(args, copy_rootfs=True)
    subprocess.run(["chown", "-R", "100000:100000", os.path.join(b.path, "rootfs")], check=True)
    b.linux["namespaces"].append({"type": "user"})
    b.linux["uidMappings"] = list(USERNS)
    b.linux["gidMappings"] = list(USERNS)
    return b


def host_dir(gk, name, uid=0, gid=0):
    d = os.path.join(gk.workdir, name)
    os.makedirs(d)
    os.chown(d, uid, gid)
    os.chmod(d, 0o777)
    return d


def idmap_mount(src, dest, options=("bind", "idmap"), **extra):
    m = {"destination": dest, "type": "bind", "source": src, "options": list(options)}
    m.update(extra)
    return m


def test_idmap_shows_host_root_as_container_root(gk):
    src = host_dir(gk, "vol")
    b = userns_bundle(gk, ["/bin/sh", "-c", "gk-probe stat /tmp/vol; touch /tmp/vol/new"])
    b.config["mounts"].append(idmap_mount(src, "/tmp/vol"))
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    uid, gid, mode = p.stdout.split()
    assert (uid, gid) == ("0", "0")
    st = os.stat(os.path.join(src, "new"))
    # made by the container's root (host 100000), owned by host root on disk
    assert (st.st_uid, st.st_gid) == (0, 0)


def test_idmap_with_ro_is_read_only(gk):
    """The bind's other options still apply to the idmapped tree."""
    src = host_dir(gk, "vol")
    b = userns_bundle(gk, ["/bin/sh", "-c",
                           "gk-probe stat /tmp/vol; touch /tmp/vol/new 2>&1 | grep -c Read-only"])
    b.config["mounts"].append(idmap_mount(src, "/tmp/vol", options=("bind", "idmap", "ro")))
    p = gk.run(b)
    assert p.stdout.split()[:2] == ["0", "0"], p.stderr
    assert p.stdout.split()[3] == "1", p.stdout
    assert not os.path.exists(os.path.join(src, "new"))


def test_without_idmap_the_same_directory_is_nobodys(gk):
    """The control: the same bind without idmap shows the overflow id."""
    src = host_dir(gk, "vol")
    b = userns_bundle(gk, ["/bin/sh", "-c", "gk-probe stat /tmp/vol"])
    b.config["mounts"].append(idmap_mount(src, "/tmp/vol", options=("bind",)))
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[:2] == ["65534", "65534"]


def test_mount_mappings_are_its_own(gk):
    """Mappings on the mount: disk id 0 is host 100005, container uid 5;
    disk 7 (gid) is host 100009, container gid 9."""
    src = host_dir(gk, "vol", uid=0, gid=7)
    b = userns_bundle(gk, ["/bin/sh", "-c", "gk-probe stat /tmp/vol; touch /tmp/vol/new"])
    b.config["mounts"].append(idmap_mount(
        src, "/tmp/vol",
        uidMappings=[{"containerID": 0, "hostID": 100005, "size": 10}],
        gidMappings=[{"containerID": 7, "hostID": 100009, "size": 1},
                     {"containerID": 0, "hostID": 100000, "size": 1}]))
    p = gk.run(b)
    assert p.stdout.split()[:2] == ["5", "9"], p.stderr
    # the container's root (host 100000) has no disk id through these
    # mappings: it cannot create a file there
    assert "Value too large" in p.stderr
    assert not os.path.exists(os.path.join(src, "new"))


def test_mappings_without_idmap_option_idmap_the_mount(gk):
    """runc: uidMappings/gidMappings alone make the mount idmapped."""
    src = host_dir(gk, "vol", uid=3, gid=4)
    b = userns_bundle(gk, ["/bin/sh", "-c", "gk-probe stat /tmp/vol"])
    b.config["mounts"].append(idmap_mount(
        src, "/tmp/vol", options=("bind",),
        uidMappings=[{"containerID": 0, "hostID": 100000, "size": 100}],
        gidMappings=[{"containerID": 0, "hostID": 100000, "size": 100}]))
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split()[:2] == ["3", "4"]


@pytest.fixture
def submount(gk):
    """A host directory with a tmpfs (owned by root) mounted on sub/."""
    src = host_dir(gk, "vol")
    sub = os.path.join(src, "sub")
    os.mkdir(sub)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "gkt-sub", sub], check=True)
    yield src
    subprocess.run(["umount", "-l", sub])


@pytest.mark.parametrize("option,want", [("ridmap", "0"), ("idmap", "65534")])
def test_ridmap_covers_submounts(gk, submount, option, want):
    b = userns_bundle(gk, ["/bin/sh", "-c", "gk-probe stat /tmp/vol; gk-probe stat /tmp/vol/sub"])
    b.config["mounts"].append(idmap_mount(submount, "/tmp/vol", options=("rbind", option)))
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    top, sub = p.stdout.splitlines()
    assert top.split()[0] == "0"
    assert sub.split()[0] == want


def mounts_under(path):
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(path)]


def test_idmap_of_a_filesystem_that_cannot_is_refused(gk):
    """sysfs has no FS_ALLOW_IDMAP: the mount is named, with the reason, and
    create leaves no state, process or mount behind."""
    b = userns_bundle(gk, ["/bin/true"])
    b.config["mounts"].append(idmap_mount("/sys/kernel", "/tmp/k"))
    before = mounts_under("/")
    p = gk.gkrun("create", "--bundle", b.write(), gk.new_id())
    assert p.returncode != 0
    msg = p.stderr.strip()
    assert msg.startswith("gkrun: config.json: mounts[%d]: `/tmp/k`: cannot idmap `/sys/kernel`"
                          % (len(b.config["mounts"]) - 1)), msg
    assert "does not support idmapped mounts" in msg, msg
    assert gk.gkrun("list", "-q").stdout.split() == []
    assert mounts_under("/") == before


@pytest.mark.parametrize("change,words", [
    (lambda m, b: m.update(type="tmpfs", source="tmpfs", options=["idmap"]),
     "only supported for bind mounts"),
    (lambda m, b: [b.linux.pop("uidMappings"), b.linux.pop("gidMappings"), b.linux.update(
        namespaces=[n for n in b.linux["namespaces"] if n["type"] != "user"])],
     "there is no user namespace"),
])
def test_idmap_refusals_name_the_mount(gk, change, words):
    src = host_dir(gk, "vol")
    b = userns_bundle(gk, ["/bin/true"])
    m = idmap_mount(src, "/tmp/vol")
    b.config["mounts"].append(m)
    change(m, b)
    p = gk.run(b)
    assert p.returncode != 0
    assert "config.json: mounts[%d]: `/tmp/vol`: " % (len(b.config["mounts"]) - 1) in p.stderr
    assert words in p.stderr, p.stderr


def kernel_has_idmap():
    """mount_setattr(MOUNT_ATTR_IDMAP) with a closed userns fd: EBADF when the
    kernel knows the attribute (asked here through ctypes, not gkrun)."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    attr = (ctypes.c_uint64 * 4)(0x00100000, 0, 0, 2**31 - 1)  # set, clr, propagation, userns
    r = libc.syscall(442, -1, b"", 0x1000, ctypes.byref(attr), ctypes.sizeof(attr))
    return r < 0 and ctypes.get_errno() == 9


def test_features_lists_idmap_when_the_kernel_has_it(gk):
    import json
    f = json.loads(gk.gkrun("features", check=True).stdout)
    has = kernel_has_idmap()
    assert f["linux"]["mountExtensions"]["idmap"]["enabled"] is has
    assert ("idmap" in f["mountOptions"]) is has
    assert ("ridmap" in f["mountOptions"]) is has


# --- tmpcopyup ------------------------------------------------------------------

def populate(rootfs):
    """rootfs/data: what a tmpcopyup tmpfs on /data must start with."""
    d = os.path.join(rootfs, "data")
    os.makedirs(os.path.join(d, "sub", "deeper"))
    with open(os.path.join(d, "a"), "w") as f:
        f.write("hello\n")
    os.chmod(os.path.join(d, "a"), 0o640)
    os.chown(os.path.join(d, "a"), 1000, 1001)
    os.setxattr(os.path.join(d, "a"), "user.gk", b"kept")
    os.link(os.path.join(d, "a"), os.path.join(d, "hard"))
    with open(os.path.join(d, "sub", "deeper", "b"), "w") as f:
        f.write("x" * 100000)
    os.chmod(os.path.join(d, "sub", "deeper", "b"), 0o4755)
    os.chown(os.path.join(d, "sub"), 2, 3)
    os.chmod(os.path.join(d, "sub"), 0o750)
    os.chmod(os.path.join(d, "sub", "deeper"), 0o500)  # filled before its mode is set
    os.symlink("/etc/passwd", os.path.join(d, "abs"))
    os.symlink("../../etc", os.path.join(d, "sub", "rel"))
    os.lchown(os.path.join(d, "abs"), 7, 8)
    os.mkfifo(os.path.join(d, "fifo"))
    os.chmod(os.path.join(d, "fifo"), 0o620)
    os.chmod(d, 0o711)
    os.chown(d, 5, 6)


def copyup_config(cfg):
    cfg["mounts"].append({"destination": "/data", "type": "tmpfs", "source": "tmpfs",
                          "options": ["tmpcopyup", "nosuid"]})
    cfg["mounts"].append({"destination": "/nodir", "type": "tmpfs", "source": "tmpfs",
                          "options": ["tmpcopyup"]})
    cfg["process"]["args"] = ["/bin/sh", "-c",
                              "gk-probe stat /data; gk-probe tree /data; echo --;"
                              " gk-probe tree /nodir; gk-probe stat /nodir;"
                              " grep -c ' /data tmpfs' /proc/self/mounts"]
    cfg["root"]["readonly"] = False
    return cfg


def run_crun(workdir, bundle):
    from orch import remove_cgroup_tree
    from test_differential import crun_command
    import uuid
    cmd = crun_command(workdir)
    if not cmd:
        pytest.skip("no crun")
    cid = "gkm-" + uuid.uuid4().hex[:10]
    parent = "/gkt-mounts-" + uuid.uuid4().hex[:8]
    root = os.path.join(workdir, "crun-state")
    with open(os.path.join(bundle, "config.json")) as f:
        cfg = json.load(f)
    cfg["linux"]["cgroupsPath"] = parent + "/" + cid
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(cfg, f)
    try:
        return subprocess.run(cmd + ["--root", root, "run", "--bundle", bundle, cid],
                              capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    finally:
        subprocess.run(cmd + ["--root", root, "delete", "--force", cid], capture_output=True)
        remove_cgroup_tree(parent)


# The tmpfs's own root keeps its mount options' mode and owner, as crun's.
EXPECTED_TREE = """\
0 0 41777
a f 0640 1000:1001 size=6 xattr user.gk=kept
abs l 0777 7:8 -> /etc/passwd
fifo o 0620 0:0
hard f 0640 1000:1001 size=6 link=a xattr user.gk=kept
sub d 0750 2:3
sub/deeper d 0500 0:0
sub/deeper/b f 4755 0:0 size=100000
sub/rel l 0777 0:0 -> ../../etc
--
0 0 41777
1
"""


def test_tmpcopyup_copies_the_directory_under_it(gk):
    b = gk.bundle(copy_rootfs=True)
    populate(os.path.join(b.path, "rootfs"))
    copyup_config(b.config)
    p = gk.run(b)
    assert p.returncode == 0, p.stderr
    assert p.stdout == EXPECTED_TREE
    # the rootfs itself is unchanged
    assert sorted(os.listdir(os.path.join(b.path, "rootfs", "data"))) == \
        ["a", "abs", "fifo", "hard", "sub"]


def test_tmpcopyup_sees_what_crun_sees(gk):
    """Against crun 1.8: the same listing, but for the hard link, which
    crun copies as a second file (gkrun keeps the link)."""
    b = gk.bundle(copy_rootfs=True)
    populate(os.path.join(b.path, "rootfs"))
    copyup_config(b.config)
    b.write()
    ours = gk.run(b)
    theirs = run_crun(gk.workdir, b.path)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.stdout.replace(" link=a", "") == theirs.stdout.replace(" link=a", "")


def test_tmpcopyup_read_only(gk):
    """ro: filled first, then read-only."""
    b = gk.bundle(["/bin/sh", "-c", "cat /data/a; touch /data/new 2>&1 | grep -c Read-only"],
                  copy_rootfs=True)
    populate(os.path.join(b.path, "rootfs"))
    b.config["mounts"].append({"destination": "/data", "type": "tmpfs", "source": "tmpfs",
                               "options": ["tmpcopyup", "ro"]})
    p = gk.run(b)
    assert p.stdout.split() == ["hello", "1"], p.stderr


def test_tmpcopyup_only_on_tmpfs(gk):
    b = gk.bundle()
    b.config["mounts"].append({"destination": "/tmp/x", "type": "bind", "source": gk.workdir,
                               "options": ["bind", "tmpcopyup"]})
    p = gk.run(b)
    assert p.returncode != 0
    assert "config.json: mounts[%d]: `/tmp/x`: tmpcopyup is only for tmpfs mounts" % (
        len(b.config["mounts"]) - 1) in p.stderr, p.stderr


# --- relative destinations ---------------------------------------------------------

RUNC = "/usr/sbin/runc"


@pytest.mark.parametrize("runtime", ["gkrun", "runc"])
def test_relative_destination_is_taken_from_root_with_a_warning(gk, tmp_path, runtime):
    """runc 1.1 mounts a relative destination from / and logs a warning; so
    does gkrun (stderr and the --log file, level warning)."""
    from conftest import GKRUN
    log = tmp_path / "rt.log"
    b = gk.bundle(["/bin/sh", "-c", "grep ' /scratch ' /proc/self/mounts | cut -d' ' -f3"])
    b.config["mounts"].append({"destination": "scratch", "type": "tmpfs", "source": "tmpfs",
                               "options": ["size=1m"]})
    p = gk.gkrun("--log", str(log), "--log-format", "json", "run", "--bundle", b.write(),
                 gk.new_id(), binary=GKRUN if runtime == "gkrun" else RUNC)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["tmpfs"]
    warned = [e["msg"] for e in map(json.loads, log.read_text().splitlines())
              if e.get("level") == "warning"]
    assert any("scratch" in w and "not absolute" in w for w in warned), warned
    if runtime == "gkrun":  # runc's warnings go to its log alone
        assert p.stderr.splitlines() == [
            "gkrun: warning: config.json: mounts[%d].destination: `scratch` is not absolute;"
            " taken as `/scratch` (relative destinations may be refused in future)"
            % (len(b.config["mounts"]) - 1)]


# --- linux.mountLabel --------------------------------------------------------------

SELINUX = os.path.exists("/sys/fs/selinux/enforce")


@pytest.mark.skipif(SELINUX, reason="the host has SELinux: the label is applied")
@pytest.mark.parametrize("runtime", ["gkrun", "runc"])
def test_mount_label_without_selinux_is_refused(gk, runtime):
    """The label would go into the mounts' context= option, which a kernel
    without SELinux refuses: runc fails at that mount, gkrun at create,
    naming the field."""
    from conftest import GKRUN
    b = gk.bundle(["/bin/true"])
    b.linux["mountLabel"] = "system_u:object_r:container_file_t:s0:c1,c2"
    cid = gk.new_id()
    p = gk.gkrun("run", "--bundle", b.write(), cid,
                 binary=GKRUN if runtime == "gkrun" else RUNC)
    assert p.returncode != 0
    if runtime == "gkrun":
        assert p.stderr == (
            'gkrun: config.json: linux.mountLabel: "system_u:object_r:container_file_t:s0:c1,c2"'
            " requested but SELinux is not enabled on this host (it would be the mounts'"
            " context= option)\n")
        assert gk.gkrun("list", "-q").stdout.split() == []
    b.linux["mountLabel"] = ""  # empty: no label, as runc
    p = gk.gkrun("run", "--bundle", b.write(), gk.new_id(),
                 binary=GKRUN if runtime == "gkrun" else RUNC)
    assert p.returncode == 0, p.stderr
