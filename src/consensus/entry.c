/* entry.c - see entry.h. The envelope exists for two reasons: raft_uv wants
 * 8-byte multiples, and a magic + version lets a future format coexist with
 * old log entries. Everything after the header is a queue command. */
#include "entry.h"

#include <raft.h>
#include <stdlib.h>
#include <string.h>

enum { ENTRY_VERSION = 1 };
static const uint8_t entry_magic[2] = {'M', 'E'};

static size_t padded(size_t n)
{
    return (n + 7) & ~(size_t)7;
}

static void put_le16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put_le32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

int entry_encode(const struct qcmd *c, void **buf, size_t *len)
{
    uint8_t *payload;
    size_t n;
    if (qcmd_encode(c, &payload, &n) != 0)
        return -1;
    size_t total = padded(ENTRY_HEADER_BYTES + n);
    if (n > ENTRY_MAX_BYTES || total > ENTRY_MAX_BYTES) {
        free(payload);
        return -2;
    }
    /* raft frees entry buffers with raft_free: they must come from raft_malloc. */
    uint8_t *out = raft_malloc(total);
    if (out == NULL) {
        free(payload);
        return -1;
    }
    memcpy(out, entry_magic, sizeof entry_magic);
    put_le16(out + 2, ENTRY_VERSION);
    put_le32(out + 4, (uint32_t)n);
    memcpy(out + ENTRY_HEADER_BYTES, payload, n);
    memset(out + ENTRY_HEADER_BYTES + n, 0, total - ENTRY_HEADER_BYTES - n);
    free(payload);
    *buf = out;
    *len = total;
    return 0;
}

/* The header and padding say exactly where the command is: anything the
 * encoder could not have written is refused. */
static int envelope_payload(const uint8_t *p, size_t len, size_t *n)
{
    if (len < ENTRY_HEADER_BYTES || len > ENTRY_MAX_BYTES || len % 8 != 0 ||
        memcmp(p, entry_magic, sizeof entry_magic) != 0 ||
        p[2] != ENTRY_VERSION || p[3] != 0)
        return -1;
    size_t payload = get_le32(p + 4);
    if (payload > len - ENTRY_HEADER_BYTES || padded(ENTRY_HEADER_BYTES + payload) != len)
        return -1;
    for (size_t i = ENTRY_HEADER_BYTES + payload; i < len; i++)
        if (p[i] != 0)
            return -1;
    *n = payload;
    return 0;
}

int entry_decode(const void *buf, size_t len, struct qcmd *c)
{
    const uint8_t *p = buf;
    size_t n;
    memset(c, 0, sizeof *c);
    if (buf == NULL || envelope_payload(p, len, &n) != 0)
        return -1;
    return qcmd_decode(p + ENTRY_HEADER_BYTES, n, c);
}
