/* queue_snapshot.c - the queue's snapshot bytes, and restoring them.
 *
 * "MQS" 6, next_id, applied, drained count and the drained node ids
 * ascending, the uploads in progress (upload.h), batch count, then per
 * batch: id, state u8, name str, write token (3 and later; "MQS" 2 is still
 * read), submitted_ms and ended_ms (4 and later), spec, budget (5 and 6;
 * "MQS" 4 and earlier restore the node default), then (6) where u8: 0
 * inline, 1 a manifest entry (a finished batch whose results are in its
 * canonical file, result_file.c): done count, unfactored, bytes, the file's
 * length and its 32-byte BLAKE2b-256; 2 segments then inline (a batch some
 * of whose full pages are in segment files, queue_state.h): the count of
 * segments, per segment ascending its number, unfactored, bytes, the file's
 * length and hash, then what inline has for the results outside them;
 * inline (and before 6): done count,
 * and per done index in ascending order: gap (index minus the previous
 * index + 1) and text str; then (4 and later) the tombstones of forgotten
 * batches, oldest first: count, and per one id, time_ms, reason u8.
 * A manifest entry keeps the snapshot the size of the queue's state, not
 * of its results (libraft 0.15 holds a snapshot whole in memory, and
 * InstallSnapshot sends it as one message): a batch restored from one has
 * its results "elsewhere" until its file is loaded (queue.h).
 * Restore re-runs qbatch_record, so the derived counters (unfactored,
 * cursor) are recomputed, never trusted, and each text becomes its item;
 * the encoder renders the items back into texts.
 *
 * Encoding always goes through a frozen view: a copy, taken at one instant,
 * of everything apply may still change (counters, done bitmaps, the lists
 * of batches, pages and upload parts), pointing at everything it will not
 * (specs, names, offsets and texts of done indexes, part bytes). So the
 * same code encodes synchronously (queue_snapshot) and on a worker thread
 * while the owner keeps applying (queue_freeze), with identical bytes. */
#include "queue_state.h"

#include <stdlib.h>
#include <string.h>

#include "queue_codec.h"
#include "result_item.h"

static const uint8_t snapshot_magic[4] = {'M', 'Q', 'S', QUEUE_SNAPSHOT_FORMAT};
enum { SNAPSHOT_VERSION_INLINE = QUEUE_SNAPSHOT_FORMAT_INLINE,
       SNAPSHOT_VERSION_NO_BUDGET = QUEUE_SNAPSHOT_FORMAT_NO_BUDGET,
       SNAPSHOT_VERSION_NO_TIMES = QUEUE_SNAPSHOT_FORMAT_NO_TIMES,
       SNAPSHOT_VERSION_NO_TOKENS = QUEUE_SNAPSHOT_FORMAT_OLDEST };

struct frozen_page {
    uint64_t page_no;
    const uint32_t *offset;       /* the live page's: done slots never change */
    const char *text;             /* the live buffer at freeze time */
    size_t len;                   /* ... and its bytes then */
    uint64_t done[QPAGE_WORDS];   /* copied: apply sets more bits */
};

struct frozen_seg {
    uint64_t k, unfactored, bytes;
    struct result_ref file;
};

struct frozen_batch {
    uint64_t id;
    uint8_t state;
    uint64_t done, token, submitted_ms, ended_ms;
    bool manifest;                /* results in a file: named, not carried */
    struct result_ref file;
    uint64_t unfactored, bytes;
    const char *name;
    const struct batch_spec *spec;
    struct frozen_page *pages;    /* the pages holding results, ascending */
    size_t n_pages;
    struct frozen_seg *segs;      /* the segments in files, ascending */
    size_t n_segs;
};

struct queue_freeze {
    uint64_t next_id, applied;
    uint64_t *drained;
    size_t n_drained;
    struct upload_set uploads;    /* shared copy */
    struct frozen_batch *batches;
    size_t n_batches;
    struct forgotten_info *forgotten;   /* copied, oldest first */
    size_t n_forgotten;
};

/* ---- freezing (event loop) ----------------------------------------------- */

static void view_free(struct queue_freeze *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n_batches; i++)
    {
        free(f->batches[i].pages);
        free(f->batches[i].segs);
    }
    free(f->batches);
    free(f->forgotten);
    free(f->drained);
    upload_set_unshare(&f->uploads);
    free(f);
}

