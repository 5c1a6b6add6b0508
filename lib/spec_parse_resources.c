/* config.json parsing of linux.resources (cgroup limits), also used alone
 * for `gkrun update --resources FILE` (gk_resources_parse). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gk/cleanup.h"
#include "gk/json.h"
#include "spec_internal.h"

#define TRY(expr)                                                              \
        do {                                                                   \
                int _r = (expr);                                               \
                if (_r < 0)                                                    \
                        return _r;                                             \
        } while (0)

/* Optional numbers: OPT_I64(ctx, obj, "key", min, max, struct, field). */
#define OPT_I64(c, v, key, min, max, s, f)                                     \
        do {                                                                   \
                int _r = sp_i64(c, v, key, min, max, &(s)->f);                 \
                if (_r < 0)                                                    \
                        return _r;                                             \
                (s)->has_##f = _r > 0;                                         \
        } while (0)
#define OPT_U64(c, v, key, max, s, f)                                          \
        do {                                                                   \
                uint64_t _n = 0;                                               \
                int _r = sp_u64(c, v, key, max, &_n);                          \
                if (_r < 0)                                                    \
                        return _r;                                             \
                (s)->has_##f = _r > 0;                                         \
                (s)->f = _n;                                                   \
        } while (0)
#define OPT_BOOL(c, v, key, s, f)                                              \
        do {                                                                   \
                int _r = sp_bool(c, v, key, &(s)->f);                          \
                if (_r < 0)                                                    \
                        return _r;                                             \
                (s)->has_##f = _r > 0;                                         \
        } while (0)

static int fail_at(sp_ctx *c, const char *key, const char *msg)
{
        sp_push(c, key);
        return sp_fail(c, "%s", msg);
}

/* Runs FN on each element of array KEY of OBJ, with the path kept. */
static int each(sp_ctx *c, yajl_val obj, const char *key, size_t elem_size, void **arr,
                size_t *n, int (*fn)(sp_ctx *, yajl_val, void *))
{
        yajl_val v;
        size_t old;

        TRY(sp_arr(c, obj, key, &v));
        if (!v)
                return 0;
        *arr = sp_calloc(c, v->u.array.len, elem_size);
        if (!*arr)
                return -ENOMEM;
        *n = v->u.array.len;
        old = sp_push(c, key);
        for (size_t i = 0; i < v->u.array.len; i++) {
                size_t o2 = sp_push_idx(c, i);

                if (!YAJL_IS_OBJECT(v->u.array.values[i]))
                        return sp_fail(c, "must be an object");
                TRY(fn(c, v->u.array.values[i], (char *) *arr + i * elem_size));
                sp_pop(c, o2);
        }
        sp_pop(c, old);
        return 0;
}

/* major/minor of a device rule: absent or null is the wildcard -1. */
static int wildcard(sp_ctx *c, yajl_val v, const char *key, int64_t *out)
{
        int r;

        TRY(r = sp_i64(c, v, key, -1, INT64_MAX, out));
        if (r == 0)
                *out = -1;
        return 0;
}

static int parse_device_rule(sp_ctx *c, yajl_val v, void *p)
{
        gk_device_rule *d = p;
        _cleanup_free_ char *type = NULL;
        int r;

        TRY(r = sp_bool(c, v, "allow", &d->allow));
        if (r == 0)
                return fail_at(c, "allow", "required");
        TRY(sp_str(c, v, "type", &type));
        d->type = 'a';
        if (type) {
                if (strlen(type) != 1 || !strchr("abc", type[0])) {
                        sp_push(c, "type");
                        return sp_fail(c, "unknown device type \"%s\" (want a, b or c)", type);
                }
                d->type = type[0];
        }
        TRY(wildcard(c, v, "major", &d->major));
        TRY(wildcard(c, v, "minor", &d->minor));
        TRY(sp_str(c, v, "access", &d->access));
        if (d->access && (!d->access[0] || d->access[strspn(d->access, "rwm")])) {
                sp_push(c, "access");
                return sp_fail(c, "invalid access \"%s\" (want a combination of r, w and m)",
                               d->access);
        }
        return 0;
}

