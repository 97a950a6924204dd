/* line_u64.c - numbers below 2^64 from text to checked output line, with
 * no GMP and no allocation.
 *
 * Most numbers users factor are small: `seq 0 10000000 | mesh factor` is
 * the drop-in's everyday load, and there the kernel itself costs tens of
 * nanoseconds per number. Parsing into an mpz, verifying with GMP and
 * formatting through malloc'd strings cost ten times that, so the 64-bit
 * path has its own parse, check and format. */
#include <string.h>

#include "factor.h"
#include "factor_u64.h"
#include "small_primes.h"

bool factor_parse_u64(const char *s, size_t len, uint64_t *out)
{
    if (len > 0 && s[0] == '+') {
        s++;
        len--;
    }
    if (len == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned digit = (unsigned)(unsigned char)s[i] - '0';
        if (digit > 9 || __builtin_mul_overflow(v, 10, &v) ||
            __builtin_add_overflow(v, digit, &v))
            return false;
    }
    *out = v;
    return true;
}

static bool is_table_prime(uint64_t p)
{
    return (small_prime_bits[p / 64] >> (p % 64)) & 1;
}

/* A factor is accepted as prime when
 *  - below 2^12: it is in the prime table;
 *  - below 2^24: by construction. Every factor is either a table prime or
 *    comes from the cofactor that trial division by every prime below 2^12
 *    left, and a number below 2^24 without a prime factor below 2^12 is
 *    prime. Checking it again would repeat that very division, which is
 *    most of the cost of factoring a small number;
 *  - above: a strong probable-prime test to base 2. The kernel proved the
 *    factor prime with the deterministic test (Baillie-PSW) before it
 *    output it; what this check is for is a kernel path that let a part
 *    through untested or split wrongly, and such a part, a composite of no
 *    special form, fails base 2 but for the ~1 in 6 * 10^11 base-2 strong
 *    pseudoprimes. Running Baillie-PSW again would add nothing against a
 *    fault in that test itself, and cost its strong Lucas half: on random
 *    64-bit numbers the check was 6% of all the work, most of it there. */
static bool factor_is_prime(uint64_t f)
{
    if (f < SMALL_PRIMES_BOUND)
        return is_table_prime(f);
    if (f < (uint64_t)SMALL_PRIMES_BOUND * SMALL_PRIMES_BOUND)
        return true;
    return u64_is_sprp2(f);
}

int factor_u64_checked(uint64_t n, uint64_t out[FACTOR_U64_MAX])
{
    int count = factor_u64(n, out);
    if (n < 2)
        return count == 0 ? 0 : -1;
    uint64_t product = 1;
    for (int i = 0; i < count; i++) {
        if ((i > 0 && out[i] < out[i - 1]) || !factor_is_prime(out[i]) ||
            __builtin_mul_overflow(product, out[i], &product))
            return -1;
    }
    return product == n ? count : -1;
}

/* From the bit length: log10(2) ~ 1233 / 4096, then one comparison. */
static int decimal_digits(uint64_t v)
{
    static const uint64_t powers[20] = {
        1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL,
        10000000ULL, 100000000ULL, 1000000000ULL, 10000000000ULL,
        100000000000ULL, 1000000000000ULL, 10000000000000ULL,
        100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
        100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL};
    int bits = 64 - __builtin_clzll(v | 1);
    int t = (bits * 1233) >> 12;
    return t - ((v | 1) < powers[t]) + 1;
}

/* Writes v in decimal at `at`, straight into place; returns the end. Four
 * digits per division by 10^4, whose remainder splits into two pairs
 * independently: half the dependent divisions of a pair at a time, and
 * 32-bit arithmetic once v fits (formatting was a sixth of
 * `seq 0 10000000 | mesh factor`). */
static char *put_u64(char *at, uint64_t v)
{
    static const char pairs[201] =
        "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
        "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
        "8081828384858687888990919293949596979899";
    char *end = at + decimal_digits(v);
    char *p = end;
    while (v > UINT32_MAX) {
        uint32_t r = (uint32_t)(v % 10000);
        v /= 10000;
        p -= 4;
        memcpy(p, &pairs[2 * (r / 100)], 2);
        memcpy(p + 2, &pairs[2 * (r % 100)], 2);
    }
    uint32_t w = (uint32_t)v;
    while (w >= 10000) {
        uint32_t r = w % 10000;
        w /= 10000;
        p -= 4;
        memcpy(p, &pairs[2 * (r / 100)], 2);
        memcpy(p + 2, &pairs[2 * (r % 100)], 2);
    }
    if (w >= 100) {
        p -= 2;
        memcpy(p, &pairs[2 * (w % 100)], 2);
        w /= 100;
    }
    if (w >= 10)
        memcpy(p - 2, &pairs[2 * w], 2);
    else
        p[-1] = (char)('0' + w);
    return end;
}

/* ": f1 f2 ...\n" at `at`; returns the end. */
static char *put_factors(char *at, const uint64_t *factors, int count)
{
    *at++ = ':';
    for (int i = 0; i < count; i++) {
        *at++ = ' ';
        at = put_u64(at, factors[i]);
    }
    *at++ = '\n';
    return at;
}

size_t factor_format_u64_line(char buf[FACTOR_U64_LINE_MAX], uint64_t n,
                              const uint64_t *factors, int count)
{
    return (size_t)(put_factors(put_u64(buf, n), factors, count) - buf);
}

size_t factor_format_u64_line_text(char buf[FACTOR_U64_LINE_MAX], const char *text,
                                   size_t len, const uint64_t *factors, int count)
{
    memcpy(buf, text, len);
    return (size_t)(put_factors(buf + len, factors, count) - buf);
}

size_t factor_format_u64_answer(char buf[FACTOR_U64_LINE_MAX], uint64_t id,
                                const uint64_t *factors, int count)
{
    char *at = put_u64(buf, id);
    memcpy(at, " done", 5);
    at += 5;
    for (int i = 0; i < count; i++) {
        *at++ = ' ';
        at = put_u64(at, factors[i]);
    }
    *at++ = '\n';
    *at = '\0';
    return (size_t)(at - buf);
}
