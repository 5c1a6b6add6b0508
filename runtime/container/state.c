/* The state store: ROOT/ID/state.json, written atomically; status derived
 * from the init's liveness, the exec fifo and the freezer. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "container/state.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/util.h"

#define OCI_VERSION "1.3.0"

int gk_id_validate(const char *id, gk_error **err)
{
        size_t n = strlen(id);

        if (n == 0)
                return gk_error_make(err, 0, "container id cannot be empty");
        if (n > 1024)
                return gk_error_make(err, 0, "invalid container id: longer than 1024 characters");
        if (!strcmp(id, ".") || !strcmp(id, ".."))
                return gk_error_make(err, 0, "invalid id format: %s", id);
        for (const char *p = id; *p; p++) {
                char c = *p;
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-' || c == '.' || c == '+'))
                        return gk_error_make(err, 0, "invalid id format: %s", id);
        }
        return 0;
}

char *gk_state_path(const char *root, const char *id, const char *name)
{
        char *p = NULL;

        if (asprintf(&p, "%s/%s%s%s", root, id, name ? "/" : "", name ? name : "") < 0)
                return NULL;
        return p;
}

int gk_state_root_open(const char *root, bool create, gk_error **err)
{
        int fd;

        if (create && mkdir(root, 0700) < 0 && errno != EEXIST && gk_mkdir_p(root, 0700, err) < 0)
                return gk_error_code(*err);
        fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return gk_error_errno(err, "open state root `%s`", root);
        return fd;
}

int gk_state_dir_create(const char *root, const char *id, gk_error **err)
{
        _cleanup_close_ int rfd = gk_state_root_open(root, true, err);

        if (rfd < 0)
                return rfd;
        if (mkdirat(rfd, id, 0711) < 0) {
                if (errno == EEXIST)
                        return gk_error_plain(err, EEXIST, "container with id exists: %s", id);
                return gk_error_errno(err, "create state directory `%s/%s`", root, id);
        }
        return 0;
}

static int parse_state(yajl_val v, gk_state *st, gk_error **err)
{
        const char *s;
        int64_t n;
        yajl_val a;

        if ((s = gk_json_get_str(v, "id")))
                st->id = strdup(s);
        if (gk_json_int64(gk_json_get(v, "pid"), &n))
                st->pid = (pid_t) n;
        if (gk_json_uint64(gk_json_get(v, "start_time"), (uint64_t *) &st->start_time) == false)
                st->start_time = 0;
        if ((s = gk_json_get_str(v, "bundle")))
                st->bundle = strdup(s);
        if ((s = gk_json_get_str(v, "rootfs")))
                st->rootfs = strdup(s);
        if ((s = gk_json_get_str(v, "cgroup")))
                st->cgroup = strdup(s);
        if ((s = gk_json_get_str(v, "net")))
                st->net = strdup(s);
        if (gk_json_int64(gk_json_get(v, "created_ns"), &n))
                st->created_ns = n;
        if (gk_json_int64(gk_json_get(v, "owner"), &n))
                st->owner = (uid_t) n;
        st->systemd_cgroup = YAJL_IS_TRUE(gk_json_get(v, "systemd_cgroup"));
        st->creating = YAJL_IS_TRUE(gk_json_get(v, "creating"));
        a = gk_json_get(v, "annotations");
        if (YAJL_IS_OBJECT(a) && a->u.object.len) {
                st->annotations = calloc(a->u.object.len, sizeof(gk_kv));
                if (!st->annotations)
                        return gk_error_make(err, ENOMEM, "state");
                for (size_t i = 0; i < a->u.object.len; i++) {
                        if (!YAJL_IS_STRING(a->u.object.values[i]))
                                continue;
                        st->annotations[st->n_annotations].key = strdup(a->u.object.keys[i]);
                        st->annotations[st->n_annotations++].value = strdup(
                                a->u.object.values[i]->u.string);
                        if (!st->annotations[st->n_annotations - 1].key ||
                            !st->annotations[st->n_annotations - 1].value)
                                return gk_error_make(err, ENOMEM, "state");
                }
        }
        if (!st->id)
                return gk_error_make(err, 0, "state.json: missing id");
        /* The id becomes a path again (save, delete) and the pid a kill()
         * target: a damaged file must not turn into "../x" or kill(-1). */
        if (gk_id_validate(st->id, err) < 0)
                return gk_error_wrap(err, "state.json: id");
        if (gk_json_int64(gk_json_get(v, "pid"), &n) && (n < 0 || n > INT32_MAX))
                return gk_error_make(err, 0, "state.json: pid %lld out of range", (long long) n);
        return 0;
}

