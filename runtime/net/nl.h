/* gkrun-net's rtnetlink socket (libmnl), shared by the files that talk to
 * the kernel's links: net_link.c (the bridge networking) and net_netdev.c
 * (linux.netDevices). */
#ifndef GK_RUNTIME_NET_NL_H
#define GK_RUNTIME_NET_NL_H

#include <libmnl/libmnl.h>

#include "gk/error.h"

#define NL_BUF 16384

typedef struct nl {
        struct mnl_socket *sock;
        unsigned seq, portid;
} nl_t;

int nl_open(nl_t *nl, gk_error **err);
/* A socket of network namespace NETNS (an fd): it acts there. */
int nl_open_netns(nl_t *nl, int netns, gk_error **err);
void nl_close(nl_t *nl);
/* Sends NLH and reads the answer up to its ack (or the end of a dump of
 * links or addresses), passing data messages to CB.  0 or -errno. */
int nl_talk(nl_t *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data);

#endif
