/* --systemd-cgroup: linux.cgroupsPath is "slice:prefix:name" and systemd
 * makes the container's cgroup, a transient scope "prefix-name.scope" in
 * SLICE, over D-Bus (StartTransientUnit), as runc's systemd driver does.
 *
 * Order: at create, before the init exists, the path is checked, systemd
 * must be PID 1 and reachable, and the scope must not exist yet; nothing is
 * made.  A scope cannot exist without a process, so it is started when the
 * init is there (gk_cgroup_enter: PIDs=[init]), with the limits systemd
 * knows as unit properties (so that a daemon-reload keeps them); cgroup.c
 * then writes every linux.resources field to the scope's cgroup files as
 * for any cgroup.  delete stops the unit (StopUnit); systemd removes the
 * cgroup.  Without systemd the error says so: no silent fallback to
 * cgroupfs paths.
 *
 * The bus: the system bus when a bus daemon runs, else systemd's own
 * private socket (root only, no bus daemon needed).
 *
 * A user (euid not 0) talks to its own systemd (systemd --user, the
 * user@UID.service a login starts), as runc's rootless systemd driver
 * does: over the session bus ($DBUS_SESSION_BUS_ADDRESS or
 * $XDG_RUNTIME_DIR/bus), else that manager's private socket
 * ($XDG_RUNTIME_DIR/systemd/private).  The scope goes in user.slice by
 * default, under the manager's own cgroup, which systemd delegates to the
 * user; cgroup v2 only (v1 delegates nothing safely to a user). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "cgroup/cgroup_internal.h"
#include "gk/cleanup.h"
#include "gk/util.h"

#define SD_DEST "org.freedesktop.systemd1"
#define SD_PATH "/org/freedesktop/systemd1"
#define SD_MANAGER "org.freedesktop.systemd1.Manager"
#define PRIVATE_SOCKET "unix:path=/run/systemd/private"
#define SD_PROPERTIES "org.freedesktop.DBus.Properties"
#define JOB_TIMEOUT_USEC (30ULL * 1000000)

static void busp_unref(sd_bus **b)
{
        if (*b)
                sd_bus_flush_close_unref(*b);
}
#define _cleanup_bus_ _cleanup_(busp_unref)

static void msgp_unref(sd_bus_message **m)
{
        sd_bus_message_unref(*m);
}
#define _cleanup_msg_ _cleanup_(msgp_unref)

/* "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" -> "". */
static int expand_slice(const char *slice, char **out, gk_error **err)
{
        size_t len = strlen(slice), base, size;
        char *p, *o;

        if (!strcmp(slice, "-.slice")) {
                *out = strdup("");
                return *out ? 0 : gk_error_make(err, ENOMEM, "cgroup path");
        }
        base = len - 6;
        if (len <= 6 || strcmp(slice + base, ".slice") || strchr(slice, '/') || slice[0] == '-' ||
            slice[base - 1] == '-' || strstr(slice, "--"))
                return gk_error_make(err, 0,
                                     "config.json: linux.cgroupsPath: \"%s\" is not a "
                                     "slice name (NAME.slice)",
                                     slice);
        /* each '-' starts one more level: at most len/2 levels of len */
        size = (len / 2 + 2) * (len + 8);
        o = p = malloc(size);
        if (!p)
                return gk_error_make(err, ENOMEM, "cgroup path");
        for (size_t i = 0; i <= base; i++)
                if (i == base || slice[i] == '-')
                        o += snprintf(o, size - (size_t) (o - p), "/%.*s.slice", (int) i, slice);
        *out = p;
        return 0;
}

/* Whether the systemd to ask is the user's own, not PID 1. */
static bool user_manager(void)
{
        return geteuid() != 0;
}

/* Splits "slice:prefix:name" (empty: system.slice:gkrun:ID; a user's
 * default slice is user.slice, as runc's). */