static int freeze_pages(const struct qbatch *b, struct frozen_batch *fb)
{
    uint64_t n = 0, total = b->pages || b->disk ? qbatch_page_count(b) : 0;
    struct page_view v;
    for (uint64_t p = 0; p < total; p++)
        n += qbatch_seg_of(b, p) == NULL && qbatch_page(b, p, &v);
    if (n == 0)
        return 0;
    fb->pages = malloc(n * sizeof *fb->pages);
    if (fb->pages == NULL)
        return -1;
    for (uint64_t p = 0; p < total; p++) {
        if (qbatch_seg_of(b, p) != NULL || !qbatch_page(b, p, &v))
            continue;
        struct frozen_page *fp = &fb->pages[fb->n_pages++];
        fp->page_no = p;
        fp->offset = v.offset;
        fp->text = v.text;
        fp->len = v.len;
        memcpy(fp->done, v.done, sizeof fp->done);
    }
    return 0;
}

/* The segments named in place of their pages (copied: a load changes them). */
static int freeze_segs(const struct qbatch *b, struct frozen_batch *fb)
{
    uint64_t n = 0, total = b->segs != NULL ? qbatch_seg_count(b) : 0;
    for (uint64_t k = 0; k < total; k++)
        n += b->segs[k] != NULL;
    if (n == 0)
        return 0;
    fb->segs = malloc(n * sizeof *fb->segs);
    if (fb->segs == NULL)
        return -1;
    for (uint64_t k = 0; k < total; k++) {
        const struct qsegment *g = b->segs[k];
        if (g != NULL)
            fb->segs[fb->n_segs++] = (struct frozen_seg){k, g->unfactored, g->bytes, g->file};
    }
    return 0;
}

static int freeze_batches(const struct queue *q, struct queue_freeze *f)
{
    if (q->n == 0)
        return 0;
    f->batches = calloc(q->n, sizeof *f->batches);
    if (f->batches == NULL)
        return -1;
    for (size_t i = 0; i < q->n; i++, f->n_batches++) {
        const struct qbatch *b = q->batches[i];
        struct frozen_batch *fb = &f->batches[i];
        *fb = (struct frozen_batch){.id = b->id, .state = (uint8_t)b->state, .done = b->done,
                                    .token = b->token, .submitted_ms = b->submitted_ms,
                                    .ended_ms = b->ended_ms, .name = b->name,
                                    .spec = &b->spec, .file = b->file,
                                    .unfactored = b->unfactored, .bytes = b->bytes,
                                    .manifest = b->disk != NULL || b->elsewhere};
        if (!fb->manifest && (freeze_pages(b, fb) != 0 || freeze_segs(b, fb) != 0))
            return -1;
    }
    return 0;
}

