/* Running gkrun-net (netcall.h): where it is found, the request written
 * to it, its answer read back.
 *
 * Lookup, one rule: gkrun-net beside the gkrun binary that was invoked
 * (gk_self_dir: build/ in a build tree, or wherever both were copied),
 * else GK_LIBEXECDIR (where `make install` puts it).  gkrun passes its
 * version; a gkrun-net of another version refuses. */
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "container/netcall.h"
#include "container/selfclone.h"
#include "container/state.h"
#include "gk/annotations.h"
#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/net_contract.h"
#include "gk/util.h"

#ifndef GK_LIBEXECDIR
#define GK_LIBEXECDIR "/usr/local/libexec/gk"
#endif

extern char **environ;

bool gk_netcall_wanted(const gk_kv *ann, size_t n)
{
        for (size_t i = 0; ann && i < n; i++)
                if (ann[i].key && gk_str_has_prefix(ann[i].key, GK_ANN_NET_PREFIX))
                        return true;
        return false;
}

static int find_program(char out[PATH_MAX], gk_error **err)
{
        const char *dir = gk_self_dir();
        int n;

        if (dir[0]) {
                n = snprintf(out, PATH_MAX, "%s/" GK_NETCALL_PROGRAM, dir);
                if (n > 0 && n < PATH_MAX && access(out, X_OK) == 0)
                        return 0;
        }
        snprintf(out, PATH_MAX, "%s/" GK_NETCALL_PROGRAM, GK_LIBEXECDIR);
        if (access(out, X_OK) == 0)
                return 0;
        return gk_error_make(err, ENOENT,
                             "networking needs " GK_NETCALL_PROGRAM
                             ": not found beside gkrun (`%s`) or in `%s`",
                             dir[0] ? dir : "?", GK_LIBEXECDIR);
}

/* --- before the clone --- */

static int check_namespace(const gk_container *c, const char *mode, gk_error **err)
{
        const gk_namespace *ns = &c->spec->linux.namespaces[GK_NS_NETWORK];

        if (!strcmp(mode, "host") && ns->present)
                return gk_error_make(
                        err, 0,
                        "annotation `%s`: host: config.json: linux.namespaces: must not have a network namespace",
                        GK_ANN_NET_MODE);
        if ((!strcmp(mode, "bridge") || !strcmp(mode, "none")) && (!ns->present || ns->path))
                return gk_error_make(
                        err, 0,
                        "annotation `%s`: %s: config.json: linux.namespaces: needs a new network namespace (without path)",
                        GK_ANN_NET_MODE, mode);
        return 0;
}

static bool has_mount(const gk_spec *s, const char *dest)
{
        for (size_t i = 0; i < s->n_mounts; i++)
                if (s->mounts[i].destination && !strcmp(s->mounts[i].destination, dest))
                        return true;
        return false;
}

/* The new entry is counted as soon as it exists (gk_mounts_add), so
 * gk_spec_free frees whatever part of it was allocated if a later strdup
 * fails. */
static int add_mount(gk_spec *s, const char *dest, const char *src)
{
        static const char *const opts[] = { "bind", "nosuid", "nodev", "noexec" };
        gk_mount *m = gk_mounts_add(&s->mounts, &s->n_mounts);

        if (!m)
                return -ENOMEM;
        *m = (gk_mount){ .bind = true, .flags = MS_BIND | MS_NOSUID | MS_NODEV | MS_NOEXEC };
        m->destination = strdup(dest);
        m->type = strdup("bind");
        m->source = strdup(src);
        m->options = calloc(ARRAY_SIZE(opts) + 1, sizeof(char *));
        if (!m->destination || !m->type || !m->source || !m->options)
                return -ENOMEM;
        for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
                if (!(m->options[i] = strdup(opts[i])))
                        return -ENOMEM;
                m->n_options++;
        }
        return 0;
}

/* A mount the config already has for one of the files wins: the user's
 * own file is kept. */
