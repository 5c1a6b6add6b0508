"""Where an image runs under runc it must run under gkrun too, and fail the
same way where runc fails: a process.cwd the image lacks (made, as a pod's
workingDir is) and the lookup of args[0] without a PATH in process.env (no
built-in default).  Each test runs against runc and gkrun alike."""
import json
import os
import shutil
import stat
import tempfile

import pytest

from conftest import base_config
from orch import RuntimeUnderTest, runtime_fixture


class Runtime(RuntimeUnderTest):
    id_prefix = "gkp-"

    def __call__(self, *args, check=False):
        p = super().__call__(*args, check=check)
        # runc logs its message quoted: msg="... exec: \"sleep\": ..."
        p.stderr = p.stderr.replace('\\"', '"')
        return p

    def bundle(self, args, cwd="/", env=None, readonly=False):
        """A bundle with its own copy of the rootfs (the tests make
        directories in it); returns (bundle dir, config dict, rootfs)."""
        path = tempfile.mkdtemp(dir=self.workdir, prefix="bundle-")
        os.chmod(path, 0o755)
        rootfs = os.path.join(path, "rootfs")
        shutil.copytree(self.rootfs, rootfs, symlinks=True)
        cfg = base_config(args, "rootfs")
        cfg["root"]["readonly"] = readonly
        cfg["process"]["cwd"] = cwd
        if env is not None:
            cfg["process"]["env"] = env
        return path, cfg, rootfs

    def run(self, path, cfg, *extra):
        with open(os.path.join(path, "config.json"), "w") as f:
            json.dump(cfg, f)
        cid = self.new_id()
        return self(*(extra[:1] or ("run",)), "--bundle", path, *extra[1:], cid), cid


rt = runtime_fixture(Runtime, "gk-parity-")


def without_tmp_mount(cfg):
    """The host's /tmp paths then lead to the same paths in the rootfs."""
    cfg["mounts"] = [m for m in cfg["mounts"] if m["destination"] != "/tmp"]
    return cfg


def owner_and_mode(path):
    st = os.lstat(path)
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode), stat.S_ISDIR(st.st_mode)


# --- process.cwd the image lacks -------------------------------------------------

@pytest.mark.parametrize("readonly", [False, True], ids=["rw", "readonly-root"])
@pytest.mark.parametrize("user", [None, {"uid": 1000, "gid": 1000, "umask": 0o077}],
                         ids=["root", "user-umask077"])
def test_missing_cwd_is_made_root_owned_0755(rt, readonly, user):
    """As a pod's workingDir: made before the root turns read-only, owned
    by root and 0755 whatever the process's user and umask, and entered."""
    path, cfg, rootfs = rt.bundle(["pwd"], cwd="/app/data/x", readonly=readonly)
    if user:
        cfg["process"]["user"] = user
    p, _ = rt.run(path, cfg)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "/app/data/x"
    for d in ("app", "app/data", "app/data/x"):
        assert owner_and_mode(os.path.join(rootfs, d)) == (0, 0, 0o755, True), d


def test_missing_cwd_with_dotdot_stays_in_root(rt):
    path, cfg, rootfs = rt.bundle(["pwd"], cwd="/../../app/../app/data")
    p, _ = rt.run(path, cfg)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "/app/data"
    assert owner_and_mode(os.path.join(rootfs, "app/data")) == (0, 0, 0o755, True)


def test_missing_cwd_is_made_in_its_mount(rt):
    """After the mounts: a cwd in the /tmp tmpfs is made there, not in the
    image's /tmp below it."""
    path, cfg, rootfs = rt.bundle(["pwd"], cwd="/tmp/a/b")
    p, _ = rt.run(path, cfg)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "/tmp/a/b"
    assert not os.path.lexists(os.path.join(rootfs, "tmp/a"))


def test_missing_cwd_is_made_at_create(rt):
    path, cfg, rootfs = rt.bundle(["true"], cwd="/srv/www")
    p, cid = rt.run(path, cfg, "create")
    assert p.returncode == 0, p.stderr
    assert owner_and_mode(os.path.join(rootfs, "srv/www")) == (0, 0, 0o755, True)
    assert rt("start", cid).returncode == 0


def test_missing_cwd_on_a_readonly_mount_fails(rt):
    """Nothing can be made: the create fails naming the directory and the
    reason, as runc's "mkdir /ro/x: read-only file system"."""
    src = tempfile.mkdtemp(dir=rt.workdir, prefix="ro-")
    path, cfg, _ = rt.bundle(["pwd"], cwd="/ro/x")
    cfg["mounts"].append({"destination": "/ro", "type": "bind", "source": src,
                          "options": ["rbind", "ro"]})
    p, _ = rt.run(path, cfg)
    assert p.returncode == 1, p.stdout
    assert p.stdout == ""
    assert "mkdir" in p.stderr and "/ro/x" in p.stderr, p.stderr
    assert "read-only file system" in p.stderr.lower(), p.stderr
    assert os.listdir(src) == []


