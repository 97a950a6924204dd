/* test_line_u64.c - the 64-bit path of line_u64.c: parsing, the checked
 * factorisation and the output line, against slow obvious versions. */
#include <inttypes.h>
#include <stdio.h>

#include "check.h"
#include "factor.h"
#include "factor_u64.h"

static void check_parse(const char *s, bool ok, uint64_t want)
{
    uint64_t got = 0;
    CHECK_INT_EQ(factor_parse_u64(s, strlen(s), &got), ok);
    if (ok && got != want) {
        fprintf(stderr, "parse %s: got %" PRIu64 "\n", s, got);
        exit(1);
    }
}

static void test_parse(void)
{
    check_parse("0", true, 0);
    check_parse("+0007", true, 7);
    check_parse("000000000000000000000000018446744073709551615", true, UINT64_MAX);
    check_parse("18446744073709551616", false, 0);
    check_parse("99999999999999999999", false, 0);
    check_parse("", false, 0);
    check_parse("+", false, 0);
    check_parse("++5", false, 0);
    check_parse("-5", false, 0);
    check_parse("5 ", false, 0);
    check_parse("1e5", false, 0);
}

/* The line as printf would write it. */
static void expect_line(uint64_t n, const char *want)
{
    uint64_t f[FACTOR_U64_FACTORS_MAX];
    int count = factor_u64_checked(n, f);
    CHECK(count >= 0);
    char buf[FACTOR_U64_LINE_MAX + 1];
    size_t len = factor_format_u64_line(buf, n, f, count);
    CHECK(len <= FACTOR_U64_LINE_MAX);
    buf[len] = '\0';
    CHECK_STR_EQ(buf, want);
}

static void test_lines(void)
{
    expect_line(0, "0:\n");
    expect_line(1, "1:\n");
    expect_line(9, "9: 3 3\n");
    expect_line(10, "10: 2 5\n");
    expect_line(99, "99: 3 3 11\n");
    expect_line(100, "100: 2 2 5 5\n");
    expect_line(16769023, "16769023: 16769023\n");      /* prime just below 2^24 */
    expect_line(16777259, "16777259: 16777259\n");      /* prime just above 2^24 */
    expect_line(4095ULL * 4097, "16777215: 3 3 5 7 13 17 241\n");
    expect_line(UINT64_MAX, "18446744073709551615: 3 5 17 257 641 65537 6700417\n");
    expect_line(18446744073709551557ULL, "18446744073709551557: 18446744073709551557\n");
    /* The longest line: 2^63, 63 factors. */
    char want[FACTOR_U64_LINE_MAX];
    int at = snprintf(want, sizeof want, "9223372036854775808:");
    for (int i = 0; i < 63; i++)
        at += snprintf(want + at, sizeof want - (size_t)at, " 2");
    snprintf(want + at, sizeof want - (size_t)at, "\n");
    expect_line(1ULL << 63, want);
}

/* n's line against printf's digits, formatted both from n and from n's
 * decimal text (the path of `mesh factor` for canonical input). */
static void check_against_printf(uint64_t n)
{
    uint64_t f[FACTOR_U64_FACTORS_MAX], g[FACTOR_U64_MAX];
    int count = factor_u64_checked(n, f);
    CHECK_INT_EQ(count, factor_u64(n, g));
    char want[FACTOR_U64_LINE_MAX + 1], got[FACTOR_U64_LINE_MAX + 1], text[24];
    int text_len = snprintf(text, sizeof text, "%" PRIu64, n);
    int at = snprintf(want, sizeof want, "%s:", text);
    for (int k = 0; k < count; k++) {
        CHECK(f[k] == g[k]);
        at += snprintf(want + at, sizeof want - (size_t)at, " %" PRIu64, f[k]);
    }
    snprintf(want + at, sizeof want - (size_t)at, "\n");
    size_t len = factor_format_u64_line(got, n, f, count);
    got[len] = '\0';
    CHECK_STR_EQ(got, want);
    len = factor_format_u64_line_text(got, text, (size_t)text_len, f, count);
    got[len] = '\0';
    CHECK_STR_EQ(got, want);
}

/* Every line for a stretch of small numbers and random 64-bit ones, and
 * around every power of ten and 2^32 (where the digit writer changes
 * step): the same factors as factor_u64 and printf's digits. */
static void test_against_printf(void)
{
    uint64_t x = 88172645463325252ULL;
    for (uint64_t i = 0; i < 200000; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        check_against_printf(i < 100000 ? i : x >> (i % 64));
    }
    for (uint64_t p = 10; p <= 10000000000000000000ULL; p *= 10) {
        for (uint64_t d = 0; d < 3; d++) {
            check_against_printf(p - 1 + d);
            if (p <= UINT64_MAX / 2)
                check_against_printf(p * 2 - 1 + d); /* 19...9, 20...0 */
        }
        if (p == 10000000000000000000ULL)
            break;
    }
    for (uint64_t n = UINT32_MAX - 2; n <= UINT32_MAX + 2ULL; n++)
        check_against_printf(n);
    check_against_printf(UINT64_MAX);
}

int main(void)
{
    test_parse();
    test_lines();
    test_against_printf();
    puts("line_u64: ok");
    return 0;
}
