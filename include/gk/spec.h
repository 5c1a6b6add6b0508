/* The C model of an OCI runtime config.json (runtime-spec 1.x, Linux).
 *
 * gkrun reads it (gk_spec_load), gkimg writes it (gk_spec_default +
 * gk_spec_emit), and both share this one model.  Parsing validates: a field
 * of the wrong type or with a bad value is refused with an error that names
 * it ("config.json: process.args: must be a non-empty array"); unknown fields
 * are ignored.  Optional numbers carry a has_* flag; strings are NULL when
 * absent; arrays are pointer + count.  Everything is owned by the gk_spec and
 * freed by gk_spec_free().
 */
#ifndef GK_SPEC_H
#define GK_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gk/error.h"

/* GNU C predefines `linux` as 1; the spec's field is named linux. */
#undef linux

typedef struct gk_kv {
        char *key;
        char *value;
} gk_kv;

typedef struct gk_rlimit {
        int resource; /* RLIMIT_* */
        char *type;   /* "RLIMIT_NOFILE" as written */
        uint64_t soft, hard;
} gk_rlimit;

/* Capability sets as numbers (CAP_*), validated against the kernel's names
 * (gk_cap_from_name). */
typedef struct gk_capset {
        int *caps;
        size_t n;
} gk_capset;

typedef struct gk_capabilities {
        bool present;
        gk_capset bounding, effective, inheritable, permitted, ambient;
} gk_capabilities;

typedef struct gk_user {
        uid_t uid;
        gid_t gid;
        bool has_umask;
        mode_t umask;
        gid_t *additional_gids;
        size_t n_additional_gids;
        char *username; /* windows-only in the spec; kept for completeness */
} gk_user;

typedef struct gk_console_size {
        bool present;
        unsigned height, width;
} gk_console_size;

typedef struct gk_io_priority {
        bool present;
        int class; /* IOPRIO_CLASS_* */
        int priority;
} gk_io_priority;

/* process.scheduler, for sched_setattr(2): numbers as the kernel takes
 * them (SCHED_*, SCHED_FLAG_*); unset members are 0, as the spec says. */
typedef struct gk_scheduler {
        bool present;
        int policy;
        int32_t nice, priority;
        uint64_t flags;
        uint64_t runtime, deadline, period; /* ns, SCHED_DEADLINE only */
} gk_scheduler;

/* process.execCPUAffinity: CPU lists ("0-3,7") as written, checked; NULL
 * or empty when not set. */
typedef struct gk_cpu_affinity {
        bool present;
        char *initial; /* gkrun's own, before it joins the container's cgroup */
        char *final;   /* the process's, after */
} gk_cpu_affinity;

typedef struct gk_process {
        bool terminal;
        gk_console_size console_size;
        gk_user user;
        char **args; /* NULL-terminated, n_args >= 1 */
        size_t n_args;
        char **env; /* NULL-terminated "K=V" */
        size_t n_env;
        char *cwd;
        gk_capabilities capabilities;
        gk_rlimit *rlimits;
        size_t n_rlimits;
        bool no_new_privileges;
        char *apparmor_profile;
        bool has_oom_score_adj;
        int oom_score_adj;
        char *selinux_label;
        gk_io_priority io_priority;
        gk_scheduler scheduler;
        gk_cpu_affinity exec_cpu_affinity;
} gk_process;

typedef struct gk_root {
        char *path; /* as written; relative to the bundle unless absolute */
        bool readonly;
} gk_root;

typedef struct gk_mount {
        char *destination;
        char *type;
        char *source;
        char **options; /* as written, NULL-terminated */
        size_t n_options;
        /* Derived from options by the parser: */
        unsigned long flags;         /* MS_* to set */
        unsigned long clear_flags;   /* MS_* explicitly cleared ("rw", "suid"...) */
        unsigned long propagation;   /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC) */
        uint64_t attr_set, attr_clr; /* MOUNT_ATTR_* for mount_setattr (idmap aside) */
        bool bind;                   /* "bind" or "rbind" */
        bool recursive;              /* "rbind" */
        bool tmpcopyup;
        bool idmap;                /* "idmap" or "ridmap": an idmapped mount */
        bool idmap_recursive;      /* "ridmap" */
        bool relative_destination; /* destination was given relative (taken from /) */
        char *data;                /* the remaining, filesystem-specific options, comma-joined */
        /* idmapped mounts */
        struct gk_idmap *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
} gk_mount;

typedef struct gk_hook {
        char *path;
        char **args; /* NULL-terminated, may be NULL */
        size_t n_args;
        char **env; /* NULL-terminated, may be NULL */
        size_t n_env;
        bool has_timeout;
        int timeout; /* seconds, > 0 */
} gk_hook;

typedef struct gk_hook_list {
        gk_hook *hooks;
        size_t n;
} gk_hook_list;

