/* Internal interfaces of gkrun's cgroup layer: the front (cgroup.c: picks
 * the driver once, paths, the saved form, dispatch), the drivers (where a
 * container's cgroup lives: cgroup_v1_driver.c, cgroup_v2_driver.c,
 * cgroup_hybrid.c made of those two, cgroup_sd_driver.c over the
 * layout's), the files of each version (what a directory's files say:
 * cgroup_v1.c, cgroup_v2.c, cgroup_v2_devices.c, cgroup_stats.c), the join
 * handle (cgroup_join.c), systemd's D-Bus calls (cgroup_systemd.c) and
 * the host's layout (cgroup_layout.c).
 *
 * A hybrid host is v1 for every controller a v1 hierarchy holds, and v2
 * (the cgroup2 mount, usually /sys/fs/cgroup/unified) for the rest; each
 * linux.resources field goes to wherever its controller lives. */
#ifndef GK_RUNTIME_CGROUP_INTERNAL_H
#define GK_RUNTIME_CGROUP_INTERNAL_H

#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cgroup/cgroup.h"
#include "gk/error.h"
#include "gk/spec.h"

enum gk_cg_mode { GK_CG_V1, GK_CG_HYBRID, GK_CG_V2 };

enum gk_cg_ctrl {
        GK_CTRL_CPU,
        GK_CTRL_CPUACCT,
        GK_CTRL_CPUSET,
        GK_CTRL_MEMORY,
        GK_CTRL_PIDS,
        GK_CTRL_BLKIO, /* "io" on v2 */
        GK_CTRL_DEVICES,
        GK_CTRL_FREEZER,
        GK_CTRL_HUGETLB,
        GK_CTRL_NET_CLS,
        GK_CTRL_NET_PRIO,
        GK_CTRL_RDMA,
        GK_CTRL_MISC,
        GK_CTRL_PERF_EVENT,
        GK_CTRL_COUNT
};

#define GK_CTRL_BIT(c) (1u << (c))
#define GK_CG_MAX_HIER 16

typedef struct gk_cg_hier {
        char *mnt;      /* mount point of the v1 hierarchy */
        uint32_t ctrls; /* GK_CTRL_BITs it holds; 0 for name=systemd, which
                         * containers join too (as with runc), so that
                         * their own view of it is their cgroup */
} gk_cg_hier;

typedef struct gk_cg_layout {
        enum gk_cg_mode mode;
        gk_cg_hier v1[GK_CG_MAX_HIER];
        size_t n_v1;
        int v1_of[GK_CTRL_COUNT]; /* hierarchy index, -1 when not on v1 */
        char *v2_mnt;             /* cgroup2 mount point, NULL when none */
        bool v2_ctrls_known;
        uint32_t v2_ctrls; /* the v2 root's cgroup.subtree_control */
} gk_cg_layout;

/* How one version's files say things: the setters, readers and freezer of
 * a directory of that version (cgroup_v1.c, cgroup_v2.c).  A driver says,
 * per controller, which of the two speaks for it. */
typedef struct gk_cg_files {
        int (*apply)(int dirfd, enum gk_cg_ctrl c, const gk_resources *r, bool update,
                     gk_error **err);
        int (*stats)(int dirfd, enum gk_cg_ctrl c, gk_cgroup_stats *st, gk_error **err);
        int (*devices)(int dirfd, const gk_resources *r, gk_error **err);
        int (*freeze)(int dirfd, bool freeze, gk_error **err);
        int (*is_frozen)(int dirfd, bool *frozen, gk_error **err);
        /* a pollable fd for OOM events of the memory controller */
        int (*oom_fd)(int dirfd, gk_error **err);
        /* --systemd-cgroup: the unit properties of the limits systemd
         * knows, for the controllers these files speak for (NULL: none) */
        const char *sd_memory_max, *sd_memory_low, *sd_cpu_weight;
        uint64_t (*sd_weight)(uint64_t shares);
} gk_cg_files;

