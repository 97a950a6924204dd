/* spill.c - a finished batch's results, moved from memory to their
 * canonical file; and a running batch's full pages, 64 at a time, to
 * segment files of the same layout (queue_state.h, struct qsegment).
 *
 * With result_file.c, the one place in src/sm that does I/O, and only when
 * its owner calls it: never from queue_apply. Spilling changes where
 * results live, not what they are, so replicas stay identical whether or
 * when they spill.
 *
 * The file mirrors the pages, so reads cost what they cost in memory:
 *   header   "MESHRES1", count, n_pages, text_len (u64 each)
 *   page_base[n_pages]                 u64: where each page's items start
 *   done[n_pages * QPAGE_WORDS]        u64: the done bitmaps
 *   offset[n_pages * QPAGE_SIZE]       u32: as result_page.offset
 *   (zeros to a multiple of 8)
 *   texts[text_len]                    the pages' items, in order
 *   one zero byte
 * and it is canonical: each page's items are repacked by ascending index
 * and a not-done slot's offset is 0, so every replica writes the same bytes
 * for the same results whatever order they were applied in (a page in
 * memory packs them in arrival order). So the file can be named by its
 * BLAKE2b-256 and a snapshot can name it instead of carrying it
 * (doc/DESIGN.md, "Manifest snapshots").
 *
 * It is written a few pages per step on the owner's thread (a 10M batch is
 * ~160 MB: written at once it would stall the loop for a second), then
 * hashed a slice per step by reading it back, fsync'd, renamed from its
 * temporary name to its hash, and mapped read-only. */
#include "queue_state.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "result_item.h"

static const char spill_magic[8] = {'M', 'E', 'S', 'H', 'R', 'E', 'S', '1'};
enum { HEADER_BYTES = 32, PATH_BYTES = 4200, HASH_SLICE = 64 * 1024 };

struct queue_spill {
    uint64_t batch_id, n_pages, next_page;
    uint64_t seg;                   /* SEG_WHOLE, or the segment (qsegment) */
    uint64_t first_page, count;     /* the batch's first page in the file; its numbers */
    uint64_t seg_pages;             /* the batch's segment length (qseg_pages) */
    uint64_t unfactored;            /* of the items written */
    int fd;
    char dir[PATH_BYTES], tmp[PATH_BYTES];
    uint64_t *page_base;            /* known at the start: the pages' lengths */
    uint64_t text_len, file_len, hashed;
    off_t done_at, offset_at, text_at;
    bool head_written;
    /* named: the file is under its hash (queue_spill_name, maybe on another
     * thread); name_tried/name_errno: how that went, for finish */
    bool named, name_tried;
    int name_errno;
    uint8_t name_hash[QUEUE_FILE_HASH_BYTES];
    crypto_generichash_state hash;
    uint8_t *seg_known;             /* whole: a bit per segment recorded at the start */
    struct seg_names names;         /* whole: the others it holds in full, once named */
    uint32_t offset[QPAGE_SIZE];    /* one page's canonical offsets */
    uint8_t *scratch;               /* one page's repacked items, or a slice read back */
    size_t scratch_cap;
};

enum { SEG_WHOLE = UINT64_MAX };

static off_t align8(off_t x)
{
    return (x + 7) & ~(off_t)7;
}

/* A finished batch's file is written from its pages and its segments'
 * files: none of them may be elsewhere. */
static struct qbatch *unspilled_finished(const struct queue *q, uint64_t id)
{
    for (size_t i = 0; i < q->n; i++) {
        struct qbatch *b = q->batches[i];
        if ((id == 0 || b->id == id) && b->state != BATCH_RUNNING && b->disk == NULL &&
            b->pages != NULL && b->segs_elsewhere == 0)
            return b;
    }
    return NULL;
}

/* Segment k of b can be spilled: b is running (a finished batch goes
 * whole), the segment is not spilled yet, and every page of it is full and
 * in memory. */