static int parse_path(const char *id, const char *path, char **slice, char **unit, gk_error **err)
{
        const char *c1, *c2, *name, *dflt = user_manager() ? "user.slice" : "system.slice";
        int n;

        if (!path || !*path) {
                *slice = strdup(dflt);
                n = asprintf(unit, "gkrun-%s.scope", id);
                return *slice && n > 0 ? 0 : gk_error_make(err, ENOMEM, "cgroup path");
        }
        c1 = strchr(path, ':');
        c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        name = c2 ? c2 + 1 : NULL;
        if (!c2 || strchr(name, ':') || !*name)
                return gk_error_make(err, 0,
                                     "config.json: linux.cgroupsPath: expected "
                                     "\"slice:prefix:name\" with --systemd-cgroup, got \"%s\"",
                                     path);
        if (strchr(path, '/') || gk_str_has_prefix(name, ".") ||
            (strlen(name) > 6 && !strcmp(name + strlen(name) - 6, ".slice")))
                return gk_error_make(err, 0,
                                     "config.json: linux.cgroupsPath: \"%s\": the name "
                                     "must make a scope unit name (no '/', not a slice)",
                                     path);
        *slice = c1 == path ? strdup(dflt) : strndup(path, (size_t) (c1 - path));
        n = c2 == c1 + 1 ? asprintf(unit, "%s.scope", name)
                         : asprintf(unit, "%.*s-%s.scope", (int) (c2 - c1 - 1), c1 + 1, name);
        return *slice && n > 0 ? 0 : gk_error_make(err, ENOMEM, "cgroup path");
}

static int systemd_is_pid1(gk_error **err)
{
        char comm[64] = "";
        ssize_t n = gk_cg_read(-1, "/proc/1/comm", comm, sizeof(comm), NULL);

        if (n > 0)
                comm[strcspn(comm, "\n")] = '\0';
        if (strcmp(comm, "systemd"))
                return gk_error_make(err, 0,
                                     "--systemd-cgroup: systemd is not running (PID 1 is "
                                     "\"%s\"); use cgroupfs paths without --systemd-cgroup",
                                     comm[0] ? comm : "unknown");
        return 0;
}

/* Whether $XDG_RUNTIME_DIR/NAME exists (sets *PATH to it either way). */
static bool xdg_has(const char *name, char *path, size_t size)
{
        const char *xdg = getenv("XDG_RUNTIME_DIR");

        snprintf(path, size, "%s/%s", xdg && *xdg ? xdg : "$XDG_RUNTIME_DIR", name);
        return xdg && *xdg && access(path, F_OK) == 0;
}

/* The user's systemd: its session bus, else its private socket. */
static int user_bus_connect(sd_bus **out, gk_error **err)
{
        _cleanup_bus_ sd_bus *bus = NULL;
        char session[4096], private[4096], addr[4200];
        const char *env = getenv("DBUS_SESSION_BUS_ADDRESS");
        int r;

        if ((env && *env) || xdg_has("bus", session, sizeof(session))) {
                if ((r = sd_bus_open_user(&bus)) < 0)
                        return gk_error_make(err, -r,
                                             "--systemd-cgroup: cannot reach the user's systemd "
                                             "on the session bus (%s): %s",
                                             env && *env ? env : session, strerror(-r));
        } else if (xdg_has("systemd/private", private, sizeof(private))) {
                snprintf(addr, sizeof(addr), "unix:path=%s", private);
                if ((r = sd_bus_new(&bus)) < 0 || (r = sd_bus_set_address(bus, addr)) < 0 ||
                    (r = sd_bus_start(bus)) < 0)
                        return gk_error_make(err, -r,
                                             "--systemd-cgroup: cannot reach the user's systemd "
                                             "at `%s`: %s",
                                             private, strerror(-r));
        } else
                return gk_error_make(err, ENOENT,
                                     "--systemd-cgroup: as a user (uid %u) gkrun asks the user's "
                                     "own systemd (systemd --user), and none answers here: "
                                     "DBUS_SESSION_BUS_ADDRESS is not set and neither `%s` nor "
                                     "`%s` exists (a login session starts user@%u.service; "
                                     "dbus-user-session gives the bus); or run without "
                                     "--systemd-cgroup",
                                     (unsigned) geteuid(), session, private, (unsigned) geteuid());
        *out = TAKE_PTR(bus);
        return 0;
}

