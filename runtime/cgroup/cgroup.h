/* cgroup/: every cgroup gkrun makes, joins, changes, reads or removes,
 * v1, v2, hybrid and systemd (sdbus_dl.c dlopen()s libsystemd).  It knows
 * nothing of containers beyond the linux.resources and cgroupsPath it is
 * given, never touches a cgroup it did not make (or was not named), and
 * never prints.  Its one outside dependency: the join handle is sent over
 * spawn/'s sync socket (cgroup_join.c).
 *
 * One cgroup interface for gkrun, with a v1 and a v2 implementation behind
 * it, chosen by what the host has: pure v2 (unified), pure v1, or hybrid
 * (v1 controllers plus a v2 mount holding few or none: v1 is used for what
 * v1 holds).  Callers never ask which version is in use.
 *
 * Lifetime: gk_cgroup_plan() and the two makes at create time, around the
 * init's clone (they make the directories and apply linux.resources), the
 * join handle gets the init in (or gk_cgroup_enter() moves a process in
 * from outside), gk_cgroup_to_string() gives the text saved in
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
/* Rootless, as runc's rootless cgroup manager: no device rules are
 * applied, not even the default ones (a user can load no device program
 * on v2 nor write devices.deny on v1).  Call between plan and the makes. */
void gk_cgroup_no_devices(gk_cgroup *cg);

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

/* How a new process (a container's init, or a process exec'd into it)
 * gets into the container's cgroups, the fastest way the host allows: on
 * v2 it is cloned into its cgroup (clone3 CLONE_INTO_CGROUP); on v1 it
 * writes "0" to each hierarchy's `tasks` itself, through files the parent
 * opened (moving another process by pid costs the kernel an RCU grace
 * period, milliseconds); under --systemd-cgroup the parent moves it (the
 * scope needs its pid).  The caller knows none of that:
 *
 *   parent                                 child
 *   gk_cgroup_join_prepare(cg, 0, &j)
 *   clone3 into gk_cgroup_join_clone_fd(j)
 *   (gk_cgroup_join_clone_fd_unused(j)
 *    if the clone could not take it)
 *   gk_cgroup_join_send(j, pid, sync) ---> gk_cgroup_join_recv(cg, sync)
 *   gk_cgroup_join_free(j)                 (GK_SYNC_GO received, joined)
 *
 * The child calls gk_cgroup_join_recv first thing, with the caller's
 * credentials, before it joins any namespace; it uses only what GO
 * carries, never a directory fd the parent's CG held (the child closes
 * every inherited fd it does not keep). */
typedef struct gk_cgroup_join gk_cgroup_join;

/* Parent, before the clone.  CG may be NULL (no cgroup: GO carries
 * nothing).  LEADER: for a process exec'd into a running container, its
 * init (on v2 the process goes to the sub-cgroup the init sits in, when
 * it moved itself below the container's); 0 for the init itself. */
int gk_cgroup_join_prepare(gk_cgroup *cg, pid_t leader, gk_cgroup_join **out, gk_error **err);
/* The directory fd for clone3(CLONE_INTO_CGROUP), or -1: clone plainly.
 * Owned by the handle (or CG); valid until the handle is freed. */
int gk_cgroup_join_clone_fd(const gk_cgroup_join *j);
/* The clone went without the fd (no clone3 here): send moves the child. */
void gk_cgroup_join_clone_fd_unused(gk_cgroup_join *j);
/* Whether a child cloned into gk_cgroup_join_clone_fd(j) is in its memory
 * cgroup from birth (pure v2): what its clone makes (namespaces) is then
 * still charged to the caller, what it makes itself afterwards against
 * the container's memory limit. */
bool gk_cgroup_join_clone_charges(const gk_cgroup_join *j);
/* Parent, after the clone of CHILD: moves it in from outside where it
 * cannot join by itself, then sends GK_SYNC_GO over SYNC_FD carrying what
 * it needs to (sync.c gk_sync_send_go: a child gone already is reported
 * by its own error). */
int gk_cgroup_join_send(gk_cgroup_join *j, pid_t child, int sync_fd, gk_error **err);
/* Child: waits for GK_SYNC_GO on SYNC_FD and joins CG (the child's copy
 * of the parent's, whose inherited directory fds it forgets; may be NULL)
 * through what GO carries. */
int gk_cgroup_join_recv(gk_cgroup *cg, int sync_fd, gk_error **err);
void gk_cgroup_join_free(gk_cgroup_join *j);
void gk_cgroup_join_freep(gk_cgroup_join **j);

/* gkrun exec --cgroup ARGS (N of them, [CONTROLLER[,...]:]PATH): the joins
 * of CG go to those existing sub-cgroups of the container's (cgroup_sub.c);
 * errors name the bad argument or the missing directory.  Prepare the join
 * with no leader afterwards: the sub-cgroup is where the process goes. */
int gk_cgroup_use_sub(gk_cgroup *cg, char *const *args, size_t n, gk_error **err);

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
int gk_cgroup_update(gk_cgroup *cg, const gk_resources *resources, gk_error **err);

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

#endif
