/* gk-probe observe [STATUS]: everything a container's process can see of
 * how its runtime set it up, as one JSON document on stdout, then exits
 * with STATUS (default 0).  tests/integration/test_differential.py runs the
 * same bundle under gkrun and runc and compares two of these.
 *
 * Raw facts only: the test normalises what is host specific (mount
 * sources, namespace inodes, cgroup paths).  A fact that cannot be read is
 * reported as the string "errno=ENAME" in its place, never skipped, so a
 * difference in what is readable shows up too. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include "probe.h"

extern char **environ;

/* --- a minimal JSON writer: one nesting level of "need a comma" -------- */

static int first = 1;

static void sep(void)
{
        if (!first)
                putchar(',');
        first = 0;
}

static void str(const char *s)
{
        putchar('"');
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p == '"' || *p == '\\')
                        printf("\\%c", *p);
                else if (*p < 0x20 || *p >= 0x7f)
                        printf("\\u%04x", *p);
                else
                        putchar(*p);
        }
        putchar('"');
}

static void key(const char *k)
{
        sep();
        str(k);
        putchar(':');
        first = 1;
}

static void open_(char c)
{
        putchar(c);
        first = 1;
}

static void close_(char c)
{
        putchar(c);
        first = 0;
}

static void kv_str(const char *k, const char *v)
{
        key(k);
        str(v);
        first = 0;
}

/* The value of the key just written: errno's name, the fact unreadable. */
static void errno_value(void)
{
        str(errno_name(errno));
        first = 0;
}

static void kv_num(const char *k, long long v)
{
        key(k);
        printf("%lld", v);
        first = 0;
}

static void item_str(const char *v)
{
        sep();
        str(v);
}

/* The whole of a small file, trailing newline dropped, or "errno=...". */
static const char *slurp(const char *path, char *buf, size_t size)
{
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        size_t len = 0;
        ssize_t n;

        if (fd < 0)
                return errno_name(errno);
        while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
                len += (size_t) n;
        if (n < 0 && len == 0) {
                int err = errno;

                close(fd);
                return errno_name(err);
        }
        close(fd);
        while (len && buf[len - 1] == '\n')
                len--;
        buf[len] = '\0';
        return buf;
}

/* --- identity and process attributes ------------------------------------ */

static void o_ids(void)
{
        struct probe_ids ids;
        char buf[16];

        probe_ids(&ids);
        kv_num("uid", ids.uid);
        kv_num("gid", ids.gid);
        kv_num("euid", ids.euid);
        kv_num("egid", ids.egid);
        key("groups");
        open_('[');
        for (int i = 0; i < ids.ngroups; i++) {
                sep();
                printf("%u", (unsigned) ids.groups[i]);
        }
        close_(']');
        snprintf(buf, sizeof(buf), "%04o", (unsigned) ids.umask);
        kv_str("umask", buf);
        kv_num("pid", getpid());
        kv_num("ppid", getppid());
        kv_num("nnp", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
        kv_num("dumpable", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
        kv_num("personality", personality(0xffffffff));
}

/* Scheduling, I/O priority and memory policy (process.scheduler,
 * process.ioPriority, linux.memoryPolicy); raw calls: libc has no
 * sched_getattr, ioprio_get or get_mempolicy wrappers. */
static void o_procattr(void)
{
        struct {
                uint32_t size, policy;
                uint64_t flags;
                int32_t nice;
                uint32_t priority;
                uint64_t runtime, deadline, period;
                uint32_t util_min, util_max;
        } a = { 0 };
        unsigned long nodes[16] = { 0 };
        int mode = -1;
        long io;

        key("sched");
        open_('{');
        if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0) == 0) {
                kv_num("policy", a.policy);
                kv_num("flags", (long long) a.flags);
                kv_num("nice", a.nice);
                kv_num("priority", a.priority);
        }
        close_('}');
        io = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);
        kv_num("ioprio", io);
        if (syscall(SYS_get_mempolicy, &mode, nodes, 16 * 8 * sizeof(long), NULL, 0) == 0) {
                kv_num("mempolicy", mode);
                kv_num("mempolicy_nodes", (long long) nodes[0]);
        }
}

