/* Name tables of config.json: capabilities (numbers as in
 * linux/capability.h, so the shared library needs no libcap), rlimits,
 * namespaces, mount options and propagation, and the runtime spec's fixed
 * seccomp and I/O priority lists. */
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "gk/cleanup.h"
#include "spec_internal.h"

#ifndef MS_NOSYMFOLLOW
#define MS_NOSYMFOLLOW 256
#endif
#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY 0x00000001
#define MOUNT_ATTR_NOSUID 0x00000002
#define MOUNT_ATTR_NODEV 0x00000004
#define MOUNT_ATTR_NOEXEC 0x00000008
#define MOUNT_ATTR__ATIME 0x00000070
#define MOUNT_ATTR_RELATIME 0x00000000
#define MOUNT_ATTR_NOATIME 0x00000010
#define MOUNT_ATTR_STRICTATIME 0x00000020
#define MOUNT_ATTR_NODIRATIME 0x00000080
#endif
#ifndef MOUNT_ATTR_NOSYMFOLLOW
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Index = capability number. */
static const char *const cap_names[] = {
        "CAP_CHOWN",
        "CAP_DAC_OVERRIDE",
        "CAP_DAC_READ_SEARCH",
        "CAP_FOWNER",
        "CAP_FSETID",
        "CAP_KILL",
        "CAP_SETGID",
        "CAP_SETUID",
        "CAP_SETPCAP",
        "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE",
        "CAP_NET_BROADCAST",
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_IPC_LOCK",
        "CAP_IPC_OWNER",
        "CAP_SYS_MODULE",
        "CAP_SYS_RAWIO",
        "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE",
        "CAP_SYS_PACCT",
        "CAP_SYS_ADMIN",
        "CAP_SYS_BOOT",
        "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE",
        "CAP_SYS_TIME",
        "CAP_SYS_TTY_CONFIG",
        "CAP_MKNOD",
        "CAP_LEASE",
        "CAP_AUDIT_WRITE",
        "CAP_AUDIT_CONTROL",
        "CAP_SETFCAP",
        "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN",
        "CAP_SYSLOG",
        "CAP_WAKE_ALARM",
        "CAP_BLOCK_SUSPEND",
        "CAP_AUDIT_READ",
        "CAP_PERFMON",
        "CAP_BPF",
        "CAP_CHECKPOINT_RESTORE",
};

int gk_cap_from_name(const char *name)
{
        if (!name || strncmp(name, "CAP_", 4) != 0)
                return -1;
        for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
                if (strcmp(cap_names[i] + 4, name + 4) == 0)
                        return (int) i;
        return -1;
}

const char *gk_cap_name(int cap)
{
        if (cap < 0 || (size_t) cap >= ARRAY_SIZE(cap_names))
                return NULL;
        return cap_names[cap];
}

int gk_cap_last(void)
{
        return (int) ARRAY_SIZE(cap_names) - 1;
}

