/* test_meshmsg.c - the node's link messages: round trips, and the
 * refusals a hostile key holder would probe. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "meshmsg.h"

static void test_cluster_round_trip(void)
{
    struct msg_cluster m = {.cluster_id = 0x1234567890abcdefULL, .leader = 7, .term = 3,
                            .applied = 99, .member = true, .members = 5}, d;
    uint8_t *buf;
    size_t len;
    CHECK(msg_cluster_encode(&m, &buf, &len) == 0);
    CHECK(msg_cluster_decode(&d, buf, len) == 0);
    CHECK(d.cluster_id == m.cluster_id && d.leader == 7 && d.term == 3 && d.applied == 99);
    CHECK(d.member && d.members == 5);
    CHECK(msg_cluster_decode(&d, buf, len - 1) != 0);     /* short */
    buf[len - 4] = 2;                                      /* member byte not 0/1 */
    CHECK(msg_cluster_decode(&d, buf, len) != 0);
    free(buf);
}

static void test_event_round_trip_and_escapes(void)
{
    struct msg_event m = {.kind = 4, .origin_seq = 1764168000001ULL, .time_ms = 99}, d;
    snprintf(m.name, sizeof m.name, "node-b");
    snprintf(m.text, sizeof m.text, "node node-b drained");
    uint8_t *buf;
    size_t len;
    CHECK(msg_event_encode(&m, &buf, &len) == 0);
    CHECK(msg_event_decode(&d, buf, len) == 0);
    CHECK(d.kind == 4 && d.origin_seq == m.origin_seq && d.time_ms == 99);
    CHECK(strcmp(d.name, "node-b") == 0 && strcmp(d.text, m.text) == 0);
    CHECK(msg_event_decode(&d, buf, len - 1) != 0);      /* short */
    free(buf);
    /* a terminal escape in the text is refused, not shown */
    snprintf(m.text, sizeof m.text, "x\x1b[2Jy");
    CHECK(msg_event_encode(&m, &buf, &len) == 0);
    CHECK(msg_event_decode(&d, buf, len) != 0);
    free(buf);
    m.origin_seq = 0;                                      /* seq 0 is never given out */
    snprintf(m.text, sizeof m.text, "ok");
    CHECK(msg_event_encode(&m, &buf, &len) == 0);
    CHECK(msg_event_decode(&d, buf, len) != 0);
    free(buf);
}

static void test_results_round_trip_and_lies(void)
{
    struct msg_result items[2] = {{5, "3 5", 3}, {6, "2 3", 3}};
    struct msg_results m = {.lease = 1, .batch = 2, .n = 2, .items = items}, d;
    uint8_t *buf;
    size_t len;
    CHECK(msg_results_encode(&m, &buf, &len) == 0);
    CHECK(msg_results_decode(&d, buf, len) == 0);
    CHECK(d.n == 2 && d.items[1].index == 6 && d.items[1].len == 3);
    CHECK(memcmp(d.items[0].text, "3 5", 3) == 0);
    free(d.items);
    /* a count far past the bytes that follow is refused before any work */
    uint8_t lie[] = {1, 2, 0xff, 0xff, 0x03};
    CHECK(msg_results_decode(&d, lie, sizeof lie) != 0);
    /* a result text with a character results never have */
    struct msg_result bad[1] = {{1, "3\x1b[2J", 5}};
    struct msg_results mb = {.lease = 1, .batch = 2, .n = 1, .items = bad};
    free(buf);
    CHECK(msg_results_encode(&mb, &buf, &len) == 0);
    CHECK(msg_results_decode(&d, buf, len) != 0);
    free(buf);
}

static void test_reply_text_is_printable(void)
{
    struct msg_reply m = {.req = 9, .rc = MSG_REPLY_REFUSED, .index = 4, .batch = 1}, d;
    snprintf(m.err, sizeof m.err, "unknown batch 1");
    uint8_t *buf;
    size_t len;
    CHECK(msg_reply_encode(&m, &buf, &len) == 0);
    CHECK(msg_reply_decode(&d, buf, len) == 0);
    CHECK_STR_EQ(d.err, "unknown batch 1");
    CHECK(d.rc == MSG_REPLY_REFUSED);
    buf[len - 1] = 0x1b; /* an escape in the error text: refused */
    CHECK(msg_reply_decode(&d, buf, len) != 0);
    free(buf);
    m.rc = 9;
    CHECK(msg_reply_encode(&m, &buf, &len) == 0);
    CHECK(msg_reply_decode(&d, buf, len) != 0);  /* unknown rc */
    free(buf);
}

static void test_lease_and_forward(void)
{
    struct msg_lease l = {.lease = 77, .batch = 3, .lo = 10, .hi = 20, .needs = 5,
                          .crashes = 1}, dl;
    uint8_t *buf;
    size_t len;
    CHECK(msg_lease_encode(&l, &buf, &len) == 0);
    CHECK(msg_lease_decode(&dl, buf, len) == 0);
    CHECK(dl.lo == 10 && dl.hi == 20 && dl.needs == 5 && dl.crashes == 1);
    free(buf);
    l.lo = 20; /* empty range */
    CHECK(msg_lease_encode(&l, &buf, &len) == 0);
    CHECK(msg_lease_decode(&dl, buf, len) != 0);
    free(buf);
    struct qcmd c = {.type = QCMD_CANCEL, .batch_id = 12}, dc;
    uint64_t req;
    CHECK(msg_forward_encode(42, &c, &buf, &len) == 0);
    CHECK(msg_forward_decode(&req, &dc, buf, len) == 0);
    CHECK(req == 42 && dc.type == QCMD_CANCEL && dc.batch_id == 12);
    qcmd_free(&dc);
    free(buf);
}

