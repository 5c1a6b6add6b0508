"""containers-registries.conf(5) and containers-auth.json(5) as gkimg reads
them: mirrors tried before the registry (one down, one serving a corrupted
blob: the next is used), blocked and insecure registries, short names
through unqualified-search-registries and [aliases], and credentials from
auth.json, Docker's config.json and --creds against a token-auth registry.
Every test passes its own registries.conf (--registries-conf or
CONTAINERS_REGISTRIES_CONF): nothing depends on /etc/containers.  skopeo and
podman, given the same file, are the reference for the choices made."""
import base64
import json
import os
import shutil
import subprocess
import tempfile

import pytest

import gkregistry as gr
from gkcli import gkimg
from test_pull import assert_blobs_of, docker_config, small_image, unique  # noqa: F401

SKOPEO = "/usr/bin/skopeo"
PODMAN = "/usr/bin/podman"


@pytest.fixture(scope="module")
def regs():
    """Two plain registries: a primary and a mirror."""
    a, b = gr.Registry(), gr.Registry()
    yield a, b
    a.stop()
    b.stop()


@pytest.fixture
def conf_dir():
    d = tempfile.mkdtemp(prefix="gk-regconf-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def write_conf(d, text, name="registries.conf"):
    path = os.path.join(d, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def pull(root, conf, ref, *args, **kw):
    return gkimg(root, "--registries-conf", conf, "pull", *args, ref, **kw)


def names_in_store(root):
    r = gkimg(root, "images", "--format", "{{.Repository}}:{{.Tag}}")
    return r.stdout.split()


def free_port():
    return gr.free_port()


# ---- mirrors ----

def test_mirror_serves_the_pull(regs, root, conf_dir, docker_config):
    primary, mirror = regs
    repo = unique("mir")
    img = small_image(b"mirror-only")
    mirror.push_image(repo, "v1", img)  # the primary does not have it
    px = gr.Proxy(primary.port)
    try:
        conf = write_conf(conf_dir, '[[registry]]\nlocation = "%s"\n'
                          '[[registry.mirror]]\nlocation = "%s"\n' % (px.host, mirror.host))
        ref = "%s/%s:v1" % (px.host, repo)
        r = pull(root, conf, ref, docker_config=docker_config)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip().endswith(ref)
        assert_blobs_of(root, img)
        # the primary was never asked for the image
        assert not px.seen(path="/v2/%s/" % repo), px.requests
        # skopeo with the same file also finds it (through the mirror)
        # (--raw: skopeo lists the tags at the primary, not through mirrors)
        p = subprocess.run([SKOPEO, "--registries-conf", conf, "inspect", "--raw",
                            "--tls-verify=false", "docker://" + ref], capture_output=True,
                           timeout=120)
        assert p.returncode == 0, p.stderr
        assert gr.sha(p.stdout) == gr.sha(img.manifest)
        # inspect docker:// goes through the mirror too, naming the image as asked
        r = gkimg(root, "--registries-conf", conf, "inspect", "docker://" + ref)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["Digest"] == gr.sha(img.manifest)
    finally:
        px.stop()


def test_mirror_down_next_is_used(regs, root, conf_dir):
    primary, mirror = regs
    repo = unique("down")
    img = small_image(b"down")
    mirror.push_image(repo, "v1", img)
    dead = "127.0.0.1:%d" % free_port()
    conf = write_conf(conf_dir, '[[registry]]\nlocation = "%s"\n'
                      '[[registry.mirror]]\nlocation = "%s"\n'
                      '[[registry.mirror]]\nlocation = "%s"\n' % (primary.host, dead,
                                                                   mirror.host))
    r = pull(root, conf, "%s/%s:v1" % (primary.host, repo))
    assert r.returncode == 0, r.stderr
    assert "warning: mirror %s/%s" % (dead, repo) in r.stderr, r.stderr
    assert "trying mirror %s/%s next" % (mirror.host, repo) in r.stderr, r.stderr
    assert_blobs_of(root, img)


def test_mirror_with_a_corrupted_blob_is_skipped(regs, root, conf_dir):
    primary, mirror = regs
    repo = unique("bad")
    img = small_image(b"corrupt")
    mirror.push_image(repo, "v1", img)
    primary.push_image(repo, "v1", img)
    px = gr.Proxy(mirror.port)
    # every blob the mirror serves has its first byte flipped
    px.fault(path="/blobs/", method="GET", corrupt=True)
    try:
        conf = write_conf(conf_dir, '[[registry]]\nlocation = "%s"\n'
                          '[[registry.mirror]]\nlocation = "%s"\n' % (primary.host, px.host))
        r = pull(root, conf, "%s/%s:v1" % (primary.host, repo))
        assert r.returncode == 0, r.stderr
        assert "warning: mirror %s/%s" % (px.host, repo) in r.stderr
        assert "digest mismatch" in r.stderr, r.stderr
        assert px.seen("GET", "/blobs/")
        assert_blobs_of(root, img)
        chk = gkimg(root, "check")
        assert chk.returncode == 0, chk.stdout + chk.stderr
    finally:
        px.stop()


def test_partial_file_of_another_location_is_not_trusted(regs, root, conf_dir):
    """Bytes a mirror left in a partial download (an attempt given up on
    another blob's mismatch) are resumed from by the next location; when
    the result fails its digest, the blob is fetched again from the start,
    not reported as the next location's fault."""
    primary, _ = regs
    repo = unique("part")
    img = small_image(b"partial", big=1 << 20)
    primary.push_image(repo, "v1", img)
    digest = max(img.layers, key=lambda layer: len(img.blobs[layer[0]]))[0]
    partial = os.path.join(root, "blobs", "partial")
    os.makedirs(partial, exist_ok=True)
    with open(os.path.join(partial, digest[7:]), "wb") as f:
        f.write(b"\xff" * (len(img.blobs[digest]) // 2))
    conf = write_conf(conf_dir, '[[registry]]\nlocation = "%s"\n' % primary.host)
    r = pull(root, conf, "%s/%s:v1" % (primary.host, repo))
    assert r.returncode == 0, r.stderr
    assert_blobs_of(root, img)


def test_every_location_failing_is_named(regs, root, conf_dir):
    primary, _ = regs
    repo = unique("none")
    dead = "127.0.0.1:%d" % free_port()
    conf = write_conf(conf_dir, '[[registry]]\nlocation = "%s"\n'
                      '[[registry.mirror]]\nlocation = "%s"\n' % (primary.host, dead))
    r = pull(root, conf, "%s/%s:v1" % (primary.host, repo))
    assert r.returncode == 1
    assert "no location had it (2 tried)" in r.stderr, r.stderr
    assert "mirror %s/%s:" % (dead, repo) in r.stderr
    assert "%s/%s: " % (primary.host, repo) in r.stderr


def test_digest_only_mirror_is_not_used_for_a_tag(regs, root, conf_dir):
    primary, mirror = regs
    repo = unique("dig")
    img = small_image(b"digest-only")
    digest = mirror.push_image(repo, "v1", img)
    conf = write_conf(conf_dir, '[[registry]]\nlocation = "%s"\n'
                      '[[registry.mirror]]\nlocation = "%s"\npull-from-mirror = "digest-only"\n'
                      % (primary.host, mirror.host))
    r = pull(root, conf, "%s/%s:v1" % (primary.host, repo))
    assert r.returncode == 1 and mirror.host not in r.stderr, r.stderr
    r = pull(root, conf, "%s/%s@%s" % (primary.host, repo, digest))
    assert r.returncode == 0, r.stderr


# ---- blocked, insecure ----

def test_blocked_registry_is_refused(regs, root, conf_dir):
    primary, _ = regs
    repo = unique("blk")
    img = small_image(b"blocked")
    primary.push_image(repo, "v1", img)
    conf = write_conf(conf_dir, '[[registry]]\nlocation = "%s"\nblocked = true\n' % primary.host)
    ref = "%s/%s:v1" % (primary.host, repo)
    r = pull(root, conf, ref)
    assert r.returncode == 1
    assert "registry `%s` is blocked" % primary.host in r.stderr and conf in r.stderr, r.stderr
    # skopeo refuses it as well
    p = subprocess.run([SKOPEO, "--registries-conf", conf, "inspect", "--tls-verify=false",
                        "docker://" + ref], capture_output=True, text=True, timeout=120)
    assert p.returncode != 0 and "blocked" in p.stderr, p.stderr
    # so is inspect, and a push to it of an image pulled while it was not
    r = gkimg(root, "--registries-conf", conf, "inspect", "docker://" + ref)
    assert r.returncode == 1 and "is blocked" in r.stderr
    r = pull(root, write_conf(conf_dir, "", name="open.conf"), ref)
    assert r.returncode == 0, r.stderr
    r = gkimg(root, "--registries-conf", conf, "push", ref, ref + "-again")
    assert r.returncode == 1 and "registry `%s` is blocked" % primary.host in r.stderr, r.stderr


def test_insecure_allows_plain_http(regs, root, conf_dir):
    primary, _ = regs
    repo = unique("insec")
    img = small_image(b"insecure")
    primary.push_image(repo, "v1", img)
    # 0.0.0.0 reaches the loopback listener but is not a loopback name:
    # gkimg wants TLS from it unless told otherwise
    host = "0.0.0.0:%d" % primary.port
    ref = "%s/%s:v1" % (host, repo)
    plain = write_conf(conf_dir, "", name="plain.conf")
    r = pull(root, plain, ref)
    assert r.returncode == 1 and "HTTP" in r.stderr, r.stderr
    conf = write_conf(conf_dir, '[[registry]]\nlocation = "%s"\ninsecure = true\n' % host)
    r = pull(root, conf, ref)
    assert r.returncode == 0, r.stderr
    assert_blobs_of(root, img)


# ---- short names ----

def podman(conf, store, *args):
    env = dict(os.environ, CONTAINERS_REGISTRIES_CONF=conf)
    return subprocess.run([PODMAN, "--root", os.path.join(store, "root"), "--runroot",
                           os.path.join(store, "run"), "--storage-driver", "vfs", *args],
                          capture_output=True, text=True, timeout=180, env=env,
                          stdin=subprocess.DEVNULL)


def test_unqualified_search_first_that_has_it(regs, root, conf_dir):
    a, b = regs
    name = "gkrc/search%d" % os.getpid()
    img = small_image(b"search")
    b.push_image(name, "v1", img)  # only the second search registry has it
    conf = write_conf(conf_dir, 'unqualified-search-registries = ["%s", "%s"]\n'
                      'short-name-mode = "permissive"\n' % (a.host, b.host))
    r = pull(root, conf, name + ":v1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "%s/%s:v1" % (b.host, name)
    assert "%s/%s" % (a.host, name) in r.stderr  # the first one, tried and warned about
    # podman makes the same choice
    store = tempfile.mkdtemp(prefix="gk-podman-")
    try:
        p = podman(conf, store, "pull", "--tls-verify=false", name + ":v1")
        assert p.returncode == 0, p.stderr
        assert "%s/%s:v1" % (b.host, name) in podman(conf, store, "images", "--format",
                                                      "{{.Repository}}:{{.Tag}}").stdout
    finally:
        podman(conf, store, "rmi", "-a", "-f")
        shutil.rmtree(store, ignore_errors=True)
    # none has it: the error names each one tried
    r = pull(root, conf, "gkrc/nosuch%d:v1" % os.getpid())
    assert r.returncode == 1 and "2 tried" in r.stderr
    assert a.host in r.stderr and b.host in r.stderr


def test_short_name_enforcing_is_an_error_without_a_tty(regs, root, conf_dir):
    a, b = regs
    conf = write_conf(conf_dir, 'unqualified-search-registries = ["%s", "%s"]\n'
                      'short-name-mode = "enforcing"\n' % (a.host, b.host))
    r = pull(root, conf, "gkrc/enf:v1")
    assert r.returncode == 1
    assert "short-name resolution enforced but cannot prompt without a TTY" in r.stderr
    store = tempfile.mkdtemp(prefix="gk-podman-")
    try:
        p = podman(conf, store, "pull", "--tls-verify=false", "gkrc/enf:v1")
        assert p.returncode != 0
        assert "short-name resolution enforced but cannot prompt without a TTY" in p.stderr
    finally:
        shutil.rmtree(store, ignore_errors=True)


def test_alias(regs, root, conf_dir):
    _, b = regs
    repo = unique("alias")
    img = small_image(b"alias")
    b.push_image(repo, "v2", img)
    alias = "gkrc-alias%d" % os.getpid()
    d = os.path.join(conf_dir, "registries.conf.d")
    os.makedirs(d)
    conf = write_conf(conf_dir, 'unqualified-search-registries = []\n'
                      '[aliases]\n"%s" = "%s/%s"\n' % (alias, b.host, repo))
    r = pull(root, conf, alias + ":v2")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1] == "%s/%s:v2" % (b.host, repo)
    r = pull(root, conf, "gkrc-noalias:v2")
    assert r.returncode == 1
    assert "did not resolve to an alias and no unqualified-search registries" in r.stderr


def test_bad_configuration_names_file_and_line(root, conf_dir):
    conf = write_conf(conf_dir, '[[registry]]\nlocation = "x.example"\nmirrors = []\n')
    r = pull(root, conf, "x.example/a:b")
    assert r.returncode == 1
    assert "%s:3: [[registry]] `mirrors`: not a key gkimg supports" % conf in r.stderr
    conf = write_conf(conf_dir, 'unqualified-search-registries = ["a", 1]\n')
    r = pull(root, conf, "x.example/a:b")
    assert r.returncode == 1 and "%s:1: unsupported value" % conf in r.stderr, r.stderr
    conf = write_conf(conf_dir, '[registries.search]\nregistries = ["a"]\n')
    r = pull(root, conf, "x.example/a:b")
    assert r.returncode == 1 and "version 1 format is not supported" in r.stderr
    r = gkimg(root, "--registries-conf", os.path.join(conf_dir, "nosuch"), "pull", "a.b/c")
    assert r.returncode == 1 and "nosuch" in r.stderr


# ---- credentials ----

@pytest.fixture(scope="module")
def hub():
    d = tempfile.mkdtemp(prefix="gk-hub-")
    key = gr.TokenKey(d)
    ts = gr.TokenServer(key, users={"alice": "s3cret"}, private=["gktest/private"],
                        require_login=False)
    reg = gr.Registry(token=ts)
    img = small_image(b"private-regconf")
    reg.push_image("gktest/private", "v1", img)
    yield ts, reg, img
    reg.stop()
    ts.stop()
    shutil.rmtree(d, ignore_errors=True)


def auth_file(path, key, user, pw):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        json.dump({"auths": {key: {"auth": base64.b64encode(
            ("%s:%s" % (user, pw)).encode()).decode()}}}, f)


def test_credentials_sources(hub, root, conf_dir, docker_config):
    ts, reg, img = hub
    ref = "%s/gktest/private:v1" % reg.host
    empty = write_conf(conf_dir, "")
    r = pull(root, empty, ref, docker_config=docker_config)
    assert r.returncode == 1 and "needs a login" in r.stderr
    # --authfile, with a namespaced key as containers-auth.json(5) allows
    af = os.path.join(conf_dir, "auth.json")
    auth_file(af, "%s/gktest" % reg.host, "alice", "s3cret")
    r = pull(root, empty, ref, "--authfile", af, docker_config=docker_config)
    assert r.returncode == 0, r.stderr
    assert_blobs_of(root, img)
    # $XDG_RUNTIME_DIR/containers/auth.json wins over Docker's config.json
    auth_file(os.path.join(docker_config, "config.json"), reg.host, "alice", "wrong")
    auth_file(os.path.join(docker_config, "containers", "auth.json"), reg.host, "alice",
              "s3cret")
    gkimg(root, "rmi", ref)
    r = pull(root, empty, ref, docker_config=docker_config)
    assert r.returncode == 0, r.stderr
    # Docker's config.json alone
    os.unlink(os.path.join(docker_config, "containers", "auth.json"))
    auth_file(os.path.join(docker_config, "config.json"), reg.host, "alice", "s3cret")
    r = gkimg(root, "--registries-conf", empty, "inspect", "docker://" + ref,
              docker_config=docker_config)
    assert r.returncode == 0, r.stderr
    # --creds beats any file (there is none here)
    for args in (["inspect", "docker://" + ref], ["tags", "docker://%s/gktest/private"
                                                  % reg.host], ["pull", ref]):
        r = gkimg(root, "--registries-conf", empty, args[0], "--creds", "alice:s3cret",
                  *args[1:])
        assert r.returncode == 0, (args, r.stderr)
    r = gkimg(root, "--registries-conf", empty, "pull", "--creds", "alice:nope", ref)
    assert r.returncode == 1 and "refused the login for `alice`" in r.stderr


def test_login_writes_auth_json_that_skopeo_reads(hub, root, conf_dir, docker_config):
    ts, reg, img = hub
    r = gkimg(root, "login", "-u", "alice", "--password-stdin", reg.host, input="s3cret\n",
              docker_config=docker_config)
    assert r.returncode == 0, r.stderr
    af = os.path.join(docker_config, "containers", "auth.json")
    with open(af) as f:
        assert f.read() and json.load(open(af))["auths"][reg.host]["auth"] == \
            "YWxpY2U6czNjcmV0"
    p = subprocess.run([SKOPEO, "inspect", "--tls-verify=false", "--authfile", af,
                        "docker://%s/gktest/private:v1" % reg.host], capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    r = gkimg(root, "logout", reg.host, docker_config=docker_config)
    assert r.returncode == 0, r.stderr
    assert reg.host not in json.load(open(af))["auths"]
