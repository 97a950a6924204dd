/* raft_wire.h - raft_uv 0.x messages encoded by hand, byte for byte as
 * raft's uv_encoding.c writes them, for the stream watcher's tests. */
#ifndef MESH_TEST_RAFT_WIRE_H
#define MESH_TEST_RAFT_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline size_t wire_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
    return 8;
}

/* RequestVote (type 3) naming `candidate`. */
static inline size_t wire_request_vote(uint8_t *out, uint64_t candidate)
{
    size_t n = wire_put64(out, 3);
    n += wire_put64(out + n, 5 * 8);
    n += wire_put64(out + n, 2);           /* term */
    n += wire_put64(out + n, candidate);
    n += wire_put64(out + n, 10);          /* last log index */
    n += wire_put64(out + n, 1);           /* last log term */
    n += wire_put64(out + n, 2);           /* flags: pre-vote */
    return n;
}

/* AppendEntries (type 1) with entries of the given lengths, then their
 * payload bytes (filled with 0xab). */
static inline size_t wire_append_entries(uint8_t *out, const uint32_t *lens, size_t count)
{
    size_t header = 6 * 8 + 16 * count, n = 0, payload = 0;
    n += wire_put64(out + n, 1);
    n += wire_put64(out + n, header);
    n += wire_put64(out + n, 2);           /* term */
    n += wire_put64(out + n, 9);           /* prev index */
    n += wire_put64(out + n, 1);           /* prev term */
    n += wire_put64(out + n, 9);           /* commit */
    n += wire_put64(out + n, count);
    for (size_t i = 0; i < count; i++) {
        n += wire_put64(out + n, 2);       /* entry term */
        out[n] = 1;                        /* RAFT_COMMAND */
        memset(out + n + 1, 0, 3);
        out[n + 4] = (uint8_t)lens[i];
        out[n + 5] = (uint8_t)(lens[i] >> 8);
        out[n + 6] = (uint8_t)(lens[i] >> 16);
        out[n + 7] = (uint8_t)(lens[i] >> 24);
        n += 8;
        payload += lens[i];
    }
    n += wire_put64(out + n, 0);           /* the unused trailing word */
    memset(out + n, 0xab, payload);
    return n + payload;
}

/* AppendEntriesResult (type 2). */
static inline size_t wire_append_result(uint8_t *out)
{
    size_t n = wire_put64(out, 2);
    n += wire_put64(out + n, 3 * 8);
    n += wire_put64(out + n, 2);
    n += wire_put64(out + n, 0);
    return n + wire_put64(out + n, 12);
}

#endif
