/* Device access on cgroup v2: a BPF_PROG_TYPE_CGROUP_DEVICE program built
 * here from BPF instructions (no compiler at run time), loaded with bpf(2)
 * and attached to the container's cgroup.
 *
 * Semantics (the same as the v1 list's intent): the rules are the spec's
 * followed by runc's default allow-list; the last rule matching a device
 * decides for the access bits it names; no match is a denial.  The program
 * walks the rules backwards keeping the access bits still undecided in r2:
 * an allow clears its bits (all clear: allow), a deny naming a bit still
 * asked for denies. */
#include <errno.h>
#include <linux/bpf.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cgroup/cgroup_internal.h"
#include "gk/cleanup.h"

#define RULE(t, ma, mi, a)                                                              \
        {                                                                               \
                .allow = true, .type = (t), .major = (ma), .minor = (mi), .access = (a) \
        }

/* runc's AllowedDevices: mknod of anything, the standard character
 * devices, the pty master and slaves. */
static const gk_device_rule defaults[] = {
        RULE('c', -1, -1, "m"),    RULE('b', -1, -1, "m"), RULE('c', 1, 3, "rwm"), /* /dev/null */
        RULE('c', 1, 8, "rwm"),    /* /dev/random */
        RULE('c', 1, 7, "rwm"),    /* /dev/full */
        RULE('c', 5, 0, "rwm"),    /* /dev/tty */
        RULE('c', 1, 5, "rwm"),    /* /dev/zero */
        RULE('c', 1, 9, "rwm"),    /* /dev/urandom */
        RULE('c', 136, -1, "rwm"), /* /dev/pts/N */
        RULE('c', 5, 2, "rwm"),    /* /dev/ptmx */
};

const gk_device_rule *gk_cg_default_devices(size_t *n)
{
        *n = ARRAY_SIZE(defaults);
        return defaults;
}

static int access_bits(const char *access)
{
        int bits = 0;

        for (const char *p = access ? access : "rwm"; *p; p++)
                bits |= *p == 'r'   ? BPF_DEVCG_ACC_READ
                        : *p == 'w' ? BPF_DEVCG_ACC_WRITE
                        : *p == 'm' ? BPF_DEVCG_ACC_MKNOD
                                    : 0;
        return bits;
}

#define INSN(c, d, s, o, i) \
        ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(d, s, o) INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define MOV32_REG(d, s) INSN(BPF_ALU | BPF_MOV | BPF_X, d, s, 0, 0)
#define ALU32_IMM(op, d, i) INSN(BPF_ALU | (op) | BPF_K, d, 0, 0, i)
#define JNE_IMM(d, i, o) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, o, i)
#define JEQ_IMM(d, i, o) INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, o, i)
#define MOV64_IMM(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

typedef struct insn_buf {
        struct bpf_insn *v;
        size_t n, cap;
} insn_buf;

static int emit(insn_buf *p, struct bpf_insn i)
{
        if (p->n == p->cap) {
                struct bpf_insn *nv = realloc(p->v,
                                              (p->cap = p->cap ? p->cap * 2 : 64) * sizeof(i));

                if (!nv)
                        return -ENOMEM;
                p->v = nv;
        }
        p->v[p->n++] = i;
        return 0;
}

/* One rule's block; every "no match" jump goes to the next block, whose
 * start is only known at the end: jumps are emitted with off = -1 and
 * patched. r2 = undecided access bits, r3 = type, r4 = major, r5 = minor. */
static int emit_rule(insn_buf *p, const gk_device_rule *d)
{
        size_t start = p->n;
        int bits = access_bits(d->access), r = 0;

        if (d->type == 'b' || d->type == 'c')
                r |= emit(p, JNE_IMM(3, d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR,
                                     -1));
        if (d->major >= 0)
                r |= emit(p, JNE_IMM(4, (int32_t) d->major, -1));
        if (d->minor >= 0)
                r |= emit(p, JNE_IMM(5, (int32_t) d->minor, -1));
        if (d->allow) {
                r |= emit(p, ALU32_IMM(BPF_AND, 2, ~bits));
                r |= emit(p, JNE_IMM(2, 0, -1));
                r |= emit(p, MOV64_IMM(0, 1));
        } else {
                r |= emit(p, MOV32_REG(6, 2));
                r |= emit(p, ALU32_IMM(BPF_AND, 6, bits));
                r |= emit(p, JEQ_IMM(6, 0, -1));
                r |= emit(p, MOV64_IMM(0, 0));
        }
        r |= emit(p, EXIT());
        if (r)
                return -ENOMEM;
        for (size_t i = start; i < p->n; i++)
                if (p->v[i].off == -1 && BPF_CLASS(p->v[i].code) == BPF_JMP)
                        p->v[i].off = (int16_t) (p->n - i - 1);
        return 0;
}

