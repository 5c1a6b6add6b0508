/* linux.intelRdt applied through resctrl (rdt.h).  The rules are the
 * spec's (runtime-spec 1.3, config-linux.md "IntelRdt"): a group named by
 * closID is joined, made only when schemata are given, and never removed;
 * without closID a group named after the container is made and removed at
 * delete; enableMonitoring makes the MON group mon_groups/ID, removed at
 * delete. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "rdt/rdt.h"

#define RDTGROUP_SUPER_MAGIC 0x7655821

int gk_rdt_open_root(gk_error **err)
{
        _cleanup_close_ int fd = open(GK_RDT_ROOT, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct statfs sf;

        if (fd < 0 && errno != ENOENT)
                return gk_error_errno(err, "`%s`", GK_RDT_ROOT);
        if (fd < 0 || fstatfs(fd, &sf) < 0 || sf.f_type != RDTGROUP_SUPER_MAGIC)
                return gk_error_make(err, 0, "resctrl is not mounted at `%s`", GK_RDT_ROOT);
        return TAKE_FD(fd);
}

static bool has_info(int root, const char *name)
{
        char path[64];

        snprintf(path, sizeof(path), "info/%s", name);
        return faccessat(root, path, F_OK, 0) == 0;
}

int gk_rdt_check(int root, const gk_intel_rdt *r, gk_error **err)
{
        if (r->l3_cache_schema && !has_info(root, "L3"))
                return gk_error_make(err, 0,
                                     "l3CacheSchema: this host's resctrl has no L3 cache "
                                     "allocation (no info/L3)");
        if (r->mem_bw_schema && !has_info(root, "MB"))
                return gk_error_make(err, 0,
                                     "memBwSchema: this host's resctrl has no memory bandwidth "
                                     "allocation (no info/MB)");
        if (r->enable_monitoring && !has_info(root, "L3_MON"))
                return gk_error_make(err, 0,
                                     "enableMonitoring: this host's resctrl has no monitoring "
                                     "(no info/L3_MON)");
        return 0;
}

/* --- the schemata a group already has --- */

/* The value of domain DOM in "0=7f0;1=1f" (BASE 16, or 10 for MB). */
static bool domain_value(const char *doms, unsigned long dom, int base, unsigned long *out)
{
        const char *p = doms;

        while (*p) {
                char *end;
                unsigned long d = strtoul(p, &end, 10);

                if (end == p || *end != '=')
                        return false;
                p = end + 1;
                *out = strtoul(p, &end, base);
                if (end == p)
                        return false;
                if (d == dom)
                        return true;
                p = end + strspn(end, "; \t");
        }
        return false;
}

/* In CURRENT, the line of resource RES (NAMELEN bytes): its domains. */
static const char *resource_line(const char *current, const char *res, size_t namelen)
{
        for (const char *l = current; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
                l += strspn(l, " \t");
                if (!strncmp(l, res, namelen) && l[namelen] == ':')
                        return l + namelen + 1;
        }
        return NULL;
}

bool gk_rdt_schema_holds(const char *current, const char *line)
{
        const char *colon, *have, *p;
        size_t namelen;
        int base;

        line += strspn(line, " \t");
        if (!(colon = strchr(line, ':')))
                return false;
        namelen = (size_t) (colon - line);
        base = namelen >= 2 && !strncmp(line, "MB", 2) ? 10 : 16;
        if (!(have = resource_line(current, line, namelen)))
                return false;
        for (p = colon + 1; *p;) {
                char *end;
                unsigned long dom = strtoul(p, &end, 10), want, got;

                if (end == p || *end != '=')
                        return false;
                p = end + 1;
                want = strtoul(p, &end, base);
                if (end == p || !domain_value(have, dom, base, &got) || got != want)
                        return false;
                p = end + strspn(end, "; \t");
        }
        return true;
}

/* --- apply --- */

/* The lines to write, in the spec's order. */
static size_t schema_lines(const gk_intel_rdt *r, const char **out, size_t max)
{
        size_t n = 0;

        if (r->l3_cache_schema && n < max)
                out[n++] = r->l3_cache_schema;
        if (r->mem_bw_schema && n < max)
                out[n++] = r->mem_bw_schema;
        for (size_t i = 0; i < r->n_schemata && n < max; i++)
                out[n++] = r->schemata[i];
        return n;
}

/* O_CREAT: in resctrl the file is there already; in a test's stand-in
 * directory the write makes it.  O_APPEND: one line per write. */
static int write_line(int dir, const char *file, const char *line, gk_error **err)
{
        _cleanup_close_ int fd = openat(dir, file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                                        0644);
        _cleanup_free_ char *text = NULL;

        if (fd < 0)
                return gk_error_errno(err, "open `%s`", file);
        if (asprintf(&text, "%s\n", line) < 0)
                return gk_error_make(err, ENOMEM, "resctrl");
        if (gk_write_all(fd, text, strlen(text)) < 0)
                return gk_error_errno(err, "write \"%s\" to `%s`", line, file);
        return 0;
}

static int write_pid(int dir, const char *what, pid_t pid, gk_error **err)
{
        char buf[24];

        snprintf(buf, sizeof(buf), "%d", (int) pid);
        if (write_line(dir, "tasks", buf, err) < 0)
                return gk_error_wrap(err, "%s", what);
        return 0;
}

static int open_dir(int at, const char *name)
{
        return openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
}

