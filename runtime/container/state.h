/* The state store: one directory per container under --root
 * (default /run/gkrun), holding state.json (written atomically) and, while
 * the container is `created`, the exec fifo that `start` opens.
 *
 * The status is derived, never trusted from disk: a dead init (or a PID
 * reused by another process, told apart by its start time) is `stopped`,
 * an existing exec fifo is `created`, a frozen cgroup `paused`. */
#ifndef GK_RUNTIME_STATE_H
#define GK_RUNTIME_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "model/global.h"
#include "gk/error.h"
#include "gk/spec.h"

enum gk_status {
        GK_STATUS_CREATING,
        GK_STATUS_CREATED,
        GK_STATUS_RUNNING,
        GK_STATUS_PAUSED,
        GK_STATUS_STOPPED,
};

typedef struct gk_state {
        char *id;
        pid_t pid;                     /* container init, as seen from the host */
        unsigned long long start_time; /* /proc/PID/stat field 22 of pid */
        char *bundle;                  /* absolute */
        char *rootfs;                  /* absolute */
        char *cgroup;                  /* gk_cgroup_to_string() */
        int64_t created_ns;
        uid_t owner;
        bool systemd_cgroup;
        bool creating; /* set while create has not finished */
        gk_kv *annotations;
        size_t n_annotations;
        char *net; /* networking record (network issue), may be NULL */
} gk_state;

/* Container ids: [A-Za-z0-9][A-Za-z0-9_.+-]{0,1023}... no '/' and not "."
 * or "..", checked before an id becomes a path. */
int gk_id_validate(const char *id, gk_error **err);

/* Opens (creating) the state root and returns a directory fd. */
int gk_state_root_open(const char *root, bool create, gk_error **err);

/* Creates ROOT/ID exclusively: "container with id exists: ID" if taken. */
int gk_state_dir_create(const char *root, const char *id, gk_error **err);

/* Loads ROOT/ID/state.json; a missing container is
 * `container "ID" does not exist` with errno ENOENT. */
int gk_state_load(const char *root, const char *id, gk_state **out, gk_error **err);

/* The state.json reader (fuzzed): an object with a valid id and a pid in
 * 0..INT32_MAX; unknown keys are ignored. */
int gk_state_parse(const char *text, size_t len, const char *what, gk_state **out, gk_error **err);

int gk_state_save(const char *root, const gk_state *st, gk_error **err);

/* Removes ROOT/ID and everything in it. */
int gk_state_remove(const char *root, const char *id, gk_error **err);

/* Path of ROOT/ID/NAME (malloc'd). */
char *gk_state_path(const char *root, const char *id, const char *name);

enum gk_status gk_state_status(const char *root, const gk_state *st);
const char *gk_status_name(enum gk_status s);

/* True when st->pid still is the container's init (alive, same start time). */
bool gk_state_init_alive(const gk_state *st);

/* /proc/PID/stat start time; 0 when the process is gone. */
unsigned long long gk_proc_start_time(pid_t pid);

/* The OCI state JSON of `gkrun state` (pretty-printed). */
int gk_state_to_oci_json(const char *root, const gk_state *st, char **out, gk_error **err);
/* The same with a given status instead of the derived one: the prestart
 * hooks are told "created" while create is still under way. */
int gk_state_to_oci_json_as(const gk_state *st, enum gk_status status, char **out, gk_error **err);

/* Takes an exclusive flock on ROOT/ID (blocks); returns the fd to close. */
int gk_state_lock(const char *root, const char *id, gk_error **err);

void gk_state_free(gk_state *st);
void gk_state_freep(gk_state **st);

#endif