static int add_file_mounts(gk_container *c, bool resolv, gk_error **err)
{
        static const char *const names[] = { "hosts", "hostname", "resolv.conf" };

        for (size_t i = 0; i < (resolv ? 3 : 2); i++) {
                char src[PATH_MAX], dest[64];

                snprintf(dest, sizeof(dest), "/etc/%s", names[i]);
                snprintf(src, sizeof(src), GK_NETCALL_FILES_DIR "/%s/%s", c->net_tag, names[i]);
                if (!has_mount(c->spec, dest) && add_mount(c->spec, dest, src) < 0)
                        return gk_error_make(err, ENOMEM, "mount of `%s`", dest);
        }
        return 0;
}

static int new_tag(char tag[GK_NETCALL_TAG_LEN + 1], gk_error **err)
{
        unsigned char b[GK_NETCALL_TAG_LEN / 2];

        if (getrandom(b, sizeof(b), 0) != (ssize_t) sizeof(b))
                return gk_error_errno(err, "getrandom");
        for (size_t i = 0; i < sizeof(b); i++)
                snprintf(tag + 2 * i, 3, "%02x", b[i]);
        return 0;
}

int gk_netcall_prepare(gk_container *c, gk_error **err)
{
        const char *mode = gk_spec_annotation(c->spec, GK_ANN_NET_MODE);
        char prog[PATH_MAX];

        /* A mode gkrun-net does not know it refuses itself, naming it. */
        if (mode && check_namespace(c, mode, err) < 0)
                return gk_error_wrap(err, "config.json: annotations");
        if (find_program(prog, err) < 0 || new_tag(c->net_tag, err) < 0)
                return gk_error_code(*err);
        if (mode && (!strcmp(mode, "none") || !strcmp(mode, "bridge")))
                return add_file_mounts(c, !strcmp(mode, "bridge"), err);
        return 0;
}

/* --- the call --- */

static char *state_dir(const char *root, const char *id)
{
        _cleanup_free_ char *dir = gk_state_path(root, id, NULL);
        char real[PATH_MAX];

        if (!dir)
                return NULL;
        return realpath(dir, real) ? strdup(real) : TAKE_PTR(dir);
}

static int request_json(const gk_container *c, const char *id, const char *dir,
                        const char *old_record, char **out, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);
        char netns[64];
        size_t len;

        if (!g)
                return gk_error_make(err, ENOMEM, "request");
        yajl_gen_map_open(g);
        gk_json_kstr(g, "gkrunVersion", GK_VERSION);
        gk_json_kstr(g, "id", id);
        gk_json_kstr(g, "stateDir", dir);
        /* the in-state record of a gkrun before gkrun-net: "v1 mode=..." */
        if (old_record && gk_str_has_prefix(old_record, "v1 "))
                gk_json_kstr(g, "record", old_record);
        if (c) {
                snprintf(netns, sizeof(netns), "/proc/%d/ns/net", (int) c->pid);
                gk_json_kstr(g, "netns", netns);
                gk_json_kstr(g, "tag", c->net_tag);
                if (c->spec->hostname)
                        gk_json_kstr(g, "hostname", c->spec->hostname);
                gk_json_str(g, "annotations");
                yajl_gen_map_open(g);
                for (size_t i = 0; i < c->spec->n_annotations; i++)
                        if (gk_str_has_prefix(c->spec->annotations[i].key, GK_ANN_NET_PREFIX))
                                gk_json_kstr(g, c->spec->annotations[i].key,
                                             c->spec->annotations[i].value);
                yajl_gen_map_close(g);
        }
        yajl_gen_map_close(g);
        return gk_json_gen_finish(g, out, &len, err);
}

/* Runs PROG CMD with REQ on its stdin; its stdout into *OUT.  One socket
 * serves both (a write to a program that died is EPIPE, not SIGPIPE). */
