/* gkrun-net's configuration: the bundle's org.gk.net.* annotations
 * (bundle-spec/networking.md) parsed and checked, and the host-wide lock
 * every step that changes leases, links or rules holds. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/units.h"
#include "gk/util.h"
#include "net/net_internal.h"

static const char *annotation(const gk_kv *ann, size_t n, const char *key)
{
        for (size_t i = 0; ann && i < n; i++)
                if (ann[i].key && !strcmp(ann[i].key, key))
                        return ann[i].value ? ann[i].value : "";
        return NULL;
}

int gk_net_parse_ports(const char *s, gk_net_conf *conf, gk_error **err)
{
        conf->n_ports = 0;
        while (*s) {
                size_t len = strcspn(s, ",");
                gk_port_map p;

                if (conf->n_ports == GK_NET_MAX_PORTS)
                        return gk_error_make(err, 0, "annotation `%s`: more than %d ports",
                                             GK_ANN_NET_PORTS, GK_NET_MAX_PORTS);
                if (gk_parse_port_map(s, len, &p) < 0)
                        return gk_error_make(
                                err, 0,
                                "annotation `%s`: `%.*s`: want HOST:CONTAINER[/tcp|udp] with ports 1-65535",
                                GK_ANN_NET_PORTS, (int) len, s);
                for (size_t i = 0; i < conf->n_ports; i++)
                        if (conf->ports[i].host == p.host && conf->ports[i].proto == p.proto)
                                return gk_error_make(
                                        err, 0, "annotation `%s`: host port %u/%s published twice",
                                        GK_ANN_NET_PORTS, p.host,
                                        p.proto == IPPROTO_TCP ? "tcp" : "udp");
                conf->ports[conf->n_ports++] = p;
                s += len;
                if (*s == ',' && *++s == '\0')
                        return gk_error_make(err, 0, "annotation `%s`: empty item",
                                             GK_ANN_NET_PORTS);
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
                return gk_error_make(err, 0,
                                     "annotation `%s`: `%s`: prefix length must be 8 to 30",
                                     GK_ANN_NET_SUBNET, s);
        mask = htonl(~((1U << (32 - p)) - 1));
        if (net->s_addr & ~mask)
                return gk_error_make(
                        err, 0, "annotation `%s`: `%s`: host bits set (network address expected)",
                        GK_ANN_NET_SUBNET, s);
        *prefix = (unsigned) p;
        return 0;
bad:
        return gk_error_make(err, 0,
                             "annotation `%s`: `%s`: want an IPv4 subnet like 10.88.0.0/16",
                             GK_ANN_NET_SUBNET, s);
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
                                             GK_ANN_NET_DNS, GK_NET_MAX_DNS);
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
                                     GK_ANN_NET_DNS, (int) len, s);
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
                                     GK_ANN_NET_MODE, mode);
        return 0;
}

int gk_net_conf_parse(const gk_kv *ann, size_t n, gk_net_conf *conf, gk_error **err)
{
        const char *mode = annotation(ann, n, GK_ANN_NET_MODE);
        const char *ports = annotation(ann, n, GK_ANN_NET_PORTS);
        const char *bridge = annotation(ann, n, GK_ANN_NET_BRIDGE);
        const char *subnet = annotation(ann, n, GK_ANN_NET_SUBNET);
        const char *dns = annotation(ann, n, GK_ANN_NET_DNS);

        *conf = (gk_net_conf){ .mode = GK_NET_UNSET };
        if (!mode) {
                if (ports || bridge || subnet || dns)
                        return gk_error_make(
                                err, 0,
                                "annotation `%s`: org.gk.net.* annotations given without it",
                                GK_ANN_NET_MODE);
                return 0;
        }
        if (parse_mode(mode, conf, err) < 0)
                return gk_error_code(*err);
        if (conf->mode != GK_NET_BRIDGE && (ports || bridge || subnet))
                return gk_error_make(err, 0,
                                     "annotation `%s`: `%s` takes no ports, bridge or subnet",
                                     GK_ANN_NET_MODE, mode);
        bridge = bridge ? bridge : GK_NET_DEFAULT_BRIDGE;
        if (!gk_net_valid_ifname(bridge))
                return gk_error_make(
                        err, 0,
                        "annotation `%s`: `%s`: not a valid interface name (1-15 of A-Z a-z 0-9 - _ .)",
                        GK_ANN_NET_BRIDGE, bridge);
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