/* PROGRESS: every field back; a phase, bits or worker out of range, a
 * count past the cap, a short or long body refused. */
static void test_progress_round_trip_and_refusals(void)
{
    static struct msg_progress m, d; /* 7 KiB each: off the stack */
    m.n = 2;
    m.hard[0] = (struct msg_hard){.batch = 3, .index = 0, .worker = 1, .phase = 1, .bits = 206,
                                  .found = 4300, .needed = 5901, .rate_milli = 566161,
                                  .eta_known = true, .eta_s = 2};
    m.hard[1] = (struct msg_hard){.batch = 1ULL << 40, .index = 99, .worker = 65535,
                                  .phase = 0, .bits = 1024, .b1 = 11000, .found = 3,
                                  .needed = 86, .eta_known = false};
    uint8_t *buf;
    size_t len;
    CHECK(msg_progress_encode(&m, &buf, &len) == 0);
    CHECK(msg_progress_decode(&d, buf, len) == 0);
    CHECK(d.n == 2 && memcmp(&d.hard[0], &m.hard[0], sizeof m.hard[0]) == 0);
    CHECK(d.hard[1].batch == 1ULL << 40 && d.hard[1].worker == 65535 && d.hard[1].b1 == 11000);
    CHECK(!d.hard[1].eta_known && d.hard[1].eta_s == 0);
    CHECK(msg_progress_decode(&d, buf, len - 1) != 0);          /* short */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, buf, len);
    longer[len] = 0;
    CHECK(msg_progress_decode(&d, longer, len + 1) != 0);       /* trailing byte */
    free(longer);
    free(buf);
    /* Each field out of range, one at a time. */
    struct msg_hard bad[] = {
        {.phase = 5, .bits = 200}, {.phase = 0, .bits = 0}, {.phase = 0, .bits = 1025},
        {.phase = 0, .bits = 200, .worker = 65536}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m.n = 1;
        m.hard[0] = bad[i];
        CHECK(msg_progress_encode(&m, &buf, &len) == 0);
        CHECK(msg_progress_decode(&d, buf, len) != 0);
        free(buf);
    }
    /* An empty list: "nothing long here any more". */
    m.n = 0;
    CHECK(msg_progress_encode(&m, &buf, &len) == 0 && len == 1);
    CHECK(msg_progress_decode(&d, buf, len) == 0 && d.n == 0);
    free(buf);
    /* More entries than the cap. */
    uint8_t many[] = {MESH_MSG_MAX_HARD + 1};
    CHECK(msg_progress_decode(&d, many, sizeof many) != 0);
}

/* A result file's request and chunk: round trips; a chunk past the file's
 * end, a "not here" with data and more than a chunk are refused. */
static void test_file_messages(void)
{
    struct msg_file_get g = {.offset = 3 * MESH_MSG_FILE_CHUNK}, g2;
    memset(g.hash, 0xab, sizeof g.hash);
    uint8_t *buf;
    size_t len;
    CHECK_INT_EQ(msg_file_get_encode(&g, &buf, &len), 0);
    CHECK_INT_EQ(msg_file_get_decode(&g2, buf, len), 0);
    CHECK(g2.offset == g.offset && memcmp(g2.hash, g.hash, sizeof g.hash) == 0);
    CHECK_INT_EQ(msg_file_get_decode(&g2, buf, len - 1), -1);
    free(buf);
    static uint8_t data[MESH_MSG_FILE_CHUNK + 1];
    struct msg_file_part p = {.offset = 10, .total = 110, .data = data, .len = 100}, p2;
    memcpy(p.hash, g.hash, sizeof p.hash);
    CHECK_INT_EQ(msg_file_part_encode(&p, &buf, &len), 0);
    CHECK_INT_EQ(msg_file_part_decode(&p2, buf, len), 0);
    CHECK(p2.offset == 10 && p2.total == 110 && p2.len == 100 && p2.data == buf + len - 100);
    free(buf);
    struct msg_file_part lies[] = {
        {.offset = 11, .total = 110, .data = data, .len = 100},
        {.offset = 0, .total = 0, .data = data, .len = 1},
        {.offset = 0, .total = 2 * MESH_MSG_FILE_CHUNK, .data = data,
         .len = MESH_MSG_FILE_CHUNK + 1},
    };
    for (size_t i = 0; i < sizeof lies / sizeof lies[0]; i++) {
        CHECK_INT_EQ(msg_file_part_encode(&lies[i], &buf, &len), 0);
        CHECK_INT_EQ(msg_file_part_decode(&p2, buf, len), -1);
        free(buf);
    }
}

int main(void)
{
    test_progress_round_trip_and_refusals();
    test_file_messages();
    test_cluster_round_trip();
    test_results_round_trip_and_lies();
    test_event_round_trip_and_escapes();
    test_reply_text_is_printable();
    test_lease_and_forward();
    return 0;
}
