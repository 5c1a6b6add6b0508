/* Writing the per-task process attributes of the config.json model, the
 * counterpart of spec_parse_procattr.c. */
#include "gk/json.h"
#include "spec_internal.h"

void spec_emit_flag_names(yajl_gen g, const char *key, const spec_names *t, uint64_t flags)
{
        if (!flags)
                return;
        gk_json_str(g, key);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < t->n; i++)
                if (flags & t->v[i].value)
                        gk_json_str(g, t->v[i].name);
        yajl_gen_array_close(g);
}

static void emit_scheduler(yajl_gen g, const gk_scheduler *s)
{
        gk_json_str(g, "scheduler");
        yajl_gen_map_open(g);
        gk_json_kstr(g, "policy", spec_name_of(&spec_sched_policies, (uint64_t) s->policy));
        if (s->nice)
                gk_json_kint(g, "nice", s->nice);
        if (s->priority)
                gk_json_kint(g, "priority", s->priority);
        spec_emit_flag_names(g, "flags", &spec_sched_flags, s->flags);
        if (s->runtime)
                spec_emit_u64(g, "runtime", s->runtime);
        if (s->deadline)
                spec_emit_u64(g, "deadline", s->deadline);
        if (s->period)
                spec_emit_u64(g, "period", s->period);
        yajl_gen_map_close(g);
}

void spec_emit_process_attrs(yajl_gen g, const gk_process *p)
{
        const gk_cpu_affinity *a = &p->exec_cpu_affinity;

        if (p->scheduler.present)
                emit_scheduler(g, &p->scheduler);
        if (a->present) {
                gk_json_str(g, "execCPUAffinity");
                yajl_gen_map_open(g);
                if (a->initial)
                        gk_json_kstr(g, "initial", a->initial);
                if (a->final)
                        gk_json_kstr(g, "final", a->final);
                yajl_gen_map_close(g);
        }
}

void spec_emit_memory_policy(yajl_gen g, const gk_memory_policy *m)
{
        if (!m->present)
                return;
        gk_json_str(g, "memoryPolicy");
        yajl_gen_map_open(g);
        gk_json_kstr(g, "mode", spec_name_of(&spec_mpol_modes, (uint64_t) m->mode));
        if (m->nodes)
                gk_json_kstr(g, "nodes", m->nodes);
        spec_emit_flag_names(g, "flags", &spec_mpol_flags, m->flags);
        yajl_gen_map_close(g);
}
