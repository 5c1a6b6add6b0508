/* Links and addresses over rtnetlink (libmnl): the bridge with its gateway
 * address, the container's veth pair (the peer created directly as eth0 in
 * the init's network namespace), and, through a socket opened inside that
 * namespace, lo, eth0's address and the default route.  No `ip` command. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_bridge.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "net/net_internal.h"
#include "net/nl.h"

void nl_close(nl_t *nl)
{
        if (nl->sock)
                mnl_socket_close(nl->sock);
        nl->sock = NULL;
}

int nl_open(nl_t *nl, gk_error **err)
{
        nl->sock = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
        if (!nl->sock)
                return gk_error_errno(err, "rtnetlink socket");
        if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
                int r = gk_error_errno(err, "rtnetlink bind");
                nl_close(nl);
                return r;
        }
        nl->portid = mnl_socket_get_portid(nl->sock);
        nl->seq = (unsigned) time(NULL);
        return 0;
}

/* A socket belongs to the network namespace it was created in: enter
 * NETNS just for socket(2), then come back (gkrun-net is single-threaded). */
int nl_open_netns(nl_t *nl, int netns, gk_error **err)
{
        _cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        int r;

        if (self < 0)
                return gk_error_errno(err, "open `/proc/self/ns/net`");
        if (setns(netns, CLONE_NEWNET) < 0)
                return gk_error_errno(err, "enter the container's network namespace");
        r = nl_open(nl, err);
        if (setns(self, CLONE_NEWNET) < 0) {
                nl_close(nl);
                return gk_error_errno(err, "return to the host's network namespace");
        }
        return r;
}

/* A dump the kernel flags as inconsistent (links changed meanwhile) is
 * read to its end all the same, so the socket holds nothing stale for
 * the next request, and then reported as EINTR to be done again. */
static bool take_dump_intr(char *buf, ssize_t n)
{
        int len = (int) n;
        bool intr = false;

        for (struct nlmsghdr *h = (struct nlmsghdr *) buf; mnl_nlmsg_ok(h, len);
             h = mnl_nlmsg_next(h, &len)) {
                if (h->nlmsg_flags & NLM_F_DUMP_INTR) {
                        h->nlmsg_flags &= (uint16_t) ~NLM_F_DUMP_INTR;
                        intr = true;
                }
        }
        return intr;
}

/* Sends NLH and reads the answer up to its ack (or the end of a dump),
 * passing data messages to CB.  Returns 0 or a negative errno. */
