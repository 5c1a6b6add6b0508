/* The parent/child sync protocol (see sync.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

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

int gk_sync_expect(int fd, enum gk_sync_type want, gk_error **err)
{
        struct gk_sync_msg m;
        ssize_t n;

        do
                n = recv(fd, &m, sizeof(m) - 1, 0);
        while (n < 0 && errno == EINTR);
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
