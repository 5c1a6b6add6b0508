/* Probes of gk-probe that live in files of their own (see probe.c), and
 * the facts both kinds read the same way (facts.c). */
#ifndef GK_PROBE_H
#define GK_PROBE_H

#include <dirent.h>
#include <stddef.h>
#include <sys/types.h>

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* observe.c: the container's whole view as one JSON document. */
int p_observe(int argc, char **argv);
/* snapshot.c: observe plus every other reading test_spec_fields.py needs. */
int p_snapshot(int argc, char **argv);

/* procattr.c: scheduler, I/O priority, CPU affinity, memory policy and
 * personality of the probe's own process. */
int p_sched(int argc, char **argv);
int p_ioprio(int argc, char **argv);
int p_cpus(int argc, char **argv);
int p_mempolicy(int argc, char **argv);
int p_personality(int argc, char **argv);
/* tree.c: stat of one path, listing of a tree. */
int p_stat(int argc, char **argv);
int p_tree(int argc, char **argv);

/* "errno=ENAME" (or "errno=NUMBER"), in a static buffer. */
const char *errno_name(int err);

/* Every rlimit by its name without RLIMIT_, sorted by name. */
struct probe_rlimit {
        const char *name;
        int resource;
};
extern const struct probe_rlimit probe_rlimits[];
extern const size_t probe_nrlimits;

struct probe_ids {
        uid_t uid, gid, euid, egid;
        gid_t groups[256];
        int ngroups; /* -1 when getgroups failed */
        mode_t umask;
};
void probe_ids(struct probe_ids *ids);

/* The next fd listed in D (an opendir of /proc/self/fd) and its link
 * target in TARGET; 0 when there is none left. */
int probe_fd_next(DIR *d, const char **fd, char *target, size_t size);

#endif