int nl_talk(nl_t *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
        char buf[NL_BUF];
        bool intr = false;
        ssize_t n;
        int r;

        /* Dumps end with NLMSG_DONE, everything else with an ack.  (The
         * test needs the type: NLM_F_EXCL is NLM_F_DUMP's MATCH bit.) */
        bool dump = (nlh->nlmsg_type == RTM_GETLINK || nlh->nlmsg_type == RTM_GETADDR) &&
                    (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;

        nlh->nlmsg_seq = ++nl->seq;
        if (!dump)
                nlh->nlmsg_flags |= NLM_F_ACK;
        if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        do {
                n = mnl_socket_recvfrom(nl->sock, buf, sizeof(buf));
                if (n < 0)
                        return -errno;
                intr |= take_dump_intr(buf, n);
                r = mnl_cb_run(buf, (size_t) n, nl->seq, nl->portid, cb, data);
        } while (r > MNL_CB_STOP);
        if (r < 0)
                return -errno;
        return intr ? -EINTR : 0;
}

static struct nlmsghdr *put_link_msg(char *buf, uint16_t type, uint16_t flags, int family,
                                     int index, unsigned up)
{
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct ifinfomsg *ifm;

        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST | flags;
        ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
        ifm->ifi_family = (unsigned char) family;
        ifm->ifi_index = index;
        ifm->ifi_flags = up;
        ifm->ifi_change = up;
        return nlh;
}

typedef struct link_info {
        int index;
        unsigned master;
        char alias[64];
        char kind[16];   /* IFLA_INFO_KIND: "bridge", "veth"... */
        int want_master; /* dumps: count ports of this bridge */
        int ports;
} link_info;

static int linkinfo_cb(const struct nlattr *a, void *data)
{
        link_info *li = data;

        if (mnl_attr_get_type(a) == IFLA_INFO_KIND && mnl_attr_validate(a, MNL_TYPE_STRING) >= 0)
                snprintf(li->kind, sizeof(li->kind), "%s", mnl_attr_get_str(a));
        return MNL_CB_OK;
}

static int link_attr_cb(const struct nlattr *a, void *data)
{
        link_info *li = data;

        if (mnl_attr_get_type(a) == IFLA_LINKINFO && mnl_attr_validate(a, MNL_TYPE_NESTED) >= 0)
                mnl_attr_parse_nested(a, linkinfo_cb, li);
        else if (mnl_attr_get_type(a) == IFLA_MASTER && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
                li->master = mnl_attr_get_u32(a);
        else if (mnl_attr_get_type(a) == IFLA_IFALIAS &&
                 mnl_attr_validate(a, MNL_TYPE_STRING) >= 0)
                snprintf(li->alias, sizeof(li->alias), "%s", mnl_attr_get_str(a));
        return MNL_CB_OK;
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
        link_info *li = data;
        struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

        li->master = 0;
        li->alias[0] = li->kind[0] = '\0';
        li->index = ifm->ifi_index;
        mnl_attr_parse(nlh, sizeof(*ifm), link_attr_cb, li);
        if (li->want_master && (int) li->master == li->want_master)
                li->ports++;
        return MNL_CB_OK;
}

/* -ENODEV when NAME does not exist. */
static int link_get(nl_t *nl, const char *name, link_info *li)
{
        char buf[NL_BUF];
        struct nlmsghdr *nlh = put_link_msg(buf, RTM_GETLINK, 0, AF_UNSPEC, 0, 0);

        *li = (link_info){ 0 };
        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        return nl_talk(nl, nlh, link_cb, li);
}

static int link_up(nl_t *nl, int index)
{
        char buf[NL_BUF];

        return nl_talk(nl, put_link_msg(buf, RTM_NEWLINK, 0, AF_UNSPEC, index, IFF_UP), NULL,
                       NULL);
}

static int addr_add(nl_t *nl, int index, struct in_addr ip, unsigned prefix)
{
        char buf[NL_BUF];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct ifaddrmsg *ifa;
        struct in_addr bcast = { ip.s_addr | htonl((1U << (32 - prefix)) - 1) };

        nlh->nlmsg_type = RTM_NEWADDR;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
        ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
        ifa->ifa_family = AF_INET;
        ifa->ifa_prefixlen = (unsigned char) prefix;
        ifa->ifa_scope = RT_SCOPE_UNIVERSE;
        ifa->ifa_index = (unsigned) index;
        mnl_attr_put(nlh, IFA_LOCAL, sizeof(ip), &ip);
        mnl_attr_put(nlh, IFA_ADDRESS, sizeof(ip), &ip);
        mnl_attr_put(nlh, IFA_BROADCAST, sizeof(bcast), &bcast);
        return nl_talk(nl, nlh, NULL, NULL);
}

static int route_default(nl_t *nl, int index, struct in_addr gw)
{
        char buf[NL_BUF];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct rtmsg *rtm;

        nlh->nlmsg_type = RTM_NEWROUTE;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL;
        rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
        rtm->rtm_family = AF_INET;
        rtm->rtm_table = RT_TABLE_MAIN;
        rtm->rtm_protocol = RTPROT_BOOT;
        rtm->rtm_scope = RT_SCOPE_UNIVERSE;
        rtm->rtm_type = RTN_UNICAST;
        mnl_attr_put(nlh, RTA_GATEWAY, sizeof(gw), &gw);
        mnl_attr_put_u32(nlh, RTA_OIF, (uint32_t) index);
        return nl_talk(nl, nlh, NULL, NULL);
}

static int set_alias(nl_t *nl, int index, const char *alias)
{
        char buf[NL_BUF];
        struct nlmsghdr *nlh = put_link_msg(buf, RTM_NEWLINK, 0, AF_UNSPEC, index, 0);

        mnl_attr_put_strz(nlh, IFLA_IFALIAS, alias);
        return nl_talk(nl, nlh, NULL, NULL);
}

static int bridge_create(nl_t *nl, const char *name)
{
        char buf[NL_BUF];
        struct nlmsghdr *nlh = put_link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC,
                                            0, 0);
        struct nlattr *info;

        mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
        mnl_attr_nest_end(nlh, info);
        return nl_talk(nl, nlh, NULL, NULL);
}

int gk_link_bridge_ensure(const char *name, struct in_addr gw, unsigned prefix, gk_error **err)
{
        _cleanup_(nl_close) nl_t nl = { 0 };
        link_info li;
        int r;

        if (nl_open(&nl, err) < 0)
                return gk_error_code(*err);
        r = link_get(&nl, name, &li);
        if (r == -ENODEV) {
                int made = bridge_create(&nl, name);

                if (made < 0 && made != -EEXIST)
                        return gk_error_make(err, -made, "create bridge `%s`", name);
                r = link_get(&nl, name, &li);
                if (r == 0 && made == 0)
                        r = set_alias(&nl, li.index, GK_NET_BRIDGE_ALIAS);
        }
        if (r < 0)
                return gk_error_make(err, -r, "bridge `%s`", name);
        /* A name taken by another kind of link: do not touch it. */
        if (strcmp(li.kind, "bridge"))
                return gk_error_make(err, 0, "bridge `%s`: exists and is not a bridge", name);
        r = addr_add(&nl, li.index, gw, prefix);
        if (r < 0 && r != -EEXIST)
                return gk_error_make(err, -r, "bridge `%s`: add address", name);
        if ((r = link_up(&nl, li.index)) < 0)
                return gk_error_make(err, -r, "bridge `%s`: set up", name);
        return 0;
}

static int veth_create(nl_t *nl, const char *host_name, int bridge, int netns)
{
        char buf[NL_BUF];
        struct nlmsghdr *nlh = put_link_msg(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, AF_UNSPEC,
                                            0, IFF_UP);
        struct nlattr *info, *data, *peer;
        struct ifinfomsg *pifm;

        mnl_attr_put_strz(nlh, IFLA_IFNAME, host_name);
        mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t) bridge);
        info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
        mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
        data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
        peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
        pifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*pifm));
        memset(pifm, 0, sizeof(*pifm));
        /* Named eth0 right away: the name is looked up in the target
         * namespace, where nothing else can be called that yet. */
        mnl_attr_put_strz(nlh, IFLA_IFNAME, "eth0");
        mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t) netns);
        mnl_attr_nest_end(nlh, peer);
        mnl_attr_nest_end(nlh, data);
        mnl_attr_nest_end(nlh, info);
        return nl_talk(nl, nlh, NULL, NULL);
}

