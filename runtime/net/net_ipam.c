/* Address leases: one file per leased address, GK_NET_LEASE_DIR/<ip>,
 * holding "STATEDIR\nTAG\nPID START\n" (the state directory of its
 * container, the tag of its veth, rules and files, its init's pid and
 * start time).  A lease appears whole or not at
 * all: it is written to a temporary file and link(2)ed to its name, which
 * fails with EEXIST when taken, so two creates never share an address
 * even without the host-wide lock the callers hold.
 *
 * A lease whose container is gone (no state directory, or its init has
 * died: a stopped container gives its address back) is reclaimed, with
 * what is left of the old container's rules, veth and files.  Its init is
 * alive for as long as its create runs: `delete --force` frees what a
 * crashed create leased. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "net/net_internal.h"

struct in_addr gk_ipam_gateway(struct in_addr subnet)
{
        return (struct in_addr){ htonl(ntohl(subnet.s_addr) + 1) };
}

typedef struct lease {
        char *text; /* owns the strings below */
        char *state_dir, *tag, *init;
} lease;

static void lease_clear(lease *l)
{
        free(l->text);
        *l = (lease){ 0 };
}

/* -ENOENT when there is no lease; -EBADMSG when it is not ours to read. */
static int lease_read(int dfd, const char *name, lease *l)
{
        size_t len;
        char *save = NULL;
        gk_error *e = NULL;

        *l = (lease){ 0 };
        if (gk_read_file_at(dfd, name, &l->text, &len, &e) < 0) {
                int r = gk_error_code(e);
                gk_error_free(e);
                return r;
        }
        l->state_dir = strtok_r(l->text, "\n", &save);
        l->tag = strtok_r(NULL, "\n", &save);
        l->init = strtok_r(NULL, "\n", &save);
        if (!l->state_dir || !l->tag || !l->init) {
                lease_clear(l);
                return -EBADMSG;
        }
        return 0;
}

/* Field 22 of /proc/PID/stat (counted after the command name, which may
 * hold anything but ends at the last ')'), 0 when PID is gone or a zombie
 * (a killed init nobody has reaped yet is a stopped container). */
static unsigned long long start_time(pid_t pid)
{
        _cleanup_free_ char *text = NULL;
        char path[64], *p, *save = NULL;
        size_t len;
        int field = 3;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        if (pid <= 0 || gk_read_file(path, &text, &len, NULL) < 0 || !(p = strrchr(text, ')')))
                return 0;
        for (p = strtok_r(p + 1, " ", &save); p; p = strtok_r(NULL, " ", &save), field++)
                if (field == 3 && (*p == 'Z' || *p == 'X'))
                        return 0;
                else if (field == 22)
                        return strtoull(p, NULL, 10);
        return 0;
}

/* A lease of a gkrun from before gkrun-net: "ROOT\nID\nTAG\n", read
 * here as state_dir ROOT, tag ID, init TAG. */
static bool old_format(const lease *l)
{
        return !strchr(l->init, ' ');
}

/* An old lease's container: ROOT/ID. */
static char *old_owner(const lease *l)
{
        char *dir = NULL;

        return asprintf(&dir, "%s/%s", l->state_dir, l->tag) < 0 ? NULL : dir;
}

static bool container_gone(const lease *l)
{
        _cleanup_free_ char *old = old_format(l) ? old_owner(l) : NULL;
        unsigned long long want;
        int pid;
        struct stat sb;

        if (stat(old ? old : l->state_dir, &sb) < 0)
                return errno == ENOENT;
        if (old || sscanf(l->init, "%d %llu", &pid, &want) != 2)
                return false;
        return start_time(pid) != want;
}

/* What a crashed or vanished container left holding this address. */
static void reclaim(int dfd, const char *name, const lease *l)
{
        _cleanup_(gk_error_freep) gk_error *e1 = NULL, *e2 = NULL;
        const char *tag = old_format(l) ? l->init : l->tag;
        char veth[IFNAMSIZ];

        gk_net_veth_name(tag, veth);
        gk_link_delete(veth, &e1);
        gk_nft_remove(tag, &e2);
        gk_net_files_remove(tag, &e2);
        unlinkat(dfd, name, 0);
}

static int try_take(int dfd, const char *tmp, const char *name)
{
        lease old;
        int r;

        if (linkat(dfd, tmp, dfd, name, 0) == 0)
                return 0;
        if (errno != EEXIST)
                return -errno;
        r = lease_read(dfd, name, &old);
        if (r == -ENOENT) /* released meanwhile */
                return linkat(dfd, tmp, dfd, name, 0) == 0 ? 0 : -errno;
        if (r < 0 || !container_gone(&old)) {
                if (r == 0)
                        lease_clear(&old);
                return -EEXIST;
        }
        reclaim(dfd, name, &old);
        lease_clear(&old);
        return linkat(dfd, tmp, dfd, name, 0) == 0 ? 0 : -errno;
}

