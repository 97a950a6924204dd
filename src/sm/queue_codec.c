/* queue_codec.c - growable byte buffer and bounds-checked reader.
 *
 * Sticky failure on both sides keeps encoders and decoders short: they read
 * or write every field unconditionally and test `failed` once. The reader
 * never reads past len, whatever the input says. */
#include "queue_codec.h"

#include "queue.h"
#include "qcmd_block.h"

#include <stdlib.h>
#include <string.h>

void qbuf_init(struct qbuf *b)
{
    memset(b, 0, sizeof *b);
}

void qbuf_free(struct qbuf *b)
{
    free(b->data);
    qbuf_init(b);
}

static bool qbuf_reserve(struct qbuf *b, size_t n)
{
    if (b->failed)
        return false;
    if (n <= b->cap - b->len)
        return true;
    if (n > SIZE_MAX / 2 - b->len) {
        b->failed = true;
        return false;
    }
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < n)
        cap *= 2;
    uint8_t *p = realloc(b->data, cap);
    if (p == NULL) {
        b->failed = true;
        return false;
    }
    b->data = p;
    b->cap = cap;
    return true;
}

void qbuf_put_bytes(struct qbuf *b, const void *p, size_t n)
{
    if (n == 0 || !qbuf_reserve(b, n))
        return;
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void qbuf_put_u8(struct qbuf *b, uint8_t v)
{
    qbuf_put_bytes(b, &v, 1);
}

void qbuf_put_varint(struct qbuf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        uint8_t byte = v & 0x7f;
        v >>= 7;
        tmp[n++] = byte | (v ? 0x80 : 0);
    } while (v);
    qbuf_put_bytes(b, tmp, n);
}

void qbuf_put_str(struct qbuf *b, const char *s, size_t n)
{
    qbuf_put_varint(b, n);
    qbuf_put_bytes(b, s, n);
}

int qbuf_take(struct qbuf *b, uint8_t **buf, size_t *len)
{
    /* An empty encoding is legal for the buffer but callers expect a real
     * pointer, so make sure one exists. */
    if (!b->failed && b->data == NULL)
        qbuf_reserve(b, 1);
    if (b->failed) {
        qbuf_free(b);
        return -1;
    }
    *buf = b->data;
    *len = b->len;
    qbuf_init(b);
    return 0;
}

void qreader_init(struct qreader *r, const uint8_t *p, size_t len)
{
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->failed = false;
}

void qreader_fail(struct qreader *r)
{
    r->failed = true;
}

size_t qreader_remaining(const struct qreader *r)
{
    return r->failed ? 0 : r->len - r->pos;
}

bool qreader_done(const struct qreader *r)
{
    return !r->failed && r->pos == r->len;
}

uint8_t qreader_u8(struct qreader *r)
{
    if (qreader_remaining(r) < 1) {
        r->failed = true;
        return 0;
    }
    return r->p[r->pos++];
}

uint64_t qreader_varint(struct qreader *r)
{
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        uint8_t byte = qreader_u8(r);
        if (r->failed)
            return 0;
        /* The 10th byte may only carry the single top bit. */
        if (shift == 63 && byte > 1) {
            r->failed = true;
            return 0;
        }
        /* A zero final byte after the first is an over-long encoding:
         * refuse it so every value has exactly one encoding. */
        if (shift > 0 && byte == 0) {
            r->failed = true;
            return 0;
        }
        v |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80))
            return v;
    }
    r->failed = true;
    return 0;
}

