/* Writing a parsed yajl tree back out, whole or with one object member
 * replaced: for documents gkimg edits without knowing all of them (the
 * Docker config file) or prints (the image config in inspect). */
#ifndef GK_IMGTOOL_JSON_TREE_H
#define GK_IMGTOOL_JSON_TREE_H

#include "gk/json.h"

void gk_json_gen_tree(yajl_gen g, yajl_val v);

#endif