static int freeze_forgotten(const struct queue *q, struct queue_freeze *f)
{
    size_t n = queue_forgotten_count(q);
    f->forgotten = malloc((n ? n : 1) * sizeof *f->forgotten);
    if (f->forgotten == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        f->forgotten[i] = *queue_forgotten_at(q, i);
    f->n_forgotten = n;
    return 0;
}

static struct queue_freeze *view_new(const struct queue *q)
{
    struct queue_freeze *f = calloc(1, sizeof *f);
    if (f == NULL)
        return NULL;
    f->next_id = q->next_id;
    f->applied = q->applied;
    f->n_drained = q->drained.n;
    f->drained = malloc((q->drained.n ? q->drained.n : 1) * sizeof *f->drained);
    if (f->drained == NULL || upload_set_share(&f->uploads, &q->uploads) != 0 ||
        freeze_batches(q, f) != 0 || freeze_forgotten(q, f) != 0) {
        view_free(f);
        return NULL;
    }
    if (q->drained.n > 0)
        memcpy(f->drained, q->drained.ids, q->drained.n * sizeof *f->drained);
    return f;
}

struct queue_freeze *queue_freeze(struct queue *q)
{
    struct queue_freeze *f = view_new(q);
    if (f != NULL)
        retire_hold(&q->retire);
    return f;
}

void queue_thaw(struct queue *q, struct queue_freeze *f)
{
    if (f == NULL)
        return;
    view_free(f);
    retire_release(&q->retire);
}

/* ---- encoding (any thread: reads only the view) -------------------------- */

/* The snapshot keeps each result's text (its format predates the compact
 * items, and a snapshot is rare): rendered into text, one at a time. */
static void encode_page(const struct frozen_page *fp, uint64_t *expected, char *text,
                        struct qbuf *out)
{
    for (unsigned w = 0; w < QPAGE_WORDS; w++) {
        for (uint64_t word = fp->done[w]; word != 0; word &= word - 1) {
            unsigned slot = w * 64 + (unsigned)__builtin_ctzll(word);
            uint64_t index = (fp->page_no << QPAGE_SHIFT) + slot;
            size_t at = fp->offset[slot], size;
            size_t len = result_item_render((const uint8_t *)fp->text + at, fp->len - at, text,
                                            &size);
            qbuf_put_varint(out, index - *expected);
            qbuf_put_str(out, text, len);
            *expected = index + 1;
        }
    }
}

static int encode_batch(const struct frozen_batch *fb, struct qbuf *out)
{
    qbuf_put_varint(out, fb->id);
    qbuf_put_u8(out, fb->state);
    qbuf_put_str(out, fb->name, strlen(fb->name));
    qbuf_put_varint(out, fb->token);
    qbuf_put_varint(out, fb->submitted_ms);
    qbuf_put_varint(out, fb->ended_ms);
    if (batch_spec_encode(fb->spec, out) != 0)
        return -1;
    batch_budget_encode(fb->spec, out);
    qbuf_put_u8(out, fb->manifest ? 1 : fb->n_segs > 0 ? 2 : 0);
    if (fb->n_segs > 0)
        qbuf_put_varint(out, fb->n_segs);
    for (size_t i = 0; i < fb->n_segs; i++) {
        const struct frozen_seg *g = &fb->segs[i];
        qbuf_put_varint(out, g->k);
        qbuf_put_varint(out, g->unfactored);
        qbuf_put_varint(out, g->bytes);
        qbuf_put_varint(out, g->file.len);
        qbuf_put_bytes(out, g->file.hash, sizeof g->file.hash);
    }
    qbuf_put_varint(out, fb->done - fb->n_segs * qseg_results(fb->spec));
    if (fb->manifest) {
        qbuf_put_varint(out, fb->unfactored);
        qbuf_put_varint(out, fb->bytes);
        qbuf_put_varint(out, fb->file.len);
        qbuf_put_bytes(out, fb->file.hash, sizeof fb->file.hash);
        return 0;
    }
    uint64_t expected = 0;
    char *text = malloc(QRESULT_MAX_TEXT + 1);
    if (text == NULL)
        return -1;
    for (size_t p = 0; p < fb->n_pages; p++)
        encode_page(&fb->pages[p], &expected, text, out);
    free(text);
    return 0;
}

int queue_freeze_encode(const struct queue_freeze *f, uint8_t **buf, size_t *len)
{
    struct qbuf out;
    qbuf_init(&out);
    qbuf_put_bytes(&out, snapshot_magic, sizeof snapshot_magic);
    qbuf_put_varint(&out, f->next_id);
    qbuf_put_varint(&out, f->applied);
    qbuf_put_varint(&out, f->n_drained);
    for (size_t i = 0; i < f->n_drained; i++)
        qbuf_put_varint(&out, f->drained[i]);
    upload_set_encode(&f->uploads, &out);
    qbuf_put_varint(&out, f->n_batches);
    for (size_t i = 0; i < f->n_batches; i++) {
        if (encode_batch(&f->batches[i], &out) != 0) {
            qbuf_free(&out);
            return -1;
        }
    }
    qbuf_put_varint(&out, f->n_forgotten);
    for (size_t i = 0; i < f->n_forgotten; i++) {
        qbuf_put_varint(&out, f->forgotten[i].id);
        qbuf_put_varint(&out, f->forgotten[i].time_ms);
        qbuf_put_u8(&out, (uint8_t)f->forgotten[i].why);
    }
    return qbuf_take(&out, buf, len);
}

int queue_snapshot(const struct queue *q, uint8_t **buf, size_t *len)
{
    /* Synchronous: nothing applies meanwhile, so no hold is needed. */
    struct queue_freeze *f = view_new(q);
    if (f == NULL)
        return -1;
    int rc = queue_freeze_encode(f, buf, len);
    view_free(f);
    return rc;
}

/* ---- restore ------------------------------------------------------------- */

/* A manifest entry: the counters as the snapshotting replica had them,
 * checked against each other here and against the file when it is loaded
 * (result_file.c); the results stay elsewhere until then. Only a finished
 * batch has one (state_consistent checks the done count against it). */
static int restore_manifest(struct qbatch *b, uint8_t state, struct qreader *in)
{
    b->done = qreader_varint(in);
    b->unfactored = qreader_varint(in);
    b->bytes = qreader_varint(in);
    b->file.len = qreader_varint(in);
    const uint8_t *hash = qreader_bytes(in, sizeof b->file.hash);
    if (in->failed || hash == NULL || state == BATCH_RUNNING || b->done > b->spec.count ||
        b->unfactored > b->done || b->file.len < QUEUE_FILE_MIN_BYTES)
        return -1;
    memcpy(b->file.hash, hash, sizeof b->file.hash);
    b->cursor = b->done == b->spec.count ? b->spec.count : 0;
    b->elsewhere = true;
    return 0;
}

static int restore_results(struct qbatch *b, struct qreader *in)
{
    uint64_t n_done = qreader_varint(in);
    if (in->failed || n_done > b->spec.count - b->done)
        return -1;
    uint64_t index = 0;
    for (uint64_t k = 0; k < n_done; k++) {
        uint64_t gap = qreader_varint(in);
        size_t len;
        const char *text = (const char *)qreader_str(in, QRESULT_MAX_TEXT, &len);
        if (text == NULL || gap >= b->spec.count - index)
            return -1;
        index += gap;
        if (!qresult_text_valid(text, len) || qbatch_seg_of(b, index >> QPAGE_SHIFT) != NULL)
            return -1;
        if (qbatch_record(NULL, b, index, text, len) != 0)
            return -1;
        index++;
    }
    return 0;
}

/* Bounds a segment's bytes so that no sum of them wraps (a real one is
 * under a megabyte). */
static const uint64_t max_seg_bytes = UINT64_C(1) << 40;

static int restore_one_seg(struct qbatch *b, uint64_t k, struct qreader *in)
{
    struct qsegment *g = calloc(1, sizeof *g);
    if (g == NULL)
        return -1;
    b->segs[k] = g;
    g->elsewhere = true;
    g->unfactored = qreader_varint(in);
    g->bytes = qreader_varint(in);
    g->file.len = qreader_varint(in);
    const uint8_t *hash = qreader_bytes(in, sizeof g->file.hash);
    uint64_t results = qseg_results(&b->spec);
    if (in->failed || hash == NULL || g->unfactored > results ||
        g->bytes > max_seg_bytes || g->file.len < QUEUE_FILE_MIN_BYTES)
        return -1;
    memcpy(g->file.hash, hash, sizeof g->file.hash);
    b->segs_elsewhere++;
    b->done += results;
    b->unfactored += g->unfactored;
    b->bytes += g->bytes;
    b->seg_bytes += g->bytes;
    return 0;
}

/* Segments, ascending and at least one (else the entry would be inline),
 * elsewhere until their files are loaded; then the inline results, none
 * inside a segment. The pages' table is counted as apply counted it. */
static int restore_segments(struct qbatch *b, struct qreader *in)
{
    uint64_t n = qreader_varint(in), total = qbatch_seg_count(b);
    if (in->failed || n == 0 || n > total)
        return -1;
    b->pages = calloc(qbatch_page_count(b), sizeof *b->pages);
    b->segs = calloc(total, sizeof *b->segs);
    if (b->pages == NULL || b->segs == NULL)
        return -1;
    b->bytes += qbatch_page_count(b) * sizeof *b->pages;
    uint64_t next = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t k = qreader_varint(in);
        if (in->failed || k < next || k >= total || restore_one_seg(b, k, in) != 0)
            return -1;
        next = k + 1;
    }
    qbatch_reset_cursor(b);
    return restore_results(b, in);
}

