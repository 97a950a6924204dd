/* queue.c - the replicated state machine: applying commands, and the
 * read side. The representation is in queue_state.h, snapshots in
 * queue_snapshot.c.
 *
 * Determinism is the whole contract: queue_apply() reads nothing but the
 * queue and the command, so every Raft member replaying the same log ends in
 * the same state (and the same snapshot bytes). Batch ids are a counter in
 * the state, never a clock or a random number. */
#include "errbuf.h"
#include "queue.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qcmd_block.h"
#include "queue_codec.h"
#include "queue_state.h"
#include "result_item.h"
#include "sm_oom.h"

/* ---- batches ------------------------------------------------------------- */

uint64_t qbatch_page_count(const struct qbatch *b)
{
    return (b->spec.count + QPAGE_SIZE - 1) >> QPAGE_SHIFT;
}

uint64_t qseg_pages(const struct batch_spec *spec)
{
    return spec->kind == BATCH_SPREAD ? 1 : QSEG_PAGES;
}

uint64_t qbatch_seg_count(const struct qbatch *b)
{
    return qbatch_page_count(b) / qseg_pages(&b->spec);
}

const struct qsegment *qbatch_seg_of(const struct qbatch *b, uint64_t p)
{
    uint64_t k = p / qseg_pages(&b->spec);
    if (b->segs == NULL || k >= qbatch_seg_count(b))
        return NULL;
    return b->segs[k];
}

/* A page of a segment not loaded yet: full (only full pages are spilled),
 * its items unknown; readers wait (results_elsewhere) and never get here. */
static const uint64_t all_done[QPAGE_WORDS] = {
    ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull,
    ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull};
static const uint32_t no_offsets[QPAGE_SIZE];

static bool seg_page(const struct qsegment *g, uint64_t seg_pages, uint64_t p,
                     struct page_view *v)
{
    const struct spilled *d = g->disk;
    if (d == NULL) {
        *v = (struct page_view){all_done, no_offsets, "", 0, true};
        return true;
    }
    uint64_t lp = p % seg_pages;
    uint64_t end = lp + 1 < seg_pages ? d->page_base[lp + 1] : d->text_len;
    *v = (struct page_view){d->done + lp * QPAGE_WORDS, d->offset + lp * QPAGE_SIZE,
                            d->texts + d->page_base[lp], end - d->page_base[lp], true};
    return true;
}

bool qbatch_page(const struct qbatch *b, uint64_t p, struct page_view *v)
{
    _Static_assert(QPAGE_WORDS == 16, "all_done has one word per 64 slots");
    const struct qsegment *g = b->disk == NULL ? qbatch_seg_of(b, p) : NULL;
    if (g != NULL)
        return seg_page(g, qseg_pages(&b->spec), p, v);
    if (b->disk != NULL) {
        const struct spilled *d = b->disk;
        uint64_t end = p + 1 < qbatch_page_count(b) ? d->page_base[p + 1] : d->text_len;
        *v = (struct page_view){d->done + p * QPAGE_WORDS, d->offset + p * QPAGE_SIZE,
                                d->texts + d->page_base[p], end - d->page_base[p],
                                b->state == BATCH_DONE};
        for (unsigned w = 0; w < QPAGE_WORDS; w++)
            if (v->done[w] != 0)
                return true;
        return false;
    }
    const struct result_page *pg = b->pages != NULL ? b->pages[p] : NULL;
    if (pg == NULL)
        return false;
    *v = (struct page_view){pg->done, pg->offset, pg->text, pg->len, pg->n_done == QPAGE_SIZE};
    return true;
}

static void spilled_free(struct retire *rt, struct spilled *d)
{
    if (d == NULL)
        return;
    retire_unmap(rt, d->map, d->map_len);
    retire_free(rt, d);
}

static void segs_free(struct retire *rt, struct qbatch *b)
{
    for (uint64_t k = 0; b->segs != NULL && k < qbatch_seg_count(b); k++) {
        if (b->segs[k] != NULL)
            spilled_free(rt, b->segs[k]->disk);
        retire_free(rt, b->segs[k]);
    }
    retire_free(rt, b->segs);
    b->segs = NULL;
}