static bool seg_ready(const struct qbatch *b, uint64_t k)
{
    if (b->state != BATCH_RUNNING || b->disk != NULL || b->elsewhere || b->pages == NULL ||
        k >= qbatch_seg_count(b) ||
        (b->segs != NULL && b->segs[k] != NULL))
        return false;
    uint64_t seg_pages = qseg_pages(&b->spec);
    for (uint64_t p = k * seg_pages; p < (k + 1) * seg_pages; p++)
        if (b->pages[p] == NULL || b->pages[p]->n_done != QPAGE_SIZE)
            return false;
    return true;
}

static struct qbatch *batch_by_id(const struct queue *q, uint64_t id)
{
    for (size_t i = 0; i < q->n; i++)
        if (q->batches[i]->id == id)
            return q->batches[i];
    return NULL;
}

/* The lowest segment ready to spill, of any batch: false when none. */
static bool ready_segment(const struct queue *q, const struct qbatch **out, uint64_t *seg)
{
    for (size_t i = 0; i < q->n; i++) {
        const struct qbatch *b = q->batches[i];
        for (uint64_t k = 0; b->pages != NULL && k < qbatch_seg_count(b); k++)
            if (seg_ready(b, k)) {
                *out = b;
                *seg = k;
                return true;
            }
    }
    return false;
}

/* The job's batch, if its pages are still what the job writes. */
static struct qbatch *job_batch(const struct queue *q, const struct queue_spill *s)
{
    if (s->seg == SEG_WHOLE)
        return unspilled_finished(q, s->batch_id);
    struct qbatch *b = batch_by_id(q, s->batch_id);
    return b != NULL && seg_ready(b, s->seg) ? b : NULL;
}

uint64_t queue_spill_batch(const struct queue_spill *s)
{
    return s->batch_id;
}

void queue_spill_abort(struct queue_spill *s)
{
    if (s == NULL)
        return;
    if (s->fd >= 0) {
        close(s->fd);
        if (!s->named)   /* a named file no batch names is the sweep's */
            unlink(s->tmp);
    }
    free(s->page_base);
    free(s->scratch);
    free(s->seg_known);
    seg_names_free(&s->names);
    free(s);
}

static int grow_scratch(struct queue_spill *s, size_t need)
{
    if (need <= s->scratch_cap)
        return 0;
    uint8_t *p = realloc(s->scratch, need);
    if (p == NULL)
        return -1;
    s->scratch = p;
    s->scratch_cap = need;
    return 0;
}

/* The layout follows from the pages' lengths: a page's items take the
 * same bytes in any order. */
static void plan_layout(struct queue_spill *s, const struct qbatch *b)
{
    for (uint64_t p = 0; p < s->n_pages; p++) {
        struct page_view v;
        s->page_base[p] = s->text_len;
        if (qbatch_page(b, s->first_page + p, &v))
            s->text_len += v.len;
    }
    s->done_at = HEADER_BYTES + (off_t)(s->n_pages * sizeof(uint64_t));
    s->offset_at = s->done_at + (off_t)(s->n_pages * QPAGE_WORDS * sizeof(uint64_t));
    s->text_at = align8(s->offset_at + (off_t)(s->n_pages * QPAGE_SIZE * sizeof(uint32_t)));
    s->file_len = (uint64_t)s->text_at + s->text_len + 1;
}

/* The segments the batch knows already (in files, or restored and
 * loaded): the others' names are computed from the whole file (NULL:
 * all, when out of memory). */
static void note_known_segments(struct queue_spill *s, const struct qbatch *b)
{
    uint64_t n = qbatch_seg_count(b);
    s->seg_known = calloc(n / 8 + 1, 1);
    for (uint64_t k = 0; s->seg_known != NULL && b->segs != NULL && k < n; k++)
        if (b->segs[k] != NULL)
            s->seg_known[k / 8] |= (uint8_t)(1u << (k % 8));
}

