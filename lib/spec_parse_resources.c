/* config.json parsing of linux.resources (cgroup limits), also used alone
 * for `gkrun update --resources FILE` (gk_resources_parse). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "gk/json.h"
#include "spec_internal.h"

#define TRY(expr)                  \
        do {                       \
                int _r = (expr);   \
                if (_r < 0)        \
                        return _r; \
        } while (0)

/* Optional numbers, each with its has_ flag. */
#define OPT_I64(T, key, m, lo)                                                                \
        {                                                                                     \
                key, sp_f_int, SP_AT(T, m), SP_HAS(T, has_##m), .min = (lo), .max = INT64_MAX \
        }
#define OPT_U(T, key, m, hi)                                                 \
        {                                                                    \
                key, sp_f_uint, SP_AT(T, m), SP_HAS(T, has_##m), .max = (hi) \
        }
#define OPT_BOOL(T, key, m)                                     \
        {                                                       \
                key, sp_f_bool, SP_AT(T, m), SP_HAS(T, has_##m) \
        }

static int device_rule_type(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        _cleanup_free_ char *type = NULL;
        char *out = SP_PTR(f, base);

        *out = 'a';
        if (!v)
                return 0;
        TRY(sp_val_str(c, v, &type));
        if (strlen(type) != 1 || !strchr("abc", type[0]))
                return sp_fail(c, "unknown device type \"%s\" (want a, b or c)", type);
        *out = type[0];
        return 0;
}

/* major/minor of a device rule: absent or null is the wildcard -1. */
static int wildcard(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        if (v)
                return sp_f_int(c, v, f, base);
        *(int64_t *) SP_PTR(f, base) = -1;
        return 0;
}

static int rule_access(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        char **a = SP_PTR(f, base);

        TRY(sp_val_str(c, v, a));
        if (!(*a)[0] || (*a)[strspn(*a, "rwm")])
                return sp_fail(c, "invalid access \"%s\" (want a combination of r, w and m)", *a);
        return 0;
}

static const sp_field device_rule_fields[] = {
        { "allow", sp_f_bool, SP_AT(gk_device_rule, allow), .flags = SP_REQUIRED },
        { "type", device_rule_type, SP_AT(gk_device_rule, type), .flags = SP_RAW },
        { "major", wildcard, SP_AT(gk_device_rule, major), .min = -1, .max = INT64_MAX,
          .flags = SP_RAW },
        { "minor", wildcard, SP_AT(gk_device_rule, minor), .min = -1, .max = INT64_MAX,
          .flags = SP_RAW },
        { "access", rule_access, SP_AT(gk_device_rule, access) },
        SP_END,
};

static const sp_field memory_fields[] = {
        OPT_I64(gk_memory, "limit", limit, -1),
        OPT_I64(gk_memory, "reservation", reservation, -1),
        OPT_I64(gk_memory, "swap", swap, -1),
        OPT_I64(gk_memory, "kernel", kernel, -1),
        OPT_I64(gk_memory, "kernelTCP", kernel_tcp, -1),
        OPT_U(gk_memory, "swappiness", swappiness, 100),
        OPT_BOOL(gk_memory, "disableOOMKiller", disable_oom_killer),
        OPT_BOOL(gk_memory, "useHierarchy", use_hierarchy),
        OPT_BOOL(gk_memory, "checkBeforeUpdate", check_before_update),
        SP_END,
};

static const sp_field cpu_fields[] = {
        OPT_U(gk_cpu, "shares", shares, UINT64_MAX),
        OPT_I64(gk_cpu, "quota", quota, -1),
        OPT_U(gk_cpu, "burst", burst, UINT64_MAX),
        OPT_U(gk_cpu, "period", period, UINT64_MAX),
        OPT_I64(gk_cpu, "realtimeRuntime", realtime_runtime, -1),
        OPT_U(gk_cpu, "realtimePeriod", realtime_period, UINT64_MAX),
        { "cpus", sp_f_str, SP_AT(gk_cpu, cpus) },
        { "mems", sp_f_str, SP_AT(gk_cpu, mems) },
        OPT_I64(gk_cpu, "idle", idle, INT64_MIN),
        SP_END,
};

#define BLKIO_MAJOR_MINOR                                                                     \
        { "major",  sp_f_int,         SP_AT(gk_blkio_device, major),                          \
          .min = 0, .max = INT64_MAX, .flags = SP_KEY_REQUIRED },                             \
        {                                                                                     \
                "minor", sp_f_int, SP_AT(gk_blkio_device, minor), .min = 0, .max = INT64_MAX, \
                                                                  .flags = SP_KEY_REQUIRED    \
        }

static const sp_field weight_device_fields[] = {
        BLKIO_MAJOR_MINOR,
        OPT_U(gk_blkio_device, "weight", weight, UINT16_MAX),
        OPT_U(gk_blkio_device, "leafWeight", leaf_weight, UINT16_MAX),
        SP_END,
};

static const sp_field throttle_device_fields[] = {
        BLKIO_MAJOR_MINOR,
        { "rate", sp_f_uint, SP_AT(gk_blkio_device, rate), .flags = SP_REQUIRED },
        SP_END,
};

static const sp_array weight_device_array = { sizeof(gk_blkio_device), weight_device_fields,
                                              NULL };
static const sp_array throttle_device_array = { sizeof(gk_blkio_device), throttle_device_fields,
                                                NULL };

#define THROTTLE(key, m)                                                      \
        {                                                                     \
                key, sp_f_array, SP_AT(gk_blkio, m), SP_AUX(gk_blkio, n_##m), \
                        .sub = &throttle_device_array                         \
        }

static const sp_field blkio_fields[] = {
        OPT_U(gk_blkio, "weight", weight, UINT16_MAX),
        OPT_U(gk_blkio, "leafWeight", leaf_weight, UINT16_MAX),
        { "weightDevice", sp_f_array, SP_AT(gk_blkio, weight_device),
          SP_AUX(gk_blkio, n_weight_device), .sub = &weight_device_array },
        THROTTLE("throttleReadBpsDevice", throttle_read_bps),
        THROTTLE("throttleWriteBpsDevice", throttle_write_bps),
        THROTTLE("throttleReadIOPSDevice", throttle_read_iops),
        THROTTLE("throttleWriteIOPSDevice", throttle_write_iops),
        SP_END,
};

static const sp_field hugepage_fields[] = {
        { "pageSize", sp_f_str, SP_AT(gk_hugepage_limit, page_size), .flags = SP_REQUIRED },
        { "limit", sp_f_uint, SP_AT(gk_hugepage_limit, limit), .flags = SP_REQUIRED },
        SP_END,
};

static const sp_field net_priority_fields[] = {
        { "name", sp_f_str, SP_AT(gk_net_priority, name), .flags = SP_REQUIRED },
        { "priority", sp_f_uint, SP_AT(gk_net_priority, priority), .flags = SP_REQUIRED },
        SP_END,
};

static const sp_array device_rule_array = { sizeof(gk_device_rule), device_rule_fields, NULL };
static const sp_array hugepage_array = { sizeof(gk_hugepage_limit), hugepage_fields, NULL };
static const sp_array net_priority_array = { sizeof(gk_net_priority), net_priority_fields, NULL };

/* Read into gk_resources itself: the network limits are its members. */
static const sp_field network_fields[] = {
        OPT_U(gk_resources, "classID", net_class_id, UINT32_MAX),
        { "priorities", sp_f_array, SP_AT(gk_resources, net_priorities),
          SP_AUX(gk_resources, n_net_priorities), .sub = &net_priority_array },
        SP_END,
};

static const sp_field pids_fields[] = {
        /* optional since runtime-spec 1.3: absent leaves pids.max alone */
        { "limit", sp_f_int, SP_AT(gk_resources, pids_limit), SP_HAS(gk_resources, has_pids),
          .min = -1, .max = INT64_MAX },
        SP_END,
};

static const sp_field rdma_fields[] = {
        OPT_U(gk_rdma_limit, "hcaHandles", hca_handles, UINT32_MAX),
        OPT_U(gk_rdma_limit, "hcaObjects", hca_objects, UINT32_MAX),
        SP_END,
};

/* An object of objects, keyed by device name. */
static int rdma(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        gk_resources *r = base;

        if (!YAJL_IS_OBJECT(v))
                return sp_fail(c, "must be an object");
        r->rdma = sp_calloc(c, v->u.object.len, sizeof(gk_rdma_limit));
        if (!r->rdma)
                return -ENOMEM;
        r->n_rdma = v->u.object.len;
        for (size_t i = 0; i < v->u.object.len; i++) {
                gk_rdma_limit *l = &r->rdma[i];
                size_t old = sp_push_mapkey(c, v->u.object.keys[i]);

                l->device = strdup(v->u.object.keys[i]);
                if (!l->device)
                        return sp_nomem(c);
                TRY(sp_fields(c, v->u.object.values[i], rdma_fields, l));
                sp_pop(c, old);
        }
        return 0;
}

const sp_field spec_resources_fields[] = {
        { "devices", sp_f_array, SP_AT(gk_resources, devices), SP_AUX(gk_resources, n_devices),
          .sub = &device_rule_array },
        { "memory", sp_f_object, SP_AT(gk_resources, memory), SP_HAS(gk_resources, has_memory),
          .sub = memory_fields },
        { "cpu", sp_f_object, SP_AT(gk_resources, cpu), SP_HAS(gk_resources, has_cpu),
          .sub = cpu_fields },
        { "pids", sp_f_object, .sub = pids_fields },
        { "blockIO", sp_f_object, SP_AT(gk_resources, blkio), SP_HAS(gk_resources, has_blkio),
          .sub = blkio_fields },
        { "hugepageLimits", sp_f_array, SP_AT(gk_resources, hugepage_limits),
          SP_AUX(gk_resources, n_hugepage_limits), .sub = &hugepage_array },
        { "network", sp_f_object, SP_HAS(gk_resources, has_network), .sub = network_fields },
        { "rdma", rdma },
        { "unified", sp_f_map, SP_AT(gk_resources, unified), SP_AUX(gk_resources, n_unified) },
        SP_END,
};

int gk_resources_parse(const char *text, size_t len, const char *what, gk_resources *out,
                       gk_error **err)
{
        _cleanup_(gk_json_freep) yajl_val top = NULL;
        gk_resources r = { 0 };
        sp_ctx c;
        int ret;

        if (gk_json_parse(text, len, what, &top, err) < 0)
                return gk_error_code(*err);
        sp_init(&c, what, err);
        r.present = true;
        ret = sp_fields(&c, top, spec_resources_fields, &r);
        if (ret < 0) {
                gk_resources_clear(&r);
                return ret;
        }
        *out = r;
        return 0;
}
