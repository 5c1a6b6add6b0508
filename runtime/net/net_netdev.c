/* linux.netDevices: host interfaces moved into the container's network
 * namespace (bundle-spec/netdevices.md).  One RTM_NEWLINK moves a device
 * and renames it (IFLA_NET_NS_FD with IFLA_IFNAME).  The kernel drops a
 * device's addresses when it leaves a namespace; the spec wants its
 * permanent global ones kept, so they are read before the move and added
 * again on the other side, and the device is set up there.
 *
 * Nothing moves them back at delete: the spec forbids it.  When the
 * namespace dies, the kernel returns physical devices to the host and
 * destroys virtual ones.  Only a create that fails here, half way, gives
 * back the devices it had moved. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/json.h"
#include "net/net_internal.h"
#include "net/nl.h"

#define MAX_ADDRS 64

typedef struct addr {
        struct ifaddrmsg ifa;
        uint32_t flags; /* IFA_FLAGS, or ifa_flags */
        unsigned char local[16], address[16], bcast[4];
        size_t local_len, address_len, bcast_len;
} addr;

typedef struct addr_list {
        int index;
        addr a[MAX_ADDRS];
        size_t n;
        bool overflow;
} addr_list;

static void copy_attr(const struct nlattr *at, unsigned char *to, size_t size, size_t *len)
{
        size_t n = mnl_attr_get_payload_len(at);

        if (n <= size) {
                memcpy(to, mnl_attr_get_payload(at), n);
                *len = n;
        }
}

static int addr_attr_cb(const struct nlattr *at, void *data)
{
        addr *a = data;

        switch (mnl_attr_get_type(at)) {
        case IFA_LOCAL:
                copy_attr(at, a->local, sizeof(a->local), &a->local_len);
                break;
        case IFA_ADDRESS:
                copy_attr(at, a->address, sizeof(a->address), &a->address_len);
                break;
        case IFA_BROADCAST:
                copy_attr(at, a->bcast, sizeof(a->bcast), &a->bcast_len);
                break;
        case IFA_FLAGS:
                if (mnl_attr_validate(at, MNL_TYPE_U32) >= 0)
                        a->flags = mnl_attr_get_u32(at);
                break;
        }
        return MNL_CB_OK;
}

/* The spec's addresses: permanent (IFA_F_PERMANENT), of global scope. */
static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
        addr_list *l = data;
        struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
        addr a = { .ifa = *ifa, .flags = ifa->ifa_flags };

        if ((int) ifa->ifa_index != l->index || ifa->ifa_scope != RT_SCOPE_UNIVERSE)
                return MNL_CB_OK;
        mnl_attr_parse(nlh, sizeof(*ifa), addr_attr_cb, &a);
        if (!(a.flags & IFA_F_PERMANENT) || (!a.local_len && !a.address_len))
                return MNL_CB_OK;
        if (l->n == MAX_ADDRS) {
                l->overflow = true;
                return MNL_CB_OK;
        }
        l->a[l->n++] = a;
        return MNL_CB_OK;
}

static int addrs_read(nl_t *nl, int index, addr_list *l)
{
        char buf[NL_BUF];
        struct nlmsghdr *nlh;
        struct ifaddrmsg *ifa;
        int r = -EINTR;

        for (int i = 0; i < 10 && r == -EINTR; i++) {
                *l = (addr_list){ .index = index };
                nlh = mnl_nlmsg_put_header(buf);
                nlh->nlmsg_type = RTM_GETADDR;
                nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
                ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
                ifa->ifa_family = AF_UNSPEC;
                r = nl_talk(nl, nlh, addr_cb, l);
        }
        if (r == 0 && l->overflow)
                r = -E2BIG;
        return r;
}

static int addr_put(nl_t *nl, int index, const addr *a)
{
        char buf[NL_BUF];
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct ifaddrmsg *ifa;

        nlh->nlmsg_type = RTM_NEWADDR;
        nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_REPLACE;
        ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
        *ifa = a->ifa;
        ifa->ifa_index = (unsigned) index;
        if (a->local_len)
                mnl_attr_put(nlh, IFA_LOCAL, a->local_len, a->local);
        if (a->address_len)
                mnl_attr_put(nlh, IFA_ADDRESS, a->address_len, a->address);
        if (a->bcast_len)
                mnl_attr_put(nlh, IFA_BROADCAST, a->bcast_len, a->bcast);
        mnl_attr_put_u32(nlh, IFA_FLAGS, a->flags);
        return nl_talk(nl, nlh, NULL, NULL);
}

typedef struct link_name {
        int index;
        char name[IFNAMSIZ];
} link_name;

static int name_attr_cb(const struct nlattr *at, void *data)
{
        link_name *ln = data;

        if (mnl_attr_get_type(at) == IFLA_IFNAME && mnl_attr_validate(at, MNL_TYPE_STRING) >= 0)
                snprintf(ln->name, sizeof(ln->name), "%s", mnl_attr_get_str(at));
        return MNL_CB_OK;
}

static int link_name_cb(const struct nlmsghdr *nlh, void *data)
{
        link_name *ln = data;
        struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

        ln->index = ifm->ifi_index;
        return mnl_attr_parse(nlh, sizeof(*ifm), name_attr_cb, ln) < 0 ? MNL_CB_ERROR : MNL_CB_OK;
}

