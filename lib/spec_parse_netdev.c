/* linux.netDevices (runtime-spec 1.2+): a map from a host interface's name
 * to {"name": its name in the container}.  What can be checked without the
 * host is checked here: the names are ones the kernel takes (dev_valid_name:
 * under IFNAMSIZ, not "." or "..", no '/', ':' or white space; a new name
 * may be a template with one "%d"), and no two devices get the same name in
 * the container.  That the interface exists, and that the container has a
 * network namespace of its own, gkrun checks at create. */
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>

#include "gk/json.h"
#include "spec_internal.h"

static const char *bad_ifname(const char *s, bool template)
{
        const char *pct;

        if (!*s)
                return "must not be empty";
        if (strlen(s) >= IFNAMSIZ)
                return "longer than 15 bytes";
        if (!strcmp(s, ".") || !strcmp(s, ".."))
                return "must not be . or ..";
        for (const char *p = s; *p; p++)
                if (*p == '/' || *p == ':' || isspace((unsigned char) *p))
                        return "must not contain '/', ':' or white space";
        pct = strchr(s, '%');
        if (pct && !template)
                return "must not contain '%'";
        if (pct && (pct[1] != 'd' || strchr(pct + 2, '%')))
                return "'%' only as one template \"%d\"";
        return NULL;
}

/* The name the device has in the container; a template names none yet. */
static const char *target(const gk_net_device *d)
{
        return d->name ? d->name : d->host_name;
}

static int check_unique(sp_ctx *c, const gk_linux *l, size_t i)
{
        const char *t = target(&l->net_devices[i]);

        for (size_t k = 0; k < i; k++)
                if (!strcmp(l->net_devices[k].host_name, l->net_devices[i].host_name))
                        return sp_fail(c, "given twice");
        if (strchr(t, '%'))
                return 0;
        for (size_t k = 0; k < i; k++)
                if (!strcmp(target(&l->net_devices[k]), t))
                        return sp_fail(c, "name \"%s\" is also the container's name of \"%s\"", t,
                                       l->net_devices[k].host_name);
        return 0;
}

static int parse_device(sp_ctx *c, const char *key, yajl_val v, gk_net_device *d)
{
        const char *why;
        int r;

        if ((why = bad_ifname(key, false)))
                return sp_fail(c, "host interface name: %s", why);
        if (!(d->host_name = strdup(key)))
                return sp_nomem(c);
        if (!YAJL_IS_OBJECT(v))
                return sp_fail(c, "must be an object");
        if ((r = sp_str(c, v, "name", &d->name)) <= 0)
                return r;
        if (!*d->name) { /* "": not specified, the host's name */
                free(d->name);
                d->name = NULL;
                return 0;
        }
        if ((why = bad_ifname(d->name, true)))
                return sp_fail_at(c, "name", why);
        return 0;
}

int spec_parse_net_devices(sp_ctx *c, yajl_val v, const sp_field *f, void *base)
{
        gk_linux *l = base;
        size_t n;

        if (!YAJL_IS_OBJECT(v))
                return sp_fail(c, "must be an object");
        n = v->u.object.len;
        spec_free_net_devices(l);
        if (!(l->net_devices = sp_calloc(c, n, sizeof(*l->net_devices))))
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                size_t old = sp_push_mapkey(c, v->u.object.keys[i]);
                int r;

                l->n_net_devices++;
                r = parse_device(c, v->u.object.keys[i], v->u.object.values[i],
                                 &l->net_devices[i]);
                if (r < 0 || (r = check_unique(c, l, i)) < 0)
                        return r;
                sp_pop(c, old);
        }
        return 0;
}

void spec_emit_net_devices(yajl_gen g, const gk_linux *l)
{
        if (!l->net_devices)
                return;
        gk_json_str(g, "netDevices");
        yajl_gen_map_open(g);
        for (size_t i = 0; i < l->n_net_devices; i++) {
                gk_json_str(g, l->net_devices[i].host_name);
                yajl_gen_map_open(g);
                if (l->net_devices[i].name)
                        gk_json_kstr(g, "name", l->net_devices[i].name);
                yajl_gen_map_close(g);
        }
        yajl_gen_map_close(g);
}

void spec_free_net_devices(gk_linux *l)
{
        for (size_t i = 0; l->net_devices && i < l->n_net_devices; i++) {
                free(l->net_devices[i].host_name);
                free(l->net_devices[i].name);
        }
        free(l->net_devices);
        l->net_devices = NULL;
        l->n_net_devices = 0;
}
