/* queue_codec.h - a growable byte buffer and a bounds-checked reader.
 *
 * The byte format shared by batch specs, queue commands and queue snapshots.
 * Integers are unsigned LEB128 varints (small numbers stay small: most
 * indexes and lengths fit in 1-3 bytes); strings are a varint length then the
 * bytes. Both sides are "sticky": after the first failure every later call is
 * a no-op, so encoders and decoders check once at the end instead of after
 * every field. */
#ifndef MESH_QUEUE_CODEC_H
#define MESH_QUEUE_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qbuf {
    uint8_t *data;  /* malloc'd; NULL while empty */
    size_t len;
    size_t cap;
    bool failed;    /* allocation failed: contents are incomplete */
};

void qbuf_init(struct qbuf *b);
void qbuf_free(struct qbuf *b);
void qbuf_put_bytes(struct qbuf *b, const void *p, size_t n);
void qbuf_put_u8(struct qbuf *b, uint8_t v);
void qbuf_put_varint(struct qbuf *b, uint64_t v);
void qbuf_put_str(struct qbuf *b, const char *s, size_t n);  /* varint n + bytes */
/* Hands the bytes to the caller (malloc'd, never NULL on success) and resets
 * b. Returns -1 (and frees) if any put failed. */
int qbuf_take(struct qbuf *b, uint8_t **buf, size_t *len);

struct qreader {
    const uint8_t *p;
    size_t len;
    size_t pos;
    bool failed;    /* ran past the end or saw a malformed varint */
};

void qreader_init(struct qreader *r, const uint8_t *p, size_t len);
uint8_t qreader_u8(struct qreader *r);
/* Rejects varints that overflow 64 bits or are over-long (non-minimal). */
uint64_t qreader_varint(struct qreader *r);
/* A length-prefixed string of at most max bytes: returns a pointer into the
 * input (NOT NUL-terminated) and its length in *n; NULL on failure. */
const uint8_t *qreader_str(struct qreader *r, size_t max, size_t *n);
/* Exactly n raw bytes: a pointer into the input, or NULL (failed). */
const uint8_t *qreader_bytes(struct qreader *r, size_t n);
size_t qreader_remaining(const struct qreader *r);
/* Marks the reader failed: decoders call it when a field is semantically bad. */
void qreader_fail(struct qreader *r);
/* True when nothing failed and every byte was consumed. */
bool qreader_done(const struct qreader *r);

#endif
