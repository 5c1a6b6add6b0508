/* The container's /etc/hosts, /etc/hostname and (bridge mode)
 * /etc/resolv.conf: written into GK_NET_FILES_DIR/TAG, which gkrun
 * bind-mounts over the rootfs's files (runtime/container/netcall.c, where a mount the
 * config already has for one of these paths wins). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/util.h"
#include "net/net_internal.h"

/* Docker's fallback when the host has no usable resolver. */
static const char *const fallback_dns[] = { "8.8.8.8", "8.8.4.4" };

/* A host resolver the container cannot reach: loopback (a local stub
 * like systemd-resolved's 127.0.0.53 is the host's own, not the
 * container's) and IPv6 (the bridge is IPv4 only). */
static bool unreachable_ns(const char *addr)
{
        return gk_str_has_prefix(addr, "127.") || strchr(addr, ':');
}

static void host_lines(FILE *f, const char *host_text, const gk_net_conf *conf, size_t *n_ns)
{
        _cleanup_free_ char *copy = strdup(host_text ? host_text : "");
        char *save = NULL;

        for (char *line = copy ? strtok_r(copy, "\n", &save) : NULL; line;
             line = strtok_r(NULL, "\n", &save)) {
                char word[16], addr[64];

                if (sscanf(line, " %15s", word) != 1)
                        continue;
                if (!strcmp(word, "nameserver")) {
                        if (conf->n_dns || sscanf(line, " nameserver %63s", addr) != 1 ||
                            unreachable_ns(addr) || *n_ns >= GK_NET_MAX_DNS)
                                continue;
                        fprintf(f, "nameserver %s\n", addr);
                        (*n_ns)++;
                } else if (!strcmp(word, "search") || !strcmp(word, "domain") ||
                           !strcmp(word, "options")) {
                        fprintf(f, "%s\n", line);
                }
        }
}

char *gk_net_resolv_conf(const char *host_text, const gk_net_conf *conf)
{
        char *buf = NULL;
        size_t size = 0, n_ns = 0;
        FILE *f = open_memstream(&buf, &size);

        if (!f)
                return NULL;
        for (size_t i = 0; i < conf->n_dns; i++) {
                char addr[INET_ADDRSTRLEN];

                fprintf(f, "nameserver %s\n",
                        inet_ntop(AF_INET, &conf->dns[i], addr, sizeof(addr)));
                n_ns++;
        }
        host_lines(f, host_text, conf, &n_ns);
        for (size_t i = 0; !n_ns && i < ARRAY_SIZE(fallback_dns); i++)
                fprintf(f, "nameserver %s\n", fallback_dns[i]);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* The files live in GK_NET_FILES_DIR/TAG, not in the state directory:
 * in a user namespace the init mounts them as the container's root, who
 * may not search the state root (0700, the host root's).  Every directory
 * on the way is 0711 and the files are world-readable (nothing secret). */
static int files_dir(const char *tag, char **out, gk_error **err)
{
        struct stat st;

        if (gk_mkdir_p(GK_NET_FILES_DIR, 0711, err) < 0)
                return gk_error_code(*err);
        if (stat(GK_NET_RUN_DIR, &st) == 0 && (st.st_mode & 0111) != 0111 &&
            chmod(GK_NET_RUN_DIR, 0711) < 0)
                return gk_error_errno(err, "chmod `%s`", GK_NET_RUN_DIR);
        if (asprintf(out, "%s/%s", GK_NET_FILES_DIR, tag) < 0)
                return gk_error_make(err, ENOMEM, "network files");
        if (mkdir(*out, 0711) < 0 && errno != EEXIST)
                return gk_error_errno(err, "create `%s`", *out);
        return 0;
}

int gk_net_files_remove(const char *tag, gk_error **err)
{
        _cleanup_close_ int dfd = open(GK_NET_FILES_DIR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (dfd < 0)
                return errno == ENOENT ? 0 : gk_error_errno(err, "open `%s`", GK_NET_FILES_DIR);
        return gk_rm_rf_at(dfd, tag, err);
}

static int install(const char *dir, const char *name, const char *text, gk_error **err)
{
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return gk_error_make(err, ENOMEM, "/etc/%s", name);
        return gk_write_file_atomic(path, text, strlen(text), 0644, false, err);
}

static char *hosts_text(const gk_net_rec *r, const char *hostname)
{
        char ip[INET_ADDRSTRLEN], *text = NULL;
        int n;

        if (r->conf.mode == GK_NET_BRIDGE)
                n = asprintf(
                        &text,
                        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n%s\t%s\n",
                        inet_ntop(AF_INET, &r->ip, ip, sizeof(ip)), hostname);
        else
                n = asprintf(
                        &text,
                        "127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback\n",
                        hostname);
        return n < 0 ? NULL : text;
}

int gk_net_files_setup(const char *name, const gk_net_rec *r, gk_error **err)
{
        _cleanup_free_ char *hosts = NULL, *hostname_line = NULL, *resolv = NULL,
                            *host_resolv = NULL, *dir = NULL;
        char hostname[256] = "localhost";
        size_t len;

        /* What `hostname` will say inside: the config's, else the host's
         * (a new UTS namespace starts as a copy). */
        if (name && name[0])
                snprintf(hostname, sizeof(hostname), "%s", name);
        else if (gethostname(hostname, sizeof(hostname) - 1) < 0)
                snprintf(hostname, sizeof(hostname), "localhost");
        hosts = hosts_text(r, hostname);
        if (!hosts || asprintf(&hostname_line, "%s\n", hostname) < 0)
                return gk_error_make(err, ENOMEM, "/etc/hosts");
        if (files_dir(r->tag, &dir, err) < 0 || install(dir, "hosts", hosts, err) < 0 ||
            install(dir, "hostname", hostname_line, err) < 0)
                return gk_error_code(*err);
        if (r->conf.mode != GK_NET_BRIDGE)
                return 0;
        if (gk_read_file("/etc/resolv.conf", &host_resolv, &len, NULL) < 0)
                host_resolv = NULL;
        if (!(resolv = gk_net_resolv_conf(host_resolv, &r->conf)))
                return gk_error_make(err, ENOMEM, "/etc/resolv.conf");
        return install(dir, "resolv.conf", resolv, err);
}