typedef struct gk_hooks {
        gk_hook_list prestart, create_runtime, create_container, start_container, poststart,
                poststop;
} gk_hooks;

typedef struct gk_idmap {
        uint32_t container_id, host_id, size;
} gk_idmap;

enum gk_ns_type {
        GK_NS_PID,
        GK_NS_NETWORK,
        GK_NS_MOUNT,
        GK_NS_IPC,
        GK_NS_UTS,
        GK_NS_USER,
        GK_NS_CGROUP,
        GK_NS_TIME,
        GK_NS_COUNT
};

typedef struct gk_namespace {
        bool present;
        char *path; /* join this one instead of creating a new one */
} gk_namespace;

typedef struct gk_device {
        char *path;
        char type; /* 'c', 'b', 'u' or 'p' */
        int64_t major, minor;
        bool has_file_mode;
        mode_t file_mode;
        bool has_uid, has_gid;
        uid_t uid;
        gid_t gid;
} gk_device;

/* linux.resources.devices[] entry (cgroup device rule) */
typedef struct gk_device_rule {
        bool allow;
        char type;     /* 'a', 'c', 'b' (default 'a') */
        int64_t major; /* -1 = wildcard */
        int64_t minor; /* -1 = wildcard */
        char *access;  /* subset of "rwm"; NULL = "rwm" */
} gk_device_rule;

/* Optional numbers in linux.resources: has_X says whether X was given. */
#define GK_OPT(type, name) \
        bool has_##name;   \
        type name

typedef struct gk_memory {
        GK_OPT(int64_t, limit);
        GK_OPT(int64_t, reservation);
        GK_OPT(int64_t, swap);
        GK_OPT(int64_t, kernel);
        GK_OPT(int64_t, kernel_tcp);
        GK_OPT(uint64_t, swappiness);
        GK_OPT(bool, disable_oom_killer);
        GK_OPT(bool, use_hierarchy);
        GK_OPT(bool, check_before_update);
} gk_memory;

typedef struct gk_cpu {
        GK_OPT(uint64_t, shares);
        GK_OPT(int64_t, quota);
        GK_OPT(uint64_t, burst);
        GK_OPT(uint64_t, period);
        GK_OPT(int64_t, realtime_runtime);
        GK_OPT(uint64_t, realtime_period);
        char *cpus;
        char *mems;
        GK_OPT(int64_t, idle);
} gk_cpu;

typedef struct gk_blkio_device {
        int64_t major, minor;
        GK_OPT(uint16_t, weight);
        GK_OPT(uint16_t, leaf_weight);
        uint64_t rate; /* throttle entries */
} gk_blkio_device;

typedef struct gk_blkio {
        GK_OPT(uint16_t, weight);
        GK_OPT(uint16_t, leaf_weight);
        gk_blkio_device *weight_device;
        size_t n_weight_device;
        gk_blkio_device *throttle_read_bps, *throttle_write_bps, *throttle_read_iops,
                *throttle_write_iops;
        size_t n_throttle_read_bps, n_throttle_write_bps, n_throttle_read_iops,
                n_throttle_write_iops;
} gk_blkio;

typedef struct gk_hugepage_limit {
        char *page_size; /* "2MB" */
        uint64_t limit;
} gk_hugepage_limit;

typedef struct gk_net_priority {
        char *name;
        uint32_t priority;
} gk_net_priority;

typedef struct gk_rdma_limit {
        char *device;
        GK_OPT(uint32_t, hca_handles);
        GK_OPT(uint32_t, hca_objects);
} gk_rdma_limit;

typedef struct gk_resources {
        bool present;
        gk_device_rule *devices;
        size_t n_devices;
        bool has_memory, has_cpu, has_pids, has_blkio, has_network;
        gk_memory memory;
        gk_cpu cpu;
        int64_t pids_limit; /* valid when has_pids */
        gk_blkio blkio;
        gk_hugepage_limit *hugepage_limits;
        size_t n_hugepage_limits;
        GK_OPT(uint32_t, net_class_id);
        gk_net_priority *net_priorities;
        size_t n_net_priorities;
        gk_rdma_limit *rdma;
        size_t n_rdma;
        gk_kv *unified; /* v2 key/values */
        size_t n_unified;
} gk_resources;

/* Seccomp names are checked against the spec's fixed lists here (no
 * libseccomp in the shared library); syscall names are resolved by gkrun
 * when it builds the filter, before anything is created. */
enum gk_seccomp_action {
        GK_SCMP_KILL,         /* SCMP_ACT_KILL (= kill thread) */
        GK_SCMP_KILL_PROCESS, /* SCMP_ACT_KILL_PROCESS */
        GK_SCMP_KILL_THREAD,  /* SCMP_ACT_KILL_THREAD */
        GK_SCMP_TRAP,
        GK_SCMP_ERRNO,
        GK_SCMP_TRACE,
        GK_SCMP_ALLOW,
        GK_SCMP_LOG,
        GK_SCMP_NOTIFY,
};

