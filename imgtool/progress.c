/* docker-pull-like progress (see progress.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
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
        size_t len;     /* columns the line took when last drawn */
} line;

struct gk_progress {
        FILE *out;
        gk_progress_mode mode;
        line *v;
        size_t n;
        size_t drawn; /* lines on the terminal below the cursor's line */
        size_t width; /* the terminal's width at the last redraw */
        int64_t last_draw;
};

gk_progress *gk_progress_new(FILE *out, gk_progress_mode mode)
{
        gk_progress *p = calloc(1, sizeof(*p));

        if (!p)
                return NULL;
        if (mode == GK_PROGRESS_AUTO) {
                const char *term = getenv("TERM");

                /* A terminal that cannot move the cursor gets plain lines. */
                mode = isatty(fileno(out)) && term && *term && strcmp(term, "dumb")
                               ? GK_PROGRESS_TTY
                               : GK_PROGRESS_PLAIN;
        }
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

/* The terminal's width, asked at every redraw so that a resize takes
 * effect at the next one (no SIGWINCH handler needed at ten draws a
 * second). */
static size_t term_width(gk_progress *p)
{
        struct winsize ws;

        if (ioctl(fileno(p->out), TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
                return ws.ws_col;
        return 80;
}

/* One layer line that fits in WIDTH - 1 columns: a line filling the last
 * column wraps on some terminals, and a wrapped line breaks the cursor-up
 * count of the next redraw.  The bar shrinks first, then the line is cut. */
static void draw_line(gk_progress *p, line *l, size_t width)
{
        char done[16], total[16], rate[24] = "", bar[52], text[512];
        int64_t el = gk_now_ms() - l->t0_ms;
        size_t fit = width > 1 ? width - 1 : 1, fixed, bw = 0;
        int n;

        n = snprintf(text, sizeof(text), "%s: %s", l->id, l->state);
        if (!strcmp(l->state, "Downloading") || !strcmp(l->state, "Resuming")) {
                human(done, sizeof(done), (double) l->done);
                if (l->t0_ms && el > 200) {
                        char r[16];

                        human(r, sizeof(r), (double) (l->done - l->done0) * 1000.0 / (double) el);
                        snprintf(rate, sizeof(rate), "%s/s", r);
                }
                if (l->total > 0) {
                        human(total, sizeof(total), (double) l->total);
                        fixed = (size_t) n + 4 + strlen(done) + 1 + strlen(total) +
                                (*rate ? 1 + strlen(rate) : 0);
                        bw = fixed + 10 <= fit ? fit - fixed : 0;
                        if (bw > 50)
                                bw = 50;
                }
                if (bw) {
                        size_t w = (size_t) ((double) bw * (double) l->done / (double) l->total);

                        for (size_t i = 0; i < bw; i++)
                                bar[i] = i < w ? '=' : i == w ? '>' : ' ';
                        bar[bw] = '\0';
                        snprintf(text + n, sizeof(text) - (size_t) n, " [%s] %s/%s%s%s", bar, done,
                                 total, *rate ? " " : "", rate);
                } else if (l->total > 0) {
                        snprintf(text + n, sizeof(text) - (size_t) n, " %s/%s%s%s", done, total,
                                 *rate ? " " : "", rate);
                } else {
                        snprintf(text + n, sizeof(text) - (size_t) n, " %s%s%s", done,
                                 *rate ? " " : "", rate);
                }
        }
        if (strlen(text) > fit)
                text[fit] = '\0';
        l->len = strlen(text);
        fprintf(p->out, "\x1b[2K%s\n", text);
}

/* The rows the lines drawn last take now.  A terminal made narrower
 * rewraps the lines on its screen (tmux, VTE, konsole, kitty, alacritty,
 * iTerm2 and Windows Terminal do; xterm and the Linux console cut them
 * instead, and there the block is redrawn a few rows higher): a line
 * drawn N columns long takes ceil(N / WIDTH) rows. */
static size_t rows_drawn(const gk_progress *p, size_t width)
{
        size_t rows = 0;

        for (size_t i = 0; i < p->drawn && i < p->n; i++) {
                size_t len = p->v[i].len;

                rows += width < p->width && len > width ? (len + width - 1) / width : 1;
        }
        return rows;
}

static void redraw(gk_progress *p)
{
        size_t width = term_width(p), rows = rows_drawn(p, width);

        /* Up to the block's first row; what is below is cleared, so that a
         * block rewrapped into more rows leaves no fragments. */
        if (rows)
                fprintf(p->out, "\x1b[%zuA\x1b[J", rows);
        for (size_t i = 0; i < p->n; i++)
                draw_line(p, &p->v[i], width);
        p->drawn = p->n;
        p->width = width;
        p->last_draw = gk_now_ms();
        fflush(p->out);
}

void gk_progress_line(gk_progress *p, const char *fmt, ...)
{
        va_list ap;

        if (!p || p->mode == GK_PROGRESS_QUIET)
                return;
        if (p->mode == GK_PROGRESS_TTY && p->n) {
                /* A line after the layers (Digest:, Status:) goes below
                 * them: they are drawn a last time and left as they are. */
                redraw(p);
                p->drawn = 0;
                p->n = 0;
        }
        va_start(ap, fmt);
        vfprintf(p->out, fmt, ap);
        va_end(ap);
        fputc('\n', p->out);
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