static int spawn_program(const char *prog, const char *cmd, const char *req, char **out,
                         int *status, gk_error **err)
{
        _cleanup_close_ int ours = -1, theirs = -1;
        posix_spawn_file_actions_t fa;
        char *argv[] = { (char *) GK_NETCALL_PROGRAM, (char *) cmd, NULL };
        size_t len;
        pid_t pid;
        int sv[2], r;

        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
                return gk_error_errno(err, GK_NETCALL_PROGRAM " %s: socketpair", cmd);
        ours = sv[0];
        theirs = sv[1];
        if ((r = posix_spawn_file_actions_init(&fa)) != 0)
                return gk_error_make(err, r, GK_NETCALL_PROGRAM " %s", cmd);
        posix_spawn_file_actions_adddup2(&fa, theirs, 0);
        posix_spawn_file_actions_adddup2(&fa, theirs, 1);
        r = posix_spawn(&pid, prog, &fa, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0)
                return gk_error_make(err, r, GK_NETCALL_PROGRAM " %s: run `%s`", cmd, prog);
        close(TAKE_FD(theirs));
        /* a short write is seen in the answer: the program's error */
        if (send(ours, req, strlen(req), MSG_NOSIGNAL) < 0 && errno != EPIPE)
                r = -errno;
        shutdown(ours, SHUT_WR);
        if (gk_read_fd(ours, GK_NETCALL_PROGRAM, out, &len, NULL) < 0)
                *out = NULL;
        while (waitpid(pid, status, 0) < 0)
                if (errno != EINTR)
                        return gk_error_errno(err, GK_NETCALL_PROGRAM " %s: wait", cmd);
        if (r < 0)
                return gk_error_make(err, -r, GK_NETCALL_PROGRAM " %s: send the request", cmd);
        return 0;
}

/* Its answer: the result on success; {"error": ...} or how it ended. */
static int answer(const char *cmd, const char *text, int status, char **result, gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val v = NULL;
        _cleanup_(gk_error_freep) gk_error *bad = NULL;
        const char *msg;

        if (text && gk_json_parse(text, strlen(text), GK_NETCALL_PROGRAM, &v, &bad) == 0 &&
            (msg = gk_json_get_str(v, "error")))
                return gk_error_make(err, 0, GK_NETCALL_PROGRAM " %s: %s", cmd, msg);
        if (WIFSIGNALED(status))
                return gk_error_make(err, 0, GK_NETCALL_PROGRAM " %s: killed by signal %d", cmd,
                                     WTERMSIG(status));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return gk_error_make(err, 0, GK_NETCALL_PROGRAM " %s: exited with status %d", cmd,
                                     WEXITSTATUS(status));
        if (!v || !YAJL_IS_OBJECT(v))
                return gk_error_make(err, 0, GK_NETCALL_PROGRAM " %s: answer is not a JSON object",
                                     cmd);
        if (result && !(*result = strdup(text)))
                return gk_error_make(err, ENOMEM, GK_NETCALL_PROGRAM " %s", cmd);
        return 0;
}

static int call(const gk_container *c, const char *root, const char *id, const char *net,
                char **result, gk_error **err)
{
        const char *cmd = c ? "add" : "del";
        _cleanup_free_ char *dir = state_dir(root, id), *req = NULL, *out = NULL;
        char prog[PATH_MAX];
        int status = 0;

        if (!dir)
                return gk_error_make(err, ENOMEM, GK_NETCALL_PROGRAM);
        if (find_program(prog, err) < 0 || request_json(c, id, dir, net, &req, err) < 0 ||
            spawn_program(prog, cmd, req, &out, &status, err) < 0)
                return gk_error_code(*err);
        if (out)
                out[strcspn(out, "\n")] = '\0';
        return answer(cmd, out, status, result, err);
}

int gk_netcall_add(gk_container *c, gk_error **err)
{
        free(c->net);
        c->net = NULL;
        return call(c, c->g->root, c->id, NULL, &c->net, err);
}

