/* fuzz_frame.c - the frame decoder and the link-layer message decoders on
 * arbitrary bytes; plus a seal/open round trip of the input as payload. */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "netmsg.h"

static const uint8_t KEY[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

static void decode_stream(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size + 1);
    if (buf == NULL)
        return;
    memcpy(buf, data, size);
    struct frame_key rx;
    frame_key_init(&rx, KEY);
    size_t off = 0;
    for (;;) {
        size_t used = 0, plen = 0;
        uint8_t type = 0;
        const uint8_t *payload = NULL;
        int rc = frame_next(&rx, buf + off, size - off, &used, &type, &payload, &plen);
        if (rc != FRAME_OK) {
            if (rc == FRAME_NEED_MORE && used <= size - off)
                abort();  /* claims to need what it already has */
            break;
        }
        if (used > size - off || plen + FRAME_TAG_BYTES + 5 != used)
            abort();
        off += used;
    }
    free(buf);
}

static void round_trip(const uint8_t *data, size_t size)
{
    if (size > 4096)
        size = 4096;
    uint8_t wire[4096 + 64];
    struct frame_key tx, rx;
    frame_key_init(&tx, KEY);
    frame_key_init(&rx, KEY);
    uint8_t type_in = size > 0 ? data[0] : 0;
    if (frame_seal(&tx, type_in, data, size, wire) != FRAME_OK)
        abort();
    size_t used = 0, plen = 0;
    uint8_t type = 0;
    const uint8_t *payload = NULL;
    if (frame_next(&rx, wire, frame_wire_size(size), &used, &type, &payload, &plen) != FRAME_OK ||
        type != type_in || plen != size || (size > 0 && memcmp(payload, data, size) != 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (sodium_init() < 0)
        abort();
    decode_stream(data, size);
    round_trip(data, size);
    struct net_hello h;
    if (net_hello_decode(&h, data, size) == 0 && strlen(h.name) > NET_NAME_MAX)
        abort();
    struct net_stats s;
    net_stats_decode(&s, data, size);
    return 0;
}
