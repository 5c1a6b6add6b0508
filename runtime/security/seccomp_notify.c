/* Handing the seccomp notify fd to linux.seccomp.listenerPath (see
 * seccomp_notify.h). */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/json.h"
#include "gk/util.h"
#include "security/seccomp_notify.h"

#define LISTENER_OCI_VERSION "1.3.0"

bool gk_seccomp_wants_listener(const gk_seccomp *sc)
{
        if (!sc || !sc->present || !sc->listener_path)
                return false;
        for (size_t i = 0; i < sc->n_syscalls; i++)
                if (sc->syscalls[i].action == GK_SCMP_NOTIFY)
                        return true;
        return false;
}

int gk_seccomp_listener_connect(const gk_seccomp *sc, gk_error **err)
{
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t len = strlen(sc->listener_path);

        if (fd < 0)
                return gk_error_errno(err, "seccomp listener socket");
        if (len >= sizeof(sa.sun_path))
                return gk_error_make(err, ENAMETOOLONG,
                                     "config.json: linux.seccomp.listenerPath: `%s`",
                                     sc->listener_path);
        memcpy(sa.sun_path, sc->listener_path, len);
        if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0)
                return gk_error_errno(err,
                                      "config.json: linux.seccomp.listenerPath: connect to `%s`",
                                      sc->listener_path);
        return TAKE_FD(fd);
}

static long own_pid_in_callers_proc(void)
{
        char buf[32];
        ssize_t n = readlink("/proc/self", buf, sizeof(buf) - 1);
        uint64_t pid;

        if (n <= 0)
                return -1;
        buf[n] = '\0';
        return gk_parse_u64(buf, &pid) && pid <= INT_MAX ? (long) pid : -1;
}

int gk_seccomp_listener_state(const gk_spec *spec, const char *id, const char *bundle,
                              const char *status, long pid, long init_pid, char **out,
                              gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(false);

        if (pid <= 0)
                pid = own_pid_in_callers_proc();

        if (!g)
                return gk_error_make(err, ENOMEM, "seccomp listener state");
        if (pid < 0)
                return gk_error_make(err, 0, "seccomp listener state: cannot read /proc/self");
        yajl_gen_map_open(g);
        gk_json_kstr(g, "ociVersion", LISTENER_OCI_VERSION);
        gk_json_str(g, "fds");
        yajl_gen_array_open(g);
        gk_json_str(g, "seccompFd");
        yajl_gen_array_close(g);
        gk_json_kint(g, "pid", pid);
        if (spec->linux.seccomp.listener_metadata)
                gk_json_kstr(g, "metadata", spec->linux.seccomp.listener_metadata);
        gk_json_str(g, "state");
        yajl_gen_map_open(g);
        gk_json_kstr(g, "ociVersion", LISTENER_OCI_VERSION);
        gk_json_kstr(g, "id", id);
        gk_json_kstr(g, "status", status);
        gk_json_kint(g, "pid", init_pid > 0 ? init_pid : pid);
        gk_json_kstr(g, "bundle", bundle);
        if (spec->n_annotations) {
                gk_json_str(g, "annotations");
                yajl_gen_map_open(g);
                for (size_t i = 0; i < spec->n_annotations; i++)
                        gk_json_kstr(g, spec->annotations[i].key, spec->annotations[i].value);
                yajl_gen_map_close(g);
        }
        yajl_gen_map_close(g);
        yajl_gen_map_close(g);
        return gk_json_gen_finish(g, out, NULL, err);
}

int gk_seccomp_listener_send(int sock, int notify_fd, const char *state_json, gk_error **err)
{
        char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
        struct iovec iov = { .iov_base = (void *) state_json, .iov_len = strlen(state_json) };
        struct msghdr msg = { .msg_iov = &iov,
                              .msg_iovlen = 1,
                              .msg_control = cbuf,
                              .msg_controllen = sizeof(cbuf) };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
        ssize_t n;

        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &notify_fd, sizeof(int));
        do
                n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return gk_error_errno(err, "send the seccomp notify fd to the listener");
        if ((size_t) n != iov.iov_len)
                return gk_error_make(err, EMSGSIZE, "send the seccomp notify fd to the listener");
        return 0;
}
