/* test_qcmd_block.c - COMPLETE_BLOCK: a batch's results as one compact
 * block. Round trips, the one encoding per block, hostile bytes, and that
 * applying a block leaves a queue exactly as the same COMPLETE does. */
#include "block_make.h"
#include "qcmd_block.h"
#include "queue_codec.h"
#include "queue_helpers.h"
#include "result_item.h"

#define U(x) ((uint64_t)(x))

/* The same results as a block. */
static struct qcmd as_block(struct qcmd c)
{
    c.type = QCMD_COMPLETE_BLOCK;
    return c;
}

static size_t encoded_size(const struct qcmd *c)
{
    uint8_t *buf;
    size_t len;
    CHECK_INT_EQ(qcmd_encode(c, &buf, &len), 0);
    free(buf);
    return len;
}

/* encode -> decode gives the same results, re-encodes to the same bytes,
 * and no strict prefix nor a longer input decodes. */
static void roundtrip(const struct qcmd *c)
{
    uint8_t *a, *b;
    size_t alen, blen;
    CHECK_INT_EQ(qcmd_encode(c, &a, &alen), 0);
    struct qcmd d;
    CHECK_INT_EQ(qcmd_decode(a, alen, &d), 0);
    CHECK_INT_EQ(d.type, QCMD_COMPLETE_BLOCK);
    CHECK(d.batch_id == c->batch_id);
    CHECK_INT_EQ(d.n_results, c->n_results);
    CHECK(d.results == NULL && d.block != NULL);
    size_t pos = 0;
    uint64_t index = 0;
    char *text = malloc(QRESULT_MAX_TEXT + 1);
    for (size_t i = 0; i < c->n_results; i++) {
        const uint8_t *item;
        size_t len, size;
        CHECK_INT_EQ(qcmd_block_next(&d, &pos, &index, i == 0, &item, &len), 0);
        CHECK(index == c->results[i].index);
        result_item_render(item, len, text, &size);
        CHECK_INT_EQ(size, len);
        CHECK_STR_EQ(text, c->results[i].text);
    }
    CHECK_INT_EQ(pos, d.block_len);
    free(text);
    CHECK_INT_EQ(qcmd_encode(&d, &b, &blen), 0);
    CHECK_INT_EQ(alen, blen);
    CHECK(memcmp(a, b, alen) == 0);
    check_only_whole_decodes(a, alen);
    qcmd_free(&d);
    free(a);
    free(b);
}

static void test_roundtrip_every_form(void)
{
    struct qcmd c = as_block(make_complete(
        7, 9, U(0), "", U(1), "2 2 5 5", U(2), "18446744073709551557", U(10),
        "3 340282366920938463463374607431768211457", U(11), "2 unfactored:91", U(12),
        "5 3", U(13), "1", U(1000000), "7 7 7 18446744073709551615", U(UINT64_MAX),
        "unfactored:18446744073709551617"));
    roundtrip(&c);
    qcmd_free(&c);
    c = as_block(make_complete(UINT64_MAX, 1, U(UINT64_MAX), "3"));
    roundtrip(&c);
    qcmd_free(&c);
    /* The longest text, a factor list: 32768 twos, 65535 bytes. */
    char *twos = malloc(QRESULT_MAX_TEXT);
    for (size_t i = 0; i + 1 < QRESULT_MAX_TEXT; i += 2)
        memcpy(twos + i, i + 2 < QRESULT_MAX_TEXT ? "2 " : "2", 2);
    twos[QRESULT_MAX_TEXT - 1] = '\0';
    CHECK_INT_EQ(strlen(twos), QRESULT_MAX_TEXT - 1);
    c = as_block(make_complete(1, 2, U(0), twos, U(1), "7"));
    roundtrip(&c);
    qcmd_free(&c);
    free(twos);
}

/* A lease of trivial numbers, the common case, in under two thirds of the
 * bytes of COMPLETE: a byte of gap, one of tag, one to three per factor. */
