/* gkrun-net's record, kept in the container's state directory
 * (GK_NETCALL_RECORD): one line of space-separated key=value items, e.g.
 *   v1 mode=bridge tag=0a1b2c3d4e bridge=gk0 subnet=172.29.0.0/16 ip=172.29.0.2 ports=8080:80/tcp
 *   v1 mode=none tag=0a1b2c3d4e
 * It is all del has after a crash, so it is written before anything is
 * made and names every piece the container owns: the veth, rules and /etc
 * files through the tag, the lease through the address (no ip= yet: del
 * looks for the lease by state directory), the bridge.  Unknown keys are
 * skipped, so an older gkrun-net can still tear down what a newer one made. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "net/net_internal.h"

static const char *proto_name(uint8_t proto)
{
        return proto == IPPROTO_UDP ? "udp" : "tcp";
}

static int format_bridge(const gk_net_rec *r, FILE *f)
{
        char subnet[INET_ADDRSTRLEN], ip[INET_ADDRSTRLEN];

        if (!inet_ntop(AF_INET, &r->conf.subnet, subnet, sizeof(subnet)) ||
            !inet_ntop(AF_INET, &r->ip, ip, sizeof(ip)))
                return -EINVAL;
        fprintf(f, " tag=%s bridge=%s subnet=%s/%u", r->tag, r->conf.bridge, subnet,
                r->conf.prefix);
        if (r->ip.s_addr)
                fprintf(f, " ip=%s", ip);
        for (size_t i = 0; i < r->conf.n_ports; i++)
                fprintf(f, "%s%u:%u/%s", i ? "," : " ports=", r->conf.ports[i].host,
                        r->conf.ports[i].ctr, proto_name(r->conf.ports[i].proto));
        return 0;
}

int gk_net_rec_format(const gk_net_rec *r, char **out)
{
        _cleanup_free_ char *buf = NULL;
        size_t size = 0;
        FILE *f = open_memstream(&buf, &size);
        int ret = 0;

        if (!f)
                return -ENOMEM;
        fprintf(f, "v1 mode=%s", r->conf.mode == GK_NET_BRIDGE ? "bridge" : "none");
        if (r->conf.mode == GK_NET_NONE)
                fprintf(f, " tag=%s", r->tag);
        if (r->conf.mode == GK_NET_BRIDGE)
                ret = format_bridge(r, f);
        if (fclose(f) != 0 || ret < 0)
                return ret < 0 ? ret : -ENOMEM;
        *out = TAKE_PTR(buf);
        return 0;
}

static bool valid_tag(const char *s)
{
        if (strlen(s) != GK_NET_TAG_LEN)
                return false;
        for (; *s; s++)
                if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
                        return false;
        return true;
}

static int parse_item(gk_net_rec *r, const char *key, const char *val, unsigned *seen,
                      gk_error **err)
{
        if (!strcmp(key, "mode")) {
                if (!strcmp(val, "none"))
                        r->conf.mode = GK_NET_NONE;
                else if (!strcmp(val, "bridge"))
                        r->conf.mode = GK_NET_BRIDGE;
                else
                        return -EINVAL;
        } else if (!strcmp(key, "tag")) {
                if (!valid_tag(val))
                        return -EINVAL;
                memcpy(r->tag, val, GK_NET_TAG_LEN + 1);
                *seen |= 1;
        } else if (!strcmp(key, "bridge")) {
                if (!gk_net_valid_ifname(val))
                        return -EINVAL;
                snprintf(r->conf.bridge, sizeof(r->conf.bridge), "%s", val);
                *seen |= 2;
        } else if (!strcmp(key, "subnet")) {
                if (gk_net_parse_subnet(val, &r->conf.subnet, &r->conf.prefix, err) < 0)
                        return -EINVAL;
                *seen |= 4;
        } else if (!strcmp(key, "ip")) {
                if (inet_pton(AF_INET, val, &r->ip) != 1)
                        return -EINVAL;
                *seen |= 8;
        } else if (!strcmp(key, "ports")) {
                if (gk_net_parse_ports(val, &r->conf, err) < 0)
                        return -EINVAL;
        }
        return 0;
}

int gk_net_rec_parse(const char *s, gk_net_rec *r, gk_error **err)
{
        _cleanup_free_ char *copy = strdup(s ? s : "");
        char *save = NULL, *tok;
        unsigned seen = 0;

        *r = (gk_net_rec){ .conf.mode = GK_NET_UNSET };
        if (!copy)
                return gk_error_make(err, ENOMEM, "network record");
        tok = strtok_r(copy, " ", &save);
        if (!tok || strcmp(tok, "v1"))
                return gk_error_make(err, 0, "network record `%s`: unknown version", s ? s : "");
        while ((tok = strtok_r(NULL, " ", &save))) {
                char *eq = strchr(tok, '=');

                if (!eq)
                        continue;
                *eq = '\0';
                if (parse_item(r, tok, eq + 1, &seen, err) < 0)
                        return gk_error_make(err, 0, "network record `%s`: bad `%s`", s, tok);
        }
        if (r->conf.mode == GK_NET_UNSET || !(seen & 1) ||
            (r->conf.mode == GK_NET_BRIDGE && (seen & 7) != 7))
                return gk_error_make(err, 0, "network record `%s`: incomplete", s);
        if (r->conf.mode == GK_NET_BRIDGE)
                r->gw = gk_ipam_gateway(r->conf.subnet);
        return 0;
}