extern const gk_cg_files gk_cg_v1_files, gk_cg_v2_files;

/* What validation lets through, by where the controllers are. */
#define GK_CG_CAN_REALTIME (1u << 0) /* cpu.rt_* (v1 only) */
#define GK_CG_CAN_NET (1u << 1)      /* net_cls, net_prio (v1 only) */
#define GK_CG_CAN_UNIFIED (1u << 2)  /* linux.resources.unified (pure v2) */

/* A cgroup driver: where a container's cgroup lives and how processes get
 * in.  v1 (cgroup_v1_driver.c), v2 (cgroup_v2_driver.c), hybrid (made of
 * those two, cgroup_hybrid.c) are picked by the host's layout; systemd
 * (cgroup_sd_driver.c) wraps the one the layout picks.  cgroup.c picks once
 * and only dispatches: no other file asks which version is in use.  A NULL
 * entry means the driver has nothing to do for that step. */
typedef struct gk_cg_driver {
        const char *name; /* the host's kind in the saved form: v1, hybrid, v2 */
        unsigned caps;    /* GK_CG_CAN_* */
        /* the clone fd is the memory cgroup itself (pure v2) */
        bool clone_charges;
        /* appended to "the X controller is not available on this host" */
        const char *missing_hint;
        /* make the directories: before the init's clone (what
         * CLONE_INTO_CGROUP names), after it (the rest) */
        int (*make_early)(gk_cgroup *cg, gk_error **err);
        int (*make_late)(gk_cgroup *cg, gk_error **err);
        /* moves PID in from outside (a write to cgroup.procs) */
        int (*enter)(gk_cgroup *cg, pid_t pid, gk_error **err);
        /* before an update applies R: controllers R needs enabled */
        int (*update_prepare)(gk_cgroup *cg, const gk_resources *r, gk_error **err);
        /* which files speak for controller C (NULL: no hierarchy has it),
         * and its directory opened (cached in cg) */
        const gk_cg_files *(*ctrl_files)(const gk_cgroup *cg, enum gk_cg_ctrl c);
        int (*ctrl_dir)(gk_cgroup *cg, enum gk_cg_ctrl c, gk_error **err);
        /* the directory that lists the container's processes */
        int (*main_dir)(gk_cgroup *cg, gk_error **err);
        int (*apply_unified)(gk_cgroup *cg, const gk_resources *r, gk_error **err);
        int (*each_dir)(const gk_cgroup *cg, gk_cgroup_dir_fn fn, void *arg);
        /* SIGKILL to every process in one write (v2 cgroup.kill) */
        int (*kill_all)(gk_cgroup *cg, gk_error **err);
        /* removes the last cg->created components of the path */
        int (*destroy)(gk_cgroup *cg, gk_error **err);
        /* The join fast path (cgroup_join.c).  clone_fd: a directory fd
         * for clone3(CLONE_INTO_CGROUP), -1 for none; with LEADER (a
         * process exec'd into a running container: its init), the
         * sub-cgroup the leader sits in where that is where processes
         * must go (*owned: the fd is the caller's).  join_fds: parent, the
         * open files through which the child joins by itself; join_self:
         * child, joins through them. */
        int (*clone_fd)(gk_cgroup *cg, pid_t leader, bool *owned);
        int (*join_fds)(gk_cgroup *cg, int *fds, size_t max, gk_error **err);
        int (*join_self)(const gk_cgroup *cg, const int *fds, size_t n, gk_error **err);
} gk_cg_driver;

extern const gk_cg_driver gk_cg_v1_driver, gk_cg_v2_driver, gk_cg_hybrid_driver,
        gk_cg_systemd_driver;