/* The state must be one apply could have produced: DONE exactly when every
 * index is done (record_result set it so), and RUNNING or CANCELLED only
 * while some index is pending. */
static bool state_consistent(const struct qbatch *b, uint8_t state)
{
    if (state == BATCH_DONE)
        return b->done == b->spec.count;
    return (state == BATCH_RUNNING || state == BATCH_CANCELLED) && b->done < b->spec.count;
}

static struct qbatch *restore_batch(struct qreader *in, uint64_t min_id, uint64_t next_id,
                                    uint8_t version)
{
    struct qbatch *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    b->id = qreader_varint(in);
    uint8_t state = qreader_u8(in);
    size_t name_len;
    const uint8_t *name = qreader_str(in, QUEUE_NAME_MAX - 1, &name_len);
    if (name != NULL)
        memcpy(b->name, name, name_len);
    b->token = version == SNAPSHOT_VERSION_NO_TOKENS ? 0 : qreader_varint(in);
    if (version >= SNAPSHOT_VERSION_NO_BUDGET) {
        b->submitted_ms = qreader_varint(in);
        b->ended_ms = qreader_varint(in);
    }
    if (name == NULL || b->id < min_id || b->id >= next_id || !queue_name_valid(b->name) ||
        strlen(b->name) != name_len || batch_spec_decode(in, &b->spec) != 0 ||
        (version >= SNAPSHOT_VERSION_INLINE && batch_budget_decode(in, &b->spec) != 0)) {
        qbatch_free(b);
        return NULL;
    }
    b->state = BATCH_RUNNING;
    uint8_t where = version > SNAPSHOT_VERSION_INLINE ? qreader_u8(in) : 0;
    int rc = where == 1 ? restore_manifest(b, state, in)
           : where == 2 ? restore_segments(b, in)
           : where == 0 ? restore_results(b, in) : -1;
    if (in->failed || rc != 0 || !state_consistent(b, state)) {
        qbatch_free(b);
        return NULL;
    }
    b->state = (enum batch_state)state;
    return b;
}

