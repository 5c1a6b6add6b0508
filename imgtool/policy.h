/* containers-policy.json(5): which images may be pulled, and by whose
 * signature.  A policy names, per transport and scope, a list of
 * requirements that must all hold:
 *   insecureAcceptAnything   always holds
 *   reject                   never holds
 *   signedBy (GPGKeys)       a simple-signing signature by one of the keys
 *   sigstoreSigned           a sigstore attachment signed by the public key
 * Both signature kinds must name the image's manifest digest and an
 * identity that signedIdentity accepts.  What gkimg cannot check (other
 * keyTypes, fulcio, rekor, signedBaseLayer) is refused when the file is
 * read, naming the field: a policy is never weakened silently. */
#ifndef GK_IMGTOOL_POLICY_H
#define GK_IMGTOOL_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include "gk/error.h"
#include "reference.h"

#define GK_POLICY_PATH "/etc/containers/policy.json"
#define GK_POLICY_USER_PATH ".config/containers/policy.json" /* under $HOME */

typedef enum gk_req_type {
        GK_REQ_ACCEPT, /* insecureAcceptAnything */
        GK_REQ_REJECT,
        GK_REQ_SIGNED_BY,
        GK_REQ_SIGSTORE,
} gk_req_type;

typedef enum gk_ident_type {
        GK_IDENT_MATCH_REPO_DIGEST_OR_EXACT, /* the default */
        GK_IDENT_MATCH_EXACT,
        GK_IDENT_MATCH_REPOSITORY,
        GK_IDENT_EXACT_REFERENCE,
        GK_IDENT_EXACT_REPOSITORY,
        GK_IDENT_REMAP,
} gk_ident_type;

typedef struct gk_ident {
        gk_ident_type type;
        char *value;         /* exactReference's dockerReference, exactRepository's
                              * dockerRepository */
        char *prefix;        /* remapIdentity */
        char *signed_prefix; /* remapIdentity */
} gk_ident;

/* Key material, as the file gives it: paths to read, or the data itself. */
typedef struct gk_keys {
        char **paths; /* NULL-terminated, or NULL */
        char *data;   /* keyData decoded, or NULL */
        size_t data_len;
} gk_keys;

typedef struct gk_req {
        gk_req_type type;
        gk_keys keys;
        gk_ident ident;
} gk_req;

typedef struct gk_reqs {
        gk_req *v;
        size_t n;
} gk_reqs;

typedef struct gk_scope {
        char *transport; /* "docker", ... */
        char *scope;     /* "" for the transport's default */
        gk_reqs reqs;
} gk_scope;

typedef struct gk_policy {
        char *path; /* where it was read from, for messages */
        gk_reqs def;
        gk_scope *scopes;
        size_t n_scopes;
} gk_policy;

/* Parses policy TEXT; WHAT names it in errors ("policy.json: ..."). */
int gk_policy_parse(const char *text, size_t len, const char *what, gk_policy **out,
                    gk_error **err);
/* Reads PATH, or when NULL the user's policy ($HOME/.config/...) if it
 * exists, else /etc/containers/policy.json.  *out is NULL (and 0 is
 * returned) when PATH is NULL and neither file exists. */
int gk_policy_load(const char *path, gk_policy **out, gk_error **err);
void gk_policy_free(gk_policy *p);
void gk_policy_freep(gk_policy **p);

/* The requirements for docker reference REF: the most specific scope of
 * transport "docker" (the reference, its repository, each parent
 * namespace, the host, "*.domain" wildcards), else the transport's "",
 * else the default.  *scope gets the scope that matched ("" for the
 * transport default, NULL for the global default).  NULL when out of
 * memory. */
const gk_reqs *gk_policy_for_docker(const gk_policy *p, const gk_reference *ref,
                                    const char **scope);

/* The scopes to try for REF, most specific first (NULL-terminated; free
 * with gk_strvfree): "host/path:tag" (or @digest), "host/path", its
 * parents, "host", then with WILDCARDS "*.b.c", "*.c" of a host "a.b.c". */
char **gk_docker_scopes(const gk_reference *ref, bool wildcards);

/* Does a signature claiming identity SIGNED (a docker reference string)
 * fit image reference IMAGE under rule ID?  *why gets a static reason
 * when it does not. */
bool gk_ident_matches(const gk_ident *id, const gk_reference *image, const char *signed_ref,
                      const char **why);

#endif