static struct queue_spill *spill_start(const struct queue *q, const char *dir, bool whole,
                                       bool segment)
{
    const struct qbatch *b = whole ? unspilled_finished(q, 0) : NULL;
    uint64_t seg = SEG_WHOLE;
    if (b == NULL && !(segment && ready_segment(q, &b, &seg))) {
        errno = ENOENT;
        return NULL;
    }
    struct queue_spill *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->fd = -1;
    s->batch_id = b->id;
    s->seg = seg;
    s->first_page = seg == SEG_WHOLE ? 0 : seg * qseg_pages(&b->spec);
    s->n_pages = seg == SEG_WHOLE ? qbatch_page_count(b) : qseg_pages(&b->spec);
    s->count = seg == SEG_WHOLE ? b->spec.count : qseg_results(&b->spec);
    s->seg_pages = qseg_pages(&b->spec);
    s->page_base = calloc(s->n_pages ? s->n_pages : 1, sizeof *s->page_base);
    if (snprintf(s->dir, sizeof s->dir, "%s", dir) >= (int)sizeof s->dir ||
        snprintf(s->tmp, sizeof s->tmp, "%s/.spill-%llu-%llu.tmp", dir,
                 (unsigned long long)b->id, (unsigned long long)(seg + 1)) >=
            (int)sizeof s->tmp) {
        queue_spill_abort(s);
        errno = ENAMETOOLONG;
        return NULL;
    }
    if (s->page_base != NULL)
        s->fd = open(s->tmp, O_CREAT | O_TRUNC | O_RDWR | O_CLOEXEC, 0600);
    if (s->page_base == NULL || s->fd < 0) {
        int e = errno;
        queue_spill_abort(s);
        errno = e;
        return NULL;
    }
    plan_layout(s, b);
    if (seg == SEG_WHOLE)
        note_known_segments(s, b);
    crypto_generichash_init(&s->hash, NULL, 0, QUEUE_FILE_HASH_BYTES);
    return s;
}

/* Finished batches first (all their pages go at once), then a running
 * batch's full segments. */
struct queue_spill *queue_spill_start(const struct queue *q, const char *dir)
{
    return spill_start(q, dir, true, true);
}

struct queue_spill *queue_spill_start_whole(const struct queue *q, const char *dir)
{
    return spill_start(q, dir, true, false);
}

struct queue_spill *queue_spill_start_segment(const struct queue *q, const char *dir)
{
    return spill_start(q, dir, false, true);
}