void qbatch_free(struct qbatch *b)
{
    if (b == NULL)
        return;
    spilled_free(NULL, b->disk);
    segs_free(NULL, b);
    if (b->pages != NULL) {
        for (uint64_t p = 0; p < qbatch_page_count(b); p++) {
            if (b->pages[p] != NULL)
                free(b->pages[p]->text);
            free(b->pages[p]);
        }
    }
    free(b->pages);
    batch_spec_free(&b->spec);
    free(b);
}

/* Each piece through the retire list: a frozen snapshot keeps pointers to
 * the spec, the name (in b), the pages' offsets and texts. */
void qbatch_retire(struct retire *rt, struct qbatch *b)
{
    spilled_free(rt, b->disk);
    segs_free(rt, b);
    for (uint64_t p = 0; b->pages != NULL && p < qbatch_page_count(b); p++) {
        if (b->pages[p] != NULL)
            retire_free(rt, b->pages[p]->text);
        retire_free(rt, b->pages[p]);
    }
    retire_free(rt, b->pages);
    retire_free(rt, b->spec.start);
    retire_free(rt, b->spec.list);
    retire_free(rt, b->spec.offsets);
    retire_free(rt, b);
}

uint64_t qpage_bytes(size_t cap)
{
    return sizeof(struct result_page) + cap;
}

const char *forget_reason_text(enum forget_reason why)
{
    switch (why) {
    case FORGET_BY_USER:
        return "forgotten on request";
    case FORGET_BY_AGE:
        return "older than --keep-results";
    case FORGET_BY_BUDGET:
        return "oldest past --results-budget";
    case FORGET_BY_READER:
        return "read in full with --forget";
    }
    return "forgotten";
}

void queue_clear(struct queue *q)
{
    for (size_t i = 0; i < q->n; i++)
        qbatch_free(q->batches[i]);
    free(q->batches);
    q->batches = NULL;
    q->n = q->cap = 0;
    q->next_id = 1;
    q->applied = 0;
    nodeset_free(&q->drained);
    upload_set_free(&q->uploads);
    free(q->forgotten.items);
    memset(&q->forgotten, 0, sizeof q->forgotten);
    q->bytes = q->file_bytes = 0;
}

struct queue *queue_new(void)
{
    struct queue *q = calloc(1, sizeof *q);
    if (q == NULL)
        return NULL;
    q->next_id = 1;
    q->uploads.retire = &q->retire;
    q->render = malloc(QRESULT_MAX_TEXT + 1);
    if (q->render == NULL) {
        free(q);
        return NULL;
    }
    return q;
}

