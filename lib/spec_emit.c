/* Writing the config.json model back as pretty JSON: everything the model
 * holds, so that parsing the output gives the same model.  Absent optional
 * fields and false booleans are left out, as the reference runtime's
 * `spec` output does.  linux.* is in spec_emit_linux.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "gk/cleanup.h"
#include "gk/json.h"
#include "spec_internal.h"

void spec_emit_u64(yajl_gen g, const char *key, uint64_t v)
{
        char buf[32];
        int n = snprintf(buf, sizeof(buf), "%" PRIu64, v);

        if (key)
                gk_json_str(g, key);
        yajl_gen_number(g, buf, (size_t) n);
}

void spec_emit_i64(yajl_gen g, const char *key, int64_t v)
{
        if (key)
                gk_json_str(g, key);
        yajl_gen_integer(g, (long long) v);
}

void spec_emit_strv(yajl_gen g, const char *key, char *const *v, size_t n)
{
        gk_json_str(g, key);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < n; i++)
                gk_json_str(g, v[i]);
        yajl_gen_array_close(g);
}

void spec_emit_map(yajl_gen g, const char *key, const gk_kv *kv, size_t n)
{
        gk_json_str(g, key);
        yajl_gen_map_open(g);
        for (size_t i = 0; i < n; i++)
                gk_json_kstr(g, kv[i].key, kv[i].value);
        yajl_gen_map_close(g);
}

void spec_emit_idmaps(yajl_gen g, const char *key, const gk_idmap *m, size_t n)
{
        gk_json_str(g, key);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < n; i++) {
                yajl_gen_map_open(g);
                spec_emit_u64(g, "containerID", m[i].container_id);
                spec_emit_u64(g, "hostID", m[i].host_id);
                spec_emit_u64(g, "size", m[i].size);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static void emit_user(yajl_gen g, const gk_user *u)
{
        gk_json_str(g, "user");
        yajl_gen_map_open(g);
        spec_emit_u64(g, "uid", u->uid);
        spec_emit_u64(g, "gid", u->gid);
        if (u->has_umask)
                spec_emit_u64(g, "umask", u->umask);
        if (u->additional_gids) {
                gk_json_str(g, "additionalGids");
                yajl_gen_array_open(g);
                for (size_t i = 0; i < u->n_additional_gids; i++)
                        spec_emit_u64(g, NULL, u->additional_gids[i]);
                yajl_gen_array_close(g);
        }
        if (u->username)
                gk_json_kstr(g, "username", u->username);
        yajl_gen_map_close(g);
}

static void emit_capset(yajl_gen g, const char *key, const gk_capset *s)
{
        if (!s->caps)
                return;
        gk_json_str(g, key);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < s->n; i++)
                gk_json_str(g, gk_cap_name(s->caps[i]));
        yajl_gen_array_close(g);
}

static void emit_capabilities(yajl_gen g, const gk_capabilities *c)
{
        if (!c->present)
                return;
        gk_json_str(g, "capabilities");
        yajl_gen_map_open(g);
        emit_capset(g, "bounding", &c->bounding);
        emit_capset(g, "effective", &c->effective);
        emit_capset(g, "inheritable", &c->inheritable);
        emit_capset(g, "permitted", &c->permitted);
        emit_capset(g, "ambient", &c->ambient);
        yajl_gen_map_close(g);
}

static void emit_rlimits(yajl_gen g, const gk_process *p)
{
        if (!p->rlimits)
                return;
        gk_json_str(g, "rlimits");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < p->n_rlimits; i++) {
                yajl_gen_map_open(g);
                gk_json_kstr(g, "type", p->rlimits[i].type);
                spec_emit_u64(g, "hard", p->rlimits[i].hard);
                spec_emit_u64(g, "soft", p->rlimits[i].soft);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static void emit_process_extra(yajl_gen g, const gk_process *p)
{
        if (p->no_new_privileges)
                gk_json_kbool(g, "noNewPrivileges", true);
        if (p->apparmor_profile)
                gk_json_kstr(g, "apparmorProfile", p->apparmor_profile);
        if (p->has_oom_score_adj)
                gk_json_kint(g, "oomScoreAdj", p->oom_score_adj);
        if (p->selinux_label)
                gk_json_kstr(g, "selinuxLabel", p->selinux_label);
        if (p->io_priority.present) {
                gk_json_str(g, "ioPriority");
                yajl_gen_map_open(g);
                gk_json_kstr(g, "class", spec_ioprio_class_name(p->io_priority.class));
                gk_json_kint(g, "priority", p->io_priority.priority);
                yajl_gen_map_close(g);
        }
        spec_emit_process_attrs(g, p);
}

static void emit_process(yajl_gen g, const gk_process *p)
{
        yajl_gen_map_open(g);
        if (p->terminal)
                gk_json_kbool(g, "terminal", true);
        if (p->console_size.present) {
                gk_json_str(g, "consoleSize");
                yajl_gen_map_open(g);
                spec_emit_u64(g, "height", p->console_size.height);
                spec_emit_u64(g, "width", p->console_size.width);
                yajl_gen_map_close(g);
        }
        emit_user(g, &p->user);
        if (p->args)
                spec_emit_strv(g, "args", p->args, p->n_args);
        if (p->env)
                spec_emit_strv(g, "env", p->env, p->n_env);
        if (p->cwd)
                gk_json_kstr(g, "cwd", p->cwd);
        emit_capabilities(g, &p->capabilities);
        emit_rlimits(g, p);
        emit_process_extra(g, p);
        yajl_gen_map_close(g);
}

static void emit_mount(yajl_gen g, const gk_mount *m)
{
        yajl_gen_map_open(g);
        gk_json_kstr(g, "destination", m->destination);
        if (m->type)
                gk_json_kstr(g, "type", m->type);
        if (m->source)
                gk_json_kstr(g, "source", m->source);
        if (m->options)
                spec_emit_strv(g, "options", m->options, m->n_options);
        if (m->uid_mappings)
                spec_emit_idmaps(g, "uidMappings", m->uid_mappings, m->n_uid_mappings);
        if (m->gid_mappings)
                spec_emit_idmaps(g, "gidMappings", m->gid_mappings, m->n_gid_mappings);
        yajl_gen_map_close(g);
}

static void emit_hook_list(yajl_gen g, const char *key, const gk_hook_list *l)
{
        if (!l->hooks)
                return;
        gk_json_str(g, key);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < l->n; i++) {
                const gk_hook *h = &l->hooks[i];

                yajl_gen_map_open(g);
                gk_json_kstr(g, "path", h->path);
                if (h->args)
                        spec_emit_strv(g, "args", h->args, h->n_args);
                if (h->env)
                        spec_emit_strv(g, "env", h->env, h->n_env);
                if (h->has_timeout)
                        gk_json_kint(g, "timeout", h->timeout);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static void emit_hooks(yajl_gen g, const gk_hooks *h)
{
        if (!h->prestart.hooks && !h->create_runtime.hooks && !h->create_container.hooks &&
            !h->start_container.hooks && !h->poststart.hooks && !h->poststop.hooks)
                return;
        gk_json_str(g, "hooks");
        yajl_gen_map_open(g);
        emit_hook_list(g, "prestart", &h->prestart);
        emit_hook_list(g, "createRuntime", &h->create_runtime);
        emit_hook_list(g, "createContainer", &h->create_container);
        emit_hook_list(g, "startContainer", &h->start_container);
        emit_hook_list(g, "poststart", &h->poststart);
        emit_hook_list(g, "poststop", &h->poststop);
        yajl_gen_map_close(g);
}

static void emit_spec(yajl_gen g, const gk_spec *s)
{
        yajl_gen_map_open(g);
        gk_json_kstr(g, "ociVersion", s->oci_version);
        if (s->process) {
                gk_json_str(g, "process");
                emit_process(g, s->process);
        }
        gk_json_str(g, "root");
        yajl_gen_map_open(g);
        gk_json_kstr(g, "path", s->root.path);
        if (s->root.readonly)
                gk_json_kbool(g, "readonly", true);
        yajl_gen_map_close(g);
        if (s->hostname)
                gk_json_kstr(g, "hostname", s->hostname);
        if (s->domainname)
                gk_json_kstr(g, "domainname", s->domainname);
        if (s->mounts) {
                gk_json_str(g, "mounts");
                yajl_gen_array_open(g);
                for (size_t i = 0; i < s->n_mounts; i++)
                        emit_mount(g, &s->mounts[i]);
                yajl_gen_array_close(g);
        }
        emit_hooks(g, &s->hooks);
        if (s->annotations)
                spec_emit_map(g, "annotations", s->annotations, s->n_annotations);
        spec_emit_linux(g, &s->linux);
        yajl_gen_map_close(g);
}

int gk_spec_emit(const gk_spec *spec, char **out, size_t *len, gk_error **err)
{
        _cleanup_(gk_json_genp) yajl_gen g = gk_json_gen_new(true);

        if (!g)
                return gk_error_make(err, ENOMEM, "config.json");
        emit_spec(g, spec);
        return gk_json_gen_finish(g, out, len, err);
}
