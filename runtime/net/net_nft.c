/* NAT and forwarding rules in gk's own nftables table, `ip gk`, built with
 * libnftnl and sent as one atomic batch per change (no nft/iptables
 * command).  The table has five base chains; every rule belongs to one
 * container and carries the comment "gkrun:TAG ID", so delete removes
 * exactly that container's rules (found again by listing the table, which
 * works after a crash too) and the table goes with the last rule.
 *
 * Per container (IP on bridge BR):
 *   postrouting  ip saddr IP oifname != BR masquerade        outbound NAT
 *                oifname BR ip daddr IP ip saddr 127.0.0.0/8 masquerade
 *                oifname BR ip daddr IP ip saddr SUBNET ct status dnat masquerade
 *   prerouting   fib daddr type local PROTO dport HOST dnat to IP:CTR
 *   output       the same, for connections made on the host (127.0.0.1 too)
 *   forward      oifname BR ip daddr IP accept; iifname BR ip saddr IP accept
 *   input        iifname BR ip daddr 127.0.0.0/8 ct state != established,related drop
 * The 127.0.0.0/8 rules need route_localnet on the bridge (net.c); the
 * `ct status dnat` one lets containers on the bridge (or the container
 * itself, through hairpin mode) reach a published port: without it the
 * answer would go to them directly, from an address they did not call.
 * (The input interface is unknown in postrouting, hence the source
 * subnet.) */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <libnftnl/udata.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gk/cleanup.h"
#include "net/net_internal.h"

#define BATCH_SIZE (192 * 1024) /* below the default netlink send buffer */
#define COMMENT_PREFIX "gkrun:"

/* ---- the batch ---- */

typedef struct nft_batch {
        char *buf;
        struct mnl_nlmsg_batch *b;
        uint32_t seq;
        bool full;
} nft_batch;

static int batch_start(nft_batch *nb)
{
        *nb = (nft_batch){ .buf = malloc(BATCH_SIZE), .seq = (uint32_t) time(NULL) };
        if (!nb->buf)
                return -ENOMEM;
        nb->b = mnl_nlmsg_batch_start(nb->buf, BATCH_SIZE);
        nftnl_batch_begin(mnl_nlmsg_batch_current(nb->b), nb->seq++);
        mnl_nlmsg_batch_next(nb->b);
        return 0;
}

static void batch_free(nft_batch *nb)
{
        if (nb->b)
                mnl_nlmsg_batch_stop(nb->b);
        free(nb->buf);
}

static struct nlmsghdr *batch_msg(nft_batch *nb, uint16_t type, uint16_t flags)
{
        return nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(nb->b), type, NFPROTO_IPV4,
                                     flags | NLM_F_ACK, nb->seq++);
}

static void batch_next(nft_batch *nb)
{
        if (!mnl_nlmsg_batch_next(nb->b))
                nb->full = true;
}

static int open_nfnl(struct mnl_socket **nl)
{
        *nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
        if (!*nl)
                return -errno;
        if (mnl_socket_bind(*nl, 0, MNL_SOCKET_AUTOPID) < 0) {
                int r = -errno;
                mnl_socket_close(*nl);
                *nl = NULL;
                return r;
        }
        return 0;
}

/* The kernel handles a batch inside sendmsg(2): every ack or error is
 * queued when it returns, so they are read without waiting. */
static int read_acks(struct mnl_socket *nl)
{
        char buf[16384];
        int first = 0;
        ssize_t n;

        while ((n = recv(mnl_socket_get_fd(nl), buf, sizeof(buf), MSG_DONTWAIT)) > 0) {
                int len = (int) n;

                for (struct nlmsghdr *h = (struct nlmsghdr *) buf; mnl_nlmsg_ok(h, len);
                     h = mnl_nlmsg_next(h, &len)) {
                        const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

                        if (h->nlmsg_type == NLMSG_ERROR && e->error && !first)
                                first = e->error;
                }
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && !first)
                first = -errno;
        return first;
}

static int batch_send(nft_batch *nb)
{
        struct mnl_socket *nl = NULL;
        int r;

        nftnl_batch_end(mnl_nlmsg_batch_current(nb->b), nb->seq++);
        batch_next(nb);
        if (nb->full)
                return -E2BIG;
        if ((r = open_nfnl(&nl)) < 0)
                return r;
        if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(nb->b), mnl_nlmsg_batch_size(nb->b)) < 0)
                r = -errno;
        else
                r = read_acks(nl);
        mnl_socket_close(nl);
        return r;
}

