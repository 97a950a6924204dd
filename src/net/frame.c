/* frame.c - see frame.h. */
#include "frame.h"

#include <sodium.h>
#include <string.h>

_Static_assert(FRAME_TAG_BYTES == crypto_aead_chacha20poly1305_ietf_ABYTES, "tag");

void frame_key_init(struct frame_key *fk, const uint8_t key[32])
{
    memcpy(fk->key, key, sizeof fk->key);
    fk->counter = 0;
}

static void make_nonce(uint64_t counter, uint8_t nonce[12])
{
    memset(nonce, 0, 4);
    for (int i = 0; i < 8; i++)
        nonce[4 + i] = (uint8_t)(counter >> (56 - 8 * i));
}

static void put_u32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

int frame_seal(struct frame_key *tx, uint8_t type, const void *payload,
               size_t len, uint8_t *out)
{
    if (len > FRAME_MAX_PAYLOAD)
        return FRAME_ERR_TOO_BIG;
    if (tx->counter == UINT64_MAX)
        return FRAME_ERR_EXHAUSTED;
    size_t body = 1 + len + FRAME_TAG_BYTES;
    put_u32(out, (uint32_t)body);
    uint8_t *plain = out + FRAME_HEADER_BYTES;
    plain[0] = type;
    if (len > 0)
        memmove(plain + 1, payload, len);
    uint8_t nonce[12];
    make_nonce(tx->counter, nonce);
    crypto_aead_chacha20poly1305_ietf_encrypt(plain, NULL, plain, 1 + len,
                                              out, FRAME_HEADER_BYTES, NULL,
                                              nonce, tx->key);
    tx->counter++;
    return FRAME_OK;
}

int frame_next(struct frame_key *rx, uint8_t *buf, size_t len, size_t *consumed,
               uint8_t *type, const uint8_t **payload, size_t *payload_len)
{
    if (len < FRAME_HEADER_BYTES) {
        *consumed = FRAME_HEADER_BYTES;
        return FRAME_NEED_MORE;
    }
    uint32_t body = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 |
                    (uint32_t)buf[2] << 8 | buf[3];
    if (body > FRAME_MAX_BODY)
        return FRAME_ERR_OVERSIZE;
    if (body < FRAME_MIN_BODY)
        return FRAME_ERR_UNDERSIZE;
    size_t total = FRAME_HEADER_BYTES + (size_t)body;
    if (len < total) {
        *consumed = total;
        return FRAME_NEED_MORE;
    }
    if (rx->counter == UINT64_MAX)
        return FRAME_ERR_EXHAUSTED;
    uint8_t nonce[12];
    make_nonce(rx->counter, nonce);
    uint8_t *cipher = buf + FRAME_HEADER_BYTES;
    unsigned long long plain_len = 0;
    if (crypto_aead_chacha20poly1305_ietf_decrypt(cipher, &plain_len, NULL, cipher,
                                                  body, buf, FRAME_HEADER_BYTES,
                                                  nonce, rx->key) != 0)
        return FRAME_ERR_AUTH;
    rx->counter++;
    *type = cipher[0];
    *payload = cipher + 1;
    *payload_len = (size_t)plain_len - 1;
    *consumed = total;
    return FRAME_OK;
}

const char *frame_strerror(int status)
{
    switch (status) {
    case FRAME_OK: return "ok";
    case FRAME_NEED_MORE: return "incomplete frame";
    case FRAME_ERR_OVERSIZE: return "oversize frame";
    case FRAME_ERR_UNDERSIZE: return "undersize frame";
    case FRAME_ERR_AUTH: return "frame failed authentication (tampered, replayed or reordered)";
    case FRAME_ERR_EXHAUSTED: return "frame counter exhausted";
    case FRAME_ERR_TOO_BIG: return "payload too big";
    default: return "unknown frame error";
    }
}
