/* The image locations `gkimg copy` reads and writes, spelled as skopeo
 * spells them (containers-transports(5)), plus gkimg's store:
 *   docker://REF                 a registry ("docker://host:5000/app:1")
 *   oci:DIR[:TAG]                an OCI image layout directory; TAG is the
 *                                index.json entry's org.opencontainers.image.ref.name
 *   oci-archive:FILE[:TAG]       a tar of such a layout
 *   docker-archive:FILE[:REF]    `docker save` output; REF one of its RepoTags
 *   docker-archive:FILE:@N       its N-th image (0-based, manifest.json's
 *                                order): a source only, as in skopeo
 *   gk:REF|ID                    an image of gkimg's store (--root): a name, a
 *                                digest or an image ID as `gkimg inspect` takes
 * As in skopeo, FILE and DIR end at the first ':' (a path with a ':' cannot
 * be named), and a transport prefix is required: "alpine" alone is refused
 * rather than guessed at. */
#ifndef GK_IMGTOOL_TRANSPORT_H
#define GK_IMGTOOL_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>

#include "gk/error.h"

typedef enum gk_transport_kind {
        GK_TRANSPORT_DOCKER,
        GK_TRANSPORT_OCI,
        GK_TRANSPORT_OCI_ARCHIVE,
        GK_TRANSPORT_DOCKER_ARCHIVE,
        GK_TRANSPORT_STORE,
} gk_transport_kind;

typedef struct gk_transport {
        gk_transport_kind kind;
        char *path;     /* docker: the reference; store: REF|ID; else the file or directory */
        char *ref;      /* oci, oci-archive: TAG; docker-archive: REF; NULL when not given */
        bool has_index; /* docker-archive:FILE:@N */
        size_t index;
} gk_transport;

/* Parses ARG; errors name ARG and what is wrong with it. */
int gk_transport_parse(const char *arg, gk_transport *out, gk_error **err);
void gk_transport_clear(gk_transport *t);

/* "docker", "oci", "oci-archive", "docker-archive", "gk" */
const char *gk_transport_name(gk_transport_kind kind);

#endif