int gk_cg_bpf_build(const gk_device_rule *rules, size_t n, struct bpf_insn **out, size_t *n_insn,
                    gk_error **err)
{
        insn_buf p = { 0 };
        int r = 0;

        /* ctx: u32 access_type (access << 16 | type), u32 major, u32 minor */
        r |= emit(&p, LDX_W(2, 1, 0));
        r |= emit(&p, MOV32_REG(3, 2));
        r |= emit(&p, ALU32_IMM(BPF_AND, 3, 0xffff));
        r |= emit(&p, ALU32_IMM(BPF_RSH, 2, 16));
        r |= emit(&p, LDX_W(4, 1, 4));
        r |= emit(&p, LDX_W(5, 1, 8));
        for (size_t i = ARRAY_SIZE(defaults); !r && i-- > 0;)
                r = emit_rule(&p, &defaults[i]);
        for (size_t i = n; !r && i-- > 0;)
                r = emit_rule(&p, &rules[i]);
        r |= emit(&p, MOV64_IMM(0, 0));
        r |= emit(&p, EXIT());
        if (r || p.n > 0x7fff) {
                free(p.v);
                return gk_error_make(err, r ? ENOMEM : E2BIG,
                                     "linux.resources.devices: "
                                     "device program");
        }
        *out = p.v;
        *n_insn = p.n;
        return 0;
}

static int bpf_call(int cmd, union bpf_attr *attr)
{
        return (int) syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* Loads the program; on a verifier refusal, loads again with the log on
 * so that the error says why. */
static int load(const struct bpf_insn *insns, size_t n, gk_error **err)
{
        static const char license[] = "GPL";
        _cleanup_free_ char *log = NULL;
        union bpf_attr a;
        int fd;

        memset(&a, 0, sizeof(a));
        a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        a.insns = (uint64_t) (uintptr_t) insns;
        a.insn_cnt = (uint32_t) n;
        a.license = (uint64_t) (uintptr_t) license;
        fd = bpf_call(BPF_PROG_LOAD, &a);
        if (fd >= 0)
                return fd;
        if (errno != EINVAL && errno != EACCES)
                return gk_error_errno(err, "linux.resources.devices: load the device program");
        log = calloc(1, 4096);
        if (log) {
                a.log_buf = (uint64_t) (uintptr_t) log;
                a.log_size = 4096;
                a.log_level = 1;
                bpf_call(BPF_PROG_LOAD, &a);
                log[strcspn(log, "\n")] = '\0';
        }
        return gk_error_make(err, EINVAL,
                             "linux.resources.devices: the kernel refused the device "
                             "program: %s",
                             log && *log ? log : "no verifier log");
}

int gk_cg_v2_devices(int dirfd, const gk_resources *res, gk_error **err)
{
        _cleanup_free_ struct bpf_insn *insns = NULL;
        _cleanup_close_ int prog = -1;
        union bpf_attr a;
        size_t n;
        int r;

        if ((r = gk_cg_bpf_build(res ? res->devices : NULL, res ? res->n_devices : 0, &insns, &n,
                                 err)) < 0)
                return r;
        if ((prog = load(insns, n, err)) < 0)
                return prog;
        /* ALLOW_MULTI: a nested runtime may attach its own programs below. */
        memset(&a, 0, sizeof(a));
        a.target_fd = (uint32_t) dirfd;
        a.attach_bpf_fd = (uint32_t) prog;
        a.attach_type = BPF_CGROUP_DEVICE;
        a.attach_flags = BPF_F_ALLOW_MULTI;
        if (bpf_call(BPF_PROG_ATTACH, &a) < 0)
                return gk_error_errno(err, "linux.resources.devices: attach the device program");
        return 0;
}
