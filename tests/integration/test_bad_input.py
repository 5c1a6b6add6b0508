"""Clear errors for bad input, and nothing left behind: every config.json
field with a wrong type or value (a table: field path, value, the message),
config.json that is not JSON, gkrun's command-line misuse, and gkimg
against a registry answering garbage.  Each case exits non-zero with a
message naming the field or the thing and the reason, within a timeout,
and with no sanitizer report (the SAN=1 build runs the same tests)."""
import http.server
import json
import os
import re
import shutil
import socket
import tempfile

import pytest

import gkregistry as gr
import gkcli
from conftest import cgroup_dirs
from gkimage import Image

SAN_MARKS = ("Sanitizer", "runtime error:", "LeakSanitizer")


def assert_clean_failure(p, message):
    assert p.returncode not in (0, None), p.stdout
    assert p.returncode < 128, "killed by a signal: %d\n%s" % (p.returncode, p.stderr)
    assert message in p.stderr, p.stderr
    for mark in SAN_MARKS:
        assert mark not in p.stderr, p.stderr


# --- config.json fields ---------------------------------------------------------

# (field path, wrong value, message after "config.json: ")
FIELDS = [
    ("ociVersion", 1, "ociVersion: must be a string"),
    ("process", "x", "process: must be an object"),
    ("process.args", "sh", "process.args: must be a non-empty array"),
    ("process.args", [], "process.args: must be a non-empty array"),
    ("process.args", [1], "process.args[0]: must be a string"),
    ("process.env", "A=B", "process.env: must be an array of strings"),
    ("process.env", [1], "process.env[0]: must be a string"),
    ("process.cwd", 5, "process.cwd: must be a string"),
    ("process.cwd", "relative", "process.cwd: must be an absolute path"),
    ("process.terminal", "yes", "process.terminal: must be a boolean"),
    ("process.user", [], "process.user: must be an object"),
    ("process.user.uid", "0", "process.user.uid: must be a non-negative integer"),
    ("process.user.uid", -1, "process.user.uid: must be a non-negative integer"),
    ("process.user.uid", 2 ** 70, "process.user.uid: must be a non-negative integer"),
    ("process.user.gid", 1.5, "process.user.gid: must be a non-negative integer"),
    ("process.user.umask", "022", "process.user.umask: must be a non-negative integer"),
    ("process.user.additionalGids", [-1], "process.user.additionalGids[0]: must be a non-negative integer"),
    ("process.capabilities", [], "process.capabilities: must be an object"),
    ("process.capabilities.bounding", "CAP_KILL", "process.capabilities.bounding: must be an array of strings"),
    ("process.capabilities.effective", ["CAP_NOPE"], 'process.capabilities.effective[0]: unknown capability "CAP_NOPE"'),
    ("process.rlimits", {}, "process.rlimits: must be an array"),
    ("process.rlimits[0].type", "RLIMIT_NOPE", 'process.rlimits[0].type: unknown rlimit "RLIMIT_NOPE"'),
    ("process.rlimits[0].soft", "1", "process.rlimits[0].soft: must be a non-negative integer"),
    ("process.noNewPrivileges", 1, "process.noNewPrivileges: must be a boolean"),
    ("process.oomScoreAdj", 5000, "process.oomScoreAdj: must be between -1000 and 1000"),
    ("process.consoleSize", {"height": "x", "width": 1}, "process.consoleSize.height: must be a non-negative integer"),
    ("process.apparmorProfile", 3, "process.apparmorProfile: must be a string"),
    ("root", "rootfs", "root: must be an object"),
    ("root.path", 7, "root.path: must be a string"),
    ("root.readonly", "true", "root.readonly: must be a boolean"),
    ("hostname", 5, "hostname: must be a string"),
    ("domainname", [], "domainname: must be a string"),
    ("mounts", {}, "mounts: must be an array"),
    ("mounts[0]", "proc", "mounts[0]: must be an object"),
    ("mounts[0].destination", 5, "mounts[0].destination: must be a string"),
    ("mounts[0].options", "ro", "mounts[0].options: must be an array of strings"),
    ("mounts[0].type", [], "mounts[0].type: must be a string"),
    ("hooks", [], "hooks: must be an object"),
    ("hooks.prestart", {}, "hooks.prestart: must be an array"),
    ("hooks.prestart", [{"path": 5}], "hooks.prestart[0].path: must be a string"),
    ("hooks.poststart", [{"path": "/bin/true", "timeout": "x"}], "hooks.poststart[0].timeout: must be an integer"),
    ("annotations", [], "annotations: must be an object"),
    ("annotations", {"a": 1}, 'annotations["a"]: must be a string'),
    ("linux", [], "linux: must be an object"),
    ("linux.namespaces", {}, "linux.namespaces: must be an array"),
    ("linux.namespaces[0].type", "nope", 'linux.namespaces[0].type: unknown namespace "nope"'),
    ("linux.namespaces[0]", {"type": 5}, "linux.namespaces[0].type: must be a string"),
    ("linux.uidMappings", [{"containerID": "0", "hostID": 0, "size": 1}], "linux.uidMappings[0].containerID: must be a non-negative integer"),
    ("linux.devices", [{"path": 5, "type": "c"}], "linux.devices[0].path: must be a string"),
    ("linux.devices", [{"path": "/dev/x", "type": "z", "major": 1, "minor": 1}], 'linux.devices[0].type: unknown device type "z"'),
    ("linux.maskedPaths", "/proc/kcore", "linux.maskedPaths: must be an array of strings"),
    ("linux.readonlyPaths", [1], "linux.readonlyPaths[0]: must be a string"),
    ("linux.sysctl", [], "linux.sysctl: must be an object"),
    ("linux.sysctl", {"kernel.x": 1}, 'linux.sysctl["kernel.x"]: must be a string'),
    ("linux.resources", [], "linux.resources: must be an object"),
    ("linux.resources.memory.limit", "1g", "linux.resources.memory.limit: must be an integer"),
    ("linux.resources.cpu.shares", -5, "linux.resources.cpu.shares: must be a non-negative integer"),
    ("linux.resources.pids.limit", "x", "linux.resources.pids.limit: must be an integer"),
    ("linux.resources.devices", {}, "linux.resources.devices: must be an array"),
    ("linux.cgroupsPath", 5, "linux.cgroupsPath: must be a string"),
    ("linux.seccomp", [], "linux.seccomp: must be an object"),
    ("linux.seccomp.defaultAction", 5, "linux.seccomp.defaultAction: must be a string"),
    ("linux.rootfsPropagation", "sideways", 'linux.rootfsPropagation: unknown propagation "sideways"'),
    ("linux.mountLabel", 5, "linux.mountLabel: must be a string"),
    ("linux.personality", {"domain": 5}, "linux.personality.domain: must be a string"),
    ("linux.intelRdt", 5, "linux.intelRdt: must be an object"),
    ("linux.timeOffsets", 5, "linux.timeOffsets: must be an object"),
]