/* ERR may be NULL (the rollback of a failed create). */
int gk_netcall_del(const char *root, const char *id, const char *net, gk_error **err)
{
        _cleanup_(gk_error_freep) gk_error *ignored = NULL;

        return call(NULL, root, id, net, NULL, err ? err : &ignored);
}

/* --- linux.netDevices: gkrun-net netdev --- */

/* Whether PATH is our own network namespace (the host's). */
static bool same_netns(const char *path)
{
        struct stat a, b;

        return stat(path, &a) == 0 && stat("/proc/self/ns/net", &b) == 0 && a.st_dev == b.st_dev &&
               a.st_ino == b.st_ino;
}

int gk_netcall_netdev_check(const gk_container *c, gk_error **err)
{
        const gk_linux *l = &c->spec->linux;
        char prog[PATH_MAX];

        if (!l->namespaces[GK_NS_NETWORK].present)
                return gk_error_make(err, 0,
                                     "config.json: linux.netDevices: needs a network namespace of "
                                     "the container's own: linux.namespaces has none");
        if (l->namespaces[GK_NS_NETWORK].path && same_netns(l->namespaces[GK_NS_NETWORK].path))
                return gk_error_make(err, 0,
                                     "config.json: linux.netDevices: the network namespace `%s` "
                                     "is the host's",
                                     l->namespaces[GK_NS_NETWORK].path);
        for (size_t i = 0; i < l->n_net_devices; i++)
                if (!if_nametoindex(l->net_devices[i].host_name))
                        return gk_error_make(err, errno == ENODEV ? 0 : errno,
                                             "config.json: linux.netDevices: %s: no such "
                                             "interface on the host",
                                             l->net_devices[i].host_name);
        if (find_program(prog, err) < 0)
                return gk_error_wrap(err, "config.json: linux.netDevices");
        return 0;
}

static int netdev_request(const gk_container *c, char **out, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);
        const gk_linux *l = &c->spec->linux;
        const char *path = l->namespaces[GK_NS_NETWORK].path;
        char netns[64];
        size_t len;

        if (!g)
                return gk_error_make(err, ENOMEM, "request");
        /* a namespace joined by path: the init may not be in it yet */
        snprintf(netns, sizeof(netns), "/proc/%d/ns/net", (int) c->pid);
        yajl_gen_map_open(g);
        gk_json_kstr(g, "gkrunVersion", GK_VERSION);
        gk_json_kstr(g, "netns", path ? path : netns);
        gk_json_str(g, "devices");
        yajl_gen_map_open(g);
        for (size_t i = 0; i < l->n_net_devices; i++)
                gk_json_kstr(g, l->net_devices[i].host_name,
                             l->net_devices[i].name ? l->net_devices[i].name : "");
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
        return gk_json_gen_finish(g, out, &len, err);
}

int gk_netcall_netdev(gk_container *c, gk_error **err)
{
        _cleanup_free_ char *req = NULL, *out = NULL;
        _cleanup_(gk_json_freep) yajl_val v = NULL;
        _cleanup_(gk_error_freep) gk_error *bad = NULL;
        char prog[PATH_MAX];
        const char *msg;
        int status = 0;

        if (find_program(prog, err) < 0 || netdev_request(c, &req, err) < 0 ||
            spawn_program(prog, "netdev", req, &out, &status, err) < 0)
                return gk_error_wrap(err, "config.json: linux.netDevices");
        /* its own error names the device: said without the program */
        if (out && gk_json_parse(out, strlen(out), GK_NETCALL_PROGRAM, &v, &bad) == 0 &&
            (msg = gk_json_get_str(v, "error")))
                return gk_error_make(err, 0, "config.json: linux.netDevices: %s", msg);
        if (out)
                out[strcspn(out, "\n")] = '\0';
        if (answer("netdev", out, status, NULL, err) < 0)
                return gk_error_wrap(err, "config.json: linux.netDevices");
        return 0;
}