/* ---- table and chains ---- */

static int put_table(nft_batch *nb, uint16_t type, uint16_t flags)
{
        struct nftnl_table *t = nftnl_table_alloc();

        if (!t)
                return -ENOMEM;
        nftnl_table_set_str(t, NFTNL_TABLE_NAME, GK_NET_TABLE);
        nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_IPV4);
        nftnl_table_nlmsg_build_payload(batch_msg(nb, type, flags), t);
        nftnl_table_free(t);
        batch_next(nb);
        return 0;
}

static const struct {
        const char *name, *type;
        uint32_t hook;
        int32_t prio;
} chains[] = {
        { "prerouting", "nat", NF_INET_PRE_ROUTING, -100 },
        { "output", "nat", NF_INET_LOCAL_OUT, -100 },
        { "postrouting", "nat", NF_INET_POST_ROUTING, 100 },
        { "forward", "filter", NF_INET_FORWARD, 0 },
        { "input", "filter", NF_INET_LOCAL_IN, 0 },
};

/* Without NLM_F_EXCL an existing chain is left as it is. */
static int put_chains(nft_batch *nb)
{
        for (size_t i = 0; i < ARRAY_SIZE(chains); i++) {
                struct nftnl_chain *c = nftnl_chain_alloc();

                if (!c)
                        return -ENOMEM;
                nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, GK_NET_TABLE);
                nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chains[i].name);
                nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, chains[i].type);
                nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, chains[i].hook);
                nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, chains[i].prio);
                nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
                nftnl_chain_nlmsg_build_payload(batch_msg(nb, NFT_MSG_NEWCHAIN, NLM_F_CREATE), c);
                nftnl_chain_free(c);
                batch_next(nb);
        }
        return 0;
}

/* ---- rules ---- */

typedef struct rule_b {
        struct nftnl_rule *r;
        bool fail;
} rule_b;

static struct nftnl_expr *expr(rule_b *b, const char *name)
{
        struct nftnl_expr *e = b->fail ? NULL : nftnl_expr_alloc(name);

        if (!e) {
                b->fail = true;
                return NULL;
        }
        nftnl_rule_add_expr(b->r, e);
        return e;
}

static void cmp(rule_b *b, uint32_t op, const void *data, uint32_t len)
{
        struct nftnl_expr *e = expr(b, "cmp");

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
        nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void match_ifname(rule_b *b, uint32_t key, uint32_t op, const char *name)
{
        struct nftnl_expr *e = expr(b, "meta");
        char padded[IFNAMSIZ] = { 0 };

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
        snprintf(padded, sizeof(padded), "%s", name);
        cmp(b, op, padded, sizeof(padded));
}

static void load_payload(rule_b *b, uint32_t base, uint32_t offset, uint32_t len)
{
        struct nftnl_expr *e = expr(b, "payload");

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, offset);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
        nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
}

static void mask_reg(rule_b *b, const void *mask, uint32_t len)
{
        struct nftnl_expr *e = expr(b, "bitwise");
        static const char zero[16];

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
        nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
}

enum { SADDR = 12, DADDR = 16 }; /* offsets in the IPv4 header */

static void match_ip(rule_b *b, uint32_t offset, struct in_addr ip)
{
        load_payload(b, NFT_PAYLOAD_NETWORK_HEADER, offset, 4);
        cmp(b, NFT_CMP_EQ, &ip, 4);
}

static void match_src_net(rule_b *b, struct in_addr net, unsigned prefix)
{
        uint32_t mask = htonl(~((1U << (32 - prefix)) - 1));

        load_payload(b, NFT_PAYLOAD_NETWORK_HEADER, SADDR, 4);
        mask_reg(b, &mask, 4);
        cmp(b, NFT_CMP_EQ, &net, 4);
}

static void match_dnat(rule_b *b)
{
        struct nftnl_expr *e = expr(b, "ct");
        uint32_t bit = IPS_DST_NAT, zero = 0;

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATUS);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
        mask_reg(b, &bit, 4);
        cmp(b, NFT_CMP_NEQ, &zero, 4);
}

/* ct state is a bit mask (NF_CT_STATE_BIT): true when none of BITS. */
static void match_ct_state_none(rule_b *b, uint32_t bits)
{
        struct nftnl_expr *e = expr(b, "ct");
        uint32_t zero = 0;

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_STATE);
        nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
        mask_reg(b, &bits, 4);
        cmp(b, NFT_CMP_EQ, &zero, 4);
}