static const struct {
        const char *name;
        int resource;
} rlimits[] = {
        { "RLIMIT_AS", RLIMIT_AS },
        { "RLIMIT_CORE", RLIMIT_CORE },
        { "RLIMIT_CPU", RLIMIT_CPU },
        { "RLIMIT_DATA", RLIMIT_DATA },
        { "RLIMIT_FSIZE", RLIMIT_FSIZE },
        { "RLIMIT_LOCKS", RLIMIT_LOCKS },
        { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
        { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
        { "RLIMIT_NICE", RLIMIT_NICE },
        { "RLIMIT_NOFILE", RLIMIT_NOFILE },
        { "RLIMIT_NPROC", RLIMIT_NPROC },
        { "RLIMIT_RSS", RLIMIT_RSS },
        { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
        { "RLIMIT_RTTIME", RLIMIT_RTTIME },
        { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
        { "RLIMIT_STACK", RLIMIT_STACK },
};

int gk_rlimit_from_name(const char *name)
{
        if (!name)
                return -1;
        for (size_t i = 0; i < ARRAY_SIZE(rlimits); i++)
                if (strcmp(rlimits[i].name, name) == 0)
                        return rlimits[i].resource;
        return -1;
}

static const struct {
        const char *name, *proc;
        int flag;
} namespaces[GK_NS_COUNT] = {
        [GK_NS_PID] = { "pid", "pid", CLONE_NEWPID },
        [GK_NS_NETWORK] = { "network", "net", CLONE_NEWNET },
        [GK_NS_MOUNT] = { "mount", "mnt", CLONE_NEWNS },
        [GK_NS_IPC] = { "ipc", "ipc", CLONE_NEWIPC },
        [GK_NS_UTS] = { "uts", "uts", CLONE_NEWUTS },
        [GK_NS_USER] = { "user", "user", CLONE_NEWUSER },
        [GK_NS_CGROUP] = { "cgroup", "cgroup", CLONE_NEWCGROUP },
        [GK_NS_TIME] = { "time", "time", CLONE_NEWTIME },
};

const int spec_ns_emit_order[GK_NS_COUNT] = {
        GK_NS_PID,   GK_NS_NETWORK, GK_NS_IPC,    GK_NS_UTS,
        GK_NS_MOUNT, GK_NS_USER,    GK_NS_CGROUP, GK_NS_TIME,
};

int gk_ns_type_from_name(const char *name)
{
        if (!name)
                return -1;
        for (int i = 0; i < GK_NS_COUNT; i++)
                if (strcmp(namespaces[i].name, name) == 0)
                        return i;
        return -1;
}

const char *gk_ns_type_name(int type)
{
        return type >= 0 && type < GK_NS_COUNT ? namespaces[type].name : NULL;
}

int gk_ns_clone_flag(int type)
{
        return type >= 0 && type < GK_NS_COUNT ? namespaces[type].flag : 0;
}

const char *gk_ns_proc_name(int type)
{
        return type >= 0 && type < GK_NS_COUNT ? namespaces[type].proc : NULL;
}

/* Mount options that are mount(2) flags: set, or cleared (clear = true). */
static const struct {
        const char *name;
        bool clear;
        unsigned long flag;
} mount_flags[] = {
        { "acl", false, MS_POSIXACL },       { "async", true, MS_SYNCHRONOUS },
        { "atime", true, MS_NOATIME },       { "defaults", false, 0 },
        { "dev", true, MS_NODEV },           { "diratime", true, MS_NODIRATIME },
        { "dirsync", false, MS_DIRSYNC },    { "exec", true, MS_NOEXEC },
        { "iversion", false, MS_I_VERSION }, { "lazytime", false, MS_LAZYTIME },
        { "loud", true, MS_SILENT },         { "mand", false, MS_MANDLOCK },
        { "noacl", true, MS_POSIXACL },      { "noatime", false, MS_NOATIME },
        { "nodev", false, MS_NODEV },        { "nodiratime", false, MS_NODIRATIME },
        { "noexec", false, MS_NOEXEC },      { "noiversion", true, MS_I_VERSION },
        { "nolazytime", true, MS_LAZYTIME }, { "nomand", true, MS_MANDLOCK },
        { "norelatime", true, MS_RELATIME }, { "nostrictatime", true, MS_STRICTATIME },
        { "nosuid", false, MS_NOSUID },      { "nosymfollow", false, MS_NOSYMFOLLOW },
        { "relatime", false, MS_RELATIME },  { "remount", false, MS_REMOUNT },
        { "ro", false, MS_RDONLY },          { "rw", true, MS_RDONLY },
        { "silent", false, MS_SILENT },      { "strictatime", false, MS_STRICTATIME },
        { "suid", true, MS_NOSUID },         { "symfollow", true, MS_NOSYMFOLLOW },
        { "sync", false, MS_SYNCHRONOUS },
};

static const struct {
        const char *name;
        unsigned long flags;
} propagations[] = {
        { "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
        { "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
        { "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
        { "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

/* Recursive mount_setattr(2) attributes ("rro", "rnosuid", ...). */
static const struct {
        const char *name;
        bool clear;
        uint64_t attr;
} rec_attrs[] = {
        { "rro", false, MOUNT_ATTR_RDONLY },
        { "rrw", true, MOUNT_ATTR_RDONLY },
        { "rnosuid", false, MOUNT_ATTR_NOSUID },
        { "rsuid", true, MOUNT_ATTR_NOSUID },
        { "rnodev", false, MOUNT_ATTR_NODEV },
        { "rdev", true, MOUNT_ATTR_NODEV },
        { "rnoexec", false, MOUNT_ATTR_NOEXEC },
        { "rexec", true, MOUNT_ATTR_NOEXEC },
        { "rnodiratime", false, MOUNT_ATTR_NODIRATIME },
        { "rdiratime", true, MOUNT_ATTR_NODIRATIME },
        { "rnosymfollow", false, MOUNT_ATTR_NOSYMFOLLOW },
        { "rsymfollow", true, MOUNT_ATTR_NOSYMFOLLOW },
};

/* The atime mode is one field of mount_attr: setting any of these replaces
 * it, which the kernel wants spelt as MOUNT_ATTR__ATIME in attr_clr. */
static const struct {
        const char *name;
        uint64_t mode;
} rec_atime[] = {
        { "rrelatime", MOUNT_ATTR_RELATIME },       { "rnorelatime", MOUNT_ATTR_RELATIME },
        { "rnoatime", MOUNT_ATTR_NOATIME },         { "ratime", MOUNT_ATTR_RELATIME },
        { "rstrictatime", MOUNT_ATTR_STRICTATIME }, { "rnostrictatime", MOUNT_ATTR_RELATIME },
};

unsigned long spec_propagation_flags(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(propagations); i++)
                if (strcmp(propagations[i].name, name) == 0)
                        return propagations[i].flags;
        return 0;
}

static bool mount_option_special(const char *opt, gk_mount *m)
{
        if (strcmp(opt, "bind") == 0) {
                m->bind = true;
                m->flags |= MS_BIND;
        } else if (strcmp(opt, "rbind") == 0) {
                m->bind = m->recursive = true;
                m->flags |= MS_BIND | MS_REC;
        } else if (strcmp(opt, "tmpcopyup") == 0) {
                m->tmpcopyup = true;
        } else if (strcmp(opt, "idmap") == 0) {
                m->idmap = true;
        } else if (strcmp(opt, "ridmap") == 0) {
                m->idmap = m->idmap_recursive = true;
        } else {
                return false;
        }
        return true;
}

static bool mount_option_rec(const char *opt, gk_mount *m)
{
        for (size_t i = 0; i < ARRAY_SIZE(rec_attrs); i++)
                if (strcmp(rec_attrs[i].name, opt) == 0) {
                        if (rec_attrs[i].clear) {
                                m->attr_clr |= rec_attrs[i].attr;
                                m->attr_set &= ~rec_attrs[i].attr;
                        } else {
                                m->attr_set |= rec_attrs[i].attr;
                                m->attr_clr &= ~rec_attrs[i].attr;
                        }
                        return true;
                }
        for (size_t i = 0; i < ARRAY_SIZE(rec_atime); i++)
                if (strcmp(rec_atime[i].name, opt) == 0) {
                        m->attr_clr |= MOUNT_ATTR__ATIME;
                        m->attr_set = (m->attr_set & ~(uint64_t) MOUNT_ATTR__ATIME) |
                                      rec_atime[i].mode;
                        return true;
                }
        return false;
}

bool spec_mount_option(const char *opt, gk_mount *m)
{
        unsigned long p;

        if (mount_option_special(opt, m))
                return true;
        for (size_t i = 0; i < ARRAY_SIZE(mount_flags); i++)
                if (strcmp(mount_flags[i].name, opt) == 0) {
                        /* Later options win, as with mount(8). */
                        if (mount_flags[i].clear) {
                                m->flags &= ~mount_flags[i].flag;
                                m->clear_flags |= mount_flags[i].flag;
                        } else {
                                m->flags |= mount_flags[i].flag;
                                m->clear_flags &= ~mount_flags[i].flag;
                        }
                        return true;
                }
        p = spec_propagation_flags(opt);
        if (p) {
                m->propagation = p;
                return true;
        }
        if (opt[0] == 'r' && mount_option_rec(opt, m))
                return true;
        return false;
}

static const char *const scmp_actions[] = {
        [GK_SCMP_KILL] = "SCMP_ACT_KILL",
        [GK_SCMP_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
        [GK_SCMP_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
        [GK_SCMP_TRAP] = "SCMP_ACT_TRAP",
        [GK_SCMP_ERRNO] = "SCMP_ACT_ERRNO",
        [GK_SCMP_TRACE] = "SCMP_ACT_TRACE",
        [GK_SCMP_ALLOW] = "SCMP_ACT_ALLOW",
        [GK_SCMP_LOG] = "SCMP_ACT_LOG",
        [GK_SCMP_NOTIFY] = "SCMP_ACT_NOTIFY",
};

static const char *const scmp_ops[] = {
        [GK_SCMP_CMP_NE] = "SCMP_CMP_NE",
        [GK_SCMP_CMP_LT] = "SCMP_CMP_LT",
        [GK_SCMP_CMP_LE] = "SCMP_CMP_LE",
        [GK_SCMP_CMP_EQ] = "SCMP_CMP_EQ",
        [GK_SCMP_CMP_GE] = "SCMP_CMP_GE",
        [GK_SCMP_CMP_GT] = "SCMP_CMP_GT",
        [GK_SCMP_CMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static const char *const scmp_archs[] = {
        "SCMP_ARCH_X86",      "SCMP_ARCH_X86_64",      "SCMP_ARCH_X32",
        "SCMP_ARCH_ARM",      "SCMP_ARCH_AARCH64",     "SCMP_ARCH_MIPS",
        "SCMP_ARCH_MIPS64",   "SCMP_ARCH_MIPS64N32",   "SCMP_ARCH_MIPSEL",
        "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
        "SCMP_ARCH_PPC64",    "SCMP_ARCH_PPC64LE",     "SCMP_ARCH_S390",
        "SCMP_ARCH_S390X",    "SCMP_ARCH_PARISC",      "SCMP_ARCH_PARISC64",
        "SCMP_ARCH_RISCV64",  "SCMP_ARCH_LOONGARCH64", "SCMP_ARCH_M68K",
        "SCMP_ARCH_SH",       "SCMP_ARCH_SHEB",
};

static const char *const scmp_flags[] = {
        "SECCOMP_FILTER_FLAG_TSYNC",
        "SECCOMP_FILTER_FLAG_LOG",
        "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
        "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

static int lookup(const char *const *names, size_t n, const char *name)
{
        for (size_t i = 0; i < n; i++)
                if (names[i] && strcmp(names[i], name) == 0)
                        return (int) i;
        return -1;
}

int spec_seccomp_action_from_name(const char *name)
{
        return lookup(scmp_actions, ARRAY_SIZE(scmp_actions), name);
}

const char *gk_seccomp_action_name(int action)
{
        return action >= 0 && (size_t) action < ARRAY_SIZE(scmp_actions) ? scmp_actions[action]
                                                                         : NULL;
}

int spec_seccomp_op_from_name(const char *name)
{
        return lookup(scmp_ops, ARRAY_SIZE(scmp_ops), name);
}

const char *gk_seccomp_op_name(int op)
{
        return op >= 0 && (size_t) op < ARRAY_SIZE(scmp_ops) ? scmp_ops[op] : NULL;
}

bool spec_seccomp_arch_known(const char *name)
{
        return lookup(scmp_archs, ARRAY_SIZE(scmp_archs), name) >= 0;
}

const char *gk_seccomp_arch_name(size_t i)
{
        return i < ARRAY_SIZE(scmp_archs) ? scmp_archs[i] : NULL;
}

const char *gk_seccomp_flag_name(size_t i)
{
        return i < ARRAY_SIZE(scmp_flags) ? scmp_flags[i] : NULL;
}

bool spec_seccomp_flag_known(const char *name)
{
        return lookup(scmp_flags, ARRAY_SIZE(scmp_flags), name) >= 0;
}

/* IOPRIO_CLASS_* values of linux/ioprio.h. */
static const char *const ioprio_classes[] = {
        [1] = "IOPRIO_CLASS_RT",
        [2] = "IOPRIO_CLASS_BE",
        [3] = "IOPRIO_CLASS_IDLE",
};

int spec_ioprio_class_from_name(const char *name)
{
        return lookup(ioprio_classes, ARRAY_SIZE(ioprio_classes), name);
}

const char *spec_ioprio_class_name(int cls)
{
        return cls >= 0 && (size_t) cls < ARRAY_SIZE(ioprio_classes) ? ioprio_classes[cls] : NULL;
}
