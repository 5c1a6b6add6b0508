/* Terminals: the init's pty (its master sent to the console socket before
 * create returns), receiving a master, and the foreground proxy of
 * `run -t`/`exec -t` without a console socket. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "gk/cleanup.h"
#include "gk/resolve.h"
#include "gk/util.h"
#include "spawn/console.h"
#include "spawn/signals.h"

static int send_fd(int sock, int fd, gk_error **err)
{
        char byte = 0, cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr msg = { .msg_iov = &iov,
                              .msg_iovlen = 1,
                              .msg_control = cbuf,
                              .msg_controllen = sizeof(cbuf) };
        struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
                return gk_error_errno(err, "send pty master to console socket");
        return 0;
}

int gk_console_send_master(int sock, int master, gk_error **err)
{
        return send_fd(sock, master, err);
}

int gk_console_recv_master(int sock, gk_error **err)
{
        char byte, cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
        struct msghdr msg = { .msg_iov = &iov,
                              .msg_iovlen = 1,
                              .msg_control = cbuf,
                              .msg_controllen = sizeof(cbuf) };
        struct cmsghdr *cm;
        int fd;

        if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
                return gk_error_errno(err, "receive pty master");
        cm = CMSG_FIRSTHDR(&msg);
        if (!cm || cm->cmsg_type != SCM_RIGHTS)
                return gk_error_make(err, EPROTO, "receive pty master: no fd");
        memcpy(&fd, CMSG_DATA(cm), sizeof(int));
        return fd;
}

/* /dev/console of the container (we are pivoted: "/" is its root), made
 * by us when missing and checked to be a file or a device, not a symlink
 * (which a mount would follow) nor a directory. */
static int open_console_target(gk_error **err)
{
        _cleanup_close_ int dev = gk_open_resolved(AT_FDCWD, "/dev", O_PATH | O_DIRECTORY,
                                                   RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (dev < 0)
                return gk_error_resolve(err, dev, "/dev/console: open /dev");
        fd = openat(dev, "console", O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno != EEXIST)
                return gk_error_errno(err, "/dev/console: create");
        if (fd >= 0)
                close(TAKE_FD(fd));
        /* O_PATH|O_NOFOLLOW opens a symlink itself: fstat then tells */
        fd = openat(dev, "console", O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0)
                return gk_error_errno(err, "/dev/console: open");
        if (!S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode))
                return gk_error_plain(err, EPERM,
                                      "/dev/console in the container is %s, not a"
                                      " file or a device: the terminal is not mounted there",
                                      S_ISLNK(st.st_mode) ? "a symlink" : "another kind of file");
        return TAKE_FD(fd);
}

/* Binds the pty SLAVE on /dev/console from the fd itself (open_tree), not
 * from its name in /dev/pts: a /dev shared with another container could
 * have that name turned into a symlink, to a file of /proc say, between
 * our open and the mount (runc's CVE-2025-52565).  No fallback: open_tree
 * (Linux 5.2) is older than openat2, which gkrun needs anyway. */
static int bind_console(int slave, gk_error **err)
{
        _cleanup_close_ int target = open_console_target(err), tree = -1;

        if (target < 0)
                return target;
        tree = open_tree(slave, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
        if (tree < 0)
                return gk_error_errno(err, "/dev/console: open_tree of the pty");
        if (move_mount(tree, "", target, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
            0)
                return gk_error_errno(err, "/dev/console: mount the pty");
        return 0;
}

int gk_console_setup(int sock, const gk_console_size *size, uid_t uid, bool bind_dev_console,
                     gk_error **err)
{
        _cleanup_close_ int master = -1, slave = -1;
        char name[64];

        master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return gk_error_errno(err, "open /dev/pts/ptmx (is devpts mounted on /dev/pts?)");
        if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof(name)) != 0)
                return gk_error_errno(err, "unlock pty");
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY);
        if (slave < 0)
                slave = open(name, O_RDWR | O_NOCTTY);
        if (slave < 0)
                return gk_error_errno(err, "open pty slave `%s`", name);
        if (size && size->present) {
                struct winsize ws = { .ws_row = (unsigned short) size->height,
                                      .ws_col = (unsigned short) size->width };
                ioctl(slave, TIOCSWINSZ, &ws);
        }
        if (fchown(slave, uid, (gid_t) -1) < 0 && errno != EINVAL)
                return gk_error_errno(err, "chown pty");
        if (bind_dev_console && bind_console(slave, err) < 0)
                return gk_error_code(*err);
        if (send_fd(sock, master, err) < 0)
                return gk_error_code(*err);
        setsid();
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return gk_error_errno(err, "set controlling terminal");
        for (int fd = 0; fd < 3; fd++)
                if (dup2(slave, fd) < 0)
                        return gk_error_errno(err, "dup pty to fd %d", fd);
        return 0;
}

