/* fuzz_raft_stream.c - the raft channel watcher on hostile bytes, fed in
 * chunks whose sizes the input also chooses. It must never read past what
 * it was given, and once it refuses it must stay refused. */
#include <stdint.h>
#include <stdlib.h>

#include "raft_stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct raft_stream s;
    raft_stream_init(&s, 0x1111222233334444ULL);
    size_t pos = 0;
    bool ok = true;
    while (pos < size) {
        size_t chunk = 1 + data[pos] % 64;
        pos++;
        if (chunk > size - pos)
            chunk = size - pos;
        bool now = raft_stream_feed(&s, data + pos, chunk);
        if (!ok && now)
            abort();
        ok = now;
        pos += chunk;
    }
    raft_stream_free(&s);
    return 0;
}
