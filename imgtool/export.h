/* Writing an image of the store as an oci-archive (tar of an OCI layout)
 * or a docker-archive. */
#ifndef GK_IMGTOOL_EXPORT_H
#define GK_IMGTOOL_EXPORT_H

#include "gk/error.h"
#include "image.h"
#include "image_set.h"
#include "store.h"

/* Writes IMG (named img->ref) to FILE through a temporary file + rename;
 * with TOP_DIGEST (may be NULL), that document (the index of every
 * platform, export --all-platforms) and all it lists instead of IMG's
 * manifest. */
int gk_export_oci_archive(gk_store *s, const gk_image *img, const char *top_digest,
                          const char *file, gk_error **err);

/* An image set (copy): index.json's entry named REF_NAME and FULL_NAME
 * (either may be NULL). */
int gk_export_oci_archive_set(gk_store *s, const gk_image_set *set, const char *ref_name,
                              const char *full_name, const char *file, gk_error **err);

/* Writes IMG as a docker-archive (what `docker save` wrote before Docker
 * 25; `docker load` and `podman load` read it), layers uncompressed. */
int gk_export_docker_archive(gk_store *s, const gk_image *img, const char *file, gk_error **err);

#endif