static void test_block_is_compact(void)
{
    struct qcmd c = make_complete(3, 0);
    free(c.results);
    c.n_results = 43;
    c.results = calloc(c.n_results, sizeof *c.results);
    for (size_t i = 0; i < c.n_results; i++) {
        c.results[i].index = 500000 + i;
        char text[64];
        snprintf(text, sizeof text, "%s", i % 2 ? "2 3 83339" : "3 166669");
        c.results[i].text = strdup(text);
    }
    size_t complete = encoded_size(&c);
    c.type = QCMD_COMPLETE_BLOCK;
    size_t block = encoded_size(&c);
    CHECK(block * 3 < complete * 2);  /* 7 bytes a result against 13 */
    roundtrip(&c);
    qcmd_free(&c);
}

static void test_encode_refuses_invalid(void)
{
    uint8_t *buf = NULL;
    size_t len;
    struct qcmd c = as_block(make_complete(1, 2, U(5), "2", U(5), "3"));
    CHECK_INT_EQ(qcmd_encode(&c, &buf, &len), -1);  /* a repeated index */
    qcmd_free(&c);
    c = as_block(make_complete(1, 2, U(6), "2", U(5), "3"));
    CHECK_INT_EQ(qcmd_encode(&c, &buf, &len), -1);  /* descending */
    qcmd_free(&c);
    c = as_block(make_complete(1, 1, U(6), "2  3"));
    CHECK_INT_EQ(qcmd_encode(&c, &buf, &len), -1);  /* not the grammar */
    qcmd_free(&c);
    c = as_block(make_complete(1, 0));
    CHECK_INT_EQ(qcmd_encode(&c, &buf, &len), -1);  /* empty */
    qcmd_free(&c);
    CHECK(buf == NULL);
}

/* version 4, COMPLETE_BLOCK, time 0, batch 1, then the rest. */
static int decode_body(const uint8_t *body, size_t n)
{
    uint8_t buf[64] = {QCMD_FORMAT, QCMD_COMPLETE_BLOCK, 0, 1};
    CHECK(n + 4 <= sizeof buf);
    memcpy(buf + 4, body, n);
    struct qcmd d;
    int rc = qcmd_decode(buf, n + 4, &d);
    qcmd_free(&d);
    return rc;
}

static void test_decode_rejects_bad_bytes(void)
{
    /* n 1, index 0, two factors 2 then +1: "2 3". */
    const uint8_t ok[] = {1, 0, 2 << 1, 2, 1};
    CHECK_INT_EQ(decode_body(ok, sizeof ok), 0);
    /* Factor 200 in two bytes; 5 and 200 over-long (a 0 last byte). */
    const uint8_t two_bytes[] = {1, 0, 1 << 1, 0xc8, 0x01};
    CHECK_INT_EQ(decode_body(two_bytes, sizeof two_bytes), 0);
    const uint8_t long5[] = {1, 0, 1 << 1, 0x85, 0x00};
    CHECK_INT_EQ(decode_body(long5, sizeof long5), -1);
    const uint8_t long200[] = {1, 0, 1 << 1, 0xc8, 0x81, 0x00};
    CHECK_INT_EQ(decode_body(long200, sizeof long200), -1);
    const uint8_t none[] = {0};
    CHECK_INT_EQ(decode_body(none, sizeof none), -1);
    const uint8_t first_zero[] = {1, 0, 1 << 1, 0};
    CHECK_INT_EQ(decode_body(first_zero, sizeof first_zero), -1);
    /* The text "7", which is a factor list: only the factor form is read. */
    const uint8_t text_list[] = {1, 0, 1 << 1 | 1, '7'};
    CHECK_INT_EQ(decode_body(text_list, sizeof text_list), -1);
    const uint8_t text_empty[] = {1, 0, 0 << 1 | 1};
    CHECK_INT_EQ(decode_body(text_empty, sizeof text_empty), -1);
    const uint8_t text_bad[] = {1, 0, 3 << 1 | 1, '7', ' ', ' '};
    CHECK_INT_EQ(decode_body(text_bad, sizeof text_bad), -1);
    const uint8_t text_word[] = {1, 0, 4 << 1 | 1, 'u', 'n', 'f', 'a'};
    CHECK_INT_EQ(decode_body(text_word, sizeof text_word), -1);  /* "unfa": no number */
    /* 100 factors claimed, 2 given. */
    const uint8_t k_huge[] = {1, 0, 0xc8, 0x01, 2, 1};  /* tag 200 */
    CHECK_INT_EQ(decode_body(k_huge, sizeof k_huge), -1);
    /* 2^64 - 1 then +1: past 2^64. */
    const uint8_t sum_over[] = {1, 0, 2 << 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0xff, 0xff, 0x01, 1};
    CHECK_INT_EQ(decode_body(sum_over, sizeof sum_over), -1);
    /* Index 2^64 - 1, then a next one past it. */
    const uint8_t gap_over[] = {2, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
                                0x01, 0, 0, 0};
    CHECK_INT_EQ(decode_body(gap_over, sizeof gap_over), -1);
    /* Two items claimed, one there. */
    const uint8_t short_n[] = {2, 0, 0};
    CHECK_INT_EQ(decode_body(short_n, sizeof short_n), -1);
    /* Format 3 has no such command. */
    const uint8_t old[] = {QCMD_FORMAT_NO_TIME, QCMD_COMPLETE_BLOCK, 1, 1, 0, 0};
    struct qcmd d;
    CHECK_INT_EQ(qcmd_decode(old, sizeof old, &d), -1);
}

