/* queue.c - the replicated state machine: batches and their results.
 *
 * Determinism is the whole contract: queue_apply() reads nothing but the
 * queue and the command, so every Raft member replaying the same log ends in
 * the same state (and the same snapshot bytes). Batch ids are a counter in
 * the state, never a clock or a random number.
 *
 * Results are kept in pages of QPAGE_SIZE consecutive indexes, allocated
 * when the first result of the page arrives, so submitting a 10M batch costs
 * a few bytes until work is done. A page holds a done bitmap, a 32-bit offset
 * per index and one text buffer with the results packed NUL-terminated.
 * Memory per done number: 4 bytes offset + 1 bit + strlen(text) + 1, plus
 * ~8 bytes per page of 1024 in the page table: about 30 bytes for a typical
 * "3 5 7"-sized 20-character result, ~300 MB for a full 10M batch. No
 * malloc per number (a malloc'd char* each would add ~24 bytes of pointer
 * and allocator overhead). The price: a text buffer may move when its page
 * grows, so queue_result() pointers live only until the next apply. */
#include "errbuf.h"
#include "queue.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nodeset.h"
#include "queue_codec.h"
#include "sm_oom.h"
#include "upload.h"

enum { QPAGE_SHIFT = 10, QPAGE_SIZE = 1 << QPAGE_SHIFT, QPAGE_WORDS = QPAGE_SIZE / 64 };

struct result_page {
    uint64_t done[QPAGE_WORDS];   /* bit i: index (page base + i) is done */
    uint32_t offset[QPAGE_SIZE];  /* where index i's text starts in text */
    uint32_t n_done;              /* QPAGE_SIZE lets scans skip the page */
    char *text;                   /* packed NUL-terminated results */
    size_t len, cap;
};

struct qbatch {
    uint64_t id;
    enum batch_state state;
    char name[QUEUE_NAME_MAX];
    struct batch_spec spec;
    uint64_t done, unfactored;
    struct result_page **pages;   /* ceil(count / QPAGE_SIZE); NULL until a result */
    uint64_t cursor;              /* lowest not-done index; count when all done */
};

struct queue {
    struct qbatch **batches;      /* ascending id; pointers so infos stay valid */
    size_t n, cap;
    uint64_t next_id;
    uint64_t applied;             /* commands applied: the uploads' clock */
    struct nodeset drained;       /* nodes whose drained flag is set */
    struct upload_set uploads;    /* lists arriving in parts */
};

/* ---- batches ------------------------------------------------------------- */

static uint64_t page_count(const struct qbatch *b)
{
    return (b->spec.count + QPAGE_SIZE - 1) >> QPAGE_SHIFT;
}

static void batch_free(struct qbatch *b)
{
    if (b == NULL)
        return;
    if (b->pages != NULL) {
        for (uint64_t p = 0; p < page_count(b); p++) {
            if (b->pages[p] != NULL)
                free(b->pages[p]->text);
            free(b->pages[p]);
        }
    }
    free(b->pages);
    batch_spec_free(&b->spec);
    free(b);
}

static void queue_clear(struct queue *q)
{
    for (size_t i = 0; i < q->n; i++)
        batch_free(q->batches[i]);
    free(q->batches);
    q->batches = NULL;
    q->n = q->cap = 0;
    q->next_id = 1;
    q->applied = 0;
    nodeset_free(&q->drained);
    upload_set_free(&q->uploads);
}

struct queue *queue_new(void)
{
    struct queue *q = calloc(1, sizeof *q);
    if (q != NULL)
        q->next_id = 1;
    return q;
}

void queue_free(struct queue *q)
{
    if (q == NULL)
        return;
    queue_clear(q);
    free(q);
}

static struct qbatch *find_batch(const struct queue *q, uint64_t id)
{
    size_t lo = 0, hi = q->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (q->batches[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < q->n && q->batches[lo]->id == id ? q->batches[lo] : NULL;
}

static int append_batch(struct queue *q, struct qbatch *b)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        struct qbatch **p = realloc(q->batches, cap * sizeof *p);
        if (p == NULL)
            return -1;
        q->batches = p;
        q->cap = cap;
    }
    q->batches[q->n++] = b;
    return 0;
}

static bool name_valid(const char *name)
{
    const char *nul = memchr(name, '\0', QUEUE_NAME_MAX);
    if (nul == NULL)
        return false;
    for (const char *p = name; p < nul; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

bool qresult_text_valid(const char *text, size_t len)
{
    if (len > QRESULT_MAX_TEXT)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == ':' || c == ' '))
            return false;
    }
    return true;
}

