/* test_verify.c - factor_verify (src/factor/verify.h): the leader's check
 * of results other nodes send. Lies of every kind are refused, with the
 * right verdict, on both paths (64-bit and GMP); the kernel's own answers,
 * partial ones included, are accepted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "factor.h"
#include "factor_u64.h"
#include "verify.h"

/* Made once in main: the verdict with the sieve must be the one without. */
static struct factor_verifier *sieve;

static enum factor_verdict verdict(const char *n, const char *text, bool *unf)
{
    bool dummy, unf_sieved;
    enum factor_verdict plain = factor_verify(NULL, n, text, strlen(text), unf ? unf : &dummy);
    CHECK_INT_EQ(factor_verify(sieve, n, text, strlen(text), &unf_sieved), plain);
    CHECK(unf_sieved == (unf ? *unf : dummy));
    /* N as a word (a range batch's numbers): the same verdict. */
    char *end;
    unsigned long long n64 = strtoull(n, &end, 10);
    char back[32];
    snprintf(back, sizeof back, "%llu", n64);
    if (*end == '\0' && strcmp(back, n) == 0) {
        bool unf_word;
        CHECK_INT_EQ(factor_verify_u64(sieve, n64, text, strlen(text), &unf_word, NULL), plain);
        CHECK(unf_word == (unf ? *unf : dummy));
    }
    return plain;
}

#define EXPECT(n, text, v) CHECK_INT_EQ(verdict(n, text, NULL), v)

static void test_grammar(void)
{
    EXPECT("12", "2 2 3", FACTOR_VERDICT_OK);
    EXPECT("12", "2  2 3", FACTOR_VERDICT_MALFORMED);
    EXPECT("12", " 2 2 3", FACTOR_VERDICT_MALFORMED);
    EXPECT("12", "2 2 3 ", FACTOR_VERDICT_MALFORMED);
    EXPECT("12", "2 2 03", FACTOR_VERDICT_MALFORMED);
    EXPECT("12", "2 2 +3", FACTOR_VERDICT_MALFORMED);
    EXPECT("12", "2 2 3x", FACTOR_VERDICT_MALFORMED);
    EXPECT("12", "12:", FACTOR_VERDICT_MALFORMED);
    EXPECT("12", "unfactored:", FACTOR_VERDICT_MALFORMED);
    EXPECT("12", "unfactored:12 2", FACTOR_VERDICT_MALFORMED);
    EXPECT("12", "unfactored:12 unfactored:1", FACTOR_VERDICT_MALFORMED);
    EXPECT("12", "0", FACTOR_VERDICT_MALFORMED);
    /* More than 1024 parts: no N below 2^1024 has them. */
    static char many[4 * 1100];
    size_t at = 0;
    for (int i = 0; i < 1100; i++)
        at += (size_t)snprintf(many + at, sizeof many - at, i ? " 2" : "2");
    EXPECT("12", many, FACTOR_VERDICT_MALFORMED);
}

static void test_lies_u64(void)
{
    bool unf;
    /* The three lies of the report: a prime that does not divide N, a
     * product that is not N, a made-up unfactored rest. */
    EXPECT("999999999999", "7", FACTOR_VERDICT_WRONG_PRODUCT);
    EXPECT("999999999999", "2 2", FACTOR_VERDICT_WRONG_PRODUCT);
    CHECK_INT_EQ(verdict("999999999999", "unfactored:4", &unf), FACTOR_VERDICT_WRONG_PRODUCT);
    CHECK(unf);
    /* Product right, but a part is not prime: a base-2 strong pseudoprime
     * (2047 = 23 * 89) and a larger one (3215031751 = 151 * 751 * 28351,
     * strong to bases 2, 3, 5, 7). */
    EXPECT("4094", "2 2047", FACTOR_VERDICT_NOT_PRIME);
    EXPECT("6430063502", "2 3215031751", FACTOR_VERDICT_NOT_PRIME);
    EXPECT("12", "4 3", FACTOR_VERDICT_NOT_PRIME);
    EXPECT("12", "1 2 2 3", FACTOR_VERDICT_NOT_PRIME);
    EXPECT("12", "12", FACTOR_VERDICT_NOT_PRIME);
    /* An unfactored rest must be composite. */
    EXPECT("12", "2 2 unfactored:3", FACTOR_VERDICT_REST_NOT_COMPOSITE);
    EXPECT("12", "2 2 3 unfactored:1", FACTOR_VERDICT_REST_NOT_COMPOSITE);
    CHECK_INT_EQ(verdict("12", "3 unfactored:4", &unf), FACTOR_VERDICT_OK);
    CHECK(unf);
    CHECK_INT_EQ(verdict("12", "unfactored:12", &unf), FACTOR_VERDICT_OK);
    CHECK(unf);
    /* Overflow is no way around the product. */
    EXPECT("18446744073709551615", "18446744073709551557 18446744073709551557",
           FACTOR_VERDICT_WRONG_PRODUCT);
    EXPECT("6", "2 3 1", FACTOR_VERDICT_NOT_PRIME);
    /* 0 and 1 have no factors. */
    EXPECT("0", "", FACTOR_VERDICT_OK);
    EXPECT("1", "", FACTOR_VERDICT_OK);
    EXPECT("0", "2", FACTOR_VERDICT_WRONG_PRODUCT);
    EXPECT("1", "1", FACTOR_VERDICT_NOT_PRIME);
    EXPECT("5", "", FACTOR_VERDICT_WRONG_PRODUCT);
    CHECK_INT_EQ(verdict("999999999999", "", &unf), FACTOR_VERDICT_WRONG_PRODUCT);
    CHECK(!unf);
}

