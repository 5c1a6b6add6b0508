/* Internal interfaces of gkrun's cgroup layer, between the common part
 * (cgroup.c: host layout, paths, dispatch), the v1 and v2 implementations
 * (cgroup_v1.c, cgroup_v2.c), the v2 device program (cgroup_v2_devices.c),
 * the statistics (cgroup_stats.c) and the systemd driver (cgroup_systemd.c).
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

#include "cgroup.h"
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
        uint32_t v2_ctrls;        /* the v2 root's cgroup.subtree_control */
} gk_cg_layout;

struct gk_cgroup {
        const gk_cg_layout *lay;
        enum gk_cg_mode mode;
        char *path;        /* "/gkrun/ID": the same below every hierarchy root */
        unsigned created;  /* trailing path components gkrun made (0: joined) */
        bool counted;      /* a hierarchy has set created (gk_cg_count_made) */
        bool is_default;   /* the path is the default /gkrun/ID */
        int v1_fd[GK_CG_MAX_HIER]; /* opened on first use, -1 until then */
        int v2_fd;
        /* --systemd-cgroup: the scope unit (NULL without); at create the
         * limits to apply once gk_cgroup_enter has started it. */
        char *unit, *id;
        const gk_resources *pending;
        bool unit_pending, unit_foreign;
};

/* cgroup_layout.c: what the host has, detected once per process. */
int gk_cg_layout_get(const gk_cg_layout **out, gk_error **err);
/* Fills LAY from a /proc/self/mountinfo text (the non-pure-v2 case). */
int gk_cg_layout_parse(const char *mountinfo, gk_cg_layout *lay, gk_error **err);
void gk_cg_layout_clear(gk_cg_layout *lay);
/* Controllers the host itself enabled below the v2 root
 * (cgroup.subtree_control), read once: what a hybrid host lends gkrun. */
uint32_t gk_cg_v2_available(const gk_cg_layout *lay);
const char *gk_cg_ctrl_name(enum gk_cg_ctrl c, bool v2);
int gk_cg_ctrl_from_name(const char *name);
/* Controller names as a space separated "+cpu +io" list for
 * cgroup.subtree_control. */
void gk_cg_ctrl_list(uint32_t ctrls, char *buf, size_t size);
uint32_t gk_cg_parse_ctrl_list(const char *text);

/* cgroup.c */
/* linux.cgroupsPath (NULL: default /gkrun/ID) to a clean absolute path;
 * *is_default tells the default slice was used. */
int gk_cg_resolve_path(const char *id, const char *cgroups_path, char **out,
                       bool *is_default, gk_error **err);
int gk_cg_v1_dir(gk_cgroup *cg, size_t h, gk_error **err);
/* Records that a hierarchy's make made the last MADE components of the
 * path: created is the least over the hierarchies made so far. */
void gk_cg_count_made(gk_cgroup *cg, unsigned made);
int gk_cg_v2_dir(gk_cgroup *cg, gk_error **err);
/* The open directory holding controller C for this cgroup and whether it
 * speaks v2; GK_CG_NO_CTRL (and no *err) when no hierarchy has it. */
#define GK_CG_NO_CTRL (-ENOMEDIUM)
int gk_cg_ctrl_dir(gk_cgroup *cg, enum gk_cg_ctrl c, bool *v2, gk_error **err);

/* cgroup_io.c: small reads and writes of cgroup files. */
/* Writes VALUE to FILE under DIRFD; failures name FIELD and VALUE:
 * "linux.resources.memory.limit: cannot set 1 (memory.max): ...". */
int gk_cg_write(int dirfd, const char *file, const char *value, const char *field,
                gk_error **err);
/* The two halves of gk_cg_write, for many values into one file. */
int gk_cg_open_write(int dirfd, const char *file, const char *field, gk_error **err);
int gk_cg_write_fd(int fd, const char *file, const char *value, const char *field,
                   gk_error **err);