/* Capability sets, seccomp mode and the like from /proc/self/status. */
static void o_status(void)
{
        static const char *const keys[] = { "CapInh", "CapPrm",  "CapEff",    "CapBnd",
                                            "CapAmb", "Seccomp", "NoNewPrivs" };
        char line[512];
        FILE *f = fopen("/proc/self/status", "re");

        key("status");
        if (!f) {
                errno_value();
                return;
        }
        open_('{');
        while (fgets(line, sizeof(line), f)) {
                char *colon = strchr(line, ':');

                if (!colon)
                        continue;
                *colon = '\0';
                for (size_t i = 0; i < N(keys); i++)
                        if (!strcmp(line, keys[i])) {
                                char *v = colon + 1 + strspn(colon + 1, " \t");

                                v[strcspn(v, "\n")] = '\0';
                                kv_str(keys[i], v);
                        }
        }
        fclose(f);
        close_('}');
}

static void o_cwd_env(void)
{
        char buf[PATH_MAX];

        kv_str("cwd", getcwd(buf, sizeof(buf)) ? buf : errno_name(errno));
        key("env");
        open_('[');
        for (char **e = environ; *e; e++)
                item_str(*e);
        close_(']');
}

static void limit(rlim_t v)
{
        sep();
        if (v == RLIM_INFINITY)
                str("unlimited");
        else
                printf("%llu", (unsigned long long) v);
}

static void o_rlimits(void)
{
        key("rlimits");
        open_('{');
        for (size_t i = 0; i < probe_nrlimits; i++) {
                struct rlimit rl;

                if (getrlimit(probe_rlimits[i].resource, &rl) < 0) {
                        kv_str(probe_rlimits[i].name, errno_name(errno));
                        continue;
                }
                key(probe_rlimits[i].name);
                open_('[');
                limit(rl.rlim_cur);
                limit(rl.rlim_max);
                close_(']');
        }
        close_('}');
}

/* --- files under /proc and /sys ------------------------------------------- */

static void o_files(const char *name, const char *const *paths, size_t n)
{
        key(name);
        open_('{');
        for (size_t i = 0; i < n; i++) {
                char buf[4096];

                kv_str(paths[i], slurp(paths[i], buf, sizeof(buf)));
        }
        close_('}');
}

static const char *const proc_files[] = {
        "/proc/self/oom_score_adj", "/proc/self/uid_map", "/proc/self/gid_map",
        "/proc/self/setgroups",     "/proc/self/cgroup",  "/proc/self/loginuid",
        "/proc/self/attr/current",
};

static const char *const sysctls[] = {
        "/proc/sys/net/ipv4/ip_forward",
        "/proc/sys/net/ipv4/ip_unprivileged_port_start",
        "/proc/sys/net/ipv4/ping_group_range",
        "/proc/sys/net/core/somaxconn",
        "/proc/sys/kernel/shmmax",
        "/proc/sys/kernel/msgmax",
        "/proc/sys/kernel/shm_rmid_forced",
        "/proc/sys/fs/mqueue/msg_max",
        "/proc/sys/net/ipv4/tcp_syncookies",
};

/* linux.resources as the container can read them back, v1 and v2 alike. */
static const char *const cgroup_files[] = {
        "/sys/fs/cgroup/memory/memory.limit_in_bytes",
        "/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes",
        "/sys/fs/cgroup/pids/pids.max",
        "/sys/fs/cgroup/cpu/cpu.shares",
        "/sys/fs/cgroup/cpu/cpu.cfs_quota_us",
        "/sys/fs/cgroup/memory.max",
        "/sys/fs/cgroup/memory.swap.max",
        "/sys/fs/cgroup/pids.max",
        "/sys/fs/cgroup/cpu.max",
};

