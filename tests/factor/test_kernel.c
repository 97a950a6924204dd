/* test_kernel.c - factor_decimal end to end: parsing, the PARI path, the
 * budget, verification, the line formats. */
#include <gmp.h>

#include "check.h"
#include "child.h"
#include "factor.h"

static struct factor_ctx ctx;

/* Factors n (budget 0) and checks the formatted line. */
static void check_line(const char *n, const char *want)
{
    struct factor_result res;
    enum factor_status st = factor_decimal(&ctx, n, 0, &res);
    if (st != FACTOR_DONE)
        fprintf(stderr, "%s: status %d error '%s'\n", n, st, res.error);
    CHECK_INT_EQ(st, FACTOR_DONE);
    char *line = factor_format_line(n, &res);
    CHECK_STR_EQ(line, want);
    free(line);
    factor_result_free(&res);
}

static void check_error(const char *n, const char *message)
{
    struct factor_result res;
    CHECK_INT_EQ(factor_decimal(&ctx, n, 0, &res), FACTOR_ERROR);
    CHECK_STR_EQ(res.error, message);
    CHECK(factor_format_line(n, &res) == NULL);
    factor_result_free(&res);
}

static void test_small_and_u64(void)
{
    check_line("0", "0:");
    check_line("1", "1:");
    check_line("2", "2: 2");
    check_line("3", "3: 3");
    check_line("4", "4: 2 2");
    check_line("+007", "7: 7");
    check_line("000", "0:");
    check_line("18446744073709551557", "18446744073709551557: 18446744073709551557");
    check_line("18446744073709551615",
               "18446744073709551615: 3 5 17 257 641 65537 6700417");
}

static void test_beyond_64_bits(void)
{
    check_line("18446744073709551616", "18446744073709551616: 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2 2");
    check_line("18446744073709551617", "18446744073709551617: 274177 67280421310721");
    check_line("18446744073709551629", "18446744073709551629: 18446744073709551629");
    /* 2^128 + 1 (F7): two big primes */
    check_line("340282366920938463463374607431768211457",
               "340282366920938463463374607431768211457: 59649589127497217 5704689200685129054721");
    /* cube of a large 32-bit prime */
    check_line("79228162237563176810023223171",
               "79228162237563176810023223171: 4294967291 4294967291 4294967291");
    /* 7^30: a perfect power */
    check_line("22539340290692258087863249", "22539340290692258087863249: 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7 7");
}

static char *mpz_dup_str(const mpz_t x)
{
    return mpz_get_str(NULL, 10, x);
}

static void free_gmp_str(char *s)
{
    void (*gmp_free)(void *, size_t);
    mp_get_memory_functions(NULL, NULL, &gmp_free);
    gmp_free(s, strlen(s) + 1);
}

/* p * q from the primes after 2^(bits/2) + offset: a balanced semiprime. */
static void semiprime(mpz_t n, mpz_t p, mpz_t q, unsigned bits, unsigned long offset)
{
    mpz_ui_pow_ui(p, 2, bits / 2);
    mpz_add_ui(p, p, offset);
    mpz_nextprime(p, p);
    mpz_ui_pow_ui(q, 2, bits - bits / 2);
    mpz_add_ui(q, q, offset * 7 + 12345);
    mpz_nextprime(q, q);
    mpz_mul(n, p, q);
}

/* Factors n (a product of the given primes, ascending) and checks the
 * full answer: the MPQS window of the PARI path (65..128 bits) is entered
 * and left around these sizes. */
static void check_product(const mpz_t n, mpz_t *primes, int count)
{
    char *ns = mpz_dup_str(n);
    struct factor_result res;
    CHECK_INT_EQ(factor_decimal(&ctx, ns, 0, &res), FACTOR_DONE);
    CHECK_INT_EQ(res.count, (size_t)count);
    for (int i = 0; i < count && (size_t)i < res.count; i++) {
        char *ps = mpz_dup_str(primes[i]);
        CHECK_STR_EQ(res.factors[i], ps);
        free_gmp_str(ps);
    }
    CHECK(res.unfactored == NULL);
    factor_result_free(&res);
    free_gmp_str(ns);
}

