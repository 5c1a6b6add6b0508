"""The smallest memory limit a user can give a container that runs /bin/true,
per runtime, as a user would find it: a bundle whose config.json says
linux.resources.memory.limit = L, `RUNTIME run` of it, success when the
run exits 0 and the kernel OOM-killed nothing.  L is bisected per runtime
in 4 KiB steps; every bisection step runs each runtime in a rotating order,
so that whatever else the machine does hits them alike; a limit passes when
TRIES runs in a row succeed; the whole bisection is repeated REPS times.

The runtimes themselves run outside the limited cgroup (as a user's shell
or an orchestrator would): what counts is what each charges to the
container's cgroup, from the moment its init is in there (the namespaces
and mounts it makes then, the pages it dirties, the exec of /bin/true).

Until this, (d) put the runtime itself in the limited cgroup and the
container in an unlimited one: it measured the runtime's own charge up to
the moment its init joined the container's cgroup (gkrun being one small
static binary, it came out below crun), not what the container costs.

Each runtime's containers go under a parent cgroup of their own, TAG/m-NAME
(made here on every v1 hierarchy, or on v2 with the memory controller
enabled for its children).  An OOM kill is told apart from other failures
by the kill count (see oom_kills).  Works on v1 (hybrid too) and pure v2.

Used by runtime.py (d); it gives the Bench (its rtcmd, timed, bundle, tag,
reap).  Everything made is removed by cleanup(), which runtime.py calls.
"""
import os
import signal
import statistics
import time

CG = "/sys/fs/cgroup"
STEP = 4096


def v2_only():
    return os.path.exists(os.path.join(CG, "cgroup.controllers"))


