/* qcmd_block.c - a batch's results as one compact block (COMPLETE_BLOCK).
 *
 * A COMPLETE entry spells every result out: its index and its text, the
 * factors in decimal, and every replica checks and copies each text. A
 * block carries each result as its compact item (result_item.h) and the
 * indexes as gaps (consecutive indexes, a lease's, cost one byte each);
 * the numbers themselves are never stored: they follow from the batch's
 * recipe. The replicas check the block once as it is decoded and store
 * its items as they are (queue.c): no text is made until one is read.
 *
 *   batch_id, n (>= 1), then n times:
 *     index (the first) or gap (index - previous index - 1, the others),
 *     then the item
 *
 * One encoding per block: the decoder refuses gaps that run past 2^64 and
 * every item result_item_check refuses. */
#include "qcmd_block.h"

#include <stdlib.h>
#include <string.h>

#include "result_item.h"

/* One result's item into out: -1 when its text is not the grammar's. */
static int encode_item(const char *text, size_t len, struct qbuf *out)
{
    /* Nearly every item is made on the stack (a 64 KiB buffer malloc'd
     * and freed per entry cost the leader a trim of its heap each time). */
    uint8_t small[256];
    uint8_t *item = len + RESULT_ITEM_SLACK <= sizeof small
        ? small : malloc(len + RESULT_ITEM_SLACK);
    if (item == NULL)
        return -1;
    size_t n = result_item_from_text(text, len, item);
    /* A factor list is well formed by its making; a text is checked. */
    int rc = (item[0] & 1) && !qresult_text_well_formed(text, len) ? -1 : 0;
    if (rc == 0)
        qbuf_put_bytes(out, item, n);
    if (item != small)
        free(item);
    return rc;
}

static int encode_texts(const struct qcmd *c, struct qbuf *out)
{
    for (size_t i = 0; i < c->n_results; i++) {
        const struct qresult *r = &c->results[i];
        size_t len = r->text != NULL ? strlen(r->text) : 0;
        if (r->text == NULL || len > QRESULT_MAX_TEXT ||
            (i > 0 && r->index <= c->results[i - 1].index))
            return -1;
        qbuf_put_varint(out, i == 0 ? r->index : r->index - c->results[i - 1].index - 1);
        if (encode_item(r->text, len, out) != 0)
            return -1;
    }
    return 0;
}

int qcmd_block_encode(const struct qcmd *c, struct qbuf *out)
{
    if (c->n_results == 0 || (c->results == NULL && c->block == NULL))
        return -1;
    qbuf_put_varint(out, c->batch_id);
    qbuf_put_varint(out, c->n_results);
    /* A decoded block is written back as it came (it was checked). */
    if (c->results == NULL) {
        qbuf_put_bytes(out, c->block, c->block_len);
        return out->failed ? -1 : 0;
    }
    return encode_texts(c, out) == 0 && !out->failed ? 0 : -1;
}

/* The gaps and items of n results: each index stays below 2^64. */
static int check_items(struct qreader *in, uint64_t n)
{
    uint64_t index = 0;
    for (uint64_t i = 0; i < n; i++) {
        uint64_t gap = qreader_varint(in);
        uint64_t next = index;
        if (i > 0 && __builtin_add_overflow(next, 1, &next))
            return -1;
        if (in->failed || __builtin_add_overflow(next, gap, &index) ||
            result_item_check(in) != 0)
            return -1;
    }
    return 0;
}

int qcmd_block_decode(struct qreader *in, struct qcmd *c)
{
    c->batch_id = qreader_varint(in);
    uint64_t n = qreader_varint(in);
    /* Each result takes two bytes at least. */
    if (in->failed || n == 0 || n > qreader_remaining(in) / 2)
        return -1;
    size_t start = in->pos;
    if (check_items(in, n) != 0)
        return -1;
    c->block_len = in->pos - start;
    c->block = malloc(c->block_len);
    if (c->block == NULL)
        return -1;
    memcpy(c->block, in->p + start, c->block_len);
    c->n_results = (size_t)n;
    return 0;
}

int qcmd_block_next(const struct qcmd *c, size_t *pos, uint64_t *index, bool first,
                    const uint8_t **item, size_t *item_len)
{
    const uint8_t *end = c->block + c->block_len, *at;
    uint64_t gap;
    if (*pos > c->block_len || (at = result_item_varint(c->block + *pos, end, &gap)) == NULL)
        return -1;
    /* Checked when decoded: only its size is read again. */
    size_t size = result_item_size(at, (size_t)(end - at));
    if (size == 0)
        return -1;
    *index = first ? gap : *index + 1 + gap;
    *item = at;
    *item_len = size;
    *pos = (size_t)(at - c->block) + size;
    return 0;
}