/* ---- results ------------------------------------------------------------- */

static bool bit_is_set(const struct result_page *pg, uint64_t slot)
{
    return (pg->done[slot >> 6] >> (slot & 63)) & 1;
}

static bool is_done(const struct qbatch *b, uint64_t index)
{
    if (index >= b->spec.count || b->pages == NULL)
        return false;
    const struct result_page *pg = b->pages[index >> QPAGE_SHIFT];
    return pg != NULL && bit_is_set(pg, index & (QPAGE_SIZE - 1));
}

/* First not-done index >= from, or count. Skips full pages and full 64-bit
 * words, so even a 10M batch scans in well under a millisecond. */
static uint64_t scan_pending(const struct qbatch *b, uint64_t from)
{
    uint64_t count = b->spec.count;
    while (from < count) {
        const struct result_page *pg = b->pages ? b->pages[from >> QPAGE_SHIFT] : NULL;
        if (pg == NULL)
            return from;
        if (pg->n_done == QPAGE_SIZE) {
            from = (from | (QPAGE_SIZE - 1)) + 1;
            continue;
        }
        uint64_t word = pg->done[(from & (QPAGE_SIZE - 1)) >> 6];
        uint64_t pending = ~word & (~UINT64_C(0) << (from & 63));
        if (pending != 0) {
            uint64_t hit = (from & ~UINT64_C(63)) + (uint64_t)__builtin_ctzll(pending);
            return hit < count ? hit : count;
        }
        from = (from | 63) + 1;
    }
    return count;
}

static struct result_page *page_for(struct qbatch *b, uint64_t index)
{
    if (b->pages == NULL) {
        b->pages = calloc(page_count(b), sizeof *b->pages);
        if (b->pages == NULL)
            return NULL;
    }
    struct result_page **slot = &b->pages[index >> QPAGE_SHIFT];
    if (*slot == NULL)
        *slot = calloc(1, sizeof **slot);
    return *slot;
}

static bool page_append(struct result_page *pg, const char *text, size_t len)
{
    if (pg->cap - pg->len < len + 1) {
        size_t cap = pg->cap ? pg->cap : 256;
        while (cap - pg->len < len + 1)
            cap *= 2;
        char *p = realloc(pg->text, cap);
        if (p == NULL)
            return false;
        pg->text = p;
        pg->cap = cap;
    }
    memcpy(pg->text + pg->len, text, len);
    pg->text[pg->len + len] = '\0';
    pg->len += len + 1;
    return true;
}

/* Stores the result of a not-yet-done, in-range index with a valid text.
 * Updates the counters, the cursor and the DONE transition. */
static int record_result(struct qbatch *b, uint64_t index, const char *text, size_t len)
{
    struct result_page *pg = page_for(b, index);
    if (pg == NULL)
        return -1;
    uint32_t start = (uint32_t)pg->len;
    if (!page_append(pg, text, len))
        return -1;
    uint64_t slot = index & (QPAGE_SIZE - 1);
    pg->offset[slot] = start;
    pg->done[slot >> 6] |= UINT64_C(1) << (slot & 63);
    pg->n_done++;
    b->done++;
    if (strstr(text, "unfactored:") != NULL)
        b->unfactored++;
    if (index == b->cursor)
        b->cursor = scan_pending(b, index + 1);
    if (b->done == b->spec.count)
        b->state = BATCH_DONE;
    return 0;
}

/* ---- apply --------------------------------------------------------------- */

/* Takes ownership of spec (already valid). */
static void add_batch(struct queue *q, struct batch_spec *spec, const char *name,
                      struct queue_outcome *out)
{
    struct qbatch *b = calloc(1, sizeof *b);
    if (b == NULL || append_batch(q, b) != 0)
        sm_oom("submit");
    b->spec = *spec;
    memset(spec, 0, sizeof *spec);
    b->id = q->next_id++;
    b->state = BATCH_RUNNING;
    memcpy(b->name, name, sizeof b->name);
    out->batch_id = b->id;
}

/* The list of an upload, whole, as a spec: the final SUBMIT's header must
 * announce exactly what was staged. The upload is gone afterwards. */