static int write_all(int fd, const void *p, size_t len, off_t at)
{
    const char *c = p;
    while (len > 0) {
        ssize_t n = pwrite(fd, c, len, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;   /* errno: ENOSPC, EIO... */
        c += n;
        len -= (size_t)n;
        at += n;
    }
    return 0;
}

/* The page's items by ascending index, and their offsets. */
static int repack_page(struct queue_spill *s, const struct page_view *v)
{
    if (grow_scratch(s, v->len ? v->len : 1) != 0)
        return -1;
    memset(s->offset, 0, sizeof s->offset);
    size_t at = 0;
    for (unsigned w = 0; w < QPAGE_WORDS; w++) {
        for (uint64_t word = v->done[w]; word != 0; word &= word - 1) {
            unsigned slot = w * 64 + (unsigned)__builtin_ctzll(word);
            const uint8_t *item = (const uint8_t *)v->text + v->offset[slot];
            size_t size = result_item_size(item, v->len - v->offset[slot]);
            if (size == 0 || size > v->len - at) {
                errno = EIO;   /* the page is not what apply wrote */
                return -1;
            }
            memcpy(s->scratch + at, item, size);
            s->unfactored += result_item_unfactored(item, size);
            s->offset[slot] = (uint32_t)at;
            at += size;
        }
    }
    if (at != v->len) {
        errno = EIO;
        return -1;
    }
    return 0;
}

static int write_page(struct queue_spill *s, uint64_t p, const struct page_view *v)
{
    if (repack_page(s, v) != 0 ||
        write_all(s->fd, v->done, QPAGE_WORDS * sizeof(uint64_t),
                  s->done_at + (off_t)(p * QPAGE_WORDS * sizeof(uint64_t))) != 0 ||
        write_all(s->fd, s->offset, sizeof s->offset,
                  s->offset_at + (off_t)(p * QPAGE_SIZE * sizeof(uint32_t))) != 0 ||
        write_all(s->fd, s->scratch, v->len, s->text_at + (off_t)s->page_base[p]) != 0)
        return -1;
    return 0;
}

static int write_head(struct queue_spill *s, uint64_t count)
{
    uint64_t head[4];
    memcpy(&head[0], spill_magic, sizeof spill_magic);
    head[1] = count;
    head[2] = s->n_pages;
    head[3] = s->text_len;
    if (write_all(s->fd, head, sizeof head, 0) != 0 ||
        write_all(s->fd, s->page_base, s->n_pages * sizeof *s->page_base, HEADER_BYTES) != 0 ||
        ftruncate(s->fd, (off_t)s->file_len) != 0)
        return -1;
    s->head_written = true;
    return 0;
}

/* Reads back up to max bytes of the written file into the hash. */
static int hash_slice(struct queue_spill *s, uint64_t max)
{
    uint64_t n = s->file_len - s->hashed < max ? s->file_len - s->hashed : max;
    if (grow_scratch(s, (size_t)n) != 0)
        return -1;
    for (uint64_t got = 0; got < n;) {
        ssize_t r = pread(s->fd, s->scratch + got, (size_t)(n - got), (off_t)(s->hashed + got));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = EIO;
            return -1;
        }
        got += (uint64_t)r;
    }
    crypto_generichash_update(&s->hash, s->scratch, n);
    s->hashed += n;
    return 0;
}

/* Once the whole file has read a segment's last page through its mapping,
 * the mapping's pages go back to the kernel (the page cache keeps them):
 * else the node's RSS would grow by the batch's size while it is written. */
static void release_segment(const struct qbatch *b, uint64_t p)
{
    const struct qsegment *g = qbatch_seg_of(b, p);
    uint64_t seg_pages = qseg_pages(&b->spec);
    if (g != NULL && g->disk != NULL && p % seg_pages == seg_pages - 1)
        madvise(g->disk->map, g->disk->map_len, MADV_DONTNEED);
}

int queue_spill_step(struct queue_spill *s, const struct queue *q, uint64_t max_pages)
{
    const struct qbatch *b = job_batch(q, s);
    if (b == NULL) {
        errno = ENOENT;   /* forgotten meanwhile: nothing to spill */
        return -1;
    }
    uint64_t k = 0;
    for (; k < max_pages && s->next_page < s->n_pages; k++, s->next_page++) {
        struct page_view v;
        if (qbatch_page(b, s->first_page + s->next_page, &v) &&
            write_page(s, s->next_page, &v) != 0)
            return -1;    /* a page without results stays zeros: read as not done */
        if (s->seg == SEG_WHOLE)
            release_segment(b, s->next_page);
    }
    if (s->next_page < s->n_pages)
        return 1;
    if (!s->head_written && write_head(s, s->count) != 0)
        return -1;
    if (k < max_pages && hash_slice(s, (max_pages - k) * HASH_SLICE) != 0)
        return -1;
    return s->hashed < s->file_len ? 1 : 0;
}

