/* spill.c - a finished batch's results, moved from memory to a file.
 *
 * The one place in src/sm that does I/O, and only when its owner calls it:
 * never from queue_apply. Spilling changes where results live, not what
 * they are, so replicas stay identical whether or when they spill, and the
 * snapshot bytes are the same (the encoder reads a spilled page as it reads
 * one in memory).
 *
 * The file mirrors the pages, so nothing is re-encoded and reads cost what
 * they cost in memory:
 *   header   "MESHRES1", count, n_pages, text_len (u64 each)
 *   page_base[n_pages]                 u64: where each page's texts start
 *   done[n_pages * QPAGE_WORDS]        u64: the done bitmaps
 *   offset[n_pages * QPAGE_SIZE]       u32: as result_page.offset
 *   texts[text_len]                    the pages' packed texts, in order
 * It is written a few pages per step on the owner's thread (a 10M batch is
 * ~300 MB: written at once it would stall the loop for a second), then
 * mapped read-only. It has no name: O_TMPFILE, or unlinked at once, so its
 * blocks go with the mapping and a crash leaves nothing behind. */
#include "queue_state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static const char spill_magic[8] = {'M', 'E', 'S', 'H', 'R', 'E', 'S', '1'};
enum { HEADER_BYTES = 32 };

struct queue_spill {
    uint64_t batch_id, n_pages, next_page;
    int fd;
    uint64_t *page_base;            /* written at the end */
    uint64_t text_len;
    off_t done_at, offset_at, text_at;
};

static off_t align8(off_t x)
{
    return (x + 7) & ~(off_t)7;
}

static int open_nameless(const char *dir)
{
#ifdef O_TMPFILE
    int fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0 || (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL))
        return fd;
#endif
    char path[4200];
    if (snprintf(path, sizeof path, "%s/spill-XXXXXX", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd2 = mkstemp(path);
    if (fd2 >= 0)
        unlink(path);
    return fd2;
}

static struct qbatch *unspilled_finished(const struct queue *q, uint64_t id)
{
    for (size_t i = 0; i < q->n; i++) {
        struct qbatch *b = q->batches[i];
        if ((id == 0 || b->id == id) && b->state != BATCH_RUNNING && b->disk == NULL &&
            b->pages != NULL)
            return b;
    }
    return NULL;
}

uint64_t queue_spill_batch(const struct queue_spill *s)
{
    return s->batch_id;
}

void queue_spill_abort(struct queue_spill *s)
{
    if (s == NULL)
        return;
    if (s->fd >= 0)
        close(s->fd);
    free(s->page_base);
    free(s);
}

struct queue_spill *queue_spill_start(const struct queue *q, const char *dir)
{
    const struct qbatch *b = unspilled_finished(q, 0);
    if (b == NULL) {
        errno = ENOENT;
        return NULL;
    }
    struct queue_spill *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    s->batch_id = b->id;
    s->n_pages = qbatch_page_count(b);
    s->page_base = calloc(s->n_pages, sizeof *s->page_base);
    s->fd = open_nameless(dir);
    if (s->page_base == NULL || s->fd < 0) {
        int e = errno;
        queue_spill_abort(s);
        errno = e;
        return NULL;
    }
    s->done_at = HEADER_BYTES + (off_t)(s->n_pages * sizeof(uint64_t));
    s->offset_at = s->done_at + (off_t)(s->n_pages * QPAGE_WORDS * sizeof(uint64_t));
    s->text_at = align8(s->offset_at + (off_t)(s->n_pages * QPAGE_SIZE * sizeof(uint32_t)));
    return s;
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

static int write_page(struct queue_spill *s, uint64_t p, const struct page_view *v)
{
    s->page_base[p] = s->text_len;
    if (write_all(s->fd, v->done, QPAGE_WORDS * sizeof(uint64_t),
                  s->done_at + (off_t)(p * QPAGE_WORDS * sizeof(uint64_t))) != 0 ||
        write_all(s->fd, v->offset, QPAGE_SIZE * sizeof(uint32_t),
                  s->offset_at + (off_t)(p * QPAGE_SIZE * sizeof(uint32_t))) != 0 ||
        write_all(s->fd, v->text, v->len, s->text_at + (off_t)s->text_len) != 0)
        return -1;
    s->text_len += v->len;
    return 0;
}

int queue_spill_step(struct queue_spill *s, const struct queue *q, uint64_t max_pages)
{
    const struct qbatch *b = unspilled_finished(q, s->batch_id);
    if (b == NULL) {
        errno = ENOENT;   /* forgotten meanwhile: nothing to spill */
        return -1;
    }
    for (uint64_t k = 0; k < max_pages && s->next_page < s->n_pages; k++, s->next_page++) {
        struct page_view v;
        if (!qbatch_page(b, s->next_page, &v))
            s->page_base[s->next_page] = s->text_len; /* a hole: reads as not done */
        else if (write_page(s, s->next_page, &v) != 0)
            return -1;
    }
    return s->next_page < s->n_pages ? 1 : 0;
}

static int write_head(struct queue_spill *s, uint64_t count)
{
    uint64_t head[4];
    memcpy(&head[0], spill_magic, sizeof spill_magic);
    head[1] = count;
    head[2] = s->n_pages;
    head[3] = s->text_len;
    return write_all(s->fd, head, sizeof head, 0) == 0 &&
                   write_all(s->fd, s->page_base, s->n_pages * sizeof *s->page_base,
                             HEADER_BYTES) == 0 &&
                   ftruncate(s->fd, s->text_at + (off_t)s->text_len + 1) == 0
               ? 0 : -1;
}

/* The pages go through the retire list: a frozen snapshot may read them. */
static void drop_pages(struct queue *q, struct qbatch *b)
{
    for (uint64_t p = 0; p < qbatch_page_count(b); p++) {
        if (b->pages[p] != NULL)
            retire_free(&q->retire, b->pages[p]->text);
        retire_free(&q->retire, b->pages[p]);
    }
    retire_free(&q->retire, b->pages);
    b->pages = NULL;
}

int queue_spill_finish(struct queue_spill *s, struct queue *q)
{
    struct qbatch *b = unspilled_finished(q, s->batch_id);
    struct spilled *d = calloc(1, sizeof *d);
    int rc = -1;
    if (b == NULL)
        errno = ENOENT;
    else if (d != NULL && write_head(s, b->spec.count) == 0) {
        d->map_len = (size_t)s->text_at + s->text_len + 1;
        d->map = mmap(NULL, d->map_len, PROT_READ, MAP_SHARED, s->fd, 0);
        rc = d->map == MAP_FAILED ? -1 : 0;
    }
    if (rc == 0) {
        const char *base = d->map;
        d->page_base = (const uint64_t *)(base + HEADER_BYTES);
        d->done = (const uint64_t *)(base + s->done_at);
        d->offset = (const uint32_t *)(base + s->offset_at);
        d->texts = base + s->text_at;
        d->text_len = s->text_len;
        drop_pages(q, b);
        b->disk = d;
        d = NULL;
    }
    int e = errno;
    free(d);
    queue_spill_abort(s);
    errno = e;
    return rc;
}

bool queue_batch_spilled(const struct queue *q, uint64_t id)
{
    for (size_t i = 0; i < q->n; i++)
        if (q->batches[i]->id == id)
            return q->batches[i]->disk != NULL;
    return false;
}