/* 2^64 + 13 is prime; 2^127 - 1 is prime. */
#define P65 "18446744073709551629"
#define M127 "170141183460469231731687303715884105727"

static void test_lies_big(void)
{
    /* 2 * (2^64 + 13) */
    EXPECT("36893488147419103258", "2 " P65, FACTOR_VERDICT_OK);
    EXPECT("36893488147419103258", "3 " P65, FACTOR_VERDICT_WRONG_PRODUCT);
    EXPECT("36893488147419103258", "7", FACTOR_VERDICT_WRONG_PRODUCT);
    EXPECT("36893488147419103258", "unfactored:4", FACTOR_VERDICT_WRONG_PRODUCT);
    EXPECT("36893488147419103258", "unfactored:36893488147419103258", FACTOR_VERDICT_OK);
    EXPECT("36893488147419103258", "2 unfactored:" P65,
           FACTOR_VERDICT_REST_NOT_COMPOSITE);
    /* (2^127-1)^2 claimed as one prime. */
    EXPECT("28948022309329048855892746252171976962977213799489202546401021394546514198529",
           "28948022309329048855892746252171976962977213799489202546401021394546514198529",
           FACTOR_VERDICT_NOT_PRIME);
    EXPECT("28948022309329048855892746252171976962977213799489202546401021394546514198529",
           M127 " " M127, FACTOR_VERDICT_OK);
    EXPECT("28948022309329048855892746252171976962977213799489202546401021394546514198529",
           "unfactored:28948022309329048855892746252171976962977213799489202546401021394546514198529",
           FACTOR_VERDICT_OK);
}

/* The kernel's own answers, complete and partial, pass: the formatted line
 * minus its "N: " is what a worker sends. */
static void test_kernel_answers_pass(void)
{
    struct factor_ctx ctx;
    CHECK(factor_ctx_init(&ctx) == 0);
    const char *numbers[] = {
        "0", "1", "2", "4", "999999999999", "1000000000039", "18446744073709551615",
        "18446744073709551557", "4611686018427387904", "36893488147419103258",
        "340282366920938463463374607431768211457",   /* 2^128 + 1 */
        "115792089237316195423570985008687907853269984665640564039457584007913129639937",
    };
    for (size_t i = 0; i < sizeof numbers / sizeof *numbers; i++) {
        struct factor_result res;
        /* 1 ms: the 256-bit one is left partial. */
        enum factor_status st = factor_decimal(&ctx, numbers[i], 1, &res);
        CHECK(st != FACTOR_ERROR);
        char *line = factor_format_line(numbers[i], &res);
        CHECK(line != NULL);
        const char *text = strchr(line, ':') + 1;
        text += *text == ' ';
        bool unf;
        if (verdict(numbers[i], text, &unf) != FACTOR_VERDICT_OK) {
            fprintf(stderr, "refused the kernel's %s\n", line);
            CHECK(0);
        }
        CHECK(unf == (st == FACTOR_PARTIAL));
        free(line);
        factor_result_free(&res);
    }
    factor_ctx_free(&ctx);
}

/* Every n below a bound, its true factorisation passes and every one-part
 * change of it is refused. */
static void test_exhaustive_small(void)
{
    for (uint64_t n = 2; n < 3000; n++) {
        uint64_t f[FACTOR_U64_MAX];
        int count = factor_u64(n, f);
        char num[24], text[256];
        snprintf(num, sizeof num, "%llu", (unsigned long long)n);
        size_t at = 0;
        for (int i = 0; i < count; i++)
            at += (size_t)snprintf(text + at, sizeof text - at, i ? " %llu" : "%llu",
                                   (unsigned long long)f[i]);
        CHECK_INT_EQ(verdict(num, text, NULL), FACTOR_VERDICT_OK);
        at = 0;
        for (int i = 0; i < count; i++)
            at += (size_t)snprintf(text + at, sizeof text - at, i ? " %llu" : "%llu",
                                   (unsigned long long)(i == count - 1 ? f[i] + 2 : f[i]));
        CHECK(verdict(num, text, NULL) != FACTOR_VERDICT_OK);
    }
}

/* The sieve against the deterministic test, over its whole range. */
static void test_sieve(void)
{
    for (uint64_t f = 0; f < FACTOR_VERIFY_SIEVE_BOUND + 100; f += f < 5000 ? 1 : 3) {
        char num[24];
        snprintf(num, sizeof num, "%llu", (unsigned long long)f);
        bool unf;
        enum factor_verdict want = u64_is_prime(f) ? FACTOR_VERDICT_OK
                                   : f < 2 ? FACTOR_VERDICT_MALFORMED : FACTOR_VERDICT_NOT_PRIME;
        if (f == 1)
            want = FACTOR_VERDICT_NOT_PRIME;
        CHECK_INT_EQ(factor_verify(sieve, num, num, strlen(num), &unf), want);
    }
}

int main(void)
{
    sieve = factor_verifier_new();
    CHECK(sieve != NULL);
    test_sieve();
    test_grammar();
    test_lies_u64();
    test_lies_big();
    test_kernel_answers_pass();
    test_exhaustive_small();
    factor_verifier_free(sieve);
    printf("verify: ok\n");
    return 0;
}