static void match_local_daddr(rule_b *b)
{
        struct nftnl_expr *e = expr(b, "fib");
        uint32_t local = RTN_LOCAL;

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
        nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
        nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
        cmp(b, NFT_CMP_EQ, &local, 4);
}

static void match_dport(rule_b *b, uint8_t proto, uint16_t port)
{
        struct nftnl_expr *e = expr(b, "meta");
        uint16_t nport = htons(port);

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, NFT_META_L4PROTO);
        nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
        cmp(b, NFT_CMP_EQ, &proto, 1);
        load_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
        cmp(b, NFT_CMP_EQ, &nport, 2);
}

static void immediate(rule_b *b, uint32_t reg, const void *data, uint32_t len)
{
        struct nftnl_expr *e = expr(b, "immediate");

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, reg);
        nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
}

static void do_dnat(rule_b *b, struct in_addr ip, uint16_t port)
{
        uint16_t nport = htons(port);
        struct nftnl_expr *e;

        immediate(b, NFT_REG_1, &ip, 4);
        immediate(b, NFT_REG_2, &nport, 2);
        if (!(e = expr(b, "nat")))
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY, NFPROTO_IPV4);
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, NFT_REG_1);
        nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, NFT_REG_2);
}

static void verdict(rule_b *b, uint32_t v)
{
        struct nftnl_expr *e = expr(b, "immediate");

        if (!e)
                return;
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
        nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, v);
}