static int spec_from_upload(struct queue *q, const struct qcmd *c, struct batch_spec *spec,
                            char *err, size_t errlen)
{
    const struct upload *u = upload_find(&q->uploads, c->upload_id);
    if (u == NULL) {
        set_err(err, errlen, "unknown or expired upload %llu", (unsigned long long)c->upload_id);
        return -1;
    }
    int rc = -1;
    if (c->spec.kind != BATCH_LIST || u->len != c->spec.list_len) {
        set_err(err, errlen, "upload %llu: %zu bytes staged, %zu announced",
                (unsigned long long)u->id, u->len, c->spec.list_len);
    } else {
        char *list = upload_concat(u);
        if (list == NULL)
            sm_oom("submit upload");
        rc = batch_list_adopt(spec, list, u->len, c->spec.count, c->spec.chunk, err, errlen);
        if (rc == -2)
            sm_oom("submit upload");
    }
    upload_drop(&q->uploads, c->upload_id);
    return rc;
}

static int apply_submit(struct queue *q, const struct qcmd *c, struct queue_outcome *out,
                        char *err, size_t errlen)
{
    if (!name_valid(c->name)) {
        set_err(err, errlen, "batch name too long or has control characters");
        upload_drop(&q->uploads, c->upload_id);
        return -1;
    }
    struct batch_spec spec;
    if (c->upload_id != 0) {
        if (spec_from_upload(q, c, &spec, err, errlen) != 0)
            return -1;
    } else {
        if (batch_spec_validate(&c->spec, err, errlen) != 0)
            return -1;
        if (batch_spec_copy(&spec, &c->spec) != 0)
            sm_oom("submit");
    }
    add_batch(q, &spec, c->name, out);
    return 0;
}

static int apply_list_part(struct queue *q, const struct qcmd *c, char *err, size_t errlen)
{
    int rc = upload_add_part(&q->uploads, c->upload_id, c->part, c->part_len, q->applied,
                             err, errlen);
    if (rc == -2)
        sm_oom("list part");
    return rc;
}

/* Applies one COMPLETE entry; -1 (with err) only for a bad entry. */
static int apply_result(struct qbatch *b, const struct qresult *r, struct queue_outcome *out,
                        char *err, size_t errlen)
{
    if (r->index >= b->spec.count) {
        set_err(err, errlen, "batch %llu: index %llu out of range (count %llu)",
                (unsigned long long)b->id, (unsigned long long)r->index,
                (unsigned long long)b->spec.count);
        return -1;
    }
    size_t len = r->text ? strlen(r->text) : 0;
    if (r->text == NULL || !qresult_text_valid(r->text, len)) {
        set_err(err, errlen, "batch %llu: index %llu: malformed result text",
                (unsigned long long)b->id, (unsigned long long)r->index);
        return -1;
    }
    if (is_done(b, r->index))
        return 0;  /* a re-issued lease finished twice: first result wins */
    if (record_result(b, r->index, r->text, len) != 0)
        sm_oom("complete");
    out->recorded++;
    return 0;
}

static int apply_complete(struct queue *q, const struct qcmd *c, struct queue_outcome *out,
                          char *err, size_t errlen)
{
    out->batch_id = c->batch_id;
    struct qbatch *b = find_batch(q, c->batch_id);
    if (b == NULL) {
        set_err(err, errlen, "unknown batch %llu", (unsigned long long)c->batch_id);
        return -1;
    }
    if (b->state != BATCH_RUNNING)
        return 0;  /* late results for a cancelled or finished batch */
    int rc = 0;
    for (size_t i = 0; i < c->n_results; i++) {
        /* Keep the first error message, but apply every good entry. */
        if (apply_result(b, &c->results[i], out, rc == 0 ? err : NULL, errlen) != 0)
            rc = -1;
    }
    out->finished = b->state == BATCH_DONE;
    return rc;
}

static int apply_cancel(struct queue *q, const struct qcmd *c, struct queue_outcome *out,
                        char *err, size_t errlen)
{
    out->batch_id = c->batch_id;
    struct qbatch *b = find_batch(q, c->batch_id);
    if (b == NULL) {
        set_err(err, errlen, "unknown batch %llu", (unsigned long long)c->batch_id);
        return -1;
    }
    if (b->state == BATCH_DONE) {
        set_err(err, errlen, "batch %llu is already done", (unsigned long long)b->id);
        return -1;
    }
    b->state = BATCH_CANCELLED;
    return 0;
}

