/* gkrun's side of the networking seam: the org.gk.net.* annotations are
 * done by a separate program, gkrun-net (runtime/net/, the contract in
 * include/gk/net_contract.h), called once at create and once at delete. */
#ifndef GK_RUNTIME_NETCALL_H
#define GK_RUNTIME_NETCALL_H

#include <stdbool.h>

#include "container/container.h"
#include "gk/error.h"
#include "gk/spec.h"

/* Whether annotations ANN (N of them) ask for networking: any org.gk.net.*. */
bool gk_netcall_wanted(const gk_kv *ann, size_t n);

/* Before the clone, when c->netcall: checks that the spec has the network
 * namespace the mode needs, that gkrun-net is there, chooses the tag and
 * appends the bind mounts of the /etc files add will write (the init is a
 * copy of this memory, and mounts them only once released).  Makes
 * nothing on the host. */
int gk_netcall_prepare(gk_container *c, gk_error **err);

/* After the clone, before the init is released: gkrun-net add.  Its
 * result (JSON) goes into c->net, for the state. */
int gk_netcall_add(gk_container *c, gk_error **err);

/* gkrun-net del for container ID of state root ROOT: at delete, and on
 * the rollback of a failed create.  Nothing to remove is success.  NET is
 * the state's "net" (or NULL): a container made by a gkrun from before
 * gkrun-net has its networking record there, which del is given. */
int gk_netcall_del(const char *root, const char *id, const char *net, gk_error **err);

/* linux.netDevices, before the clone: the container has a network
 * namespace (new or joined), each host interface exists, gkrun-net is
 * there.  Makes nothing. */
int gk_netcall_netdev_check(const gk_container *c, gk_error **err);

/* After the clone, before the init is released: gkrun-net netdev moves
 * the devices into the container's network namespace (and, failing, gives
 * back those it moved).  Nothing is done at delete: the namespace's end
 * returns physical devices to the host, and ends virtual ones
 * (bundle-spec/netdevices.md). */
int gk_netcall_netdev(gk_container *c, gk_error **err);

#endif