static int bus_connect(sd_bus **out, gk_error **err)
{
        _cleanup_bus_ sd_bus *bus = NULL;
        int r, r2;

        if (user_manager())
                return user_bus_connect(out, err);
        r = sd_bus_open_system(&bus);

        if (r >= 0) {
                *out = TAKE_PTR(bus);
                return 0;
        }
        bus = NULL;
        if ((r2 = sd_bus_new(&bus)) < 0 || (r2 = sd_bus_set_address(bus, PRIVATE_SOCKET)) < 0 ||
            (r2 = sd_bus_start(bus)) < 0)
                return gk_error_make(err, -r2,
                                     "--systemd-cgroup: cannot reach systemd over D-Bus "
                                     "(system bus: %s; %s: %s)",
                                     strerror(-r), PRIVATE_SOCKET + 10, strerror(-r2));
        *out = TAKE_PTR(bus);
        return 0;
}

static int bus_error(gk_error **err, const sd_bus_error *e, int r, const char *what,
                     const char *unit)
{
        return gk_error_make(err, -r, "--systemd-cgroup: %s `%s`: %s", what, unit,
                             e && e->message ? e->message : strerror(-r));
}

typedef struct job_wait {
        char path[256];
        char result[32];
        bool done;
} job_wait;

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
        job_wait *w = userdata;
        const char *path, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0 || !w->path[0] ||
            strcmp(path, w->path))
                return 0;
        snprintf(w->result, sizeof(w->result), "%s", result);
        w->done = true;
        return 0;
}

static uint64_t now_usec(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000 + (uint64_t) ts.tv_nsec / 1000;
}

/* Calls METHOD (which returns a job) and waits for the job to end. */
static int call_job(sd_bus *bus, const char *unit, const char *what, sd_bus_message *call,
                    gk_error **err)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_msg_ sd_bus_message *reply = NULL;
        sd_bus_slot *slot = NULL;
        job_wait w = { "" };
        const char *job;
        uint64_t end;
        int r;

        r = sd_bus_match_signal(bus, &slot, SD_DEST, SD_PATH, SD_MANAGER, "JobRemoved",
                                on_job_removed, &w);
        if (r < 0)
                return bus_error(err, NULL, r, "watch jobs of", unit);
        r = sd_bus_call(bus, call, JOB_TIMEOUT_USEC, &e, &reply);
        if (r >= 0)
                r = sd_bus_message_read(reply, "o", &job);
        if (r < 0) {
                sd_bus_slot_unref(slot);
                if (sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit"))
                        return -ENOENT;
                if (sd_bus_error_has_name(&e, "org.freedesktop.systemd1.UnitExists"))
                        return gk_error_make(err, EEXIST,
                                             "--systemd-cgroup: unit `%s` already "
                                             "exists",
                                             unit);
                return bus_error(err, &e, r, what, unit);
        }
        snprintf(w.path, sizeof(w.path), "%s", job);
        for (end = now_usec() + JOB_TIMEOUT_USEC; !w.done;) {
                uint64_t now = now_usec();

                r = sd_bus_process(bus, NULL);
                if (r > 0)
                        continue;
                if (r < 0 || now >= end || (r = sd_bus_wait(bus, end - now)) < 0)
                        break;
        }
        sd_bus_slot_unref(slot);
        if (!w.done)
                return bus_error(err, NULL, r < 0 ? r : -ETIMEDOUT, what, unit);
        if (strcmp(w.result, "done"))
                return gk_error_make(err, EIO,
                                     "--systemd-cgroup: %s `%s`: the job ended \"%s\" "
                                     "(see journalctl -u %s)",
                                     what, unit, w.result, unit);
        return 0;
}

