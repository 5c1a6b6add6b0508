"""Checkpoint and restore driven by the orchestrators, gkrun against runc:
podman's `container checkpoint` / `restore` (in place, and moved with
--export / --import) through conmon, and containerd's task checkpoint
and restore through its runc shim (io.containerd.runc.v2 with gkrun as
its runc binary).

Each case is a counter appending 1, 2, 3... to a file on a bind mount of
the test's: a restored counter goes on from where it was checkpointed.
Like test_checkpoint.py these run where CRIU does (the cgroup-v2 VM:
tests/run-tests.sh --criu-only); elsewhere they skip, and
test_checkpoint.py checks the error that says why.
"""
import os
import signal
import subprocess
import tempfile

import pytest

from conftest import GKRUN
from orch import IMAGE, run, wait_for
from test_checkpoint import COUNTER, consecutive, needs_criu, numbers, settled
from test_containerd import containerd, ctr  # noqa: F401 (the fixtures)
from test_podman import Podman, podman_env  # noqa: F401 (the fixture)

pytestmark = [pytest.mark.criu, pytest.mark.slow]

# The counter and, on its stdout (a terminal with -t), "n=I" for each I.
TTY_COUNTER = "i=0; while :; do i=$((i+1)); echo $i >> /data/log; echo n=$i; sleep 0.1; done"


def data_dir():
    d = tempfile.mkdtemp(prefix="gk-ckpt-data-")
    os.chmod(d, 0o755)
    return d


@pytest.fixture
def data():
    d = data_dir()
    yield d
    run(["rm", "-rf", d])


def counts_on(data, before, more=5):
    """The counter, stopped at BEFORE, writes on from there."""
    wait_for(lambda: len(numbers(data)) > len(before) + more, timeout=60,
             what="the restored counter")
    got = numbers(data)
    assert consecutive(got), "restarted, not restored: %s" % got[max(0, len(before) - 2):][:10]


# --- podman --------------------------------------------------------------------------------

@pytest.fixture(params=["runc", "gkrun"])
def podman(request, podman_env):  # noqa: F811 (podman_env is the imported fixture)
    if request.param == "gkrun" and not os.access(GKRUN, os.X_OK):
        pytest.skip("gkrun is not built (GK_BUILD=%s)" % os.path.dirname(GKRUN))
    pm = Podman(podman_env, request.param)
    yield pm
    pm.remove_all()


def podman_ok(p, what):
    assert p.returncode == 0, "%s: %s" % (what, p.stderr + p.stdout)
    return p


@needs_criu
def test_podman_checkpoint_restore_and_export_import(podman, data):
    """`podman container checkpoint` stops the counter where it is,
    `restore` has it count on; then the container is moved: checkpointed
    into an archive, removed, and restored from it (--import), counting on
    again."""
    cid = podman.start_detached("-v", data + ":/data", cmd=("sh", "-c", COUNTER))
    wait_for(lambda: len(numbers(data)) >= 5, what="the counter")
    podman_ok(podman("container", "checkpoint", cid, timeout=300), "checkpoint")
    before = settled(data)
    assert len(before) >= 5 and consecutive(before)
    assert podman.inspect(cid, "{{.State.Status}}") == "exited"
    podman_ok(podman("container", "restore", cid, timeout=300), "restore")
    assert podman.inspect(cid, "{{.State.Status}}") == "running"
    counts_on(data, before)

    archive = os.path.join(podman.env.dir, "tmp", "ckpt-%s.tar.gz" % podman.runtime)
    podman_ok(podman("container", "checkpoint", "--export", archive, cid, timeout=300),
              "checkpoint --export")
    before = settled(data)
    podman_ok(podman("rm", "-f", cid), "rm")
    assert cid not in podman.all_ids()
    try:
        p = podman_ok(podman("container", "restore", "--import", archive, timeout=300),
                      "restore --import")
    finally:
        os.unlink(archive)
    podman.ids.add(p.stdout.split()[-1])
    assert podman.inspect(cid, "{{.State.Status}}") == "running"
    counts_on(data, before)
    podman.assert_clean()


@needs_criu
def test_podman_checkpoint_restore_with_a_terminal(podman, data):
    """A -t container: restore hands the restored terminal to conmon (the
    runtime's --console-socket), whose log then shows what the counter
    writes after the restore."""
    cid = podman.start_detached("-t", "-v", data + ":/data", cmd=("sh", "-c", TTY_COUNTER))
    wait_for(lambda: len(numbers(data)) >= 5, what="the counter")
    podman_ok(podman("container", "checkpoint", cid, timeout=300), "checkpoint")
    before = settled(data)
    podman_ok(podman("container", "restore", cid, timeout=300), "restore")
    counts_on(data, before)
    later = "n=%d" % (len(before) + 3)
    wait_for(lambda: later in podman("logs", cid).stdout, timeout=30,
             what="%s in the terminal's log" % later)
    podman.assert_clean()


# --- containerd ----------------------------------------------------------------------------

def bind(data):
    return ["--mount", "type=bind,src=%s,dst=/data,options=rbind:rw" % data]


def ctr_ok(p, what):
    assert p.returncode == 0, "%s: %s" % (what, p.stderr + p.stdout)
    return p