int spilled_bind(struct spilled *d, void *map, size_t len, uint64_t count)
{
    if (len < QUEUE_FILE_MIN_BYTES)
        return -1;
    uint64_t head[4];
    memcpy(head, map, sizeof head);
    uint64_t n_pages = (count + QPAGE_SIZE - 1) >> QPAGE_SHIFT;
    if (memcmp(&head[0], spill_magic, sizeof spill_magic) != 0 || head[1] != count ||
        head[2] != n_pages)
        return -1;
    off_t done_at = HEADER_BYTES + (off_t)(n_pages * sizeof(uint64_t));
    off_t offset_at = done_at + (off_t)(n_pages * QPAGE_WORDS * sizeof(uint64_t));
    off_t text_at = align8(offset_at + (off_t)(n_pages * QPAGE_SIZE * sizeof(uint32_t)));
    if ((uint64_t)text_at >= len || head[3] != len - (uint64_t)text_at - 1)
        return -1;
    const char *base = map;
    d->map = map;
    d->map_len = len;
    d->page_base = (const uint64_t *)(base + HEADER_BYTES);
    d->done = (const uint64_t *)(base + done_at);
    d->offset = (const uint32_t *)(base + offset_at);
    d->texts = base + text_at;
    d->text_len = head[3];
    return 0;
}

/* The pages go through the retire list: a frozen snapshot may read them. */
static void drop_page_range(struct queue *q, struct qbatch *b, uint64_t from, uint64_t to)
{
    for (uint64_t p = from; p < to; p++) {
        if (b->pages[p] != NULL)
            retire_free(&q->retire, b->pages[p]->text);
        retire_free(&q->retire, b->pages[p]);
        b->pages[p] = NULL;
    }
}

/* The batch's own file replaces its pages and its segments' mappings; the
 * segments' files go (spill_segments.c: a snapshot taken before may name
 * them, and the batch's own file gives their bytes back). */
static void drop_pages(struct queue *q, struct qbatch *b)
{
    drop_page_range(q, b, 0, qbatch_page_count(b));
    retire_free(&q->retire, b->pages);
    b->pages = NULL;
    for (uint64_t k = 0; b->segs != NULL && k < qbatch_seg_count(b); k++) {
        struct qsegment *g = b->segs[k];
        if (g != NULL && g->disk != NULL) {
            retire_unmap(&q->retire, g->disk->map, g->disk->map_len);
            retire_free(&q->retire, g->disk);
            g->disk = NULL;
        }
    }
}

/* What a segment's pages cost in memory: moved to the file bytes. */
static uint64_t seg_page_bytes(const struct qbatch *b, uint64_t k)
{
    uint64_t bytes = 0;
    uint64_t seg_pages = qseg_pages(&b->spec);
    for (uint64_t p = k * seg_pages; p < (k + 1) * seg_pages; p++)
        bytes += qpage_bytes(b->pages[p]->cap);
    return bytes;
}

static int install_segment(struct queue_spill *s, struct queue *q, struct qbatch *b,
                           struct spilled *d, const uint8_t *hash)
{
    if (b->segs == NULL && (b->segs = calloc(qbatch_seg_count(b), sizeof *b->segs)) == NULL)
        return -1;
    struct qsegment *g = calloc(1, sizeof *g);
    if (g == NULL)
        return -1;
    memcpy(g->file.hash, hash, sizeof g->file.hash);
    g->file.len = s->file_len;
    g->unfactored = s->unfactored;
    g->bytes = seg_page_bytes(b, s->seg);
    g->disk = d;
    drop_page_range(q, b, s->first_page, s->first_page + s->n_pages);
    b->segs[s->seg] = g;
    b->seg_bytes += g->bytes;
    q->file_bytes += g->bytes;
    return 0;
}

static void install_whole(struct queue_spill *s, struct queue *q, struct qbatch *b,
                          struct spilled *d, const uint8_t *hash)
{
    drop_pages(q, b);
    memcpy(b->file.hash, hash, sizeof b->file.hash);
    b->file.len = s->file_len;
    b->disk = d;
    q->file_bytes += b->bytes - b->seg_bytes;
    seg_names_install(b, &s->names);
    queue_segments_release(q, b, s->dir);
}