/* The limits systemd knows, as properties, named as the files of the
 * memory and cpu controllers (MEM, CPU) call them. */
static int append_limits(sd_bus_message *m, const gk_resources *res, const gk_cg_files *mem,
                         const gk_cg_files *cpu)
{
        const gk_cpu *c = &res->cpu;
        const gk_memory *memory = &res->memory;
        int r = 0;

        if (mem && res->has_memory && memory->has_limit && memory->limit > 0)
                r = sd_bus_message_append(m, "(sv)", mem->sd_memory_max, "t",
                                          (uint64_t) memory->limit);
        if (r >= 0 && mem && mem->sd_memory_low && res->has_memory && memory->has_reservation &&
            memory->reservation > 0)
                r = sd_bus_message_append(m, "(sv)", mem->sd_memory_low, "t",
                                          (uint64_t) memory->reservation);
        if (r >= 0 && cpu && res->has_cpu && c->has_shares && c->shares)
                r = sd_bus_message_append(m, "(sv)", cpu->sd_cpu_weight, "t",
                                          cpu->sd_weight ? cpu->sd_weight(c->shares) : c->shares);
        if (r >= 0 && res->has_cpu && c->has_quota && c->quota > 0) {
                uint64_t period = c->has_period && c->period ? c->period : 100000;
                /* systemd keeps CPUQuota in 10 ms steps per second: round up */
                uint64_t per_sec = ((uint64_t) c->quota * 1000000 / period + 9999) / 10000 * 10000;

                r = sd_bus_message_append(m, "(sv)", "CPUQuotaPerSecUSec", "t", per_sec);
                if (r >= 0 && c->has_period && c->period)
                        r = sd_bus_message_append(m, "(sv)", "CPUQuotaPeriodUSec", "t", period);
        }
        /* systemd refuses TasksMax 0: 1 stops the same forks while the
         * init is in the scope, and the base driver writes pids.max 0 next */
        if (r >= 0 && res->has_pids)
                r = sd_bus_message_append(m, "(sv)", "TasksMax", "t",
                                          res->pids_limit > 0    ? (uint64_t) res->pids_limit
                                          : res->pids_limit == 0 ? 1
                                                                 : UINT64_MAX);
        return r;
}

static int start_message(sd_bus *bus, const char *id, const char *slice, const char *unit,
                         pid_t pid, const gk_resources *res, const gk_cg_files *mem,
                         const gk_cg_files *cpu, sd_bus_message **out)
{
        _cleanup_msg_ sd_bus_message *m = NULL;
        char desc[128];
        int r;

        snprintf(desc, sizeof(desc), "gkrun container %s", id);
        r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER,
                                           "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)(sv)(sv)(sv)(sv)(sv)", "Description", "s",
                                          desc, "Slice", "s", slice, "Delegate", "b", 1,
                                          "DefaultDependencies", "b", 0, "MemoryAccounting", "b",
                                          1, "CPUAccounting", "b", 1, "TasksAccounting", "b", 1);
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)", "PIDs", "au", 1, (uint32_t) pid);
        if (r >= 0 && res)
                r = append_limits(m, res, mem, cpu);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return r;
        *out = TAKE_PTR(m);
        return 0;
}

/* A loaded unit of that name that is not gone already is someone's. */
static int check_free(sd_bus *bus, const char *unit, gk_error **err)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_msg_ sd_bus_message *reply = NULL;
        int r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_MANAGER, "GetUnit", &e, &reply, "s",
                                   unit);

        if (r >= 0)
                return gk_error_make(err, EEXIST, "--systemd-cgroup: unit `%s` already exists",
                                     unit);
        if (sd_bus_error_has_name(&e, "org.freedesktop.systemd1.NoSuchUnit"))
                return 0;
        return bus_error(err, &e, r, "look up", unit);
}

/* Where the user's manager keeps its cgroups (its ControlGroup, as
 * "/user.slice/user-1000.slice/user@1000.service"); "" for PID 1. */
