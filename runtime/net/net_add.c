/* gkrun-net's two commands (net_internal.h, include/gk/net_contract.h):
 * add orders the steps of net_ipam.c (leases), net_files.c (/etc files),
 * net_link.c (links) and net_nft.c (NAT rules); del undoes them from the
 * record add keeps in the state directory.  Every step that changes
 * host-wide state holds one host-wide lock, so concurrent gkrun-nets never
 * see each other's half-made bridge or table. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/fault.h"
#include "gk/json.h"
#include "gk/util.h"
#include "net/net_internal.h"

static bool valid_tag(const char *s)
{
        if (!s || strlen(s) != GK_NET_TAG_LEN)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

static char *record_path(const gk_net_req *req)
{
        char *p = NULL;

        return asprintf(&p, "%s/%s", req->state_dir, GK_NETCALL_RECORD) < 0 ? NULL : p;
}

static int record_save(const gk_net_req *req, const gk_net_rec *r, gk_error **err)
{
        _cleanup_free_ char *text = NULL, *path = record_path(req);

        if (!path || gk_net_rec_format(r, &text) < 0)
                return gk_error_make(err, ENOMEM, "record");
        return gk_write_file_atomic(path, text, strlen(text), 0600, false, err);
}

/* Forwarding is a host-wide switch: turned on by the first bridged
 * container (published ports and outbound traffic are routed), never
 * turned off again since something else may rely on it by then. */
static int sysctl_on(const char *path, gk_error **err)
{
        _cleanup_free_ char *cur = NULL;
        size_t len;

        if (gk_read_file(path, &cur, &len, NULL) == 0 && cur[0] == '1')
                return 0;
        return gk_write_file(path, "1", err);
}

/* 127.0.0.1:PORT is DNAT'ed out of the bridge (net_nft.c): the kernel
 * drops loopback addresses on other devices without route_localnet.  It
 * is turned off again with the bridge's last container (a marker says
 * gkrun-net turned it on), since it also opens 127.0.0.0/8 to the bridge
 * (net_nft.c's input rule closes that while containers exist). */
static int localnet_on(const char *bridge, gk_error **err)
{
        _cleanup_free_ char *knob = NULL, *marker = NULL, *cur = NULL;
        _cleanup_close_ int fd = -1;
        size_t len;

        if (asprintf(&knob, "/proc/sys/net/ipv4/conf/%s/route_localnet", bridge) < 0 ||
            asprintf(&marker, "%s/%s", GK_NET_LOCALNET_DIR, bridge) < 0)
                return gk_error_make(err, ENOMEM, "network");
        if (gk_read_file(knob, &cur, &len, err) < 0)
                return gk_error_code(*err);
        if (cur[0] == '1')
                return 0;
        if (gk_mkdir_p(GK_NET_LOCALNET_DIR, 0700, err) < 0)
                return gk_error_code(*err);
        fd = open(marker, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return gk_error_errno(err, "create `%s`", marker);
        return gk_write_file(knob, "1", err);
}

static void localnet_restore(const char *bridge)
{
        _cleanup_free_ char *knob = NULL, *marker = NULL;

        if (asprintf(&knob, "/proc/sys/net/ipv4/conf/%s/route_localnet", bridge) < 0 ||
            asprintf(&marker, "%s/%s", GK_NET_LOCALNET_DIR, bridge) < 0)
                return;
        if (unlink(marker) == 0)
                gk_write_file(knob, "0", NULL);
}

/* The init's pid, from the netns path gkrun gives (/proc/PID/ns/net): the
 * lease keeps it, so that a dead container's address is given back. */
static pid_t init_pid(const char *netns)
{
        int pid = 0;

        return sscanf(netns, "/proc/%d/ns/net", &pid) == 1 ? (pid_t) pid : 0;
}

static int lease_address(const gk_net_req *req, gk_net_rec *r, gk_error **err)
{
        _cleanup_close_ int lock = gk_net_lock(err);

        if (lock < 0)
                return lock;
        return gk_ipam_lease(req->state_dir, init_pid(req->netns), r, &r->ip, err);
}

static int attach_bridge(const gk_net_req *req, const gk_net_rec *r, int netns, gk_error **err)
{
        _cleanup_close_ int lock = gk_net_lock(err);
        char veth[IFNAMSIZ];

        if (lock < 0)
                return lock;
        gk_net_veth_name(r->tag, veth);
        if (gk_link_bridge_ensure(r->conf.bridge, r->gw, r->conf.prefix, err) < 0)
                return gk_error_code(*err);
        if (localnet_on(r->conf.bridge, err) < 0 ||
            sysctl_on("/proc/sys/net/ipv4/ip_forward", err) < 0)
                return gk_error_code(*err);
        if (gk_link_veth_create(veth, r->conf.bridge, netns, err) < 0 ||
            gk_link_setup_netns(netns, r->ip, r->conf.prefix, r->gw, err) < 0)
                return gk_error_code(*err);
        GK_FAULT("net-add.after-veth");
        return gk_nft_add(r, req->id, err);
}

static int result_json(const gk_net_rec *r, char **out, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);
        char ip[INET_ADDRSTRLEN + 4], gw[INET_ADDRSTRLEN], veth[IFNAMSIZ], files[64];
        size_t len;

        if (!g)
                return gk_error_make(err, ENOMEM, "result");
        yajl_gen_map_open(g);
        gk_json_kstr(g, "mode",
                     r->conf.mode == GK_NET_BRIDGE ? "bridge"
                     : r->conf.mode == GK_NET_NONE ? "none"
                                                   : "host");
        if (r->conf.mode != GK_NET_HOST) {
                snprintf(files, sizeof(files), "%s/%s", GK_NET_FILES_DIR, r->tag);
                gk_json_kstr(g, "tag", r->tag);
                gk_json_kstr(g, "files", files);
        }
        if (r->conf.mode == GK_NET_BRIDGE) {
                gk_net_veth_name(r->tag, veth);
                inet_ntop(AF_INET, &r->ip, ip, INET_ADDRSTRLEN);
                snprintf(ip + strlen(ip), sizeof(ip) - strlen(ip), "/%u", r->conf.prefix);
                gk_json_kstr(g, "interface", veth);
                gk_json_kstr(g, "bridge", r->conf.bridge);
                gk_json_kstr(g, "ip", ip);
                gk_json_kstr(g, "gateway", inet_ntop(AF_INET, &r->gw, gw, sizeof(gw)));
        }
        yajl_gen_map_close(g);
        return gk_json_gen_finish(g, out, &len, err);
}