struct gk_cgroup {
        const gk_cg_layout *lay;
        const gk_cg_driver *drv;   /* the one this cgroup dispatches to */
        const gk_cg_driver *base;  /* the layout's driver (under systemd's) */
        char *path;                /* "/gkrun/ID": the same below every hierarchy root */
        unsigned created;          /* trailing path components gkrun made (0: joined) */
        bool counted;              /* a hierarchy has set created (gk_cg_count_made) */
        bool is_default;           /* the path is the default /gkrun/ID */
        int v1_fd[GK_CG_MAX_HIER]; /* opened on first use, -1 until then */
        int v2_fd;
        /* --systemd-cgroup: the scope unit (NULL without); at create the
         * limits to apply once gk_cgroup_enter has started it. */
        char *unit, *id;
        const gk_resources *pending;
        bool unit_pending, unit_foreign;
        bool applied_early; /* v2: the limits applied by make_early */
        bool no_devices;    /* rootless: no device rules (gk_cgroup_no_devices) */
};

/* cgroup.c: the driver the host's layout calls for, and a handle on it
 * with no path yet (for tests of the dispatch as well). */
const gk_cg_driver *gk_cg_driver_for(const gk_cg_layout *lay);
gk_cgroup *gk_cg_new(const gk_cg_layout *lay);
/* Applies every field of R to the hierarchy of its controller; at create
 * (not update) also the device rules, which apply even without R. */
int gk_cg_apply_all(gk_cgroup *cg, const gk_resources *r, bool update, gk_error **err);
/* Closes the directory fds cg holds. */
void gk_cg_close_dirs(gk_cgroup *cg);

/* cgroup_layout.c: what the host has, detected once per process. */
int gk_cg_layout_get(const gk_cg_layout **out, gk_error **err);
/* Fills LAY from a /proc/self/mountinfo text (the non-pure-v2 case). */
int gk_cg_layout_parse(const char *mountinfo, gk_cg_layout *lay, gk_error **err);
void gk_cg_layout_clear(gk_cg_layout *lay);
/* Controllers the host itself enabled below the v2 root
 * (cgroup.subtree_control), read once: what a hybrid host lends gkrun. */
uint32_t gk_cg_v2_available(const gk_cg_layout *lay);
/* The controller's v1 name (the one the spec's fields speak of), and its
 * v2 one ("io" for blkio). */
const char *gk_cg_ctrl_name(enum gk_cg_ctrl c);
const char *gk_cg_v2_ctrl_name(enum gk_cg_ctrl c);
int gk_cg_ctrl_from_name(const char *name);
/* Controller names as a space separated "+cpu +io" list for
 * cgroup.subtree_control. */
void gk_cg_ctrl_list(uint32_t ctrls, char *buf, size_t size);
uint32_t gk_cg_parse_ctrl_list(const char *text);

/* cgroup.c */
/* linux.cgroupsPath (NULL: default /gkrun/ID) to a clean absolute path;
 * *is_default tells the default slice was used. */
int gk_cg_resolve_path(const char *id, const char *cgroups_path, char **out, bool *is_default,
                       gk_error **err);
/* Records that a hierarchy's make made the last MADE components of the
 * path: created is the least over the hierarchies made so far. */
void gk_cg_count_made(gk_cgroup *cg, unsigned made);
/* The open directory holding controller C for this cgroup and the files
 * that speak for it; GK_CG_NO_CTRL (and no *err) when no hierarchy has it. */
#define GK_CG_NO_CTRL (-ENOMEDIUM)
int gk_cg_ctrl_dir(gk_cgroup *cg, enum gk_cg_ctrl c, const gk_cg_files **files, gk_error **err);

/* cgroup_io.c: small reads and writes of cgroup files. */
/* Writes VALUE to FILE under DIRFD; failures name FIELD and VALUE:
 * "linux.resources.memory.limit: cannot set 1 (memory.max): ...". */
