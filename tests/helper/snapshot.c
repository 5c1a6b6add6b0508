/* gk-probe snapshot: everything the container can observe of itself, as
 * one JSON object {"observe": {...}, "extra": {PATH-LIKE KEY: STRING}}:
 * `observe` is the observe probe's document; `extra` adds what the
 * runtime-spec fields of branch-by-branch work change (scheduling
 * attributes, I/O priority, memory policy, time namespace offsets) and
 * every readable file of the container's cgroupfs and of /proc/sys/net and
 * /proc/sys/kernel.  tests/integration/test_spec_fields.py compares a
 * container's snapshot with a baseline's, one spec field at a time. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "probe.h"

static int first = 1;

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

static void kv(const char *k, const char *v)
{
        if (!first)
                putchar(',');
        first = 0;
        str(k);
        putchar(':');
        str(v);
}

static void kvf(const char *k, const char *fmt, long long v)
{
        char buf[64];

        snprintf(buf, sizeof(buf), fmt, v);
        kv(k, buf);
}

/* The kernel's struct sched_attr (sched_getattr(2)); libc has no wrapper. */
struct probe_sched_attr {
        uint32_t size, policy;
        uint64_t flags;
        int32_t nice;
        uint32_t priority;
        uint64_t runtime, deadline, period;
        uint32_t util_min, util_max;
};

static void sched(void)
{
        struct probe_sched_attr a = { 0 };

        if (syscall(SYS_sched_getattr, 0, &a, sizeof(a), 0) < 0) {
                kv("sched", errno_name(errno));
                return;
        }
        kvf("sched.policy", "%lld", a.policy);
        kvf("sched.flags", "%#llx", (long long) a.flags);
        kvf("sched.nice", "%lld", a.nice);
        kvf("sched.priority", "%lld", a.priority);
        kvf("sched.runtime", "%lld", (long long) a.runtime);
        kvf("sched.deadline", "%lld", (long long) a.deadline);
        kvf("sched.period", "%lld", (long long) a.period);
}

static void ioprio(void)
{
        long r = syscall(SYS_ioprio_get, 1 /* IOPRIO_WHO_PROCESS */, 0);

        if (r < 0) {
                kv("ioprio", errno_name(errno));
                return;
        }
        kvf("ioprio.class", "%lld", r >> 13);
        kvf("ioprio.data", "%lld", r & 0x1fff);
}

static void mempolicy(void)
{
        unsigned long mask[16] = { 0 };
        int mode = -1;
        char buf[64];

        if (syscall(SYS_get_mempolicy, &mode, mask, 16 * 8 * sizeof(long), NULL, 0) < 0) {
                kv("mempolicy", errno_name(errno));
                return;
        }
        kvf("mempolicy.mode", "%#llx", mode);
        snprintf(buf, sizeof(buf), "%#lx", mask[0]);
        kv("mempolicy.nodes", buf);
}

/* The lines of /proc/self/status the observe probe leaves out. */
static void status(void)
{
        static const char *const keys[] = { "Speculation_Store_Bypass",
                                            "SpeculationIndirectBranch", "Cpus_allowed_list",
                                            "Mems_allowed_list", "Groups" };
        char line[512];
        FILE *f = fopen("/proc/self/status", "re");

        if (!f)
                return;
        while (fgets(line, sizeof(line), f)) {
                char *colon = strchr(line, ':'), k[64];

                if (!colon)
                        continue;
                *colon = '\0';
                for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
                        if (!strcmp(line, keys[i])) {
                                char *v = colon + 1 + strspn(colon + 1, " \t");

                                v[strcspn(v, "\n")] = '\0';
                                snprintf(k, sizeof(k), "status.%s", keys[i]);
                                kv(k, v);
                        }
        }
        fclose(f);
}

/* A 32-bit x86 system call (getpid through int 0x80) from a child: a
 * seccomp filter without that architecture kills it, one with it lets it
 * through (linux.seccomp.architectures). */
static void int80(void)
{
#if defined(__x86_64__)
        int st;
        pid_t pid = fork();

        if (pid == 0) {
                long r = 20; /* __NR_getpid of i386 */

                __asm__ volatile("int $0x80" : "+a"(r) : : "memory");
                _exit(r > 0 ? 0 : 1);
        }
        if (pid < 0 || waitpid(pid, &st, 0) < 0)
                return;
        if (WIFSIGNALED(st))
                kvf("int80", "signal %lld", WTERMSIG(st));
        else
                kvf("int80", "exit %lld", WEXITSTATUS(st));
#endif
}

static void file(const char *key, const char *path)
{
        char buf[4096];
        ssize_t n;
        int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);

        if (fd < 0)
                return; /* what cannot be read is not observed */
        n = read(fd, buf, sizeof(buf) - 1);
        close(fd);
        if (n < 0)
                return;
        buf[n] = '\0';
        for (ssize_t i = 0; i < n; i++) /* /proc/self/cmdline */
                if (!buf[i])
                        buf[i] = ' ';
        while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                buf[--n] = '\0';
        kv(key, buf);
}

/* Every readable regular file under DIR, down to DEPTH levels. */
static void tree(const char *dir, int depth)
{
        DIR *d = opendir(dir);
        struct dirent *e;

        if (!d)
                return;
        while ((e = readdir(d))) {
                char path[PATH_MAX];
                struct stat st;

                if (e->d_name[0] == '.')
                        continue;
                snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
                if (lstat(path, &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode) && depth > 0)
                        tree(path, depth - 1);
                else if (S_ISREG(st.st_mode) && (st.st_mode & 0444))
                        file(path, path);
        }
        closedir(d);
}

int p_snapshot(int argc, char **argv)
{
        (void) argc;
        (void) argv;
        fputs("{\"observe\":", stdout);
        fflush(stdout);
        p_observe(0, NULL);
        fputs(",\"extra\":{", stdout);
        sched();
        ioprio();
        mempolicy();
        status();
        int80();
        file("timens_offsets", "/proc/self/timens_offsets");
        file("cmdline", "/proc/self/cmdline");
        file("attr/current", "/proc/self/attr/current");
        file("attr/exec", "/proc/self/attr/exec");
        tree("/sys/fs/cgroup", 3);
        tree("/proc/sys/net", 4);
        tree("/proc/sys/kernel", 2);
        puts("}}");
        return 0;
}