static void o_namespaces(void)
{
        static const char *const ns[] = { "cgroup", "ipc",  "mnt",  "net",
                                          "pid",    "time", "user", "uts" };

        key("ns");
        open_('{');
        for (size_t i = 0; i < N(ns); i++) {
                char path[64], target[128];
                ssize_t n;

                snprintf(path, sizeof(path), "/proc/self/ns/%s", ns[i]);
                n = readlink(path, target, sizeof(target) - 1);
                target[n < 0 ? 0 : n] = '\0';
                kv_str(ns[i], n < 0 ? errno_name(errno) : target);
        }
        close_('}');
}

static void o_fds(void)
{
        DIR *d = opendir("/proc/self/fd");
        char target[PATH_MAX];
        const char *fd;

        key("fds");
        if (!d) {
                errno_value();
                return;
        }
        open_('{');
        while (probe_fd_next(d, &fd, target, sizeof(target)))
                kv_str(fd, target);
        closedir(d);
        close_('}');
}

/* mountinfo's fields by name (the ids dropped): mount point, root within
 * the source filesystem, per-mount options, optional fields (propagation),
 * type, source, superblock options. */
static void o_mounts(void)
{
        FILE *f = fopen("/proc/self/mountinfo", "re");
        char *line = NULL;
        size_t cap = 0;

        key("mounts");
        if (!f) {
                errno_value();
                return;
        }
        open_('[');
        while (getline(&line, &cap, f) > 0) {
                char *fields[16], *save = NULL, *dash;
                int nf = 0;

                line[strcspn(line, "\n")] = '\0';
                dash = strstr(line, " - ");
                if (!dash)
                        continue;
                *dash = '\0';
                for (char *t = strtok_r(line, " ", &save); t && nf < 12;
                     t = strtok_r(NULL, " ", &save))
                        fields[nf++] = t;
                if (nf < 6)
                        continue;
                sep();
                open_('{');
                kv_str("point", fields[4]);
                kv_str("root", fields[3]);
                kv_str("opts", fields[5]);
                key("optional");
                open_('[');
                for (int i = 6; i < nf; i++)
                        item_str(fields[i]);
                close_(']');
                save = NULL;
                nf = 0;
                for (char *t = strtok_r(dash + 3, " ", &save); t && nf < 3;
                     t = strtok_r(NULL, " ", &save))
                        fields[nf++] = t;
                kv_str("type", nf > 0 ? fields[0] : "");
                kv_str("source", nf > 1 ? fields[1] : "");
                kv_str("super", nf > 2 ? fields[2] : "");
                close_('}');
        }
        free(line);
        fclose(f);
        close_(']');
}

/* --- the filesystem: /dev and a few directories --------------------------- */

static void stat_entry(const char *path)
{
        struct stat st;
        char buf[32];

        key(path);
        if (lstat(path, &st) < 0) {
                errno_value();
                return;
        }
        open_('{');
        snprintf(buf, sizeof(buf), "%c%04o",
                 S_ISDIR(st.st_mode)    ? 'd'
                 : S_ISCHR(st.st_mode)  ? 'c'
                 : S_ISBLK(st.st_mode)  ? 'b'
                 : S_ISLNK(st.st_mode)  ? 'l'
                 : S_ISFIFO(st.st_mode) ? 'p'
                 : S_ISSOCK(st.st_mode) ? 's'
                                        : '-',
                 (unsigned) (st.st_mode & 07777));
        kv_str("mode", buf);
        kv_num("uid", st.st_uid);
        kv_num("gid", st.st_gid);
        if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
                snprintf(buf, sizeof(buf), "%u:%u", major(st.st_rdev), minor(st.st_rdev));
                kv_str("rdev", buf);
        }
        if (S_ISLNK(st.st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlink(path, target, sizeof(target) - 1);

                target[n < 0 ? 0 : n] = '\0';
                kv_str("link", target);
        }
        if (S_ISREG(st.st_mode))
                kv_num("size", st.st_size);
        close_('}');
}

