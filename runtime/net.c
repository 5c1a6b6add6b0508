/* Container networking, the entry points (net.h): reads the bundle's
 * org.gk.net.* annotations (bundle-spec/annotations.md), keeps the record
 * that teardown works from, and orders the steps of net_link.c (links),
 * net_ipam.c (leases), net_nft.c (NAT rules) and net_files.c (/etc files).
 * Every step that changes host-wide state holds one host-wide lock, so
 * concurrent gkruns never see each other's half-made bridge or table. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/fault.h"
#include "gk/util.h"
#include "net.h"
#include "net_internal.h"

static const char *annotation(const gk_kv *ann, size_t n, const char *key)
{
        for (size_t i = 0; ann && i < n; i++)
                if (ann[i].key && !strcmp(ann[i].key, key))
                        return ann[i].value ? ann[i].value : "";
        return NULL;
}

static int parse_port_number(const char *s, size_t len, uint16_t *out)
{
        char buf[8];
        uint64_t v;

        if (len == 0 || len >= sizeof(buf))
                return -EINVAL;
        memcpy(buf, s, len);
        buf[len] = '\0';
        if (!gk_parse_u64(buf, &v) || v < 1 || v > 65535)
                return -EINVAL;
        *out = (uint16_t) v;
        return 0;
}

/* One "HOST:CTR[/tcp|udp]" item of LEN bytes at S. */
static int parse_port(const char *s, size_t len, gk_net_port *p)
{
        const char *colon = memchr(s, ':', len), *slash = memchr(s, '/', len);
        size_t end = slash ? (size_t) (slash - s) : len;

        if (!colon || colon > s + end)
                return -EINVAL;
        p->proto = IPPROTO_TCP;
        if (slash) {
                size_t plen = len - end - 1;
                if (plen == 3 && !memcmp(slash + 1, "tcp", 3))
                        p->proto = IPPROTO_TCP;
                else if (plen == 3 && !memcmp(slash + 1, "udp", 3))
                        p->proto = IPPROTO_UDP;
                else
                        return -EINVAL;
        }
        if (parse_port_number(s, (size_t) (colon - s), &p->host) < 0 ||
            parse_port_number(colon + 1, end - (size_t) (colon - s) - 1, &p->ctr) < 0)
                return -EINVAL;
        return 0;
}

int gk_net_parse_ports(const char *s, gk_net_conf *conf, gk_error **err)
{
        conf->n_ports = 0;
        while (*s) {
                size_t len = strcspn(s, ",");
                gk_net_port p;

                if (conf->n_ports == GK_NET_MAX_PORTS)
                        return gk_error_make(err, 0, "annotation `%s`: more than %d ports",
                                             GK_NET_ANN_PORTS, GK_NET_MAX_PORTS);
                if (parse_port(s, len, &p) < 0)
                        return gk_error_make(err, 0, "annotation `%s`: `%.*s`: want HOST:CONTAINER[/tcp|udp] with ports 1-65535",
                                             GK_NET_ANN_PORTS, (int) len, s);
                for (size_t i = 0; i < conf->n_ports; i++)
                        if (conf->ports[i].host == p.host && conf->ports[i].proto == p.proto)
                                return gk_error_make(err, 0, "annotation `%s`: host port %u/%s published twice",
                                                     GK_NET_ANN_PORTS, p.host,
                                                     p.proto == IPPROTO_TCP ? "tcp" : "udp");
                conf->ports[conf->n_ports++] = p;
                s += len;
                if (*s == ',' && *++s == '\0')
                        return gk_error_make(err, 0, "annotation `%s`: empty item", GK_NET_ANN_PORTS);
        }
        return 0;
}

int gk_net_parse_subnet(const char *s, struct in_addr *net, unsigned *prefix, gk_error **err)
{
        const char *slash = strchr(s, '/');
        char addr[INET_ADDRSTRLEN];
        uint64_t p;
        uint32_t mask;

        if (!slash || (size_t) (slash - s) >= sizeof(addr))
                goto bad;
        memcpy(addr, s, (size_t) (slash - s));
        addr[slash - s] = '\0';
        if (inet_pton(AF_INET, addr, net) != 1 || !gk_parse_u64(slash + 1, &p))
                goto bad;
        if (p < 8 || p > 30)
                return gk_error_make(err, 0, "annotation `%s`: `%s`: prefix length must be 8 to 30",
                                     GK_NET_ANN_SUBNET, s);
        mask = htonl(~((1U << (32 - p)) - 1));
        if (net->s_addr & ~mask)
                return gk_error_make(err, 0, "annotation `%s`: `%s`: host bits set (network address expected)",
                                     GK_NET_ANN_SUBNET, s);
        *prefix = (unsigned) p;
        return 0;
bad:
        return gk_error_make(err, 0, "annotation `%s`: `%s`: want an IPv4 subnet like 10.88.0.0/16",
                             GK_NET_ANN_SUBNET, s);
}