def set_path(cfg, path, value):
    """Sets PATH ("a.b[0].c") in CFG to VALUE, making what is missing."""
    parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
    cur = cfg
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        key = int(part[1:-1]) if part.startswith("[") else part
        if isinstance(key, int):
            while len(cur) <= key:
                cur.append({})
        elif not last and not isinstance(cur.get(key), (dict, list)):
            cur[key] = [] if parts[i + 1].startswith("[") else {}
        if last:
            cur[key] = value
        else:
            if isinstance(key, int) and not isinstance(cur[key], (dict, list)):
                cur[key] = {}
            cur = cur[key]


def assert_nothing_created(gk, cid):
    assert not os.path.exists(os.path.join(gk.root, cid))
    assert cgroup_dirs(cid) == []
    assert gk.gkrun("list", "-q").stdout.strip() == ""


@pytest.mark.parametrize("path,value,message", FIELDS,
                         ids=["%s=%s" % (f[0], json.dumps(f[1])[:20]) for f in FIELDS])
def test_config_field_with_wrong_type_or_value(gk, path, value, message):
    b = gk.bundle()
    set_path(b.config, path, value)
    cid = gk.new_id()
    p = gk.run(b, cid=cid, timeout=30)
    assert_clean_failure(p, "gkrun: config.json: " + message)
    assert_nothing_created(gk, cid)


RAW_CONFIGS = [
    (b"", "config.json: invalid JSON"),
    (b"{", "config.json: invalid JSON"),
    (b'{"ociVersion": "1.0.2"', "config.json: invalid JSON"),
    (b"\xff\xfe{}", "config.json: invalid JSON"),
    (b"[]", "config.json: must be a JSON object"),
    (b"null", "config.json: must be a JSON object"),
    (b"[" * 100000 + b"]" * 100000, "config.json: invalid JSON: nested deeper than"),
    (b'{"ociVersion": "1.0.2"}', "config.json: root: required"),
]


@pytest.mark.parametrize("raw,message", RAW_CONFIGS, ids=range(len(RAW_CONFIGS)))
def test_config_that_is_not_a_config(gk, raw, message):
    b = gk.bundle()
    with open(os.path.join(b.path, "config.json"), "wb") as f:
        f.write(raw)
    cid = gk.new_id()
    p = gk.gkrun("create", "--bundle", b.path, cid, timeout=30)
    assert_clean_failure(p, message)
    assert_nothing_created(gk, cid)


