/* test_qcmd.c - queue command encoding: round trips and rejections. */
#include "queue_codec.h"
#include "queue_helpers.h"

#define U(x) ((uint64_t)(x))

/* encode -> decode -> encode gives the same bytes, and every strict prefix
 * and every appended byte is rejected. */
static void roundtrip(const struct qcmd *c)
{
    uint8_t *a, *b;
    size_t alen, blen;
    CHECK_INT_EQ(qcmd_encode(c, &a, &alen), 0);
    struct qcmd d;
    CHECK_INT_EQ(qcmd_decode(a, alen, &d), 0);
    CHECK_INT_EQ(d.type, c->type);
    CHECK_INT_EQ(qcmd_encode(&d, &b, &blen), 0);
    CHECK_INT_EQ(alen, blen);
    CHECK(memcmp(a, b, alen) == 0);
    check_only_whole_decodes(a, alen);
    qcmd_free(&d);
    free(a);
    free(b);
}

static void test_submit_roundtrip(void)
{
    struct qcmd c = make_submit("999999999999", 999, "odd numbers");
    c.spec.step = 2;
    c.spec.chunk = 43;
    roundtrip(&c);
    uint8_t *buf;
    size_t len;
    CHECK_INT_EQ(qcmd_encode(&c, &buf, &len), 0);
    struct qcmd d;
    CHECK_INT_EQ(qcmd_decode(buf, len, &d), 0);
    CHECK_STR_EQ(d.name, "odd numbers");
    CHECK_STR_EQ(d.spec.start, "999999999999");
    CHECK_INT_EQ(d.spec.step, 2);
    CHECK_INT_EQ(d.spec.chunk, 43);
    CHECK_INT_EQ(d.spec.count, 999);
    qcmd_free(&d);
    free(buf);
    qcmd_free(&c);

    memset(&c, 0, sizeof c);
    c.type = QCMD_SUBMIT;
    char err[128];
    CHECK_INT_EQ(batch_semiprimes_init(&c.spec, 1024, 10000000, 0xdeadbeef, err, 128), 0);
    roundtrip(&c);
    qcmd_free(&c);
    c.type = QCMD_SUBMIT;
    const char *text = "2\n3\n\n# x\n340282366920938463463374607431768211457\n";
    CHECK_INT_EQ(batch_list_parse(&c.spec, text, strlen(text), err, sizeof err), 0);
    snprintf(c.name, sizeof c.name, "%s", "list \xc3\xa9");  /* UTF-8 label */
    roundtrip(&c);
    qcmd_free(&c);
}

static void test_complete_and_cancel_roundtrip(void)
{
    struct qcmd c = make_complete(7, 3, U(0), "", U(UINT64_MAX), "2 2 unfactored:91",
                                  U(300), "3 5 7");
    roundtrip(&c);
    uint8_t *buf;
    size_t len;
    CHECK_INT_EQ(qcmd_encode(&c, &buf, &len), 0);
    struct qcmd d;
    CHECK_INT_EQ(qcmd_decode(buf, len, &d), 0);
    CHECK_INT_EQ(d.batch_id, 7);
    CHECK_INT_EQ(d.n_results, 3);
    CHECK_INT_EQ(d.results[1].index, UINT64_MAX);
    CHECK_STR_EQ(d.results[1].text, "2 2 unfactored:91");
    CHECK_STR_EQ(d.results[0].text, "");
    qcmd_free(&d);
    free(buf);
    qcmd_free(&c);
    c = make_complete(1, 0);
    roundtrip(&c);
    qcmd_free(&c);
    c = make_cancel(UINT64_MAX);
    roundtrip(&c);
    qcmd_free(&c);
}

static void test_encode_refuses_invalid(void)
{
    uint8_t *buf = NULL;
    size_t len;
    struct qcmd c = make_complete(1, 1, U(0), "2;rm -rf");
    CHECK_INT_EQ(qcmd_encode(&c, &buf, &len), -1);
    qcmd_free(&c);
    c = make_submit("5", 1, "x");
    c.spec.step = 0;
    CHECK_INT_EQ(qcmd_encode(&c, &buf, &len), -1);
    c.spec.step = 1;
    c.name[0] = 0x1b;  /* terminal escape */
    CHECK_INT_EQ(qcmd_encode(&c, &buf, &len), -1);
    qcmd_free(&c);
    c = make_cancel(1);
    c.type = (enum qcmd_type)0;
    CHECK_INT_EQ(qcmd_encode(&c, &buf, &len), -1);
    CHECK(buf == NULL);
}

