/* The parent/child sync protocol (see sync.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "sync/sync.h"

struct gk_sync_msg {
        uint32_t type;
        int32_t arg; /* GK_SYNC_ERROR: the errno; GK_SYNC_PID: the pid */
        char text[4000];
};

static const char *type_name(uint32_t t)
{
        switch (t) {
        case GK_SYNC_GO:
                return "go";
        case GK_SYNC_HOOKS:
                return "hooks";
        case GK_SYNC_HOOKS_DONE:
                return "hooks-done";
        case GK_SYNC_READY:
                return "ready";
        case GK_SYNC_START:
                return "start";
        case GK_SYNC_ERROR:
                return "error";
        case GK_SYNC_PID:
                return "pid";
        case GK_SYNC_STATE:
                return "state";
        case GK_SYNC_EXEC:
                return "exec";
        case GK_SYNC_MOUNTS:
                return "mounts";
        }
        return "unknown";
}

int gk_sync_send(int fd, enum gk_sync_type type)
{
        struct gk_sync_msg m = { .type = type };

        for (;;) {
                if (send(fd, &m, offsetof(struct gk_sync_msg, text), MSG_NOSIGNAL) >= 0)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

int gk_sync_send_fds(int fd, enum gk_sync_type type, const int *fds, size_t n)
{
        struct gk_sync_msg m = { .type = type };
        struct iovec iov = { .iov_base = &m, .iov_len = offsetof(struct gk_sync_msg, text) };
        union {
                char buf[CMSG_SPACE(sizeof(int) * GK_SYNC_MAX_FDS)];
                struct cmsghdr align;
        } ctl;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        struct cmsghdr *cm;

        if (n > GK_SYNC_MAX_FDS)
                return -E2BIG;
        if (n) {
                memset(&ctl, 0, sizeof(ctl));
                mh.msg_control = ctl.buf;
                mh.msg_controllen = CMSG_SPACE(sizeof(int) * n);
                cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
                memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
        }
        for (;;) {
                if (sendmsg(fd, &mh, MSG_NOSIGNAL) >= 0)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

int gk_sync_send_go(int fd, int *fds, size_t n, gk_error **err)
{
        int r = gk_sync_send_fds(fd, GK_SYNC_GO, fds, n);

        while (n)
                close(fds[--n]);
        if (r < 0) {
                /* gone: its error (making its namespaces, say) waits to be
                 * read, or it died ("exited during setup") */
                gk_sync_expect(fd, GK_SYNC_ERROR, err);
                return err && *err ? gk_error_code(*err) : r;
        }
        return 0;
}

void gk_sync_send_error(int fd, const gk_error *err)
{
        struct gk_sync_msg m = { .type = GK_SYNC_ERROR };
        size_t n = 0;

        if (err) {
                m.arg = err->errnum;
                n = strlen(err->msg);
                if (n >= sizeof(m.text))
                        n = sizeof(m.text) - 1;
                memcpy(m.text, err->msg, n);
        }
        m.text[n] = '\0';
        send(fd, &m, offsetof(struct gk_sync_msg, text) + n + 1, MSG_NOSIGNAL);
}

/* One message into M (its length returned), the fds it carries into FDS
 * when FDS is not NULL. */
static ssize_t receive(int fd, struct gk_sync_msg *m, int *fds, size_t *nfds)
{
        struct iovec iov = { .iov_base = m, .iov_len = sizeof(*m) - 1 };
        union {
                char buf[CMSG_SPACE(sizeof(int) * GK_SYNC_MAX_FDS)];
                struct cmsghdr align;
        } ctl;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        bool reset = false;
        ssize_t n;

        if (fds) {
                *nfds = 0;
                mh.msg_control = ctl.buf;
                mh.msg_controllen = sizeof(ctl.buf);
        }
        /* A peer that exited with our last message unread makes the next
         * receive fail with ECONNRESET, before what it sent first (its
         * error): that is read by the receive after. */
        for (;;) {
                n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
                if (n >= 0 || (errno != EINTR && (errno != ECONNRESET || reset)))
                        break;
                if (errno == ECONNRESET)
                        reset = true;
        }
        if (n < 0 || !fds)
                return n;
        for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
                size_t k;

                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                if (*nfds + k > GK_SYNC_MAX_FDS)
                        k = GK_SYNC_MAX_FDS - *nfds;
                memcpy(fds + *nfds, CMSG_DATA(cm), k * sizeof(int));
                *nfds += k;
        }
        return n;
}

/* The peer's GK_SYNC_ERROR M (of length N) as *err, with its errno. */
static int peer_error(struct gk_sync_msg *m, ssize_t n, gk_error **err)
{
        ((char *) m)[n] = '\0';
        gk_error_make(err, 0, "%s", m->text);
        if (err && *err)
                (*err)->errnum = m->arg;
        return m->arg ? -m->arg : -EINVAL;
}

/* One message into M: of type WANT, or the peer's error as *err. */
static int expect_msg(int fd, enum gk_sync_type want, struct gk_sync_msg *m, ssize_t *len,
                      int *fds, size_t *nfds, gk_error **err)
{
        ssize_t n = receive(fd, m, fds, nfds);

        if (n < 0)
                return gk_error_errno(err, "sync with container init");
        if (n == 0)
                return gk_error_make(err, EPIPE, "container init exited during setup");
        if ((size_t) n < offsetof(struct gk_sync_msg, text))
                return gk_error_make(err, EPROTO, "sync: short message");
        if (m->type == GK_SYNC_ERROR)
                return peer_error(m, n, err);
        if (m->type != want)
                return gk_error_make(err, EPROTO, "sync: expected %s, got %s", type_name(want),
                                     type_name(m->type));
        if (len)
                *len = n;
        return 0;
}

static int expect(int fd, enum gk_sync_type want, int *fds, size_t *nfds, gk_error **err)
{
        struct gk_sync_msg m;

        return expect_msg(fd, want, &m, NULL, fds, nfds, err);
}

int gk_sync_expect(int fd, enum gk_sync_type want, gk_error **err)
{
        return expect(fd, want, NULL, NULL, err);
}

int gk_sync_expect_fds(int fd, enum gk_sync_type want, int *fds, size_t *n, gk_error **err)
{
        int r = expect(fd, want, fds, n, err);

        if (r < 0) {
                for (size_t i = 0; i < *n; i++)
                        close(fds[i]);
                *n = 0;
        }
        return r;
}

int gk_sync_send_pid(int fd, pid_t pid, int pidfd)
{
        struct gk_sync_msg m = { .type = GK_SYNC_PID, .arg = (int32_t) pid };
        struct iovec iov = { .iov_base = &m, .iov_len = offsetof(struct gk_sync_msg, text) };
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } ctl;
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        struct cmsghdr *cm;

        if (pidfd >= 0) {
                memset(&ctl, 0, sizeof(ctl));
                mh.msg_control = ctl.buf;
                mh.msg_controllen = sizeof(ctl.buf);
                cm = CMSG_FIRSTHDR(&mh);
                cm->cmsg_level = SOL_SOCKET;
                cm->cmsg_type = SCM_RIGHTS;
                cm->cmsg_len = CMSG_LEN(sizeof(int));
                memcpy(CMSG_DATA(cm), &pidfd, sizeof(int));
        }
        return sendmsg(fd, &mh, MSG_NOSIGNAL) < 0 ? -errno : 0;
}

int gk_sync_expect_pid(int fd, pid_t *pid, int *pidfd, gk_error **err)
{
        struct gk_sync_msg m;
        int fds[GK_SYNC_MAX_FDS];
        size_t n = 0;
        int r = expect_msg(fd, GK_SYNC_PID, &m, NULL, fds, &n, err);

        *pidfd = -1;
        if (r == 0) {
                *pid = (pid_t) m.arg;
                if (n)
                        *pidfd = fds[--n];
        }
        while (n)
                close(fds[--n]);
        return r;
}

int gk_sync_expect_eof(int fd, gk_error **err)
{
        struct gk_sync_msg m;
        ssize_t n = receive(fd, &m, NULL, NULL);

        if (n < 0)
                return gk_error_errno(err, "sync with container process");
        if (n == 0)
                return 0;
        if ((size_t) n < offsetof(struct gk_sync_msg, text))
                return gk_error_make(err, EPROTO, "sync: short message");
        if (m.type == GK_SYNC_ERROR)
                return peer_error(&m, n, err);
        return gk_error_make(err, EPROTO, "sync: expected the exec, got %s", type_name(m.type));
}

int gk_sync_send_data(int fd, enum gk_sync_type type, const void *data, size_t len)
{
        struct gk_sync_msg m = { .type = type, .arg = 0 };
        struct iovec iov[2] = {
                { .iov_base = &m, .iov_len = offsetof(struct gk_sync_msg, text) },
                { .iov_base = (void *) data, .iov_len = len },
        };
        struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

        for (;;) {
                if (sendmsg(fd, &mh, MSG_NOSIGNAL) >= 0)
                        return 0;
                if (errno != EINTR)
                        return -errno;
        }
}

int gk_sync_expect_data(int fd, enum gk_sync_type want, char **data, size_t *len, gk_error **err)
{
        const size_t hdr = offsetof(struct gk_sync_msg, text);
        _cleanup_free_ char *buf = NULL;
        struct gk_sync_msg m;
        ssize_t size, n;

        /* the payload's size first (an error, too, may come instead) */
        do
                size = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
        while (size < 0 && errno == EINTR);
        if (size < 0)
                return gk_error_errno(err, "sync with container init");
        if (size == 0 || (size_t) size < hdr)
                return expect(fd, want, NULL, NULL, err);
        buf = malloc((size_t) size + 1);
        if (!buf)
                return gk_error_make(err, ENOMEM, "sync");
        n = recv(fd, buf, (size_t) size, MSG_PEEK);
        if (n < (ssize_t) hdr)
                return gk_error_errno(err, "sync with container init");
        memcpy(&m, buf, hdr);
        if (m.type != (uint32_t) want)
                return expect(fd, want, NULL, NULL, err); /* the error, or EPROTO */
        do
                n = recv(fd, buf, (size_t) size, 0);
        while (n < 0 && errno == EINTR);
        if (n < (ssize_t) hdr)
                return gk_error_errno(err, "sync with container init");
        *len = (size_t) n - hdr;
        memmove(buf, buf + hdr, *len);
        buf[*len] = '\0';
        *data = TAKE_PTR(buf);
        return 0;
}
