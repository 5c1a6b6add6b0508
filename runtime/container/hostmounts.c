/* Recording and removing the mounts a container without a mount namespace
 * leaves in its caller's namespace (see hostmounts.h).  Mounts are told
 * apart by mount id and mount point together: an id is reused only once
 * its mount is gone, and then hardly at the same place. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>

#include "container/hostmounts.h"
#include "container/state.h"
#include "gk/cleanup.h"
#include "gk/util.h"

#define RECORD_NAME "host-mounts"

typedef struct mnt_entry {
        char *key;  /* "ID MOUNT_POINT", mount point escaped as in mountinfo */
        char *path; /* unescaped mount point */
} mnt_entry;

typedef struct mnt_list {
        mnt_entry *v;
        size_t n;
} mnt_list;

static void mnt_list_done(mnt_list *l)
{
        for (size_t i = 0; i < l->n; i++) {
                free(l->v[i].key);
                free(l->v[i].path);
        }
        free(l->v);
        *l = (mnt_list){ 0 };
}

static bool at_or_under(const char *path, const char *dir)
{
        size_t n = strlen(dir);

        return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

static int add_entry(mnt_list *l, const char *id, const char *point, const char *path)
{
        mnt_entry *v = realloc(l->v, (l->n + 1) * sizeof(*v));

        if (!v)
                return -ENOMEM;
        l->v = v;
        v[l->n].path = strdup(path);
        if (asprintf(&v[l->n].key, "%s %s", id, point) < 0)
                v[l->n].key = NULL;
        if (!v[l->n].key || !v[l->n].path) {
                free(v[l->n].key);
                free(v[l->n].path);
                return -ENOMEM;
        }
        l->n++;
        return 0;
}

/* The mounts at or under ROOTFS, in mountinfo's order (a mount comes
 * after the one it sits on). */
static int list_mounts(const char *rootfs, mnt_list *out, gk_error **err)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/self/mountinfo", "re");
        _cleanup_free_ char *line = NULL;
        size_t cap = 0;

        if (!f)
                return gk_error_errno(err, "open /proc/self/mountinfo");
        while (getline(&line, &cap, f) > 0) {
                char id[32], point[4096];
                _cleanup_free_ char *path = NULL;

                if (sscanf(line, "%31s %*s %*s %*s %4095s", id, point) != 2)
                        continue;
                path = gk_mountinfo_unescape(point);
                if (!path)
                        return gk_error_make(err, ENOMEM, "mountinfo");
                if (at_or_under(path, rootfs) && add_entry(out, id, point, path) < 0)
                        return gk_error_make(err, ENOMEM, "mountinfo");
        }
        return 0;
}

int gk_hostmounts_record(const char *root, const char *id, const char *rootfs, gk_error **err)
{
        _cleanup_free_ char *file = gk_state_path(root, id, RECORD_NAME), *text = NULL;
        mnt_list l = { 0 };
        size_t len = 0;
        int r = list_mounts(rootfs, &l, err);

        if (r == 0 && !file)
                r = gk_error_make(err, ENOMEM, "%s", RECORD_NAME);
        for (size_t i = 0; r == 0 && i < l.n; i++) {
                size_t k = strlen(l.v[i].key);
                char *t = realloc(text, len + k + 2);

                if (!t) {
                        r = gk_error_make(err, ENOMEM, "%s", RECORD_NAME);
                        break;
                }
                text = t;
                memcpy(text + len, l.v[i].key, k);
                len += k;
                text[len++] = '\n';
                text[len] = '\0';
        }
        if (r == 0)
                r = gk_write_file_atomic(file, text ? text : "", len, 0600, false, err);
        mnt_list_done(&l);
        return r;
}

static bool recorded(const char *record, const char *key)
{
        size_t n = strlen(key);

        for (const char *p = record; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (!strncmp(p, key, n) && (p[n] == '\n' || p[n] == '\0'))
                        return true;
        return false;
}

int gk_hostmounts_release(const char *root, const char *id, const char *rootfs, gk_error **err)
{
        _cleanup_free_ char *file = gk_state_path(root, id, RECORD_NAME), *record = NULL;
        mnt_list l = { 0 };
        size_t len;
        int r;

        if (!file)
                return gk_error_make(err, ENOMEM, "%s", RECORD_NAME);
        r = gk_read_file(file, &record, &len, err);
        if (r == -ENOENT) {
                if (err)
                        gk_error_freep(err);
                return 0;
        }
        if (r < 0)
                return r;
        /* Passes until none is left: on a shared parent, mounts under the
         * rootfs bind propagate to the place it covers, and those copies
         * become reachable only once the bind is gone. */
        for (int pass = 0; r == 0 && pass < 8; pass++) {
                size_t detached = 0;

                r = list_mounts(rootfs, &l, err);
                /* Last first: children before their parents, the top of a
                 * stack of mounts on one point before the ones below it. */
                for (size_t i = l.n; r == 0 && i-- > 0;) {
                        if (recorded(record, l.v[i].key))
                                continue;
                        if (umount2(l.v[i].path, MNT_DETACH) == 0)
                                detached++;
                        else if (errno != EINVAL && errno != ENOENT)
                                r = gk_error_errno(err, "unmount `%s`", l.v[i].path);
                }
                mnt_list_done(&l);
                if (!detached)
                        break;
        }
        return r;
}
