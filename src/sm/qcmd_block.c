/* qcmd_block.c - a batch's results as one compact block (COMPLETE_BLOCK).
 *
 * A COMPLETE entry spells every result out: its index and its text, the
 * factors in decimal. Nearly every result is a short ascending list of
 * factors below 2^64, so the block stores those as varints instead, the
 * first whole and each next one as its difference from the one before,
 * and the indexes as gaps (consecutive indexes, a lease's, cost one byte
 * each). A result that is not such a list (unfactored, a factor past
 * 2^64) keeps its text. The numbers themselves are never stored: they
 * follow from the batch's recipe.
 *
 *   batch_id, n (>= 1), then n items:
 *     index (the first) or gap (index - previous index - 1, the others)
 *     tag: k << 1        k factors: f1, then f(i) - f(i-1); f1 >= 1
 *          len << 1 | 1  a text of len bytes (1..QRESULT_MAX_TEXT), well
 *                        formed and NOT a list of the form above
 *
 * One encoding per block: the decoder refuses a text the encoder would
 * have written as factors, gaps that overflow, sums of differences past
 * 2^64 and any rendered text over QRESULT_MAX_TEXT. */
#include "qcmd_block.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

/* The factors of text[0..len) when it is a list of decimals below 2^64
 * in ascending order (no "unfactored:" part): their count, and each one
 * written to out as above when out is not NULL. -1 when it is not. */
static long factor_list(const char *text, size_t len, struct qbuf *out)
{
    uint64_t prev = 0, v = 0;
    long k = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && text[i] != ' ') {
            unsigned d = (unsigned char)text[i] - '0';
            if (d > 9 || __builtin_mul_overflow(v, 10, &v) || __builtin_add_overflow(v, d, &v))
                return -1;
            continue;
        }
        if (len == 0)
            break;
        if (v < prev || v == 0)
            return -1;
        if (out != NULL)
            qbuf_put_varint(out, v - prev);
        prev = v;
        v = 0;
        k++;
    }
    return k;
}

static int encode_item(struct qbuf *out, const char *text)
{
    size_t len = strlen(text);
    if (len > QRESULT_MAX_TEXT || !qresult_text_well_formed(text, len))
        return -1;
    long k = factor_list(text, len, NULL);
    if (k >= 0) {
        qbuf_put_varint(out, (uint64_t)k << 1);
        factor_list(text, len, out);
    } else {
        qbuf_put_varint(out, (uint64_t)len << 1 | 1);
        qbuf_put_bytes(out, text, len);
    }
    return 0;
}

int qcmd_block_encode(const struct qcmd *c, struct qbuf *out)
{
    if (c->n_results == 0 || c->results == NULL)
        return -1;
    qbuf_put_varint(out, c->batch_id);
    qbuf_put_varint(out, c->n_results);
    for (size_t i = 0; i < c->n_results; i++) {
        const struct qresult *r = &c->results[i];
        if (r->text == NULL || (i > 0 && r->index <= c->results[i - 1].index))
            return -1;
        qbuf_put_varint(out, i == 0 ? r->index : r->index - c->results[i - 1].index - 1);
        if (encode_item(out, r->text) != 0)
            return -1;
    }
    return out->failed ? -1 : 0;
}

/* ---- decoding ----------------------------------------------------------- */

/* The rendered texts while decoding: one growing arena, each text
 * NUL-terminated; results point into it once it stops moving. */
struct arena {
    char *p;
    size_t len, cap;
};

static bool arena_reserve(struct arena *a, size_t n)
{
    return grow_array((void **)&a->p, &a->cap, a->len + n, 1);
}

/* Decimal of v at a->p + a->len (room reserved by the caller). */
static void put_decimal(struct arena *a, uint64_t v)
{
    char tmp[20];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    while (n > 0)
        a->p[a->len++] = tmp[--n];
}

static int decode_factors(struct qreader *in, uint64_t k, struct arena *a)
{
    /* Each factor takes a byte at least, and renders to two at least. */
    if (k > qreader_remaining(in) || k > QRESULT_MAX_TEXT / 2)
        return -1;
    size_t start = a->len;
    uint64_t f = 0;
    for (uint64_t j = 0; j < k; j++) {
        uint64_t d = qreader_varint(in);
        if (in->failed || (j == 0 && d == 0) || __builtin_add_overflow(f, d, &f) ||
            !arena_reserve(a, 22))
            return -1;
        if (j > 0)
            a->p[a->len++] = ' ';
        put_decimal(a, f);
        if (a->len - start > QRESULT_MAX_TEXT)
            return -1;
    }
    return 0;
}

static int decode_text(struct qreader *in, uint64_t len, struct arena *a)
{
    if (len == 0 || len > QRESULT_MAX_TEXT || len > qreader_remaining(in) ||
        !arena_reserve(a, (size_t)len + 1))
        return -1;
    const char *text = (const char *)in->p + in->pos;
    in->pos += (size_t)len;
    /* The grammar implies the charset; a text that is a plain factor list
     * would have been written as one. */
    if (!qresult_text_well_formed(text, (size_t)len) || factor_list(text, (size_t)len, NULL) >= 0)
        return -1;
    memcpy(a->p + a->len, text, (size_t)len);
    a->len += (size_t)len;
    return 0;
}

/* One item's text, appended to the arena NUL-terminated (its offset kept
 * in *at until the arena stops moving). */
static int decode_item(struct qreader *in, struct arena *a, size_t *at)
{
    uint64_t tag = qreader_varint(in);
    if (in->failed)
        return -1;
    *at = a->len;
    int rc = tag & 1 ? decode_text(in, tag >> 1, a) : decode_factors(in, tag >> 1, a);
    if (rc != 0 || !arena_reserve(a, 1))
        return -1;
    a->p[a->len++] = '\0';
    return 0;
}

static int decode_items(struct qreader *in, struct qcmd *c, uint64_t n, size_t *at)
{
    struct arena a = {0};
    uint64_t index = 0;
    for (c->n_results = 0; c->n_results < n; c->n_results++) {
        uint64_t gap = qreader_varint(in);
        /* The first is the index itself; each next one is past the last. */
        uint64_t base = c->n_results == 0 ? 0 : index;
        uint64_t skip = c->n_results == 0 ? 0 : 1;
        if (__builtin_add_overflow(base, skip, &base) || __builtin_add_overflow(base, gap, &index))
            in->failed = true;
        c->results[c->n_results].index = index;
        if (in->failed || decode_item(in, &a, &at[c->n_results]) != 0) {
            c->result_texts = a.p;
            return -1;
        }
    }
    c->result_texts = a.p;
    for (size_t i = 0; i < c->n_results; i++)
        c->results[i].text = a.p + at[i];
    return 0;
}

int qcmd_block_decode(struct qreader *in, struct qcmd *c)
{
    c->batch_id = qreader_varint(in);
    uint64_t n = qreader_varint(in);
    /* Each item takes two bytes at least: bound the allocation by input. */
    if (in->failed || n == 0 || n > qreader_remaining(in) / 2)
        return -1;
    c->results = calloc(n, sizeof *c->results);
    size_t *at = malloc(n * sizeof *at);
    int rc = c->results != NULL && at != NULL ? decode_items(in, c, n, at) : -1;
    free(at);
    c->texts_checked = rc == 0;
    return rc;
}