static int manager_cgroup(sd_bus *bus, char **out, gk_error **err)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_msg_ sd_bus_message *reply = NULL;
        const char *cg = "";
        int r;

        if (user_manager()) {
                r = sd_bus_call_method(bus, SD_DEST, SD_PATH, SD_PROPERTIES, "Get", &e, &reply,
                                       "ss", SD_MANAGER, "ControlGroup");
                if (r >= 0)
                        r = sd_bus_message_read(reply, "v", "s", &cg);
                if (r < 0)
                        return bus_error(err, &e, r, "ask the cgroup of", "systemd --user");
        }
        *out = strdup(cg);
        return *out ? 0 : gk_error_make(err, ENOMEM, "cgroup path");
}

/* A user's systemd gives cgroups on v2 only, as runc's says. */
static int user_needs_v2(bool pure_v2, gk_error **err)
{
        if (!user_manager() || pure_v2)
                return 0;
        return gk_error_make(err, 0,
                             "--systemd-cgroup: as a user (uid %u), the cgroup would come from "
                             "the user's systemd, which needs a pure cgroup v2 host (this one has "
                             "cgroup v1 controllers); run without --systemd-cgroup",
                             (unsigned) geteuid());
}

int gk_cg_systemd_prepare(const char *id, const char *cgroups_path, bool pure_v2, char **unit,
                          char **path, gk_error **err)
{
        _cleanup_free_ char *slice = NULL, *u = NULL, *dir = NULL, *top = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        int r;

        if ((r = parse_path(id, cgroups_path, &slice, &u, err)) < 0 ||
            (r = expand_slice(slice, &dir, err)) < 0 || (r = systemd_is_pid1(err)) < 0 ||
            (r = user_needs_v2(pure_v2, err)) < 0 || (r = bus_connect(&bus, err)) < 0 ||
            (r = check_free(bus, u, err)) < 0 || (r = manager_cgroup(bus, &top, err)) < 0)
                return r;
        if (asprintf(path, "%s%s/%s", top, dir, u) < 0)
                return gk_error_make(err, ENOMEM, "cgroup path");
        *unit = TAKE_PTR(u);
        return 0;
}

int gk_cg_systemd_start(const char *id, const char *unit, const char *path, pid_t pid,
                        const gk_resources *res, const gk_cg_files *mem, const gk_cg_files *cpu,
                        gk_error **err)
{
        _cleanup_msg_ sd_bus_message *m = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        _cleanup_free_ char *slice = NULL;
        const char *end = strrchr(path, '/'), *start;
        int r;

        /* the slice is the path's last component but one ("-.slice": none) */
        for (start = end; start > path && start[-1] != '/'; start--)
                ;
        slice = start < end ? strndup(start, (size_t) (end - start)) : strdup("-.slice");
        if (!slice)
                return gk_error_make(err, ENOMEM, "cgroup");
        if ((r = bus_connect(&bus, err)) < 0)
                return r;
        if ((r = start_message(bus, id, slice, unit, pid, res, mem, cpu, &m)) < 0)
                return bus_error(err, NULL, r, "start", unit);
        r = call_job(bus, unit, "start", m, err);
        return r == -ENOENT ? bus_error(err, NULL, r, "start", unit) : r;
}

int gk_cg_systemd_stop(const char *unit, gk_error **err)
{
        _cleanup_msg_ sd_bus_message *m = NULL;
        _cleanup_bus_ sd_bus *bus = NULL;
        int r;

        if ((r = bus_connect(&bus, err)) < 0)
                return r;
        r = sd_bus_message_new_method_call(bus, &m, SD_DEST, SD_PATH, SD_MANAGER, "StopUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "replace");
        if (r < 0)
                return bus_error(err, NULL, r, "stop", unit);
        r = call_job(bus, unit, "stop", m, err);
        return r == -ENOENT ? 0 : r; /* gone already: the container had ended */
}
