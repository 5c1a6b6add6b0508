/* Freeing the config.json model.  Every free is NULL-safe and copes with a
 * model the parser left half-filled on an error (arrays are allocated
 * zeroed with their count set first). */
#include <stdlib.h>

#include "gk/cleanup.h"
#include "spec_internal.h"

void spec_kv_free(gk_kv *kv, size_t n)
{
        for (size_t i = 0; kv && i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
}

void spec_free_idmaps(gk_idmap *m)
{
        free(m);
}

static void capset_free(gk_capset *s)
{
        free(s->caps);
}

void gk_process_free(gk_process *p)
{
        if (!p)
                return;
        gk_strvfree(p->args);
        gk_strvfree(p->env);
        free(p->cwd);
        free(p->user.additional_gids);
        free(p->user.username);
        capset_free(&p->capabilities.bounding);
        capset_free(&p->capabilities.effective);
        capset_free(&p->capabilities.inheritable);
        capset_free(&p->capabilities.permitted);
        capset_free(&p->capabilities.ambient);
        for (size_t i = 0; p->rlimits && i < p->n_rlimits; i++)
                free(p->rlimits[i].type);
        free(p->rlimits);
        free(p->apparmor_profile);
        free(p->selinux_label);
        free(p->exec_cpu_affinity.initial);
        free(p->exec_cpu_affinity.final);
        free(p);
}

void gk_process_freep(gk_process **p)
{
        gk_process_free(*p);
        *p = NULL;
}

void gk_mount_clear(gk_mount *m)
{
        free(m->destination);
        free(m->type);
        free(m->source);
        gk_strvfree(m->options);
        free(m->data);
        spec_free_idmaps(m->uid_mappings);
        spec_free_idmaps(m->gid_mappings);
        *m = (gk_mount){ 0 };
}

static void hook_list_free(gk_hook_list *l)
{
        for (size_t i = 0; l->hooks && i < l->n; i++) {
                free(l->hooks[i].path);
                gk_strvfree(l->hooks[i].args);
                gk_strvfree(l->hooks[i].env);
        }
        free(l->hooks);
}

static void blkio_free(gk_blkio *b)
{
        free(b->weight_device);
        free(b->throttle_read_bps);
        free(b->throttle_write_bps);
        free(b->throttle_read_iops);
        free(b->throttle_write_iops);
}

void gk_resources_clear(gk_resources *r)
{
        if (!r)
                return;
        for (size_t i = 0; r->devices && i < r->n_devices; i++)
                free(r->devices[i].access);
        free(r->devices);
        free(r->cpu.cpus);
        free(r->cpu.mems);
        blkio_free(&r->blkio);
        for (size_t i = 0; r->hugepage_limits && i < r->n_hugepage_limits; i++)
                free(r->hugepage_limits[i].page_size);
        free(r->hugepage_limits);
        for (size_t i = 0; r->net_priorities && i < r->n_net_priorities; i++)
                free(r->net_priorities[i].name);
        free(r->net_priorities);
        for (size_t i = 0; r->rdma && i < r->n_rdma; i++)
                free(r->rdma[i].device);
        free(r->rdma);
        spec_kv_free(r->unified, r->n_unified);
        *r = (gk_resources){ 0 };
}

void gk_seccomp_clear(gk_seccomp *s)
{
        gk_strvfree(s->architectures);
        gk_strvfree(s->flags);
        free(s->listener_path);
        free(s->listener_metadata);
        for (size_t i = 0; s->syscalls && i < s->n_syscalls; i++) {
                gk_strvfree(s->syscalls[i].names);
                free(s->syscalls[i].args);
        }
        free(s->syscalls);
        *s = (gk_seccomp){ 0 };
}

void spec_free_linux(gk_linux *l)
{
        for (int t = 0; t < GK_NS_COUNT; t++)
                free(l->namespaces[t].path);
        spec_free_idmaps(l->uid_mappings);
        spec_free_idmaps(l->gid_mappings);
        for (size_t i = 0; l->devices && i < l->n_devices; i++)
                free(l->devices[i].path);
        free(l->devices);
        free(l->cgroups_path);
        gk_resources_clear(&l->resources);
        free(l->rootfs_propagation);
        gk_seccomp_clear(&l->seccomp);
        spec_kv_free(l->sysctl, l->n_sysctl);
        gk_strvfree(l->masked_paths);
        gk_strvfree(l->readonly_paths);
        free(l->mount_label);
        free(l->personality.domain);
        free(l->memory_policy.nodes);
        spec_free_intel_rdt(&l->intel_rdt);
        spec_free_net_devices(l);
}

void gk_spec_free(gk_spec *s)
{
        gk_hook_list *lists[6];

        if (!s)
                return;
        free(s->oci_version);
        gk_process_free(s->process);
        free(s->root.path);
        free(s->hostname);
        free(s->domainname);
        for (size_t i = 0; s->mounts && i < s->n_mounts; i++)
                gk_mount_clear(&s->mounts[i]);
        free(s->mounts);
        lists[0] = &s->hooks.prestart;
        lists[1] = &s->hooks.create_runtime;
        lists[2] = &s->hooks.create_container;
        lists[3] = &s->hooks.start_container;
        lists[4] = &s->hooks.poststart;
        lists[5] = &s->hooks.poststop;
        for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
                hook_list_free(lists[i]);
        spec_kv_free(s->annotations, s->n_annotations);
        spec_free_linux(&s->linux);
        free(s);
}

void gk_spec_freep(gk_spec **s)
{
        gk_spec_free(*s);
        *s = NULL;
}