static void test_mpqs_window(void)
{
    mpz_t n, f[3];
    mpz_inits(n, f[0], f[1], f[2], NULL);
    /* balanced semiprimes on both sides of each edge of the window */
    static const unsigned sizes[] = {64, 65, 66, 90, 127, 128, 129, 130};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        semiprime(n, f[0], f[1], sizes[i], 4099 + i);
        check_product(n, f, 2);
    }
    /* unbalanced: an 18-bit prime times a 90-bit one */
    mpz_set_ui(f[0], 262147); /* prime */
    mpz_ui_pow_ui(f[1], 2, 90);
    mpz_nextprime(f[1], f[1]);
    mpz_mul(n, f[0], f[1]);
    check_product(n, f, 2);
    /* p^2 q in the window (MPQS must not lose the exponent) */
    mpz_set_ui(f[0], 4294967311UL); /* smallest prime above 2^32 */
    mpz_set(f[1], f[0]);
    mpz_ui_pow_ui(f[2], 2, 40);
    mpz_nextprime(f[2], f[2]);
    mpz_mul(n, f[0], f[1]);
    mpz_mul(n, n, f[2]);
    check_product(n, f, 3);
    /* three ~35-bit primes: 105 bits */
    mpz_ui_pow_ui(f[0], 2, 34);
    mpz_nextprime(f[0], f[0]);
    mpz_nextprime(f[1], f[0]);
    mpz_nextprime(f[2], f[1]);
    mpz_mul(n, f[0], f[1]);
    mpz_mul(n, n, f[2]);
    check_product(n, f, 3);
    mpz_clears(n, f[0], f[1], f[2], NULL);
}

static void test_semiprimes_and_budget(void)
{
    mpz_t n, p, q;
    mpz_inits(n, p, q, NULL);
    semiprime(n, p, q, 100, 1000003);
    char *ns = mpz_dup_str(n), *ps = mpz_dup_str(p), *qs = mpz_dup_str(q);
    struct factor_result res;
    CHECK_INT_EQ(factor_decimal(&ctx, ns, 0, &res), FACTOR_DONE);
    CHECK_INT_EQ(res.count, 2);
    CHECK_STR_EQ(res.factors[0], ps);
    CHECK_STR_EQ(res.factors[1], qs);
    CHECK(res.unfactored == NULL);
    factor_result_free(&res);
    free_gmp_str(ns);
    free_gmp_str(ps);
    free_gmp_str(qs);

    /* 200 bits with a 50 ms budget: MPQS needs seconds, so the budget must
     * cut it off and hand back the whole number as unfactored. */
    semiprime(n, p, q, 200, 99991);
    mpz_mul_ui(n, n, 12); /* small factors come out before the budget */
    ns = mpz_dup_str(n);
    CHECK_INT_EQ(factor_decimal(&ctx, ns, 50, &res), FACTOR_PARTIAL);
    CHECK_INT_EQ(res.count, 3);
    CHECK_STR_EQ(res.factors[0], "2");
    CHECK_STR_EQ(res.factors[2], "3");
    mpz_divexact_ui(n, n, 12);
    char *rest = mpz_dup_str(n);
    CHECK_STR_EQ(res.unfactored, rest);
    char *line = factor_format_line(ns, &res);
    char want[400];
    snprintf(want, sizeof want, "%s: 2 2 3 unfactored:%s", ns, rest);
    CHECK_STR_EQ(line, want);
    char *answer = factor_child_format_answer(42, FACTOR_PARTIAL, &res);
    snprintf(want, sizeof want, "42 partial %s 2 2 3\n", rest);
    CHECK_STR_EQ(answer, want);
    free(answer);
    free(line);
    factor_result_free(&res);
    free_gmp_str(ns);
    free_gmp_str(rest);

    /* The same kernel keeps working after an interrupted PARI call. */
    semiprime(n, p, q, 120, 5);
    ns = mpz_dup_str(n);
    CHECK_INT_EQ(factor_decimal(&ctx, ns, 60000, &res), FACTOR_DONE);
    CHECK_INT_EQ(res.count, 2);
    factor_result_free(&res);
    free_gmp_str(ns);
    mpz_clears(n, p, q, NULL);
}