enum gk_seccomp_op {
        GK_SCMP_CMP_NE,
        GK_SCMP_CMP_LT,
        GK_SCMP_CMP_LE,
        GK_SCMP_CMP_EQ,
        GK_SCMP_CMP_GE,
        GK_SCMP_CMP_GT,
        GK_SCMP_CMP_MASKED_EQ,
};

typedef struct gk_seccomp_arg {
        unsigned index; /* 0..5 */
        uint64_t value, value_two;
        enum gk_seccomp_op op;
} gk_seccomp_arg;

typedef struct gk_seccomp_rule {
        char **names;
        size_t n_names;
        enum gk_seccomp_action action;
        gk_seccomp_arg *args;
        size_t n_args;
        bool has_errno_ret; /* for ERRNO (default EPERM) and TRACE */
        uint32_t errno_ret;
} gk_seccomp_rule;

typedef struct gk_seccomp {
        bool present;
        enum gk_seccomp_action default_action;
        bool has_default_errno_ret;
        uint32_t default_errno_ret;
        char **architectures; /* "SCMP_ARCH_X86_64", ... as written, checked */
        size_t n_architectures;
        char **flags; /* "SECCOMP_FILTER_FLAG_LOG", ... as written */
        size_t n_flags;
        char *listener_path;
        char *listener_metadata;
        gk_seccomp_rule *syscalls;
        size_t n_syscalls;
} gk_seccomp;

typedef struct gk_personality {
        bool present;
        char *domain;        /* "LINUX" or "LINUX32" */
        unsigned long flags; /* personality(2) flags (ADDR_NO_RANDOMIZE ...) */
} gk_personality;

/* linux.memoryPolicy, for set_mempolicy(2) (runtime-spec 1.3). */
typedef struct gk_memory_policy {
        bool present;
        int mode;       /* MPOL_* */
        char *nodes;    /* node list as written ("0-1"), checked; NULL when absent */
        unsigned flags; /* MPOL_F_* */
} gk_memory_policy;

typedef struct gk_time_offset {
        bool present;
        int64_t secs;
        uint32_t nanosecs;
} gk_time_offset;

/* linux.intelRdt (runtime/rdt/, bundle-spec/intelrdt.md) */
typedef struct gk_intel_rdt {
        bool present;
        char *clos_id; /* NULL: a group named after the container; "/": the default one */
        char *l3_cache_schema, *mem_bw_schema;
        char **schemata; /* lines, written after the two above */
        size_t n_schemata;
        bool enable_monitoring;
} gk_intel_rdt;

/* linux.netDevices: a host interface moved into the container's network
 * namespace at create (lib/spec_parse_netdev.c, bundle-spec/netdevices.md). */
typedef struct gk_net_device {
        char *host_name; /* the map's key: its name on the host */
        char *name;      /* its name in the container (may end a template "%d"); NULL: the same */
} gk_net_device;

typedef struct gk_linux {
        gk_namespace namespaces[GK_NS_COUNT];
        gk_idmap *uid_mappings, *gid_mappings;
        size_t n_uid_mappings, n_gid_mappings;
        gk_time_offset time_offsets_monotonic, time_offsets_boottime;
        gk_device *devices;
        size_t n_devices;
        char *cgroups_path;
        gk_resources resources;
        char *rootfs_propagation;
        unsigned long rootfs_propagation_flags; /* derived: MS_PRIVATE|MS_REC etc, 0 = default */
        gk_seccomp seccomp;
        gk_kv *sysctl;
        size_t n_sysctl;
        char **masked_paths;
        size_t n_masked_paths;
        char **readonly_paths;
        size_t n_readonly_paths;
        char *mount_label;
        gk_personality personality;
        gk_memory_policy memory_policy;
        gk_intel_rdt intel_rdt;
        gk_net_device *net_devices;
        size_t n_net_devices;
} gk_linux;

typedef struct gk_spec {
        char *oci_version;
        gk_process
                *process; /* NULL when absent (allowed for create only by spec; gkrun refuses) */
        gk_root root;
        char *hostname;
        char *domainname;
        gk_mount *mounts;
        size_t n_mounts;
        gk_hooks hooks;
        gk_kv *annotations;
        size_t n_annotations;
        gk_linux linux;
} gk_spec;

/* Parses and validates a config.json text.  `what` names the source in
 * messages ("config.json").  On success *out owns a new spec. */
int gk_spec_parse(const char *text, size_t len, const char *what, gk_spec **out, gk_error **err);

