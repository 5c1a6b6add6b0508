/* The default seccomp profile of gkimg bundles: the allowlist Docker and
 * podman apply by default, written from the compact tables below.  Which
 * syscalls are where, and why, is in bundle-spec/seccomp.md; keep the two
 * in step.
 *
 * Unlisted syscalls fail with ENOSYS (as podman's profile does), so a
 * program meeting a syscall newer than this table falls back to the old
 * one, as it would on an older kernel.  Syscalls listed as denied, and the
 * capability-gated ones when the container lacks the capability, fail with
 * EPERM: the operation exists and is not permitted. */
#include <errno.h>
#include <linux/capability.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "gk/spec.h"
#include "gk/util.h"

/* What ordinary programs need: files, memory, signals, time, sockets,
 * ids (setuid and friends are harmless without the capabilities), IPC,
 * ptrace (confined by the pid namespace and kernel >= 4.8 checks). */
static const char allowed[] =
        "_llseek _newselect accept accept4 access adjtimex alarm bind brk cachestat capget "
        "capset chdir chmod chown chown32 clock_adjtime clock_adjtime64 clock_getres "
        "clock_getres_time64 clock_gettime clock_gettime64 clock_nanosleep "
        "clock_nanosleep_time64 close close_range connect copy_file_range creat dup dup2 dup3 "
        "epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2 epoll_wait "
        "epoll_wait_old eventfd eventfd2 execve execveat exit exit_group faccessat faccessat2 "
        "fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat fchmodat2 fchown "
        "fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork fremovexattr "
        "fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64 futex "
        "futex_requeue futex_time64 futex_wait futex_waitv futex_wake futimesat "
        "get_robust_list get_thread_area getcpu getcwd getdents getdents64 getegid getegid32 "
        "geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer getpeername getpgid "
        "getpgrp getpid getppid getpriority getrandom getresgid getresgid32 getresuid "
        "getresuid32 getrlimit getrusage getsid getsockname getsockopt gettid gettimeofday "
        "getuid getuid32 getxattr inotify_add_watch inotify_init inotify_init1 "
        "inotify_rm_watch io_cancel io_destroy io_getevents io_setup io_submit ioctl "
        "ioprio_get ioprio_set ipc kill landlock_add_rule landlock_create_ruleset "
        "landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listxattr "
        "llistxattr lremovexattr lseek lsetxattr lstat lstat64 madvise map_shadow_stack "
        "membarrier memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 "
        "mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive "
        "mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap mseal msgctl "
        "msgget msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep "
        "newfstatat open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2 "
        "pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv "
        "preadv2 prlimit64 process_mrelease process_vm_readv process_vm_writev pselect6 "
        "pselect6_time64 ptrace pwrite64 pwritev pwritev2 read readahead readdir readlink "
        "readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg remap_file_pages "
        "removexattr rename renameat renameat2 restart_syscall rmdir rseq rt_sigaction "
        "rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend "
        "rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo sched_get_priority_max "
        "sched_get_priority_min sched_getaffinity sched_getattr sched_getparam "
        "sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 "
        "sched_setaffinity sched_setattr sched_setparam sched_setscheduler sched_yield seccomp "
        "select semctl semget semop semtimedop semtimedop_time64 send sendfile sendfile64 "
        "sendmmsg sendmsg sendto set_robust_list set_thread_area set_tid_address setfsgid "
        "setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer "
        "setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 "
        "setreuid setreuid32 setrlimit setsid setsockopt setuid setuid32 setxattr shmat shmctl "
        "shmdt shmget shutdown sigaction sigaltstack signal signalfd signalfd4 sigpending "
        "sigprocmask sigreturn sigsuspend socket socketcall socketpair splice stat stat64 "
        "statfs statfs64 statx symlink symlinkat sync sync_file_range syncfs syscall sysinfo "
        "tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime "
        "timer_gettime64 timer_settime timer_settime64 timerfd timerfd_create timerfd_gettime "
        "timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64 "
        "ugetrlimit umask uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork "
        "wait4 waitid waitpid write writev";