/* Interface names: what the kernel accepts (dev_valid_name), kept to a
 * plain character set so the name is safe in paths and the record. */
bool gk_net_valid_ifname(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n >= IFNAMSIZ || !strcmp(s, ".") || !strcmp(s, ".."))
                return false;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
                        return false;
        return true;
}

static int parse_dns(const char *s, gk_net_conf *conf, gk_error **err)
{
        while (*s) {
                size_t len = strcspn(s, ",");
                char buf[INET_ADDRSTRLEN];

                if (conf->n_dns == GK_NET_MAX_DNS)
                        return gk_error_make(err, 0, "annotation `%s`: at most %d servers",
                                             GK_NET_ANN_DNS, GK_NET_MAX_DNS);
                if (len == 0 || len >= sizeof(buf))
                        goto bad;
                memcpy(buf, s, len);
                buf[len] = '\0';
                if (inet_pton(AF_INET, buf, &conf->dns[conf->n_dns]) != 1)
                        goto bad;
                conf->n_dns++;
                s += len;
                if (*s == ',')
                        s++;
                continue;
bad:
                return gk_error_make(err, 0, "annotation `%s`: `%.*s`: not an IPv4 address",
                                     GK_NET_ANN_DNS, (int) len, s);
        }
        return 0;
}

static int parse_mode(const char *mode, gk_net_conf *conf, gk_error **err)
{
        if (!strcmp(mode, "none"))
                conf->mode = GK_NET_NONE;
        else if (!strcmp(mode, "host"))
                conf->mode = GK_NET_HOST;
        else if (!strcmp(mode, "bridge"))
                conf->mode = GK_NET_BRIDGE;
        else
                return gk_error_make(err, 0, "annotation `%s`: `%s`: must be none, host or bridge",
                                     GK_NET_ANN_MODE, mode);
        return 0;
}

int gk_net_conf_parse(const gk_kv *ann, size_t n, gk_net_conf *conf, gk_error **err)
{
        const char *mode = annotation(ann, n, GK_NET_ANN_MODE);
        const char *ports = annotation(ann, n, GK_NET_ANN_PORTS);
        const char *bridge = annotation(ann, n, GK_NET_ANN_BRIDGE);
        const char *subnet = annotation(ann, n, GK_NET_ANN_SUBNET);
        const char *dns = annotation(ann, n, GK_NET_ANN_DNS);

        *conf = (gk_net_conf){ .mode = GK_NET_UNSET };
        if (!mode) {
                if (ports || bridge || subnet || dns)
                        return gk_error_make(err, 0, "annotation `%s`: org.gk.net.* annotations given without it",
                                             GK_NET_ANN_MODE);
                return 0;
        }
        if (parse_mode(mode, conf, err) < 0)
                return gk_error_code(*err);
        if (conf->mode != GK_NET_BRIDGE && (ports || bridge || subnet))
                return gk_error_make(err, 0, "annotation `%s`: `%s` takes no ports, bridge or subnet",
                                     GK_NET_ANN_MODE, mode);
        bridge = bridge ? bridge : GK_NET_DEFAULT_BRIDGE;
        if (!gk_net_valid_ifname(bridge))
                return gk_error_make(err, 0, "annotation `%s`: `%s`: not a valid interface name (1-15 of A-Z a-z 0-9 - _ .)",
                                     GK_NET_ANN_BRIDGE, bridge);
        snprintf(conf->bridge, sizeof(conf->bridge), "%s", bridge);
        if (gk_net_parse_subnet(subnet ? subnet : GK_NET_DEFAULT_SUBNET, &conf->subnet,
                                &conf->prefix, err) < 0)
                return gk_error_code(*err);
        if (ports && gk_net_parse_ports(ports, conf, err) < 0)
                return gk_error_code(*err);
        if (dns && parse_dns(dns, conf, err) < 0)
                return gk_error_code(*err);
        return 0;
}

void gk_net_veth_name(const char *tag, char out[IFNAMSIZ])
{
        snprintf(out, IFNAMSIZ, "gk%s", tag);
}

