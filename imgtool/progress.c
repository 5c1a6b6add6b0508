/* docker-pull-like progress (see progress.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "digest.h"
#include "gk/cleanup.h"
#include "progress.h"
#include "registry_internal.h"

typedef struct line {
        char id[13];
        char state[160];
        uint64_t done;
        int64_t total;
        int64_t t0_ms;  /* first byte seen */
        uint64_t done0; /* bytes at t0 (a resume starts above zero) */
} line;

struct gk_progress {
        FILE *out;
        gk_progress_mode mode;
        line *v;
        size_t n;
        size_t drawn; /* lines on the terminal below the cursor's line */
        int64_t last_draw;
};

gk_progress *gk_progress_new(FILE *out, gk_progress_mode mode)
{
        gk_progress *p = calloc(1, sizeof(*p));

        if (!p)
                return NULL;
        if (mode == GK_PROGRESS_AUTO)
                mode = isatty(fileno(out)) ? GK_PROGRESS_TTY : GK_PROGRESS_PLAIN;
        p->out = out;
        p->mode = mode;
        return p;
}

void gk_progress_free(gk_progress *p)
{
        if (!p)
                return;
        free(p->v);
        free(p);
}

void gk_progress_freep(gk_progress **p)
{
        gk_progress_free(*p);
}

static void human(char *buf, size_t n, double v)
{
        static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
        size_t u = 0;

        while (v >= 1000 && u + 1 < ARRAY_SIZE(units)) {
                v /= 1000;
                u++;
        }
        snprintf(buf, n, u ? "%.3g%s" : "%.0f%s", v, units[u]);
}

static void draw_line(gk_progress *p, const line *l)
{
        char done[16], total[16], rate[16], bar[52];
        int64_t el = gk_now_ms() - l->t0_ms;

        fprintf(p->out, "\x1b[2K%s: %s", l->id, l->state);
        if (strcmp(l->state, "Downloading") && strcmp(l->state, "Resuming")) {
                fputc('\n', p->out);
                return;
        }
        human(done, sizeof(done), (double) l->done);
        if (l->total > 0) {
                size_t w = (size_t) (50.0 * (double) l->done / (double) l->total);

                for (size_t i = 0; i < 50; i++)
                        bar[i] = i < w ? '=' : i == w ? '>' : ' ';
                bar[50] = '\0';
                human(total, sizeof(total), (double) l->total);
                fprintf(p->out, " [%s] %s/%s", bar, done, total);
        } else {
                fprintf(p->out, " %s", done);
        }
        if (l->t0_ms && el > 200) {
                human(rate, sizeof(rate), (double) (l->done - l->done0) * 1000.0 / (double) el);
                fprintf(p->out, " %s/s", rate);
        }
        fputc('\n', p->out);
}

static void redraw(gk_progress *p)
{
        if (p->drawn)
                fprintf(p->out, "\x1b[%zuA", p->drawn);
        for (size_t i = 0; i < p->n; i++)
                draw_line(p, &p->v[i]);
        p->drawn = p->n;
        p->last_draw = gk_now_ms();
        fflush(p->out);
}

void gk_progress_line(gk_progress *p, const char *fmt, ...)
{
        va_list ap;

        if (!p || p->mode == GK_PROGRESS_QUIET)
                return;
        if (p->mode == GK_PROGRESS_TTY && p->drawn) {
                fprintf(p->out, "\x1b[%zuA\x1b[2K", p->drawn);
                p->drawn = 0;
        }
        va_start(ap, fmt);
        vfprintf(p->out, fmt, ap);
        va_end(ap);
        fputc('\n', p->out);
        if (p->mode == GK_PROGRESS_TTY && p->n)
                redraw(p);
        fflush(p->out);
}

size_t gk_progress_add(gk_progress *p, const char *digest, int64_t total)
{
        line *v;

        if (!p || !(v = realloc(p->v, (p->n + 1) * sizeof(*v))))
                return (size_t) -1;
        p->v = v;
        v[p->n] = (line){ .total = total };
        snprintf(v[p->n].id, sizeof(v[p->n].id), "%.12s", gk_digest_hex(digest));
        snprintf(v[p->n].state, sizeof(v[p->n].state), "Waiting");
        return p->n++;
}

void gk_progress_state(gk_progress *p, size_t slot, const char *state)
{
        line *l;

        if (!p || slot >= p->n)
                return;
        l = &p->v[slot];
        if (!strcmp(l->state, state))
                return;
        snprintf(l->state, sizeof(l->state), "%s", state);
        if (p->mode == GK_PROGRESS_PLAIN) {
                char size[16] = "";

                if (l->total >= 0 &&
                    (!strcmp(state, "Download complete") || !strcmp(state, "Downloading")))
                        human(size, sizeof(size), (double) l->total);
                fprintf(p->out, "%s: %s%s%s%s\n", l->id, state, *size ? " (" : "", size,
                        *size ? ")" : "");
                fflush(p->out);
        } else if (p->mode == GK_PROGRESS_TTY) {
                redraw(p);
        }
}

void gk_progress_bytes(gk_progress *p, size_t slot, uint64_t done, int64_t total)
{
        line *l;

        if (!p || slot >= p->n)
                return;
        l = &p->v[slot];
        if (!l->t0_ms) {
                l->t0_ms = gk_now_ms();
                l->done0 = done;
        }
        l->done = done;
        l->total = total;
}

void gk_progress_tick(gk_progress *p, int force)
{
        if (!p || p->mode != GK_PROGRESS_TTY || !p->n)
                return;
        if (force || gk_now_ms() - p->last_draw >= 100)
                redraw(p);
}
