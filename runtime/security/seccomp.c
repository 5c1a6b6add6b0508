/* linux.seccomp of config.json turned into a libseccomp filter: actions,
 * argument comparisons, extra architectures and filter flags.  The same
 * builder serves gk_seccomp_validate (build, then throw away, so that
 * `gkrun create` fails before anything exists) and gk_seccomp_load (build,
 * then load, as the very last step before execve). */
#include <ctype.h>
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>

#include "gk/cleanup.h"
#include "security/seccomp_internal.h"
#include "security/security.h"

static void ctx_releasep(scmp_filter_ctx *ctx)
{
        if (*ctx)
                seccomp_release(*ctx);
}

#define _cleanup_scmp_ _cleanup_(ctx_releasep)

/* libseccomp's numeric action; ERRNO and TRACE default to EPERM as in runc. */
static const char *action_name(enum gk_seccomp_action a)
{
        const char *name = gk_seccomp_action_name(a);

        return name ? name : "?";
}

static uint32_t action_value(enum gk_seccomp_action a, bool has_ret, uint32_t ret)
{
        uint32_t code = has_ret ? ret : EPERM;

        switch (a) {
        case GK_SCMP_KILL:
        case GK_SCMP_KILL_THREAD:
                return SCMP_ACT_KILL_THREAD;
        case GK_SCMP_KILL_PROCESS:
                return SCMP_ACT_KILL_PROCESS;
        case GK_SCMP_TRAP:
                return SCMP_ACT_TRAP;
        case GK_SCMP_ERRNO:
                return SCMP_ACT_ERRNO(code);
        case GK_SCMP_TRACE:
                return SCMP_ACT_TRACE(code);
        case GK_SCMP_LOG:
                return SCMP_ACT_LOG;
        case GK_SCMP_NOTIFY:
                return SCMP_ACT_NOTIFY;
        case GK_SCMP_ALLOW:
        default:
                return SCMP_ACT_ALLOW;
        }
}

