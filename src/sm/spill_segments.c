/* spill_segments.c - a finished batch's segments, once its own file holds
 * them: their files removed, their bytes read back from its own file for
 * whoever still needs one (doc/DESIGN.md, "Partial spill").
 *
 * A snapshot frozen while the batch ran names its segments, and a replica
 * restoring it loads them before it can write the batch's own file: this
 * node at a restart from its own snapshot, a peer sent one. A segment is
 * canonical and full, so its file is the own file's pages k * P .. + P
 * re-headed (P: the batch's qseg_pages): the same done bitmaps, offsets (each page's
 * are relative to its own texts) and texts, under a header and page bases
 * of its own. So the segments' files go as soon as the own file is in
 * place, and:
 * - a peer asking for one (by hash) is answered from the own file while
 *   this replica knows the segment (queue_segment_read);
 * - this node restored from a snapshot naming one rebuilds its file from
 *   the own file, found among the files no batch names by its header and
 *   taken only if the bytes hash to the name the snapshot gives
 *   (queue_segment_rebuild; the sweep keeps such files while a batch
 *   waits for segments, queue_segment_source).
 * The asker checks every file by the hash its snapshot names, as any
 * fetched file: a wrong slice is refused, never loaded.
 *
 * The owner's thread only (the queue's), like spill.c. */
#include "queue_state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char seg_magic[8] = {'M', 'E', 'S', 'H', 'R', 'E', 'S', '1'};

enum { HEAD_BYTES = 32, PATH_BYTES = 4200 };

/* A segment of `pages` pages: where the pieces of its file start, in its
 * own layout (every piece a multiple of 8 bytes: no padding). */
struct seg_shape {
    uint64_t pages, done_at, offset_at, text_at;
};

static struct seg_shape seg_shape_of(uint64_t pages)
{
    struct seg_shape sh = {.pages = pages, .done_at = HEAD_BYTES + pages * 8};
    sh.offset_at = sh.done_at + pages * QPAGE_WORDS * 8;
    sh.text_at = sh.offset_at + pages * QPAGE_SIZE * 4;
    return sh;
}

void queue_segments_release(const struct queue *q, struct qbatch *b, const char *dir)
{
    for (uint64_t k = 0; b->segs != NULL && k < qbatch_seg_count(b); k++)
        if (b->segs[k] != NULL)
            b->segs[k]->released = true;   /* queue_names_file skips them now */
    for (uint64_t k = 0; b->segs != NULL && k < qbatch_seg_count(b); k++) {
        const struct qsegment *g = b->segs[k];
        char path[PATH_BYTES];
        if (g == NULL || queue_names_file(q, g->file.hash))
            continue;
        queue_file_path(dir, g->file.hash, path, sizeof path);
        unlink(path);     /* if it stays (EACCES...), no batch names it: swept */
    }
}

/* Segment k of a file of pages_total pages mapped as d: its texts' range
 * in d and its file's length; 0 when d cannot hold it. */
static uint64_t seg_layout(const struct spilled *d, const struct seg_shape *sh,
                          uint64_t pages_total, uint64_t k, uint64_t *text_from,
                          uint64_t *text_to)
{
    uint64_t first = k * sh->pages, end = first + sh->pages;
    if (end > pages_total)
        return 0;
    *text_from = d->page_base[first];
    *text_to = end < pages_total ? d->page_base[end] : d->text_len;
    if (*text_from > *text_to || *text_to > d->text_len)
        return 0;
    return sh->text_at + (*text_to - *text_from) + 1;
}

/* Copies the part of [from, from + len) that falls in [at, at + n) of the
 * segment into out (which starts at segment offset `at`). */
static void copy_piece(uint8_t *out, uint64_t at, size_t n, uint64_t from, const void *src,
                       uint64_t len)
{
    uint64_t lo = from > at ? from : at;
    uint64_t hi = from + len < at + n ? from + len : at + n;
    if (lo < hi)
        memcpy(out + (lo - at), (const uint8_t *)src + (lo - from), (size_t)(hi - lo));
}

