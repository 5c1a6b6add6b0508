/* Optional container networking (bridge + veth + address + NAT + published
 * ports), asked for by the bundle's annotations (bundle-spec/annotations.md).
 * Without the annotation none of these touch any network. */
#ifndef GK_RUNTIME_NET_H
#define GK_RUNTIME_NET_H

#include "container.h"
#include "gk/error.h"

/* Before clone: leases an address and writes the container's
 * /etc/hosts, /etc/hostname and /etc/resolv.conf into its state
 * directory, appending their bind mounts to c->spec->mounts (the init is
 * a copy of this memory).  *record (malloc'd, may stay NULL) is saved in
 * the state and is all gk_net_teardown needs. */
int gk_net_prepare(gk_container *c, char **record, gk_error **err);

/* After clone, before the init is released: bridge, veth into the init's
 * network namespace (c->pid) as eth0, addresses, routes, lo up, nft rules. */
int gk_net_attach(gk_container *c, const char *record, gk_error **err);

/* On delete (and rollback of a failed create): removes the veth, the
 * lease, the container's rules; the bridge and table when unused.  A
 * missing piece is not an error: it may be run after a crash. */
int gk_net_teardown(const char *root, const char *id, const char *record, gk_error **err);

#endif
