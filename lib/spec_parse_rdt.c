/* linux.intelRdt (runtime-spec 1.3): closID, l3CacheSchema, memBwSchema,
 * schemata, enableMonitoring.  Checked here: what the spec says of the
 * values (no newline anywhere, memBwSchema starts with "MB:") and a closID
 * that names one group directory of the resctrl root ("/" is the root
 * itself; the root's own entries are not groups).  gkrun applies them
 * (runtime/rdt/). */
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "gk/json.h"
#include "spec_internal.h"

static int one_line(sp_ctx *c, const char *s)
{
        return strchr(s, '\n') ? sp_fail(c, "must not contain a newline") : 0;
}

static int line(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        char **out = SP_PTR(f, base);
        int r = sp_val_str(c, v, out);

        return r < 0 ? r : one_line(c, *out);
}

static int mem_bw(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        char **out = SP_PTR(f, base);
        int r = line(c, v, f, base);

        if (r < 0)
                return r;
        return strncmp(*out, "MB:", 3) ? sp_fail(c, "must start with \"MB:\"") : 0;
}

static int lines(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        char ***out = SP_PTR(f, base);
        size_t *n = SP_AUXPTR(f, base);
        int r = sp_val_strv(c, v, out, n);

        for (size_t i = 0; r == 0 && i < *n; i++) {
                size_t old = sp_push_idx(c, i);

                if ((r = one_line(c, (*out)[i])) == 0)
                        sp_pop(c, old);
        }
        return r;
}

static int clos_id(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        static const char *const reserved[] = { ".",        "..",    "info", "mon_groups",
                                                "mon_data", "tasks", "cpus", "cpus_list",
                                                "schemata", "mode",  "size" };
        char **out = SP_PTR(f, base);
        int r = sp_val_str(c, v, out);

        if (r < 0)
                return r;
        if (!strcmp(*out, "/"))
                return 0;
        if (!**out || strchr(*out, '/') || strchr(*out, '\n'))
                return sp_fail(c, "\"%s\": must be \"/\" or a group name (no '/')", *out);
        for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
                if (!strcmp(*out, reserved[i]))
                        return sp_fail(c, "\"%s\": names a file of resctrl, not a group", *out);
        return 0;
}

const sp_field spec_intel_rdt_fields[] = {
        { "closID", clos_id, SP_AT(gk_intel_rdt, clos_id) },
        { "l3CacheSchema", line, SP_AT(gk_intel_rdt, l3_cache_schema) },
        { "memBwSchema", mem_bw, SP_AT(gk_intel_rdt, mem_bw_schema) },
        { "schemata", lines, SP_AT(gk_intel_rdt, schemata), SP_AUX(gk_intel_rdt, n_schemata) },
        { "enableMonitoring", sp_f_bool, SP_AT(gk_intel_rdt, enable_monitoring) },
        /* the older monitoring switches (before enableMonitoring): refused */
        { "enableCMT", sp_f_unsupported },
        { "enableMBM", sp_f_unsupported },
        SP_END,
};

void spec_emit_intel_rdt(yajl_gen g, const gk_intel_rdt *r)
{
        if (!r->present)
                return;
        gk_json_str(g, "intelRdt");
        yajl_gen_map_open(g);
        if (r->clos_id)
                gk_json_kstr(g, "closID", r->clos_id);
        if (r->l3_cache_schema)
                gk_json_kstr(g, "l3CacheSchema", r->l3_cache_schema);
        if (r->mem_bw_schema)
                gk_json_kstr(g, "memBwSchema", r->mem_bw_schema);
        if (r->schemata)
                spec_emit_strv(g, "schemata", r->schemata, r->n_schemata);
        if (r->enable_monitoring)
                gk_json_kbool(g, "enableMonitoring", true);
        yajl_gen_map_close(g);
}

void spec_free_intel_rdt(gk_intel_rdt *r)
{
        free(r->clos_id);
        free(r->l3_cache_schema);
        free(r->mem_bw_schema);
        gk_strvfree(r->schemata);
        *r = (gk_intel_rdt){ 0 };
}