def test_missing_config(gk):
    b = gk.bundle()
    cid = gk.new_id()
    p = gk.gkrun("create", "--bundle", b.path, cid, timeout=30)
    assert_clean_failure(p, "config.json`: No such file or directory")
    assert_nothing_created(gk, cid)


# --- gkrun's command line ----------------------------------------------------------

CLI = [
    (["--nope", "list"], "gkrun: flag provided but not defined: -nope"),
    (["--root"], "gkrun: flag needs an argument: -root"),
    (["--log-format", "xml", "list"], "gkrun: invalid value for --log-format: want text or json"),
    (["--rootless", "maybe", "list"], "invalid value for --rootless: want true, false or auto"),
    (["nosuchcmd"], 'gkrun: unknown command "nosuchcmd"'),
    ([], "usage: gkrun"),
    (["create", "--nope", "x"], "gkrun: create: flag provided but not defined: -nope"),
    (["create", "--bundle"], "gkrun: create: flag needs an argument: -bundle"),
    (["create", "--preserve-fds", "x", "y"], 'create: invalid value "x" for -preserve-fds: must be an integer'),
    (["create", "--preserve-fds", "-1", "y"], "create: --preserve-fds: must not be negative"),
    (["create", "--bundle", "/nonexistent-gk", "y"], "bundle `/nonexistent-gk`: No such file or directory"),
    (["create"], "create: requires exactly 1 argument: the container id"),
    (["start"], "start: requires exactly 1 argument: the container id"),
    (["state"], "state: requires exactly 1 argument: the container id"),
    (["delete"], "delete: requires exactly 1 argument: the container id"),
    (["kill"], "kill: requires 1 or 2 arguments: ID [SIGNAL]"),
    (["exec"], "exec: requires the container id"),
    (["state", "a/b"], "invalid id format: a/b"),
    (["start", "nosuch"], 'container "nosuch" does not exist'),
    (["list", "--format", "yaml"], 'list: invalid format option "yaml"'),
    (["run", "--pid-file"], "run: flag needs an argument: -pid-file"),
]


@pytest.mark.parametrize("args,message", CLI, ids=[" ".join(c[0]) or "none" for c in CLI])
def test_cli_misuse(gk, args, message):
    p = gk.gkrun(*args, timeout=30)
    assert_clean_failure(p, message)
    assert not os.path.exists(os.path.join(gk.root, "y"))


CLI_ON_CONTAINER = [
    (["kill", "ID", "SIGNOPE"], 'unknown signal "SIGNOPE"'),
    (["kill", "ID", "99"], 'unknown signal "99"'),
    (["kill", "ID", "-1"], 'unknown signal "-1"'),
    (["kill", "ID", ""], 'unknown signal ""'),
    (["kill", "ID", "TERM", "extra"], "kill: requires 1 or 2 arguments"),
    (["kill", "--all=maybe", "ID"], 'kill: invalid boolean value "maybe" for -all'),
    (["exec", "ID"], "exec: args must not be empty"),
    (["ps", "--format", "x", "ID"], 'ps: invalid format option "x"'),
    (["update", "--memory", "lots", "ID"], 'update: invalid value "lots" for --memory'),
    (["events", "--interval", "never", "ID"], 'events: invalid value "never" for --interval'),
    (["start", "ID"], "cannot start an already running container"),
    (["delete", "ID"], "not stopped"),
]


def test_cli_misuse_on_a_container_leaves_it_running(gk):
    cid = gk.create(gk.bundle(["/bin/sleep", "100"]))
    gk.gkrun("start", cid, check=True)
    pid = gk.state(cid)["pid"]
    for args, message in CLI_ON_CONTAINER:
        p = gk.gkrun(*[cid if a == "ID" else a for a in args], timeout=30)
        assert_clean_failure(p, message)
        st = gk.state(cid)
        assert st["status"] == "running" and st["pid"] == pid, args


# --- gkimg against a registry answering garbage ----------------------------------

