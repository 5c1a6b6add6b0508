/* gkrun events [--stats] [--interval 5s] ID: runc's event stream, one JSON
 * object a line: {"type":"stats","id":ID,"data":{...}} every interval (or
 * once with --stats) and {"type":"oom","id":ID} as OOM kills happen.  The
 * stream ends when the container's init exits. */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "cmd/commands.h"
#include "container/state.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/opts.h"
#include "gk/util.h"
#include "spawn/wait.h"

/* Go's time.ParseDuration subset: "5s", "100ms", "1m30s", "1.5s". */
static int parse_duration(const char *s, int64_t *ms)
{
        static const struct {
                const char *unit;
                double ms;
        } units[] = {
                { "ms", 1 },  { "us", 1e-3 }, { "ns", 1e-6 },
                { "s", 1e3 }, { "m", 6e4 },   { "h", 3.6e6 },
        };
        double total = 0;

        if (!*s)
                return -EINVAL;
        while (*s) {
                char *end;
                double v = strtod(s, &end);
                size_t i;

                if (end == s || v < 0)
                        return -EINVAL;
                for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
                        if (!strncmp(end, units[i].unit, strlen(units[i].unit)))
                                break;
                if (i == sizeof(units) / sizeof(units[0]))
                        return -EINVAL;
                total += v * units[i].ms;
                s = end + strlen(units[i].unit);
        }
        if (total < 1 || total > 1e12)
                return -EINVAL;
        *ms = (int64_t) total;
        return 0;
}

static void ku64(yajl_gen g, const char *key, uint64_t v)
{
        char buf[24];
        int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);

        yajl_gen_string(g, (const unsigned char *) key, strlen(key));
        yajl_gen_number(g, buf, (size_t) n);
}

static void kobj(yajl_gen g, const char *key)
{
        yajl_gen_string(g, (const unsigned char *) key, strlen(key));
        yajl_gen_map_open(g);
}

static void blkio_list(yajl_gen g, const char *key, const gk_cgroup_stats *st, bool ios)
{
        yajl_gen_string(g, (const unsigned char *) key, strlen(key));
        yajl_gen_array_open(g);
        for (size_t i = 0; i < st->n_blkio; i++) {
                const gk_cgroup_blkio_dev *d = &st->blkio[i];
                uint64_t rd = ios ? d->read_ios : d->read_bytes,
                         wr = ios ? d->write_ios : d->write_bytes;
                const char *ops[] = { "Read", "Write", "Total" };
                uint64_t vals[] = { rd, wr, rd + wr };

                for (size_t k = 0; k < 3; k++) {
                        yajl_gen_map_open(g);
                        ku64(g, "major", d->major);
                        ku64(g, "minor", d->minor);
                        gk_json_kstr(g, "op", ops[k]);
                        ku64(g, "value", vals[k]);
                        yajl_gen_map_close(g);
                }
        }
        yajl_gen_array_close(g);
}

/* The "data" of a stats event, in runc's field names and units (ns). */
static void stats_data(yajl_gen g, const gk_cgroup_stats *st)
{
        kobj(g, "cpu");
        kobj(g, "usage");
        ku64(g, "total", st->cpu_usage_ns);
        ku64(g, "kernel", st->cpu_system_ns);
        ku64(g, "user", st->cpu_user_ns);
        yajl_gen_map_close(g);
        kobj(g, "throttling");
        ku64(g, "periods", st->cpu_periods);
        ku64(g, "throttledPeriods", st->cpu_throttled_periods);
        ku64(g, "throttledTime", st->cpu_throttled_time_ns);
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
        kobj(g, "memory");
        ku64(g, "cache", st->mem_cache);
        kobj(g, "usage");
        ku64(g, "limit", st->mem_limit);
        ku64(g, "usage", st->mem_usage);
        ku64(g, "max", st->mem_max_usage);
        ku64(g, "failcnt", st->mem_failcnt);
        yajl_gen_map_close(g);
        kobj(g, "swap");
        ku64(g, "limit", st->swap_limit);
        ku64(g, "usage", st->swap_usage);
        yajl_gen_map_close(g);
        ku64(g, "oomKillCount", st->oom_kill_count);
        yajl_gen_map_close(g);
        kobj(g, "pids");
        ku64(g, "current", st->pids_current);
        ku64(g, "limit", st->pids_limit == UINT64_MAX ? 0 : st->pids_limit); /* runc: max is 0 */
        yajl_gen_map_close(g);
        kobj(g, "blkio");
        blkio_list(g, "ioServiceBytesRecursive", st, false);
        blkio_list(g, "ioServicedRecursive", st, true);
        yajl_gen_map_close(g);
}

static int print_event(const char *type, const char *id, const gk_cgroup_stats *st, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);
        _cleanup_free_ char *out = NULL;
        int r;

        if (!g)
                return gk_error_make(err, ENOMEM, "events");
        yajl_gen_map_open(g);
        gk_json_kstr(g, "type", type);
        gk_json_kstr(g, "id", id);
        if (st) {
                kobj(g, "data");
                stats_data(g, st);
                yajl_gen_map_close(g);
        }
        yajl_gen_map_close(g);
        if ((r = gk_json_gen_finish(g, &out, NULL, err)) < 0)
                return r;
        printf("%s\n", out);
        fflush(stdout);
        return 0;
}