static struct nlmsghdr *link_msg(char *buf, uint16_t type, int index)
{
        struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
        struct ifinfomsg *ifm;

        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = NLM_F_REQUEST;
        ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
        ifm->ifi_family = AF_UNSPEC;
        ifm->ifi_index = index;
        return nlh;
}

/* By NAME, or by INDEX when NAME is NULL; -ENODEV when there is none. */
static int link_find(nl_t *nl, const char *name, int index, link_name *out)
{
        char buf[NL_BUF];
        struct nlmsghdr *nlh = link_msg(buf, RTM_GETLINK, name ? 0 : index);

        *out = (link_name){ 0 };
        if (name)
                mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
        return nl_talk(nl, nlh, link_name_cb, out);
}

static int link_set_up(nl_t *nl, int index)
{
        char buf[NL_BUF];
        struct nlmsghdr *nlh = link_msg(buf, RTM_NEWLINK, index);
        struct ifinfomsg *ifm = mnl_nlmsg_get_payload(nlh);

        ifm->ifi_flags = ifm->ifi_change = IFF_UP;
        return nl_talk(nl, nlh, NULL, NULL);
}

/* Moves link NAME from FROM's namespace into TO's (TO_FD) as NEW_NAME
 * (a template "%d" is filled by the kernel; NULL: keeps its name), with
 * its addresses, and sets it up there.  Its name there into OUT. */
static int move_one(nl_t *from, nl_t *to, int to_fd, const char *name, const char *new_name,
                    char out[IFNAMSIZ], gk_error **err)
{
        const char *want = new_name ? new_name : name;
        char buf[NL_BUF];
        struct nlmsghdr *nlh;
        link_name dev, there;
        addr_list addrs;
        int r;

        if ((r = link_find(from, name, 0, &dev)) < 0)
                return gk_error_make(err, -r, "%s", r == -ENODEV ? "no such interface" : "find");
        /* the rename after the move would fail with the device moved */
        if (!strchr(want, '%') && (r = link_find(to, want, 0, &there)) != -ENODEV)
                return r == 0 ? gk_error_make(err, 0, "`%s` exists in the container already", want)
                              : gk_error_make(err, -r, "look for `%s` in the container", want);
        if ((r = addrs_read(from, dev.index, &addrs)) < 0)
                return gk_error_make(err, -r, "read its addresses");
        nlh = link_msg(buf, RTM_NEWLINK, dev.index);
        mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t) to_fd);
        mnl_attr_put_strz(nlh, IFLA_IFNAME, want);
        if ((r = nl_talk(from, nlh, NULL, NULL)) < 0)
                return gk_error_make(err, -r, "move as `%s`", want);
        /* the kernel keeps its index unless taken there: a template's
         * name is known only from it */
        r = link_find(to, strchr(want, '%') ? NULL : want, dev.index, &there);
        if (r < 0)
                return gk_error_make(err, -r, "find it as `%s` after the move", want);
        snprintf(out, IFNAMSIZ, "%s", there.name);
        for (size_t i = 0; i < addrs.n; i++)
                if ((r = addr_put(to, there.index, &addrs.a[i])) < 0)
                        return gk_error_make(err, -r, "`%s`: add its address again", out);
        if ((r = link_set_up(to, there.index)) < 0)
                return gk_error_make(err, -r, "`%s`: set up", out);
        return 0;
}

/* Gives back the first N devices of REQ, moved as NAMES. */
static void move_back(nl_t *host, nl_t *ct, int host_fd, const gk_net_req *req, size_t n,
                      char (*names)[IFNAMSIZ])
{
        for (size_t i = 0; i < n; i++) {
                _cleanup_(gk_error_freep) gk_error *ignored = NULL;
                char out[IFNAMSIZ];

                move_one(ct, host, host_fd, names[i], req->devices[i].key, out, &ignored);
        }
}

static int result_json(const gk_net_req *req, char (*names)[IFNAMSIZ], char **out, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);
        size_t len;

        if (!g)
                return gk_error_make(err, ENOMEM, "result");
        yajl_gen_map_open(g);
        gk_json_str(g, "devices");
        yajl_gen_map_open(g);
        for (size_t i = 0; i < req->n_devices; i++)
                gk_json_kstr(g, req->devices[i].key, names[i]);
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
        return gk_json_gen_finish(g, out, &len, err);
}

int gk_net_netdev(const gk_net_req *req, char **result, gk_error **err)
{
        _cleanup_(nl_close) nl_t host = { 0 }, ct = { 0 };
        _cleanup_close_ int netns = open(req->netns, O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        _cleanup_free_ char(*names)[IFNAMSIZ] = calloc(req->n_devices + 1, IFNAMSIZ);

        if (!names)
                return gk_error_make(err, ENOMEM, "netDevices");
        if (netns < 0)
                return gk_error_errno(err, "open `%s`", req->netns);
        if (self < 0)
                return gk_error_errno(err, "open `/proc/self/ns/net`");
        if (nl_open(&host, err) < 0 || nl_open_netns(&ct, netns, err) < 0)
                return gk_error_code(*err);
        for (size_t i = 0; i < req->n_devices; i++) {
                const gk_kv *d = &req->devices[i];
                const char *new_name = d->value && *d->value ? d->value : NULL;

                if (move_one(&host, &ct, netns, d->key, new_name, names[i], err) < 0) {
                        move_back(&host, &ct, self, req, names[i][0] ? i + 1 : i, names);
                        return gk_error_wrap(err, "%s", d->key);
                }
        }
        return result_json(req, names, result, err);
}
