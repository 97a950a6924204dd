/* test_batch.c - batch specs: ranges, semiprimes, lists, copy, encoding. */
#include <gmp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "check.h"
#include "queue_codec.h"

/* batch_number(semiprimes bits=128 seed=7, index 0), recorded once. */
#define GOLDEN_SEMIPRIME_128_SEED7_INDEX0 "302161176478904889851474068465498819037"

static void mpz_set_u64_test(mpz_t z, uint64_t v)
{
    mpz_import(z, 1, 1, sizeof v, 0, 0, &v);
}

static void test_range_small(void)
{
    struct batch_spec s;
    char err[128], buf[MESH_MAX_DIGITS + 2];
    /* The reference workload: 999 odd numbers from 999999999999, in
     * chunks of 43 (the one definition every entry point uses). */
    CHECK_INT_EQ(batch_classic_init(&s, err, sizeof err), 0);
    CHECK_INT_EQ(s.kind, BATCH_RANGE);
    CHECK_INT_EQ(s.count, 999);
    CHECK_INT_EQ(s.step, 2);
    CHECK_INT_EQ(s.chunk, 43);
    CHECK_INT_EQ(batch_number(&s, 0, buf, sizeof buf), 0);
    CHECK_STR_EQ(buf, "999999999999");
    CHECK_INT_EQ(batch_number(&s, 998, buf, sizeof buf), 0);
    CHECK_STR_EQ(buf, "1000000001995");
    CHECK_INT_EQ(batch_number(&s, 999, buf, sizeof buf), -1);
    batch_spec_free(&s);
}

static void test_range_crosses_2_64(void)
{
    struct batch_spec s;
    char err[128], buf[MESH_MAX_DIGITS + 2];
    CHECK_INT_EQ(batch_range_init(&s, "+018446744073709551614", 1, 4, err, sizeof err), 0);
    CHECK_STR_EQ(s.start, "18446744073709551614");
    const char *want[] = {"18446744073709551614", "18446744073709551615",
                          "18446744073709551616", "18446744073709551617"};
    for (uint64_t i = 0; i < 4; i++) {
        CHECK_INT_EQ(batch_number(&s, i, buf, sizeof buf), 0);
        CHECK_STR_EQ(buf, want[i]);
    }
    batch_spec_free(&s);
}

static void test_range_huge_step_and_index(void)
{
    struct batch_spec s;
    char err[128], buf[MESH_MAX_DIGITS + 2];
    CHECK_INT_EQ(batch_range_init(&s, "1", UINT64_MAX, BATCH_MAX_COUNT, err, sizeof err), 0);
    CHECK_INT_EQ(batch_number(&s, BATCH_MAX_COUNT - 1, buf, sizeof buf), 0);
    /* 1 + 9999999 * (2^64 - 1) */
    CHECK_STR_EQ(buf, "184467422290351442440448386");
    batch_spec_free(&s);
}

static void test_range_limits(void)
{
    struct batch_spec s;
    char err[128], buf[MESH_MAX_DIGITS + 2];
    mpz_t top;
    mpz_init(top);
    mpz_ui_pow_ui(top, 2, 1024);
    mpz_sub_ui(top, top, 3);
    char start[MESH_MAX_DIGITS + 2];
    mpz_get_str(start, 10, top);
    /* 2^1024-3, -2, -1: fits exactly. */
    CHECK_INT_EQ(batch_range_init(&s, start, 1, 3, err, sizeof err), 0);
    CHECK_INT_EQ(batch_number(&s, 2, buf, sizeof buf), 0);
    CHECK_INT_EQ(strlen(buf), MESH_MAX_DIGITS);
    /* A buffer one byte too short for the worst-case size estimate fails. */
    CHECK_INT_EQ(batch_number(&s, 2, buf, MESH_MAX_DIGITS), -1);
    batch_spec_free(&s);
    CHECK_INT_EQ(batch_range_init(&s, start, 1, 4, err, sizeof err), -1);
    CHECK_STR_EQ(err, "range end exceeds 1024 bits");
    CHECK_INT_EQ(batch_range_init(&s, "5", 0, 4, err, sizeof err), -1);
    CHECK_STR_EQ(err, "range step must be at least 1");
    CHECK_INT_EQ(batch_range_init(&s, "5", 1, 0, err, sizeof err), -1);
    CHECK_INT_EQ(batch_range_init(&s, "5", 1, BATCH_MAX_COUNT + 1, err, sizeof err), -1);
    CHECK_INT_EQ(batch_range_init(&s, "x5", 1, 1, err, sizeof err), -1);
    CHECK_STR_EQ(err, "range start: not a valid non-negative integer");
    CHECK(s.start == NULL);
    mpz_clear(top);
}