/* Needed only on some architectures (names unknown elsewhere are skipped
 * by the runtimes, but there is no point in listing them). */
static const char allowed_arch[] =
#if defined(__x86_64__) || defined(__i386__)
        "arch_prctl modify_ldt";
#elif defined(__aarch64__) || defined(__arm__)
        "arm_fadvise64_64 arm_sync_file_range breakpoint cacheflush set_tls sync_file_range2";
#elif defined(__s390x__)
        "s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr";
#elif defined(__powerpc64__)
        "sync_file_range2";
#else
        "";
#endif

/* Never allowed: the kernel keyring is not namespaced (one container would
 * read or fill another's keys), and the rest act on the whole machine. */
static const char denied[] =
        "add_key keyctl request_key bdflush io_pgetevents kexec_file_load kexec_load "
        "nfsservctl pciconfig_iobase pciconfig_read pciconfig_write swapoff swapon sysfs uselib "
        "userfaultfd ustat vm86 vm86old";

/* Allowed with the capability that the operation needs anyway; without
 * it they fail with EPERM.  The filter is the second wall: a kernel bug
 * reachable through these stays closed to a container without the cap. */
static const struct {
        int cap;
        const char *names;
} gated[] = {
        { CAP_SYS_ADMIN, "bpf fanotify_init fsconfig fsmount fsopen fspick "
                         "lookup_dcookie mount mount_setattr move_mount open_tree "
                         "perf_event_open pivot_root quotactl quotactl_fd setdomainname "
                         "sethostname setns umount umount2 unshare" },
        { CAP_SYS_BOOT, "reboot" },
        { CAP_SYS_CHROOT, "chroot" },
        { CAP_SYS_MODULE, "delete_module finit_module init_module" },
        { CAP_SYS_PACCT, "acct" },
        { CAP_SYS_PTRACE, "kcmp pidfd_getfd process_madvise" },
        { CAP_SYS_RAWIO, "ioperm iopl" },
        { CAP_SYS_TIME, "clock_settime clock_settime64 settimeofday stime" },
        { CAP_SYS_TTY_CONFIG, "vhangup" },
        { CAP_SYS_NICE, "get_mempolicy mbind set_mempolicy set_mempolicy_home_node" },
        { CAP_SYSLOG, "syslog" },
        { CAP_DAC_READ_SEARCH, "open_by_handle_at" },
};

/* personality(2) personas allowed: PER_LINUX, PER_LINUX32, UNAME26,
 * UNAME26|PER_LINUX32 and the query 0xffffffff. */
static const uint64_t personas[] = { 0x0, 0x8, 0x20000, 0x20008, 0xffffffff };

/* clone(2) flags that make namespaces; clone's flags are its first
 * argument except on s390, where the stack comes first. */
#define CLONE_NS_FLAGS 0x7E020000ULL
#if defined(__s390__) || defined(__s390x__)
#define CLONE_FLAGS_ARG 1
#else
#define CLONE_FLAGS_ARG 0
#endif

static const char *const archs[] = {
#if defined(__x86_64__)
        "SCMP_ARCH_X86_64",
        "SCMP_ARCH_X86",
        "SCMP_ARCH_X32",
#elif defined(__aarch64__)
        "SCMP_ARCH_AARCH64",
        "SCMP_ARCH_ARM",
#elif defined(__s390x__)
        "SCMP_ARCH_S390X",
        "SCMP_ARCH_S390",
#endif
        NULL,
};

static bool has_cap(const gk_capset *caps, int cap)
{
        for (size_t i = 0; caps && i < caps->n; i++)
                if (caps->caps[i] == cap)
                        return true;
        return false;
}

/* "a b c" -> a NULL-terminated vector. */
static char **split_names(const char *list, size_t *n)
{
        char **v = calloc(strlen(list) / 2 + 2, sizeof(char *));
        const char *p = list;

        *n = 0;
        if (!v)
                return NULL;
        while (*p) {
                size_t len = strcspn(p, " ");

                if (len) {
                        v[*n] = strndup(p, len);
                        if (!v[(*n)++]) {
                                gk_strvfree(v);
                                return NULL;
                        }
                }
                p += len + (p[len] == ' ');
        }
        return v;
}