int gk_cg_write(int dirfd, const char *file, const char *value, const char *field, gk_error **err);
/* The two halves of gk_cg_write, for many values into one file. */
int gk_cg_open_write(int dirfd, const char *file, const char *field, gk_error **err);
int gk_cg_write_fd(int fd, const char *file, const char *value, const char *field, gk_error **err);
int gk_cg_writef(int dirfd, const char *file, const char *field, gk_error **err, const char *fmt,
                 ...) __attribute__((format(printf, 5, 6)));
/* Reads FILE into BUF (NUL-terminated, trailing newline kept); returns the
 * length or a negative errno. */
ssize_t gk_cg_read(int dirfd, const char *file, char *buf, size_t size, gk_error **err);
/* A file holding one number or "max" (UINT64_MAX). */
int gk_cg_read_u64(int dirfd, const char *file, uint64_t *out, gk_error **err);
/* "key value" lines (memory.stat, cpu.stat, memory.events): false when
 * KEY is missing. */
bool gk_cg_keyed_u64(const char *text, const char *key, uint64_t *out);
bool gk_cg_exists(int dirfd, const char *file);

/* cgroup_convert.c: v1 -> v2 units and value checks. */
uint64_t gk_cg_shares_to_weight(uint64_t shares);
uint64_t gk_cg_blkio_to_io_weight(uint64_t weight);
/* memory.swap.max from the spec's memory+swap value and limit. */
int gk_cg_swap_v2(int64_t swap, int64_t limit, int64_t *out, gk_error **err);
/* Checks values that no kernel accepts, before anything is made; CAPS
 * (GK_CG_CAN_*) says what the host's driver can apply at all. */
int gk_cg_validate(const gk_resources *r, unsigned caps, gk_error **err);
/* Which controllers a resources object needs (devices and unified aside). */
uint32_t gk_cg_needed(const gk_resources *r);

/* cgroup_v1.c: v1 files (the two setters alike on v1 and v2 are shared) */
int gk_cg_pids_apply(int dirfd, int64_t limit, gk_error **err);
int gk_cg_rdma_apply(int dirfd, const gk_resources *r, gk_error **err);
int gk_cg_v1_make(gk_cgroup *cg, gk_error **err);

/* cgroup_v1_driver.c: the v1 hierarchies of a cgroup, for the v1 and
 * hybrid drivers. */
int gk_cg_v1_dir(gk_cgroup *cg, size_t h, gk_error **err);
int gk_cg_v1_enter(gk_cgroup *cg, pid_t pid, gk_error **err);
const gk_cg_files *gk_cg_v1_ctrl_files(const gk_cgroup *cg, enum gk_cg_ctrl c);
int gk_cg_v1_ctrl_dir(gk_cgroup *cg, enum gk_cg_ctrl c, gk_error **err);
int gk_cg_v1_each_dir(const gk_cgroup *cg, gk_cgroup_dir_fn fn, void *arg);
int gk_cg_v1_destroy(gk_cgroup *cg, gk_error **err);
int gk_cg_v1_join_fds(gk_cgroup *cg, int *fds, size_t max, gk_error **err);
int gk_cg_v1_join_self(const gk_cgroup *cg, const int *fds, size_t n, gk_error **err);

/* cgroup_v2.c: v2 files */
/* Makes the path below the v2 root and enables CTRLS for it (in parents
 * gkrun may change: the root when OWN_ROOT (pure v2: a hybrid host's
 * unified root keeps what the host set), the default slice, dirs it made
 * now). */
int gk_cg_v2_make(gk_cgroup *cg, uint32_t ctrls, bool own_root, gk_error **err);
/* Enables CTRLS for an existing cgroup (gkrun update). */
int gk_cg_v2_enable(gk_cgroup *cg, uint32_t ctrls, bool own_root, gk_error **err);
int gk_cg_v2_unified(int dirfd, const gk_resources *r, gk_error **err);

/* cgroup_v2_driver.c: the cgroup2 mount's part of a cgroup, for the v2 and
 * hybrid drivers. */