static int add_steps(const gk_net_req *req, gk_net_rec *r, gk_error **err)
{
        _cleanup_close_ int netns = -1;

        /* the record first: del finds whatever a crash at any later
         * point leaves */
        if (record_save(req, r, err) < 0)
                return gk_error_code(*err);
        if (r->conf.mode == GK_NET_BRIDGE) {
                netns = open(req->netns, O_RDONLY | O_CLOEXEC);
                if (netns < 0)
                        return gk_error_errno(err, "network namespace `%s`", req->netns);
                r->gw = gk_ipam_gateway(r->conf.subnet);
                if (lease_address(req, r, err) < 0 || record_save(req, r, err) < 0)
                        return gk_error_code(*err);
        }
        if (gk_net_files_setup(req->hostname, r, err) < 0)
                return gk_error_code(*err);
        if (r->conf.mode == GK_NET_BRIDGE && attach_bridge(req, r, netns, err) < 0)
                return gk_error_code(*err);
        return 0;
}

int gk_net_add(const gk_net_req *req, char **result, gk_error **err)
{
        gk_net_rec r = { 0 };

        if (gk_net_conf_parse(req->ann, req->n_ann, &r.conf, err) < 0)
                return gk_error_wrap(err, "config.json: annotations");
        if (r.conf.mode == GK_NET_UNSET)
                return gk_error_make(err, 0, "config.json: annotations: no `%s`", GK_ANN_NET_MODE);
        if (r.conf.mode != GK_NET_HOST) {
                if (!valid_tag(req->tag))
                        return gk_error_make(err, 0, "request: tag: want %d hex digits",
                                             GK_NET_TAG_LEN);
                memcpy(r.tag, req->tag, GK_NET_TAG_LEN + 1);
                /* undone here, not left to the caller's del: a failed add
                 * leaves nothing, whoever called it */
                if (add_steps(req, &r, err) < 0) {
                        gk_net_del(req, NULL);
                        return gk_error_code(*err);
                }
        }
        return result_json(&r, result, err);
}

static gk_error *first_of(gk_error **e, size_t n)
{
        gk_error *first = NULL;

        for (size_t i = 0; i < n; i++) {
                if (e[i] && !first)
                        first = TAKE_PTR(e[i]);
                gk_error_free(e[i]);
        }
        return first;
}

/* Every piece is removed even when an earlier one fails; the first error
 * is reported.  ERR may be NULL. */
int gk_net_del(const gk_net_req *req, gk_error **err)
{
        _cleanup_free_ char *path = record_path(req), *text = NULL;
        _cleanup_(gk_error_freep) gk_error *first = NULL;
        _cleanup_close_ int lock = -1;
        gk_error *e[5] = { NULL };
        char veth[IFNAMSIZ];
        gk_net_rec r;
        size_t len;
        int ret;

        if (!path)
                return gk_error_make(err, ENOMEM, "record");
        if (gk_read_file(path, &text, &len, &first) < 0) {
                if (gk_error_code(first) != -ENOENT)
                        goto out;
                /* no record: add never got to make anything, or the
                 * container is an older gkrun's, with its record in
                 * state.json */
                gk_error_freep(&first);
                if (!req->old_record || !(text = strdup(req->old_record)))
                        return 0;
        }
        if (gk_net_rec_parse(text, &r, &first) < 0)
                goto out;
        if (r.conf.mode == GK_NET_BRIDGE) {
                lock = gk_net_lock(&first);
                if (lock < 0)
                        goto out;
                gk_net_veth_name(r.tag, veth);
                gk_link_delete(veth, &e[0]);
                gk_nft_remove(r.tag, &e[1]);
                if (gk_link_bridge_release(r.conf.bridge, &e[2]) == 1)
                        localnet_restore(r.conf.bridge);
                gk_ipam_release(req->state_dir, r.ip, &e[3]);
        }
        gk_net_files_remove(r.tag, &e[4]);
        first = first_of(e, ARRAY_SIZE(e));
        if (!first && unlink(path) < 0 && errno != ENOENT)
                gk_error_errno(&first, "remove `%s`", path);
out:
        if (!first)
                return 0;
        ret = gk_error_code(first);
        if (err) {
                gk_error_free(*err);
                *err = TAKE_PTR(first);
        }
        return ret;
}