class MemLimit:
    def __init__(self, bench, names, reps=3, tries=3, hi=64 << 20):
        self.b = bench
        self.names = names
        self.reps = reps
        self.tries = tries
        self.hi = hi
        self.v2 = v2_only()
        self.made = []  # our parent cgroup dirs, outermost first
        self.ooms = {n: 0 for n in names}
        self.fails = {n: 0 for n in names}
        self.seq = 0

    # --- cgroups ---------------------------------------------------------------
    def hierarchies(self):
        if self.v2:
            return [CG]
        return [os.path.join(CG, c) for c in sorted(os.listdir(CG))
                if os.path.ismount(os.path.join(CG, c))]

    def mkdir(self, hier, rel):
        d = os.path.join(hier, rel)
        if os.path.isdir(d):
            return
        os.mkdir(d)
        self.made.append(d)
        parent = os.path.dirname(d)
        for f in ("cpuset.cpus", "cpuset.mems"):  # a new v1 cpuset starts empty
            if not self.v2 and os.path.exists(os.path.join(d, f)):
                with open(os.path.join(parent, f)) as src:
                    value = src.read().strip()
                with open(os.path.join(d, f), "w") as dst:
                    dst.write(value)

    def enable_memory(self, d):
        """v2: the memory controller (and what the runtimes may ask for)
        for the children of d."""
        with open(os.path.join(d, "cgroup.controllers")) as f:
            avail = f.read().split()
        with open(os.path.join(d, "cgroup.subtree_control")) as f:
            have = f.read().split()
        want = [c for c in ("cpu", "io", "memory", "pids") if c in avail and c not in have]
        if want:
            with open(os.path.join(d, "cgroup.subtree_control"), "w") as f:
                f.write(" ".join("+" + c for c in want))

    def setup(self):
        tag = self.b.tag
        for hier in self.hierarchies():
            self.mkdir(hier, tag)
            for n in self.names:
                self.mkdir(hier, "%s/m-%s" % (tag, n))
        if self.v2:
            for p in [CG, os.path.join(CG, tag)] + [self.parent(n) for n in self.names]:
                self.enable_memory(p)

    def parent(self, name):
        return os.path.join(CG, "" if self.v2 else "memory", self.b.tag, "m-" + name)

    def oom_kills(self, name):
        """OOM kills so far: on v2 those under NAME's parent (memory.events
        counts up the hierarchy); v1 counts them only in the container's
        own cgroup, which the runtime removes: there, the host's count
        (which only tells a failure's cause)."""
        if self.v2:
            path, key = os.path.join(self.parent(name), "memory.events"), "oom_kill"
        else:
            path, key = "/proc/vmstat", "oom_kill"
        with open(path) as fh:
            for line in fh:
                k, v = line.split()
                if k == key:
                    return int(v)
        return 0

    def remove_container_cgroup(self, rel):
        """What the runtime left of the container's cgroup (it should remove
        it itself): processes killed, directories removed, deepest first.
        On a hybrid host, the plain directory under the unmounted unified/
        (where crun makes its v2 cgroup, files and all) too."""
        dirs = [os.path.join(h, rel) for h in self.hierarchies()]
        plain = os.path.join(CG, "unified")
        if not self.v2 and os.path.isdir(plain) and not os.path.ismount(plain):
            dirs.append(os.path.join(plain, rel))
        for top in dirs:
            for d, _, files in sorted(os.walk(top), key=lambda e: -e[0].count("/")):
                if top.startswith(plain + "/"):
                    for f in files:
                        os.unlink(os.path.join(d, f))
                for _ in range(100):
                    self.kill_in(d)
                    try:
                        os.rmdir(d)
                        break
                    except FileNotFoundError:
                        break
                    except OSError:
                        time.sleep(0.01)
                        self.b.reap()

    def kill_in(self, d):
        try:
            with open(os.path.join(d, "cgroup.procs")) as f:
                for p in f.read().split():
                    try:
                        os.kill(int(p), signal.SIGKILL)
                    except OSError:
                        pass
        except OSError:
            pass

    def cleanup(self):
        for d in reversed(self.made):
            self.kill_in(d)
            for _ in range(100):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
                    self.b.reap()
            else:
                print("memlimit: could not remove cgroup %s" % d)
        self.made = []

    # --- one try ---------------------------------------------------------------
    def try_limit(self, name, limit):
        """One `run` of /bin/true limited to LIMIT bytes: True when it exited 0
        and nothing was OOM-killed.  Leaves nothing behind."""
        self.seq += 1
        rel = "%s/m-%s/c%d" % (self.b.tag, name, self.seq)
        bundle = self.b.bundle("%s-m" % name, "/" + rel,
                               memory={"limit": limit})
        cid = self.b.new_id()
        before = self.oom_kills(name)
        _, st, _ = self.b.timed(self.b.rtcmd(name, "run", "--bundle", bundle, cid),
                                ok=False, timeout=30)
        if os.path.isdir(os.path.join(self.b.work, "state", name, cid)):
            self.b.timed(self.b.rtcmd(name, "delete", "--force", cid), ok=False, timeout=20)
        self.remove_container_cgroup(rel)
        self.b.reap()
        killed = self.oom_kills(name) - before
        # v1's count is the host's: a kill elsewhere must not fail a run
        # that exited 0 (a kill in the container would have shown in st)
        ok = st == 0 and not (killed and self.v2)
        if not ok:
            self.ooms[name] += killed
            self.fails[name] += not killed
        return ok

    def passes(self, name, limit):
        return all(self.try_limit(name, limit) for _ in range(self.tries))

    # --- the bisection -----------------------------------------------------------
    def bisect(self):
        """REPS bisections of every runtime, stepped together in a rotating
        order.  Returns {name: [smallest passing limit per rep, None when
        even hi failed]}."""
        out = {n: [] for n in self.names}
        turn = 0
        for _ in range(self.reps):
            lo = {n: 0 for n in self.names}
            hi = {n: self.hi for n in self.names}
            first = True
            while True:
                live = [n for n in self.names if hi[n] is not None and hi[n] - lo[n] > STEP]
                if not live:
                    break
                turn += 1
                k = turn % len(live)
                for n in live[k:] + live[:k]:
                    if first:  # the upper bound must pass, or the runtime fails
                        if not self.passes(n, hi[n]):
                            hi[n] = None
                        continue
                    mid = (lo[n] + hi[n]) // 2 // STEP * STEP
                    if self.passes(n, mid):
                        hi[n] = mid
                    else:
                        lo[n] = mid
                first = False
            for n in self.names:
                out[n].append(hi[n])
        return out


def summary(limits):
    """(median bytes or None, "median KiB (min-max)" text)"""
    ok = [x for x in limits if x is not None]
    if not ok:
        return None, "failed even at the upper bound"
    med = statistics.median(ok)
    return med, "%4d KiB  (%d-%d over %d bisections)" % (
        med // 1024, min(ok) // 1024, max(ok) // 1024, len(ok))
