/* The seam between gkrun and gkrun-net, its networking program
 * (runtime/net/, bundle-spec/networking.md "gkrun-net"): what both sides
 * must spell the same.
 *
 *   gkrun-net add|del|netdev   request on stdin, one answer on stdout
 *
 * The request is a JSON object:
 *   "gkrunVersion"  gkrun's version: gkrun-net refuses any other than its own
 *   "id"            the container's id
 *   "stateDir"      the container's state directory: gkrun-net keeps its
 *                   record there (GK_NETCALL_RECORD) and nothing else
 *   "netns"         add: /proc/PID/ns/net of the container's init
 *   "tag"           add: 10 hex digits gkrun chose; names the container's
 *                   network pieces (veth gkTAG, rules, lease, files)
 *   "hostname"      add: the container's hostname, if config.json sets one
 *   "annotations"   add: config.json's org.gk.net.* annotations
 *   "record"        del, optional: the networking record a gkrun from
 *                   before gkrun-net kept in state.json, used when the
 *                   state directory has no record of gkrun-net's
 * netdev (linux.netDevices, bundle-spec/netdevices.md) is asked with
 *   "gkrunVersion", "netns" (the path of the container's network namespace)
 *   "devices"       {HOST_NAME: NAME_IN_THE_CONTAINER, or "" to keep it}
 * and answers {"devices": {HOST_NAME: NAME_IT_GOT}}.
 * The answer is a JSON object: on success (exit 0) add's result (mode,
 * tag, interface, ip, gateway, bridge, files), del's {}; on failure (exit
 * 1) {"error": MESSAGE}. */
#ifndef GK_NET_CONTRACT_H
#define GK_NET_CONTRACT_H

#define GK_NETCALL_PROGRAM "gkrun-net"
#define GK_NETCALL_TAG_LEN 10
/* add writes the container's hosts, hostname and (bridge) resolv.conf
 * here; gkrun bind-mounts them (added to the spec before the clone, made
 * by add before the init is released).  Not in the state directory: in a
 * user namespace the container's root cannot search the state root. */
#define GK_NETCALL_FILES_DIR "/run/gkrun-net/files"
/* gkrun-net's record in the state directory */
#define GK_NETCALL_RECORD "net.record"

#endif
