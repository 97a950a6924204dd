/* test_raft_stream.c - the watcher on raft channels (raft_stream.h): real
 * raft_uv framing passes in any chunking; a vote request in another
 * server's name, or bytes that are not raft's framing, end the channel. */
#include <stdlib.h>

#include "check.h"
#include "raft_stream.h"
#include "raft_wire.h"

enum { PEER = 0x1111222233334444ULL, OTHER = 0x5555666677778888ULL };

static size_t conversation(uint8_t *buf)
{
    uint32_t lens[3] = {16, 8, 1024};
    size_t n = wire_request_vote(buf, PEER);
    n += wire_append_entries(buf + n, lens, 3);
    n += wire_append_result(buf + n);
    n += wire_append_entries(buf + n, NULL, 0);  /* a heartbeat */
    return n;
}

static void test_whole_and_byte_by_byte(void)
{
    static uint8_t buf[8192];
    size_t n = conversation(buf);
    struct raft_stream s;
    raft_stream_init(&s, PEER);
    CHECK(raft_stream_feed(&s, buf, n));
    CHECK_INT_EQ(s.messages, 4);
    raft_stream_free(&s);
    raft_stream_init(&s, PEER);
    for (size_t i = 0; i < n; i++)
        CHECK(raft_stream_feed(&s, buf + i, 1));
    CHECK_INT_EQ(s.messages, 4);
    raft_stream_free(&s);
}

static void test_vote_in_another_name_refused(void)
{
    uint8_t buf[128];
    size_t n = wire_request_vote(buf, OTHER);
    struct raft_stream s;
    raft_stream_init(&s, PEER);
    CHECK(!raft_stream_feed(&s, buf, n));
    CHECK(s.why != NULL && strstr(s.why, "another server") != NULL);
    CHECK(!raft_stream_feed(&s, buf, 1));  /* stays refused */
    raft_stream_free(&s);
}

static void test_garbage_refused(void)
{
    uint8_t buf[32] = {0};
    wire_put64(buf, 99);            /* no such message type */
    wire_put64(buf + 8, 8);
    struct raft_stream s;
    raft_stream_init(&s, PEER);
    CHECK(!raft_stream_feed(&s, buf, sizeof buf));
    raft_stream_free(&s);
    wire_put64(buf, 1);             /* a header larger than any raft sends */
    wire_put64(buf + 8, (uint64_t)RAFT_STREAM_MAX_HEADER + 1);
    raft_stream_init(&s, PEER);
    CHECK(!raft_stream_feed(&s, buf, 16));
    raft_stream_free(&s);
}

int main(void)
{
    test_whole_and_byte_by_byte();
    test_vote_in_another_name_refused();
    test_garbage_refused();
    return 0;
}