@pytest.mark.parametrize("link", ["abs", "rel"])
def test_cwd_symlink_is_followed_inside_the_root(rt, link):
    """A symlink on the way leads where it leads inside the root: the host
    directory of the same name is left alone."""
    outside = tempfile.mkdtemp(dir=rt.workdir, prefix="outside-")
    path, cfg, rootfs = rt.bundle(["pwd"], cwd="/lnk/sub")
    without_tmp_mount(cfg)
    os.makedirs(rootfs + outside)
    os.symlink(outside if link == "abs" else "../../../../../../../.." + outside,
               os.path.join(rootfs, "lnk"))
    p, _ = rt.run(path, cfg)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == outside + "/sub"
    assert owner_and_mode(rootfs + outside + "/sub") == (0, 0, 0o755, True)
    assert os.listdir(outside) == []


@pytest.mark.parametrize("link", ["abs", "rel"])
def test_cwd_symlink_to_a_missing_directory_fails(rt, link):
    """A symlink whose target the root lacks (only the host has it) is
    not followed to make the target: runc's "mkdir /lnk: file exists"."""
    outside = tempfile.mkdtemp(dir=rt.workdir, prefix="outside-")
    path, cfg, rootfs = rt.bundle(["pwd"], cwd="/lnk/sub")
    without_tmp_mount(cfg)
    os.symlink(outside if link == "abs" else "../../../../../../../.." + outside,
               os.path.join(rootfs, "lnk"))
    p, _ = rt.run(path, cfg)
    assert p.returncode == 1, p.stdout
    assert "mkdir" in p.stderr and "/lnk" in p.stderr, p.stderr
    assert "file exists" in p.stderr.lower(), p.stderr
    assert os.listdir(outside) == []
    assert not os.path.lexists(rootfs + outside)


def test_exec_cwd_is_not_made(rt):
    """runc exec does not make a missing --cwd: it fails with the chdir.
    (The status differs: runc exec exits 255 on a setup error, gkrun 1.)"""
    path, cfg, rootfs = rt.bundle(["sleep", "100"])
    p, cid = rt.run(path, cfg, "run", "-d")
    assert p.returncode == 0, p.stderr
    p = rt("exec", "--cwd", "/missing/x", cid, "pwd")
    assert p.returncode != 0 and p.stdout == ""
    assert 'chdir to cwd ("/missing/x") set in config.json failed: no such file or directory' \
        in p.stderr.lower(), p.stderr
    assert not os.path.lexists(os.path.join(rootfs, "missing"))


# --- args[0] without PATH ---------------------------------------------------------

NOT_FOUND = 'exec: "sleep": executable file not found in $PATH'


@pytest.mark.parametrize("env", [["TERM=xterm"], ["PATH="]], ids=["no-PATH", "empty-PATH"])
@pytest.mark.parametrize("verb", ["run", "create"])
def test_no_path_finds_nothing(rt, env, verb):
    """No built-in PATH: a create-time error, in runc's words."""
    path, cfg, _ = rt.bundle(["sleep", "0"], env=env)
    p, cid = rt.run(path, cfg, verb)
    assert p.returncode == 1, p.stdout
    assert NOT_FOUND in p.stderr, p.stderr
    assert rt("state", cid).returncode != 0


def test_relative_path_entry_is_refused(rt):
    """An empty entry of PATH is the cwd; what it finds is refused, as Go's
    exec.LookPath (runc's) refuses it."""
    path, cfg, _ = rt.bundle(["sleep", "0"], cwd="/bin", env=["PATH=/nonexistent:"])
    p, _ = rt.run(path, cfg)
    assert p.returncode == 1, p.stdout
    assert 'exec: "sleep": cannot run executable found relative to current directory' \
        in p.stderr, p.stderr


@pytest.mark.parametrize("arg0", ["/bin/sleep", "./sleep"])
def test_path_with_a_slash_needs_no_path(rt, arg0):
    """A name with a slash is not searched, a relative one is taken from
    process.cwd."""
    path, cfg, _ = rt.bundle([arg0, "0"], cwd="/bin", env=[])
    p, _ = rt.run(path, cfg)
    assert p.returncode == 0, p.stderr


def test_exec_without_path_finds_nothing(rt):
    path, cfg, _ = rt.bundle(["/bin/sleep", "100"], env=["TERM=xterm"])
    p, cid = rt.run(path, cfg, "run", "-d")
    assert p.returncode == 0, p.stderr
    p = rt("exec", cid, "sleep", "0")
    assert p.returncode != 0 and NOT_FOUND in p.stderr, p.stderr
    p = rt("exec", "--env", "PATH=/bin", cid, "sleep", "0")
    assert p.returncode == 0, p.stderr