/* Bytes [at, at + n) of segment k's file, made from d (seg_layout's range). */
static void seg_bytes(const struct spilled *d, const struct seg_shape *sh, uint64_t k,
                      uint64_t text_from, uint64_t text_to, uint64_t at, uint8_t *out,
                      size_t n)
{
    uint64_t first = k * sh->pages;
    uint64_t head[HEAD_BYTES / 8 + QSEG_PAGES];
    memcpy(&head[0], seg_magic, sizeof seg_magic);
    head[1] = sh->pages * QPAGE_SIZE;
    head[2] = sh->pages;
    head[3] = text_to - text_from;
    for (uint64_t p = 0; p < sh->pages; p++)
        head[4 + p] = d->page_base[first + p] - text_from;
    memset(out, 0, n);   /* the byte after the texts */
    copy_piece(out, at, n, 0, head, (4 + sh->pages) * 8);
    copy_piece(out, at, n, sh->done_at, d->done + first * QPAGE_WORDS,
               sh->pages * QPAGE_WORDS * 8);
    copy_piece(out, at, n, sh->offset_at, d->offset + first * QPAGE_SIZE,
               sh->pages * QPAGE_SIZE * 4);
    copy_piece(out, at, n, sh->text_at, d->texts + text_from, text_to - text_from);
}

/* Every page of segment k done: only such a run was ever a segment. */
static bool seg_full(const struct spilled *d, const struct seg_shape *sh, uint64_t k)
{
    const uint64_t *done = d->done + k * sh->pages * QPAGE_WORDS;
    for (uint64_t w = 0; w < sh->pages * QPAGE_WORDS; w++)
        if (done[w] != UINT64_MAX)
            return false;
    return true;
}

void seg_names_compute(struct seg_names *out, const struct spilled *d, uint64_t count,
                       uint64_t seg_pages, const uint8_t *skip)
{
    struct seg_shape sh = seg_shape_of(seg_pages);
    uint64_t pages = (count + QPAGE_SIZE - 1) >> QPAGE_SHIFT, total = pages / seg_pages;
    *out = (struct seg_names){0};
    out->seg = malloc((total ? total : 1) * sizeof *out->seg);
    out->file = malloc((total ? total : 1) * sizeof *out->file);
    uint8_t *bytes = malloc(sh.text_at + 1);
    size_t cap = sh.text_at + 1;
    for (uint64_t k = 0; out->seg != NULL && out->file != NULL && bytes != NULL && k < total;
         k++) {
        uint64_t from, to, len;
        if ((skip != NULL && (skip[k / 8] >> (k % 8)) & 1) || !seg_full(d, &sh, k) ||
            (len = seg_layout(d, &sh, pages, k, &from, &to)) == 0)
            continue;
        if (len > cap) {
            uint8_t *more = realloc(bytes, len);
            if (more == NULL)
                break;
            bytes = more;
            cap = len;
        }
        seg_bytes(d, &sh, k, from, to, 0, bytes, len);
        out->seg[out->n] = k;
        out->file[out->n].len = len;
        crypto_generichash(out->file[out->n].hash, QUEUE_FILE_HASH_BYTES, bytes, len, NULL, 0);
        out->n++;
    }
    free(bytes);
}

void seg_names_install(struct qbatch *b, const struct seg_names *names)
{
    if (names->n == 0 ||
        (b->segs == NULL && (b->segs = calloc(qbatch_seg_count(b), sizeof *b->segs)) == NULL))
        return;
    for (size_t i = 0; i < names->n; i++) {
        uint64_t k = names->seg[i];
        if (k >= qbatch_seg_count(b) || b->segs[k] != NULL ||
            (b->segs[k] = calloc(1, sizeof *b->segs[k])) == NULL)
            continue;
        b->segs[k]->file = names->file[i];
        b->segs[k]->released = true;
    }
}