int gk_net_lock(gk_error **err)
{
        _cleanup_close_ int fd = -1;

        if (gk_mkdir_p(GK_NET_RUN_DIR, 0711, err) < 0)
                return gk_error_code(*err);
        fd = open(GK_NET_RUN_DIR "/lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (fd < 0)
                return gk_error_errno(err, "open `%s`", GK_NET_RUN_DIR "/lock");
        while (flock(fd, LOCK_EX) < 0)
                if (errno != EINTR)
                        return gk_error_errno(err, "lock `%s`", GK_NET_RUN_DIR "/lock");
        return TAKE_FD(fd);
}

static bool need_new_netns(const gk_container *c)
{
        const gk_namespace *ns = &c->spec->linux.namespaces[GK_NS_NETWORK];

        return ns->present && !ns->path;
}

static int check_namespace(const gk_container *c, const gk_net_conf *conf, gk_error **err)
{
        const gk_namespace *ns = &c->spec->linux.namespaces[GK_NS_NETWORK];

        if (conf->mode == GK_NET_HOST && ns->present)
                return gk_error_make(err, 0, "annotation `%s`: host: config.json: linux.namespaces: must not have a network namespace",
                                     GK_NET_ANN_MODE);
        if (conf->mode != GK_NET_HOST && !need_new_netns(c))
                return gk_error_make(err, 0, "annotation `%s`: %s: config.json: linux.namespaces: needs a new network namespace (without path)",
                                     GK_NET_ANN_MODE, conf->mode == GK_NET_NONE ? "none" : "bridge");
        return 0;
}

static int new_tag(char tag[GK_NET_TAG_LEN + 1], gk_error **err)
{
        unsigned char b[GK_NET_TAG_LEN / 2];

        if (getrandom(b, sizeof(b), 0) != (ssize_t) sizeof(b))
                return gk_error_errno(err, "getrandom");
        for (size_t i = 0; i < sizeof(b); i++)
                snprintf(tag + 2 * i, 3, "%02x", b[i]);
        return 0;
}

static int lease_address(gk_container *c, gk_net_rec *r, gk_error **err)
{
        _cleanup_close_ int lock = gk_net_lock(err);

        if (lock < 0)
                return lock;
        return gk_ipam_lease(c->g->root, c->id, r, &r->ip, err);
}

static void release_address(const char *root, const char *id, const gk_net_rec *r)
{
        _cleanup_(gk_error_freep) gk_error *e = NULL;
        _cleanup_close_ int lock = gk_net_lock(&e);

        gk_ipam_release(root, id, r->ip, &e);
}

int gk_net_prepare(gk_container *c, char **record, gk_error **err)
{
        gk_net_rec r = { 0 };

        *record = NULL;
        if (gk_net_conf_parse(c->spec->annotations, c->spec->n_annotations, &r.conf, err) < 0 ||
            (r.conf.mode != GK_NET_UNSET && check_namespace(c, &r.conf, err) < 0))
                return gk_error_wrap(err, "config.json: annotations");
        if (r.conf.mode == GK_NET_UNSET || r.conf.mode == GK_NET_HOST)
                return 0;
        if (new_tag(r.tag, err) < 0)
                return gk_error_wrap(err, "network");
        if (r.conf.mode == GK_NET_BRIDGE) {
                r.gw = gk_ipam_gateway(r.conf.subnet);
                if (lease_address(c, &r, err) < 0)
                        return gk_error_wrap(err, "network");
        }
        if (gk_net_files_setup(c, &r, err) < 0)
                goto fail;
        if (gk_net_rec_format(&r, record) < 0) {
                gk_error_make(err, ENOMEM, "record");
                goto fail;
        }
        return 0;
fail:
        gk_net_files_remove(r.tag, NULL);
        if (r.conf.mode == GK_NET_BRIDGE)
                release_address(c->g->root, c->id, &r);
        return gk_error_wrap(err, "network");
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
 * gkrun turned it on), since it also opens 127.0.0.0/8 to the bridge
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

static int attach_bridge(gk_container *c, const gk_net_rec *r, gk_error **err)
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
        if (gk_link_veth_create(veth, r->conf.bridge, c->pid, err) < 0 ||
            gk_link_setup_netns(c->pid, r->ip, r->conf.prefix, r->gw, err) < 0)
                return gk_error_code(*err);
        GK_FAULT("create.after-veth");
        return gk_nft_add(r, c->id, err);
}

int gk_net_attach(gk_container *c, const char *record, gk_error **err)
{
        gk_net_rec r;

        if (gk_net_rec_parse(record, &r, err) < 0)
                return gk_error_code(*err);
        /* none: /etc/hosts was written by prepare, and `lo` the init
         * sets up in every new network namespace before it is ready */
        if (r.conf.mode == GK_NET_BRIDGE && attach_bridge(c, &r, err) < 0)
                return gk_error_wrap(err, "network");
        return 0;
}

/* Every piece is removed even when an earlier one fails; the first error
 * is reported.  ERR may be NULL (rollback of a failed create). */
int gk_net_teardown(const char *root, const char *id, const char *record, gk_error **err)
{
        _cleanup_(gk_error_freep) gk_error *first = NULL;
        _cleanup_close_ int lock = -1;
        gk_error *e[5] = { NULL };
        char veth[IFNAMSIZ];
        gk_net_rec r;
        int ret = 0;

        if (gk_net_rec_parse(record, &r, &first) < 0)
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
                gk_ipam_release(root, id, r.ip, &e[3]);
        }
        gk_net_files_remove(r.tag, &e[4]);
        for (size_t i = 0; i < ARRAY_SIZE(e); i++) {
                if (e[i] && !first)
                        first = TAKE_PTR(e[i]);
                gk_error_free(e[i]);
        }
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