/* A block applied leaves the queue byte for byte as the COMPLETE of the
 * same results does (snapshots equal), duplicates and bad indexes alike. */
static void test_apply_same_as_complete(void)
{
    struct queue *qa = queue_new(), *qb = queue_new();
    char err[128];
    struct qcmd s = make_submit("1", 20, "b");
    CHECK_INT_EQ(queue_apply(qa, &s, NULL, err, sizeof err), 0);
    CHECK_INT_EQ(queue_apply(qb, &s, NULL, err, sizeof err), 0);
    qcmd_free(&s);
    struct qcmd c = make_complete(1, 4, U(0), "1", U(3), "2 2", U(5), "2 3", U(25), "5 5");
    uint8_t *buf;
    size_t len;
    struct qcmd blk = as_block(make_complete(1, 4, U(0), "1", U(3), "2 2", U(5), "2 3",
                                             U(25), "5 5"));
    CHECK_INT_EQ(qcmd_encode(&blk, &buf, &len), 0);
    qcmd_free(&blk);
    CHECK_INT_EQ(qcmd_decode(buf, len, &blk), 0);
    free(buf);
    struct queue_outcome oa, ob;
    CHECK_INT_EQ(queue_apply(qa, &c, &oa, err, sizeof err), -1);  /* index 25 >= 20 */
    CHECK_INT_EQ(queue_apply(qb, &blk, &ob, err, sizeof err), -1);
    CHECK_INT_EQ(oa.recorded, 3);
    CHECK_INT_EQ(ob.recorded, 3);
    CHECK_STR_EQ(queue_result(qb, 1, 5), "2 3");
    CHECK_INT_EQ(queue_apply(qb, &blk, &ob, err, sizeof err), -1);
    CHECK_INT_EQ(ob.recorded, 0);  /* all done already */
    CHECK_INT_EQ(queue_apply(qa, &c, &oa, err, sizeof err), -1);
    uint8_t *sa, *sb;
    size_t la, lb;
    CHECK_INT_EQ(queue_snapshot(qa, &sa, &la), 0);
    CHECK_INT_EQ(queue_snapshot(qb, &sb, &lb), 0);
    CHECK_INT_EQ(la, lb);
    CHECK(memcmp(sa, sb, la) == 0);
    struct retained_info ra, rb;
    queue_retained(qa, &ra);
    queue_retained(qb, &rb);
    CHECK(ra.bytes == rb.bytes && ra.bytes == queue_retained_bytes(qb));
    free(sa);
    free(sb);
    qcmd_free(&c);
    qcmd_free(&blk);
    queue_free(qa);
    queue_free(qb);
}

/* A snapshot may hold any text of the charset (restore checks no more):
 * each becomes an item that renders back to exactly that text, and only
 * plain ascending factor lists take the factor form. */