static enum scmp_compare compare_op(enum gk_seccomp_op op)
{
        switch (op) {
        case GK_SCMP_CMP_NE:
                return SCMP_CMP_NE;
        case GK_SCMP_CMP_LT:
                return SCMP_CMP_LT;
        case GK_SCMP_CMP_LE:
                return SCMP_CMP_LE;
        case GK_SCMP_CMP_GE:
                return SCMP_CMP_GE;
        case GK_SCMP_CMP_GT:
                return SCMP_CMP_GT;
        case GK_SCMP_CMP_MASKED_EQ:
                return SCMP_CMP_MASKED_EQ;
        case GK_SCMP_CMP_EQ:
        default:
                return SCMP_CMP_EQ;
        }
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token for "x86_64"; 0 when this
 * libseccomp does not know it. */
static uint32_t arch_token(const char *name)
{
        char low[32];
        size_t i;

        if (strncmp(name, "SCMP_ARCH_", 10) != 0)
                return 0;
        name += 10;
        for (i = 0; name[i] && i + 1 < sizeof(low); i++)
                low[i] = (char) tolower((unsigned char) name[i]);
        low[i] = '\0';
        return seccomp_arch_resolve_name(low);
}

static int add_archs(scmp_filter_ctx ctx, const gk_seccomp *sc, gk_error **err)
{
        const struct scmp_version *v = seccomp_version();

        for (size_t i = 0; i < sc->n_architectures; i++) {
                uint32_t tok = arch_token(sc->architectures[i]);
                int r;

                if (!tok)
                        return gk_error_make(
                                err, 0,
                                "architectures[%zu]: \"%s\" is not supported by libseccomp %u.%u.%u",
                                i, sc->architectures[i], v->major, v->minor, v->micro);
                r = seccomp_arch_add(ctx, tok);
                if (r < 0 && r != -EEXIST)
                        return gk_error_make(err, -r, "architectures[%zu]: add \"%s\"", i,
                                             sc->architectures[i]);
        }
        return 0;
}

/* The filter flags of seccomp(2) as libseccomp attributes.  attr 0: this
 * libseccomp has no attribute for the flag. */
static const struct {
        const char *name;
        int attr;
} flag_attrs[] = {
        { "SECCOMP_FILTER_FLAG_TSYNC", SCMP_FLTATR_CTL_TSYNC },
        { "SECCOMP_FILTER_FLAG_LOG", SCMP_FLTATR_CTL_LOG },
        { "SECCOMP_FILTER_FLAG_SPEC_ALLOW", SCMP_FLTATR_CTL_SSB },
#if SCMP_VER_MAJOR > 2 || (SCMP_VER_MAJOR == 2 && SCMP_VER_MINOR >= 6)
        { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", SCMP_FLTATR_CTL_WAITKILL },
#else
        { "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 0 },
#endif
};

bool gk_seccomp_flag_supported(const char *name)
{
        scmp_filter_ctx ctx;
        bool ok = false;

        for (size_t i = 0; i < ARRAY_SIZE(flag_attrs); i++)
                if (!strcmp(flag_attrs[i].name, name) && flag_attrs[i].attr &&
                    (ctx = seccomp_init(SCMP_ACT_ALLOW))) {
                        ok = seccomp_attr_set(ctx, (enum scmp_filter_attr) flag_attrs[i].attr,
                                              1) == 0;
                        seccomp_release(ctx);
                }
        return ok;
}

static int set_flag(scmp_filter_ctx ctx, size_t idx, const char *name, gk_error **err)
{
        const struct scmp_version *v = seccomp_version();

        for (size_t i = 0; i < ARRAY_SIZE(flag_attrs); i++) {
                int r;

                if (strcmp(flag_attrs[i].name, name) != 0)
                        continue;
                if (!flag_attrs[i].attr)
                        return gk_error_make(
                                err, EOPNOTSUPP,
                                "flags[%zu]: \"%s\" is not supported by libseccomp %u.%u.%u", idx,
                                name, v->major, v->minor, v->micro);
                r = seccomp_attr_set(ctx, (enum scmp_filter_attr) flag_attrs[i].attr, 1);
                if (r < 0)
                        return gk_error_make(
                                err, -r,
                                "flags[%zu]: \"%s\" is not supported by this kernel or libseccomp %u.%u.%u",
                                idx, name, v->major, v->minor, v->micro);
                return 0;
        }
        return gk_error_make(err, 0, "flags[%zu]: unknown flag \"%s\"", idx, name);
}

/* One rule for one syscall.  libseccomp refuses two comparisons on the same
 * argument in one rule, so then each comparison becomes its own rule (an OR,
 * as runc does); otherwise all of them are ANDed in one rule. */
static int add_rule(scmp_filter_ctx ctx, const gk_seccomp_rule *rule, uint32_t act, int nr)
{
        struct scmp_arg_cmp cmp[6];
        unsigned seen = 0;
        bool split = false;
        int r;

        if (rule->n_args > ARRAY_SIZE(cmp))
                split = true;
        for (size_t i = 0; i < rule->n_args; i++) {
                if (seen & (1u << rule->args[i].index))
                        split = true;
                seen |= 1u << rule->args[i].index;
        }
        for (size_t i = 0; i < rule->n_args; i++) {
                const gk_seccomp_arg *a = &rule->args[i];
                struct scmp_arg_cmp c = { .arg = a->index,
                                          .op = compare_op(a->op),
                                          .datum_a = a->value,
                                          .datum_b = a->value_two };

                if (split) {
                        r = seccomp_rule_add_array(ctx, act, nr, 1, &c);
                        if (r < 0)
                                return r;
                } else {
                        cmp[i] = c;
                }
        }
        if (split)
                return 0;
        return seccomp_rule_add_array(ctx, act, nr, (unsigned) rule->n_args, cmp);
}

static int add_rules(scmp_filter_ctx ctx, const gk_seccomp *sc, uint32_t def, gk_error **err)
{
        for (size_t i = 0; i < sc->n_syscalls; i++) {
                const gk_seccomp_rule *rule = &sc->syscalls[i];
                uint32_t act = action_value(rule->action, rule->has_errno_ret, rule->errno_ret);

                for (size_t j = 0; j < rule->n_args; j++)
                        if (rule->args[j].index > 5)
                                return gk_error_make(
                                        err, 0, "syscalls[%zu].args[%zu].index: must be 0 to 5", i,
                                        j);

                /* libseccomp refuses a rule that only repeats the default. */
                if (act == def)
                        continue;
                for (size_t j = 0; j < rule->n_names; j++) {
                        int nr = seccomp_syscall_resolve_name(rule->names[j]);
                        int r;

                        /* Unknown on this architecture (or anywhere): skipped,
                         * so one profile serves every architecture. */
                        if (nr == __NR_SCMP_ERROR)
                                continue;
                        r = add_rule(ctx, rule, act, nr);
                        if (r < 0)
                                return gk_error_make(err, -r, "syscalls[%zu]: \"%s\": add rule", i,
                                                     rule->names[j]);
                }
        }
        return 0;
}

static bool uses_notify(const gk_seccomp *sc)
{
        for (size_t i = 0; i < sc->n_syscalls; i++)
                if (sc->syscalls[i].action == GK_SCMP_NOTIFY)
                        return true;
        return false;
}

int gk_seccomp_build(const gk_seccomp *sc, scmp_filter_ctx *out, gk_error **err)
{
        _cleanup_scmp_ scmp_filter_ctx ctx = NULL;
        uint32_t def = action_value(sc->default_action, sc->has_default_errno_ret,
                                    sc->default_errno_ret);
        int r;

        ctx = seccomp_init(def);
        if (!ctx)
                return gk_error_make(
                        err, 0,
                        "defaultAction: \"%s\" is not supported by this kernel or libseccomp",
                        action_name(sc->default_action));
        /* no_new_privs is process.noNewPrivileges' business, not the
         * filter's: without it the filter is loaded with CAP_SYS_ADMIN. */
        r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        if (r < 0)
                return gk_error_make(err, -r, "clear the no_new_privs attribute");
        /* Kernel errors from seccomp_load as they are, not a generic ECANCELED. */
        (void) seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);
        if (add_archs(ctx, sc, err) < 0)
                return gk_error_code(*err);
        for (size_t i = 0; i < sc->n_flags; i++)
                if (set_flag(ctx, i, sc->flags[i], err) < 0)
                        return gk_error_code(*err);
        if (add_rules(ctx, sc, def, err) < 0)
                return gk_error_code(*err);
        *out = TAKE_PTR(ctx);
        return 0;
}

int gk_seccomp_validate(const gk_seccomp *sc, gk_error **err)
{
        _cleanup_scmp_ scmp_filter_ctx ctx = NULL;

        if (!sc || !sc->present)
                return 0;
        return gk_seccomp_build(sc, &ctx, err);
}

int gk_seccomp_load(const gk_seccomp *sc, int *notify_fd, gk_error **err)
{
        _cleanup_scmp_ scmp_filter_ctx ctx = NULL;
        int r;

        *notify_fd = -1;
        if (!sc || !sc->present)
                return 0;
        if (gk_seccomp_build(sc, &ctx, err) < 0)
                return gk_error_wrap(err, "seccomp");
        r = seccomp_load(ctx);
        if (r < 0)
                return gk_error_make(err, -r, "seccomp: load the filter");
        if (uses_notify(sc)) {
                r = seccomp_notify_fd(ctx);
                if (r < 0)
                        return gk_error_make(err, -r, "seccomp: get the notify fd");
                *notify_fd = r;
        }
        return 0;
}
