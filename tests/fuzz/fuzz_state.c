/* fuzz-sources: runtime/container/state.c */
/* fuzz-libs: yajl */
/* state.json as gkrun reads it back (create, start, kill, delete, state,
 * list all load it): whatever is on disk, the reader either refuses it with
 * a message or yields a state whose id is a valid container id (it becomes
 * a path again) and whose pid cannot make kill() hit a process group; the
 * OCI state `gkrun state` prints from it is valid JSON naming the same id. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cgroup/cgroup.h"
#include "container/state.h"
#include "gk/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* state.c asks the cgroup layer whether a live container is paused; the
 * reader never gets there, the status is derived from /proc here. */
int gk_cgroup_open(const char *saved, gk_cgroup **out, gk_error **err)
{
        return gk_error_make(err, 0, "no cgroups in the fuzzer");
}

int gk_cgroup_is_frozen(gk_cgroup *cg, bool *frozen, gk_error **err)
{
        abort();
}

void gk_cgroup_freep(gk_cgroup **cg)
{
        if (*cg)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        gk_state *st = NULL;
        gk_error *err = NULL;
        yajl_val v = NULL;
        char *out = NULL;

        if (gk_state_parse((const char *) data, size, "state.json", &st, &err) < 0) {
                if (!err || !err->msg || st)
                        abort();
                gk_error_free(err);
                return 0;
        }
        if (!st->id || gk_id_validate(st->id, NULL) < 0 || st->pid < 0)
                abort();
        for (size_t i = 0; i < st->n_annotations; i++)
                if (!st->annotations[i].key || !st->annotations[i].value)
                        abort();
        if (gk_state_to_oci_json_as(st, GK_STATUS_STOPPED, &out, &err) < 0 ||
            gk_json_parse(out, strlen(out), "oci state", &v, NULL) < 0 ||
            !gk_json_get_str(v, "id") || strcmp(gk_json_get_str(v, "id"), st->id))
                abort();
        gk_json_freep(&v);
        free(out);
        gk_state_free(st);
        return 0;
}