int gk_state_parse(const char *text, size_t len, const char *what, gk_state **out, gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val v = NULL;
        _cleanup_(gk_state_freep) gk_state *st = NULL;

        if (gk_json_parse(text, len, what, &v, err) < 0)
                return gk_error_code(*err);
        if (!YAJL_IS_OBJECT(v))
                return gk_error_make(err, 0, "%s: not a JSON object", what);
        st = calloc(1, sizeof(*st));
        if (!st)
                return gk_error_make(err, ENOMEM, "state");
        if (parse_state(v, st, err) < 0)
                return gk_error_code(*err);
        *out = TAKE_PTR(st);
        return 0;
}

int gk_state_load(const char *root, const char *id, gk_state **out, gk_error **err)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        _cleanup_(gk_state_freep) gk_state *st = NULL;
        size_t len;
        int fd;

        if (gk_id_validate(id, err) < 0)
                return gk_error_code(*err);
        path = gk_state_path(root, id, "state.json");
        if (!path)
                return gk_error_make(err, ENOMEM, "state");
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return gk_error_plain(err, ENOENT, "container \"%s\" does not exist", id);
                return gk_error_errno(err, "open `%s`", path);
        }
        if (gk_read_fd(fd, path, &text, &len, err) < 0) {
                close(fd);
                return gk_error_code(*err);
        }
        close(fd);
        if (gk_state_parse(text, len, path, &st, err) < 0)
                return gk_error_code(*err);
        if (strcmp(st->id, id))
                return gk_error_make(err, 0, "`%s`: id `%s` is not the container's", path, st->id);
        *out = TAKE_PTR(st);
        return 0;
}

int gk_state_save(const char *root, const gk_state *st, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);
        _cleanup_free_ char *path = NULL, *text = NULL;
        size_t len;

        if (!g)
                return gk_error_make(err, ENOMEM, "state");
        yajl_gen_map_open(g);
        gk_json_kstr(g, "id", st->id);
        gk_json_kint(g, "pid", st->pid);
        gk_json_str(g, "start_time");
        yajl_gen_integer(g, (long long) st->start_time);
        gk_json_kstr(g, "bundle", st->bundle);
        gk_json_kstr(g, "rootfs", st->rootfs);
        gk_json_kstr(g, "cgroup", st->cgroup);
        if (st->net)
                gk_json_kstr(g, "net", st->net);
        gk_json_kint(g, "created_ns", st->created_ns);
        gk_json_kint(g, "owner", st->owner);
        gk_json_kbool(g, "systemd_cgroup", st->systemd_cgroup);
        gk_json_kbool(g, "creating", st->creating);
        gk_json_str(g, "annotations");
        yajl_gen_map_open(g);
        for (size_t i = 0; i < st->n_annotations; i++)
                gk_json_kstr(g, st->annotations[i].key, st->annotations[i].value);
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
        if (gk_json_gen_finish(g, &text, &len, err) < 0)
                return gk_error_code(*err);
        path = gk_state_path(root, st->id, "state.json");
        if (!path)
                return gk_error_make(err, ENOMEM, "state");
        return gk_write_file_atomic(path, text, len, 0600, false, err);
}

int gk_state_remove(const char *root, const char *id, gk_error **err)
{
        _cleanup_close_ int rfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (rfd < 0)
                return errno == ENOENT ? 0 : gk_error_errno(err, "open `%s`", root);
        return gk_rm_rf_at(rfd, id, err);
}

unsigned long long gk_proc_start_time(pid_t pid)
{
        char path[64], buf[1024];
        _cleanup_close_ int fd = -1;
        ssize_t n;
        char *p;
        unsigned long long t = 0;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return 0;
        buf[n] = '\0';
        /* The command name may hold spaces and parentheses: skip past the last ')'. */
        p = strrchr(buf, ')');
        if (!p)
                return 0;
        /* After ") " come fields 3..; start time is field 22. */
        p += 2;
        if (p[0] == 'Z' || p[0] == 'X')
                return 0; /* a zombie has stopped */
        for (int field = 3; field < 22 && p; field++) {
                p = strchr(p, ' ');
                if (p)
                        p++;
        }
        if (p)
                t = strtoull(p, NULL, 10);
        return t;
}