/* The set is small by nature (one id per drained machine); the cap only
 * bounds what a buggy or hostile member could make every replica hold. */
enum { QUEUE_MAX_DRAINED = 4096 };

static int apply_drain(struct queue *q, const struct qcmd *c, struct queue_outcome *out,
                       char *err, size_t errlen)
{
    out->node_id = c->node_id;
    if (c->node_id == 0) {
        set_err(err, errlen, "node id 0 is not a node");
        return -1;
    }
    if (!c->drained) {
        nodeset_remove(&q->drained, c->node_id);
        return 0;
    }
    if (q->drained.n >= QUEUE_MAX_DRAINED && !nodeset_has(&q->drained, c->node_id)) {
        set_err(err, errlen, "too many drained nodes (%d)", QUEUE_MAX_DRAINED);
        return -1;
    }
    if (nodeset_add(&q->drained, c->node_id) < 0)
        sm_oom("drain");
    return 0;
}

int queue_apply(struct queue *q, const struct qcmd *c, struct queue_outcome *out,
                char *err, size_t errlen)
{
    struct queue_outcome ignored;
    if (out == NULL)
        out = &ignored;
    memset(out, 0, sizeof *out);
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    q->applied++;
    if (q->uploads.n > 0)
        upload_expire(&q->uploads, q->applied);
    switch (c->type) {
    case QCMD_SUBMIT:
        return apply_submit(q, c, out, err, errlen);
    case QCMD_COMPLETE:
        return apply_complete(q, c, out, err, errlen);
    case QCMD_CANCEL:
        return apply_cancel(q, c, out, err, errlen);
    case QCMD_DRAIN:
        return apply_drain(q, c, out, err, errlen);
    case QCMD_LIST_PART:
        return apply_list_part(q, c, err, errlen);
    }
    set_err(err, errlen, "unknown command type %d", (int)c->type);
    return -1;
}

/* ---- read side ----------------------------------------------------------- */

static void fill_info(const struct qbatch *b, struct batch_info *out)
{
    out->id = b->id;
    out->state = b->state;
    out->total = b->spec.count;
    out->done = b->done;
    out->unfactored = b->unfactored;
    out->chunk = b->spec.chunk;
    memcpy(out->name, b->name, sizeof out->name);
    out->spec = &b->spec;
}

size_t queue_batch_count(const struct queue *q)
{
    return q->n;
}

uint64_t queue_next_batch_id(const struct queue *q)
{
    return q->next_id;
}

int queue_batch_at(const struct queue *q, size_t i, struct batch_info *out)
{
    if (i >= q->n)
        return -1;
    fill_info(q->batches[i], out);
    return 0;
}

int queue_batch_get(const struct queue *q, uint64_t id, struct batch_info *out)
{
    const struct qbatch *b = find_batch(q, id);
    if (b == NULL)
        return -1;
    fill_info(b, out);
    return 0;
}

bool queue_node_drained(const struct queue *q, uint64_t node_id)
{
    return nodeset_has(&q->drained, node_id);
}

size_t queue_drained_count(const struct queue *q)
{
    return q->drained.n;
}

uint64_t queue_drained_at(const struct queue *q, size_t i)
{
    return i < q->drained.n ? q->drained.ids[i] : 0;
}

bool queue_is_done(const struct queue *q, uint64_t id, uint64_t index)
{
    const struct qbatch *b = find_batch(q, id);
    return b != NULL && is_done(b, index);
}

const char *queue_result(const struct queue *q, uint64_t id, uint64_t index)
{
    const struct qbatch *b = find_batch(q, id);
    if (b == NULL || !is_done(b, index))
        return NULL;
    const struct result_page *pg = b->pages[index >> QPAGE_SHIFT];
    return pg->text + pg->offset[index & (QPAGE_SIZE - 1)];
}

uint64_t queue_next_pending(const struct queue *q, uint64_t id, uint64_t from)
{
    const struct qbatch *b = find_batch(q, id);
    if (b == NULL)
        return 0;
    /* Everything below the cursor is done: answer the common case in O(1). */
    return from <= b->cursor ? b->cursor : scan_pending(b, from);
}

uint64_t queue_done_prefix(const struct queue *q, uint64_t id, uint64_t from)
{
    const struct qbatch *b = find_batch(q, id);
    if (b == NULL || from >= b->spec.count)
        return 0;
    return queue_next_pending(q, id, from) - from;
}

