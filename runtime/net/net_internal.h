/* gkrun-net, the networking program gkrun calls at create and delete
 * (include/gk/net_contract.h is the seam): the configuration read from the
 * bundle's annotations, the record kept in the state directory, and the
 * pieces each file owns (links, leases, nftables rules, /etc files).
 * This folder uses lib/ and include/gk/ only, never runtime/'s files;
 * nothing outside it but its unit test includes this. */
#ifndef GK_RUNTIME_NET_INTERNAL_H
#define GK_RUNTIME_NET_INTERNAL_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "gk/annotations.h"
#include "gk/error.h"
#include "gk/net_contract.h"
#include "gk/spec.h"
#include "gk/units.h"

#define GK_NET_DEFAULT_BRIDGE "gk0"
#define GK_NET_DEFAULT_SUBNET "172.29.0.0/16"

/* Host-wide: leases and the lock are shared by every gkrun, whatever its
 * --root, because bridges, addresses and the nft table are host-wide. */
#define GK_NET_RUN_DIR "/run/gkrun-net"
#define GK_NET_LEASE_DIR GK_NET_RUN_DIR "/leases"
#define GK_NET_FILES_DIR GK_NETCALL_FILES_DIR
/* localnet/BRIDGE: gkrun turned route_localnet on for BRIDGE */
#define GK_NET_LOCALNET_DIR GK_NET_RUN_DIR "/localnet"

/* The bridges gkrun creates carry this alias: only those are removed
 * again (a user's own bridge named in the annotation is left alone). */
#define GK_NET_BRIDGE_ALIAS "gkrun bridge"
#define GK_NET_TABLE "gk"
#define GK_NET_TAG_LEN GK_NETCALL_TAG_LEN /* hex digits */
#define GK_NET_MAX_PORTS 64
#define GK_NET_MAX_DNS 3

enum gk_net_mode {
        GK_NET_UNSET, /* no annotation: gkrun touches no network */
        GK_NET_NONE,  /* own namespace with lo only */
        GK_NET_HOST,  /* the host's network (no network namespace) */
        GK_NET_BRIDGE,
};

/* A published port: gk_port_map (gk/units.h, the one parser of
 * HOST:CONTAINER[/tcp|udp]) */
typedef gk_port_map gk_net_port;

/* What the annotations ask for (also what the record keeps). */
typedef struct gk_net_conf {
        enum gk_net_mode mode;
        char bridge[IFNAMSIZ];
        struct in_addr subnet; /* network address */
        unsigned prefix;
        gk_net_port ports[GK_NET_MAX_PORTS];
        size_t n_ports;
        struct in_addr dns[GK_NET_MAX_DNS];
        size_t n_dns;
} gk_net_conf;

/* The record kept in the state directory: everything del needs. */
typedef struct gk_net_rec {
        gk_net_conf conf;
        char tag[GK_NET_TAG_LEN + 1]; /* names the veth, rules, lease and files */
        struct in_addr ip, gw;        /* ip 0 until the lease is taken */
} gk_net_rec;

/* What gkrun tells gkrun-net (include/gk/net_contract.h). */
typedef struct gk_net_req {
        const char *id, *state_dir, *netns, *tag, *hostname;
        const char *old_record; /* del: an older gkrun's in-state record */
        gk_kv *ann;
        size_t n_ann;
        gk_kv *devices; /* netdev: host name -> name in the container ("": the same) */
        size_t n_devices;
} gk_net_req;

/* net_add.c: the two commands.  add prints its result into *RESULT
 * (malloc'd JSON); on failure it has undone what it made.  del removes
 * every piece the record names; a missing piece is not an error. */
int gk_net_add(const gk_net_req *req, char **result, gk_error **err);
int gk_net_del(const gk_net_req *req, gk_error **err);

/* net_netdev.c: the netdev command (linux.netDevices): moves each of
 * REQ's devices into REQ->netns; on failure gives back those it moved.
 * *RESULT: {"devices": {HOST_NAME: NAME_IN_THE_CONTAINER}}. */
int gk_net_netdev(const gk_net_req *req, char **result, gk_error **err);

/* net.c: annotations and the record */
int gk_net_conf_parse(const gk_kv *ann, size_t n, gk_net_conf *conf, gk_error **err);
int gk_net_parse_ports(const char *s, gk_net_conf *conf, gk_error **err);
int gk_net_parse_subnet(const char *s, struct in_addr *net, unsigned *prefix, gk_error **err);
int gk_net_rec_format(const gk_net_rec *r, char **out);
int gk_net_rec_parse(const char *s, gk_net_rec *r, gk_error **err);
bool gk_net_valid_ifname(const char *s);
/* "gk" + tag: the host end of the container's veth. */
void gk_net_veth_name(const char *tag, char out[IFNAMSIZ]);
/* The host-wide lock every step that changes leases, links or rules
 * holds (flock on GK_NET_RUN_DIR/lock); returns the fd to close. */
int gk_net_lock(gk_error **err);

/* net_link.c: rtnetlink.  NETNS is an fd of the container's network
 * namespace. */
int gk_link_bridge_ensure(const char *name, struct in_addr gw, unsigned prefix, gk_error **err);
/* veth HOST_NAME on BRIDGE (up, hairpin), its peer created as eth0 in
 * NETNS. */
int gk_link_veth_create(const char *host_name, const char *bridge, int netns, gk_error **err);
/* Inside NETNS: eth0 gets IP/PREFIX, goes up, and the default route goes
 * via GW (lo the init has set up itself). */
int gk_link_setup_netns(int netns, struct in_addr ip, unsigned prefix, struct in_addr gw,
                        gk_error **err);
/* Deletes link NAME; a missing link is not an error. */
int gk_link_delete(const char *name, gk_error **err);
/* Deletes bridge NAME if gkrun created it and no port is left.  Returns
 * 1 when no port is left (or the bridge is gone), 0 while it is used. */
int gk_link_bridge_release(const char *name, gk_error **err);

/* net_ipam.c: address leases (caller holds gk_net_lock).  A lease
 * belongs to the container with state directory STATE_DIR whose init is
 * PID (alive while PID has the start time it had at add). */
int gk_ipam_lease(const char *state_dir, pid_t pid, const gk_net_rec *r, struct in_addr *out,
                  gk_error **err);
/* Removes the lease of IP if it still belongs to STATE_DIR. */
int gk_ipam_release(const char *state_dir, struct in_addr ip, gk_error **err);
/* The gateway: the subnet's first address. */
struct in_addr gk_ipam_gateway(struct in_addr subnet);

/* net_nft.c: the `ip gk` table (caller holds gk_net_lock) */
int gk_nft_add(const gk_net_rec *r, const char *id, gk_error **err);
/* Removes the rules tagged TAG; the table when no rule is left. */
int gk_nft_remove(const char *tag, gk_error **err);

/* net_files.c: /etc/hosts, /etc/hostname, /etc/resolv.conf */
/* Writes them into GK_NET_FILES_DIR/TAG (gkrun mounts them);
 * HOSTNAME NULL or empty: the host's. */
int gk_net_files_setup(const char *hostname, const gk_net_rec *r, gk_error **err);
/* Removes GK_NET_FILES_DIR/TAG; missing is not an error. */
int gk_net_files_remove(const char *tag, gk_error **err);
/* resolv.conf text from the host's file and the configured servers
 * (pure: unit tested). */
char *gk_net_resolv_conf(const char *host_text, const gk_net_conf *conf);

#endif