/* Reads and parses BUNDLE/config.json (bundle may be NULL for the cwd). */
int gk_spec_load(const char *bundle, gk_spec **out, gk_error **err);

/* Parses a process.json (gkrun exec --process): the "process" object alone. */
int gk_process_parse(const char *text, size_t len, const char *what, gk_process **out,
                     gk_error **err);

/* Parses a linux.resources object alone (gkrun update --resources FILE);
 * `what` names the source.  *out is filled; free with gk_resources_clear. */
int gk_resources_parse(const char *text, size_t len, const char *what, gk_resources *out,
                       gk_error **err);
void gk_resources_clear(gk_resources *r);

/* The default spec of `gkrun spec` (rootless: user namespace with the
 * caller's ids mapped, no network namespace, rbind /sys). */
int gk_spec_default(bool rootless, gk_spec **out, gk_error **err);

/* Writes the spec as pretty-printed JSON; *out is malloc'd, NUL-terminated. */
int gk_spec_emit(const gk_spec *spec, char **out, size_t *len, gk_error **err);

/* The oldest runtime-spec version ("1.0.0", "1.0.2", "1.1.0", "1.2.0",
 * "1.2.1", "1.3.0")
 * whose fields cover SPEC: what a writer puts in ociVersion so that every
 * runtime able to run the bundle accepts it. */
const char *gk_spec_min_version(const gk_spec *spec);

/* The default seccomp profile of gkimg bundles (Docker's and podman's
 * allowlist, bundle-spec/seccomp.md) for a container whose bounding set
 * is CAPS.  *sc must be empty; on failure (-ENOMEM) what was filled is
 * freed with gk_seccomp_clear (or with the spec holding it). */
int gk_seccomp_default(gk_seccomp *sc, const gk_capset *caps);

/* Parses a linux.seccomp object alone (a profile file); `what` names the
 * source in messages.  *out is filled; free with gk_seccomp_clear. */
int gk_seccomp_parse(const char *text, size_t len, const char *what, gk_seccomp *out,
                     gk_error **err);
void gk_seccomp_clear(gk_seccomp *sc);

/* "CAP_CHOWN" -> 0 ...; -1 when unknown.  And back (NULL when unknown). */
int gk_cap_from_name(const char *name);
const char *gk_cap_name(int cap);
/* The highest capability number gk knows. */
int gk_cap_last(void);

/* The spec's names of seccomp actions and operators, by enum value; NULL
 * past the last one (so callers can list them all). */
const char *gk_seccomp_action_name(int action);
const char *gk_seccomp_op_name(int op);
/* The spec's seccomp architectures and filter flags, by index (NULL past
 * the last), for gkrun features. */
const char *gk_seccomp_arch_name(size_t i);
const char *gk_seccomp_flag_name(size_t i);

/* The spec's names of linux.memoryPolicy modes and flags, the Nth, and
 * its number in *value (may be NULL); NULL past the last (for `gkrun
 * features`). */
const char *gk_mpol_mode_name(size_t n, int *value);
const char *gk_mpol_flag_name(size_t n, int *value);

/* "RLIMIT_NOFILE" -> RLIMIT_NOFILE; -1 when unknown. */
int gk_rlimit_from_name(const char *name);

void gk_spec_free(gk_spec *spec);
/* Frees what a mount holds and zeroes it. */
void gk_mount_clear(gk_mount *m);
void gk_spec_freep(gk_spec **spec);
void gk_process_free(gk_process *p);
void gk_process_freep(gk_process **p);

/* Looks up an annotation; NULL when absent. */
const char *gk_spec_annotation(const gk_spec *spec, const char *key);

/* Editing a spec (lib/spec_edit.c); -ENOMEM (or NULL) on failure, the
 * spec still whole for gk_spec_free.  Annotations: add appends, set
 * replaces the value KEY had or appends. */
int gk_spec_add_annotation(gk_spec *s, const char *key, const char *value);
int gk_spec_set_annotation(gk_spec *s, const char *key, const char *value);
/* "K=V" into a NULL-terminated environment of *N entries (process.env, a
 * hook's env), replacing the entry of K or appending. */
int gk_env_set(char ***env, size_t *n, const char *kv);
/* Appends a zeroed mount to *V (spec->mounts), counted in *N: whatever the
 * caller then puts in it is freed with the spec. */
gk_mount *gk_mounts_add(gk_mount **v, size_t *n);

/* "pid", "network", ... -> GK_NS_*; -1 if unknown. And back. */
int gk_ns_type_from_name(const char *name);
const char *gk_ns_type_name(int type);
/* CLONE_NEW* flag of a GK_NS_* type. */
int gk_ns_clone_flag(int type);
/* Name of the /proc/PID/ns/ entry ("net", "mnt", "pid", ...). */
const char *gk_ns_proc_name(int type);

#endif
