/* Pull progress the way docker pull shows it: on a terminal, one line per
 * layer redrawn in place (bytes, rate, state); otherwise one plain line per
 * event (a layer starts, finishes, retries); nothing with --quiet. */
#ifndef GK_IMGTOOL_PROGRESS_H
#define GK_IMGTOOL_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

typedef enum gk_progress_mode {
        GK_PROGRESS_AUTO, /* TTY when the stream is a terminal, else plain */
        GK_PROGRESS_TTY,
        GK_PROGRESS_PLAIN,
        GK_PROGRESS_QUIET,
} gk_progress_mode;

typedef struct gk_progress gk_progress;

gk_progress *gk_progress_new(FILE *out, gk_progress_mode mode);
void gk_progress_free(gk_progress *p);
void gk_progress_freep(gk_progress **p);

/* A line of its own ("latest: Pulling from library/alpine"). */
void gk_progress_line(gk_progress *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A layer line, by digest (shown as its first 12 hex digits), of TOTAL
 * bytes (-1: unknown); returns its slot. */
size_t gk_progress_add(gk_progress *p, const char *digest, int64_t total);
/* A new state ("Waiting", "Downloading", "Download complete", "Already
 * exists", "Retrying in 1s: ..."). */
void gk_progress_state(gk_progress *p, size_t slot, const char *state);
/* Bytes so far of TOTAL (-1: unknown). */
void gk_progress_bytes(gk_progress *p, size_t slot, uint64_t done, int64_t total);
/* Redraws the terminal lines, at most ten times a second unless FORCE. */
void gk_progress_tick(gk_progress *p, int force);

#endif
