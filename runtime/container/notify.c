/* NOTIFY_SOCKET: the container's own sd_notify socket and the relay of its
 * READY= to the caller's socket (see notify.h for the order of calls). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "container/notify.h"
#include "container/state.h"
#include "gk/cleanup.h"
#include "gk/util.h"

/* systemd answers a barrier at once; runc gives up after 30 s. */
#define BARRIER_TIMEOUT_MS 30000
#define WATCH_INTERVAL_MS 100

const char *gk_notify_host(void)
{
        const char *s = getenv("NOTIFY_SOCKET");

        return s && *s ? s : NULL;
}

static int add_env(gk_process *p, gk_error **err)
{
        if (gk_env_set(&p->env, &p->n_env, "NOTIFY_SOCKET=" GK_NOTIFY_SOCKET) < 0)
                return gk_error_make(err, ENOMEM, "notify socket");
        return 0;
}

/* The mount runc adds: ROOT/ID/notify on /run/notify, bind, read-only. */
static int add_mount(gk_spec *s, const char *dir, gk_error **err)
{
        static const char *const opts[] = { "bind", "nosuid", "noexec", "nodev", "ro" };
        gk_mount *m = gk_mounts_add(&s->mounts, &s->n_mounts);

        if (!m)
                return gk_error_make(err, ENOMEM, "notify socket");
        /* from here on gk_spec_free owns what is put in it */
        *m = (gk_mount){
                .destination = strdup(GK_NOTIFY_DIR),
                .source = strdup(dir),
                .options = calloc(ARRAY_SIZE(opts) + 1, sizeof(char *)),
                .bind = true,
                .flags = MS_BIND | MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY,
        };
        if (!m->destination || !m->source || !m->options)
                return gk_error_make(err, ENOMEM, "notify socket");
        for (size_t i = 0; i < ARRAY_SIZE(opts); i++) {
                if (!(m->options[i] = strdup(opts[i])))
                        return gk_error_make(err, ENOMEM, "notify socket");
                m->n_options++;
        }
        return 0;
}

int gk_notify_prepare(gk_container *c, gk_error **err)
{
        _cleanup_free_ char *dir = NULL;

        if (!gk_notify_host() || !c->spec->process)
                return 0;
        dir = gk_state_path(c->g->root, c->id, "notify");
        if (!dir)
                return gk_error_make(err, ENOMEM, "notify socket");
        if (mkdir(dir, 0755) < 0 && errno != EEXIST)
                return gk_error_errno(err, "notify socket: create `%s`", dir);
        if (add_mount(c->spec, dir, err) < 0 || add_env(c->spec->process, err) < 0)
                return gk_error_code(*err);
        return 0;
}

int gk_notify_listen(const char *root, const char *id, int *out, gk_error **err)
{
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int dfd = -1, fd = -1;
        struct sockaddr_un sa = { .sun_family = AF_UNIX };

        *out = -1;
        if (!gk_notify_host())
                return 0;
        dir = gk_state_path(root, id, "notify");
        if (!dir)
                return gk_error_make(err, ENOMEM, "notify socket");
        dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return 0; /* created without NOTIFY_SOCKET: nothing listens inside */
        /* Through the directory fd: ROOT/ID/notify/notify.sock can be longer
         * than sun_path. */
        snprintf(sa.sun_path, sizeof(sa.sun_path), "/proc/self/fd/%d/notify.sock", dfd);
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return gk_error_errno(err, "notify socket");
        unlinkat(dfd, "notify.sock", 0);
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return gk_error_errno(err, "notify socket: bind `%s/notify.sock`", dir);
        /* Any user of the container may notify, as with systemd's socket. */
        if (fchmodat(dfd, "notify.sock", 0777, 0) < 0)
                return gk_error_errno(err, "notify socket: chmod `%s/notify.sock`", dir);
        *out = TAKE_FD(fd);
        return 0;
}

static bool watched_alive(pid_t pid)
{
        _cleanup_free_ char *stat = NULL;
        char path[64], *paren;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int) pid);
        if (gk_read_file(path, &stat, NULL, NULL) < 0)
                return false;
        /* "PID (COMM) STATE ...": a zombie has finished. */
        paren = strrchr(stat, ')');
        return paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X' && paren[2] != '\0';
}

/* Reads datagrams until one holds a READY= line (copied to LINE), or WATCH
 * is gone: 1, or 0. */
