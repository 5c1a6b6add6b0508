/* A blob that is still arriving, seen by a reader while a download writes
 * it (gkimg copy between registries: push_stream.c).  The download
 * (fetch.c) keeps it up to date; the upload (upload.c) sends what has
 * landed and waits for the rest.
 *
 * The reader never gets the last byte before the download has checked the
 * whole blob against its digest: an upload of bad bytes never completes,
 * it is dropped.  A download that starts the file over (the server ignored
 * a Range, or a resumed file failed its digest) bumps EPOCH: whatever was
 * read before is void and the upload begins a new session.
 *
 * A download that runs more than GK_FEED_AHEAD bytes ahead of a reader
 * (PACED: one is reading) waits for it: the bytes have nowhere faster to
 * go, and the CPU they would take is the destination's (on a small machine
 * the registry receiving them runs beside us).  HOLD keeps every download
 * at its first bytes: the request is answered (a registry takes its time
 * to start a blob) while the uploads open their sessions. */
#ifndef GK_IMGTOOL_FEED_H
#define GK_IMGTOOL_FEED_H

#include <stdbool.h>
#include <stdint.h>

typedef struct gk_blob_feed {
        int fd;          /* a reader of the file the bytes land in; -1: none yet */
        uint64_t landed; /* bytes [0, landed) are in it */
        unsigned epoch;  /* bumped when the file starts over */
        bool verified;   /* whole, its digest checked: in the store */
        bool paced;      /* a reader is on it: the download keeps pace */
        bool hold;       /* the reader is not ready: no bytes yet */
        uint64_t taken;  /* bytes [0, taken) read by it */
} gk_blob_feed;

#define GK_FEED_AHEAD (8u << 20)

/* Bytes [0, return) of a blob of SIZE may be read now. */
static inline uint64_t gk_blob_feed_readable(const gk_blob_feed *f, uint64_t size)
{
        if (f->verified)
                return size;
        if (!size)
                return 0;
        return f->landed < size - 1 ? f->landed : size - 1;
}

/* The download is to wait: held, or far enough ahead of its reader. */
static inline bool gk_blob_feed_wait(const gk_blob_feed *f)
{
        return f->hold || (f->paced && f->landed >= f->taken + GK_FEED_AHEAD);
}

#endif
