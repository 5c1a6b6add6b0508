/* gk-probe's file probes: what a path, or a whole tree, looks like from
 * inside the container (owners as the container sees them).
 *
 *   gk-probe stat PATH            "UID GID MODE" (octal, with the type bits), or errno=
 *   gk-probe tree DIR             one line per entry below DIR, sorted by name:
 *                                 "PATH TYPE MODE UID:GID size=N [-> TARGET]
 *                                 [link=FIRST] [xattr NAME=VALUE...]", where
 *                                 link= names the first path of the same inode
 *                                 (a hard link) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "probe.h"

/* Every probe has the table's signature; most ignore their arguments. */
#pragma GCC diagnostic ignored "-Wunused-parameter"

int p_stat(int argc, char **argv)
{
        struct stat st;

        if (lstat(argv[0], &st) < 0) {
                puts(errno_name(errno));
                return 0;
        }
        printf("%u %u %o\n", (unsigned) st.st_uid, (unsigned) st.st_gid, (unsigned) st.st_mode);
        return 0;
}

struct seen {
        dev_t dev;
        ino_t ino;
        char path[1024];
};
static struct seen seen[1024];
static size_t nseen;

static const char *first_path(const struct stat *st, const char *path)
{
        for (size_t i = 0; i < nseen; i++)
                if (seen[i].dev == st->st_dev && seen[i].ino == st->st_ino)
                        return seen[i].path;
        if (nseen < N(seen)) {
                seen[nseen].dev = st->st_dev;
                seen[nseen].ino = st->st_ino;
                snprintf(seen[nseen].path, sizeof(seen[nseen].path), "%s", path);
                nseen++;
        }
        return NULL;
}

static void xattrs(const char *path)
{
        char names[4096], value[256];
        ssize_t n = llistxattr(path, names, sizeof(names));

        /* sorted output: the kernel lists them in the order they were set */
        for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t) strlen(names + off) + 1) {
                ssize_t v = lgetxattr(path, names + off, value, sizeof(value) - 1);

                value[v < 0 ? 0 : v] = '\0';
                if (!strncmp(names + off, "security.selinux", 16))
                        continue;
                printf(" xattr %s=%s", names + off, value);
        }
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
        return strcmp((*a)->d_name, (*b)->d_name);
}

static void walk(const char *dir, const char *rel)
{
        struct dirent **list;
        int n = scandir(dir, &list, NULL, by_name);

        for (int i = 0; i < n; i++) {
                char path[1024], name[1024], target[512] = "";
                const char *name_ = list[i]->d_name, *first;
                struct stat st;
                char type;

                if (!strcmp(name_, ".") || !strcmp(name_, "..")) {
                        free(list[i]);
                        continue;
                }
                snprintf(path, sizeof(path), "%s/%s", dir, name_);
                snprintf(name, sizeof(name), "%s%s%s", rel, *rel ? "/" : "", name_);
                free(list[i]);
                if (lstat(path, &st) < 0) {
                        printf("%s %s\n", name, errno_name(errno));
                        continue;
                }
                type = S_ISDIR(st.st_mode)   ? 'd'
                       : S_ISLNK(st.st_mode) ? 'l'
                       : S_ISREG(st.st_mode) ? 'f'
                                             : 'o';
                printf("%s %c %04o %u:%u", name, type, (unsigned) (st.st_mode & 07777),
                       (unsigned) st.st_uid, (unsigned) st.st_gid);
                if (type == 'f')
                        printf(" size=%lld", (long long) st.st_size);
                if (type == 'l') {
                        ssize_t k = readlink(path, target, sizeof(target) - 1);

                        target[k < 0 ? 0 : k] = '\0';
                        printf(" -> %s", target);
                }
                if (type != 'd' && st.st_nlink > 1 && (first = first_path(&st, name)))
                        printf(" link=%s", first);
                xattrs(path);
                putchar('\n');
                if (type == 'd')
                        walk(path, name);
        }
        free(list);
}

int p_tree(int argc, char **argv)
{
        struct stat st;

        if (stat(argv[0], &st) < 0) {
                puts(errno_name(errno));
                return 0;
        }
        walk(argv[0], "");
        return 0;
}