void queue_free(struct queue *q)
{
    if (q == NULL)
        return;
    queue_clear(q);
    retire_fini(&q->retire);
    free(q->render);
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

int queue_append_batch(struct queue *q, struct qbatch *b)
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

bool queue_name_valid(const char *name)
{
    const char *nul = memchr(name, '\0', QUEUE_NAME_MAX);
    if (nul == NULL)
        return false;
    for (const char *p = name; p < nul; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

static bool result_byte_ok(unsigned char c)
{
    return (c >= '0' && c <= ':') || (c >= 'a' && c <= 'z') || c == ' ';
}

/* Bytes of x (all below 0x80) within [lo, hi]: 0x80 in each such byte.
 * OR-ing 0x80 into every byte first keeps the subtractions from borrowing
 * across bytes. */
static uint64_t bytes_in(uint64_t x, unsigned lo, unsigned hi)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t ge_lo = ((x | high) - lo * ones) & high;
    uint64_t ge_above = ((x | high) - (hi + 1) * ones) & high;
    return ge_lo & ~ge_above;
}

/* Every result passes here several times on every node (decode, apply),
 * so it checks eight bytes at a time: ['0'-':'] (digits and the colon are
 * adjacent), ['a'-'z'] and ' '. */
bool qresult_text_valid(const char *text, size_t len)
{
    if (len > QRESULT_MAX_TEXT)
        return false;
    const uint64_t high = 0x8080808080808080ULL;
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t x;
        memcpy(&x, text + i, 8);
        if (x & high)
            return false;
        uint64_t ok = bytes_in(x, '0', ':') | bytes_in(x, 'a', 'z') | bytes_in(x, ' ', ' ');
        if (ok != high)
            return false;
    }
    for (; i < len; i++)
        if (!result_byte_ok((unsigned char)text[i]))
            return false;
    return true;
}

/* ---- results ------------------------------------------------------------- */

static bool bit_is_set(const uint64_t *done, uint64_t slot)
{
    return (done[slot >> 6] >> (slot & 63)) & 1;
}

bool qbatch_is_done(const struct qbatch *b, uint64_t index)
{
    struct page_view v;
    if (index >= b->spec.count || !qbatch_page(b, index >> QPAGE_SHIFT, &v))
        return false;
    return bit_is_set(v.done, index & (QPAGE_SIZE - 1));
}

/* First not-done index >= from, or count. Skips full pages and full 64-bit
 * words, so even a 10M batch scans in well under a millisecond. */
static uint64_t scan_pending(const struct qbatch *b, uint64_t from)
{
    uint64_t count = b->spec.count;
    while (from < count) {
        struct page_view v;
        if (!qbatch_page(b, from >> QPAGE_SHIFT, &v))
            return from;
        if (v.full) {
            from = (from | (QPAGE_SIZE - 1)) + 1;
            continue;
        }
        uint64_t word = v.done[(from & (QPAGE_SIZE - 1)) >> 6];
        uint64_t pending = ~word & (~UINT64_C(0) << (from & 63));
        if (pending != 0) {
            uint64_t hit = (from & ~UINT64_C(63)) + (uint64_t)__builtin_ctzll(pending);
            return hit < count ? hit : count;
        }
        from = (from | 63) + 1;
    }
    return count;
}

void qbatch_reset_cursor(struct qbatch *b)
{
    b->cursor = scan_pending(b, 0);
}

static struct result_page *page_for(struct qbatch *b, uint64_t index)
{
    if (b->pages == NULL) {
        b->pages = calloc(qbatch_page_count(b), sizeof *b->pages);
        if (b->pages == NULL)
            return NULL;
        b->bytes += qbatch_page_count(b) * sizeof *b->pages;
    }
    struct result_page **slot = &b->pages[index >> QPAGE_SHIFT];
    if (*slot == NULL && (*slot = calloc(1, sizeof **slot)) != NULL)
        b->bytes += qpage_bytes(0);
    return *slot;
}

static bool page_append(struct retire *rt, struct qbatch *b, struct result_page *pg,
                        const uint8_t *item, size_t len)
{
    if (pg->cap - pg->len < len) {
        size_t cap = pg->cap ? pg->cap : 256;
        while (cap - pg->len < len)
            cap *= 2;
        char *p = retire_realloc(rt, pg->text, pg->len, cap);
        if (p == NULL)
            return false;
        pg->text = p;
        b->bytes += cap - pg->cap;
        pg->cap = cap;
    }
    memcpy(pg->text + pg->len, item, len);
    pg->len += len;
    return true;
}

int qbatch_record_item(struct retire *rt, struct qbatch *b, uint64_t index,
                       const uint8_t *item, size_t len)
{
    struct result_page *pg = page_for(b, index);
    if (pg == NULL)
        return -1;
    uint32_t start = (uint32_t)pg->len;
    if (!page_append(rt, b, pg, item, len))
        return -1;
    uint64_t slot = index & (QPAGE_SIZE - 1);
    pg->offset[slot] = start;
    pg->done[slot >> 6] |= UINT64_C(1) << (slot & 63);
    pg->n_done++;
    b->done++;
    if (result_item_unfactored(item, len))
        b->unfactored++;
    if (index == b->cursor)
        b->cursor = scan_pending(b, index + 1);
    if (b->done == b->spec.count)
        b->state = BATCH_DONE;
    return 0;
}

int qbatch_record(struct retire *rt, struct qbatch *b, uint64_t index, const char *text,
                  size_t len)
{
    /* Most texts are short: their item is made on the stack. */
    uint8_t small[256];
    uint8_t *item = len + RESULT_ITEM_SLACK <= sizeof small
        ? small : malloc(len + RESULT_ITEM_SLACK);
    if (item == NULL)
        return -1;
    int rc = qbatch_record_item(rt, b, index, item, result_item_from_text(text, len, item));
    if (item != small)
        free(item);
    return rc;
}

int queue_record(struct queue *q, struct qbatch *b, uint64_t index, const char *text,
                 size_t len)
{
    uint64_t before = b->bytes;
    int rc = qbatch_record(&q->retire, b, index, text, len);
    q->bytes += b->bytes - before;
    return rc;
}

static int queue_record_item(struct queue *q, struct qbatch *b, uint64_t index,
                             const uint8_t *item, size_t len)
{
    uint64_t before = b->bytes;
    int rc = qbatch_record_item(&q->retire, b, index, item, len);
    q->bytes += b->bytes - before;
    return rc;
}

/* ---- forgetting ---------------------------------------------------------- */

void queue_remember_forgotten(struct queue *q, const struct forgotten_info *f)
{
    struct forgotten_ring *r = &q->forgotten;
    r->total++;
    if (r->items == NULL && (r->items = malloc(QUEUE_MAX_FORGOTTEN * sizeof *r->items)) == NULL)
        sm_oom("forget");
    if (r->n < QUEUE_MAX_FORGOTTEN) {
        r->items[r->n++] = *f;
        return;
    }
    r->items[r->head] = *f;
    r->head = (r->head + 1) % QUEUE_MAX_FORGOTTEN;
}

const struct forgotten_info *queue_forgotten_at(const struct queue *q, size_t i)
{
    const struct forgotten_ring *r = &q->forgotten;
    return i < r->n ? &r->items[(r->head + i) % QUEUE_MAX_FORGOTTEN] : NULL;
}

size_t queue_forgotten_count(const struct queue *q)
{
    return q->forgotten.n;
}

uint64_t queue_forgotten_total(const struct queue *q)
{
    return q->forgotten.total;
}

const struct forgotten_info *queue_forgotten_nth(const struct queue *q, uint64_t t)
{
    uint64_t first_kept = q->forgotten.total - q->forgotten.n;
    return t >= first_kept && t < q->forgotten.total
               ? queue_forgotten_at(q, (size_t)(t - first_kept)) : NULL;
}

int queue_forgotten(const struct queue *q, uint64_t id, struct forgotten_info *out)
{
    /* Newest first: an id is forgotten once, so the first hit is it. */
    for (size_t i = q->forgotten.n; i > 0; i--) {
        const struct forgotten_info *f = queue_forgotten_at(q, i - 1);
        if (f->id == id) {
            *out = *f;
            return 0;
        }
    }
    return -1;
}

/* ---- apply --------------------------------------------------------------- */

/* Keeps the array sorted by id (find_batch bisects it): an imported batch
 * (a merge) may carry an id below the newest. */
static void insert_sorted(struct queue *q, struct qbatch *b)
{
    if (queue_append_batch(q, b) != 0)
        sm_oom("submit");
    size_t i = q->n - 1;
    for (; i > 0 && q->batches[i - 1]->id > b->id; i--)
        q->batches[i] = q->batches[i - 1];
    q->batches[i] = b;
}

/* The id a SUBMIT gets: the one it asks for (a cluster's id range, or an
 * imported batch's own id) or else the next, moved on past any taken id so
 * that every replica picks the same. */
static uint64_t pick_id(struct queue *q, uint64_t requested)
{
    uint64_t id = requested != 0 ? requested : q->next_id;
    while (find_batch(q, id) != NULL)
        id++;
    if (id >= q->next_id)
        q->next_id = id + 1;
    return id;
}

static bool same_spec(const struct batch_spec *a, const struct batch_spec *b)
{
    struct qbuf x, y;
    qbuf_init(&x);
    qbuf_init(&y);
    bool same = a->budget_ms == b->budget_ms &&
                batch_spec_encode(a, &x) == 0 && batch_spec_encode(b, &y) == 0 &&
                !x.failed && !y.failed && x.len == y.len && memcmp(x.data, y.data, x.len) == 0;
    qbuf_free(&x);
    qbuf_free(&y);
    return same;
}

/* An import resent by a merge that did not hear its first answer. */
static bool same_batch_here(const struct queue *q, uint64_t id, const struct batch_spec *spec,
                            const char *name)
{
    const struct qbatch *b = find_batch(q, id);
    return b != NULL && strncmp(b->name, name, sizeof b->name) == 0 && same_spec(&b->spec, spec);
}

/* Takes ownership of spec (already valid). */
static void add_batch(struct queue *q, struct batch_spec *spec, const struct qcmd *c,
                      struct queue_outcome *out)
{
    struct qbatch *b = calloc(1, sizeof *b);
    if (b == NULL)
        sm_oom("submit");
    b->spec = *spec;
    memset(spec, 0, sizeof *spec);
    b->id = pick_id(q, c->batch_id);
    insert_sorted(q, b);
    b->state = BATCH_RUNNING;
    b->submitted_ms = c->time_ms;
    b->token = c->token;
    memcpy(b->name, c->name, sizeof b->name);
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
        if (rc == 0)
            spec->budget_ms = c->spec.budget_ms; /* the header's: adopt knows lists only */
    }
    upload_drop(&q->uploads, c->upload_id);
    return rc;
}

