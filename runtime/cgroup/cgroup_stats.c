/* Statistics of a container's cgroups for `gkrun events` (memory, cpu,
 * pids, block I/O, OOM kills), from v1 or v2 files, and the OOM
 * notification fd. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "cgroup/cgroup_internal.h"
#include "gk/cleanup.h"
#include "gk/util.h"

static uint64_t u64_of(int fd, const char *file)
{
        uint64_t v = 0;

        gk_cg_read_u64(fd, file, &v, NULL);
        return v;
}

static uint64_t keyed_of(int fd, const char *file, const char *key)
{
        char buf[8192];
        uint64_t v = 0;

        if (gk_cg_read(fd, file, buf, sizeof(buf), NULL) >= 0)
                gk_cg_keyed_u64(buf, key, &v);
        return v;
}

static gk_cgroup_blkio_dev *blkio_dev(gk_cgroup_stats *st, uint32_t major, uint32_t minor)
{
        for (size_t i = 0; i < st->n_blkio; i++)
                if (st->blkio[i].major == major && st->blkio[i].minor == minor)
                        return &st->blkio[i];
        if (st->n_blkio == GK_CGROUP_BLKIO_MAX)
                return NULL;
        st->blkio[st->n_blkio] = (gk_cgroup_blkio_dev){ .major = major, .minor = minor };
        return &st->blkio[st->n_blkio++];
}

/* v1 "8:0 Read 4096" lines; IOS selects the serviced (count) file. */
static void v1_blkio(int fd, const char *file, bool ios, gk_cgroup_stats *st)
{
        _cleanup_free_ char *text = NULL;
        char *save = NULL;

        if (gk_read_file_at(fd, file, &text, NULL, NULL) < 0)
                return;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                unsigned maj, min;
                char op[16];
                unsigned long long v;
                gk_cgroup_blkio_dev *d;

                if (sscanf(l, "%u:%u %15s %llu", &maj, &min, op, &v) != 4 ||
                    !(d = blkio_dev(st, maj, min)))
                        continue;
                if (!strcmp(op, "Read"))
                        *(ios ? &d->read_ios : &d->read_bytes) = v;
                else if (!strcmp(op, "Write"))
                        *(ios ? &d->write_ios : &d->write_bytes) = v;
        }
}

static void v1_memory(int fd, gk_cgroup_stats *st)
{
        char buf[8192];

        st->mem_usage = u64_of(fd, "memory.usage_in_bytes");
        st->mem_limit = u64_of(fd, "memory.limit_in_bytes");
        st->mem_max_usage = u64_of(fd, "memory.max_usage_in_bytes");
        st->mem_failcnt = u64_of(fd, "memory.failcnt");
        /* as runc: "swap" is v1's memory+swap counter */
        st->swap_usage = u64_of(fd, "memory.memsw.usage_in_bytes");
        st->swap_limit = u64_of(fd, "memory.memsw.limit_in_bytes");
        st->oom_kill_count = keyed_of(fd, "memory.oom_control", "oom_kill");
        if (gk_cg_read(fd, "memory.stat", buf, sizeof(buf), NULL) >= 0 &&
            !gk_cg_keyed_u64(buf, "total_cache", &st->mem_cache))
                gk_cg_keyed_u64(buf, "cache", &st->mem_cache);
}

int gk_cg_v1_stats(int fd, enum gk_cg_ctrl c, gk_cgroup_stats *st, gk_error **err)
{
        long hz = sysconf(_SC_CLK_TCK);
        /* cpuacct.stat counts USER_HZ ticks */
        uint64_t tick = hz > 0 ? 1000000000ull / (uint64_t) hz : 10000000ull;

        (void) err;
        switch (c) {
        case GK_CTRL_MEMORY:
                v1_memory(fd, st);
                break;
        case GK_CTRL_CPU:
                st->cpu_periods = keyed_of(fd, "cpu.stat", "nr_periods");
                st->cpu_throttled_periods = keyed_of(fd, "cpu.stat", "nr_throttled");
                st->cpu_throttled_time_ns = keyed_of(fd, "cpu.stat", "throttled_time");
                break;
        case GK_CTRL_CPUACCT:
                st->cpu_usage_ns = u64_of(fd, "cpuacct.usage");
                st->cpu_user_ns = keyed_of(fd, "cpuacct.stat", "user") * tick;
                st->cpu_system_ns = keyed_of(fd, "cpuacct.stat", "system") * tick;
                break;
        case GK_CTRL_PIDS:
                st->pids_current = u64_of(fd, "pids.current");
                st->pids_limit = u64_of(fd, "pids.max");
                break;
        case GK_CTRL_BLKIO:
                v1_blkio(fd, "blkio.throttle.io_service_bytes_recursive", false, st);
                v1_blkio(fd, "blkio.throttle.io_serviced_recursive", true, st);
                break;
        default:
                break;
        }
        return 0;
}