/* Hairpin: a container reaching its own published port through the host
 * gets the DNAT'ed packet back out of the port it came in on. */
static int set_hairpin(nl_t *nl, int index)
{
        char buf[NL_BUF];
        struct nlmsghdr *nlh = put_link_msg(buf, RTM_SETLINK, 0, AF_BRIDGE, index, 0);
        struct nlattr *nest = mnl_attr_nest_start(nlh, IFLA_PROTINFO);

        mnl_attr_put_u8(nlh, IFLA_BRPORT_MODE, 1);
        mnl_attr_nest_end(nlh, nest);
        return nl_talk(nl, nlh, NULL, NULL);
}

int gk_link_veth_create(const char *host_name, const char *bridge, int netns, gk_error **err)
{
        _cleanup_(nl_close) nl_t nl = { 0 };
        link_info br, li;
        int r;

        if (nl_open(&nl, err) < 0)
                return gk_error_code(*err);
        if ((r = link_get(&nl, bridge, &br)) < 0)
                return gk_error_make(err, -r, "bridge `%s`", bridge);
        if ((r = veth_create(&nl, host_name, br.index, netns)) < 0)
                return gk_error_make(err, -r, "create veth `%s` on `%s`", host_name, bridge);
        if ((r = link_get(&nl, host_name, &li)) < 0 || (r = set_hairpin(&nl, li.index)) < 0)
                return gk_error_make(err, -r, "veth `%s`: hairpin mode", host_name);
        return 0;
}

