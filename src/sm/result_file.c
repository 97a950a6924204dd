/* result_file.c - finished batches' results files, named by their hash.
 *
 * spill.c writes a finished batch's results as its canonical file,
 * DIR/<64 hex digits of its BLAKE2b-256>, and a snapshot names that file
 * instead of carrying the results (queue_snapshot.c, MQS 6). A batch
 * restored from such a manifest entry has its results "elsewhere" until
 * its file is loaded here: found in DIR (a restart), or written there by
 * the node after fetching it from a peer (src/node/result_fetch.c). The
 * file's hash is checked whole, then its layout item by item against the
 * manifest's counters, before any read sees it: a damaged file is refused
 * (EBADMSG), never served. Owner's thread only, never from queue_apply,
 * but for the load's check (queue_load_check): it reads only the mapping
 * and a copy of the manifest's entry, so it runs on a worker thread while
 * the owner keeps applying; the finish installs the result if the batch
 * still waits for that file. */
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

#include "result_item.h"

void queue_file_path(const char *dir, const uint8_t *hash, char *out, size_t size)
{
    char hex[2 * QUEUE_FILE_HASH_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, hash, QUEUE_FILE_HASH_BYTES);
    snprintf(out, size, "%s/%s", dir, hex);
}

bool queue_file_hash_ok(const void *map, size_t len, const uint8_t *hash)
{
    uint8_t got[QUEUE_FILE_HASH_BYTES];
    crypto_generichash(got, sizeof got, map, len, NULL, 0);
    return sodium_memcmp(got, hash, sizeof got) == 0;
}

/* The first segment of b not loaded yet (b->segs_elsewhere > 0). */
static uint64_t first_seg_elsewhere(const struct qbatch *b)
{
    uint64_t k = 0;
    while (b->segs[k] == NULL || !b->segs[k]->elsewhere)
        k++;
    return k;
}

/* A batch waits for its own file, or else for its segments' one at a time. */
bool queue_results_wanted(const struct queue *q, size_t *at, struct queue_file_ref *ref)
{
    for (; *at < q->n; (*at)++) {
        const struct qbatch *b = q->batches[*at];
        if (b->elsewhere || b->segs_elsewhere > 0) {
            const struct result_ref *f = b->elsewhere ? &b->file
                                       : &b->segs[first_seg_elsewhere(b)]->file;
            ref->batch_id = b->id;
            memcpy(ref->hash, f->hash, sizeof ref->hash);
            ref->len = f->len;
            (*at)++;
            return true;
        }
    }
    return false;
}

bool queue_names_file(const struct queue *q, const uint8_t *hash)
{
    for (size_t i = 0; i < q->n; i++) {
        const struct qbatch *b = q->batches[i];
        if ((b->disk != NULL || b->elsewhere) &&
            memcmp(b->file.hash, hash, QUEUE_FILE_HASH_BYTES) == 0)
            return true;
        for (uint64_t k = 0; b->segs != NULL && k < qbatch_seg_count(b); k++)
            if (b->segs[k] != NULL && !b->segs[k]->released &&
                memcmp(b->segs[k]->file.hash, hash, QUEUE_FILE_HASH_BYTES) == 0)
                return true;
    }
    return false;
}

struct file_count {
    uint64_t done, unfactored, first_pending;
};

/* One page's items: exactly the canonical packing of valid items, by
 * ascending index from the page's start, a not-done slot's offset 0. */
static int check_page(const struct spilled *d, uint64_t p, uint64_t count, uint64_t n_pages,
                      struct file_count *c)
{
    uint64_t start = d->page_base[p];
    uint64_t end = p + 1 < n_pages ? d->page_base[p + 1] : d->text_len;
    if (start > end || end > d->text_len)
        return -1;
    const uint64_t *done = d->done + p * QPAGE_WORDS;
    const uint32_t *offset = d->offset + p * QPAGE_SIZE;
    const uint8_t *text = (const uint8_t *)d->texts + start;
    uint64_t at = 0;
    for (unsigned slot = 0; slot < QPAGE_SIZE; slot++) {
        uint64_t index = (p << QPAGE_SHIFT) + slot;
        if (!((done[slot >> 6] >> (slot & 63)) & 1)) {
            if (offset[slot] != 0)
                return -1;
            if (index < count && c->first_pending == count)
                c->first_pending = index;
            continue;
        }
        if (index >= count || offset[slot] != at)
            return -1;
        struct qreader in;
        qreader_init(&in, text + at, (size_t)(end - start - at));
        if (result_item_check(&in) != 0)
            return -1;
        c->unfactored += result_item_unfactored(text + at, in.pos);
        c->done++;
        at += in.pos;
    }
    return at == end - start ? 0 : -1;
}

