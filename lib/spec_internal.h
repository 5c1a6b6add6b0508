/* Internals shared by the config.json parser, emitter and name tables
 * (lib/spec_*.c).  Not part of gk's API: gkrun and gkimg use gk/spec.h. */
#ifndef GK_SPEC_INTERNAL_H
#define GK_SPEC_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "gk/spec.h"

/* The parse context: where the parser is ("process.rlimits[0].type") so a
 * failure names the field, and the source ("config.json"). */
typedef struct sp_ctx {
        const char *what;
        gk_error **err;
        size_t len;
        char path[512];
} sp_ctx;

void sp_init(sp_ctx *c, const char *what, gk_error **err);
/* Each push returns the previous length, to hand to sp_pop. */
size_t sp_push(sp_ctx *c, const char *key);       /* .key */
size_t sp_push_idx(sp_ctx *c, size_t i);          /* [i] */
size_t sp_push_mapkey(sp_ctx *c, const char *key); /* ["key"] */
void sp_pop(sp_ctx *c, size_t len);
/* "WHAT: PATH: MSG"; returns -EINVAL. */
int sp_fail(sp_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sp_nomem(sp_ctx *c);

/* Checks of a value at the current path.  JSON null counts as absent in the
 * key-level helpers below, as in the reference implementation's decoder. */
int sp_val_str(sp_ctx *c, yajl_val v, char **out);
int sp_val_u64(sp_ctx *c, yajl_val v, uint64_t max, uint64_t *out);
int sp_val_i64(sp_ctx *c, yajl_val v, int64_t min, int64_t max, int64_t *out);
int sp_val_strv(sp_ctx *c, yajl_val v, char ***out, size_t *n);

/* Member KEY of OBJ: each returns 0 when absent (or null), 1 when stored,
 * negative on a bad value. */
int sp_str(sp_ctx *c, yajl_val obj, const char *key, char **out);
int sp_bool(sp_ctx *c, yajl_val obj, const char *key, bool *out);
int sp_u64(sp_ctx *c, yajl_val obj, const char *key, uint64_t max, uint64_t *out);
int sp_u32(sp_ctx *c, yajl_val obj, const char *key, uint32_t *out);
int sp_i64(sp_ctx *c, yajl_val obj, const char *key, int64_t min, int64_t max, int64_t *out);
int sp_strv(sp_ctx *c, yajl_val obj, const char *key, char ***out, size_t *n);
int sp_obj(sp_ctx *c, yajl_val obj, const char *key, yajl_val *out);
int sp_arr(sp_ctx *c, yajl_val obj, const char *key, yajl_val *out);
/* An object of strings (annotations, sysctl, unified). */
int sp_map(sp_ctx *c, yajl_val obj, const char *key, gk_kv **out, size_t *n);
/* Allocates an array of N zeroed elements of SIZE (N may be 0). */
void *sp_calloc(sp_ctx *c, size_t n, size_t size);

int spec_parse_idmaps(sp_ctx *c, yajl_val obj, const char *key, gk_idmap **out, size_t *n);
int spec_parse_process(sp_ctx *c, yajl_val v, gk_process **out);
int spec_parse_linux(sp_ctx *c, yajl_val v, gk_linux *l);
int spec_parse_resources(sp_ctx *c, yajl_val v, gk_resources *r);

/* Mount options: applies OPT to M's derived fields; returns false when OPT
 * is filesystem data (goes to m->data). */
bool spec_mount_option(const char *opt, gk_mount *m);
/* "rprivate" -> MS_PRIVATE|MS_REC; 0 when unknown. */
unsigned long spec_propagation_flags(const char *name);

/* Fixed name lists of the runtime spec. */
int spec_seccomp_action_from_name(const char *name);
int spec_seccomp_op_from_name(const char *name);
bool spec_seccomp_arch_known(const char *name);
bool spec_seccomp_flag_known(const char *name);
int spec_ioprio_class_from_name(const char *name);
const char *spec_ioprio_class_name(int cls);
/* Order namespaces are written in (matches `runc spec`). */
extern const int spec_ns_emit_order[GK_NS_COUNT];

void spec_free_linux(gk_linux *l);
void spec_free_idmaps(gk_idmap *m);
void spec_kv_free(gk_kv *kv, size_t n);

/* Emit helpers. */
void spec_emit_u64(yajl_gen g, const char *key, uint64_t v);
void spec_emit_i64(yajl_gen g, const char *key, int64_t v);
void spec_emit_strv(yajl_gen g, const char *key, char *const *v, size_t n);
void spec_emit_map(yajl_gen g, const char *key, const gk_kv *kv, size_t n);
void spec_emit_idmaps(yajl_gen g, const char *key, const gk_idmap *m, size_t n);
void spec_emit_linux(yajl_gen g, const gk_linux *l);
void spec_emit_resources(yajl_gen g, const gk_resources *r);

#endif
