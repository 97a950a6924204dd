/* raft_stream.h - (consensus-internal) watches the raft_uv byte stream of
 * one channel, message by message, without buffering it.
 *
 * raft messages name their sender only by the channel they arrive on, except
 * RequestVote, which carries a candidate id that raft believes. A key holder
 * could otherwise ask for votes in another server's name, so the acceptor
 * side feeds every received chunk through raft_stream_feed() and ends the
 * channel when a vote request names anyone but the authenticated peer, or
 * when the framing is not raft_uv's (then raft would fail on it anyway).
 *
 * Wire format (raft_uv 0.x, little-endian u64s): preamble type | header
 * size; header; payload whose length the header tells (AppendEntries: the
 * sum of the entry lengths; InstallSnapshot: the snapshot data length). */
#ifndef MESH_CONSENSUS_RAFT_STREAM_H
#define MESH_CONSENSUS_RAFT_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    RAFT_STREAM_MAX_HEADER = 1 << 20,   /* 64k entries per AppendEntries */
};

struct raft_stream {
    uint64_t peer;            /* the only candidate id allowed */
    int phase;                /* preamble, header, payload */
    uint64_t type;
    uint64_t need;            /* bytes still to come in this phase */
    uint8_t preamble[16];
    uint8_t *buf;             /* the preamble or header being gathered */
    uint8_t *header;          /* malloc'd, grown to the largest header seen */
    size_t header_cap;
    size_t have;
    uint64_t messages;        /* complete messages seen */
    bool failed;
    const char *why;          /* static string once failed */
};

void raft_stream_init(struct raft_stream *s, uint64_t peer);
void raft_stream_free(struct raft_stream *s);
/* Feeds the next chunk. false (and s->why) once the stream is refused;
 * every later call returns false. */
bool raft_stream_feed(struct raft_stream *s, const uint8_t *data, size_t len);

#endif
