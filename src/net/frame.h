/* frame.h - encrypted, length-prefixed frames (pure: no I/O).
 *
 * Wire: len (u32 big-endian, bytes that follow) | ciphertext of
 * (type u8 | payload) | 16-byte Poly1305 tag.
 * AEAD is ChaCha20-Poly1305-IETF, one key per direction, nonce = 4 zero
 * bytes | u64 big-endian frame counter, the length prefix as additional
 * data. The receiver only ever tries its next counter, so a replayed,
 * reordered, dropped or tampered frame fails authentication, and the link
 * is closed. */
#ifndef MESH_NET_FRAME_H
#define MESH_NET_FRAME_H

#include <stddef.h>
#include <stdint.h>

enum {
    FRAME_HEADER_BYTES = 4,
    FRAME_TAG_BYTES = 16,
    FRAME_MAX_PAYLOAD = 1 << 20,  /* 1 MiB of application bytes */
    FRAME_MIN_BODY = 1 + FRAME_TAG_BYTES,
    FRAME_MAX_BODY = 1 + FRAME_MAX_PAYLOAD + FRAME_TAG_BYTES,
    FRAME_MAX_WIRE = FRAME_HEADER_BYTES + FRAME_MAX_BODY,
};

enum frame_status {
    FRAME_OK = 0,
    FRAME_NEED_MORE = 1,        /* not an error: wait for more bytes */
    FRAME_ERR_OVERSIZE = -1,    /* length prefix above the maximum */
    FRAME_ERR_UNDERSIZE = -2,   /* length prefix too short to hold a tag */
    FRAME_ERR_AUTH = -3,        /* tampered, replayed, reordered or wrong key */
    FRAME_ERR_EXHAUSTED = -4,   /* counter would wrap: rekey by reconnecting */
    FRAME_ERR_TOO_BIG = -5,     /* sender: payload above FRAME_MAX_PAYLOAD */
};

/* One direction of a session. */
struct frame_key {
    uint8_t key[32];
    uint64_t counter;           /* next frame number */
};

void frame_key_init(struct frame_key *fk, const uint8_t key[32]);

static inline size_t frame_wire_size(size_t payload_len)
{
    return FRAME_HEADER_BYTES + 1 + payload_len + FRAME_TAG_BYTES;
}

/* Writes frame_wire_size(len) bytes to out. */
int frame_seal(struct frame_key *tx, uint8_t type, const void *payload,
               size_t len, uint8_t *out);

/* Takes the next frame off the front of buf[0..len): decrypts it in place
 * and points *payload into buf. On FRAME_OK *consumed is the frame's wire
 * size; on FRAME_NEED_MORE *consumed is the total bytes the frame needs
 * (header only known: FRAME_HEADER_BYTES), so the caller can size buffers. */
int frame_next(struct frame_key *rx, uint8_t *buf, size_t len, size_t *consumed,
               uint8_t *type, const uint8_t **payload, size_t *payload_len);

const char *frame_strerror(int status);

#endif
