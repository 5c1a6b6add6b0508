/* One cgroup interface for gkrun, with a v1 and a v2 implementation behind
 * it, chosen by what the host has: pure v2 (unified), pure v1, or hybrid
 * (v1 controllers plus a v2 mount holding few or none: v1 is used for what
 * v1 holds).  Callers never ask which version is in use.
 *
 * Lifetime: gk_cgroup_plan() and the two makes at create time, around the
 * init's clone (they make the directories and apply linux.resources),
 * gk_cgroup_enter() moves the init in (or the init joins by itself,
 * gk_cgroup_enter_self()), gk_cgroup_to_string() gives the text saved in
 * the state file, gk_cgroup_open() rebuilds the handle from that
 * text for later commands, gk_cgroup_destroy() removes every directory
 * create made.  Nothing outside the container's own cgroups is touched. */
#ifndef GK_RUNTIME_CGROUP_H
#define GK_RUNTIME_CGROUP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "gk/error.h"
#include "gk/spec.h"

typedef struct gk_cgroup gk_cgroup;

/* The container's cgroup, made in three steps so that the slow part can
 * run while the container's init makes its namespaces.  plan resolves the
 * path (linux.cgroupsPath, or the default /gkrun/ID) and validates
 * RESOURCES (may be NULL; kept by pointer until make_late), making
 * nothing; SYSTEMD selects the --systemd-cgroup driver (slice:prefix:name);
 * make_early makes what must exist before the clone (the v2 directory
 * that CLONE_INTO_CGROUP names, and on pure v2 RESOURCES applied to it,
 * so that the init is charged against its limits from birth); make_late
 * makes the rest (the v1 directories, which the init joins itself) and
 * applies RESOURCES there.  A failing make removes what the makes before
 * it made. */
int gk_cgroup_plan(const char *id, const char *cgroups_path, const gk_resources *resources,
                   bool systemd, gk_cgroup **out, gk_error **err);
int gk_cgroup_make_early(gk_cgroup *cg, gk_error **err);
int gk_cgroup_make_late(gk_cgroup *cg, gk_error **err);
/* Whether a make has made a directory yet (the state must name it). */
bool gk_cgroup_made_any(const gk_cgroup *cg);

/* The container's directory on each hierarchy it is placed in, as the
 * host mounts them: FN(MNT, DIR, ARG) with the hierarchy's mount point
 * and the directory below it ("/sys/fs/cgroup/memory" and
 * "/sys/fs/cgroup/memory/gkrun/ID"); the v1 hierarchies first, then the
 * cgroup2 mount (pure v2 or hybrid).  Stops at FN's first negative
 * return, which it returns. */
typedef int (*gk_cgroup_dir_fn)(const char *mnt, const char *dir, void *arg);
int gk_cgroup_each_dir(const gk_cgroup *cg, gk_cgroup_dir_fn fn, void *arg);

/* Moves PID into the container's cgroups on every hierarchy. */
int gk_cgroup_enter(gk_cgroup *cg, pid_t pid, gk_error **err);

/* A directory fd of the v2 cgroup for clone3(CLONE_INTO_CGROUP), or -1 when
 * the host is not pure v2 (then use gk_cgroup_enter). Owned by cg. */
int gk_cgroup_v2_fd(gk_cgroup *cg);
/* On v2, a new fd (the caller's) of the sub-cgroup of the container's
 * cgroup that PID is in, -1 when PID is in the container's cgroup itself
 * or anything else.  Processes exec'd into a container go there: an init
 * like systemd moves itself to a sub-cgroup and enables controllers, and
 * then v2 refuses processes in the container's cgroup (EBUSY). */
int gk_cgroup_v2_open_of(gk_cgroup *cg, pid_t pid);

/* The fast way in for a container's init, without gk_cgroup_enter: on v1 a
 * write of another process's pid to cgroup.procs takes the kernel's global
 * threadgroup lock, whose first writer waits for an RCU grace period
 * (milliseconds), while a thread that writes "0" to `tasks` moves itself
 * without it.  So: gk_cgroup_clone_fd() gives the v2 directory (pure v2 or
 * the hybrid's cgroup2 mount; -1 without one) for clone3(CLONE_INTO_CGROUP),
 * and the single-threaded child then calls gk_cgroup_enter_self() for the
 * v1 hierarchies, before it joins any namespace (directories made by
 * make_late after the clone it opens by path, still seeing the host's
 * cgroup mounts).  -1 too with the systemd driver: then the parent uses
 * gk_cgroup_enter. */