/* The batch a SUBMIT with this write token made. A resend comes within
 * seconds of the first send (node/write.c: at most 5 sends, 10 s each), so
 * only the newest TOKEN_WINDOW batches are looked at: a scan that stays
 * cheap however many batches a mesh keeps. */
enum { TOKEN_WINDOW = 4096 };

static const struct qbatch *batch_of_token(const struct queue *q, uint64_t token)
{
    size_t oldest = q->n > TOKEN_WINDOW ? q->n - TOKEN_WINDOW : 0;
    for (size_t i = q->n; token != 0 && i > oldest; i--)
        if (q->batches[i - 1]->token == token)
            return q->batches[i - 1];
    return NULL;
}

static int apply_submit(struct queue *q, const struct qcmd *c, struct queue_outcome *out,
                        char *err, size_t errlen)
{
    const struct qbatch *same = batch_of_token(q, c->token);
    if (same != NULL) { /* resent after a leader change: it is in already */
        upload_drop(&q->uploads, c->upload_id);
        out->batch_id = same->id;
        return 0;
    }
    if (!queue_name_valid(c->name)) {
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
    if (c->import && same_batch_here(q, c->batch_id, &spec, c->name)) {
        batch_spec_free(&spec);
        out->batch_id = c->batch_id;
        return 0;
    }
    add_batch(q, &spec, c, out);
    return 0;
}

/* A part resent after a leader change is staged already: skipped. A part
 * past the staged end means one went missing: the upload cannot be whole. */
static int check_part_offset(struct queue *q, const struct qcmd *c, bool *resent, char *err,
                             size_t errlen)
{
    const struct upload *u = upload_find(&q->uploads, c->upload_id);
    uint64_t have = u != NULL ? u->len : 0;
    *resent = false;
    if (c->part_offset == QCMD_PART_APPEND || c->part_offset == have)
        return 0;
    if (c->part_offset < have && c->part_len <= have - c->part_offset) {
        *resent = true;
        return 0;
    }
    set_err(err, errlen, "upload %llu: part at byte %llu does not follow the %llu bytes staged",
            (unsigned long long)c->upload_id, (unsigned long long)c->part_offset,
            (unsigned long long)have);
    upload_drop(&q->uploads, c->upload_id);
    return -1;
}

static int apply_list_part(struct queue *q, const struct qcmd *c, char *err, size_t errlen)
{
    bool resent;
    if (check_part_offset(q, c, &resent, err, errlen) != 0)
        return -1;
    if (resent)
        return 0;
    int rc = upload_add_part(&q->uploads, c->upload_id, c->part, c->part_len, q->applied,
                             err, errlen);
    if (rc == -2)
        sm_oom("list part");
    return rc;
}

/* Applies one COMPLETE entry; -1 (with err) only for a bad entry. */
static int apply_result(struct queue *q, struct qbatch *b, const struct qresult *r,
                        struct queue_outcome *out, char *err, size_t errlen)
{
    if (r->index >= b->spec.count) {
        set_err(err, errlen, "batch %llu: index %llu out of range (count %llu)",
                (unsigned long long)b->id, (unsigned long long)r->index,
                (unsigned long long)b->spec.count);
        return -1;
    }
    size_t len = r->text ? strlen(r->text) : 0;
    /* The grammar admits only digits, spaces and one "unfactored:" tag, so
     * it implies the charset check the decoder made (and costs one pass). */
    if (r->text == NULL || len > QRESULT_MAX_TEXT || !qresult_text_well_formed(r->text, len)) {
        set_err(err, errlen, "batch %llu: index %llu: malformed result text",
                (unsigned long long)b->id, (unsigned long long)r->index);
        return -1;
    }
    if (qbatch_is_done(b, r->index))
        return 0;  /* a re-issued lease finished twice: first result wins */
    if (queue_record(q, b, r->index, r->text, len) != 0)
        sm_oom("complete");
    out->recorded++;
    return 0;
}

/* A decoded block: its items, checked as it was decoded, are stored as
 * they are. An index past the batch is refused alone, as in COMPLETE. */
static int apply_block(struct queue *q, struct qbatch *b, const struct qcmd *c,
                       struct queue_outcome *out, char *err, size_t errlen)
{
    int rc = 0;
    size_t pos = 0;
    uint64_t index = 0;
    for (size_t i = 0; i < c->n_results; i++) {
        const uint8_t *item;
        size_t len;
        if (qcmd_block_next(c, &pos, &index, i == 0, &item, &len) != 0) {
            set_err(err, errlen, "batch %llu: malformed block", (unsigned long long)b->id);
            return -1;
        }
        if (index >= b->spec.count) {
            if (rc == 0)
                set_err(err, errlen, "batch %llu: index %llu out of range (count %llu)",
                        (unsigned long long)b->id, (unsigned long long)index,
                        (unsigned long long)b->spec.count);
            rc = -1;
            continue;
        }
        if (qbatch_is_done(b, index))
            continue;  /* a re-issued lease finished twice: first result wins */
        if (queue_record_item(q, b, index, item, len) != 0)
            sm_oom("complete");
        out->recorded++;
    }
    return rc;
}

static int apply_complete(struct queue *q, const struct qcmd *c, struct queue_outcome *out,
                          char *err, size_t errlen)
{
    out->batch_id = c->batch_id;
    struct qbatch *b = find_batch(q, c->batch_id);
    if (b == NULL) {
        set_err(err, errlen, "no batch %llu", (unsigned long long)c->batch_id);
        return -1;
    }
    if (b->state != BATCH_RUNNING)
        return 0;  /* late results for a cancelled or finished batch */
    int rc = 0;
    if (c->type == QCMD_COMPLETE_BLOCK && c->results == NULL)
        rc = apply_block(q, b, c, out, err, errlen);
    for (size_t i = 0; c->results != NULL && i < c->n_results; i++) {
        /* Keep the first error message, but apply every good entry. */
        if (apply_result(q, b, &c->results[i], out, rc == 0 ? err : NULL, errlen) != 0)
            rc = -1;
    }
    out->finished = b->state == BATCH_DONE;
    if (out->finished)
        b->ended_ms = c->time_ms;
    return rc;
}

static int apply_cancel(struct queue *q, const struct qcmd *c, struct queue_outcome *out,
                        char *err, size_t errlen)
{
    out->batch_id = c->batch_id;
    struct qbatch *b = find_batch(q, c->batch_id);
    if (b == NULL) {
        set_err(err, errlen, "no batch %llu", (unsigned long long)c->batch_id);
        return -1;
    }
    if (b->state == BATCH_DONE) {
        set_err(err, errlen, "batch %llu is already done", (unsigned long long)b->id);
        return -1;
    }
    if (b->state == BATCH_RUNNING)
        b->ended_ms = c->time_ms;
    b->state = BATCH_CANCELLED;
    return 0;
}

static void remove_batch(struct queue *q, struct qbatch *b)
{
    size_t i = 0;
    while (q->batches[i] != b)
        i++;
    memmove(&q->batches[i], &q->batches[i + 1], (q->n - i - 1) * sizeof *q->batches);
    q->n--;
    q->bytes -= b->bytes;
    q->file_bytes -= b->disk != NULL || b->elsewhere ? b->bytes : b->seg_bytes;
    qbatch_retire(&q->retire, b);
}

/* Ids are checked one by one, so one bad id does not keep the others. */
static int forget_one(struct queue *q, uint64_t id, const struct qcmd *c, char *err,
                      size_t errlen)
{
    struct forgotten_info f;
    struct qbatch *b = find_batch(q, id);
    if (b == NULL) {
        if (queue_forgotten(q, id, &f) == 0)
            return 0; /* forgotten already (two readers, a resend) */
        set_err(err, errlen, "no batch %llu", (unsigned long long)id);
        return -1;
    }
    if (b->state == BATCH_RUNNING) {
        set_err(err, errlen, "batch %llu is running: cancel it first", (unsigned long long)id);
        return -1;
    }
    remove_batch(q, b);
    f = (struct forgotten_info){id, c->time_ms, (enum forget_reason)c->forget_reason};
    queue_remember_forgotten(q, &f);
    return 1;
}

static int apply_forget(struct queue *q, const struct qcmd *c, struct queue_outcome *out,
                        char *err, size_t errlen)
{
    int rc = 0;
    for (size_t i = 0; i < c->n_forget; i++) {
        int one = forget_one(q, c->forget[i], c, rc == 0 ? err : NULL, errlen);
        if (one < 0)
            rc = -1;
        out->forgotten += one > 0;
    }
    return rc;
}

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
    case QCMD_COMPLETE_BLOCK:
        return apply_complete(q, c, out, err, errlen);
    case QCMD_CANCEL:
        return apply_cancel(q, c, out, err, errlen);
    case QCMD_DRAIN:
        return apply_drain(q, c, out, err, errlen);
    case QCMD_LIST_PART:
        return apply_list_part(q, c, err, errlen);
    case QCMD_FORGET:
        return apply_forget(q, c, out, err, errlen);
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
    out->token = b->token;
    out->spec = &b->spec;
    out->submitted_ms = b->submitted_ms;
    out->ended_ms = b->ended_ms;
    out->bytes = b->bytes;
    out->results_elsewhere = b->elsewhere || b->segs_elsewhere > 0;
}