int gk_cg_writef(int dirfd, const char *file, const char *field, gk_error **err,
                 const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* Reads FILE into BUF (NUL-terminated, trailing newline kept); returns the
 * length or a negative errno. */
ssize_t gk_cg_read(int dirfd, const char *file, char *buf, size_t size, gk_error **err);
/* A file holding one number or "max" (UINT64_MAX). */
int gk_cg_read_u64(int dirfd, const char *file, uint64_t *out, gk_error **err);
/* "key value" lines (memory.stat, cpu.stat, memory.events): false when
 * KEY is missing. */
bool gk_cg_keyed_u64(const char *text, const char *key, uint64_t *out);
bool gk_cg_exists(int dirfd, const char *file);
/* Lengths-limited number formatting: "max" for negative values on v2. */
void gk_cg_fmt_i64(char *buf, size_t size, int64_t v, bool v2);

/* cgroup_convert.c: v1 -> v2 units and value checks. */
uint64_t gk_cg_shares_to_weight(uint64_t shares);
uint64_t gk_cg_blkio_to_io_weight(uint64_t weight);
/* memory.swap.max from the spec's memory+swap value and limit. */
int gk_cg_swap_v2(int64_t swap, int64_t limit, int64_t *out, gk_error **err);
/* Checks values that no kernel accepts, before anything is made. */
int gk_cg_validate(const gk_resources *r, enum gk_cg_mode mode, gk_error **err);
/* Which controllers a resources object needs (devices and unified aside). */
uint32_t gk_cg_needed(const gk_resources *r);

/* cgroup_v1.c (the two setters alike on v1 and v2 are shared) */
int gk_cg_pids_apply(int dirfd, int64_t limit, gk_error **err);
int gk_cg_rdma_apply(int dirfd, const gk_resources *r, gk_error **err);
int gk_cg_v1_make(gk_cgroup *cg, gk_error **err);
int gk_cg_v1_apply(int dirfd, enum gk_cg_ctrl c, const gk_resources *r, bool update,
                   gk_error **err);
int gk_cg_v1_devices(int dirfd, const gk_resources *r, gk_error **err);
int gk_cg_v1_freeze(int dirfd, bool freeze, gk_error **err);

/* cgroup_v2.c */
/* Makes the path below the v2 root and enables CTRLS for it (in parents
 * gkrun may change: the root, the default slice, dirs it made now). */
int gk_cg_v2_make(gk_cgroup *cg, uint32_t ctrls, bool is_default, gk_error **err);
/* Enables CTRLS for an existing cgroup (gkrun update). */
int gk_cg_v2_enable(gk_cgroup *cg, uint32_t ctrls, gk_error **err);
int gk_cg_v2_apply(int dirfd, enum gk_cg_ctrl c, const gk_resources *r, bool update,
                   gk_error **err);
int gk_cg_v2_unified(int dirfd, const gk_resources *r, gk_error **err);
int gk_cg_v2_freeze(int dirfd, bool freeze, gk_error **err);

/* cgroup_v2_devices.c */
struct bpf_insn;
/* The device rules in force: the spec's, then runc's default allow-list,
 * evaluated last match first from an implicit deny. */
const gk_device_rule *gk_cg_default_devices(size_t *n);
/* Builds the BPF_PROG_TYPE_CGROUP_DEVICE program for RULES then the
 * defaults; *out is malloc'd. */
int gk_cg_bpf_build(const gk_device_rule *rules, size_t n, struct bpf_insn **out,
                    size_t *n_insn, gk_error **err);
/* Loads the program and attaches it to the cgroup DIRFD. */
int gk_cg_v2_devices(int dirfd, const gk_resources *r, gk_error **err);

/* cgroup_stats.c */
int gk_cg_v1_stats(gk_cgroup *cg, gk_cgroup_stats *st, gk_error **err);
int gk_cg_v2_stats(int dirfd, enum gk_cg_ctrl c, gk_cgroup_stats *st, gk_error **err);

/* cgroup_tree.c: sub-cgroups below a container's cgroup belong to it. */
/* PIDs in DIRFD's cgroup and every sub-cgroup (malloc'd). */
int gk_cg_tree_pids(int dirfd, pid_t **pids, size_t *n, gk_error **err);
/* Removes every sub-cgroup below PATH (best effort). */
void gk_cg_tree_clear(const char *path);

/* cgroup_systemd.c */
/* Checks "slice:prefix:name" and that systemd runs and the scope does not
 * exist yet; gives the unit name and its cgroup path. */
int gk_cg_systemd_prepare(const char *id, const char *cgroups_path, char **unit, char **path,
                          gk_error **err);
/* Starts the scope UNIT (at PATH) with PID in it and the limits systemd
 * knows from RES; waits for the job. */
int gk_cg_systemd_start(const char *id, const char *unit, const char *path, pid_t pid,
                        const gk_resources *res, bool v2, gk_error **err);
/* Stops UNIT and waits; a unit already gone is fine. */
int gk_cg_systemd_stop(const char *unit, gk_error **err);

#endif