static void test_items_keep_every_text(void)
{
    const char *texts[][2] = {
        {"", "f"}, {"1", "f"}, {"2 2 3", "f"}, {"18446744073709551615", "f"},
        {"07", "t"}, {"2  3", "t"}, {" 5", "t"}, {"5 ", "t"}, {"0", "t"}, {"abc", "t"},
        {"5 3", "t"}, {"18446744073709551616", "t"}, {"3 unfactored:91", "t"},
    };
    uint8_t item[64];
    char text[QRESULT_MAX_TEXT + 1];
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        size_t len = strlen(texts[i][0]), size;
        size_t n = result_item_from_text(texts[i][0], len, item);
        CHECK(n <= len + RESULT_ITEM_SLACK);
        CHECK_INT_EQ(result_item_size(item, n), n);
        CHECK_INT_EQ((item[0] & 1) ? 't' : 'f', texts[i][1][0]);
        CHECK_INT_EQ(result_item_render(item, n, text, &size), len);
        CHECK_INT_EQ(size, n);
        CHECK_STR_EQ(text, texts[i][0]);
        CHECK(result_item_unfactored(item, n) == (strstr(texts[i][0], "unfactored") != NULL));
    }
}

/* The leader's block (block_make.h), its items made from the words its
 * check read or from the texts, is byte for byte the block the same
 * results encode to: an unordered list, a rest, a factor of 64 bits and
 * the empty text alike. Texts the replicas would refuse make no item, and
 * indexes out of order no block. */
static void test_leader_block_same_bytes(void)
{
    static const uint64_t w223[] = {2, 2, 3}, w53[] = {5, 3}, wmax[] = {UINT64_MAX},
                          w1[] = {1}, w7[] = {7, 7, 7, 11};
    struct {
        uint64_t index;
        const char *text;
        const uint64_t *words;
        size_t n;
    } in[] = {
        {U(0), "1", w1, 1},
        {U(1), "2 2 3", w223, 3},
        {U(2), "5 3", w53, 2},
        {U(9), "", w1, 0},
        {U(10), "18446744073709551615", wmax, 1},
        {U(11), "3 unfactored:91", NULL, 0},
        {U(300), "7 7 7 11", w7, 4},
        {U(301), "7 7 7 11", NULL, 0},
    };
    enum { N = sizeof in / sizeof in[0] };
    uint8_t items[N][64];
    struct block_entry e[N];
    for (size_t i = 0; i < N; i++) {
        size_t len = strlen(in[i].text);
        CHECK(block_item_room(len, in[i].n) <= sizeof items[i]);
        e[i] = (struct block_entry){in[i].index, items[i],
                                    block_item(in[i].text, len, in[i].words, in[i].n, items[i])};
        CHECK(e[i].len > 0);
    }
    struct qcmd made = {0};
    CHECK_INT_EQ(block_make(&made, 7, e, N), 0);
    struct qcmd want = as_block(make_complete(7, N, in[0].index, in[0].text, in[1].index,
                                              in[1].text, in[2].index, in[2].text, in[3].index,
                                              in[3].text, in[4].index, in[4].text, in[5].index,
                                              in[5].text, in[6].index, in[6].text, in[7].index,
                                              in[7].text));
    uint8_t *a, *b;
    size_t alen, blen;
    CHECK_INT_EQ(qcmd_encode(&made, &a, &alen), 0);
    CHECK_INT_EQ(qcmd_encode(&want, &b, &blen), 0);
    CHECK_INT_EQ(alen, blen);
    CHECK(memcmp(a, b, alen) == 0);
    roundtrip(&want);
    free(a);
    free(b);
    free(made.block);
    qcmd_free(&want);
    uint8_t item[64];
    CHECK_INT_EQ(block_item("2  3", 4, NULL, 0, item), 0);
    CHECK_INT_EQ(block_item("abc", 3, NULL, 0, item), 0);
    char *big = malloc(QRESULT_MAX_TEXT + 2);
    uint8_t *room = malloc(block_item_room(QRESULT_MAX_TEXT + 1, 0));
    memset(big, '7', QRESULT_MAX_TEXT + 1);
    CHECK_INT_EQ(block_item(big, QRESULT_MAX_TEXT + 1, NULL, 0, room), 0);
    free(big);
    free(room);
    struct block_entry back[2] = {e[1], e[0]};
    struct qcmd none = {0};
    CHECK_INT_EQ(block_make(&none, 7, back, 2), -1);
    CHECK(none.block == NULL);
}

int main(void)
{
    test_leader_block_same_bytes();
    test_items_keep_every_text();
    test_roundtrip_every_form();
    test_block_is_compact();
    test_encode_refuses_invalid();
    test_decode_rejects_bad_bytes();
    test_apply_same_as_complete();
    return 0;
}