static int parse_memory(sp_ctx *c, yajl_val v, gk_memory *m)
{
        OPT_I64(c, v, "limit", -1, INT64_MAX, m, limit);
        OPT_I64(c, v, "reservation", -1, INT64_MAX, m, reservation);
        OPT_I64(c, v, "swap", -1, INT64_MAX, m, swap);
        OPT_I64(c, v, "kernel", -1, INT64_MAX, m, kernel);
        OPT_I64(c, v, "kernelTCP", -1, INT64_MAX, m, kernel_tcp);
        OPT_U64(c, v, "swappiness", 100, m, swappiness);
        OPT_BOOL(c, v, "disableOOMKiller", m, disable_oom_killer);
        OPT_BOOL(c, v, "useHierarchy", m, use_hierarchy);
        OPT_BOOL(c, v, "checkBeforeUpdate", m, check_before_update);
        return 0;
}

static int parse_cpu(sp_ctx *c, yajl_val v, gk_cpu *p)
{
        OPT_U64(c, v, "shares", UINT64_MAX, p, shares);
        OPT_I64(c, v, "quota", -1, INT64_MAX, p, quota);
        OPT_U64(c, v, "burst", UINT64_MAX, p, burst);
        OPT_U64(c, v, "period", UINT64_MAX, p, period);
        OPT_I64(c, v, "realtimeRuntime", -1, INT64_MAX, p, realtime_runtime);
        OPT_U64(c, v, "realtimePeriod", UINT64_MAX, p, realtime_period);
        TRY(sp_str(c, v, "cpus", &p->cpus));
        TRY(sp_str(c, v, "mems", &p->mems));
        OPT_I64(c, v, "idle", INT64_MIN, INT64_MAX, p, idle);
        return 0;
}

static int parse_blkio_major_minor(sp_ctx *c, yajl_val v, gk_blkio_device *d)
{
        if (!gk_json_get(v, "major"))
                return fail_at(c, "major", "required");
        TRY(sp_i64(c, v, "major", 0, INT64_MAX, &d->major));
        if (!gk_json_get(v, "minor"))
                return fail_at(c, "minor", "required");
        TRY(sp_i64(c, v, "minor", 0, INT64_MAX, &d->minor));
        return 0;
}

static int parse_weight_device(sp_ctx *c, yajl_val v, void *p)
{
        gk_blkio_device *d = p;

        TRY(parse_blkio_major_minor(c, v, d));
        OPT_U64(c, v, "weight", UINT16_MAX, d, weight);
        OPT_U64(c, v, "leafWeight", UINT16_MAX, d, leaf_weight);
        return 0;
}

static int parse_throttle_device(sp_ctx *c, yajl_val v, void *p)
{
        gk_blkio_device *d = p;
        int r;

        TRY(parse_blkio_major_minor(c, v, d));
        TRY(r = sp_u64(c, v, "rate", UINT64_MAX, &d->rate));
        if (r == 0)
                return fail_at(c, "rate", "required");
        return 0;
}

static int parse_blkio(sp_ctx *c, yajl_val v, gk_blkio *b)
{
        OPT_U64(c, v, "weight", UINT16_MAX, b, weight);
        OPT_U64(c, v, "leafWeight", UINT16_MAX, b, leaf_weight);
        TRY(each(c, v, "weightDevice", sizeof(gk_blkio_device), (void **) &b->weight_device,
                 &b->n_weight_device, parse_weight_device));
        TRY(each(c, v, "throttleReadBpsDevice", sizeof(gk_blkio_device),
                 (void **) &b->throttle_read_bps, &b->n_throttle_read_bps, parse_throttle_device));
        TRY(each(c, v, "throttleWriteBpsDevice", sizeof(gk_blkio_device),
                 (void **) &b->throttle_write_bps, &b->n_throttle_write_bps, parse_throttle_device));
        TRY(each(c, v, "throttleReadIOPSDevice", sizeof(gk_blkio_device),
                 (void **) &b->throttle_read_iops, &b->n_throttle_read_iops, parse_throttle_device));
        TRY(each(c, v, "throttleWriteIOPSDevice", sizeof(gk_blkio_device),
                 (void **) &b->throttle_write_iops, &b->n_throttle_write_iops,
                 parse_throttle_device));
        return 0;
}

static int parse_hugepage(sp_ctx *c, yajl_val v, void *p)
{
        gk_hugepage_limit *h = p;
        int r;

        TRY(sp_str(c, v, "pageSize", &h->page_size));
        if (!h->page_size)
                return fail_at(c, "pageSize", "required");
        TRY(r = sp_u64(c, v, "limit", UINT64_MAX, &h->limit));
        if (r == 0)
                return fail_at(c, "limit", "required");
        return 0;
}

