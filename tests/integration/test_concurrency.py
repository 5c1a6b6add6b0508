"""Many gkrun commands at once on one --root, as orchestrators issue them:
parallel creates of distinct ids and of one id, delete racing start, list
while containers come and go.  Each test asserts what a user observes and
that nothing (state dir, cgroup, process) is left.  Parallel pulls of the
same and of different images: test_pull.py::test_concurrent_pulls_both_succeed
and test_unpack.py::test_concurrent_unpacks_of_one_layer."""
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from conftest import cgroup_dirs
from gkcli import poll

N = 50
SLOW = 120  # seconds for one gkrun command: N of them share two cores


def parallel(fn, items, workers=N):
    with ThreadPoolExecutor(max_workers=workers) as ex:
        return list(ex.map(fn, items))


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return False


def wait_dead(pid, timeout=5):
    poll(lambda: not alive(pid), timeout)


def assert_gone(gk, cid, pid=None):
    assert not os.path.exists(os.path.join(gk.root, cid)), cid
    assert cgroup_dirs(cid) == [], cid
    if pid:
        assert not alive(pid), "init %d of %s still runs" % (pid, cid)


def test_parallel_creates_of_distinct_ids(gk):
    b = gk.bundle(["/bin/sleep", "100"])
    b.write()
    ids = [gk.new_id() for _ in range(N)]
    res = parallel(lambda cid: gk.gkrun("create", "--bundle", b.path, cid, timeout=SLOW), ids)
    for cid, p in zip(ids, res):
        assert p.returncode == 0, "%s: %s" % (cid, p.stderr)
    assert sorted(gk.gkrun("list", "-q", timeout=SLOW).stdout.split()) == sorted(ids)
    pids = {cid: gk.state(cid)["pid"] for cid in ids}
    assert len(set(pids.values())) == N
    assert all(gk.state(cid)["status"] == "created" for cid in ids[:5])
    res = parallel(lambda cid: gk.gkrun("delete", "--force", cid, timeout=SLOW), ids)
    for cid, p in zip(ids, res):
        assert p.returncode == 0, "%s: %s" % (cid, p.stderr)
        assert_gone(gk, cid, pids[cid])
    assert gk.gkrun("list", "-q", timeout=SLOW).stdout.strip() == ""


def test_parallel_creates_of_one_id(gk):
    """Exactly one create wins; the others fail with runc's message and
    take nothing of the winner's away (state, cgroup, init)."""
    b = gk.bundle(["/bin/sleep", "100"])
    b.write()
    cid = gk.new_id()
    res = parallel(lambda _: gk.gkrun("create", "--bundle", b.path, cid, timeout=SLOW), range(N))
    winners = [p for p in res if p.returncode == 0]
    assert len(winners) == 1, [p.stderr for p in winners]
    for p in res:
        if p.returncode != 0:
            assert p.stderr.strip() == "gkrun: container with id exists: %s" % cid, p.stderr
    st = gk.state(cid)
    assert st["status"] == "created" and alive(st["pid"])
    assert cgroup_dirs(cid) != []
    assert gk.gkrun("list", "-q", timeout=SLOW).stdout.split() == [cid]
    gk.gkrun("start", cid, check=True)
    assert gk.state(cid)["status"] == "running"
    gk.gkrun("delete", "--force", cid, check=True)
    assert_gone(gk, cid, st["pid"])


def race(*calls):
    """Runs the calls at the same moment; returns their results in order."""
    barrier = threading.Barrier(len(calls))
    out = [None] * len(calls)

    def one(i):
        barrier.wait()
        out[i] = calls[i]()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


def test_delete_force_racing_start(gk):
    """Whichever comes first, the container ends up gone: no state, no
    cgroup, no process; start either ran it or says it does not exist."""
    b = gk.bundle(["/bin/sleep", "100"])
    b.write()
    for _ in range(10):
        cid = gk.new_id()
        gk.gkrun("create", "--bundle", b.path, cid, check=True)
        pid = gk.state(cid)["pid"]
        start, delete = race(lambda: gk.gkrun("start", cid, timeout=SLOW),
                             lambda: gk.gkrun("delete", "--force", cid, timeout=SLOW))
        assert delete.returncode == 0, delete.stderr
        assert start.returncode == 0 or "does not exist" in start.stderr or \
            "cannot start" in start.stderr, start.stderr
        wait_dead(pid)
        assert_gone(gk, cid, pid)


def test_delete_racing_start(gk):
    """Plain delete: either delete wins (the created container goes, start
    fails) or start wins (delete refuses a running container)."""
    b = gk.bundle(["/bin/sleep", "100"])
    b.write()
    for _ in range(10):
        cid = gk.new_id()
        gk.gkrun("create", "--bundle", b.path, cid, check=True)
        pid = gk.state(cid)["pid"]
        start, delete = race(lambda: gk.gkrun("start", cid, timeout=SLOW),
                             lambda: gk.gkrun("delete", cid, timeout=SLOW))
        if delete.returncode == 0:
            assert start.returncode != 0 or not alive(pid), start.stderr
            assert_gone(gk, cid)
        else:
            assert start.returncode == 0, start.stderr
            assert "not stopped" in delete.stderr, delete.stderr
            assert gk.state(cid)["status"] == "running"
        gk.gkrun("delete", "--force", cid)
        wait_dead(pid)
        assert_gone(gk, cid, pid)


def test_list_and_state_while_containers_come_and_go(gk):
    """list and state never fail on a container half created or half
    deleted by another gkrun."""
    b = gk.bundle(["/bin/sleep", "100"])
    b.write()
    stop = threading.Event()
    errors = []

    def lister():
        while not stop.is_set():
            p = gk.gkrun("list", "--format", "json", timeout=SLOW)
            if p.returncode != 0:
                errors.append(p.stderr)

    def churn(cid):
        c = gk.gkrun("create", "--bundle", b.path, cid, timeout=SLOW)
        s = gk.gkrun("state", cid, timeout=SLOW)
        d = gk.gkrun("delete", "--force", cid, timeout=SLOW)
        return c, s, d

    t = threading.Thread(target=lister)
    t.start()
    try:
        ids = [gk.new_id() for _ in range(20)]
        res = parallel(churn, ids, workers=10)
    finally:
        stop.set()
        t.join()
    assert errors == []
    for cid, (c, s, d) in zip(ids, res):
        assert c.returncode == 0 and s.returncode == 0 and d.returncode == 0, \
            (c.stderr, s.stderr, d.stderr)
        assert_gone(gk, cid)