/* ---- snapshot -------------------------------------------------------------
 * "MQS" 2, next_id, applied, drained count and the drained node ids
 * ascending, the uploads in progress (upload.h),
 * batch count, then per batch: id, state u8, name str,
 * spec, done count, and per done index in ascending order: gap (index minus
 * the previous index + 1) and text str. Restore re-runs record_result, so
 * the derived counters (unfactored, cursor) are recomputed, never trusted. */

static const uint8_t snapshot_magic[4] = {'M', 'Q', 'S', 2};

static void snapshot_results(const struct qbatch *b, struct qbuf *out)
{
    qbuf_put_varint(out, b->done);
    uint64_t expected = 0;
    for (uint64_t i = 0; i < b->spec.count && b->done > 0; i++) {
        if (!is_done(b, i)) {
            continue;
        }
        const struct result_page *pg = b->pages[i >> QPAGE_SHIFT];
        const char *text = pg->text + pg->offset[i & (QPAGE_SIZE - 1)];
        qbuf_put_varint(out, i - expected);
        qbuf_put_str(out, text, strlen(text));
        expected = i + 1;
    }
}

static int snapshot_batch(const struct qbatch *b, struct qbuf *out)
{
    qbuf_put_varint(out, b->id);
    qbuf_put_u8(out, (uint8_t)b->state);
    qbuf_put_str(out, b->name, strlen(b->name));
    if (batch_spec_encode(&b->spec, out) != 0)
        return -1;
    snapshot_results(b, out);
    return 0;
}

int queue_snapshot(const struct queue *q, uint8_t **buf, size_t *len)
{
    struct qbuf out;
    qbuf_init(&out);
    qbuf_put_bytes(&out, snapshot_magic, sizeof snapshot_magic);
    qbuf_put_varint(&out, q->next_id);
    qbuf_put_varint(&out, q->applied);
    qbuf_put_varint(&out, q->drained.n);
    for (size_t i = 0; i < q->drained.n; i++)
        qbuf_put_varint(&out, q->drained.ids[i]);
    upload_set_encode(&q->uploads, &out);
    qbuf_put_varint(&out, q->n);
    for (size_t i = 0; i < q->n; i++) {
        if (snapshot_batch(q->batches[i], &out) != 0) {
            qbuf_free(&out);
            return -1;
        }
    }
    return qbuf_take(&out, buf, len);
}

static int restore_results(struct qbatch *b, struct qreader *in)
{
    uint64_t n_done = qreader_varint(in);
    if (in->failed || n_done > b->spec.count)
        return -1;
    uint64_t index = 0;
    for (uint64_t k = 0; k < n_done; k++) {
        uint64_t gap = qreader_varint(in);
        size_t len;
        const char *text = (const char *)qreader_str(in, QRESULT_MAX_TEXT, &len);
        if (text == NULL || gap >= b->spec.count - index)
            return -1;
        index += gap;
        if (!qresult_text_valid(text, len))
            return -1;
        /* record_result wants a NUL-terminated text for its strstr. */
        char *copy = strndup(text, len);
        int rc = copy ? record_result(b, index, copy, len) : -1;
        free(copy);
        if (rc != 0)
            return -1;
        index++;
    }
    return 0;
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

static struct qbatch *restore_batch(struct qreader *in, uint64_t min_id, uint64_t next_id)
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
    if (name == NULL || b->id < min_id || b->id >= next_id || !name_valid(b->name) ||
        strlen(b->name) != name_len || batch_spec_decode(in, &b->spec) != 0) {
        batch_free(b);
        return NULL;
    }
    b->state = BATCH_RUNNING;
    if (restore_results(b, in) != 0 || !state_consistent(b, state)) {
        batch_free(b);
        return NULL;
    }
    b->state = (enum batch_state)state;
    return b;
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
    if (in->failed || memcmp(magic, snapshot_magic, sizeof magic) != 0 || q->next_id == 0 ||
        restore_drained(q, in) != 0 || upload_set_decode(&q->uploads, in, q->applied) != 0)
        return -1;
    uint64_t n = qreader_varint(in);
    if (in->failed)
        return -1;
    uint64_t min_id = 1;
    for (uint64_t i = 0; i < n; i++) {
        struct qbatch *b = restore_batch(in, min_id, q->next_id);
        if (b == NULL)
            return -1;
        if (append_batch(q, b) != 0) {
            batch_free(b);
            return -1;
        }
        min_id = b->id + 1;
    }
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