int gk_console_listen(char **path, gk_error **err)
{
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char tmpl[] = "/tmp/gkrun-console-XXXXXX";

        if (fd < 0 || !mkdtemp(tmpl))
                return gk_error_errno(err, "console socket");
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/sock", tmpl);
        if (bind(fd, (struct sockaddr *) &sa, sizeof(sa)) < 0 || listen(fd, 1) < 0) {
                rmdir(tmpl);
                return gk_error_errno(err, "console socket `%s`", sa.sun_path);
        }
        *path = strdup(sa.sun_path);
        return TAKE_FD(fd);
}

static void copy_once(int from, int to, bool *open_)
{
        char buf[8192];
        ssize_t n = read(from, buf, sizeof(buf));

        if (n <= 0) {
                *open_ = false;
                return;
        }
        gk_write_all(to, buf, (size_t) n);
}

static void sync_winsize(int master)
{
        struct winsize ws;

        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                ioctl(master, TIOCSWINSZ, &ws);
}

int gk_tty_proxy(int master, pid_t child, gk_error **err)
{
        struct termios saved, raw;
        bool is_tty = tcgetattr(STDIN_FILENO, &saved) == 0, in_open = true, out_open = true;
        sigset_t mask;
        _cleanup_close_ int sfd = -1;
        int status = 0;

        sigemptyset(&mask);
        for (int s = 1; s < 32; s++)
                if (s != SIGKILL && s != SIGSTOP && s != SIGSEGV && s != SIGBUS && s != SIGFPE &&
                    s != SIGILL && s != SIGTTOU && s != SIGTTIN && s != SIGTSTP)
                        sigaddset(&mask, s);
        sigprocmask(SIG_BLOCK, &mask, NULL);
        sfd = signalfd(-1, &mask, SFD_CLOEXEC);
        if (is_tty) {
                raw = saved;
                cfmakeraw(&raw);
                tcsetattr(STDIN_FILENO, TCSANOW, &raw);
                sync_winsize(master);
        }
        while (out_open) {
                struct pollfd p[3] = { { master, POLLIN, 0 },
                                       { sfd, POLLIN, 0 },
                                       { in_open ? STDIN_FILENO : -1, POLLIN, 0 } };

                if (poll(p, 3, -1) < 0 && errno != EINTR)
                        break;
                if (p[0].revents & (POLLIN | POLLHUP | POLLERR))
                        copy_once(master, STDOUT_FILENO, &out_open);
                if (p[2].revents & (POLLIN | POLLHUP))
                        copy_once(STDIN_FILENO, master, &in_open);
                if (p[1].revents & POLLIN) {
                        struct signalfd_siginfo si;

                        if (read(sfd, &si, sizeof(si)) == sizeof(si)) {
                                if (si.ssi_signo == SIGWINCH)
                                        sync_winsize(master);
                                else if (si.ssi_signo != SIGCHLD)
                                        kill(child, (int) si.ssi_signo);
                        }
                }
        }
        if (is_tty)
                tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        while (waitpid(child, &status, 0) < 0 && errno == EINTR)
                ;
        sigprocmask(SIG_UNBLOCK, &mask, NULL);
        return gk_exit_status(status);
}