class JunkHandler(http.server.BaseHTTPRequestHandler):
    """A registry v2 on loopback: serves server_obj.good for repository
    "good", and for "bad/CASE" the manifest answer of JUNK[CASE]."""

    def do_HEAD(self):
        self.answer()

    def do_GET(self):
        self.answer()

    def answer(self):
        srv = self.server_obj
        srv.record(self)
        path = self.path.split("?")[0]
        if path in ("/v2/", "/v2"):
            return self.send(200, "application/json", b"{}")
        m = re.match(r"^/v2/(.+)/(manifests|blobs)/([^/]+)$", path)
        if not m:
            return self.send(404, "application/json", b'{"errors":[{"code":"NOT_FOUND"}]}')
        repo, kind, ref = m.groups()
        if repo == "good" or (kind == "blobs" and ref in srv.good.blobs):
            if kind == "manifests":
                return self.send(200, gr.MT_OCI_MANIFEST, srv.good.manifest)
            if ref in srv.good.blobs:
                return self.send(200, "application/octet-stream", srv.good.blobs[ref])
            return self.send(404, "application/json", b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
        case = JUNK[repo.split("/", 1)[1]]
        if kind == "blobs" and "blob" in case:
            return self.send(200, "application/octet-stream", case["blob"])
        if kind == "blobs":
            return self.send(404, "application/json", b'{"errors":[{"code":"BLOB_UNKNOWN"}]}')
        body = case["manifest"](srv.good) if callable(case["manifest"]) else case["manifest"]
        self.send(case.get("status", 200), case.get("type", gr.MT_OCI_MANIFEST), body,
                  cut=case.get("cut"), length=case.get("length"))

    def send(self, status, ctype, body, cut=None, length=None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(length if length is not None else len(body)))
        if cut is not None:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            self.wfile.write(body if cut is None else body[:cut])
            self.wfile.flush()
            if cut is not None:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def manifest_with(**changes):
    """The good image's manifest with CHANGES applied (dotted keys)."""
    def make(good):
        m = json.loads(good.manifest)
        for key, value in changes.items():
            set_path(m, key.replace("__", "."), value)
        return json.dumps(m).encode()
    return make


JUNK = {
    "html": {"manifest": b"<html><body>502 Bad Gateway</body></html>", "type": "text/html"},
    "not-json": {"manifest": b"\x00\x01garbage\xff"},
    "json-array": {"manifest": b"[1, 2, 3]"},
    "empty": {"manifest": b""},
    "truncated": {"manifest": lambda good: good.manifest, "cut": 40},
    "short-body": {"manifest": lambda good: good.manifest, "length": 100000, "cut": 200},
    "unknown-media-type": {"manifest": manifest_with(mediaType="application/vnd.nope"),
                           "type": "application/vnd.nope"},
    "schema-version": {"manifest": manifest_with(schemaVersion="two")},
    "layers-not-array": {"manifest": manifest_with(layers={"a": 1})},
    "config-missing": {"manifest": manifest_with(config=None)},
    "bad-digest": {"manifest": manifest_with(config__digest="sha256:zz")},
    "digest-traversal": {"manifest": manifest_with(config__digest="sha256:../../../../../../tmp/gk-x")},
    "layer-digest-traversal": {"manifest": manifest_with(
        **{"layers[0]__digest": "sha256:" + "../" * 20 + "etc/passwd"})},
    "negative-size": {"manifest": manifest_with(config__size=-5)},
    "nested": {"manifest": b"[" * 100000 + b"]" * 100000},
    "500-html": {"manifest": b"<html>oops</html>", "status": 500, "type": "text/html"},
    "404-garbage": {"manifest": b"\xff\xfe not json", "status": 404, "type": "application/json"},
}


@pytest.fixture(scope="module")
def junk_registry():
    srv = gr.ThreadServer(JunkHandler)
    srv.good = Image([[{"name": "etc/hello", "data": b"hello\n"}]])
    yield srv
    srv.stop()


@pytest.fixture
def store(junk_registry):
    """A store that already holds one good image, to be kept intact."""
    d = tempfile.mkdtemp(prefix="gk-junk-")
    p = gkimg(d, "pull", "127.0.0.1:%d/good:v1" % junk_registry.port)
    assert p.returncode == 0, p.stderr
    yield d
    shutil.rmtree(d, ignore_errors=True)


def gkimg(root, *args):
    """A registry that stalls is given up on after 5 s, not gkimg's default."""
    return gkcli.gkimg(root, *args, timeout=60, env={"GKIMG_STALL_TIMEOUT": "5"})


def store_snapshot(root):
    files = {}
    for dirpath, dirs, names in os.walk(root):
        for n in names:
            path = os.path.join(dirpath, n)
            if "/layers/" not in path:
                with open(path, "rb") as f:
                    files[os.path.relpath(path, root)] = f.read()
    return files


@pytest.mark.parametrize("case", sorted(JUNK))
def test_pull_from_a_registry_answering_garbage(junk_registry, store, case):
    before = store_snapshot(store)
    ref = "127.0.0.1:%d/bad/%s:v1" % (junk_registry.port, case)
    p = gkimg(store, "pull", ref)
    assert_clean_failure(p, "")
    assert "bad/" + case in p.stderr or "manifest" in p.stderr, p.stderr
    assert not os.path.exists("/tmp/gk-x")
    after = store_snapshot(store)
    assert sorted(after) == sorted(before)
    assert after == before
    images = json.loads(gkimg(store, "images", "--format", "json").stdout)
    assert [i["name"] for i in images] == ["127.0.0.1:%d/good:v1" % junk_registry.port]
