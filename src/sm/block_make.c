/* block_make.c - a COMPLETE_BLOCK made by the leader from compact items
 * (block_make.h says why). */
#include "block_make.h"

#include <stdlib.h>
#include <string.h>

#include "queue_codec.h"
#include "result_item.h"

enum { VARINT_MAX = 10 };

size_t block_item_room(size_t len, size_t n_words)
{
    size_t text = len + RESULT_ITEM_SLACK, words = 3 + n_words * VARINT_MAX;
    return text > words ? text : words;
}

/* The factor form (result_item.h: tag k << 1, the first factor, then the
 * differences) when the words are factors in ascending order, else 0. */
static size_t item_of_words(const uint64_t *w, size_t n, uint8_t *out)
{
    if (n >= (1u << 14))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (w[i] == 0 || (i > 0 && w[i] < w[i - 1]))
            return 0; /* an unordered list is kept as its text */
    uint8_t *p = result_item_put_varint(out, (uint64_t)n << 1);
    for (size_t i = 0; i < n; i++)
        p = result_item_put_varint(p, w[i] - (i > 0 ? w[i - 1] : 0));
    return (size_t)(p - out);
}

size_t block_item(const char *text, size_t len, const uint64_t *words, size_t n_words,
                  uint8_t *out)
{
    if (len > QRESULT_MAX_TEXT)
        return 0;
    size_t n = words != NULL ? item_of_words(words, n_words, out) : 0;
    if (n > 0)
        return n;
    n = result_item_from_text(text, len, out);
    /* A factor list is well formed by its making; a text is checked. */
    return (out[0] & 1) && !qresult_text_well_formed(text, len) ? 0 : n;
}

int block_make(struct qcmd *cmd, uint64_t batch, const struct block_entry *e, size_t n)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && e[i].index <= e[i - 1].index)
            return -1;
        bytes += VARINT_MAX + e[i].len;
    }
    uint8_t *block = malloc(bytes ? bytes : 1), *p = block;
    if (block == NULL || n == 0) {
        free(block);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        p = result_item_put_varint(p, i == 0 ? e[i].index : e[i].index - e[i - 1].index - 1);
        memcpy(p, e[i].item, e[i].len);
        p += e[i].len;
    }
    cmd->type = QCMD_COMPLETE_BLOCK;
    cmd->batch_id = batch;
    cmd->block = block;
    cmd->block_len = (size_t)(p - block);
    cmd->n_results = n;
    cmd->results = NULL;
    return 0;
}