int gk_link_setup_netns(int netns, struct in_addr ip, unsigned prefix, struct in_addr gw,
                        gk_error **err)
{
        _cleanup_(nl_close) nl_t nl = { 0 };
        link_info eth;
        int r;

        if (nl_open_netns(&nl, netns, err) < 0)
                return gk_error_code(*err);
        if ((r = link_get(&nl, "eth0", &eth)) < 0)
                return gk_error_make(err, -r, "container: `eth0`");
        if ((r = addr_add(&nl, eth.index, ip, prefix)) < 0)
                return gk_error_make(err, -r, "container: `eth0`: add address");
        if ((r = link_up(&nl, eth.index)) < 0)
                return gk_error_make(err, -r, "container: set `eth0` up");
        if ((r = route_default(&nl, eth.index, gw)) < 0)
                return gk_error_make(err, -r, "container: add default route");
        return 0;
}

static int link_del(nl_t *nl, int index)
{
        char buf[NL_BUF];

        return nl_talk(nl, put_link_msg(buf, RTM_DELLINK, 0, AF_UNSPEC, index, 0), NULL, NULL);
}

int gk_link_delete(const char *name, gk_error **err)
{
        _cleanup_(nl_close) nl_t nl = { 0 };
        link_info li;
        int r;

        if (nl_open(&nl, err) < 0)
                return gk_error_code(*err);
        r = link_get(&nl, name, &li);
        if (r == 0)
                r = link_del(&nl, li.index);
        if (r < 0 && r != -ENODEV)
                return gk_error_make(err, -r, "delete link `%s`", name);
        return 0;
}

int gk_link_bridge_release(const char *name, gk_error **err)
{
        _cleanup_(nl_close) nl_t nl = { 0 };
        char buf[NL_BUF];
        link_info br, ports;
        int r;

        if (nl_open(&nl, err) < 0)
                return gk_error_code(*err);
        r = link_get(&nl, name, &br);
        if (r == -ENODEV)
                return 1;
        if (r < 0)
                return gk_error_make(err, -r, "bridge `%s`", name);
        if (strcmp(br.kind, "bridge"))
                return 0;
        /* A dump that links changed under is flagged and gives EINTR:
         * netns being torn down drop their veths at any time. */
        for (int i = 0; i < 10; i++) {
                ports = (link_info){ .want_master = br.index };
                r = nl_talk(&nl, put_link_msg(buf, RTM_GETLINK, NLM_F_DUMP, AF_UNSPEC, 0, 0),
                            link_cb, &ports);
                if (r != -EINTR)
                        break;
        }
        if (r < 0)
                return gk_error_make(err, -r, "bridge `%s`: list ports", name);
        if (ports.ports)
                return 0;
        if (strcmp(br.alias, GK_NET_BRIDGE_ALIAS))
                return 1;
        r = link_del(&nl, br.index);
        if (r < 0 && r != -ENODEV)
                return gk_error_make(err, -r, "delete bridge `%s`", name);
        return 1;
}