const uint8_t *qreader_bytes(struct qreader *r, size_t n)
{
    if (r->failed || n > qreader_remaining(r)) {
        r->failed = true;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += n;
    return p;
}

const uint8_t *qreader_str(struct qreader *r, size_t max, size_t *n)
{
    uint64_t len = qreader_varint(r);
    if (r->failed || len > max || len > qreader_remaining(r)) {
        r->failed = true;
        *n = 0;
        return NULL;
    }
    const uint8_t *p = r->p + r->pos;
    r->pos += (size_t)len;
    *n = (size_t)len;
    return p;
}

/* ---- queue commands -------------------------------------------------------
 * version u8 (5; 4, 3 and 2 are still read), type u8, time_ms (4 and 5),
 * then
 *   SUBMIT:   name str (< QUEUE_NAME_MAX), batch_id, import u8, token (3
 *             and later), upload_id, then
 *             upload_id 0: spec; else: kind u8 (LIST), count, chunk, list_len;
 *             then the budget (5 only, batch_budget_encode)
 *   COMPLETE: batch_id, n, n * (index, text str)
 *   CANCEL:   batch_id
 *   DRAIN:    node_id, drained u8 (0 or 1)
 *   LIST_PART: upload_id (non-zero), part_offset (3 and 4), part str (whole
 *             normalised numbers)
 *   FORGET:   reason u8 (enum forget_reason), n (1..QCMD_FORGET_MAX), n ids
 *             strictly ascending (4 and 5)
 *   COMPLETE_BLOCK: (4 and 5) see qcmd_block.c
 * Commands travel through the Raft log and are replayed from disk, so the
 * decoder treats every byte as hostile and accepts only what the encoder
 * could have produced: trailing bytes, over-long varints, bad names, bad
 * result texts and invalid specs are all rejected. */

/* 2: SUBMIT carries the batch id it asks for (0: the next) and an import flag.
 * 3: SUBMIT carries a write token, LIST_PART its offset: a write resent
 *    after a leader change is recognised. Entries of format 2 stay readable
 *    (a log written by the previous release replays). */
/* 4: every command carries the proposer's time (retention ages batches by
 *    the log's own clock), and FORGET exists.
 * 5: SUBMIT carries the batch's budget per number (its LIST upload header
 *    too); a SUBMIT of an earlier format decodes with the node default. */
enum { QCMD_VERSION = QCMD_FORMAT, QCMD_VERSION_NO_BUDGET = QCMD_FORMAT_NO_BUDGET,
       QCMD_VERSION_NO_TIME = QCMD_FORMAT_NO_TIME, QCMD_VERSION_NO_TOKENS = QCMD_FORMAT_OLDEST };

void qcmd_free(struct qcmd *c)
{
    batch_spec_free(&c->spec);
    for (size_t i = 0; c->results != NULL && c->result_texts == NULL && i < c->n_results; i++)
        free(c->results[i].text);
    free(c->results);
    free(c->result_texts);
    free(c->block);
    free(c->part);
    free(c->forget);
    memset(c, 0, sizeof *c);
}

static bool label_valid(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return false;
    return true;
}

static int encode_complete(const struct qcmd *c, struct qbuf *out)
{
    qbuf_put_varint(out, c->batch_id);
    qbuf_put_varint(out, c->n_results);
    for (size_t i = 0; i < c->n_results; i++) {
        const char *text = c->results[i].text;
        size_t len = text ? strlen(text) : 0;
        if (text == NULL || !qresult_text_valid(text, len))
            return -1;
        qbuf_put_varint(out, c->results[i].index);
        qbuf_put_str(out, text, len);
    }
    return 0;
}

/* The announced shape of an uploaded list: as much as decode_list would
 * check of a list it could see. */
static bool upload_header_valid(const struct batch_spec *s)
{
    return s->kind == BATCH_LIST && s->count >= 1 && s->count <= BATCH_MAX_COUNT &&
           s->list_len / 2 >= s->count && batch_budget_valid(s->budget_ms) &&
           s->list_len <= BATCH_MAX_LIST_INPUT + 1;
}

static int encode_submit(const struct qcmd *c, struct qbuf *out)
{
    const char *nul = memchr(c->name, '\0', sizeof c->name);
    if (nul == NULL || !label_valid(c->name, (size_t)(nul - c->name)))
        return -1;
    qbuf_put_str(out, c->name, (size_t)(nul - c->name));
    qbuf_put_varint(out, c->batch_id);
    qbuf_put_u8(out, c->import ? 1 : 0);
    qbuf_put_varint(out, c->token);
    qbuf_put_varint(out, c->upload_id);
    if (c->upload_id == 0) {
        if (batch_spec_encode(&c->spec, out) != 0)
            return -1;
    } else {
        if (!upload_header_valid(&c->spec))
            return -1;
        qbuf_put_u8(out, BATCH_LIST);
        qbuf_put_varint(out, c->spec.count);
        qbuf_put_varint(out, c->spec.chunk);
        qbuf_put_varint(out, c->spec.list_len);
    }
    batch_budget_encode(&c->spec, out);
    return 0;
}

static bool forget_valid(const struct qcmd *c)
{
    if (c->n_forget == 0 || c->n_forget > QCMD_FORGET_MAX || c->forget == NULL ||
        c->forget_reason < FORGET_BY_USER || c->forget_reason > FORGET_REASON_MAX)
        return false;
    for (size_t i = 1; i < c->n_forget; i++)
        if (c->forget[i] <= c->forget[i - 1])
            return false;
    return true;
}

static int by_id(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

size_t qcmd_forget_normalize(uint64_t *ids, size_t n)
{
    qsort(ids, n, sizeof *ids, by_id);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (kept == 0 || ids[kept - 1] != ids[i])
            ids[kept++] = ids[i];
    return kept;
}

static int encode_forget(const struct qcmd *c, struct qbuf *out)
{
    if (!forget_valid(c))
        return -1;
    qbuf_put_u8(out, c->forget_reason);
    qbuf_put_varint(out, c->n_forget);
    for (size_t i = 0; i < c->n_forget; i++)
        qbuf_put_varint(out, c->forget[i]);
    return 0;
}

static int encode_body(const struct qcmd *c, struct qbuf *out)
{
    switch (c->type) {
    case QCMD_SUBMIT:
        return encode_submit(c, out);
    case QCMD_COMPLETE:
        return encode_complete(c, out);
    case QCMD_CANCEL:
        qbuf_put_varint(out, c->batch_id);
        return 0;
    case QCMD_DRAIN:
        qbuf_put_varint(out, c->node_id);
        qbuf_put_u8(out, c->drained ? 1 : 0);
        return 0;
    case QCMD_LIST_PART:
        if (c->upload_id == 0 || c->part == NULL || batch_list_count(c->part, c->part_len) == 0)
            return -1;
        qbuf_put_varint(out, c->upload_id);
        qbuf_put_varint(out, c->part_offset);
        qbuf_put_str(out, c->part, c->part_len);
        return 0;
    case QCMD_FORGET:
        return encode_forget(c, out);
    case QCMD_COMPLETE_BLOCK:
        return qcmd_block_encode(c, out);
    }
    return -1;
}

int qcmd_encode(const struct qcmd *c, uint8_t **buf, size_t *len)
{
    struct qbuf out;
    qbuf_init(&out);
    qbuf_put_u8(&out, QCMD_VERSION);
    qbuf_put_u8(&out, (uint8_t)c->type);
    qbuf_put_varint(&out, c->time_ms);
    if (encode_body(c, &out) != 0) {
        qbuf_free(&out);
        return -1;
    }
    return qbuf_take(&out, buf, len);
}

static int decode_upload_header(struct qreader *in, struct batch_spec *s)
{
    s->kind = (enum batch_kind)qreader_u8(in);
    s->count = qreader_varint(in);
    uint64_t chunk = qreader_varint(in);
    uint64_t len = qreader_varint(in);
    if (in->failed || chunk > UINT32_MAX || len > SIZE_MAX)
        return -1;
    s->chunk = (uint32_t)chunk;
    s->list_len = (size_t)len;
    return upload_header_valid(s) ? 0 : -1;
}

static int decode_submit(struct qreader *in, struct qcmd *c, uint8_t version)
{
    size_t n;
    const uint8_t *name = qreader_str(in, QUEUE_NAME_MAX - 1, &n);
    if (name == NULL || !label_valid((const char *)name, n))
        return -1;
    memcpy(c->name, name, n);
    c->batch_id = qreader_varint(in);
    uint8_t import = qreader_u8(in);
    c->import = import == 1;
    c->token = version == QCMD_VERSION_NO_TOKENS ? 0 : qreader_varint(in);
    c->upload_id = qreader_varint(in);
    if (in->failed || import > 1 || (c->import && c->batch_id == 0))
        return -1;
    int rc = c->upload_id != 0 ? decode_upload_header(in, &c->spec)
                               : batch_spec_decode(in, &c->spec);
    if (rc != 0 || version < QCMD_VERSION)
        return rc; /* an earlier format: the node's default budget */
    return batch_budget_decode(in, &c->spec);
}

static int decode_list_part(struct qreader *in, struct qcmd *c, uint8_t version)
{
    c->upload_id = qreader_varint(in);
    c->part_offset = version == QCMD_VERSION_NO_TOKENS ? QCMD_PART_APPEND : qreader_varint(in);
    size_t n;
    const char *p = (const char *)qreader_str(in, BATCH_MAX_LIST_INPUT + 1, &n);
    if (p == NULL || c->upload_id == 0 || batch_list_count(p, n) == 0)
        return -1;
    c->part = malloc(n);
    if (c->part == NULL)
        return -1;
    memcpy(c->part, p, n);
    c->part_len = n;
    return 0;
}

static int decode_complete(struct qreader *in, struct qcmd *c)
{
    c->batch_id = qreader_varint(in);
    uint64_t n = qreader_varint(in);
    /* Each entry takes at least two bytes: bound the allocation by input. */
    if (in->failed || n > qreader_remaining(in) / 2)
        return -1;
    c->results = calloc(n ? n : 1, sizeof *c->results);
    /* Texts are at most the bytes left, plus a NUL each. */
    c->result_texts = malloc(qreader_remaining(in) + n + 1);
    if (c->results == NULL || c->result_texts == NULL)
        return -1;
    size_t used = 0;
    for (c->n_results = 0; c->n_results < n; c->n_results++) {
        struct qresult *r = &c->results[c->n_results];
        r->index = qreader_varint(in);
        size_t len;
        const char *text = (const char *)qreader_str(in, QRESULT_MAX_TEXT, &len);
        if (text == NULL || !qresult_text_valid(text, len))
            return -1;
        r->text = c->result_texts + used;
        memcpy(r->text, text, len);
        r->text[len] = '\0';
        used += len + 1;
    }
    return 0;
}

static int decode_forget(struct qreader *in, struct qcmd *c)
{
    c->forget_reason = qreader_u8(in);
    uint64_t n = qreader_varint(in);
    if (in->failed || n == 0 || n > QCMD_FORGET_MAX || n > qreader_remaining(in))
        return -1;
    c->forget = malloc(n * sizeof *c->forget);
    if (c->forget == NULL)
        return -1;
    for (c->n_forget = 0; c->n_forget < n; c->n_forget++)
        c->forget[c->n_forget] = qreader_varint(in);
    return !in->failed && forget_valid(c) ? 0 : -1;
}

static int decode_body(struct qreader *in, struct qcmd *c, uint8_t version)
{
    switch (c->type) {
    case QCMD_SUBMIT:
        return decode_submit(in, c, version);
    case QCMD_COMPLETE:
        return decode_complete(in, c);
    case QCMD_CANCEL:
        c->batch_id = qreader_varint(in);
        return in->failed ? -1 : 0;
    case QCMD_DRAIN: {
        c->node_id = qreader_varint(in);
        uint8_t drained = qreader_u8(in);
        c->drained = drained == 1;
        return in->failed || drained > 1 ? -1 : 0;
    }
    case QCMD_LIST_PART:
        return decode_list_part(in, c, version);
    case QCMD_FORGET:
        return version >= QCMD_VERSION_NO_BUDGET ? decode_forget(in, c) : -1;
    case QCMD_COMPLETE_BLOCK:
        return version >= QCMD_VERSION_NO_BUDGET ? qcmd_block_decode(in, c) : -1;
    }
    return -1;
}

int qcmd_decode(const uint8_t *buf, size_t len, struct qcmd *c)
{
    memset(c, 0, sizeof *c);
    struct qreader in;
    qreader_init(&in, buf, len);
    uint8_t version = qreader_u8(&in);
    c->type = (enum qcmd_type)qreader_u8(&in);
    c->time_ms = version >= QCMD_VERSION_NO_BUDGET ? qreader_varint(&in) : 0;
    if (in.failed || version < QCMD_VERSION_NO_TOKENS || version > QCMD_VERSION ||
        decode_body(&in, c, version) != 0 ||
        !qreader_done(&in)) {
        qcmd_free(c);
        return -1;
    }
    return 0;
}
