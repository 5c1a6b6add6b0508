#!/usr/bin/python3
"""gkrun against runc and crun (those installed) on the same bundles:

    tests/bench/runtime.py BUILD_DIR        (as root; `make bench` runs it)

(a) `run` of /bin/true, sequential; (b) create + start + delete; (c) peak RSS
of the runtime during `run` (wait4's ru_maxrss: the runtime and the children it
reaped); (d) the smallest memory limit a user can give the container
(linux.resources.memory.limit) under which `run` still succeeds, by
bisection (memlimit.py); (e) 100 `sleep` containers
created and started, then killed and deleted: times, and the memory the
containers hold (their cgroup tree's usage, the runtime having run inside it);
gkrun-ro is gkrun on a read-only bind mount of itself (contrib/gkrun-protect):
protected without re-executing per command.
(f) the floor: tests/bench/floor.c (namespaces, proc and /dev mounts,
pivot_root, exec) and a plain fork+exec of /bin/true.
Every runtime keeps its state (--root) on a tmpfs, as under /run.

Runtimes alternate inside every round, in a rotating order, so that noise from
other work on the machine hits them alike; medians and min-max are printed.
Everything runs in a private mount namespace with /sys/fs/cgroup/unified
unmounted: crun 1.8 refuses a hybrid host while that mount is visible.

Environment: BENCH_ROUNDS (rounds of a, b, f; default 40), BENCH_ROUNDS_100
(rounds of e; default 2), BENCH_RUNTIMES (default "gkrun gkrun-ro crun runc"),
BENCH_MEM_REPS (bisections in d; default 3),
GK_BENCH_BASELINE (another build dir: its gkrun joins every case as
"gkrun-before", in the same interleaved rounds, for before/after figures),
BENCH_WORK (scratch; default /tmp/gk-bench-rt.PID, removed at the end),
BENCH_RESULTS (a file to append the ratio lines run.sh tabulates to),
BENCH_QUICK=1 (only a, b, c and f: for quick comparisons while optimising),
BENCH_CASES (the cases to run, default "abcdef"; a, b, c and f run together).
Every container, cgroup and process made is removed on exit, Ctrl-C included.
"""
import ctypes
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time