/* io.stat: "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" */
static void v2_io(int fd, gk_cgroup_stats *st)
{
        _cleanup_free_ char *text = NULL;
        char *save = NULL;

        if (gk_read_file_at(fd, "io.stat", &text, NULL, NULL) < 0)
                return;
        for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
                unsigned maj, min;
                int pos = 0;
                gk_cgroup_blkio_dev *d;
                char *s2 = NULL;

                if (sscanf(l, "%u:%u %n", &maj, &min, &pos) != 2 || !pos ||
                    !(d = blkio_dev(st, maj, min)))
                        continue;
                for (char *kv = strtok_r(l + pos, " ", &s2); kv; kv = strtok_r(NULL, " ", &s2)) {
                        unsigned long long v;
                        char key[16];

                        if (sscanf(kv, "%15[a-z]=%llu", key, &v) != 2)
                                continue;
                        if (!strcmp(key, "rbytes"))
                                d->read_bytes = v;
                        else if (!strcmp(key, "wbytes"))
                                d->write_bytes = v;
                        else if (!strcmp(key, "rios"))
                                d->read_ios = v;
                        else if (!strcmp(key, "wios"))
                                d->write_ios = v;
                }
        }
}

static void v2_memory(int fd, gk_cgroup_stats *st)
{
        st->mem_usage = u64_of(fd, "memory.current");
        st->mem_limit = u64_of(fd, "memory.max");
        st->mem_max_usage = u64_of(fd, "memory.peak");
        /* runc's failcnt on v2: times the limit was hit */
        st->mem_failcnt = keyed_of(fd, "memory.events", "max");
        st->oom_kill_count = keyed_of(fd, "memory.events", "oom_kill");
        st->swap_usage = u64_of(fd, "memory.swap.current");
        st->swap_limit = u64_of(fd, "memory.swap.max");
        st->mem_cache = keyed_of(fd, "memory.stat", "file");
}

int gk_cg_v2_stats(int fd, enum gk_cg_ctrl c, gk_cgroup_stats *st, gk_error **err)
{
        char buf[1024];

        switch (c) {
        case GK_CTRL_MEMORY:
                v2_memory(fd, st);
                break;
        case GK_CTRL_CPU:
                /* cpu.stat exists without the cpu controller too */
                if (gk_cg_read(fd, "cpu.stat", buf, sizeof(buf), NULL) < 0)
                        break;
                if (gk_cg_keyed_u64(buf, "usage_usec", &st->cpu_usage_ns))
                        st->cpu_usage_ns *= 1000;
                if (gk_cg_keyed_u64(buf, "user_usec", &st->cpu_user_ns))
                        st->cpu_user_ns *= 1000;
                if (gk_cg_keyed_u64(buf, "system_usec", &st->cpu_system_ns))
                        st->cpu_system_ns *= 1000;
                gk_cg_keyed_u64(buf, "nr_periods", &st->cpu_periods);
                gk_cg_keyed_u64(buf, "nr_throttled", &st->cpu_throttled_periods);
                if (gk_cg_keyed_u64(buf, "throttled_usec", &st->cpu_throttled_time_ns))
                        st->cpu_throttled_time_ns *= 1000;
                break;
        case GK_CTRL_PIDS:
                st->pids_current = u64_of(fd, "pids.current");
                st->pids_limit = u64_of(fd, "pids.max");
                break;
        case GK_CTRL_BLKIO:
                v2_io(fd, st);
                break;
        default:
                break;
        }
        return 0;
}

/* v2: inotify on memory.events. */
int gk_cg_v2_oom_fd(int fd, gk_error **err)
{
        _cleanup_close_ int efd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        char buf[64];

        snprintf(buf, sizeof(buf), "/proc/self/fd/%d/memory.events", fd);
        if (efd < 0 || inotify_add_watch(efd, buf, IN_MODIFY) < 0)
                return gk_error_errno(err, "watch memory.events");
        return TAKE_FD(efd);
}

/* v1: an eventfd registered on memory.oom_control through
 * cgroup.event_control. */
int gk_cg_v1_oom_fd(int fd, gk_error **err)
{
        _cleanup_close_ int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        _cleanup_close_ int ofd = openat(fd, "memory.oom_control", O_RDONLY | O_CLOEXEC);
        char buf[64];
        int r;

        if (efd < 0 || ofd < 0)
                return gk_error_errno(err, "watch memory.oom_control");
        snprintf(buf, sizeof(buf), "%d %d", efd, ofd);
        if ((r = gk_cg_write(fd, "cgroup.event_control", buf, "oom notification", err)) < 0)
                return r;
        return TAKE_FD(efd);
}
