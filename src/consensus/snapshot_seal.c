/* snapshot_seal.c - see snapshot_seal.h. BLAKE2b from libsodium (already
 * the node's crypto library): ~1 GB/s here, so the seal costs a fraction
 * of the encoding it protects (see doc/DESIGN.md, "Damaged or full storage"). */
#include "snapshot_seal.h"

#include <sodium.h>
#include <string.h>

#include "errbuf.h"

enum { MAGIC_BYTES = 8, DIGEST_BYTES = 32 };

static const uint8_t seal_magic[MAGIC_BYTES] = {'M', 'S', 'H', 'S', 'E', 'A', 'L', '1'};

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void digest(const uint8_t *payload, size_t len, uint8_t out[DIGEST_BYTES])
{
    crypto_generichash(out, DIGEST_BYTES, payload, len, NULL, 0);
}

void snapshot_seal(const uint8_t *payload, size_t len, uint8_t header[SNAPSHOT_SEAL_BYTES])
{
    memcpy(header, seal_magic, MAGIC_BYTES);
    put_u64(header + MAGIC_BYTES, (uint64_t)len);
    digest(payload, len, header + MAGIC_BYTES + 8);
}

enum snapshot_seal_result snapshot_seal_open(const uint8_t *buf, size_t len,
                                             const uint8_t **payload, size_t *payload_len,
                                             char *err, size_t errlen)
{
    /* Only the first bytes decide sealed or not: a seal damaged in its
     * magic reads as unsealed, and the queue's decoder then refuses it
     * (its own magic is "MQS"). */
    if (len < MAGIC_BYTES || memcmp(buf, seal_magic, MAGIC_BYTES) != 0) {
        *payload = buf;
        *payload_len = len;
        return SNAPSHOT_UNSEALED;
    }
    if (len < SNAPSHOT_SEAL_BYTES) {
        set_err(err, errlen, "snapshot truncated: %zu bytes, its seal alone is %d", len,
                SNAPSHOT_SEAL_BYTES);
        return SNAPSHOT_DAMAGED;
    }
    uint64_t want = get_u64(buf + MAGIC_BYTES);
    size_t have = len - SNAPSHOT_SEAL_BYTES;
    if (want != have) {
        set_err(err, errlen, "snapshot %s: %zu bytes of data, its seal says %llu",
                have < want ? "truncated" : "has trailing bytes", have,
                (unsigned long long)want);
        return SNAPSHOT_DAMAGED;
    }
    uint8_t sum[DIGEST_BYTES];
    digest(buf + SNAPSHOT_SEAL_BYTES, have, sum);
    if (sodium_memcmp(sum, buf + MAGIC_BYTES + 8, DIGEST_BYTES) != 0) {
        set_err(err, errlen, "snapshot checksum mismatch: %zu bytes of data do not hash to "
                "what was written (damaged on disk or in transit)", have);
        return SNAPSHOT_DAMAGED;
    }
    *payload = buf + SNAPSHOT_SEAL_BYTES;
    *payload_len = have;
    return SNAPSHOT_SEALED;
}
