/* Small helpers over yajl's tree and generator APIs, shared by gkrun and
 * gkimg.  Parsing goes through yajl_tree; writing through yajl_gen. */
#ifndef GK_JSON_H
#define GK_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "gk/error.h"

/* Parses TEXT (LEN bytes, need not be NUL-terminated); `what` names the
 * source in the error ("config.json: invalid JSON: ...").  Arrays and
 * objects nested deeper than GK_JSON_MAX_DEPTH are refused (yajl's tree
 * recurses per level; its generator stops at 128 too). */
#define GK_JSON_MAX_DEPTH 128
int gk_json_parse(const char *text, size_t len, const char *what, yajl_val *out, gk_error **err);

void gk_json_freep(yajl_val *v);

/* Member KEY of object OBJ, or NULL when OBJ is not an object or lacks KEY. */
yajl_val gk_json_get(yajl_val obj, const char *key);

/* String value of member KEY, or NULL when absent or not a string. */
const char *gk_json_get_str(yajl_val obj, const char *key);

/* Exact integer conversions; return false when V is not an integer JSON
 * number in range. */
bool gk_json_int64(yajl_val v, int64_t *out);
bool gk_json_uint64(yajl_val v, uint64_t *out);

/* A generator; pretty = indented with two spaces. */
yajl_gen gk_json_gen_new(bool pretty);
void gk_json_genp(yajl_gen *g);

/* Emit helpers: string (NULL emits null), key+string, key+int. */
void gk_json_str(yajl_gen g, const char *s);
void gk_json_kstr(yajl_gen g, const char *key, const char *value);
void gk_json_kint(yajl_gen g, const char *key, long long value);
void gk_json_kbool(yajl_gen g, const char *key, bool value);

/* Copies the generator's buffer into *out (NUL-terminated, malloc'd).
 * Fails (EILSEQ) when a string written was not valid UTF-8. */
int gk_json_gen_finish(yajl_gen g, char **out, size_t *len, gk_error **err);

#endif