/* Each semiprime has exactly `bits` bits and two prime factors of bits/2
 * and bits - bits/2 bits with their top two bits set. Sizes up to 40 bits
 * fit in 64 bits, so the smaller factor is found by trial division over the
 * only candidates allowed (top two bits set); big sizes can only be checked
 * for bit length and compositeness. */
static bool is_prime_u64(uint64_t v)
{
    mpz_t z;
    mpz_init(z);
    mpz_set_u64_test(z, v);
    bool prime = mpz_probab_prime_p(z, 30) > 0;
    mpz_clear(z);
    return prime;
}

static void check_small_semiprime(const char *text, unsigned bits)
{
    uint64_t n = strtoull(text, NULL, 10);
    CHECK_INT_EQ(64 - __builtin_clzll(n), bits);
    unsigned lo = bits / 2, hi = bits - lo;
    uint64_t p = 0;
    for (uint64_t d = (UINT64_C(3) << (lo - 2)) | 1; d < (UINT64_C(1) << lo); d += 2) {
        if (n % d == 0) {
            p = d;
            break;
        }
    }
    CHECK(p != 0);
    uint64_t q = n / p;
    CHECK(is_prime_u64(p) && is_prime_u64(q));
    CHECK_INT_EQ(64 - __builtin_clzll(q), hi);
    CHECK(q >> (hi - 2) == 3);
}

static void test_semiprimes_small(void)
{
    struct batch_spec s;
    char err[128], buf[MESH_MAX_DIGITS + 2];
    for (unsigned bits = 16; bits <= 40; bits++) {
        CHECK_INT_EQ(batch_semiprimes_init(&s, bits, 20, 42, err, sizeof err), 0);
        for (uint64_t i = 0; i < 20; i++) {
            CHECK_INT_EQ(batch_number(&s, i, buf, sizeof buf), 0);
            check_small_semiprime(buf, bits);
        }
        batch_spec_free(&s);
    }
}

static void test_semiprimes_reproducible(void)
{
    struct batch_spec a, b;
    char err[128], x[MESH_MAX_DIGITS + 2], y[MESH_MAX_DIGITS + 2];
    CHECK_INT_EQ(batch_semiprimes_init(&a, 128, 100, 7, err, sizeof err), 0);
    CHECK_INT_EQ(batch_semiprimes_init(&b, 128, 100, 7, err, sizeof err), 0);
    CHECK_INT_EQ(batch_number(&a, 17, x, sizeof x), 0);
    CHECK_INT_EQ(batch_number(&b, 17, y, sizeof y), 0);
    CHECK_STR_EQ(x, y);
    /* A golden value pins the generator: changing it would silently change
     * every stored semiprime batch across a mixed-version mesh. */
    CHECK_INT_EQ(batch_number(&a, 0, x, sizeof x), 0);
    CHECK_STR_EQ(x, GOLDEN_SEMIPRIME_128_SEED7_INDEX0);
    CHECK_INT_EQ(batch_number(&a, 18, y, sizeof y), 0);
    CHECK(strcmp(x, y) != 0);
    b.seed = 8;
    CHECK_INT_EQ(batch_number(&b, 0, y, sizeof y), 0);
    CHECK(strcmp(x, y) != 0);
    batch_spec_free(&a);
    batch_spec_free(&b);
}