static int64_t now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

typedef struct watch {
        const char *id;
        gk_cgroup *cg;
        uint64_t ooms; /* oom kills already reported */
} watch;

/* Reads what is pending on the OOM notification fd (inotify events on
 * v2, the eventfd's count on v1), so that poll waits for the next one. */
static void drain(int oomfd)
{
        char buf[4096];

        while (oomfd >= 0 && read(oomfd, buf, sizeof(buf)) > 0)
                ;
}

/* An OOM notification may come before the kill is counted: look again
 * for a moment before deciding there was none.  On v2 the count's own
 * change to memory.events wakes the wait at once; v1 has no notice for
 * the count (its eventfd fires at the OOM), so there each look waits out
 * its 10 ms. */
static int report_ooms(watch *w, int oomfd, int tries, gk_error **err)
{
        gk_cgroup_stats st;

        for (int i = 0; i < tries; i++) {
                if (gk_cgroup_stats_read(w->cg, &st, NULL) < 0)
                        return 0;
                if (st.oom_kill_count > w->ooms) {
                        w->ooms = st.oom_kill_count;
                        return print_event("oom", w->id, NULL, err);
                }
                if (i + 1 < tries) {
                        struct pollfd p = { .fd = oomfd, .events = POLLIN };

                        if (poll(&p, 1, 10) > 0)
                                drain(oomfd);
                }
        }
        return 0;
}

static int stream(watch *w, int64_t interval, pid_t pid, gk_error **err)
{
        _cleanup_close_ int oomfd = gk_cgroup_oom_fd(w->cg, NULL);
        _cleanup_close_ int pidfd = gk_pidfd_open(pid); /* negative: poll ignores it */
        int64_t next = now_ms() + interval;
        gk_cgroup_stats st;
        int r;

        for (;;) {
                struct pollfd p[2] = { { .fd = oomfd, .events = POLLIN },
                                       { .fd = pidfd, .events = POLLIN } };
                int64_t left = next - now_ms();

                if (poll(p, 2, left < 0 ? 0 : (int) left) < 0 && errno != EINTR)
                        return gk_error_errno(err, "events: poll");
                if (p[0].revents & POLLIN) {
                        drain(oomfd);
                        if ((r = report_ooms(w, oomfd, 20, err)) < 0)
                                return r;
                }
                if (p[1].revents & POLLIN)
                        return report_ooms(w, oomfd, 1, err); /* the init is gone */
                if (now_ms() >= next) {
                        next += interval;
                        if (gk_cgroup_stats_read(w->cg, &st, NULL) < 0)
                                return 0; /* the cgroup went away */
                        if ((r = report_ooms(w, oomfd, 1, err)) < 0 ||
                            (r = print_event("stats", w->id, &st, err)) < 0)
                                return r;
                }
        }
}

int cmd_events(int argc, char **argv, const gk_global *g, gk_error **err)
{
        _cleanup_(gk_state_freep) gk_state *st = NULL;
        _cleanup_(gk_cgroup_freep) gk_cgroup *cg = NULL;
        const char *interval = "5s";
        bool stats = false;
        const gk_opt opts[] = { { "stats", 0, GK_OPT_BOOL, &stats, NULL,
                                  "print the statistics once and exit" },
                                { "interval", 0, GK_OPT_STRING, &interval, "DURATION",
                                  "time between two statistics events (default 5s)" },
                                { 0 } };
        gk_cgroup_stats s;
        int64_t ms;
        int first, r;

        if ((r = gk_opts_parse(argc, argv, "events", opts, &first, err)) < 0)
                return r;
        if (first != argc - 1)
                return gk_error_make(err, 0,
                                     "events: requires exactly 1 argument: the container id");
        if (parse_duration(interval, &ms) < 0)
                return gk_error_make(err, 0,
                                     "events: invalid value \"%s\" for --interval: must "
                                     "be a duration like 5s or 500ms",
                                     interval);
        if ((r = gk_state_load(g->root, argv[first], &st, err)) < 0)
                return r;
        if (gk_state_status(g->root, st) == GK_STATUS_STOPPED)
                return gk_error_make(err, 0, "container with id %s is not running", st->id);
        if (!st->cgroup || !st->cgroup[0])
                return gk_error_make(err, 0, "events: container %s has no cgroup", st->id);
        if ((r = gk_cgroup_open(st->cgroup, &cg, err)) < 0 ||
            (r = gk_cgroup_stats_read(cg, &s, err)) < 0)
                return r;
        if (stats)
                return print_event("stats", st->id, &s, err);
        return stream(&(watch){ .id = st->id, .cg = cg, .ooms = s.oom_kill_count }, ms, st->pid,
                      err);
}