/* The file under its hash, durably: data, then the name. */
static int name_file(struct queue_spill *s, const uint8_t *hash)
{
    char path[PATH_BYTES + 80];
    queue_file_path(s->dir, hash, path, sizeof path);
    if (fdatasync(s->fd) != 0 || rename(s->tmp, path) != 0)
        return -1;
    int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}

/* The names of the segments the whole file holds that the batch did not
 * spill as such (spill_segments.c): read back from the file, where the
 * naming runs (the pool, usually). */
static void name_segments(struct queue_spill *s)
{
    void *map = mmap(NULL, (size_t)s->file_len, PROT_READ, MAP_SHARED, s->fd, 0);
    struct spilled d;
    if (map == MAP_FAILED)
        return;
    if (spilled_bind(&d, map, (size_t)s->file_len, s->count) == 0)
        seg_names_compute(&s->names, &d, s->count, s->seg_pages, s->seg_known);
    munmap(map, (size_t)s->file_len);
}

/* The hash, then the file under it; once (finish after name reuses it). */
static int name_once(struct queue_spill *s)
{
    if (!s->name_tried) {
        s->name_tried = true;
        crypto_generichash_final(&s->hash, s->name_hash, sizeof s->name_hash);
        if (name_file(s, s->name_hash) == 0) {
            s->named = true;
            if (s->seg == SEG_WHOLE)
                name_segments(s);
        } else {
            s->name_errno = errno;
            unlink(s->tmp);
        }
    }
    errno = s->name_errno;
    return s->named ? 0 : -1;
}

int queue_spill_name(struct queue_spill *s)
{
    if (s->hashed != s->file_len) {
        errno = EINVAL;
        return -1;
    }
    return name_once(s);
}

/* A job that ends unused once its file is named (its segment's batch
 * finished meanwhile, and its own file holds the pages): the file goes,
 * unless a batch names it (an identical batch's segment). */
static void drop_named(const struct queue_spill *s, const struct queue *q)
{
    char path[PATH_BYTES + 80];
    if (!s->named || queue_names_file(q, s->name_hash))
        return;
    queue_file_path(s->dir, s->name_hash, path, sizeof path);
    unlink(path);
}

int queue_spill_finish(struct queue_spill *s, struct queue *q)
{
    struct qbatch *b = job_batch(q, s);
    struct spilled *d = calloc(1, sizeof *d);
    const uint8_t *hash = s->name_hash;
    int rc = -1;
    if (b == NULL || s->hashed != s->file_len) {
        errno = ENOENT;
    } else if (d != NULL) {
        void *map = MAP_FAILED;
        if (name_once(s) == 0)
            map = mmap(NULL, (size_t)s->file_len, PROT_READ, MAP_SHARED, s->fd, 0);
        if (map != MAP_FAILED && spilled_bind(d, map, (size_t)s->file_len, s->count) != 0) {
            munmap(map, (size_t)s->file_len);
            errno = EIO;
        } else if (map != MAP_FAILED) {
            rc = 0;
        }
    }
    if (rc == 0 && s->seg != SEG_WHOLE && install_segment(s, q, b, d, hash) != 0) {
        munmap(d->map, d->map_len);
        rc = -1;
        errno = ENOMEM;   /* the file goes: no batch names it */
    } else if (rc == 0 && s->seg == SEG_WHOLE) {
        install_whole(s, q, b, d, hash);
    }
    if (rc == 0) {
        d = NULL;
        close(s->fd);
        s->fd = -1;   /* named now: abort must not unlink */
    } else {
        drop_named(s, q);
    }
    int e = errno;
    free(d);
    queue_spill_abort(s);
    errno = e;
    return rc;
}

bool queue_spill_is_segment(const struct queue_spill *s)
{
    return s->seg != SEG_WHOLE;
}

bool queue_batch_spilled(const struct queue *q, uint64_t id)
{
    for (size_t i = 0; i < q->n; i++)
        if (q->batches[i]->id == id)
            return q->batches[i]->disk != NULL;
    return false;
}