/* At most QUEUE_MAX_FORGOTTEN, each a known reason, none of a batch still
 * here (an id is forgotten once). */
static int restore_forgotten(struct queue *q, struct qreader *in)
{
    uint64_t n = qreader_varint(in);
    if (in->failed || n > QUEUE_MAX_FORGOTTEN)
        return -1;
    for (uint64_t i = 0; i < n; i++) {
        struct forgotten_info f;
        f.id = qreader_varint(in);
        f.time_ms = qreader_varint(in);
        uint8_t why = qreader_u8(in);
        struct batch_info here;
        if (in->failed || why < FORGET_BY_USER || why > FORGET_REASON_MAX ||
            queue_batch_get(q, f.id, &here) == 0)
            return -1;
        f.why = (enum forget_reason)why;
        queue_remember_forgotten(q, &f);
    }
    return 0;
}

/* Strictly ascending non-zero ids, as apply_drain keeps them. */
static int restore_drained(struct queue *q, struct qreader *in)
{
    uint64_t n = qreader_varint(in);
    if (in->failed || n > QUEUE_MAX_DRAINED)
        return -1;
    uint64_t prev = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t id = qreader_varint(in);
        if (in->failed || id <= prev || nodeset_add(&q->drained, id) < 0)
            return -1;
        prev = id;
    }
    return 0;
}

static int restore_all(struct queue *q, struct qreader *in)
{
    uint8_t magic[sizeof snapshot_magic];
    for (size_t i = 0; i < sizeof magic; i++)
        magic[i] = qreader_u8(in);
    q->next_id = qreader_varint(in);
    q->applied = qreader_varint(in);
    bool known = memcmp(magic, snapshot_magic, 3) == 0 &&
                 magic[3] >= SNAPSHOT_VERSION_NO_TOKENS && magic[3] <= QUEUE_SNAPSHOT_FORMAT;
    if (in->failed || !known || q->next_id == 0 ||
        restore_drained(q, in) != 0 || upload_set_decode(&q->uploads, in, q->applied) != 0)
        return -1;
    uint64_t n = qreader_varint(in);
    if (in->failed)
        return -1;
    uint64_t min_id = 1;
    for (uint64_t i = 0; i < n; i++) {
        struct qbatch *b = restore_batch(in, min_id, q->next_id, magic[3]);
        if (b == NULL)
            return -1;
        if (queue_append_batch(q, b) != 0) {
            qbatch_free(b);
            return -1;
        }
        q->bytes += b->bytes;
        q->file_bytes += b->elsewhere ? b->bytes : b->seg_bytes;
        min_id = b->id + 1;
    }
    if (magic[3] >= SNAPSHOT_VERSION_NO_BUDGET && restore_forgotten(q, in) != 0)
        return -1;
    return qreader_done(in) ? 0 : -1;
}

int queue_restore(struct queue *q, const uint8_t *buf, size_t len)
{
    if (q->n != 0 || q->next_id != 1 || q->applied != 0)
        return -1;
    struct qreader in;
    qreader_init(&in, buf, len);
    if (restore_all(q, &in) != 0) {
        queue_clear(q);
        return -1;
    }
    return 0;
}
