/* Image manifests and indexes: Docker schema2 manifest and manifest list,
 * OCI image manifest and index.  Parsing with field-naming errors, platform
 * selection (the host's or --platform), and schema1 refused clearly. */
#ifndef GK_IMGTOOL_MANIFEST_H
#define GK_IMGTOOL_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gk/error.h"

#define GK_MT_DOCKER_MANIFEST "application/vnd.docker.distribution.manifest.v2+json"
#define GK_MT_DOCKER_LIST "application/vnd.docker.distribution.manifest.list.v2+json"
#define GK_MT_DOCKER_V1 "application/vnd.docker.distribution.manifest.v1+json"
#define GK_MT_DOCKER_V1_SIGNED "application/vnd.docker.distribution.manifest.v1+prettyjws"
#define GK_MT_DOCKER_CONFIG "application/vnd.docker.container.image.v1+json"
#define GK_MT_DOCKER_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define GK_MT_DOCKER_LAYER_FOREIGN "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
#define GK_MT_OCI_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define GK_MT_OCI_INDEX "application/vnd.oci.image.index.v1+json"
#define GK_MT_OCI_CONFIG "application/vnd.oci.image.config.v1+json"
#define GK_MT_OCI_LAYER "application/vnd.oci.image.layer.v1.tar"
#define GK_MT_OCI_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define GK_MT_OCI_LAYER_ZSTD "application/vnd.oci.image.layer.v1.tar+zstd"

/* What a manifest GET accepts (schema1 included so it can be refused by
 * name instead of a registry's 404). */
#define GK_MANIFEST_ACCEPT                                                        \
        "Accept: " GK_MT_OCI_INDEX ", " GK_MT_DOCKER_LIST ", " GK_MT_OCI_MANIFEST \
        ", " GK_MT_DOCKER_MANIFEST ", " GK_MT_DOCKER_V1_SIGNED ";q=0.1"

typedef enum gk_manifest_kind {
        GK_MANIFEST_IMAGE, /* Docker schema2 or OCI image manifest */
        GK_MANIFEST_INDEX, /* Docker manifest list or OCI index */
} gk_manifest_kind;

typedef struct gk_platform {
        char *os, *arch, *variant; /* variant may be NULL */
} gk_platform;

typedef struct gk_descriptor {
        char *media_type;
        char *digest;
        int64_t size; /* -1 when absent (only tolerated in an index) */
        bool has_platform;
        gk_platform platform; /* index entries */
        bool attestation;     /* unknown/unknown or a docker attestation entry */
} gk_descriptor;

typedef struct gk_manifest {
        gk_manifest_kind kind;
        char *media_type;      /* from the document, else from Content-Type */
        gk_descriptor config;  /* image */
        gk_descriptor *layers; /* image, bottom first */
        size_t n_layers;
        gk_descriptor *manifests; /* index */
        size_t n_manifests;
} gk_manifest;

/* Parses DATA (LEN bytes).  CONTENT_TYPE (the response's, may be NULL) is
 * used when the document has no mediaType.  Schema1 and unknown types get
 * an error saying so. */
int gk_manifest_parse(const char *data, size_t len, const char *content_type, gk_manifest *out,
                      gk_error **err);
void gk_manifest_clear(gk_manifest *m);

/* True for the layer media types gkimg can unpack (tar, gzip, zstd). */
bool gk_layer_media_type_ok(const char *mt);

/* "os/arch[/variant]" strictly: os and arch non-empty, lower case. */
int gk_platform_parse(const char *s, gk_platform *out, gk_error **err);
/* The host's platform in OCI/Go terms (x86_64 -> linux/amd64, aarch64 ->
 * linux/arm64/v8, armv7l -> linux/arm/v7...). */
int gk_platform_host(gk_platform *out, gk_error **err);
char *gk_platform_string(const gk_platform *p);
void gk_platform_clear(gk_platform *p);

/* Picks the entry of index M for WANT: same os and architecture, and the
 * variant when WANT has one (arm64 treats no variant as v8).  Attestation
 * entries are skipped.  No match: an error listing the platforms there are. */
int gk_manifest_select(const gk_manifest *m, const gk_platform *want, size_t *idx, gk_error **err);

#endif