static void test_semiprimes_big(void)
{
    struct batch_spec s;
    char err[128], buf[MESH_MAX_DIGITS + 2];
    unsigned sizes[] = {64, 65, 100, 127, 256, 1023, 1024};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        CHECK_INT_EQ(batch_semiprimes_init(&s, sizes[k], 3, 99, err, sizeof err), 0);
        for (uint64_t i = 0; i < 3; i++) {
            CHECK_INT_EQ(batch_number(&s, i, buf, sizeof buf), 0);
            mpz_t n;
            mpz_init_set_str(n, buf, 10);
            CHECK_INT_EQ(mpz_sizeinbase(n, 2), sizes[k]);
            CHECK_INT_EQ(mpz_probab_prime_p(n, 10), 0);
            mpz_clear(n);
        }
        batch_spec_free(&s);
    }
    CHECK_INT_EQ(batch_semiprimes_init(&s, 15, 3, 1, err, sizeof err), -1);
    CHECK_INT_EQ(batch_semiprimes_init(&s, 1025, 3, 1, err, sizeof err), -1);
    CHECK_INT_EQ(batch_semiprimes_init(&s, 64, 0, 1, err, sizeof err), -1);
}

static int parse(struct batch_spec *s, const char *text, char *err)
{
    return batch_list_parse(s, text, strlen(text), err, 128);
}

static void test_list_whitespace_and_comments(void)
{
    struct batch_spec s;
    char err[128], buf[MESH_MAX_DIGITS + 2];
    const char *text = "# header\n\n  15 \r\n\t+007\n   # indented comment\n\n"
                       "18446744073709551617\n0";
    CHECK_INT_EQ(parse(&s, text, err), 0);
    CHECK_INT_EQ(s.kind, BATCH_LIST);
    CHECK_INT_EQ(s.count, 4);
    const char *want[] = {"15", "7", "18446744073709551617", "0"};
    for (uint64_t i = 0; i < 4; i++) {
        CHECK_INT_EQ(batch_number(&s, i, buf, sizeof buf), 0);
        CHECK_STR_EQ(buf, want[i]);
    }
    CHECK_INT_EQ(batch_number(&s, 4, buf, sizeof buf), -1);
    CHECK_INT_EQ(batch_spec_validate(&s, err, sizeof err), 0);
    batch_spec_free(&s);
    /* A UTF-8 byte order mark and CRLF line ends, as Windows editors write. */
    CHECK_INT_EQ(parse(&s, "\xef\xbb\xbf" "12\r\n13\r\n", err), 0);
    CHECK_INT_EQ(s.count, 2);
    CHECK_INT_EQ(batch_number(&s, 0, buf, sizeof buf), 0);
    CHECK_STR_EQ(buf, "12");
    batch_spec_free(&s);
}

static void test_list_errors_name_the_line(void)
{
    struct batch_spec s;
    char err[128];
    CHECK_INT_EQ(parse(&s, "1\n2\n\n# c\nabc\n5\n", err), -1);
    CHECK_STR_EQ(err, "line 5: 'abc' is not a valid non-negative integer");
    /* Nothing partial is handed out. */
    CHECK(s.list == NULL && s.offsets == NULL && s.count == 0);
    CHECK_INT_EQ(parse(&s, "1 2\n", err), -1);
    CHECK_STR_EQ(err, "line 1: '1 2' is not a valid non-negative integer");
    CHECK_INT_EQ(parse(&s, "-4", err), -1);
    CHECK_STR_EQ(err, "line 1: '-4' is not a valid non-negative integer");
    CHECK_INT_EQ(parse(&s, "7 # trailing comment\n", err), -1);
    CHECK_INT_EQ(parse(&s, "", err), -1);
    CHECK_STR_EQ(err, "no numbers in input");
    CHECK_INT_EQ(parse(&s, "\n  \n# only comments\n", err), -1);
    CHECK_STR_EQ(err, "no numbers in input");
    CHECK_INT_EQ(batch_list_parse(&s, "1\n\0012\n", 5, err, sizeof err), -1);
    CHECK_STR_EQ(err, "line 2: '?2' is not a valid non-negative integer");
}