bool gk_state_init_alive(const gk_state *st)
{
        unsigned long long t;

        if (st->pid <= 0)
                return false;
        t = gk_proc_start_time(st->pid);
        return t != 0 && t == st->start_time;
}

enum gk_status gk_state_status(const char *root, const gk_state *st)
{
        _cleanup_free_ char *fifo = NULL;
        _cleanup_(gk_cgroup_freep) gk_cgroup *cg = NULL;
        bool frozen = false;

        if (!gk_state_init_alive(st))
                return st->creating && st->pid == 0 ? GK_STATUS_CREATING : GK_STATUS_STOPPED;
        if (st->creating)
                return GK_STATUS_CREATING;
        fifo = gk_state_path(root, st->id, "exec.fifo");
        if (fifo && access(fifo, F_OK) == 0)
                return GK_STATUS_CREATED;
        if (st->cgroup && st->cgroup[0] && gk_cgroup_open(st->cgroup, &cg, NULL) == 0 &&
            gk_cgroup_is_frozen(cg, &frozen, NULL) == 0 && frozen)
                return GK_STATUS_PAUSED;
        return GK_STATUS_RUNNING;
}

const char *gk_status_name(enum gk_status s)
{
        static const char *const names[] = {
                [GK_STATUS_CREATING] = "creating", [GK_STATUS_CREATED] = "created",
                [GK_STATUS_RUNNING] = "running",   [GK_STATUS_PAUSED] = "paused",
                [GK_STATUS_STOPPED] = "stopped",
        };
        return names[s];
}

int gk_state_to_oci_json(const char *root, const gk_state *st, char **out, gk_error **err)
{
        return gk_state_to_oci_json_as(st, gk_state_status(root, st), out, err);
}

int gk_state_to_oci_json_as(const gk_state *st, enum gk_status status, char **out, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(true);
        char created[64];

        if (!g)
                return gk_error_make(err, ENOMEM, "state");
        gk_format_time_rfc3339(created, sizeof(created), st->created_ns);
        yajl_gen_map_open(g);
        gk_json_kstr(g, "ociVersion", OCI_VERSION);
        gk_json_kstr(g, "id", st->id);
        gk_json_kstr(g, "status", gk_status_name(status));
        gk_json_kint(g, "pid", status == GK_STATUS_STOPPED ? 0 : st->pid);
        gk_json_kstr(g, "bundle", st->bundle);
        gk_json_kstr(g, "rootfs", st->rootfs);
        gk_json_kstr(g, "created", created);
        gk_json_kint(g, "owner", st->owner);
        if (st->n_annotations) {
                gk_json_str(g, "annotations");
                yajl_gen_map_open(g);
                for (size_t i = 0; i < st->n_annotations; i++)
                        gk_json_kstr(g, st->annotations[i].key, st->annotations[i].value);
                yajl_gen_map_close(g);
        }
        yajl_gen_map_close(g);
        return gk_json_gen_finish(g, out, NULL, err);
}

int gk_state_lock(const char *root, const char *id, gk_error **err)
{
        _cleanup_free_ char *dir = gk_state_path(root, id, NULL);
        _cleanup_close_ int fd = -1;

        if (!dir)
                return gk_error_make(err, ENOMEM, "lock");
        fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOENT)
                        return gk_error_plain(err, ENOENT, "container \"%s\" does not exist", id);
                return gk_error_errno(err, "open `%s`", dir);
        }
        if (flock(fd, LOCK_EX) < 0)
                return gk_error_errno(err, "lock `%s`", dir);
        return TAKE_FD(fd);
}

void gk_state_free(gk_state *st)
{
        if (!st)
                return;
        free(st->id);
        free(st->bundle);
        free(st->rootfs);
        free(st->cgroup);
        free(st->net);
        for (size_t i = 0; i < st->n_annotations; i++) {
                free(st->annotations[i].key);
                free(st->annotations[i].value);
        }
        free(st->annotations);
        free(st);
}

void gk_state_freep(gk_state **st)
{
        gk_state_free(*st);
        *st = NULL;
}
