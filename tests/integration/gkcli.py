"""Running gk's binaries from a test, and waiting for what they do.

One set for every test file: where the binaries are, `run` (any command,
its output in files), `gkimg` (a store's gkimg), `poll` and `wait_for`.
A test's gkrun is `gk.gkrun` (conftest.py), which runs through `run` too.
"""
import json
import os
import subprocess
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("GK_BUILD", os.path.join(REPO, "build"))
GKRUN = os.path.join(BUILD, "gkrun")
GKIMG = os.path.join(BUILD, "gkimg")
PROBE = os.path.join(BUILD, "gk-probe")
CGROUP_ROOT = "/sys/fs/cgroup"
# DOCKER_CONFIG for a gkimg that must not see the host's registry credentials
NO_DOCKER_CONFIG = "/nonexistent-gk-docker-config"


def run(cmd, timeout=60, check=False, input=None, env=None, stdin=subprocess.DEVNULL,
        stderr=None, **kw):
    """subprocess.run of CMD with text output in p.stdout and p.stderr.

    Files, not pipes: a detached container keeps its stdio open, and a pipe
    would make us wait for it to exit.  STDIN is /dev/null unless INPUT is
    given (stdin=None inherits the test's); stderr=subprocess.STDOUT puts
    both streams in p.stdout.  CHECK: a non-zero exit fails the test."""
    cmd = [str(a) for a in cmd]
    if input is None and stdin is not None:
        kw["stdin"] = stdin
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        p = subprocess.run(cmd, input=input, stdout=out, stderr=err if stderr is None else stderr,
                           text=True, timeout=timeout, env=env, **kw)
        out.seek(0)
        err.seek(0)
        p.stdout, p.stderr = out.read(), err.read() if stderr is None else None
    if check and p.returncode != 0:
        raise AssertionError("%s: exit %d\nstdout: %s\nstderr: %s" %
                             (" ".join(cmd), p.returncode, p.stdout, p.stderr))
    return p


def gkimg(root, *args, check=False, timeout=120, env=None, docker_config=None, binary=GKIMG,
          **kw):
    """gkimg --root ROOT ARGS.  It sees no registry credentials but those
    in DOCKER_CONFIG (a directory; by default none); ENV is added to the
    environment."""
    # The containers-auth.json(5) files too: login writes
    # $XDG_RUNTIME_DIR/containers/auth.json, never the host's.
    e = dict(os.environ, DOCKER_CONFIG=docker_config or NO_DOCKER_CONFIG,
             XDG_RUNTIME_DIR=docker_config or NO_DOCKER_CONFIG,
             XDG_CONFIG_HOME=docker_config or NO_DOCKER_CONFIG)
    e.update(env or {})
    return run([binary, "--root", root, *args], timeout=timeout, check=check, env=e,
               stdin=None, **kw)


def poll(pred, timeout=10, step=0.05):
    """PRED's first true value within TIMEOUT seconds, else its last."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()


def wait_for(pred, timeout=10, what="condition", step=0.05):
    """PRED's first true value within TIMEOUT seconds; the test fails
    saying WHAT it waited for when there is none."""
    v = poll(pred, timeout, step)
    if not v:
        raise AssertionError("timed out waiting for " + what)
    return v


class Podman:
    """A podman for image commands only, with storage, configuration, policy
    and registries private to DIR (never /etc's or the user's); DIR short:
    podman wants its runroot under 50 characters."""

    def __init__(self, d):
        self.d = d
        conf = os.path.join(d, "conf")
        os.makedirs(os.path.join(d, "home/.config/containers"))
        os.makedirs(conf)
        files = {
            "conf/containers.conf": '[engine]\nevents_logger = "none"\ntmp_dir = "%s/tmp"\n' % d,
            "conf/storage.conf": '[storage]\ndriver = "vfs"\ngraphroot = "%s/root"\n'
                                 'runroot = "%s/run"\n' % (d, d),
            "conf/registries.conf": "unqualified-search-registries = []\n",
            "home/.config/containers/policy.json":
                json.dumps({"default": [{"type": "insecureAcceptAnything"}]}),
        }
        for name, text in files.items():
            with open(os.path.join(d, name), "w") as f:
                f.write(text)
        self.env = dict(os.environ, HOME=d + "/home", XDG_CONFIG_HOME=d + "/home/.config",
                        CONTAINERS_CONF=conf + "/containers.conf",
                        CONTAINERS_STORAGE_CONF=conf + "/storage.conf",
                        CONTAINERS_REGISTRIES_CONF=conf + "/registries.conf")
        self.env.pop("NOTIFY_SOCKET", None)

    def __call__(self, *args, check=True):
        r = subprocess.run(["podman", *args], env=self.env, capture_output=True, text=True,
                           timeout=120)
        if check and r.returncode:
            raise AssertionError("podman %s: %s" % (" ".join(args), r.stderr))
        return r
