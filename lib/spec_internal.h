/* Internals shared by the config.json parser, emitter and name tables
 * (lib/spec_*.c).  Not part of gk's API: gkrun and gkimg use gk/spec.h. */
#ifndef GK_SPEC_INTERNAL_H
#define GK_SPEC_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
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
size_t sp_push(sp_ctx *c, const char *key);        /* .key */
size_t sp_push_idx(sp_ctx *c, size_t i);           /* [i] */
size_t sp_push_mapkey(sp_ctx *c, const char *key); /* ["key"] */
void sp_pop(sp_ctx *c, size_t len);
/* "WHAT: PATH: MSG"; returns -EINVAL. */
int sp_fail(sp_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sp_nomem(sp_ctx *c);

/* Checks of a value at the current path.  JSON null counts as absent in the
 * key-level helper and the tables below, as in the reference
 * implementation's decoder. */
int sp_val_str(sp_ctx *c, yajl_val v, char **out);
int sp_val_u64(sp_ctx *c, yajl_val v, uint64_t max, uint64_t *out);
int sp_val_i64(sp_ctx *c, yajl_val v, int64_t min, int64_t max, int64_t *out);
int sp_val_strv(sp_ctx *c, yajl_val v, char ***out, size_t *n);

/* Member KEY of OBJ: 0 when absent (or null), 1 when stored, negative on a
 * bad value. */
int sp_str(sp_ctx *c, yajl_val obj, const char *key, char **out);
/* An object of strings (annotations, sysctl, unified). */
int sp_val_map(sp_ctx *c, yajl_val v, gk_kv **out, size_t *n);
/* Allocates an array of N zeroed elements of SIZE (N may be 0). */
void *sp_calloc(sp_ctx *c, size_t n, size_t size);

/* Table-driven parsing of an object (lib/spec_fields.c), after
 * systemd-nspawn's dispatch tables: one row per member, read in the order
 * of the table, which is also the order in which errors are found.
 *
 * A row's parser gets the member's value V (never absent or null unless
 * SP_RAW: then NULL) with the key on the path, and BASE, the struct the
 * table fills; the value goes to BASE + F->offset.  A row without a key is
 * a check run at that point, with V the object itself and the object's
 * path: it sees what the rows before it stored. */
typedef struct sp_field sp_field;
typedef int (*sp_parse_fn)(sp_ctx *c, yajl_val v, const sp_field *f, void *base);

enum {
        SP_REQUIRED = 1 << 0,     /* absent or null: "KEY: required" */
        SP_KEY_REQUIRED = 1 << 1, /* absent: "KEY: required"; null is skipped */
        SP_RAW = 1 << 2,          /* parser called when absent or null too */
};

struct sp_field {
        const char *key;
        sp_parse_fn parse;
        size_t offset; /* of the value in BASE */
        size_t width;  /* sizeof the value: numbers are stored at their width */
        size_t has;    /* offset + 1 of a bool set when the member is there; 0: none */
        size_t aux;    /* offset of a related member: an array's count, ... */
        int64_t min;   /* range of a number (max 0: the width's maximum) */
        uint64_t max;
        unsigned flags;  /* SP_* */
        const void *sub; /* sp_field[] of an object, sp_array of an array */
};

/* An array of objects: elements of ELEM_SIZE, each filled by FIELDS; AFTER
 * (optional) runs after each element, with BASE the array row's. */
typedef struct sp_array {
        size_t elem_size;
        const sp_field *fields;
        int (*after)(sp_ctx *c, void *elem, void *base);
} sp_array;

#define SP_AT(T, m) .offset = offsetof(T, m), .width = sizeof(((T *) 0)->m)
#define SP_HAS(T, m) .has = offsetof(T, m) + 1
#define SP_AUX(T, m) .aux = offsetof(T, m)
#define SP_END             \
        {                  \
                NULL, NULL \
        }

/* Reads the members of object OBJ (refused unless an object) by TABLE
 * (ended by SP_END) into BASE. */
int sp_fields(sp_ctx *c, yajl_val obj, const sp_field *table, void *base);
/* Runs FN on each element of array V with "[i]" on the path. */
int sp_each(sp_ctx *c, yajl_val v, int (*fn)(sp_ctx *c, yajl_val e, size_t i, void *ctx),
            void *ctx);
/* "KEY: MSG" at the current path. */
int sp_fail_at(sp_ctx *c, const char *key, const char *msg);
/* The member's value at BASE + F->offset (or + F->aux). */
#define SP_PTR(f, base) ((void *) ((char *) (base) + (f)->offset))
#define SP_AUXPTR(f, base) ((void *) ((char *) (base) + (f)->aux))

/* Row parsers: string, absolute path, bool, numbers (F->min/max, stored at
 * F->width), strings (count at aux), map (count at aux), object (F->sub
 * fields of BASE + offset), array (F->sub sp_array; count at aux). */
int sp_f_str(sp_ctx *c, yajl_val v, const sp_field *f, void *base);
int sp_f_abs(sp_ctx *c, yajl_val v, const sp_field *f, void *base);
int sp_f_bool(sp_ctx *c, yajl_val v, const sp_field *f, void *base);
int sp_f_uint(sp_ctx *c, yajl_val v, const sp_field *f, void *base);
int sp_f_int(sp_ctx *c, yajl_val v, const sp_field *f, void *base);
int sp_f_strv(sp_ctx *c, yajl_val v, const sp_field *f, void *base);
int sp_f_map(sp_ctx *c, yajl_val v, const sp_field *f, void *base);
int sp_f_object(sp_ctx *c, yajl_val v, const sp_field *f, void *base);
int sp_f_array(sp_ctx *c, yajl_val v, const sp_field *f, void *base);
/* A spec field gkrun does not apply: "not supported by gkrun" unless the
 * value is empty.  A second row with the key of a parsed row refuses what
 * that row stored, until the field is applied. */
int sp_f_unsupported(sp_ctx *c, yajl_val v, const sp_field *f, void *base);

/* The tables of the parts, for the parsers that start inside the spec. */
extern const sp_array spec_idmap_array;
extern const sp_field spec_linux_fields[];
extern const sp_field spec_resources_fields[];
extern const sp_field spec_seccomp_fields[];
int spec_parse_process(sp_ctx *c, yajl_val v, gk_process **out);

/* The per-task process attributes (spec_parse_procattr.c): the tables of
 * process.scheduler, process.execCPUAffinity and linux.memoryPolicy, and
 * a row parser of an array of flag names (F->sub a spec_names) OR'ed
 * into a number of F->width. */
typedef struct spec_name {
        const char *name;
        uint64_t value;
} spec_name;
typedef struct spec_names {
        const spec_name *v;
        size_t n;
} spec_names;
extern const spec_names spec_sched_policies, spec_sched_flags, spec_mpol_modes, spec_mpol_flags,
        spec_personality_flags;
extern const sp_field spec_scheduler_fields[];
extern const sp_field spec_cpu_affinity_fields[];
extern const sp_field spec_memory_policy_fields[];
int spec_f_flag_names(sp_ctx *c, yajl_val v, const sp_field *f, void *base);
/* The name of VALUE in T; NULL when it has none. */
const char *spec_name_of(const spec_names *t, uint64_t value);
/* KEY: [the names of the bits of FLAGS], in T's order; nothing when 0. */
void spec_emit_flag_names(yajl_gen g, const char *key, const spec_names *t, uint64_t flags);
/* process.scheduler and process.execCPUAffinity; linux.memoryPolicy. */
void spec_emit_process_attrs(yajl_gen g, const gk_process *p);
void spec_emit_memory_policy(yajl_gen g, const gk_memory_policy *m);

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
/* linux.netDevices (spec_parse_netdev.c): the row's parser, its emitter
 * and its free */
int spec_parse_net_devices(sp_ctx *c, yajl_val v, const sp_field *f, void *base);
void spec_emit_net_devices(yajl_gen g, const gk_linux *l);
/* linux.intelRdt (spec_parse_rdt.c) */
extern const sp_field spec_intel_rdt_fields[];
void spec_emit_intel_rdt(yajl_gen g, const gk_intel_rdt *r);
void spec_free_intel_rdt(gk_intel_rdt *r);
void spec_free_net_devices(gk_linux *l);
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
