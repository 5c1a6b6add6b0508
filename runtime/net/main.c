/* gkrun-net: the bridge networking of gkrun's containers, a program of its
 * own at one seam (include/gk/net_contract.h, bundle-spec/networking.md):
 *
 *   gkrun-net add    after the container's init is cloned, before it runs
 *   gkrun-net del    at delete, and on the rollback of a failed create
 *   gkrun-net netdev at create, for linux.netDevices (net_netdev.c)
 *   gkrun-net --version
 *
 * gkrun runs it with the request on stdin; the answer is one JSON object
 * on stdout.  It lives apart from gkrun because libmnl has no static
 * archive: gkrun stays one static binary, and only a container with
 * org.gk.net.* annotations costs this exec. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <signal.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/util.h"
#include "net/net_internal.h"

/* Requests are a few hundred bytes; this is far beyond any. */
#define MAX_REQUEST (1 << 20)

static void kv_free(gk_kv *kv, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
}

/* The org.gk.net.* members of "annotations" (others are ignored). */
static int read_annotations(yajl_val obj, gk_net_req *req, gk_error **err)
{
        if (!obj)
                return 0;
        if (!YAJL_IS_OBJECT(obj))
                return gk_error_make(err, 0, "request: annotations: must be an object");
        req->ann = calloc(obj->u.object.len + 1, sizeof(gk_kv));
        if (!req->ann)
                return gk_error_make(err, ENOMEM, "request");
        for (size_t i = 0; i < obj->u.object.len; i++) {
                const char *k = obj->u.object.keys[i];
                yajl_val v = obj->u.object.values[i];

                if (!gk_str_has_prefix(k, GK_ANN_NET_PREFIX))
                        continue;
                if (!YAJL_IS_STRING(v))
                        return gk_error_make(err, 0,
                                             "request: annotations: `%s`: must be a string", k);
                req->ann[req->n_ann].key = strdup(k);
                req->ann[req->n_ann].value = strdup(v->u.string);
                if (!req->ann[req->n_ann++].value || !req->ann[req->n_ann - 1].key)
                        return gk_error_make(err, ENOMEM, "request");
        }
        return 0;
}

static int check_version(yajl_val v, gk_error **err)
{
        const char *theirs = gk_json_get_str(v, "gkrunVersion");

        if (!theirs)
                return gk_error_make(err, 0, "request: no gkrunVersion");
        if (strcmp(theirs, GK_VERSION))
                return gk_error_make(err, 0,
                                     "version " GK_VERSION " does not match gkrun %s: "
                                     "install gkrun and gkrun-net from the same build",
                                     theirs);
        return 0;
}

static int read_request(yajl_val v, bool add, gk_net_req *req, gk_error **err)
{
        static const char *const need[] = { "id", "stateDir", "netns" };

        if (check_version(v, err) < 0)
                return gk_error_code(*err);
        req->id = gk_json_get_str(v, "id");
        req->state_dir = gk_json_get_str(v, "stateDir");
        req->netns = gk_json_get_str(v, "netns");
        req->tag = gk_json_get_str(v, "tag");
        req->hostname = gk_json_get_str(v, "hostname");
        req->old_record = gk_json_get_str(v, "record");
        for (size_t i = 0; i < (add ? 3 : 2); i++)
                if (!gk_json_get_str(v, need[i]))
                        return gk_error_make(err, 0, "request: no `%s`", need[i]);
        if (req->state_dir[0] != '/')
                return gk_error_make(err, 0, "request: stateDir `%s`: must be absolute",
                                     req->state_dir);
        return add ? read_annotations(gk_json_get(v, "annotations"), req, err) : 0;
}

/* netdev: {"gkrunVersion", "netns", "devices": {HOST: NEW_NAME or ""}} */
static int read_netdev_request(yajl_val v, gk_net_req *req, gk_error **err)
{
        yajl_val d = gk_json_get(v, "devices");

        if (check_version(v, err) < 0)
                return gk_error_code(*err);
        if (!(req->netns = gk_json_get_str(v, "netns")))
                return gk_error_make(err, 0, "request: no `netns`");
        if (!d || !YAJL_IS_OBJECT(d))
                return gk_error_make(err, 0, "request: devices: must be an object");
        req->devices = calloc(d->u.object.len + 1, sizeof(gk_kv));
        if (!req->devices)
                return gk_error_make(err, ENOMEM, "request");
        for (size_t i = 0; i < d->u.object.len; i++) {
                const char *name = YAJL_IS_STRING(d->u.object.values[i])
                                           ? d->u.object.values[i]->u.string
                                           : NULL;

                if (!name)
                        return gk_error_make(err, 0, "request: devices: `%s`: must be a string",
                                             d->u.object.keys[i]);
                req->devices[i].key = strdup(d->u.object.keys[i]);
                req->devices[i].value = strdup(name);
                if (!req->devices[req->n_devices++].value || !req->devices[i].key)
                        return gk_error_make(err, ENOMEM, "request");
        }
        return 0;
}

static int run(const char *cmd, char **out, gk_error **err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_(gk_json_freep) yajl_val v = NULL;
        gk_net_req req = { 0 };
        bool add = !strcmp(cmd, "add"), netdev = !strcmp(cmd, "netdev");
        size_t len;
        int r;

        if (!add && !netdev && strcmp(cmd, "del"))
                return gk_error_make(err, EINVAL, "unknown command `%s`: want add, del or netdev",
                                     cmd);
        if (gk_read_fd(0, "request", &text, &len, err) < 0)
                return gk_error_code(*err);
        if (len > MAX_REQUEST)
                return gk_error_make(err, E2BIG, "request: larger than %d bytes", MAX_REQUEST);
        if (gk_json_parse(text, len, "request", &v, err) < 0)
                return gk_error_code(*err);
        if (netdev) {
                r = read_netdev_request(v, &req, err);
                if (r == 0)
                        r = gk_net_netdev(&req, out, err);
                kv_free(req.devices, req.n_devices);
                return r;
        }
        r = read_request(v, add, &req, err);
        if (r == 0)
                r = add ? gk_net_add(&req, out, err) : gk_net_del(&req, err);
        if (r == 0 && !add && !(*out = strdup("{}")))
                r = gk_error_make(err, ENOMEM, "result");
        kv_free(req.ann, req.n_ann);
        return r;
}

/* {"error": MESSAGE} on stdout, where gkrun reads it. */
static void print_error(const char *msg)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);
        _cleanup_free_ char *out = NULL;
        size_t len;

        if (g) {
                yajl_gen_map_open(g);
                gk_json_kstr(g, "error", msg);
                yajl_gen_map_close(g);
        }
        if (g && gk_json_gen_finish(g, &out, &len, NULL) == 0)
                printf("%s\n", out);
        else
                printf("{\"error\": \"out of memory\"}\n");
}

int main(int argc, char **argv)
{
        _cleanup_(gk_error_freep) gk_error *err = NULL;
        _cleanup_free_ char *out = NULL;

        if (argc == 2 && (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-v"))) {
                printf("gkrun-net version " GK_VERSION "\n");
                return 0;
        }
        /* gkrun killed mid-create takes this along: `delete --force`
         * then removes what the record names, with no add racing it */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (argc != 2) {
                fprintf(stderr, "usage: gkrun-net add|del|netdev < REQUEST\n"
                                "  run by gkrun; include/gk/net_contract.h describes REQUEST\n");
                return 2;
        }
        if (run(argv[1], &out, &err) < 0) {
                print_error(err ? err->msg : "failed");
                return 1;
        }
        printf("%s\n", out);
        return fflush(stdout) == 0 ? 0 : 1;
}
