/* process.capabilities applied with libcap: the bounding set first (it
 * needs CAP_SETPCAP, which the later steps may drop), then effective,
 * permitted and inheritable in one cap_set_proc, then the ambient set
 * (which the kernel only lets hold what is permitted and inheritable).
 * Capabilities this kernel does not know are skipped, so one config.json
 * serves older and newer kernels. */
#include <errno.h>
#include <stdbool.h>
#include <sys/prctl.h>
#include <sys/capability.h>

#include "gk/cleanup.h"
#include "security/security.h"

static void cap_freep(cap_t *c)
{
        if (*c)
                cap_free(*c);
}

#define _cleanup_cap_ _cleanup_(cap_freep)

static bool kernel_knows(int cap)
{
        return cap >= 0 && cap < cap_max_bits();
}

static const char *cap_label(int cap)
{
        const char *name = gk_cap_name(cap);

        return name ? name : "?";
}

static bool in_set(const gk_capset *set, int cap)
{
        for (size_t i = 0; i < set->n; i++)
                if (set->caps[i] == cap)
                        return true;
        return false;
}

/* After a setuid away from 0 (with PR_SET_KEEPCAPS) the effective set is
 * empty: raise it to the permitted set so the bounding drop may proceed. */
static int raise_effective(gk_error **err)
{
        _cleanup_cap_ cap_t cur = cap_get_proc();

        if (!cur)
                return gk_error_errno(err, "capabilities: read the current sets");
        if (cap_fill(cur, CAP_EFFECTIVE, CAP_PERMITTED) < 0 || cap_set_proc(cur) < 0)
                return gk_error_errno(err, "capabilities: raise the effective set");
        return 0;
}

static int drop_bounding(const gk_capset *keep, gk_error **err)
{
        cap_value_t last = cap_max_bits();

        /* Dropping what is already out succeeds: one call per capability,
         * and a look at the set only when a drop fails (no CAP_SETPCAP). */
        for (cap_value_t cap = 0; cap < last; cap++) {
                if (in_set(keep, cap))
                        continue;
                if (cap_drop_bound(cap) < 0) {
                        int e = errno;

                        if (cap_get_bound(cap) == 0)
                                continue;
                        errno = e;
                        return gk_error_errno(err, "capabilities: bounding: drop %s",
                                              cap_label(cap));
                }
        }
        return 0;
}

static int set_flag(cap_t c, cap_flag_t flag, const gk_capset *set, gk_error **err)
{
        for (size_t i = 0; i < set->n; i++) {
                cap_value_t v = set->caps[i];

                if (!kernel_knows(v))
                        continue;
                if (cap_set_flag(c, flag, 1, &v, CAP_SET) < 0)
                        return gk_error_errno(err, "capabilities: set %s", cap_label(v));
        }
        return 0;
}

/* The kernel's EPERM names no capability: say which one cannot be had. */
static int check_reachable(const gk_capabilities *caps, gk_error **err)
{
        _cleanup_cap_ cap_t cur = cap_get_proc();
        const struct {
                const char *what;
                const gk_capset *set;
        } sets[] = { { "effective", &caps->effective }, { "permitted", &caps->permitted } };

        if (!cur)
                return gk_error_errno(err, "capabilities: read the current sets");
        for (size_t s = 0; s < ARRAY_SIZE(sets); s++)
                for (size_t i = 0; i < sets[s].set->n; i++) {
                        cap_value_t v = sets[s].set->caps[i];
                        cap_flag_value_t have = CAP_CLEAR;

                        if (kernel_knows(v) && cap_get_flag(cur, v, CAP_PERMITTED, &have) == 0 &&
                            have != CAP_SET)
                                return gk_error_make(
                                        err, EPERM,
                                        "capabilities: %s: %s is not in gkrun's permitted set",
                                        sets[s].what, cap_label(v));
                }
        for (size_t i = 0; i < caps->inheritable.n; i++) {
                cap_value_t v = caps->inheritable.caps[i];

                if (kernel_knows(v) && cap_get_bound(v) == 0)
                        return gk_error_make(
                                err, EPERM,
                                "capabilities: inheritable: %s is not in the bounding set",
                                cap_label(v));
        }
        return 0;
}

static int set_sets(const gk_capabilities *caps, gk_error **err)
{
        _cleanup_cap_ cap_t c = cap_init();

        if (!c)
                return gk_error_errno(err, "capabilities");
        if (check_reachable(caps, err) < 0)
                return gk_error_code(*err);
        if (set_flag(c, CAP_EFFECTIVE, &caps->effective, err) < 0 ||
            set_flag(c, CAP_PERMITTED, &caps->permitted, err) < 0 ||
            set_flag(c, CAP_INHERITABLE, &caps->inheritable, err) < 0)
                return gk_error_code(*err);
        if (cap_set_proc(c) < 0)
                return gk_error_errno(err,
                                      "capabilities: set effective, permitted and inheritable");
        return 0;
}

/* A cap not in both permitted and inheritable cannot be ambient: the
 * kernel says EPERM, which is skipped like runc does. */
static int raise_ambient(const gk_capset *set, gk_error **err)
{
        if (!CAP_AMBIENT_SUPPORTED())
                return 0;
        /* one call; libcap's cap_reset_ambient asks for each cap first */
        (void) prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
        for (size_t i = 0; i < set->n; i++) {
                cap_value_t v = set->caps[i];

                if (!kernel_knows(v))
                        continue;
                if (cap_set_ambient(v, CAP_SET) < 0 && errno != EPERM && errno != EINVAL)
                        return gk_error_errno(err, "capabilities: ambient: raise %s",
                                              cap_label(v));
        }
        return 0;
}

int gk_caps_apply(const gk_capabilities *caps, gk_error **err)
{
        if (!caps || !caps->present)
                return 0;
        if (raise_effective(err) < 0 || drop_bounding(&caps->bounding, err) < 0 ||
            set_sets(caps, err) < 0 || raise_ambient(&caps->ambient, err) < 0)
                return gk_error_code(*err);
        return 0;
}