/* The group's directory; *MADE when made here. */
static int open_group(int root, const gk_intel_rdt *r, const char *id, size_t n_lines, bool *made,
                      gk_error **err)
{
        const char *name = r->clos_id ? r->clos_id : id;
        int fd;

        *made = false;
        if (r->clos_id && !strcmp(r->clos_id, "/")) {
                if (n_lines)
                        return gk_error_make(err, EINVAL,
                                             "closID \"/\" (the default group) with schemata: "
                                             "gkrun does not change the host's default group");
                fd = fcntl(root, F_DUPFD_CLOEXEC, 3);
                return fd < 0 ? gk_error_errno(err, "resctrl") : fd;
        }
        if (!r->clos_id || n_lines) {
                if (mkdirat(root, name, 0755) == 0)
                        *made = true;
                else if (errno != EEXIST || !r->clos_id)
                        return gk_error_errno(err, "make group `%s`", name);
        }
        fd = open_dir(root, name);
        if (fd < 0 && errno == ENOENT)
                return gk_error_make(err, ENOENT,
                                     "closID \"%s\": no such group in resctrl (without schemata "
                                     "it must exist)",
                                     name);
        if (fd < 0)
                return gk_error_errno(err, "group `%s`", name);
        return fd;
}

static int check_existing(int group, const gk_intel_rdt *r, const char **lines, size_t n,
                          gk_error **err)
{
        _cleanup_free_ char *current = NULL;
        size_t len;

        if (!n)
                return 0;
        if (gk_read_file_at(group, "schemata", &current, &len, err) < 0)
                return gk_error_wrap(err, "closID \"%s\"", r->clos_id);
        for (size_t i = 0; i < n; i++)
                if (!gk_rdt_schema_holds(current, lines[i]))
                        return gk_error_make(err, EEXIST,
                                             "closID \"%s\": the group exists with other "
                                             "schemata than \"%s\"",
                                             r->clos_id, lines[i]);
        return 0;
}

static int apply_in(int group, bool made, const gk_intel_rdt *r, const char *id, pid_t pid,
                    const char **lines, size_t n, gk_error **err)
{
        _cleanup_close_ int mons = -1, mon = -1;

        if (!made && check_existing(group, r, lines, n, err) < 0)
                return gk_error_code(*err);
        for (size_t i = 0; made && i < n; i++)
                if (write_line(group, "schemata", lines[i], err) < 0)
                        return gk_error_code(*err);
        if (write_pid(group, "join the group", pid, err) < 0)
                return gk_error_code(*err);
        if (!r->enable_monitoring)
                return 0;
        if ((mons = open_dir(group, "mon_groups")) < 0)
                return gk_error_errno(err, "enableMonitoring: `mon_groups`");
        if (mkdirat(mons, id, 0755) < 0)
                return gk_error_errno(err, "enableMonitoring: make `mon_groups/%s`", id);
        if ((mon = open_dir(mons, id)) < 0 ||
            write_pid(mon, "enableMonitoring: join the MON group", pid, err) < 0) {
                if (mon < 0)
                        gk_error_errno(err, "enableMonitoring: `mon_groups/%s`", id);
                unlinkat(mons, id, AT_REMOVEDIR);
                return gk_error_code(*err);
        }
        return 0;
}

/* A stand-in directory (a test's) holds the files the writes made; a
 * resctrl group's directory is removed with its files by rmdir alone. */
static void remove_dir(int at, const char *name)
{
        _cleanup_close_ int fd = -1;

        if (unlinkat(at, name, AT_REMOVEDIR) == 0 || errno != ENOTEMPTY)
                return;
        if ((fd = open_dir(at, name)) < 0)
                return;
        unlinkat(fd, "schemata", 0);
        unlinkat(fd, "tasks", 0);
        unlinkat(at, name, AT_REMOVEDIR);
}

int gk_rdt_apply(int root, const gk_intel_rdt *r, const char *id, pid_t pid, gk_error **err)
{
        const char *lines[2 + 64];
        size_t n = schema_lines(r, lines, sizeof(lines) / sizeof(lines[0]));
        _cleanup_close_ int group = -1;
        bool made;

        if (r->n_schemata + 2 > sizeof(lines) / sizeof(lines[0]))
                return gk_error_make(err, E2BIG, "schemata: more than 64 lines");
        if ((group = open_group(root, r, id, n, &made, err)) < 0)
                return group;
        if (apply_in(group, made, r, id, pid, lines, n, err) < 0) {
                if (made)
                        remove_dir(root, r->clos_id ? r->clos_id : id);
                return gk_error_code(*err);
        }
        return 0;
}

int gk_rdt_remove(int root, const gk_intel_rdt *r, const char *id, gk_error **err)
{
        const char *name = r->clos_id ? r->clos_id : id;
        _cleanup_close_ int group = -1, mons = -1;

        group = r->clos_id && !strcmp(r->clos_id, "/") ? fcntl(root, F_DUPFD_CLOEXEC, 3)
                                                       : open_dir(root, name);
        if (group < 0)
                return errno == ENOENT ? 0 : gk_error_errno(err, "group `%s`", name);
        if (r->enable_monitoring && (mons = open_dir(group, "mon_groups")) >= 0) {
                remove_dir(mons, id);
                if (faccessat(mons, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                        return gk_error_errno(err, "remove `%s/mon_groups/%s`", name, id);
        }
        if (r->clos_id)
                return 0;
        remove_dir(root, id);
        if (faccessat(root, id, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                return gk_error_errno(err, "remove group `%s`", id);
        return 0;
}
