/* raft_stream.c - see raft_stream.h. A small push parser: bytes arrive in
 * arbitrary chunks, so each phase gathers exactly `need` bytes (preamble and
 * header into buf; the payload is only counted, never stored). */
#include "raft_stream.h"

#include <stdlib.h>
#include <string.h>

enum phase { PH_PREAMBLE, PH_HEADER, PH_PAYLOAD };
enum {
    PREAMBLE_BYTES = 16,
    /* raft_uv's message types (enum raft_io_type). */
    T_APPEND_ENTRIES = 1, T_APPEND_ENTRIES_RESULT, T_REQUEST_VOTE,
    T_REQUEST_VOTE_RESULT, T_INSTALL_SNAPSHOT, T_TIMEOUT_NOW,
    AE_FIXED = 5 * 8,         /* term, prev index, prev term, commit, n */
    IS_FIXED = 5 * 8,         /* term, last index, last term, conf index, conf len */
};

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static bool fail(struct raft_stream *s, const char *why)
{
    s->failed = true;
    s->why = why;
    return false;
}

void raft_stream_init(struct raft_stream *s, uint64_t peer)
{
    memset(s, 0, sizeof *s);
    s->peer = peer;
    s->buf = s->preamble;
    s->phase = PH_PREAMBLE;
    s->need = PREAMBLE_BYTES;
    s->have = 0;
}

void raft_stream_free(struct raft_stream *s)
{
    free(s->header);
    s->header = NULL;
    s->header_cap = 0;
}

static void next_message(struct raft_stream *s)
{
    s->messages++;
    s->buf = s->preamble;
    s->phase = PH_PREAMBLE;
    s->need = PREAMBLE_BYTES;
    s->have = 0;
}

static bool append_entries_payload(struct raft_stream *s, uint64_t *payload)
{
    if (s->have < AE_FIXED)
        return fail(s, "short AppendEntries header");
    uint64_t n = get64(s->buf + 32);
    if (n > (s->have - AE_FIXED) / 16)
        return fail(s, "AppendEntries entry count past its header");
    *payload = 0;
    for (uint64_t i = 0; i < n; i++)
        *payload += get32(s->buf + AE_FIXED + 16 * i + 12);
    return true;
}

static bool install_snapshot_payload(struct raft_stream *s, uint64_t *payload)
{
    if (s->have < IS_FIXED + 8)
        return fail(s, "short InstallSnapshot header");
    uint64_t conf_len = get64(s->buf + 32);
    if (conf_len > s->have - IS_FIXED - 8)
        return fail(s, "InstallSnapshot configuration past its header");
    *payload = get64(s->buf + IS_FIXED + conf_len);
    return true;
}

/* The header is complete: check it and size the payload. */
static bool header_done(struct raft_stream *s)
{
    uint64_t payload = 0;
    switch (s->type) {
    case T_REQUEST_VOTE:
        if (s->have < 16)
            return fail(s, "short RequestVote");
        if (get64(s->buf + 8) != s->peer)
            return fail(s, "vote request names another server than the linked peer");
        break;
    case T_APPEND_ENTRIES:
        if (!append_entries_payload(s, &payload))
            return false;
        break;
    case T_INSTALL_SNAPSHOT:
        if (!install_snapshot_payload(s, &payload))
            return false;
        break;
    case T_APPEND_ENTRIES_RESULT:
    case T_REQUEST_VOTE_RESULT:
    case T_TIMEOUT_NOW:
        break;
    default:
        return fail(s, "unknown raft message type");
    }
    if (payload == 0) {
        next_message(s);
    } else {
        s->phase = PH_PAYLOAD;
        s->need = payload;
    }
    return true;
}

static bool preamble_done(struct raft_stream *s)
{
    s->type = get64(s->buf);
    uint64_t size = get64(s->buf + 8);
    if (size > RAFT_STREAM_MAX_HEADER)
        return fail(s, "raft message header too large");
    if (size > s->header_cap) {
        uint8_t *p = realloc(s->header, size);
        if (p == NULL)
            return fail(s, "out of memory");
        s->header = p;
        s->header_cap = size;
    }
    s->buf = s->header;
    s->phase = PH_HEADER;
    s->need = size;
    s->have = 0;
    return size > 0 ? true : header_done(s);
}

bool raft_stream_feed(struct raft_stream *s, const uint8_t *data, size_t len)
{
    while (len > 0 && !s->failed) {
        size_t take = len < s->need ? len : (size_t)s->need;
        if (s->phase != PH_PAYLOAD)
            memcpy(s->buf + s->have, data, take);
        s->have += take;
        s->need -= take;
        data += take;
        len -= take;
        if (s->need > 0)
            break;
        if (s->phase == PH_PREAMBLE)
            preamble_done(s);
        else if (s->phase == PH_HEADER)
            header_done(s);
        else
            next_message(s);
    }
    return !s->failed;
}