static void test_decode_rejects_bad_bytes(void)
{
    struct qcmd d;
    /* version 2, CANCEL, batch 5 */
    const uint8_t ok[] = {2, 3, 5};
    CHECK_INT_EQ(qcmd_decode(ok, sizeof ok, &d), 0);
    CHECK_INT_EQ(d.batch_id, 5);
    qcmd_free(&d);
    const uint8_t bad_version[] = {1, 3, 5};
    CHECK_INT_EQ(qcmd_decode(bad_version, sizeof bad_version, &d), -1);
    const uint8_t bad_type[] = {2, 9, 5};
    CHECK_INT_EQ(qcmd_decode(bad_type, sizeof bad_type, &d), -1);
    const uint8_t overlong[] = {2, 3, 0x85, 0x00};  /* 5 in two bytes */
    CHECK_INT_EQ(qcmd_decode(overlong, sizeof overlong, &d), -1);
    const uint8_t overflow[] = {2, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    CHECK_INT_EQ(qcmd_decode(overflow, sizeof overflow, &d), -1);
    const uint8_t max[] = {2, 3, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    CHECK_INT_EQ(qcmd_decode(max, sizeof max, &d), 0);
    CHECK(d.batch_id == UINT64_MAX);
    qcmd_free(&d);
    /* COMPLETE claiming a huge count with no bytes behind it. */
    const uint8_t huge[] = {2, 2, 1, 0xff, 0xff, 0xff, 0xff, 0x0f};
    CHECK_INT_EQ(qcmd_decode(huge, sizeof huge, &d), -1);
    /* COMPLETE with an upper-case result text. */
    const uint8_t upper[] = {2, 2, 1, 1, 0, 1, 'A'};
    CHECK_INT_EQ(qcmd_decode(upper, sizeof upper, &d), -1);
    const uint8_t lower[] = {2, 2, 1, 1, 0, 1, 'a'};
    CHECK_INT_EQ(qcmd_decode(lower, sizeof lower, &d), 0);
    qcmd_free(&d);
    /* SUBMIT range with a non-normalised start "07". */
    const uint8_t start07[] = {2, 1, 0, 0, 0, 0, BATCH_RANGE, 1, 0, 2, '0', '7', 1};
    CHECK_INT_EQ(qcmd_decode(start07, sizeof start07, &d), -1);
    const uint8_t start7[] = {2, 1, 0, 0, 0, 0, BATCH_RANGE, 1, 0, 1, '7', 1};
    CHECK_INT_EQ(qcmd_decode(start7, sizeof start7, &d), 0);
    qcmd_free(&d);
    /* SUBMIT list whose count disagrees with its numbers. */
    const uint8_t list_bad[] = {2, 1, 0, 0, 0, 0, BATCH_LIST, 2, 0, 2, '7', 0};
    CHECK_INT_EQ(qcmd_decode(list_bad, sizeof list_bad, &d), -1);
    const uint8_t list_ok[] = {2, 1, 0, 0, 0, 0, BATCH_LIST, 1, 0, 2, '7', 0};
    CHECK_INT_EQ(qcmd_decode(list_ok, sizeof list_ok, &d), 0);
    qcmd_free(&d);
    /* SUBMIT semiprimes with 8 bits. */
    const uint8_t semi_bad[] = {2, 1, 0, 0, 0, 0, BATCH_SEMIPRIMES, 1, 0, 8, 0};
    CHECK_INT_EQ(qcmd_decode(semi_bad, sizeof semi_bad, &d), -1);
}

/* Entries a previous release wrote (format 2: no write token, no part
 * offset) still decode: a SUBMIT without a token, a part that appends. */
static void test_format_2_still_read(void)
{
    const uint8_t part[] = {2, QCMD_LIST_PART, 9, 2, '7', 0};
    struct qcmd c;
    CHECK_INT_EQ(qcmd_decode(part, sizeof part, &c), 0);
    CHECK_INT_EQ(c.upload_id, 9);
    CHECK(c.part_offset == QCMD_PART_APPEND);
    CHECK_INT_EQ(c.part_len, 2);
    qcmd_free(&c);
    /* name "", batch id 0, import 0, upload 0, RANGE count 1 chunk 0 "7" step 1 */
    const uint8_t submit[] = {2, QCMD_SUBMIT, 0, 0, 0, 0, BATCH_RANGE, 1, 0, 1, '7', 1};
    CHECK_INT_EQ(qcmd_decode(submit, sizeof submit, &c), 0);
    CHECK_INT_EQ(c.token, 0);
    CHECK_INT_EQ(c.spec.count, 1);
    qcmd_free(&c);
    const uint8_t future[] = {QCMD_FORMAT + 1, QCMD_CANCEL, 0, 1};
    CHECK_INT_EQ(qcmd_decode(future, sizeof future, &c), -1);
}

/* The batch's budget travels with its SUBMIT, inline spec or uploaded
 * list alike; each of its three kinds comes back as it went. */
static void test_budget_roundtrip(void)
{
    const uint64_t budgets[] = {BATCH_BUDGET_DEFAULT, BATCH_BUDGET_NONE, 1, 300,
                                BATCH_MAX_BUDGET_MS};
    for (size_t i = 0; i < sizeof budgets / sizeof budgets[0]; i++) {
        struct qcmd c = make_submit("7", 3, "timed");
        c.spec.budget_ms = budgets[i];
        roundtrip(&c);
        uint8_t *buf;
        size_t len;
        CHECK_INT_EQ(qcmd_encode(&c, &buf, &len), 0);
        struct qcmd d;
        CHECK_INT_EQ(qcmd_decode(buf, len, &d), 0);
        CHECK(d.spec.budget_ms == budgets[i]);
        qcmd_free(&d);
        free(buf);
        qcmd_free(&c);
        /* The SUBMIT that ends an upload announces only the list's shape. */
        c = (struct qcmd){.type = QCMD_SUBMIT, .upload_id = 9,
                          .spec = {.kind = BATCH_LIST, .count = 2, .list_len = 4,
                                   .budget_ms = budgets[i]}};
        roundtrip(&c);
        CHECK_INT_EQ(qcmd_encode(&c, &buf, &len), 0);
        CHECK_INT_EQ(qcmd_decode(buf, len, &d), 0);
        CHECK(d.spec.budget_ms == budgets[i]);
        qcmd_free(&d);
        free(buf);
    }
    /* Past the limit: refused by the encoder, and by the decoder. */
    struct qcmd c = make_submit("7", 3, "too long");
    c.spec.budget_ms = BATCH_MAX_BUDGET_MS;
    uint8_t *buf;
    size_t len;
    CHECK_INT_EQ(qcmd_encode(&c, &buf, &len), 0);
    c.spec.budget_ms = BATCH_MAX_BUDGET_MS + 1;
    uint8_t *none;
    size_t none_len;
    CHECK_INT_EQ(qcmd_encode(&c, &none, &none_len), -1);
    /* The budget is the last varint: add one to it (limit + 1, stored + 1). */
    struct qreader r;
    qreader_init(&r, buf + len - 5, 5);
    CHECK(qreader_varint(&r) == BATCH_MAX_BUDGET_MS + 1 && qreader_done(&r));
    struct qbuf over;
    qbuf_init(&over);
    qbuf_put_bytes(&over, buf, len - 5);
    qbuf_put_varint(&over, BATCH_MAX_BUDGET_MS + 2);
    struct qcmd d;
    CHECK_INT_EQ(qcmd_decode(over.data, over.len, &d), -1);
    qbuf_free(&over);
    free(buf);
    qcmd_free(&c);
}

/* A SUBMIT of format 4 (the release before budgets) has no budget: it
 * decodes as the node's default, whatever else it says. */
static void test_format_4_submit_has_the_default_budget(void)
{
    struct qcmd c = make_submit("7", 3, "old");
    c.spec.budget_ms = 300;
    c.time_ms = 1234;
    uint8_t *buf;
    size_t len;
    CHECK_INT_EQ(qcmd_encode(&c, &buf, &len), 0);
    CHECK_INT_EQ(buf[0], QCMD_FORMAT);
    CHECK_INT_EQ(buf[len - 2], (301 & 0x7f) | 0x80); /* 301: two varint bytes */
    buf[0] = QCMD_FORMAT_NO_BUDGET;
    struct qcmd d;
    CHECK_INT_EQ(qcmd_decode(buf, len, &d), -1);   /* format 4 ends before them */
    CHECK_INT_EQ(qcmd_decode(buf, len - 2, &d), 0);
    CHECK(d.spec.budget_ms == BATCH_BUDGET_DEFAULT);
    CHECK_INT_EQ(d.time_ms, 1234);
    CHECK_STR_EQ(d.name, "old");
    CHECK_INT_EQ(d.spec.count, 3);
    qcmd_free(&d);
    free(buf);
    qcmd_free(&c);
}

int main(void)
{
    test_format_2_still_read();
    test_submit_roundtrip();
    test_budget_roundtrip();
    test_format_4_submit_has_the_default_budget();
    test_complete_and_cancel_roundtrip();
    test_encode_refuses_invalid();
    test_decode_rejects_bad_bytes();
    return 0;
}