static gk_seccomp_rule *new_rule(gk_seccomp *sc, const char *names, enum gk_seccomp_action action)
{
        gk_seccomp_rule *r = &sc->syscalls[sc->n_syscalls];

        *r = (gk_seccomp_rule){ .action = action };
        r->names = split_names(names, &r->n_names);
        if (!r->names)
                return NULL;
        sc->n_syscalls++;
        return r;
}

static int errno_rule(gk_seccomp *sc, const char *names, uint32_t e)
{
        gk_seccomp_rule *r = new_rule(sc, names, GK_SCMP_ERRNO);

        if (!r)
                return -ENOMEM;
        r->has_errno_ret = true;
        r->errno_ret = e;
        return 0;
}

static int arg_rule(gk_seccomp *sc, const char *name, unsigned idx, uint64_t value,
                    uint64_t value_two, enum gk_seccomp_op op)
{
        gk_seccomp_rule *r = new_rule(sc, name, GK_SCMP_ALLOW);

        if (!r || !(r->args = calloc(1, sizeof(gk_seccomp_arg))))
                return -ENOMEM;
        r->n_args = 1;
        r->args[0] = (gk_seccomp_arg){
                .index = idx, .value = value, .value_two = value_two, .op = op
        };
        return 0;
}

static int add_gated(gk_seccomp *sc, const gk_capset *caps)
{
        for (size_t i = 0; i < ARRAY_SIZE(gated); i++) {
                if (!has_cap(caps, gated[i].cap)) {
                        if (errno_rule(sc, gated[i].names, EPERM) < 0)
                                return -ENOMEM;
                } else if (!new_rule(sc, gated[i].names, GK_SCMP_ALLOW)) {
                        return -ENOMEM;
                }
        }
        if (has_cap(caps, CAP_SYS_ADMIN))
                return new_rule(sc, "clone clone3", GK_SCMP_ALLOW) ? 0 : -ENOMEM;
        /* Without CAP_SYS_ADMIN: clone without namespace flags (with them
         * it meets the default), and clone3 reported missing, since its
         * flags sit in memory a filter cannot read; libc then falls back
         * to clone. */
        if (arg_rule(sc, "clone", CLONE_FLAGS_ARG, CLONE_NS_FLAGS, 0, GK_SCMP_CMP_MASKED_EQ) < 0)
                return -ENOMEM;
        return errno_rule(sc, "clone3", ENOSYS);
}

static int fill(gk_seccomp *sc, const gk_capset *caps)
{
        size_t n_archs = ARRAY_SIZE(archs) - 1;

        sc->syscalls = calloc(8 + ARRAY_SIZE(gated) + ARRAY_SIZE(personas),
                              sizeof(gk_seccomp_rule));
        if (!sc->syscalls)
                return -ENOMEM;
        if (n_archs) {
                sc->architectures = calloc(n_archs + 1, sizeof(char *));
                if (!sc->architectures)
                        return -ENOMEM;
                for (size_t i = 0; i < n_archs; i++)
                        if (!(sc->architectures[sc->n_architectures++] = strdup(archs[i])))
                                return -ENOMEM;
        }
        if (!new_rule(sc, allowed, GK_SCMP_ALLOW) ||
            (*allowed_arch && !new_rule(sc, allowed_arch, GK_SCMP_ALLOW)) ||
            errno_rule(sc, denied, EPERM) < 0)
                return -ENOMEM;
        for (size_t i = 0; i < ARRAY_SIZE(personas); i++)
                if (arg_rule(sc, "personality", 0, personas[i], 0, GK_SCMP_CMP_EQ) < 0)
                        return -ENOMEM;
        return add_gated(sc, caps);
}

int gk_seccomp_default(gk_seccomp *sc, const gk_capset *caps)
{
        *sc = (gk_seccomp){ .present = true,
                            .default_action = GK_SCMP_ERRNO,
                            .has_default_errno_ret = true,
                            .default_errno_ret = ENOSYS };
        return fill(sc, caps);
}