/* What the check compares the file with: the manifest's entry for the
 * batch, copied so the check needs nothing of the queue. */
struct file_expect {
    uint64_t batch_id, count, done, unfactored;
    uint64_t seg;                 /* SEG_WHOLE, or the segment */
    struct result_ref file;
    uint64_t seg_pages;           /* the batch's segment length (qseg_pages) */
};

enum { SEG_WHOLE = UINT64_MAX };

static int check_items(const struct spilled *d, const struct file_expect *x, uint64_t *cursor)
{
    uint64_t n_pages = (x->count + QPAGE_SIZE - 1) >> QPAGE_SHIFT;
    struct file_count c = {0, 0, x->count};
    if (n_pages > 0 && d->page_base[0] != 0)
        return -1;
    for (uint64_t p = 0; p < n_pages; p++)
        if (check_page(d, p, x->count, n_pages, &c) != 0)
            return -1;
    *cursor = c.first_pending;
    return c.done == x->done && c.unfactored == x->unfactored ? 0 : -1;
}

static struct qbatch *waiting_batch(const struct queue *q, uint64_t id)
{
    for (size_t i = 0; i < q->n; i++)
        if (q->batches[i]->id == id &&
            (q->batches[i]->elsewhere || q->batches[i]->segs_elsewhere > 0))
            return q->batches[i];
    return NULL;
}

/* What b waits for first: its own file, or its first segment's (a full
 * run of qseg_results numbers). */
static struct file_expect expect_of(const struct qbatch *b)
{
    if (b->elsewhere)
        return (struct file_expect){b->id, b->spec.count, b->done, b->unfactored, SEG_WHOLE,
                                    b->file, qseg_pages(&b->spec)};
    uint64_t k = first_seg_elsewhere(b);
    const struct qsegment *g = b->segs[k];
    uint64_t results = qseg_results(&b->spec);
    return (struct file_expect){b->id, results, results, g->unfactored, k, g->file,
                                qseg_pages(&b->spec)};
}

/* Whether b still waits for exactly the file x describes. */
static bool still_waits(const struct qbatch *b, const struct file_expect *x)
{
    const struct result_ref *f;
    if (x->seg == SEG_WHOLE) {
        if (!b->elsewhere || b->spec.count != x->count || b->done != x->done ||
            b->unfactored != x->unfactored)
            return false;
        f = &b->file;
    } else {
        const struct qsegment *g = x->seg < qbatch_seg_count(b) && b->segs != NULL
                                 ? b->segs[x->seg] : NULL;
        if (g == NULL || !g->elsewhere || g->unfactored != x->unfactored)
            return false;
        f = &g->file;
    }
    return f->len == x->file.len && memcmp(f->hash, x->file.hash, sizeof f->hash) == 0;
}

static void *map_file(const char *path, uint64_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat st;
    void *map = NULL;
    if (fstat(fd, &st) != 0)
        map = NULL;
    else if ((uint64_t)st.st_size != len)
        errno = EBADMSG;
    else if ((map = mmap(NULL, (size_t)len, PROT_READ, MAP_SHARED, fd, 0)) == MAP_FAILED)
        map = NULL;
    int e = errno;
    close(fd);
    errno = e;
    return map;
}

struct queue_load {
    struct file_expect expect;
    void *map;
    struct spilled *disk;
    uint64_t cursor;
    int err;          /* the check's outcome: 0, or EBADMSG */
    bool checked;
    struct seg_names names;   /* a batch's own file: the segments it holds */
};

uint64_t queue_load_batch(const struct queue_load *l)
{
    return l->expect.batch_id;
}

void queue_load_abort(struct queue_load *l)
{
    if (l == NULL)
        return;
    if (l->map != NULL)
        munmap(l->map, (size_t)l->expect.file.len);
    free(l->disk);
    seg_names_free(&l->names);
    free(l);
}