import memlimit

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CG = "/sys/fs/cgroup"
PR_SET_CHILD_SUBREAPER = 36
MNT_DETACH = 2
libc = ctypes.CDLL(None, use_errno=True)


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Bench:
    def __init__(self, build):
        self.build = os.path.abspath(build)
        self.rounds = int(os.environ.get("BENCH_ROUNDS", "40"))
        self.rounds100 = int(os.environ.get("BENCH_ROUNDS_100", "2"))
        self.tag = "gk-bench-%d" % os.getpid()
        self.work = os.environ.get("BENCH_WORK") or "/tmp/%s" % self.tag.replace("bench", "bench-rt")
        self.rootfs = os.path.join(self.work, "rootfs")
        self.rt = {}
        names = os.environ.get("BENCH_RUNTIMES", "gkrun gkrun-ro crun runc").split()
        before = os.environ.get("GK_BENCH_BASELINE")
        if before:
            names.insert(names.index("gkrun") + 1 if "gkrun" in names else 0, "gkrun-before")
        for name in names:
            if name == "gkrun-before":
                path = os.path.join(os.path.abspath(before), "gkrun")
                if not os.access(path, os.X_OK):
                    sys.exit("runtime.py: GK_BENCH_BASELINE: %s is not executable" % path)
                self.rt[name] = path
                continue
            if name == "gkrun-ro":  # bound read-only over itself in setup()
                path = os.path.join(self.work, "gkrun-ro")
                self.rt[name] = path
                continue
            path = os.path.join(self.build, "gkrun") if name == "gkrun" else shutil.which(name)
            if path and os.access(path, os.X_OK):
                self.rt[name] = path
            else:
                log("runtime.py: %s not installed: skipped" % name)
        self.errlog = os.path.join(self.work, "stderr")
        self.seq = 0
        self.results = []

    # --- processes -----------------------------------------------------------
    def spawn(self, argv, cgroup=None):
        """Starts argv with stdio on /dev/null (stderr to self.errlog); with
        cgroup, the process joins that v1 memory cgroup before exec."""
        acts = [(os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
                (os.POSIX_SPAWN_OPEN, 1, "/dev/null", os.O_WRONLY, 0),
                (os.POSIX_SPAWN_OPEN, 2, self.errlog, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)]
        if cgroup:
            # dash is already in the page cache: what it charges before exec
            # is the same for every runtime
            argv = ["/bin/sh", "-c", 'echo $$ > "$0/cgroup.procs" && exec "$@"', cgroup] + argv
        return os.posix_spawn(argv[0], argv, os.environ, file_actions=acts)

    def wait(self, pid, timeout=None):
        """Waits for pid, reaping orphans (we are a subreaper) meanwhile.
        Returns (status, ru_maxrss KiB), or None after timeout seconds."""
        if timeout:
            signal.setitimer(signal.ITIMER_REAL, timeout)
        try:
            while True:
                p, st, ru = os.wait4(-1, 0)
                if p == pid:
                    return st, ru
        except TimeoutError:
            return None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)

    def reap(self):
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass

    def timed(self, argv, cgroup=None, ok=True, timeout=60):
        """Runs argv; returns (seconds, exit status, rusage)."""
        t0 = time.perf_counter()
        pid = self.spawn(argv, cgroup)
        r = self.wait(pid, timeout)
        dt = time.perf_counter() - t0
        if r is None:
            os.kill(pid, signal.SIGKILL)
            r = self.wait(pid)
        st = os.waitstatus_to_exitcode(r[0])
        if ok and st != 0:
            with open(self.errlog, errors="replace") as f:
                raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), st, f.read().strip()))
        return dt, st, r[1]

    def maxrss(self, argv):
        """Peak RSS (KiB) of argv, measured by bench-floor --maxrss (a small
        static parent: see floor.c)."""
        r = subprocess.run([self.floor, "--maxrss"] + argv, stdout=subprocess.PIPE,
                           stdin=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), r.returncode, r.stderr.strip()))
        return int(r.stdout.split()[-1])

    def rtcmd(self, name, *args):
        return [self.rt[name], "--root", os.path.join(self.work, "state", name)] + list(args)

    def new_id(self):
        self.seq += 1
        return "b%d" % self.seq

    # --- setup / cleanup -----------------------------------------------------
    def setup(self):
        os.makedirs(self.work, exist_ok=True)
        os.chmod(self.work, 0o755)
        subprocess.run(["sh", os.path.join(REPO, "bundle-spec/mkrootfs.sh"), self.rootfs],
                       check=True, stdout=subprocess.DEVNULL)
        self.floor = os.path.join(self.build, "bench-floor")
        if not os.access(self.floor, os.X_OK):
            self.floor = os.path.join(self.work, "bench-floor")
            subprocess.run(["cc", "-O2", "-static", "-o", self.floor,
                            os.path.join(REPO, "tests/bench/floor.c")], check=True)
        spec = os.path.join(self.work, "spec")
        os.makedirs(spec)
        subprocess.run([os.path.join(self.build, "gkrun"), "spec", "--bundle", spec], check=True)
        with open(os.path.join(spec, "config.json")) as f:
            self.base = json.load(f)
        self.base["ociVersion"] = "1.0.2"  # crun 1.8 and runc 1.1 refuse newer
        self.base["process"]["terminal"] = False
        self.base["process"]["args"] = ["/bin/true"]
        self.base["root"]["path"] = self.rootfs
        # The runtimes' state roots on a tmpfs, as /run (their default
        # --root) is on most hosts: on a disk mounted with `discard`, as
        # this VM's is, each state file freed waits for a discard.  The
        # mount lives in our private mount namespace.
        state = os.path.join(self.work, "state")
        os.makedirs(state)
        if libc.mount(b"tmpfs", state.encode(), b"tmpfs", 0, b"mode=0700,size=64m") != 0:
            sys.exit("runtime.py: mount tmpfs on %s: %s" % (state, os.strerror(ctypes.get_errno())))
        self.state_mnt = state
        if "gkrun-ro" in self.rt:
            self.bind_readonly(os.path.join(self.build, "gkrun"), self.rt["gkrun-ro"])
        for name in self.rt:
            os.makedirs(os.path.join(state, name))
            self.bundle(name, "/%s/%s" % (self.tag, name))
        self.make_parent_cgroups()

    def bind_readonly(self, src, dst):
        """gkrun-ro: the same binary on a read-only bind mount, as
        contrib/gkrun-protect leaves an installed gkrun: protected from the
        containers without a re-execution per command (runtime/container/selfclone.c).
        In our private mount namespace, gone with it."""
        MS_BIND, MS_RDONLY, MS_REMOUNT = 4096, 1, 32
        open(dst, "w").close()
        if libc.mount(src.encode(), dst.encode(), None, MS_BIND, None) != 0 or \
                libc.mount(None, dst.encode(), None, MS_BIND | MS_REMOUNT | MS_RDONLY, None) != 0:
            sys.exit("runtime.py: bind %s read-only: %s" % (src, os.strerror(ctypes.get_errno())))

    def make_parent_cgroups(self):
        """The containers' parent cgroup TAG, made beforehand in every
        hierarchy, as an orchestrator's slice exists before its containers:
        each runtime then makes and removes only the container's own
        cgroups (without it, the first run of crun or runc leaves TAG for
        the next, while gkrun removes the parents it made every time)."""
        for ctl in sorted(os.listdir(CG)):
            hier = os.path.join(CG, ctl)
            if not os.path.ismount(hier):
                continue  # cpu -> cpu,cpuacct links; cgroup2 hidden here
            top = os.path.join(hier, self.tag)
            os.makedirs(top, exist_ok=True)
            for f in ("cpuset.cpus", "cpuset.mems"):  # a new cpuset starts empty
                if os.path.exists(os.path.join(hier, f)):
                    with open(os.path.join(hier, f)) as src:
                        value = src.read().strip()
                    with open(os.path.join(top, f), "w") as dst:
                        dst.write(value)

    def bundle(self, sub, cgpath, args=None, memory=None):
        """A bundle dir (config.json only; the rootfs is shared, read-only);
        memory: linux.resources.memory."""
        d = os.path.join(self.work, "bundles", sub)
        os.makedirs(d, exist_ok=True)
        cfg = json.loads(json.dumps(self.base))
        cfg["linux"]["cgroupsPath"] = cgpath
        if args:
            cfg["process"]["args"] = args
        if memory:
            cfg["linux"].setdefault("resources", {})["memory"] = memory
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(cfg, f)
        return d

    def kill_rooted_in_work(self):
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                root = os.readlink("/proc/%s/root" % p)
            except OSError:
                continue
            if root.startswith(self.work + "/") or root == self.rootfs:
                try:
                    os.kill(int(p), signal.SIGKILL)
                except OSError:
                    pass

    def cgroups_ours(self):
        """Our cgroup dirs, deepest first, in every v1 hierarchy.  Under the
        unmounted unified/ they are plain tmpfs dirs (crun writes a
        cgroup.procs file in them): their files go first."""
        out = []
        for ctl in os.listdir(CG):
            top = os.path.join(CG, ctl, self.tag)
            if not os.path.isdir(top):
                continue
            plain = not os.path.ismount(os.path.join(CG, ctl))
            for d, _, files in os.walk(top):
                out.append(d)
                for f in files if plain else ():
                    os.unlink(os.path.join(d, f))
        return sorted(out, key=lambda d: -d.count("/"))

    def cleanup(self):
        for name in self.rt:
            state = os.path.join(self.work, "state", name)
            if not os.path.isdir(state):
                continue
            for cid in os.listdir(state):
                if os.path.isdir(os.path.join(state, cid)):
                    try:
                        self.timed(self.rtcmd(name, "delete", "--force", cid), ok=False, timeout=20)
                    except OSError:
                        pass
        self.kill_rooted_in_work()
        for d in self.cgroups_ours():
            try:
                with open(os.path.join(d, "cgroup.procs")) as f:
                    for p in f.read().split():
                        os.kill(int(p), signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)
        self.reap()
        for d in self.cgroups_ours():
            for _ in range(50):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
            else:
                log("runtime.py: could not remove cgroup %s" % d)
        if getattr(self, "state_mnt", None):
            libc.umount2(self.state_mnt.encode(), MNT_DETACH)
        if "gkrun-ro" in self.rt:  # a file bind: os.path.ismount cannot tell
            libc.umount2(self.rt["gkrun-ro"].encode(), MNT_DETACH)
        with open("/proc/self/mountinfo") as f:
            if (" " + self.work) in f.read():
                log("runtime.py: mounts left under %s: not removing it" % self.work)
                return
        shutil.rmtree(self.work, ignore_errors=True)

    # --- the cases -----------------------------------------------------------
    def run_argv(self, name):
        return self.rtcmd(name, "run", "--bundle", os.path.join(self.work, "bundles", name),
                          self.new_id())

    def one_run(self, name):
        """(wall seconds, CPU seconds of the runtime and what it reaped)"""
        dt, _, ru = self.timed(self.run_argv(name))
        return dt, ru.ru_utime + ru.ru_stime

    def one_csd(self, name):
        b = os.path.join(self.work, "bundles", name)
        cid = self.new_id()
        t0 = time.perf_counter()
        self.timed(self.rtcmd(name, "create", "--bundle", b, cid))
        self.timed(self.rtcmd(name, "start", cid))
        # --force: /bin/true may not have exited yet when start returns
        self.timed(self.rtcmd(name, "delete", "--force", cid))
        return time.perf_counter() - t0

    def rounds_abf(self):
        names = list(self.rt)
        run, cpu, csd, rss = ({n: [] for n in names} for _ in range(4))
        floor, fork = [], []
        for n in names:  # warm the page cache and the runtimes' first mkdirs
            self.one_run(n)
            self.one_csd(n)
        for r in range(self.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for n in order:
                dt, c = self.one_run(n)
                run[n].append(dt)
                cpu[n].append(c)
            for n in order:
                rss[n].append(self.maxrss(self.run_argv(n)))
            for n in order:
                csd[n].append(self.one_csd(n))
            floor.append(self.timed([self.floor, self.rootfs])[0])
            fork.append(self.timed([self.floor, "--fork", self.rootfs])[0])
        return run, cpu, csd, rss, floor, fork

    # (e) ---------------------------------------------------------------------
    def hundred(self, name, n=100):
        """n sleep containers, created and started one after another with the
        runtime inside memory cgroup TAG/NAME-e/run and the containers in
        TAG/NAME-e/cN; then killed and deleted.  Returns (start seconds,
        stop seconds, bytes the tree holds per container once all run, RSS KiB
        of processes other than the containers' own left running)."""
        base = "/%s/%s-e" % (self.tag, name)
        top = CG + "/memory" + base
        run_cg = top + "/run"
        os.makedirs(run_cg, exist_ok=True)
        bundles = [self.bundle("%s-e%d" % (name, i), "%s/c%d" % (base, i), ["sleep", "1000"])
                   for i in range(n)]
        ids = [self.new_id() for _ in range(n)]

        def usage():
            with open(top + "/memory.usage_in_bytes") as f:
                return int(f.read())
        before = usage()
        t0 = time.perf_counter()
        for b, cid in zip(bundles, ids):
            self.timed(self.rtcmd(name, "create", "--bundle", b, cid), cgroup=run_cg)
            self.timed(self.rtcmd(name, "start", cid), cgroup=run_cg)
        t1 = time.perf_counter()
        held = usage() - before
        extra = self.extra_rss(top, n)
        for cid in ids:
            self.timed(self.rtcmd(name, "kill", cid, "KILL"))
            self.timed(self.rtcmd(name, "delete", "--force", cid))
        t2 = time.perf_counter()
        self.reap()
        return t1 - t0, t2 - t1, held / n, extra

    def extra_rss(self, top, n):
        """RSS (KiB) of processes in the tree that are not a container's
        sleep: what the runtime keeps running beside its containers."""
        total = 0
        for d, _, _ in os.walk(top):
            with open(os.path.join(d, "cgroup.procs")) as f:
                for p in f.read().split():
                    try:
                        with open("/proc/%s/comm" % p) as c:
                            if c.read().strip() == "sleep":
                                continue
                        with open("/proc/%s/status" % p) as s:
                            for line in s:
                                if line.startswith("VmRSS:"):
                                    total += int(line.split()[1])
                    except OSError:
                        pass
        return total

    # --- report --------------------------------------------------------------
    def result(self, metric, ratio, op, goal, detail, info=False):
        """A ratio line; info: a figure without a goal (the baseline's)."""
        ok = {">=": ratio >= goal, ">": ratio > goal, "<=": ratio <= goal}[op]
        self.results.append((metric, ratio, "-" if info else "%s %g" % (op, goal),
                             "INFO" if info else "PASS" if ok else "MISS", detail))

    def gkruns(self):
        """gkrun and, with GK_BENCH_BASELINE, gkrun-before: (name, info)."""
        return [(g, g != "gkrun") for g in ("gkrun", "gkrun-before") if g in self.rt]

    def report_abf(self, run, cpu, csd, rss, floor, fork):
        names = list(self.rt)
        ms = lambda xs: "%7.2f ms  (%.2f-%.2f)" % (statistics.median(xs) * 1e3, min(xs) * 1e3, max(xs) * 1e3)  # noqa: E731
        print("\n(a) run of /bin/true, median (min-max); CPU time (user+sys, with the children reaped)")
        for n in names:
            print("  %-12s %s  CPU %5.2f ms" % (n, ms(run[n]), statistics.median(cpu[n]) * 1e3))
        print("  %-12s %s   (namespaces + proc, /dev + pivot_root + exec)" % ("floor", ms(floor)))
        print("  %-12s %s   (fork + exec of /bin/true)" % ("fork", ms(fork)))
        print("\n(b) create + start + delete")
        for n in names:
            print("  %-12s %s" % (n, ms(csd[n])))
        print("\n(c) peak RSS during run (KiB), median (min-max)")
        for n in names:
            print("  %-12s %7d  (%d-%d)" % (n, statistics.median(rss[n]), min(rss[n]), max(rss[n])))
        med = {k: {n: statistics.median(v[n]) for n in names} for k, v in
               (("run", run), ("csd", csd), ("rss", rss))}
        fl = statistics.median(floor)
        for g, _ in self.gkruns():
            for o in names:
                if o != g:
                    print("  ratios %s/%s: run %.2fx, create+start+delete %.2fx, peak RSS %.2fx" %
                          (o, g, med["run"][o] / med["run"][g], med["csd"][o] / med["csd"][g],
                           med["rss"][o] / med["rss"][g]))
            print("  %s run / floor: %.2fx" % (g, med["run"][g] / fl))
        print("  floor / fork+exec: %.2fx" % (fl / statistics.median(fork)))
        if "gkrun-ro" in names:
            print("  gkrun-ro run / floor: %.2fx; crun/gkrun-ro: run %.2fx" %
                  (med["run"]["gkrun-ro"] / fl,
                   med["run"].get("crun", float("nan")) / med["run"]["gkrun-ro"]))
        sys.stdout.flush()
        c = "crun"
        if c not in names:
            return
        for g, info in self.gkruns():
            self.result("run /bin/true: crun / %s" % g, med["run"][c] / med["run"][g], ">=", 1.5,
                        "%.2f vs %.2f ms" % (med["run"][g] * 1e3, med["run"][c] * 1e3), info)
            self.result("run /bin/true: %s / floor" % g, med["run"][g] / fl, "<=", 2.0,
                        "%.2f vs %.2f ms" % (med["run"][g] * 1e3, fl * 1e3), info)
            self.result("create+start+delete: crun / %s" % g, med["csd"][c] / med["csd"][g], ">=",
                        1.25, "%.2f vs %.2f ms" % (med["csd"][g] * 1e3, med["csd"][c] * 1e3), info)
            self.result("peak RSS of run: crun / %s" % g, med["rss"][c] / med["rss"][g], ">=", 2.0,
                        "%d vs %d KiB" % (med["rss"][g], med["rss"][c]), info)

    def case_d(self):
        """(d): what a user would find (memlimit.py); the runtimes with the
        same binary as another (gkrun-ro) are left out."""
        names = [n for n in self.rt if n != "gkrun-ro"]
        reps = int(os.environ.get("BENCH_MEM_REPS", "3"))
        m = memlimit.MemLimit(self, names, reps=reps)
        self.memlimit = m
        print("\n(d) smallest linux.resources.memory.limit under which run of /bin/true succeeds "
              "(cgroup %s; bisection on 4 KiB steps, runtimes alternating, %d runs per limit), "
              "median (min-max)" % ("v2" if m.v2 else "v1", m.tries))
        sys.stdout.flush()
        m.setup()
        lims = m.bisect()
        med = {}
        for n in names:
            med[n], text = memlimit.summary(lims[n])
            print("  %-12s %s; OOM kills %d, other failures %d" % (n, text, m.ooms[n], m.fails[n]))
        for g, info in self.gkruns():
            for o in ("crun", "runc"):
                if med.get(g) and med.get(o):
                    self.result("min memory limit: %s / %s" % (g, o), med[g] / med[o], "<=", 1.0,
                                "%d vs %d KiB" % (med[g] // 1024, med[o] // 1024), info)
        sys.stdout.flush()

    def case_e(self):
        names = list(self.rt)
        print("\n(e) %d x: 100 sleep containers created+started, then killed+deleted" % self.rounds100)
        hund = {n: [] for n in names}
        for r in range(self.rounds100):
            for n in names[r % len(names):] + names[:r % len(names)]:
                hund[n].append(self.hundred(n))
        for n in names:
            h = hund[n]
            up = statistics.median(x[0] for x in h)
            down = statistics.median(x[1] for x in h)
            print("  %-12s up %6.2f s, down %6.2f s, total %6.2f s; held per container %5d KiB; "
                  "runtime processes left: %d KiB" %
                  (n, up, down, up + down, statistics.median(x[2] for x in h) / 1024,
                   statistics.median(x[3] for x in h)))
        c = "crun"
        if c not in names:
            return
        for g, info in self.gkruns():
            tot = {n: statistics.median(x[0] + x[1] for x in hund[n]) for n in (g, c)}
            mem = {n: statistics.median(x[2] for x in hund[n]) for n in (g, c)}
            self.result("100 containers, time: crun / %s" % g, tot[c] / tot[g], ">", 1.0,
                        "%.2f vs %.2f s" % (tot[g], tot[c]), info)
            self.result("100 containers, memory each: crun / %s" % g, mem[c] / mem[g], ">", 1.0,
                        "%d vs %d KiB" % (mem[g] // 1024, mem[c] // 1024), info)

    def main(self):
        cases = os.environ.get("BENCH_CASES", "abcdef")
        if os.environ.get("BENCH_QUICK"):
            cases = "abcf"
        print("runtimes: " + ", ".join("%s (%s)" % (n, p) for n, p in self.rt.items()))
        print("rounds: %d (a, b, f), %d (e); %s" % (self.rounds, self.rounds100, time.strftime("%F %T")))
        if set("abcf") & set(cases):
            self.report_abf(*self.rounds_abf())
        if "d" in cases:
            self.case_d()
        if "e" in cases:
            self.case_e()
        print("\nratios (gkrun first in each figure pair):")
        for m, r, goal, v, detail in self.results:
            print("  %-50s %6.2f  goal %-6s %s  (%s)" % (m, r, goal, v, detail))
        out = os.environ.get("BENCH_RESULTS")
        if out:
            with open(out, "a") as f:
                for m, r, goal, v, detail in self.results:
                    f.write("%s\t%.2f\t%s\t%s\t%s\n" % (m, r, goal, v, detail))


def enter_namespace():
    """Re-executes this script in a private mount namespace without the
    empty cgroup2 mount (crun refuses hybrid hosts while it is visible)."""
    if os.environ.get("GK_BENCH_INNER") == "1":
        if os.path.ismount(CG + "/unified"):
            if libc.umount2(CG.encode() + b"/unified", MNT_DETACH) != 0:
                sys.exit("runtime.py: umount %s/unified: %s" % (CG, os.strerror(ctypes.get_errno())))
        return
    os.environ["GK_BENCH_INNER"] = "1"
    os.execvp("unshare", ["unshare", "-m", "--propagation", "private",
                          sys.executable, os.path.abspath(__file__)] + sys.argv[1:])


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: runtime.py BUILD_DIR")
    if os.getuid() != 0:
        sys.exit("runtime.py: run as root")
    enter_namespace()
    b = Bench(sys.argv[1])
    if "gkrun" not in b.rt:
        sys.exit("runtime.py: %s/gkrun not built" % b.build)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("runtime.py: prctl(PR_SET_CHILD_SUBREAPER) failed")

    def on_signal(sig, frame):
        raise KeyboardInterrupt
    def on_alarm(sig, frame):
        raise TimeoutError
    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    try:
        b.setup()
        b.main()
    except KeyboardInterrupt:
        log("runtime.py: interrupted, cleaning up")
        return 130
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        b.cleanup()
        if getattr(b, "memlimit", None):  # on v2, not under b's hierarchies
            b.memlimit.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
