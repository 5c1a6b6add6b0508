/* Edits gk makes to a spec it holds (gk/spec.h): gkimg writing a bundle's
 * config.json, gkrun adding the notify socket's mount and variable.  Each
 * leaves the spec whole at every step, so that gk_spec_free can release
 * it after a failure half-way. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gk/spec.h"

int gk_spec_add_annotation(gk_spec *s, const char *key, const char *value)
{
        char *k = strdup(key), *v = strdup(value);
        gk_kv *na = k && v ? realloc(s->annotations, (s->n_annotations + 1) * sizeof(gk_kv))
                           : NULL;

        if (!na) {
                free(k);
                free(v);
                return -ENOMEM;
        }
        s->annotations = na;
        na[s->n_annotations++] = (gk_kv){ .key = k, .value = v };
        return 0;
}

int gk_spec_set_annotation(gk_spec *s, const char *key, const char *value)
{
        for (size_t i = 0; i < s->n_annotations; i++) {
                if (!strcmp(s->annotations[i].key, key)) {
                        char *v = strdup(value);

                        if (!v)
                                return -ENOMEM;
                        free(s->annotations[i].value);
                        s->annotations[i].value = v;
                        return 0;
                }
        }
        return gk_spec_add_annotation(s, key, value);
}

int gk_env_set(char ***env, size_t *n, const char *kv)
{
        size_t klen = strcspn(kv, "=");
        char *d = strdup(kv), **nv;

        if (!d)
                return -ENOMEM;
        for (size_t i = 0; i < *n; i++) {
                if (!strncmp((*env)[i], kv, klen) && (*env)[i][klen] == '=') {
                        free((*env)[i]);
                        (*env)[i] = d;
                        return 0;
                }
        }
        nv = realloc(*env, (*n + 2) * sizeof(char *));
        if (!nv) {
                free(d);
                return -ENOMEM;
        }
        *env = nv;
        nv[(*n)++] = d;
        nv[*n] = NULL;
        return 0;
}

gk_mount *gk_mounts_add(gk_mount **v, size_t *n)
{
        gk_mount *nv = realloc(*v, (*n + 1) * sizeof(gk_mount));

        if (!nv)
                return NULL;
        *v = nv;
        nv[*n] = (gk_mount){ 0 };
        return &nv[(*n)++];
}
