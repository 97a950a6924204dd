/* spill_segments.c - a finished batch's segment files, once its own file
 * holds the same bytes: removed when no snapshot this replica keeps can
 * name them, and read back as slices of its own file for a peer that still
 * asks for one (doc/DESIGN.md, "Partial spill").
 *
 * Why both: a snapshot frozen while the batch ran names its segments, and
 * a replica restoring it (this node at a restart, a follower the leader
 * sends it to) loads them before it can write the batch's own file. raft
 * keeps a node's last two snapshots and restarts from its latest, so once
 * two snapshots frozen after the batch's own file are stored, none this
 * node keeps names a segment of it: the files go. A peer may still restore
 * an older one (sent before, or its own): it asks for the segment by hash,
 * and since a segment is canonical and full, its file is the own file's
 * pages k * QSEG_PAGES .. + QSEG_PAGES re-headed: the same done bitmaps,
 * offsets (each page's relative to its own texts) and texts, under a header
 * and page bases of its own. The peer checks it by the hash its snapshot
 * names, as any fetched file, so a wrong slice is refused, never loaded.
 *
 * The owner's thread only (the queue's), like spill.c: release unlinks,
 * read only reads the batch's mapping. */
#include "queue_state.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char seg_magic[8] = {'M', 'E', 'S', 'H', 'R', 'E', 'S', '1'};

enum {
    HEAD_BYTES = 32,
    /* snapshots stored after a batch's own file before its segments go:
     * raft_uv keeps the last two */
    KEPT_SNAPSHOTS = 2,
};

/* Where the pieces of a segment file start, in its own layout. */
enum {
    SEG_BASES_AT = HEAD_BYTES,
    SEG_DONE_AT = SEG_BASES_AT + QSEG_PAGES * 8,
    SEG_OFFSET_AT = SEG_DONE_AT + QSEG_PAGES * QPAGE_WORDS * 8,
    SEG_TEXT_AT = SEG_OFFSET_AT + QSEG_PAGES * QPAGE_SIZE * 4,   /* a multiple of 8 */
};
_Static_assert(SEG_TEXT_AT % 8 == 0, "a segment's texts start aligned: no padding");

void queue_segments_pin(struct qbatch *b, const struct queue *q)
{
    b->segs_free_at = q->freezes + KEPT_SNAPSHOTS;
}

/* b's own file is in place and the snapshots that may name its segments
 * are gone; some segment still has its file. */
static bool releasable(const struct qbatch *b, const struct queue *q)
{
    return b->disk != NULL && b->segs != NULL && !b->segs_released &&
           q->thaws >= b->segs_free_at;
}

bool queue_segments_pinned(const struct queue *q)
{
    for (size_t i = 0; i < q->n; i++) {
        const struct qbatch *b = q->batches[i];
        if (b->disk != NULL && b->segs != NULL && !b->segs_released &&
            q->thaws < b->segs_free_at)
            return true;
    }
    return false;
}

size_t queue_segments_release(struct queue *q, const char *dir)
{
    size_t removed = 0;
    for (size_t i = 0; i < q->n; i++) {
        struct qbatch *b = q->batches[i];
        if (!releasable(b, q))
            continue;
        for (uint64_t k = 0; k < qbatch_seg_count(b); k++) {
            struct qsegment *g = b->segs[k];
            if (g == NULL || g->released)
                continue;
            char path[4200];
            queue_file_path(dir, g->file.hash, path, sizeof path);
            if (unlink(path) == 0)
                removed++;
            g->released = true;   /* gone, or never here: served from b's file */
        }
        b->segs_released = true;
    }
    return removed;
}

/* The segment of hash in a batch whose own file is mapped here. */
static const struct qsegment *served_segment(const struct queue *q, const uint8_t *hash,
                                             const struct qbatch **batch, uint64_t *seg)
{
    for (size_t i = 0; i < q->n; i++) {
        const struct qbatch *b = q->batches[i];
        for (uint64_t k = 0; b->disk != NULL && b->segs != NULL && k < qbatch_seg_count(b);
             k++) {
            const struct qsegment *g = b->segs[k];
            if (g != NULL && memcmp(g->file.hash, hash, QUEUE_FILE_HASH_BYTES) == 0) {
                *batch = b;
                *seg = k;
                return g;
            }
        }
    }
    return NULL;
}

/* The segment's header and page bases, made from the batch's file. */
static void seg_head(const struct spilled *d, uint64_t first, uint64_t text_len,
                     uint64_t out[HEAD_BYTES / 8 + QSEG_PAGES])
{
    memcpy(&out[0], seg_magic, sizeof seg_magic);
    out[1] = QSEG_RESULTS;
    out[2] = QSEG_PAGES;
    out[3] = text_len;
    for (uint64_t p = 0; p < QSEG_PAGES; p++)
        out[4 + p] = d->page_base[first + p] - d->page_base[first];
}

/* Copies the part of [from, from + len) that falls in [at, at + n) of the
 * segment into buf (which starts at segment offset `at`). */
static void copy_piece(uint8_t *buf, uint64_t at, size_t n, uint64_t from, const void *src,
                       uint64_t len)
{
    uint64_t lo = from > at ? from : at;
    uint64_t hi = from + len < at + n ? from + len : at + n;
    if (lo < hi)
        memcpy(buf + (lo - at), (const uint8_t *)src + (lo - from), (size_t)(hi - lo));
}

int64_t queue_segment_read(const struct queue *q, const uint8_t *hash, uint64_t offset,
                           void *buf, size_t max, uint64_t *total)
{
    const struct qbatch *b;
    uint64_t k;
    const struct qsegment *g = served_segment(q, hash, &b, &k);
    if (g == NULL) {
        errno = ENOENT;
        return -1;
    }
    const struct spilled *d = b->disk;
    uint64_t first = k * QSEG_PAGES, end = first + QSEG_PAGES;
    uint64_t text_from = d->page_base[first];
    uint64_t text_to = end < qbatch_page_count(b) ? d->page_base[end] : d->text_len;
    uint64_t len = SEG_TEXT_AT + (text_to - text_from) + 1;
    if (text_to < text_from || text_to > d->text_len || len != g->file.len) {
        errno = EBADMSG;   /* the batch's file does not hold this segment */
        return -1;
    }
    *total = len;
    if (offset >= len)
        return 0;
    size_t n = len - offset < max ? (size_t)(len - offset) : max;
    uint64_t head[HEAD_BYTES / 8 + QSEG_PAGES];
    seg_head(d, first, text_to - text_from, head);
    uint8_t *out = buf;
    memset(out, 0, n);   /* the byte after the texts */
    copy_piece(out, offset, n, 0, head, sizeof head);
    copy_piece(out, offset, n, SEG_DONE_AT, d->done + first * QPAGE_WORDS,
               QSEG_PAGES * QPAGE_WORDS * 8);
    copy_piece(out, offset, n, SEG_OFFSET_AT, d->offset + first * QPAGE_SIZE,
               QSEG_PAGES * QPAGE_SIZE * 4);
    copy_piece(out, offset, n, SEG_TEXT_AT, d->texts + text_from, text_to - text_from);
    return (int64_t)n;
}