int gk_cgroup_clone_fd(gk_cgroup *cg);
bool gk_cgroup_self_enter_ok(const gk_cgroup *cg);
/* Whether a child cloned through gk_cgroup_clone_fd() is in its memory
 * cgroup from birth (pure v2): all it allocates then counts against the
 * container's memory limit. */
bool gk_cgroup_clone_charges(const gk_cgroup *cg);
/* Parent: the v1 hierarchies' `tasks` files, opened for writing, into
 * FDS (at most MAX), in hierarchy order; their number (0 for a NULL CG),
 * or -errno.  The init joins through them without a path lookup of its
 * own. */
int gk_cgroup_join_fds(gk_cgroup *cg, int *fds, size_t max, gk_error **err);
/* Init: joins every v1 hierarchy, through FDS (from gk_cgroup_join_fds,
 * closed here) or, past N, by path; closes every cgroup fd it holds. */
int gk_cgroup_enter_self(gk_cgroup *cg, const int *fds, size_t n, gk_error **err);

/* Serialised form kept in the container's state, and back. */
int gk_cgroup_to_string(const gk_cgroup *cg, char **out, gk_error **err);
int gk_cgroup_open(const char *saved, gk_cgroup **out, gk_error **err);

/* The path shown to users and to `state` annotations ("/gkrun/ID"). */
const char *gk_cgroup_path(const gk_cgroup *cg);

/* PIDs of every process in the container's cgroup (malloc'd). */
int gk_cgroup_pids(gk_cgroup *cg, pid_t **pids, size_t *n, gk_error **err);

/* Signals every process in the cgroup (v2 cgroup.kill for SIGKILL where
 * present). */
int gk_cgroup_kill_all(gk_cgroup *cg, int sig, gk_error **err);

/* Freezer: v1 freezer.state, v2 cgroup.freeze; waits until frozen. */
int gk_cgroup_freeze(gk_cgroup *cg, bool freeze, gk_error **err);
int gk_cgroup_is_frozen(gk_cgroup *cg, bool *frozen, gk_error **err);

/* Applies new limits to a live container (gkrun update). */
int gk_cgroup_update(gk_cgroup *cg, const gk_resources *resources,
                     gk_error **err);

/* Per-device block I/O totals (v1 blkio.throttle.*_recursive, v2 io.stat). */
typedef struct gk_cgroup_blkio_dev {
        uint32_t major, minor;
        uint64_t read_bytes, write_bytes, read_ios, write_ios;
} gk_cgroup_blkio_dev;

#define GK_CGROUP_BLKIO_MAX 32

typedef struct gk_cgroup_stats {
        uint64_t mem_usage, mem_limit, mem_max_usage, mem_failcnt;
        uint64_t swap_usage, swap_limit;
        uint64_t cpu_usage_ns, cpu_user_ns, cpu_system_ns;
        uint64_t cpu_throttled_periods, cpu_throttled_time_ns, cpu_periods;
        uint64_t pids_current, pids_limit;
        uint64_t oom_kill_count; /* oom kills so far */
        uint64_t mem_cache;      /* page cache charged to the cgroup */
        gk_cgroup_blkio_dev blkio[GK_CGROUP_BLKIO_MAX];
        size_t n_blkio;
} gk_cgroup_stats;

int gk_cgroup_stats_read(gk_cgroup *cg, gk_cgroup_stats *st, gk_error **err);

/* A pollable fd (POLLIN) that wakes up when the memory controller may have
 * seen an OOM (v1 eventfd on memory.oom_control, v2 inotify on
 * memory.events); compare oom_kill_count after a wake-up.  The caller
 * closes it. */
int gk_cgroup_oom_fd(gk_cgroup *cg, gk_error **err);

/* Removes the container's cgroups on every hierarchy (kills nothing: the
 * caller kills first); an already missing cgroup is fine. */
int gk_cgroup_destroy(gk_cgroup *cg, gk_error **err);

void gk_cgroup_free(gk_cgroup *cg);
void gk_cgroup_freep(gk_cgroup **cg);

/* The init's copy of CG, whose inherited directory fds the init has closed
 * (init.c): they are opened again by path if needed. */
void gk_cgroup_forget_fds(gk_cgroup *cg);

#endif