int gk_cg_v2_dir(gk_cgroup *cg, gk_error **err);
int gk_cg_v2_enter(gk_cgroup *cg, pid_t pid, gk_error **err);
/* The controllers R asks for (with linux.resources.unified's). */
uint32_t gk_cg_v2_wanted(const gk_resources *r);
int gk_cg_v2_each_dir(const gk_cgroup *cg, gk_cgroup_dir_fn fn, void *arg);
int gk_cg_v2_destroy(gk_cgroup *cg, gk_error **err);
int gk_cg_v2_kill_all(gk_cgroup *cg, gk_error **err);
int gk_cg_v2_main_dir(gk_cgroup *cg, gk_error **err);
int gk_cg_v2_ctrl_dir(gk_cgroup *cg, enum gk_cg_ctrl c, gk_error **err);
/* Controllers that are part of every v2 cgroup's core files rather than
 * listed in cgroup.controllers: the freezer (cgroup.freeze) and devices
 * (a BPF program). */
#define GK_CG_V2_CORE (GK_CTRL_BIT(GK_CTRL_FREEZER) | GK_CTRL_BIT(GK_CTRL_DEVICES))

/* cgroup_v2_devices.c */
struct bpf_insn;
/* The device rules in force: the spec's, then runc's default allow-list,
 * evaluated last match first from an implicit deny. */
const gk_device_rule *gk_cg_default_devices(size_t *n);
/* Builds the BPF_PROG_TYPE_CGROUP_DEVICE program for RULES then the
 * defaults; *out is malloc'd. */
int gk_cg_bpf_build(const gk_device_rule *rules, size_t n, struct bpf_insn **out, size_t *n_insn,
                    gk_error **err);
/* Loads the program and attaches it to the cgroup DIRFD. */
int gk_cg_v2_devices(int dirfd, const gk_resources *r, gk_error **err);

/* cgroup_stats.c */
int gk_cg_v1_stats(int dirfd, enum gk_cg_ctrl c, gk_cgroup_stats *st, gk_error **err);
int gk_cg_v2_stats(int dirfd, enum gk_cg_ctrl c, gk_cgroup_stats *st, gk_error **err);
int gk_cg_v1_oom_fd(int dirfd, gk_error **err);
int gk_cg_v2_oom_fd(int dirfd, gk_error **err);

/* cgroup_tree.c: sub-cgroups below a container's cgroup belong to it. */
/* PIDs in DIRFD's cgroup and every sub-cgroup (malloc'd). */
int gk_cg_tree_pids(int dirfd, pid_t **pids, size_t *n, gk_error **err);
/* Removes every sub-cgroup below PATH (best effort). */
void gk_cg_tree_clear(const char *path);
/* Removes PATH's last COUNT components below the hierarchy mounted at
 * ROOT, deepest first: the leaf must go, parents only when empty. */
int gk_cg_remove_below(const char *root, const char *path, unsigned count, gk_error **err);

/* cgroup_systemd.c */
/* Checks "slice:prefix:name" and that systemd runs (a user's own: on a
 * PURE_V2 host) and the scope does not exist yet; gives the unit name and
 * its cgroup path. */
int gk_cg_systemd_prepare(const char *id, const char *cgroups_path, bool pure_v2, char **unit,
                          char **path, gk_error **err);
/* Starts the scope UNIT (at PATH) with PID in it and the limits systemd
 * knows from RES, named as the files of their controllers (MEM, CPU; NULL
 * when none) call them; waits for the job. */
int gk_cg_systemd_start(const char *id, const char *unit, const char *path, pid_t pid,
                        const gk_resources *res, const gk_cg_files *mem, const gk_cg_files *cpu,
                        gk_error **err);
/* Stops UNIT and waits; a unit already gone is fine. */
int gk_cg_systemd_stop(const char *unit, gk_error **err);

#endif