static int wait_ready(int fd, pid_t watch, char *line, size_t size)
{
        char buf[4096];

        for (;;) {
                struct pollfd p = { fd, POLLIN, 0 };
                ssize_t n;

                if (poll(&p, 1, WATCH_INTERVAL_MS) <= 0) {
                        if (!watched_alive(watch))
                                return 0;
                        continue;
                }
                n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
                if (n <= 0)
                        continue;
                buf[n] = '\0';
                for (char *save = NULL, *l = strtok_r(buf, "\n", &save); l;
                     l = strtok_r(NULL, "\n", &save))
                        if (!strncmp(l, "READY=", 6)) {
                                snprintf(line, size, "%s\n", l);
                                return 1;
                        }
        }
}

static int connect_host(const char *host, gk_error **err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len = strlen(host);
        _cleanup_close_ int fd = -1;

        if (len >= sizeof(sa.sun_path))
                return gk_error_make(err, ENAMETOOLONG, "NOTIFY_SOCKET `%s`", host);
        memcpy(sa.sun_path, host, len);
        if (sa.sun_path[0] == '@') /* abstract, as sd_notify spells it */
                sa.sun_path[0] = '\0';
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return gk_error_errno(err, "NOTIFY_SOCKET");
        if (connect(fd, (struct sockaddr *) &sa,
                    (socklen_t) (offsetof(struct sockaddr_un, sun_path) + len)) < 0)
                return gk_error_errno(err, "NOTIFY_SOCKET `%s`", host);
        return TAKE_FD(fd);
}

/* sd_notify_barrier: BARRIER=1 with a pipe's write end; the receiver has
 * processed everything before it once the pipe reads EOF. */
static int barrier(int fd, gk_error **err)
{
        _cleanup_close_ int rd = -1, wr = -1;
        char cbuf[CMSG_SPACE(sizeof(int))] = { 0 }, msg[] = "BARRIER=1";
        struct iovec iov = { msg, sizeof(msg) - 1 };
        struct msghdr mh = { .msg_iov = &iov,
                             .msg_iovlen = 1,
                             .msg_control = cbuf,
                             .msg_controllen = sizeof(cbuf) };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
        struct pollfd p;
        int pipefd[2];

        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return gk_error_errno(err, "NOTIFY_SOCKET: barrier");
        rd = pipefd[0];
        wr = pipefd[1];
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &wr, sizeof(int));
        if (sendmsg(fd, &mh, MSG_NOSIGNAL) < 0)
                return gk_error_errno(err, "NOTIFY_SOCKET: barrier");
        close(TAKE_FD(wr));
        p = (struct pollfd){ rd, POLLIN, 0 };
        /* A receiver that ignores barriers lets it time out: not an error. */
        poll(&p, 1, BARRIER_TIMEOUT_MS);
        return 0;
}

static int forward(const char *ready, pid_t mainpid, gk_error **err)
{
        _cleanup_close_ int fd = connect_host(gk_notify_host(), err);
        char pidline[32];

        if (fd < 0)
                return fd;
        snprintf(pidline, sizeof(pidline), "MAINPID=%d\n", (int) mainpid);
        if (send(fd, ready, strlen(ready), MSG_NOSIGNAL) < 0 ||
            send(fd, pidline, strlen(pidline), MSG_NOSIGNAL) < 0)
                return gk_error_errno(err, "NOTIFY_SOCKET `%s`", gk_notify_host());
        return barrier(fd, err);
}

int gk_notify_relay(int fd, pid_t watch, pid_t mainpid, gk_error **err)
{
        _cleanup_close_ int sock = fd;
        char line[256];

        if (sock < 0 || !wait_ready(sock, watch, line, sizeof(line)))
                return 0;
        return forward(line, mainpid, err);
}

typedef struct relay_args {
        int fd;
        pid_t watch, mainpid;
} relay_args;

static void *relay_main(void *arg)
{
        relay_args a = *(relay_args *) arg;

        free(arg);
        /* Nobody waits for this thread to report: the container runs on. */
        gk_notify_relay(a.fd, a.watch, a.mainpid, NULL);
        return NULL;
}

int gk_notify_relay_thread(int fd, pid_t watch, pid_t mainpid, gk_error **err)
{
        relay_args *a;
        pthread_t t;
        pthread_attr_t attr;
        sigset_t all, old;
        int r;

        if (fd < 0)
                return 0;
        a = malloc(sizeof(*a));
        if (!a) {
                close(fd);
                return gk_error_make(err, ENOMEM, "notify relay");
        }
        *a = (relay_args){ fd, watch, mainpid };
        /* The thread starts with every signal blocked, so that none meant
         * for the signalfd of the foreground wait is delivered to it. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        r = pthread_create(&t, &attr, relay_main, a);
        pthread_attr_destroy(&attr);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        if (r != 0) {
                close(fd);
                free(a);
                return gk_error_make(err, r, "notify relay");
        }
        return 0;
}
