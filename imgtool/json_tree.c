/* A yajl tree written back through a generator (see json_tree.h). */
#include <string.h>

#include "json_tree.h"

void gk_json_gen_tree(yajl_gen g, yajl_val v)
{
        if (!v || YAJL_IS_NULL(v)) {
                yajl_gen_null(g);
        } else if (YAJL_IS_STRING(v)) {
                gk_json_str(g, YAJL_GET_STRING(v));
        } else if (YAJL_IS_NUMBER(v)) {
                yajl_gen_number(g, YAJL_GET_NUMBER(v), strlen(YAJL_GET_NUMBER(v)));
        } else if (YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v)) {
                yajl_gen_bool(g, YAJL_IS_TRUE(v));
        } else if (YAJL_IS_ARRAY(v)) {
                yajl_gen_array_open(g);
                for (size_t i = 0; i < v->u.array.len; i++)
                        gk_json_gen_tree(g, v->u.array.values[i]);
                yajl_gen_array_close(g);
        } else {
                yajl_gen_map_open(g);
                for (size_t i = 0; i < v->u.object.len; i++) {
                        gk_json_str(g, v->u.object.keys[i]);
                        gk_json_gen_tree(g, v->u.object.values[i]);
                }
                yajl_gen_map_close(g);
        }
}