static int rule_start(rule_b *b, const char *chain, const char *comment)
{
        struct nftnl_udata_buf *ud = nftnl_udata_buf_alloc(NFTNL_UDATA_COMMENT_MAXLEN + 8);

        *b = (rule_b){ .r = nftnl_rule_alloc() };
        if (!b->r || !ud || !nftnl_udata_put_strz(ud, NFTNL_UDATA_RULE_COMMENT, comment)) {
                nftnl_udata_buf_free(ud);
                nftnl_rule_free(b->r);
                return -ENOMEM;
        }
        nftnl_rule_set_u32(b->r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
        nftnl_rule_set_str(b->r, NFTNL_RULE_TABLE, GK_NET_TABLE);
        nftnl_rule_set_str(b->r, NFTNL_RULE_CHAIN, chain);
        nftnl_rule_set_data(b->r, NFTNL_RULE_USERDATA, nftnl_udata_buf_data(ud),
                            nftnl_udata_buf_len(ud));
        nftnl_udata_buf_free(ud);
        return 0;
}

static int rule_end(rule_b *b, nft_batch *nb, uint16_t type, uint16_t flags)
{
        int r = b->fail ? -ENOMEM : 0;

        if (!r) {
                nftnl_rule_nlmsg_build_payload(batch_msg(nb, type, flags), b->r);
                batch_next(nb);
        }
        nftnl_rule_free(b->r);
        return r;
}

static int put_postrouting(nft_batch *nb, const gk_net_rec *rec, const char *comment)
{
        const char *br = rec->conf.bridge;
        rule_b b;

        for (int which = 0; which < 3; which++) {
                if (rule_start(&b, "postrouting", comment) < 0)
                        return -ENOMEM;
                if (which == 0) {
                        match_ip(&b, SADDR, rec->ip);
                        match_ifname(&b, NFT_META_OIFNAME, NFT_CMP_NEQ, br);
                } else if (which == 1) {
                        match_ifname(&b, NFT_META_OIFNAME, NFT_CMP_EQ, br);
                        match_ip(&b, DADDR, rec->ip);
                        match_src_net(&b, (struct in_addr){ htonl(0x7f000000) }, 8);
                } else {
                        match_ifname(&b, NFT_META_OIFNAME, NFT_CMP_EQ, br);
                        match_ip(&b, DADDR, rec->ip);
                        match_src_net(&b, rec->conf.subnet, rec->conf.prefix);
                        match_dnat(&b);
                }
                expr(&b, "masq");
                if (rule_end(&b, nb, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static int put_ports(nft_batch *nb, const gk_net_rec *rec, const char *comment)
{
        static const char *const hooks[] = { "prerouting", "output" };
        rule_b b;

        for (size_t i = 0; i < rec->conf.n_ports; i++) {
                const gk_net_port *p = &rec->conf.ports[i];

                for (size_t h = 0; h < ARRAY_SIZE(hooks); h++) {
                        if (rule_start(&b, hooks[h], comment) < 0)
                                return -ENOMEM;
                        match_local_daddr(&b);
                        match_dport(&b, p->proto, p->host);
                        do_dnat(&b, rec->ip, p->ctr);
                        if (rule_end(&b, nb, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND) < 0)
                                return -ENOMEM;
                }
        }
        return 0;
}

static int put_forward(nft_batch *nb, const gk_net_rec *rec, const char *comment)
{
        rule_b b;

        for (int out = 0; out < 2; out++) {
                if (rule_start(&b, "forward", comment) < 0)
                        return -ENOMEM;
                match_ifname(&b, out ? NFT_META_OIFNAME : NFT_META_IIFNAME, NFT_CMP_EQ,
                             rec->conf.bridge);
                match_ip(&b, out ? DADDR : SADDR, rec->ip);
                verdict(&b, NF_ACCEPT);
                if (rule_end(&b, nb, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* route_localnet also lets what arrives on the bridge reach the host's
 * 127.0.0.0/8 services: only answers to connections the host made
 * (127.0.0.1:PORT, de-masqueraded) may come in that way. */
static int put_input(nft_batch *nb, const gk_net_rec *rec, const char *comment)
{
        uint32_t ok = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
        rule_b b;

        if (rule_start(&b, "input", comment) < 0)
                return -ENOMEM;
        match_ifname(&b, NFT_META_IIFNAME, NFT_CMP_EQ, rec->conf.bridge);
        load_payload(&b, NFT_PAYLOAD_NETWORK_HEADER, DADDR, 4);
        mask_reg(&b, &(uint32_t){ htonl(0xff000000) }, 4);
        cmp(&b, NFT_CMP_EQ, &(uint32_t){ htonl(0x7f000000) }, 4);
        match_ct_state_none(&b, ok);
        verdict(&b, NF_DROP);
        return rule_end(&b, nb, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);
}

int gk_nft_add(const gk_net_rec *rec, const char *id, gk_error **err)
{
        _cleanup_(batch_free) nft_batch nb = { 0 };
        char comment[NFTNL_UDATA_COMMENT_MAXLEN];
        int r;

        snprintf(comment, sizeof(comment), COMMENT_PREFIX "%s %s", rec->tag, id);
        if ((r = batch_start(&nb)) < 0 ||
            (r = put_table(&nb, NFT_MSG_NEWTABLE, NLM_F_CREATE)) < 0 ||
            (r = put_chains(&nb)) < 0 || (r = put_postrouting(&nb, rec, comment)) < 0 ||
            (r = put_ports(&nb, rec, comment)) < 0 || (r = put_forward(&nb, rec, comment)) < 0 ||
            (r = put_input(&nb, rec, comment)) < 0)
                return gk_error_make(err, -r, "nftables: table `ip %s`", GK_NET_TABLE);
        if ((r = batch_send(&nb)) < 0)
                return gk_error_make(err, -r, "nftables: add rules to table `ip %s`",
                                     GK_NET_TABLE);
        return 0;
}

/* ---- removal ---- */

typedef struct found_rule {
        char chain[32];
        uint64_t handle;
} found_rule;

typedef struct rule_scan {
        const char *tag;
        found_rule *mine;
        size_t n_mine, cap;
        size_t others;
        bool nomem;
} rule_scan;

typedef struct comment {
        const char *s;
        size_t len;
} comment;

static int comment_cb(const struct nftnl_udata *attr, void *data)
{
        comment *c = data;

        if (nftnl_udata_type(attr) == NFTNL_UDATA_RULE_COMMENT) {
                c->s = nftnl_udata_get(attr);
                c->len = nftnl_udata_len(attr);
        }
        return 0;
}

/* "gkrun:TAG" followed by a space or the end (the comment's NUL). */
static bool comment_is(const comment *c, const char *tag)
{
        size_t plen = strlen(COMMENT_PREFIX), tlen = strlen(tag);

        return c->s && c->len > plen + tlen && !memcmp(c->s, COMMENT_PREFIX, plen) &&
               !memcmp(c->s + plen, tag, tlen) &&
               (c->s[plen + tlen] == ' ' || c->s[plen + tlen] == '\0');
}

static void scan_add(rule_scan *s, struct nftnl_rule *r)
{
        if (s->n_mine == s->cap) {
                size_t cap = s->cap ? 2 * s->cap : 16;
                found_rule *m = realloc(s->mine, cap * sizeof(*m));

                if (!m) {
                        s->nomem = true;
                        return;
                }
                s->mine = m;
                s->cap = cap;
        }
        snprintf(s->mine[s->n_mine].chain, sizeof(s->mine[0].chain), "%s",
                 nftnl_rule_get_str(r, NFTNL_RULE_CHAIN));
        s->mine[s->n_mine++].handle = nftnl_rule_get_u64(r, NFTNL_RULE_HANDLE);
}

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
        rule_scan *s = data;
        struct nftnl_rule *r = nftnl_rule_alloc();
        comment c = { 0 };
        const void *ud;
        uint32_t len = 0;

        if (!r || nftnl_rule_nlmsg_parse(nlh, r) < 0) {
                nftnl_rule_free(r);
                s->nomem = true;
                return MNL_CB_OK;
        }
        ud = nftnl_rule_get_data(r, NFTNL_RULE_USERDATA, &len);
        if (ud)
                nftnl_udata_parse(ud, len, comment_cb, &c);
        if (comment_is(&c, s->tag))
                scan_add(s, r);
        else
                s->others++;
        nftnl_rule_free(r);
        return MNL_CB_OK;
}

/* A dump flagged inconsistent (the ruleset changed meanwhile) is read to
 * its end and reported as EINTR, to be listed again. */
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

/* Lists the rules of the table; -ENOENT when there is no table, -EINTR
 * when the ruleset changed during the dump. */
static int list_rules(rule_scan *s)
{
        struct mnl_socket *nl = NULL;
        bool intr = false;
        struct nftnl_rule *filter = nftnl_rule_alloc();
        char buf[16384];
        uint32_t seq = (uint32_t) time(NULL), portid;
        struct nlmsghdr *nlh;
        ssize_t n;
        int r;

        if (!filter)
                return -ENOMEM;
        if ((r = open_nfnl(&nl)) < 0) {
                nftnl_rule_free(filter);
                return r;
        }
        portid = mnl_socket_get_portid(nl);
        nlh = nftnl_nlmsg_build_hdr(buf, NFT_MSG_GETRULE, NFPROTO_IPV4, NLM_F_DUMP, seq);
        nftnl_rule_set_str(filter, NFTNL_RULE_TABLE, GK_NET_TABLE);
        nftnl_rule_nlmsg_build_payload(nlh, filter);
        nftnl_rule_free(filter);
        r = MNL_CB_OK;
        if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
                r = MNL_CB_ERROR;
        while (r > MNL_CB_STOP && (n = mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
                intr |= take_dump_intr(buf, n);
                r = mnl_cb_run(buf, (size_t) n, seq, portid, rule_cb, s);
        }
        r = r < 0 ? -errno : intr ? -EINTR : 0;
        mnl_socket_close(nl);
        return r ? r : s->nomem ? -ENOMEM : 0;
}

static int put_delrule(nft_batch *nb, const found_rule *f)
{
        struct nftnl_rule *r = nftnl_rule_alloc();

        if (!r)
                return -ENOMEM;
        nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_IPV4);
        nftnl_rule_set_str(r, NFTNL_RULE_TABLE, GK_NET_TABLE);
        nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, f->chain);
        nftnl_rule_set_u64(r, NFTNL_RULE_HANDLE, f->handle);
        nftnl_rule_nlmsg_build_payload(batch_msg(nb, NFT_MSG_DELRULE, 0), r);
        nftnl_rule_free(r);
        batch_next(nb);
        return 0;
}

int gk_nft_remove(const char *tag, gk_error **err)
{
        _cleanup_(batch_free) nft_batch nb = { 0 };
        rule_scan s = { .tag = tag };
        int r;

        /* EINTR: the ruleset changed during the dump (not by gkrun, which
         * holds the lock); list again. */
        for (int i = 0; i < 10; i++) {
                s = (rule_scan){ .tag = tag };
                if ((r = list_rules(&s)) != -EINTR)
                        break;
                free(s.mine);
        }

        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                free(s.mine);
                return gk_error_make(err, -r, "nftables: list table `ip %s`", GK_NET_TABLE);
        }
        if (!s.n_mine && s.others) {
                free(s.mine);
                return 0;
        }
        r = batch_start(&nb);
        for (size_t i = 0; r == 0 && i < s.n_mine; i++)
                r = put_delrule(&nb, &s.mine[i]);
        /* Nothing of anyone else left: the table goes too. */
        if (r == 0 && !s.others)
                r = put_table(&nb, NFT_MSG_DELTABLE, 0);
        free(s.mine);
        if (r == 0)
                r = batch_send(&nb);
        if (r < 0 && r != -ENOENT)
                return gk_error_make(err, -r, "nftables: remove rules from table `ip %s`",
                                     GK_NET_TABLE);
        return 0;
}