static void test_1024_bits(void)
{
    mpz_t n;
    mpz_init(n);
    mpz_ui_pow_ui(n, 2, 1024);
    mpz_sub_ui(n, n, 1); /* 2^1024 - 1: largest accepted; many known factors */
    char *ns = mpz_dup_str(n);
    struct factor_result res;
    /* Its factorisation needs huge ECM work: with a budget we get the small
     * Fermat-number factors and a verified composite rest. */
    enum factor_status st = factor_decimal(&ctx, ns, 2000, &res);
    CHECK(st == FACTOR_PARTIAL || st == FACTOR_DONE);
    CHECK_STR_EQ(res.factors[0], "3");
    CHECK_STR_EQ(res.factors[1], "5");
    CHECK_STR_EQ(res.factors[2], "17");
    factor_result_free(&res);
    free_gmp_str(ns);

    /* 3^600 * 2^20 (< 2^1024): small factors only */
    mpz_ui_pow_ui(n, 3, 600);
    mpz_mul_2exp(n, n, 20);
    ns = mpz_dup_str(n);
    CHECK_INT_EQ(factor_decimal(&ctx, ns, 0, &res), FACTOR_DONE);
    CHECK_INT_EQ(res.count, 620);
    CHECK_STR_EQ(res.factors[19], "2");
    CHECK_STR_EQ(res.factors[20], "3");
    CHECK_STR_EQ(res.factors[619], "3");
    factor_result_free(&res);
    free_gmp_str(ns);

    mpz_ui_pow_ui(n, 2, 1024);
    ns = mpz_dup_str(n);
    check_error(ns, "number exceeds 1024 bits");
    free_gmp_str(ns);
    mpz_clear(n);
}

static void test_parse(void)
{
    check_error("", "not a valid positive integer");
    check_error("+", "not a valid positive integer");
    check_error("++5", "not a valid positive integer");
    check_error("-5", "not a valid positive integer");
    check_error("5 ", "not a valid positive integer");
    check_error(" 5", "not a valid positive integer");
    check_error("0x10", "not a valid positive integer");
    char big[400];
    memset(big, '9', 310);
    big[310] = '\0';
    check_error(big, "number exceeds 1024 bits");
    memset(big, '0', 380); /* leading zeros do not count */
    strcpy(big + 380, "12");
    check_line(big, "12: 2 2 3");
}

static void test_child_request_parser(void)
{
    uint64_t id, budget = 99;
    const char *num;
    size_t len;
    CHECK_INT_EQ(factor_child_parse_request("7 12", 4, &id, &num, &len, &budget), 0);
    CHECK_INT_EQ(id, 7);
    CHECK_INT_EQ(len, 2);
    CHECK(strncmp(num, "12", 2) == 0);
    CHECK_INT_EQ(budget, 99); /* untouched by a line without a budget */
    CHECK_INT_EQ(factor_child_parse_request("18446744073709551615 1", 22, &id, &num, &len, &budget), 0);
    CHECK(id == UINT64_MAX);
    CHECK_INT_EQ(factor_child_parse_request("18446744073709551616 1", 22, &id, &num, &len, &budget), -1);
    CHECK_INT_EQ(factor_child_parse_request("7  12", 5, &id, &num, &len, &budget), -1);
    CHECK_INT_EQ(factor_child_parse_request("7 ", 2, &id, &num, &len, &budget), -1);
    CHECK_INT_EQ(factor_child_parse_request(" 7 1", 4, &id, &num, &len, &budget), -1);
    CHECK_INT_EQ(factor_child_parse_request("x 1", 3, &id, &num, &len, &budget), -1);
    CHECK_INT_EQ(factor_child_parse_request("12", 2, &id, &num, &len, &budget), -1);
    /* A number's own budget after it. */
    CHECK_INT_EQ(factor_child_parse_request("7 12 300", 8, &id, &num, &len, &budget), 0);
    CHECK_INT_EQ(id, 7);
    CHECK_INT_EQ(len, 2);
    CHECK(strncmp(num, "12", 2) == 0);
    CHECK_INT_EQ(budget, 300);
    CHECK_INT_EQ(factor_child_parse_request("7 12 0", 6, &id, &num, &len, &budget), 0);
    CHECK_INT_EQ(budget, 0);
    CHECK_INT_EQ(factor_child_parse_request("7 12 ", 5, &id, &num, &len, &budget), -1);
    CHECK_INT_EQ(factor_child_parse_request("7 12 3 4", 8, &id, &num, &len, &budget), -1);
    CHECK_INT_EQ(factor_child_parse_request("7 12 5s", 7, &id, &num, &len, &budget), -1);
}

int main(void)
{
    CHECK_INT_EQ(factor_ctx_init(&ctx), 0);
    test_small_and_u64();
    test_beyond_64_bits();
    test_mpqs_window();
    test_parse();
    test_child_request_parser();
    test_semiprimes_and_budget();
    test_1024_bits();
    factor_ctx_free(&ctx);
    printf("kernel: ok\n");
    return 0;
}