uint64_t queue_retained_bytes(const struct queue *q)
{
    return q->bytes;
}

uint64_t queue_inline_bytes(const struct queue *q)
{
    return q->bytes - q->file_bytes;
}

void queue_retained(const struct queue *q, struct retained_info *out)
{
    memset(out, 0, sizeof *out);
    out->batches = q->n;
    out->bytes = q->bytes;
    for (size_t i = 0; i < q->n; i++)
        if (q->batches[i]->state == BATCH_RUNNING) {
            out->running++;
            out->running_bytes += q->batches[i]->bytes;
        }
}

size_t queue_batch_count(const struct queue *q)
{
    return q->n;
}

uint64_t queue_next_batch_id(const struct queue *q)
{
    return q->next_id;
}

uint64_t queue_batch_id_base(uint64_t cluster_id)
{
    return ((cluster_id % 0xFFFFu) + 1) << 20 | 1;
}

uint64_t queue_next_batch_id_in(const struct queue *q, uint64_t cluster_id)
{
    if (cluster_id == 0)
        return q->next_id;
    uint64_t base = queue_batch_id_base(cluster_id);
    return q->next_id < base ? base : q->next_id;
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
    return b != NULL && qbatch_is_done(b, index);
}

const char *queue_result(const struct queue *q, uint64_t id, uint64_t index)
{
    const struct qbatch *b = find_batch(q, id);
    struct page_view v;
    if (b == NULL || index >= b->spec.count || !qbatch_page(b, index >> QPAGE_SHIFT, &v) ||
        !bit_is_set(v.done, index & (QPAGE_SIZE - 1)))
        return NULL;
    const struct qsegment *g = b->disk == NULL ? qbatch_seg_of(b, index >> QPAGE_SHIFT) : NULL;
    if (g != NULL && g->disk == NULL)
        return NULL;   /* elsewhere: not read as done results */
    size_t at = v.offset[index & (QPAGE_SIZE - 1)], size;
    result_item_render((const uint8_t *)v.text + at, v.len - at, q->render, &size);
    return q->render;
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
