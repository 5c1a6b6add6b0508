/* Writing the linux object of the config.json model (namespaces, mappings,
 * devices, resources, seccomp, ...), the counterpart of
 * spec_parse_linux.c and spec_parse_resources.c. */
#include <string.h>

#include "gk/json.h"
#include "spec_internal.h"

/* Optional numbers: written only when has_X. */
#define EMIT_OPT_I64(g, key, s, f)                     \
        do {                                           \
                if ((s)->has_##f)                      \
                        spec_emit_i64(g, key, (s)->f); \
        } while (0)
#define EMIT_OPT_U64(g, key, s, f)                     \
        do {                                           \
                if ((s)->has_##f)                      \
                        spec_emit_u64(g, key, (s)->f); \
        } while (0)
#define EMIT_OPT_BOOL(g, key, s, f)                    \
        do {                                           \
                if ((s)->has_##f)                      \
                        gk_json_kbool(g, key, (s)->f); \
        } while (0)

static void emit_device_rules(yajl_gen g, const gk_resources *r)
{
        gk_json_str(g, "devices");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < r->n_devices; i++) {
                const gk_device_rule *d = &r->devices[i];
                char type[2] = { d->type ? d->type : 'a', 0 };

                yajl_gen_map_open(g);
                gk_json_kbool(g, "allow", d->allow);
                if (type[0] != 'a')
                        gk_json_kstr(g, "type", type);
                if (d->major != -1)
                        spec_emit_i64(g, "major", d->major);
                if (d->minor != -1)
                        spec_emit_i64(g, "minor", d->minor);
                if (d->access)
                        gk_json_kstr(g, "access", d->access);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static void emit_memory(yajl_gen g, const gk_memory *m)
{
        gk_json_str(g, "memory");
        yajl_gen_map_open(g);
        EMIT_OPT_I64(g, "limit", m, limit);
        EMIT_OPT_I64(g, "reservation", m, reservation);
        EMIT_OPT_I64(g, "swap", m, swap);
        EMIT_OPT_I64(g, "kernel", m, kernel);
        EMIT_OPT_I64(g, "kernelTCP", m, kernel_tcp);
        EMIT_OPT_U64(g, "swappiness", m, swappiness);
        EMIT_OPT_BOOL(g, "disableOOMKiller", m, disable_oom_killer);
        EMIT_OPT_BOOL(g, "useHierarchy", m, use_hierarchy);
        EMIT_OPT_BOOL(g, "checkBeforeUpdate", m, check_before_update);
        yajl_gen_map_close(g);
}

static void emit_cpu(yajl_gen g, const gk_cpu *c)
{
        gk_json_str(g, "cpu");
        yajl_gen_map_open(g);
        EMIT_OPT_U64(g, "shares", c, shares);
        EMIT_OPT_I64(g, "quota", c, quota);
        EMIT_OPT_U64(g, "burst", c, burst);
        EMIT_OPT_U64(g, "period", c, period);
        EMIT_OPT_I64(g, "realtimeRuntime", c, realtime_runtime);
        EMIT_OPT_U64(g, "realtimePeriod", c, realtime_period);
        if (c->cpus)
                gk_json_kstr(g, "cpus", c->cpus);
        if (c->mems)
                gk_json_kstr(g, "mems", c->mems);
        EMIT_OPT_I64(g, "idle", c, idle);
        yajl_gen_map_close(g);
}

static void emit_blkio_devices(yajl_gen g, const char *key, const gk_blkio_device *d, size_t n,
                               bool throttle)
{
        if (!d)
                return;
        gk_json_str(g, key);
        yajl_gen_array_open(g);
        for (size_t i = 0; i < n; i++) {
                yajl_gen_map_open(g);
                spec_emit_i64(g, "major", d[i].major);
                spec_emit_i64(g, "minor", d[i].minor);
                if (throttle) {
                        spec_emit_u64(g, "rate", d[i].rate);
                } else {
                        EMIT_OPT_U64(g, "weight", &d[i], weight);
                        EMIT_OPT_U64(g, "leafWeight", &d[i], leaf_weight);
                }
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static void emit_blkio(yajl_gen g, const gk_blkio *b)
{
        gk_json_str(g, "blockIO");
        yajl_gen_map_open(g);
        EMIT_OPT_U64(g, "weight", b, weight);
        EMIT_OPT_U64(g, "leafWeight", b, leaf_weight);
        emit_blkio_devices(g, "weightDevice", b->weight_device, b->n_weight_device, false);
        emit_blkio_devices(g, "throttleReadBpsDevice", b->throttle_read_bps,
                           b->n_throttle_read_bps, true);
        emit_blkio_devices(g, "throttleWriteBpsDevice", b->throttle_write_bps,
                           b->n_throttle_write_bps, true);
        emit_blkio_devices(g, "throttleReadIOPSDevice", b->throttle_read_iops,
                           b->n_throttle_read_iops, true);
        emit_blkio_devices(g, "throttleWriteIOPSDevice", b->throttle_write_iops,
                           b->n_throttle_write_iops, true);
        yajl_gen_map_close(g);
}

static void emit_network_rdma(yajl_gen g, const gk_resources *r)
{
        if (r->has_network) {
                gk_json_str(g, "network");
                yajl_gen_map_open(g);
                EMIT_OPT_U64(g, "classID", r, net_class_id);
                if (r->net_priorities) {
                        gk_json_str(g, "priorities");
                        yajl_gen_array_open(g);
                        for (size_t i = 0; i < r->n_net_priorities; i++) {
                                yajl_gen_map_open(g);
                                gk_json_kstr(g, "name", r->net_priorities[i].name);
                                spec_emit_u64(g, "priority", r->net_priorities[i].priority);
                                yajl_gen_map_close(g);
                        }
                        yajl_gen_array_close(g);
                }
                yajl_gen_map_close(g);
        }
        if (r->rdma) {
                gk_json_str(g, "rdma");
                yajl_gen_map_open(g);
                for (size_t i = 0; i < r->n_rdma; i++) {
                        gk_json_str(g, r->rdma[i].device);
                        yajl_gen_map_open(g);
                        EMIT_OPT_U64(g, "hcaHandles", &r->rdma[i], hca_handles);
                        EMIT_OPT_U64(g, "hcaObjects", &r->rdma[i], hca_objects);
                        yajl_gen_map_close(g);
                }
                yajl_gen_map_close(g);
        }
}

void spec_emit_resources(yajl_gen g, const gk_resources *r)
{
        yajl_gen_map_open(g);
        if (r->devices)
                emit_device_rules(g, r);
        if (r->has_memory)
                emit_memory(g, &r->memory);
        if (r->has_cpu)
                emit_cpu(g, &r->cpu);
        if (r->has_pids) {
                gk_json_str(g, "pids");
                yajl_gen_map_open(g);
                spec_emit_i64(g, "limit", r->pids_limit);
                yajl_gen_map_close(g);
        }
        if (r->has_blkio)
                emit_blkio(g, &r->blkio);
        if (r->hugepage_limits) {
                gk_json_str(g, "hugepageLimits");
                yajl_gen_array_open(g);
                for (size_t i = 0; i < r->n_hugepage_limits; i++) {
                        yajl_gen_map_open(g);
                        gk_json_kstr(g, "pageSize", r->hugepage_limits[i].page_size);
                        spec_emit_u64(g, "limit", r->hugepage_limits[i].limit);
                        yajl_gen_map_close(g);
                }
                yajl_gen_array_close(g);
        }
        emit_network_rdma(g, r);
        if (r->unified)
                spec_emit_map(g, "unified", r->unified, r->n_unified);
        yajl_gen_map_close(g);
}

static void emit_namespaces(yajl_gen g, const gk_linux *l)
{
        bool any = false;

        for (int t = 0; t < GK_NS_COUNT; t++)
                any |= l->namespaces[t].present;
        if (!any)
                return;
        gk_json_str(g, "namespaces");
        yajl_gen_array_open(g);
        for (int i = 0; i < GK_NS_COUNT; i++) {
                int t = spec_ns_emit_order[i];

                if (!l->namespaces[t].present)
                        continue;
                yajl_gen_map_open(g);
                gk_json_kstr(g, "type", gk_ns_type_name(t));
                if (l->namespaces[t].path)
                        gk_json_kstr(g, "path", l->namespaces[t].path);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static void emit_devices(yajl_gen g, const gk_linux *l)
{
        gk_json_str(g, "devices");
        yajl_gen_array_open(g);
        for (size_t i = 0; i < l->n_devices; i++) {
                const gk_device *d = &l->devices[i];
                char type[2] = { d->type, 0 };

                yajl_gen_map_open(g);
                gk_json_kstr(g, "path", d->path);
                gk_json_kstr(g, "type", type);
                if (d->type != 'p') {
                        spec_emit_i64(g, "major", d->major);
                        spec_emit_i64(g, "minor", d->minor);
                }
                if (d->has_file_mode)
                        spec_emit_u64(g, "fileMode", d->file_mode);
                if (d->has_uid)
                        spec_emit_u64(g, "uid", d->uid);
                if (d->has_gid)
                        spec_emit_u64(g, "gid", d->gid);
                yajl_gen_map_close(g);
        }
        yajl_gen_array_close(g);
}

static void emit_seccomp_rule(yajl_gen g, const gk_seccomp_rule *r)
{
        yajl_gen_map_open(g);
        spec_emit_strv(g, "names", r->names, r->n_names);
        gk_json_kstr(g, "action", gk_seccomp_action_name(r->action));
        if (r->has_errno_ret)
                spec_emit_u64(g, "errnoRet", r->errno_ret);
        if (r->args) {
                gk_json_str(g, "args");
                yajl_gen_array_open(g);
                for (size_t i = 0; i < r->n_args; i++) {
                        yajl_gen_map_open(g);
                        spec_emit_u64(g, "index", r->args[i].index);
                        spec_emit_u64(g, "value", r->args[i].value);
                        if (r->args[i].value_two)
                                spec_emit_u64(g, "valueTwo", r->args[i].value_two);
                        gk_json_kstr(g, "op", gk_seccomp_op_name(r->args[i].op));
                        yajl_gen_map_close(g);
                }
                yajl_gen_array_close(g);
        }
        yajl_gen_map_close(g);
}

static void emit_seccomp(yajl_gen g, const gk_seccomp *s)
{
        gk_json_str(g, "seccomp");
        yajl_gen_map_open(g);
        gk_json_kstr(g, "defaultAction", gk_seccomp_action_name(s->default_action));
        if (s->has_default_errno_ret)
                spec_emit_u64(g, "defaultErrnoRet", s->default_errno_ret);
        if (s->architectures)
                spec_emit_strv(g, "architectures", s->architectures, s->n_architectures);
        if (s->flags)
                spec_emit_strv(g, "flags", s->flags, s->n_flags);
        if (s->listener_path)
                gk_json_kstr(g, "listenerPath", s->listener_path);
        if (s->listener_metadata)
                gk_json_kstr(g, "listenerMetadata", s->listener_metadata);
        if (s->syscalls) {
                gk_json_str(g, "syscalls");
                yajl_gen_array_open(g);
                for (size_t i = 0; i < s->n_syscalls; i++)
                        emit_seccomp_rule(g, &s->syscalls[i]);
                yajl_gen_array_close(g);
        }
        yajl_gen_map_close(g);
}

static void emit_time_offset(yajl_gen g, const char *key, const gk_time_offset *t)
{
        if (!t->present)
                return;
        gk_json_str(g, key);
        yajl_gen_map_open(g);
        spec_emit_i64(g, "secs", t->secs);
        spec_emit_u64(g, "nanosecs", t->nanosecs);
        yajl_gen_map_close(g);
}

static void emit_linux_tail(yajl_gen g, const gk_linux *l)
{
        if (l->rootfs_propagation)
                gk_json_kstr(g, "rootfsPropagation", l->rootfs_propagation);
        if (l->masked_paths)
                spec_emit_strv(g, "maskedPaths", l->masked_paths, l->n_masked_paths);
        if (l->readonly_paths)
                spec_emit_strv(g, "readonlyPaths", l->readonly_paths, l->n_readonly_paths);
        if (l->mount_label)
                gk_json_kstr(g, "mountLabel", l->mount_label);
        spec_emit_intel_rdt(g, &l->intel_rdt);
        spec_emit_net_devices(g, l);
        if (l->personality.present) {
                gk_json_str(g, "personality");
                yajl_gen_map_open(g);
                gk_json_kstr(g, "domain", l->personality.domain);
                spec_emit_flag_names(g, "flags", &spec_personality_flags, l->personality.flags);
                yajl_gen_map_close(g);
        }
        spec_emit_memory_policy(g, &l->memory_policy);
        if (l->time_offsets_monotonic.present || l->time_offsets_boottime.present) {
                gk_json_str(g, "timeOffsets");
                yajl_gen_map_open(g);
                emit_time_offset(g, "monotonic", &l->time_offsets_monotonic);
                emit_time_offset(g, "boottime", &l->time_offsets_boottime);
                yajl_gen_map_close(g);
        }
}

void spec_emit_linux(yajl_gen g, const gk_linux *l)
{
        gk_json_str(g, "linux");
        yajl_gen_map_open(g);
        if (l->uid_mappings)
                spec_emit_idmaps(g, "uidMappings", l->uid_mappings, l->n_uid_mappings);
        if (l->gid_mappings)
                spec_emit_idmaps(g, "gidMappings", l->gid_mappings, l->n_gid_mappings);
        if (l->sysctl)
                spec_emit_map(g, "sysctl", l->sysctl, l->n_sysctl);
        if (l->resources.present) {
                gk_json_str(g, "resources");
                spec_emit_resources(g, &l->resources);
        }
        if (l->cgroups_path)
                gk_json_kstr(g, "cgroupsPath", l->cgroups_path);
        emit_namespaces(g, l);
        if (l->devices)
                emit_devices(g, l);
        if (l->seccomp.present)
                emit_seccomp(g, &l->seccomp);
        emit_linux_tail(g, l);
        yajl_gen_map_close(g);
}
