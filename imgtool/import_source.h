/* Where `gkimg import` reads an image from: an archive (docker save
 * output, an oci-archive; possibly compressed) streamed once with every
 * file put into the store as a blob, or an OCI layout directory whose blobs
 * are copied into the store as they are needed.  Either way each blob's
 * sha256 is checked as it is written. */
#ifndef GK_IMGTOOL_IMPORT_SOURCE_H
#define GK_IMGTOOL_IMPORT_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "gk/error.h"
#include "gk/json.h"
#include "store.h"

typedef struct gk_import_member {
        char *name;   /* cleaned path in the archive */
        char *digest; /* of its content, now in the store */
        char *link;   /* symlink target (cleaned, archive-relative), else NULL */
} gk_import_member;

typedef struct gk_import_source {
        gk_store *store;
        const char *file;
        int layout_fd; /* an OCI layout directory, or -1 */
        gk_import_member *members;
        size_t n_members;
        char *index_json; /* top-level documents, NULL when absent */
        size_t index_len;
        char *manifest_json;
        size_t manifest_len;
} gk_import_source;

/* Opens FILE (directory or archive); an archive is read whole here. */
int gk_import_open(gk_store *store, const char *file, gk_import_source *s, gk_error **err);
void gk_import_close(gk_import_source *s);

/* Makes sure blob DIGEST is in the store (copied from a layout). */
int gk_import_need_blob(gk_import_source *s, const char *digest, gk_error **err);

/* The digest of archive member NAME (docker-archive paths), symlinks
 * followed; NULL when there is no such member. */
const char *gk_import_member_digest(const gk_import_source *s, const char *name);

/* docker-archive: manifest.json's ENTRY as an OCI image manifest put
 * into the store (import_docker.c); *digest gets its digest. */
int gk_import_docker_manifest(gk_import_source *s, yajl_val entry, char **digest, gk_error **err);

#endif
