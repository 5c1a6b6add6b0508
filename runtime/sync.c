/* The parent/child sync protocol (see sync.h). */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sync.h"

struct gk_sync_msg {
        uint32_t type;
        int32_t errnum;
        char text[4000];
};

static const char *type_name(uint32_t t)
{
        switch (t) {
        case GK_SYNC_GO: return "go";
        case GK_SYNC_HOOKS: return "hooks";
        case GK_SYNC_HOOKS_DONE: return "hooks-done";
        case GK_SYNC_READY: return "ready";
        case GK_SYNC_START: return "start";
        case GK_SYNC_ERROR: return "error";
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
                m.errnum = err->errnum;
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

static int expect(int fd, enum gk_sync_type want, int *fds, size_t *nfds, gk_error **err)
{
        struct gk_sync_msg m;
        ssize_t n = receive(fd, &m, fds, nfds);

        if (n < 0)
                return gk_error_errno(err, "sync with container init");
        if (n == 0)
                return gk_error_make(err, EPIPE, "container init exited during setup");
        if ((size_t) n < offsetof(struct gk_sync_msg, text))
                return gk_error_make(err, EPROTO, "sync: short message");
        if (m.type == GK_SYNC_ERROR) {
                ((char *) &m)[n] = '\0';
                gk_error_make(err, 0, "%s", m.text);
                if (err && *err)
                        (*err)->errnum = m.errnum;
                return m.errnum ? -m.errnum : -EINVAL;
        }
        if (m.type != want)
                return gk_error_make(err, EPROTO, "sync: expected %s, got %s", type_name(want),
                                     type_name(m.type));
        return 0;
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
