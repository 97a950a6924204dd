/* result_item.h - (sm-internal) one result in its compact form: the form a
 * COMPLETE_BLOCK carries and the result pages store (doc/DESIGN.md,
 * "Results as blocks"). A varint tag, then
 *   tag k << 1:        k factors below 2^64, ascending: the first as a
 *                      varint (>= 1), each next one as its difference
 *   tag len << 1 | 1:  a text of len bytes (1..QRESULT_MAX_TEXT), well
 *                      formed and not a list of the form above (an
 *                      unfactored rest, a factor past 2^64, an unordered
 *                      list)
 * so each result has exactly one item, and its text (struct qresult) is
 * rendered from it when read. */
#ifndef MESH_RESULT_ITEM_H
#define MESH_RESULT_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "queue_codec.h"

/* A varint of bytes already checked (a stored item, a decoded block):
 * the byte after it, or NULL when it runs past end. One byte, the common
 * case, takes one compare. */
static inline const uint8_t *result_item_varint(const uint8_t *p, const uint8_t *end,
                                                uint64_t *v)
{
    if (p < end && *p < 0x80) {
        *v = *p;
        return p + 1;
    }
    uint64_t x = 0;
    for (unsigned shift = 0; p < end && shift < 64; shift += 7, p++) {
        x |= (uint64_t)(*p & 0x7f) << shift;
        if (!(*p & 0x80)) {
            *v = x;
            return p + 1;
        }
    }
    return NULL;
}

/* Writes x as a varint at p: the byte after it. */
static inline uint8_t *result_item_put_varint(uint8_t *p, uint64_t x)
{
    do {
        *p++ = (uint8_t)((x & 0x7f) | (x > 0x7f ? 0x80 : 0));
        x >>= 7;
    } while (x != 0);
    return p;
}

/* An item is at most a text's length plus this many bytes (and its
 * making writes up to that far). */
enum { RESULT_ITEM_SLACK = 4 };

/* The item of a well-formed text (qresult_text_well_formed, at most
 * QRESULT_MAX_TEXT bytes) written to out (len + RESULT_ITEM_SLACK bytes
 * of room): its size. */
size_t result_item_from_text(const char *text, size_t len, uint8_t *out);
/* Reads one item from hostile bytes: 0 with the reader past it, or -1
 * (reader failed) when it is not exactly what result_item_from_text
 * writes. */
int result_item_check(struct qreader *in);
/* The text of the item at p (avail bytes from p on, the item checked
 * before) into out (QRESULT_MAX_TEXT + 1 bytes), NUL-terminated: its
 * length, and the item's size in *size. */
size_t result_item_render(const uint8_t *p, size_t avail, char *out, size_t *size);
/* The size of the item at p (avail bytes from p on), read from its tag and
 * varints only; 0 when it runs past avail. */
size_t result_item_size(const uint8_t *p, size_t avail);
/* True when the item holds an unfactored rest. */
bool result_item_unfactored(const uint8_t *p, size_t avail);

#endif