static void test_list_big_tokens(void)
{
    struct batch_spec s;
    char err[128];
    char text[1000] = "1\n";
    memset(text + 2, '9', 400);
    text[402] = '\n';
    CHECK_INT_EQ(parse(&s, text, err), -1);
    /* The token is shown truncated so errors stay one short line. */
    CHECK_STR_EQ(err, "line 2: '9999999999999999999999999999999999999999...': "
                      "number exceeds 1024 bits");
    CHECK_INT_EQ(batch_list_parse(&s, "1", BATCH_MAX_LIST_INPUT + 1, err, sizeof err), -1);
    CHECK_STR_EQ(err, "input exceeds 256 MiB");
}

static void test_list_count_limit(void)
{
    /* BATCH_MAX_COUNT lines of "1\n" are accepted, one more is not. */
    size_t n = BATCH_MAX_COUNT;
    size_t len = 2 * (n + 1);
    char *text = malloc(len);
    CHECK(text != NULL);
    for (size_t i = 0; i < len; i += 2) {
        text[i] = '1';
        text[i + 1] = '\n';
    }
    struct batch_spec s;
    char err[128];
    CHECK_INT_EQ(batch_list_parse(&s, text, len - 2, err, sizeof err), 0);
    CHECK_INT_EQ(s.count, BATCH_MAX_COUNT);
    batch_spec_free(&s);
    CHECK_INT_EQ(batch_list_parse(&s, text, len, err, sizeof err), -1);
    CHECK_STR_EQ(err, "line 10000001: more than 10000000 numbers");
    free(text);
}

static void roundtrip(const struct batch_spec *s)
{
    struct qbuf b;
    qbuf_init(&b);
    CHECK_INT_EQ(batch_spec_encode(s, &b), 0);
    struct qreader r;
    qreader_init(&r, b.data, b.len);
    struct batch_spec d;
    CHECK_INT_EQ(batch_spec_decode(&r, &d), 0);
    CHECK(qreader_done(&r));
    CHECK_INT_EQ(d.kind, s->kind);
    CHECK_INT_EQ(d.count, s->count);
    CHECK_INT_EQ(d.chunk, s->chunk);
    char x[MESH_MAX_DIGITS + 2], y[MESH_MAX_DIGITS + 2];
    for (uint64_t i = 0; i < s->count && i < 5; i++) {
        CHECK_INT_EQ(batch_number(s, i, x, sizeof x), 0);
        CHECK_INT_EQ(batch_number(&d, i, y, sizeof y), 0);
        CHECK_STR_EQ(x, y);
    }
    /* Every strict prefix is rejected. */
    for (size_t cut = 0; cut < b.len; cut++) {
        qreader_init(&r, b.data, cut);
        struct batch_spec t;
        CHECK(batch_spec_decode(&r, &t) != 0 || !qreader_done(&r));
        batch_spec_free(&t);
    }
    batch_spec_free(&d);
    qbuf_free(&b);
}

static void test_encode_decode_and_copy(void)
{
    struct batch_spec s, c;
    char err[128];
    CHECK_INT_EQ(batch_range_init(&s, "123456789012345678901234567890", 6, 1000, err, 128), 0);
    s.chunk = 43;
    roundtrip(&s);
    CHECK_INT_EQ(batch_spec_copy(&c, &s), 0);
    CHECK(c.start != s.start);
    roundtrip(&c);
    batch_spec_free(&c);
    batch_spec_free(&s);
    CHECK_INT_EQ(batch_semiprimes_init(&s, 100, 5, UINT64_MAX, err, sizeof err), 0);
    roundtrip(&s);
    batch_spec_free(&s);
    CHECK_INT_EQ(parse(&s, "3\n1000000000000000000000000\n5\n", err), 0);
    roundtrip(&s);
    CHECK_INT_EQ(batch_spec_copy(&c, &s), 0);
    CHECK(c.list != s.list && c.offsets != s.offsets);
    roundtrip(&c);
    batch_spec_free(&c);
    batch_spec_free(&s);
}