static int parse_net_priority(sp_ctx *c, yajl_val v, void *p)
{
        gk_net_priority *n = p;
        int r;

        TRY(sp_str(c, v, "name", &n->name));
        if (!n->name)
                return fail_at(c, "name", "required");
        TRY(r = sp_u32(c, v, "priority", &n->priority));
        if (r == 0)
                return fail_at(c, "priority", "required");
        return 0;
}

static int parse_network(sp_ctx *c, yajl_val v, gk_resources *r)
{
        uint32_t id = 0;
        int n;

        TRY(n = sp_u32(c, v, "classID", &id));
        r->has_net_class_id = n > 0;
        r->net_class_id = id;
        TRY(each(c, v, "priorities", sizeof(gk_net_priority), (void **) &r->net_priorities,
                 &r->n_net_priorities, parse_net_priority));
        return 0;
}

static int parse_rdma(sp_ctx *c, yajl_val v, gk_resources *r)
{
        r->rdma = sp_calloc(c, v->u.object.len, sizeof(gk_rdma_limit));
        if (!r->rdma)
                return -ENOMEM;
        r->n_rdma = v->u.object.len;
        for (size_t i = 0; i < v->u.object.len; i++) {
                gk_rdma_limit *l = &r->rdma[i];
                yajl_val e = v->u.object.values[i];
                size_t old = sp_push_mapkey(c, v->u.object.keys[i]);
                uint64_t n = 0;
                int k;

                l->device = strdup(v->u.object.keys[i]);
                if (!l->device)
                        return sp_nomem(c);
                if (!YAJL_IS_OBJECT(e))
                        return sp_fail(c, "must be an object");
                TRY(k = sp_u64(c, e, "hcaHandles", UINT32_MAX, &n));
                l->has_hca_handles = k > 0;
                l->hca_handles = (uint32_t) n;
                TRY(k = sp_u64(c, e, "hcaObjects", UINT32_MAX, &n));
                l->has_hca_objects = k > 0;
                l->hca_objects = (uint32_t) n;
                sp_pop(c, old);
        }
        return 0;
}

/* Reads object KEY of V and runs FN on it with the path kept; *has says
 * whether it was there. */
#define SUB(c, v, key, has, call)                                              \
        do {                                                                   \
                yajl_val sub;                                                  \
                TRY(sp_obj(c, v, key, &sub));                                  \
                if (sub) {                                                     \
                        size_t _old = sp_push(c, key);                         \
                        has = true;                                            \
                        TRY(call);                                             \
                        sp_pop(c, _old);                                       \
                }                                                              \
        } while (0)

int spec_parse_resources(sp_ctx *c, yajl_val v, gk_resources *r)
{
        bool rdma = false;

        if (!YAJL_IS_OBJECT(v))
                return sp_fail(c, "must be an object");
        r->present = true;
        TRY(each(c, v, "devices", sizeof(gk_device_rule), (void **) &r->devices, &r->n_devices,
                 parse_device_rule));
        SUB(c, v, "memory", r->has_memory, parse_memory(c, sub, &r->memory));
        SUB(c, v, "cpu", r->has_cpu, parse_cpu(c, sub, &r->cpu));
        {
                yajl_val pids;

                TRY(sp_obj(c, v, "pids", &pids));
                if (pids) {
                        size_t old = sp_push(c, "pids");

                        r->has_pids = true;
                        if (!gk_json_get(pids, "limit"))
                                return fail_at(c, "limit", "required");
                        TRY(sp_i64(c, pids, "limit", -1, INT64_MAX, &r->pids_limit));
                        sp_pop(c, old);
                }
        }
        SUB(c, v, "blockIO", r->has_blkio, parse_blkio(c, sub, &r->blkio));
        TRY(each(c, v, "hugepageLimits", sizeof(gk_hugepage_limit), (void **) &r->hugepage_limits,
                 &r->n_hugepage_limits, parse_hugepage));
        SUB(c, v, "network", r->has_network, parse_network(c, sub, r));
        SUB(c, v, "rdma", rdma, parse_rdma(c, sub, r));
        (void) rdma; /* r->rdma says it */
        TRY(sp_map(c, v, "unified", &r->unified, &r->n_unified));
        return 0;
}

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
        ret = spec_parse_resources(&c, top, &r);
        if (ret < 0) {
                gk_resources_clear(&r);
                return ret;
        }
        *out = r;
        return 0;
}
