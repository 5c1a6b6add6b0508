"""contrib/: the orchestrator configs parse in the real programs, the man
pages build, the bash completions complete."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import uuid

import pytest

from conftest import GKRUN, REPO, base_config
from orch import run

CONTRIB = os.path.join(REPO, "contrib")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"


def test_containerd_config_has_the_gkrun_runtime():
    if not shutil.which("containerd"):
        pytest.skip("containerd is not installed")
    p = run(["containerd", "--config", os.path.join(CONTRIB, "containerd", "config.toml"),
             "config", "dump"], check=True)
    def table(name):  # the lines of one [table], up to the next header
        body = p.stdout.split(name + "]\n", 1)[1]
        return re.split(r"\n\s*\[", body, 1)[0]
    options = table('runtimes.gkrun.options')
    assert 'BinaryName = "/usr/local/bin/gkrun"' in options
    assert "SystemdCgroup = false" in options
    assert 'runtime_type = "io.containerd.runc.v2"' in table('runtimes.gkrun')
    # runc stays defined, and the default (test_containerd.py runs it merged).
    assert 'runtime_type = "io.containerd.runc.v2"' in table('runtimes.runc')
    assert 'default_runtime_name = "runc"' in p.stdout


def test_runtimeclass_handler_matches_the_runtime_names():
    with open(os.path.join(CONTRIB, "kubernetes", "runtimeclass.yaml")) as f:
        text = f.read()
    assert "kind: RuntimeClass" in text and "handler: gkrun" in text
    with open(os.path.join(CONTRIB, "crio", "gkrun.conf")) as f:
        assert "[crio.runtime.runtimes.gkrun]" in f.read()


@pytest.mark.parametrize("page", ["gkrun.8", "gkimg.1"])
def test_man_pages_build(page, tmp_path):
    if not shutil.which("go-md2man"):
        pytest.skip("go-md2man is not installed (contrib/install-deps.sh --test)")
    out = str(tmp_path / page)
    run(["go-md2man", "-in", os.path.join(CONTRIB, "man", page + ".md"), "-out", out],
        check=True)
    with open(out) as f:
        roff = f.read()
    name, section = page.split(".")
    assert roff.splitlines()[1].startswith(".TH %s %s" % (name.upper(), section))
    if shutil.which("man"):
        p = run(["man", "--warnings", "-l", out], env=dict(os.environ, MANWIDTH="80"))
        assert p.returncode == 0 and p.stderr == "", p.stderr
        assert "SYNOPSIS" in p.stdout


def complete(script, *words, path_dir=None):
    """COMPREPLY of the completion function in SCRIPT for the command line
    WORDS (the last one being completed)."""
    fn = "_" + os.path.basename(script).split(".")[0]
    prog = ('source %s; source %s; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); '
            'COMP_LINE="${COMP_WORDS[*]}"; COMP_POINT=${#COMP_LINE}; %s; '
            'printf "%%s\\n" "${COMPREPLY[@]}"' % (BASH_COMPLETION, script, fn))
    env = dict(os.environ)
    if path_dir:
        env["PATH"] = path_dir + ":" + env["PATH"]
    p = run(["bash", "-c", prog, "bash"] + list(words), env=env, check=True)
    return sorted(w for w in p.stdout.split("\n") if w)


@pytest.fixture
def completion():
    if not os.path.exists(BASH_COMPLETION):
        pytest.skip("bash-completion is not installed")


def test_gkrun_completion(completion, rootfs):
    script = os.path.join(CONTRIB, "completion", "gkrun.bash")
    assert complete(script, "gkrun", "st") == ["start", "state"]
    assert complete(script, "gkrun", "--root", "/x", "exec", "--t") == ["--tty"]
    assert complete(script, "gkrun", "--log-format", "") == ["json", "text"]
    assert complete(script, "gkrun", "kill", "someid", "KI") == ["KILL"]
    assert "--force" in complete(script, "gkrun", "delete", "--")
    # Container ids from the --root on the command line.
    if os.geteuid() != 0 or not os.access(GKRUN, os.X_OK):
        return
    work = tempfile.mkdtemp(prefix="gk-completion-")
    cid = "gkcomp-" + uuid.uuid4().hex[:6]
    try:
        with open(os.path.join(work, "config.json"), "w") as f:
            json.dump(base_config(["true"], rootfs), f)
        run([GKRUN, "--root", work + "/state", "create", "--bundle", work, cid], check=True)
        got = complete(script, "gkrun", "--root", work + "/state", "start", "gkcomp",
                       path_dir=os.path.dirname(GKRUN))
        assert got == [cid]
    finally:
        run([GKRUN, "--root", work + "/state", "delete", "--force", cid])
        shutil.rmtree(work, ignore_errors=True)


def test_gkimg_completion(completion):
    script = os.path.join(CONTRIB, "completion", "gkimg.bash")
    assert complete(script, "gkimg", "b") == ["bundle"]
    assert complete(script, "gkimg", "bundle", "--ne") == ["--net"]
    assert complete(script, "gkimg", "bundle", "--net", "") == ["bridge", "host", "none"]
    assert complete(script, "gkimg", "pull", "--q") == ["--quiet"]
    assert complete(script, "gkimg", "--d") == ["--debug"]
    assert complete(script, "gkimg", "pu") == ["pull", "push"]
    assert complete(script, "gkimg", "push", "--cr") == ["--creds"]
    assert complete(script, "gkimg", "tags", "--pa") == ["--page-size"]
    assert complete(script, "gkimg", "history", "--no") == ["--no-trunc"]


def test_bash_syntax_of_completions():
    for name in ("gkrun.bash", "gkimg.bash"):
        subprocess.run(["bash", "-n", os.path.join(CONTRIB, "completion", name)], check=True)


def stub_dir(tmp_path, scripts, links=()):
    """A directory of executables for PATH: SCRIPTS {name: shell body},
    LINKS names of real programs to reach from it."""
    d = tmp_path / "stubs"
    d.mkdir(exist_ok=True)
    for name, body in scripts.items():
        (d / name).write_text("#!/bin/sh\n" + body + "\n")
        (d / name).chmod(0o755)
    for name in links:
        os.symlink(shutil.which(name), str(d / name))
    return str(d)


def as_user(tmp_path, log, sudo=True):
    """Stubs that make the scripts see a user (`id -u` says 1000) with or
    without sudo; the sudo stub logs its arguments and runs the command as
    root (the test's own root, `id -u` saying 0 again)."""
    scripts = {"id": 'if [ "$1" = -u ] && [ -z "${GK_STUB_ROOT:-}" ]; then echo 1000; '
                     'else exec %s "$@"; fi' % shutil.which("id")}
    if sudo:
        scripts["sudo"] = 'echo "$*" >> %s; exec env GK_STUB_ROOT=1 "$@"' % log
    return scripts


def test_install_deps_as_a_user_asks_sudo_for_apt(tmp_path):
    log = tmp_path / "sudo.log"
    scripts = as_user(tmp_path, log)
    # Everything installed but jq; apt-get itself only echoes.
    scripts["dpkg-query"] = '[ "$3" = jq ] || echo "install ok installed"'
    scripts["apt-cache"] = "exit 1"
    scripts["apt-get"] = 'echo "apt-get $*"'
    path = stub_dir(tmp_path, scripts, links=["grep", "env"])
    env = dict(os.environ, PATH=path)
    p = run(["/bin/sh", os.path.join(CONTRIB, "install-deps.sh")], env=env)
    assert p.returncode == 0, p.stderr
    assert log.read_text().splitlines() == [
        "env DEBIAN_FRONTEND=noninteractive apt-get update -q",
        "env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends jq"]
    assert p.stdout.splitlines() == ["apt-get update -q",
                                     "apt-get install -y -q --no-install-recommends jq"]
    # No sudo on the machine: it says what is missing and how to get it.
    os.unlink(os.path.join(path, "sudo"))
    p = run(["/bin/sh", os.path.join(CONTRIB, "install-deps.sh")], env=env)
    assert p.returncode == 1
    assert "missing packages: jq (run as root: there is no sudo here)" in p.stderr
    assert "apt-get" not in p.stdout


def test_make_demo_as_a_user_without_sudo_says_so(tmp_path):
    path = stub_dir(tmp_path, as_user(tmp_path, None, sudo=False), links=["dirname"])
    p = run(["/bin/sh", os.path.join(CONTRIB, "demo.sh")], env=dict(os.environ, PATH=path))
    assert p.returncode == 1
    assert p.stderr == "demo: run it as root (there is no sudo here)\n"


@pytest.mark.parametrize("who", ["root", "user-with-sudo"])
def test_make_demo_works_offline(tmp_path, who):
    """`make demo` without a network: it says so, imports a busybox image
    instead of pulling, runs it with its 64 MiB limit, and cleans up.  A
    user builds as themself and goes through sudo for the rest."""
    if os.geteuid() != 0:
        pytest.skip("the demo runs a container: needs root")
    work = str(tmp_path / "demo")
    env = dict(os.environ, O=os.path.dirname(GKRUN), GK_DEMO_DIR=work)
    log = tmp_path / "sudo.log"
    if who == "user-with-sudo":
        env["PATH"] = stub_dir(tmp_path, as_user(tmp_path, log)) + ":" + env["PATH"]
    with open(GKRUN, "rb") as f:
        if b"__asan_init" in f.read():
            env["SAN"] = "1"  # demo.sh's make must not relink it without ASan
    p = subprocess.run(["unshare", "-n", os.path.join(CONTRIB, "demo.sh")], env=env,
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "no registry reachable: building an image from busybox-static instead" in p.stdout
    assert "hello from gk-demo, pid 1" in p.stdout
    assert "memory limit: 67108864" in p.stdout
    assert "container exited with status 0" in p.stdout
    if who == "user-with-sudo":
        assert "running the container as root: sudo" in p.stdout
        assert log.read_text().splitlines() == [
            "env O=%s GK_DEMO_DIR=%s %s --as-root" % (env["O"], work,
                                                      os.path.join(CONTRIB, "demo.sh"))]
    else:
        assert not log.exists()
    assert not os.path.exists(work)
    with open("/proc/self/mountinfo") as fh:
        assert work not in fh.read()


@pytest.mark.slow
def test_make_install_puts_gkrun_net_where_the_installed_gkrun_finds_it(gk, tmp_path):
    """`make install`: gkrun in PREFIX/bin, gkrun-net in PREFIX/libexec/gk
    (not beside gkrun), and the installed gkrun runs a networked container
    with it: the LIBEXECDIR half of the lookup rule."""
    from test_net import NetEnv, assert_all_gone
    prefix = str(tmp_path / "prefix")
    p = subprocess.run(["make", "-C", REPO, "-j2", "O=" + str(tmp_path / "build"),
                        "PREFIX=" + prefix, "install"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    gkrun = os.path.join(prefix, "bin", "gkrun")
    assert not os.path.exists(os.path.join(prefix, "bin", "gkrun-net"))
    assert not os.path.exists(os.path.join(prefix, "libexec", "gk", "gkrun-full"))
    net_prog = os.path.join(prefix, "libexec", "gk", "gkrun-net")
    assert subprocess.run([net_prog, "--version"], capture_output=True, text=True).stdout \
        .split()[2] == subprocess.run([gkrun, "--version"], capture_output=True,
                                      text=True).stdout.split()[2]
    net = NetEnv(gk)
    try:
        b = net.bundle(["/bin/sh", "-c", "ping -c 1 -W 3 %s >/dev/null && echo ok" %
                        net.gateway])
        b.write()
        cid = gk.new_id()
        r = subprocess.run([gkrun, "--root", gk.root, "run", "--bundle", b.path, cid],
                           capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stderr
        assert r.stdout == "ok\n"
        assert_all_gone(net, [cid])
    finally:
        net.cleanup()