static void test_validate_rejects_broken_lists(void)
{
    struct batch_spec s;
    char err[128];
    CHECK_INT_EQ(parse(&s, "3\n40\n", err), 0);
    s.offsets[1] = 1;  /* points at the NUL after "3" */
    CHECK_INT_EQ(batch_spec_validate(&s, err, sizeof err), -1);
    s.offsets[1] = 2;
    s.list[2] = '0';   /* "00" is not normalised */
    CHECK_INT_EQ(batch_spec_validate(&s, err, sizeof err), -1);
    s.list[2] = '4';
    s.count = 3;
    CHECK_INT_EQ(batch_spec_validate(&s, err, sizeof err), -1);
    s.count = 2;
    CHECK_INT_EQ(batch_spec_validate(&s, err, sizeof err), 0);
    s.kind = (enum batch_kind)9;
    CHECK_INT_EQ(batch_spec_validate(&s, err, sizeof err), -1);
    s.kind = BATCH_LIST;
    batch_spec_free(&s);
}

/* A range's numbers below 2^64 as words (the leader's check reads them
 * so) are batch_number's, digit for digit, on both sides of every power of
 * ten, up to 2^64 - 1 and not past it; other kinds and indexes past the
 * batch have none. */
static void test_range_as_words(void)
{
    struct batch_spec s;
    char err[128], buf[MESH_MAX_DIGITS + 2], start[32], want[32];
    uint64_t v;
    for (uint64_t p = 1, k = 0; k < 20; k++, p *= 10) {
        snprintf(start, sizeof start, "%llu", (unsigned long long)(p > 2 ? p - 2 : p));
        CHECK_INT_EQ(batch_range_init(&s, start, 1, 4, err, sizeof err), 0);
        for (uint64_t i = 0; i < 4; i++) {
            CHECK(batch_number_u64(&s, i, &v));
            CHECK_INT_EQ(batch_number(&s, i, buf, sizeof buf), 0);
            snprintf(want, sizeof want, "%llu", (unsigned long long)v);
            CHECK_STR_EQ(buf, want);
        }
        CHECK(!batch_number_u64(&s, 4, &v));
        batch_spec_free(&s);
    }
    CHECK_INT_EQ(batch_range_init(&s, "18446744073709551614", 1, 4, err, sizeof err), 0);
    CHECK(batch_number_u64(&s, 1, &v) && v == UINT64_MAX);
    CHECK(!batch_number_u64(&s, 2, &v));        /* 2^64: batch_number's GMP path */
    batch_spec_free(&s);
    CHECK_INT_EQ(batch_range_init(&s, "1", UINT64_MAX, 3, err, sizeof err), 0);
    CHECK(batch_number_u64(&s, 0, &v) && v == 1);
    CHECK(!batch_number_u64(&s, 1, &v));        /* 1 + (2^64 - 1) */
    batch_spec_free(&s);
    CHECK_INT_EQ(batch_range_init(&s, "100000000000000000000", 1, 3, err, sizeof err), 0);
    CHECK(!batch_number_u64(&s, 0, &v));        /* 21 digits */
    batch_spec_free(&s);
    CHECK_INT_EQ(batch_semiprimes_init(&s, 64, 7, 3, err, sizeof err), 0);
    CHECK(!batch_number_u64(&s, 0, &v));
    batch_spec_free(&s);
}

int main(void)
{
    test_range_as_words();
    test_range_small();
    test_range_crosses_2_64();
    test_range_huge_step_and_index();
    test_range_limits();
    test_semiprimes_small();
    test_semiprimes_reproducible();
    test_semiprimes_big();
    test_list_whitespace_and_comments();
    test_list_errors_name_the_line();
    test_list_big_tokens();
    test_list_count_limit();
    test_encode_decode_and_copy();
    test_validate_rejects_broken_lists();
    return 0;
}
