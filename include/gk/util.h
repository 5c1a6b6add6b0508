/* File, string and number helpers shared by gkrun and gkimg. */
#ifndef GK_UTIL_H
#define GK_UTIL_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "gk/error.h"

/* Reads a whole file (at most 64 MiB); *out is NUL-terminated. */
int gk_read_file(const char *path, char **out, size_t *len, gk_error **err);
int gk_read_file_at(int dirfd, const char *path, char **out, size_t *len, gk_error **err);
int gk_read_fd(int fd, const char *what, char **out, size_t *len, gk_error **err);

/* Writes DATA to PATH through a temporary file in the same directory and a
 * rename, so readers see the old or the new content, never a part.  With
 * durable, the file and the directory are fsync'd. */
int gk_write_file_atomic(const char *path, const void *data, size_t len, mode_t mode, bool durable,
                         gk_error **err);

/* Writes DATA to an existing file (cgroup, /proc and /sys knobs): one
 * write(2), so the kernel's error for the value is reported. */
int gk_write_file_at(int dirfd, const char *path, const char *data, size_t len, gk_error **err);
int gk_write_file(const char *path, const char *data, gk_error **err);

/* Loops over short writes/reads and EINTR. */
int gk_write_all(int fd, const void *buf, size_t len);
ssize_t gk_read_all(int fd, void *buf, size_t len);

/* mkdir -p; existing directories are fine. */
int gk_mkdir_p(const char *path, mode_t mode, gk_error **err);

/* rm -rf of NAME under DIRFD, never following symlinks, staying on one
 * filesystem.  Missing is not an error. */
int gk_rm_rf_at(int dirfd, const char *name, gk_error **err);

/* Strict decimal parsing: the whole string, no sign for unsigned. */
bool gk_parse_u64(const char *s, uint64_t *out);
bool gk_parse_i64(const char *s, int64_t *out);

size_t gk_strv_len(char *const *v);
/* Deep copy of a NULL-terminated vector (NULL in, NULL out). */
char **gk_strv_dup(char *const *v);

bool gk_str_has_prefix(const char *s, const char *prefix);

/* NAME (relative to AT; "." for AT itself) opened for readdir; NULL with
 * errno set when it cannot be. */
DIR *gk_opendir_at(int at, const char *name);

/* A copy of a /proc/self/mountinfo field with its \\ooo escapes (space,
 * tab, newline, backslash) decoded; NULL when out of memory. */
char *gk_mountinfo_unescape(const char *s);

/* Nanoseconds of CLOCK_REALTIME formatted as RFC 3339 with nanoseconds in UTC. */
int gk_format_time_rfc3339(char *buf, size_t size, int64_t ns_since_epoch);
int64_t gk_now_ns(void);

/* Whether we run in a user namespace other than the initial one:
 * /proc/self/uid_map is not the identity map of every id (as under
 * rootless podman, whose runtime is root of podman's namespace). */
bool gk_in_user_namespace(void);

#endif