static int write_tmp(int dfd, const char *tmp, const char *state_dir, const char *tag, pid_t pid,
                     gk_error **err)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_close_ int fd = -1;
        int n = asprintf(&text, "%s\n%s\n%d %llu\n", state_dir, tag, (int) pid, start_time(pid));

        if (n < 0)
                return gk_error_make(err, ENOMEM, "lease");
        unlinkat(dfd, tmp, 0);
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || gk_write_all(fd, text, (size_t) n) < 0)
                return gk_error_errno(err, "write lease `%s/%s`", GK_NET_LEASE_DIR, tmp);
        return 0;
}

static int open_lease_dir(gk_error **err)
{
        int fd;

        if (gk_mkdir_p(GK_NET_LEASE_DIR, 0700, err) < 0)
                return gk_error_code(*err);
        fd = open(GK_NET_LEASE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return gk_error_errno(err, "open `%s`", GK_NET_LEASE_DIR);
        return fd;
}

/* Takes the lowest free address after the gateway. */
static int scan(int dfd, const char *tmp, const gk_net_rec *r, struct in_addr *out, gk_error **err)
{
        uint32_t base = ntohl(r->conf.subnet.s_addr), hosts = 1U << (32 - r->conf.prefix);

        for (uint32_t h = 2; h < hosts - 1; h++) {
                struct in_addr ip = { htonl(base + h) };
                char name[INET_ADDRSTRLEN];
                int ret;

                inet_ntop(AF_INET, &ip, name, sizeof(name));
                ret = try_take(dfd, tmp, name);
                if (ret == 0) {
                        *out = ip;
                        return 0;
                }
                if (ret != -EEXIST)
                        return gk_error_make(err, -ret, "lease `%s/%s`", GK_NET_LEASE_DIR, name);
        }
        return gk_error_make(err, 0, "subnet %s/%u: no free address left",
                             inet_ntoa(r->conf.subnet), r->conf.prefix);
}

int gk_ipam_lease(const char *state_dir, pid_t pid, const gk_net_rec *r, struct in_addr *out,
                  gk_error **err)
{
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int dfd = open_lease_dir(err);
        int ret;

        if (dfd < 0)
                return dfd;
        if (asprintf(&tmp, ".tmp-%s", r->tag) < 0)
                return gk_error_make(err, ENOMEM, "lease");
        ret = write_tmp(dfd, tmp, state_dir, r->tag, pid, err);
        if (ret == 0)
                ret = scan(dfd, tmp, r, out, err);
        unlinkat(dfd, tmp, 0);
        return ret;
}

/* Removes lease NAME if it belongs to STATE_DIR. */
static int release_one(int dfd, const char *name, const char *state_dir, gk_error **err)
{
        _cleanup_free_ char *old = NULL;
        lease l;
        bool ours;

        if (lease_read(dfd, name, &l) < 0)
                return 0;
        old = old_format(&l) ? old_owner(&l) : NULL;
        ours = !strcmp(old ? old : l.state_dir, state_dir);
        lease_clear(&l);
        if (ours && unlinkat(dfd, name, 0) < 0 && errno != ENOENT)
                return gk_error_errno(err, "remove lease `%s/%s`", GK_NET_LEASE_DIR, name);
        return 0;
}

/* IP 0: the record was written before the lease was taken, and a crash
 * came between the two; the container's lease is found by its owner. */
int gk_ipam_release(const char *state_dir, struct in_addr ip, gk_error **err)
{
        _cleanup_close_ int dfd = open(GK_NET_LEASE_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_closedir_ DIR *d = NULL;
        int dd;
        char name[INET_ADDRSTRLEN];
        struct dirent *de;

        if (dfd < 0)
                return errno == ENOENT ? 0 : gk_error_errno(err, "open `%s`", GK_NET_LEASE_DIR);
        if (ip.s_addr) {
                inet_ntop(AF_INET, &ip, name, sizeof(name));
                return release_one(dfd, name, state_dir, err);
        }
        dd = fcntl(dfd, F_DUPFD_CLOEXEC, 0);
        if (dd < 0 || !(d = fdopendir(dd))) {
                int r = gk_error_errno(err, "read `%s`", GK_NET_LEASE_DIR);
                if (dd >= 0)
                        close(dd);
                return r;
        }
        while ((de = readdir(d)))
                if (de->d_name[0] != '.' && release_one(dfd, de->d_name, state_dir, err) < 0)
                        return gk_error_code(*err);
        return 0;
}