void seg_names_free(struct seg_names *names)
{
    free(names->seg);
    free(names->file);
    *names = (struct seg_names){0};
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

int64_t queue_segment_read(const struct queue *q, const uint8_t *hash, uint64_t offset,
                           void *buf, size_t max, uint64_t *total)
{
    const struct qbatch *b;
    uint64_t k, from = 0, to = 0;
    const struct qsegment *g = served_segment(q, hash, &b, &k);
    if (g == NULL) {
        errno = ENOENT;
        return -1;
    }
    struct seg_shape sh = seg_shape_of(qseg_pages(&b->spec));
    uint64_t len = seg_layout(b->disk, &sh, qbatch_page_count(b), k, &from, &to);
    if (len != g->file.len) {
        errno = EBADMSG;   /* the batch's file does not hold this segment */
        return -1;
    }
    *total = len;
    if (offset >= len)
        return 0;
    size_t n = len - offset < max ? (size_t)(len - offset) : max;
    seg_bytes(b->disk, &sh, k, from, to, offset, buf, n);
    return (int64_t)n;
}

/* The batch waiting for a segment whose own file has `count` numbers: its
 * first such segment's number in *seg. NULL when none waits. */
static const struct qbatch *waits_for_segment(const struct queue *q, uint64_t id, uint64_t count,
                                              uint64_t *seg)
{
    for (size_t i = 0; i < q->n; i++) {
        const struct qbatch *b = q->batches[i];
        if (b->segs_elsewhere == 0 || (id != 0 && b->id != id) ||
            (count != 0 && b->spec.count != count))
            continue;
        for (uint64_t k = 0; seg != NULL && k < qbatch_seg_count(b); k++)
            if (b->segs[k] != NULL && b->segs[k]->elsewhere) {
                *seg = k;
                break;
            }
        return b;
    }
    return NULL;
}

/* The header of the result file at path: its count, 0 if none. */
static uint64_t file_count(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    uint64_t head[4] = {0};
    ssize_t r = fd >= 0 ? pread(fd, head, sizeof head, 0) : -1;
    if (fd >= 0)
        close(fd);
    if (r != (ssize_t)sizeof head || memcmp(&head[0], seg_magic, sizeof seg_magic) != 0)
        return 0;
    return head[1];
}

bool queue_segment_source(const struct queue *q, const char *path)
{
    if (waits_for_segment(q, 0, 0, NULL) == NULL)
        return false;   /* nothing to rebuild: no file read */
    uint64_t count = file_count(path);
    return count != 0 && waits_for_segment(q, 0, count, NULL) != NULL;
}

/* Writes len bytes as dir/<hex of hash>, through a temporary name. */
static int write_named(const char *dir, const uint8_t *hash, const uint8_t *bytes, size_t len)
{
    char path[PATH_BYTES], tmp[PATH_BYTES + 8];
    queue_file_path(dir, hash, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_CREAT | O_TRUNC | O_WRONLY | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, bytes + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    bool ok = done == len;
    if (close(fd) != 0)
        ok = false;
    int rc = ok ? rename(tmp, path) : -1;
    if (rc != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
    }
    return rc;
}

/* Segment k of b from the file at path if it is b's own file (its bytes
 * hash to the segment's name): 0 when written, -1 when not. */
static int rebuild_from(const struct qbatch *b, uint64_t k, const char *path, const char *dir)
{
    const struct qsegment *g = b->segs[k];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    void *map = MAP_FAILED;
    if (fd >= 0 && fstat(fd, &st) == 0 && st.st_size >= QUEUE_FILE_MIN_BYTES)
        map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (fd >= 0)
        close(fd);
    if (map == MAP_FAILED)
        return -1;
    struct spilled d;
    struct seg_shape sh = seg_shape_of(qseg_pages(&b->spec));
    uint64_t from = 0, to = 0;
    uint8_t *bytes = NULL;
    int rc = -1;
    if (spilled_bind(&d, map, (size_t)st.st_size, b->spec.count) == 0 &&
        seg_layout(&d, &sh, qbatch_page_count(b), k, &from, &to) == g->file.len &&
        (bytes = malloc(g->file.len)) != NULL) {
        seg_bytes(&d, &sh, k, from, to, 0, bytes, g->file.len);
        if (queue_file_hash_ok(bytes, g->file.len, g->file.hash))
            rc = write_named(dir, g->file.hash, bytes, g->file.len);
    }
    free(bytes);
    munmap(map, (size_t)st.st_size);
    return rc;
}

int queue_segment_rebuild(const struct queue *q, uint64_t id, const char *dir)
{
    uint64_t k = 0;
    const struct qbatch *b = waits_for_segment(q, id, 0, &k);
    DIR *dp = b != NULL ? opendir(dir) : NULL;
    if (dp == NULL) {
        errno = ENOENT;
        return -1;
    }
    int rc = -1;
    struct dirent *e;
    while (rc != 0 && (e = readdir(dp)) != NULL) {
        char path[PATH_BYTES];
        if (strlen(e->d_name) != 2 * QUEUE_FILE_HASH_BYTES ||
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= (int)sizeof path ||
            file_count(path) != b->spec.count)
            continue;
        rc = rebuild_from(b, k, path, dir);
    }
    closedir(dp);
    if (rc != 0)
        errno = ENOENT;
    return rc;
}