struct queue_load *queue_load_start(const struct queue *q, uint64_t id, const char *dir)
{
    struct qbatch *b = waiting_batch(q, id);
    if (b == NULL) {
        errno = ENOENT;
        return NULL;
    }
    struct queue_load *l = calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    l->expect = expect_of(b);
    char path[4200];
    queue_file_path(dir, l->expect.file.hash, path, sizeof path);
    l->map = map_file(path, l->expect.file.len);
    l->disk = calloc(1, sizeof *l->disk);
    if (l->map == NULL || l->disk == NULL) {
        int e = l->disk == NULL && l->map != NULL ? ENOMEM : errno;
        queue_load_abort(l);
        errno = e;
        return NULL;
    }
    return l;
}

void queue_load_check(struct queue_load *l)
{
    const struct file_expect *x = &l->expect;
    l->checked = true;
    if (!queue_file_hash_ok(l->map, (size_t)x->file.len, x->file.hash) ||
        spilled_bind(l->disk, l->map, (size_t)x->file.len, x->count) != 0 ||
        check_items(l->disk, x, &l->cursor) != 0) {
        l->err = EBADMSG;
        return;
    }
    /* A batch's own file answers for its segments a peer may still ask
     * for (spill_segments.c): their names, while the file is read here. */
    if (x->seg == SEG_WHOLE)
        seg_names_compute(&l->names, l->disk, x->count, x->seg_pages, NULL);
    /* The checks read every page of the mapping: give them back (the page
     * cache keeps them), so the node's RSS does not grow by what it
     * retains; reads fault in what they touch. */
    madvise(l->map, (size_t)x->file.len, MADV_DONTNEED);
}

int queue_load_finish(struct queue_load *l, struct queue *q)
{
    const struct file_expect *x = &l->expect;
    struct qbatch *b = waiting_batch(q, x->batch_id);
    int rc = -1, err = ENOENT;
    if (!l->checked || l->err != 0) {
        err = l->checked ? l->err : EINVAL;
    } else if (b != NULL && still_waits(b, x) && x->seg != SEG_WHOLE) {
        /* A segment: full, so the cursor and counters do not move. */
        b->segs[x->seg]->disk = l->disk;
        b->segs[x->seg]->elsewhere = false;
        b->segs_elsewhere--;
        l->disk = NULL;
        l->map = NULL;
        rc = 0;
    } else if (b != NULL && still_waits(b, x)) {
        /* Still waiting for this very file (a replica replaced meanwhile
         * may name the batch anew: the check holds if the entry is the
         * same). Only where the results live changes: nothing replicated. */
        b->disk = l->disk;
        b->elsewhere = false;
        b->cursor = l->cursor;
        seg_names_install(b, &l->names);
        l->disk = NULL;
        l->map = NULL;
        rc = 0;
    }
    queue_load_abort(l);
    if (rc != 0)
        errno = err;
    return rc;
}

int queue_results_load(struct queue *q, uint64_t id, const char *dir)
{
    struct queue_load *l = queue_load_start(q, id, dir);
    if (l == NULL)
        return -1;
    queue_load_check(l);
    return queue_load_finish(l, q);
}

static bool hex_name(const char *name, uint8_t *hash)
{
    size_t bin_len;
    return strlen(name) == 2 * QUEUE_FILE_HASH_BYTES &&
           strspn(name, "0123456789abcdef") == 2 * QUEUE_FILE_HASH_BYTES &&
           sodium_hex2bin(hash, QUEUE_FILE_HASH_BYTES, name, strlen(name), NULL, &bin_len,
                          NULL) == 0 &&
           bin_len == QUEUE_FILE_HASH_BYTES;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

size_t queue_results_sweep(const struct queue *q, const char *dir, bool leftovers)
{
    DIR *dp = opendir(dir);
    if (dp == NULL)
        return 0;
    size_t removed = 0;
    struct dirent *e;
    while ((e = readdir(dp)) != NULL) {
        uint8_t hash[QUEUE_FILE_HASH_BYTES];
        bool named = hex_name(e->d_name, hash);
        bool stale = named ? !queue_names_file(q, hash)
                   : leftovers && (ends_with(e->d_name, ".tmp") || ends_with(e->d_name, ".part"));
        char path[4200];
        if (stale && snprintf(path, sizeof path, "%s/%s", dir, e->d_name) < (int)sizeof path &&
            !(named && queue_segment_source(q, path)) && unlink(path) == 0)
            removed++;
    }
    closedir(dp);
    return removed;
}