@needs_criu
def test_ctr_task_checkpoint_leave_running_then_exit(ctr, data):
    """`ctr task checkpoint` (the shim pauses the task, the runtime dumps
    it with --leave-running and --work-path, the shim resumes it): the
    counter goes on; with --exit the task stops where it was dumped."""
    cid = ctr.start_detached(*bind(data), cmd=("sh", "-c", COUNTER))
    wait_for(lambda: len(numbers(data)) >= 5, what="the counter")
    img = os.path.join(ctr.cd.dir, "img-" + cid)
    ctr_ok(ctr("task", "checkpoint", "--image-path", img, cid, timeout=300), "checkpoint")
    assert os.path.exists(os.path.join(img, "inventory.img")), os.listdir(img)
    assert ctr.task_status(cid) == "RUNNING"
    n = len(numbers(data))
    wait_for(lambda: len(numbers(data)) > n + 3, what="the counter after the checkpoint")
    img2 = img + "-exit"
    ctr_ok(ctr("task", "checkpoint", "--exit", "--image-path", img2, cid, timeout=300),
           "checkpoint --exit")
    assert os.path.exists(os.path.join(img2, "inventory.img"))
    wait_for(lambda: ctr.task_status(cid) in ("STOPPED", None), what="the task to stop")
    settled(data)
    ctr_ok(ctr("task", "rm", cid), "task rm")
    ctr("containers", "rm", cid)
    ctr.assert_clean()


def trace_wrapper(ctr, where):
    """GK_CKPT_EVIDENCE=DIR: the shim's gkrun calls (argv, open fds) logged
    to DIR/calls.log and gkrun run with --debug, for a failure's evidence."""
    if ctr.runtime != "gkrun" or not where:
        return
    os.makedirs(where, exist_ok=True)
    wrap = os.path.join(where, "gkrun-traced")
    with open(wrap, "w") as f:
        f.write('#!/bin/sh\n{ echo "== $(date +%%T.%%N) $$: $*"; ls -l /proc/$$/fd; } '
                '>> %s/calls.log 2>&1\nexec %s --debug "$@"\n' % (where, GKRUN))
    os.chmod(wrap, 0o755)
    ctr.binary = wrap


def keep_evidence(ctr, where):
    """The logs of the shim (containerd's), gkrun's (--log) and CRIU's, into WHERE."""
    if not where:
        return
    os.makedirs(where, exist_ok=True)
    run(["cp", os.path.join(ctr.cd.dir, "containerd.log"), where])
    for dirpath, dirs, files in os.walk(ctr.cd.dir):
        dirs[:] = [d for d in dirs if d not in ("rootfs", "snapshots", "content")]
        for name in files:
            if name.endswith(".log") or name.endswith(".json") or name.endswith(".pid"):
                src = os.path.join(dirpath, name)
                run(["cp", src, os.path.join(where, src[len(ctr.cd.dir):].strip("/")
                                             .replace("/", "_"))])


def force_gone(ctr, cid):
    """A task the shim cannot stop (or a shim stuck in its restore): its
    processes killed by their cgroup, then the shim by its pid, so that the
    cleanup cannot hang."""
    for top in ("/sys/fs/cgroup", "/sys/fs/cgroup/freezer", "/sys/fs/cgroup/pids"):
        procs = os.path.join(top, ctr.cd.ns, cid, "cgroup.procs")
        try:
            with open(procs) as f:
                pids = [int(p) for p in f.read().split()]
        except OSError:
            continue
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    for pid in ctr.cd.shim_pids():
        try:
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if cid.encode() in argv:
            os.kill(pid, signal.SIGKILL)


def bounded(ctr, *args, timeout=30):
    try:
        return ctr(*args, timeout=timeout)
    except subprocess.TimeoutExpired:
        return None


@needs_criu
def test_ctr_checkpoint_then_restore_counts_on(ctr, data):
    """A checkpoint image of the task (`ctr containers checkpoint --task`,
    the same task checkpoint, with the container's spec and runtime), the
    container removed, then `ctr containers restore --live` under a new id:
    the shim's restore (--detach, --pid-file, --no-subreaper, --work-path)
    has the counter count on from the checkpoint."""
    evidence = os.environ.get("GK_CKPT_EVIDENCE")
    trace_wrapper(ctr, evidence)
    cid = ctr.start_detached(*bind(data), cmd=("sh", "-c", COUNTER))
    wait_for(lambda: len(numbers(data)) >= 5, what="the counter")
    ref = "localhost/gk-ckpt/%s:1" % cid
    ctr_ok(ctr("containers", "checkpoint", "--task", cid, ref, timeout=300), "checkpoint")
    at = len(numbers(data))
    ctr.remove(cid)
    before = settled(data)
    new = ctr.new_id()
    restore = subprocess.Popen(ctr.cmd("containers", "restore", "--live", new, ref),
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    ok = False
    try:
        try:
            wait_for(lambda: ctr.task_status(new) == "RUNNING" or restore.poll() is not None,
                     timeout=120, what="the restored task")
        except AssertionError:
            pass
        if ctr.task_status(new) != "RUNNING":
            restore.kill()
            out, err = restore.communicate(timeout=30)
            raise AssertionError("restore: %s" % (err + out))
        wait_for(lambda: len(numbers(data)) > len(before) + 3, what="the restored counter")
        resumed = numbers(data)[len(before):]
        # from the count at the checkpoint (at or before `at`), then on by one
        assert 5 < resumed[0] <= at + 1, resumed[:5]
        assert resumed == list(range(resumed[0], resumed[0] + len(resumed)))
        ctr.remove(new)
        ok = True
    finally:
        if not ok:
            keep_evidence(ctr, evidence)
            bounded(ctr, "task", "kill", "-s", "SIGKILL", new)
            force_gone(ctr, new)
            bounded(ctr, "task", "rm", "-f", new)
            bounded(ctr, "containers", "rm", new)
        if restore.poll() is None:
            restore.kill()
        restore.wait(30)
        bounded(ctr, "images", "rm", ref)
    ctr.assert_clean()