static void walk(const char *dir, int depth)
{
        struct dirent **names;
        int n = scandir(dir, &names, NULL, alphasort);

        for (int i = 0; i < n; i++) {
                char path[PATH_MAX];
                struct stat st;

                if (strcmp(names[i]->d_name, ".") && strcmp(names[i]->d_name, "..")) {
                        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
                        stat_entry(path);
                        if (depth > 0 && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
                                walk(path, depth - 1);
                }
                free(names[i]);
        }
        if (n >= 0)
                free(names);
}

static void o_paths(void)
{
        static const char *const dirs[] = { "/",
                                            "/dev",
                                            "/tmp",
                                            "/proc",
                                            "/sys",
                                            "/run",
                                            "/etc/hostname",
                                            "/etc/hosts",
                                            "/etc/resolv.conf",
                                            "/sys/fs/cgroup" };

        key("paths");
        open_('{');
        for (size_t i = 0; i < N(dirs); i++)
                stat_entry(dirs[i]);
        close_('}');
        key("dev");
        open_('{');
        walk("/dev", 2);
        close_('}');
}

/* --- network: interfaces by ioctl, so /sys need not be mounted ------------ */

static void o_net(void)
{
        struct if_nameindex *ifs = if_nameindex();
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        key("net");
        if (!ifs || fd < 0) {
                errno_value();
                if (fd >= 0)
                        close(fd);
                if (ifs)
                        if_freenameindex(ifs);
                return;
        }
        open_('{');
        for (struct if_nameindex *i = ifs; i->if_index; i++) {
                struct ifreq ifr = { 0 };
                char buf[32];

                snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", i->if_name);
                key(i->if_name);
                open_('{');
                if (ioctl(fd, SIOCGIFFLAGS, &ifr) == 0) {
                        snprintf(buf, sizeof(buf), "0x%x",
                                 (unsigned) (unsigned short) ifr.ifr_flags);
                        kv_str("flags", buf);
                }
                if (ioctl(fd, SIOCGIFMTU, &ifr) == 0)
                        kv_num("mtu", ifr.ifr_mtu);
                if (ioctl(fd, SIOCGIFADDR, &ifr) == 0)
                        kv_str("addr",
                               inet_ntoa(((struct sockaddr_in *) &ifr.ifr_addr)->sin_addr));
                close_('}');
        }
        close_('}');
        close(fd);
        if_freenameindex(ifs);
}

/* --- what a few calls do: seccomp and capabilities at work ---------------- */

static void o_calls(void)
{
        char dir[64];
        long r;

        key("calls");
        open_('{');
        snprintf(dir, sizeof(dir), "/tmp/.gk-observe.%d", (int) getpid());
        r = syscall(SYS_mkdir, dir, 0700);
        kv_str("mkdir /tmp", r == 0 ? "ok" : errno_name(errno));
        if (r == 0)
                rmdir(dir);
        r = syscall(SYS_mkdir, "/.gk-observe", 0700);
        kv_str("mkdir /", r == 0 ? "ok" : errno_name(errno));
        if (r == 0)
                rmdir("/.gk-observe");
        r = syscall(SYS_socket, AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        kv_str("socket inet6", r >= 0 ? "ok" : errno_name(errno));
        if (r >= 0)
                close((int) r);
        r = syscall(SYS_socket, AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
        kv_str("socket packet", r >= 0 ? "ok" : errno_name(errno));
        if (r >= 0)
                close((int) r);
        close_('}');
}

int p_observe(int argc, char **argv)
{
        struct utsname u;

        open_('{');
        o_ids();
        o_status();
        o_procattr();
        o_cwd_env();
        o_rlimits();
        if (uname(&u) == 0) {
                kv_str("hostname", u.nodename);
                kv_str("domainname", u.domainname);
        }
        o_files("proc", proc_files, N(proc_files));
        o_files("sysctl", sysctls, N(sysctls));
        o_files("cgroupfs", cgroup_files, N(cgroup_files));
        o_namespaces();
        o_fds();
        o_mounts();
        o_paths();
        o_net();
        o_calls();
        close_('}');
        putchar('\n');
        fflush(stdout);
        return argc > 0 ? atoi(argv[0]) : 0;
}
