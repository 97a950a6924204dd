/* verify.c - see verify.h.
 *
 * The common case, N and every part below 2^64, is one pass over the text
 * (grammar and values together) and no GMP: the product is checked first,
 * so a lie about it, the cheapest to tell, costs no primality test; then
 * each distinct factor is looked up in the sieve or tested. Anything larger
 * is split into parts and checked with GMP. */
#include "ecm_range.h"
#include "siqs_range.h"
#include "verify.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gmp.h>

#include "factor.h"
#include "factor_u64.h"
#include "small_primes.h"

#define UNFACTORED_TAG "unfactored:"
enum {
    TAG_LEN = sizeof UNFACTORED_TAG - 1,
    /* N < 2^1024 has at most 1023 prime factors: a text with more parts
     * cannot be right, and the walk never needs more room than this. */
    MAX_PARTS = FACTOR_MAX_BITS,
    /* Baillie-PSW and no further Miller-Rabin rounds: GMP (6.2 on) runs
     * BPSW first and adds reps - 24 rounds only above 24. */
    BPSW_REPS = 24,
};

struct part {
    const char *s;
    size_t len;
};

struct parts {
    struct part p[MAX_PARTS];
    size_t count;       /* factors, then the rest when has_rest */
    bool has_rest;
};

/* A positive decimal without a leading zero, of at most N's digits. */
static bool is_positive_decimal(const char *s, size_t len)
{
    if (len == 0 || len > FACTOR_MAX_DIGITS || s[0] < '1' || s[0] > '9')
        return false;
    for (size_t i = 1; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Splits "f1 f2 ... [unfactored:C]" (or "unfactored:C", or "") into parts;
 * false for anything else, or more parts than any N below 2^1024 has. */
static bool split(const char *text, size_t len, struct parts *out)
{
    out->count = 0;
    out->has_rest = false;
    size_t at = 0;
    while (at < len) {
        if (out->has_rest || out->count == MAX_PARTS)
            return false; /* a part after the rest, or too many */
        const char *sp = memchr(text + at, ' ', len - at);
        size_t end = sp ? (size_t)(sp - text) : len;
        const char *s = text + at;
        size_t n = end - at;
        if (n > TAG_LEN && memcmp(s, UNFACTORED_TAG, TAG_LEN) == 0) {
            s += TAG_LEN;
            n -= TAG_LEN;
            out->has_rest = true;
        }
        if (!is_positive_decimal(s, n))
            return false;
        out->p[out->count++] = (struct part){s, n};
        if (sp != NULL && end + 1 == len)
            return false; /* a trailing space */
        at = sp ? end + 1 : len;
    }
    return true;
}

/* ---- below 2^64 ------------------------------------------------------------ */

enum scan { SCAN_U64, SCAN_BIG, SCAN_MALFORMED };

/* One pass over the text for the common case: the grammar, and the parts
 * as 64-bit values. SCAN_BIG when a part does not fit (or there are more
 * than any 64-bit N has): the general path then judges the whole text. */
static enum scan scan_u64(const char *t, size_t len, uint64_t *v, size_t *count, bool *rest)
{
    size_t k = 0, i = 0;
    *rest = false;
    while (i < len) {
        if (*rest)
            return SCAN_MALFORMED; /* a part after the rest */
        if (k == FACTOR_U64_MAX + 1)
            return SCAN_BIG;
        if (t[i] == 'u') {
            if (len - i <= TAG_LEN || memcmp(t + i, UNFACTORED_TAG, TAG_LEN) != 0)
                return SCAN_MALFORMED;
            *rest = true;
            i += TAG_LEN;
        }
        if (t[i] < '1' || t[i] > '9')
            return SCAN_MALFORMED;
        uint64_t x = 0;
        for (; i < len && t[i] != ' '; i++) {
            unsigned digit = (unsigned)(unsigned char)t[i] - '0';
            if (digit > 9)
                return SCAN_MALFORMED;
            if (__builtin_mul_overflow(x, 10, &x) || __builtin_add_overflow(x, digit, &x))
                return SCAN_BIG;
        }
        v[k++] = x;
        if (i < len && ++i == len)
            return SCAN_MALFORMED; /* a trailing space */
    }
    *count = k;
    return SCAN_U64;
}

struct factor_verifier {
    uint64_t odd_prime_bits[FACTOR_VERIFY_SIEVE_BOUND / 128]; /* bit k: 2k+1 */
};

struct factor_verifier *factor_verifier_new(void)
{
    struct factor_verifier *v = malloc(sizeof *v);
    if (v == NULL)
        return NULL;
    memset(v->odd_prime_bits, 0xff, sizeof v->odd_prime_bits);
    v->odd_prime_bits[0] &= ~(uint64_t)1; /* 1 */
    for (uint64_t p = 3; p * p < FACTOR_VERIFY_SIEVE_BOUND; p += 2) {
        if (!((v->odd_prime_bits[p / 128] >> (p / 2 % 64)) & 1))
            continue;
        for (uint64_t m = p * p; m < FACTOR_VERIFY_SIEVE_BOUND; m += 2 * p)
            v->odd_prime_bits[m / 128] &= ~((uint64_t)1 << (m / 2 % 64));
    }
    return v;
}

void factor_verifier_free(struct factor_verifier *v)
{
    free(v);
}

/* The sieve answers below its bound, the prime table below 2^12 when there
 * is no sieve, the deterministic test above. */
static bool is_prime_u64(const struct factor_verifier *v, uint64_t f)
{
    if (v != NULL && f < FACTOR_VERIFY_SIEVE_BOUND)
        return f == 2 || (f % 2 == 1 && (v->odd_prime_bits[f / 128] >> (f / 2 % 64)) & 1);
    if (f < SMALL_PRIMES_BOUND)
        return f == 2 || (small_prime_bits[f / 64] >> (f % 64)) & 1;
    return u64_is_prime(f);
}

static enum factor_verdict verify_u64(const struct factor_verifier *fv, uint64_t n,
                                      const uint64_t *v, size_t count, bool has_rest)
{
    size_t factors = count - has_rest;
    uint64_t product = 1;
    for (size_t i = 0; i < count; i++)
        if (__builtin_mul_overflow(product, v[i], &product))
            return FACTOR_VERDICT_WRONG_PRODUCT;
    /* 0 has no factors: its text is "", whose product (1) is not 0. */
    if (n == 0 ? count != 0 : product != n)
        return FACTOR_VERDICT_WRONG_PRODUCT;
    for (size_t i = 0; i < factors; i++)
        if ((i == 0 || v[i] != v[i - 1]) && !is_prime_u64(fv, v[i]))
            return FACTOR_VERDICT_NOT_PRIME;
    if (has_rest && (v[factors] < 4 || is_prime_u64(fv, v[factors])))
        return FACTOR_VERDICT_REST_NOT_COMPOSITE;
    return FACTOR_VERDICT_OK;
}

/* ---- any size -------------------------------------------------------------- */

static void part_mpz(mpz_t out, const struct part *p)
{
    char buf[FACTOR_MAX_DIGITS + 1];
    memcpy(buf, p->s, p->len);
    buf[p->len] = '\0';
    mpz_set_str(out, buf, 10);
}

static bool mpz_is_prime(const struct factor_verifier *fv, const mpz_t v)
{
    if (mpz_fits_ulong_p(v) && sizeof(unsigned long) == sizeof(uint64_t))
        return is_prime_u64(fv, mpz_get_ui(v));
    return mpz_probab_prime_p(v, BPSW_REPS) > 0;
}

static enum factor_verdict verify_mpz(const struct factor_verifier *fv, const char *n,
                                      const struct parts *ps, mpz_t *v, mpz_t product)
{
    size_t factors = ps->count - ps->has_rest;
    mpz_t want;
    mpz_init_set_str(want, n, 10);
    mpz_set_ui(product, 1);
    for (size_t i = 0; i < ps->count && mpz_cmp(product, want) <= 0; i++)
        mpz_mul(product, product, v[i]);
    bool right = mpz_sgn(want) == 0 ? ps->count == 0 : mpz_cmp(product, want) == 0;
    mpz_clear(want);
    if (!right)
        return FACTOR_VERDICT_WRONG_PRODUCT;
    for (size_t i = 0; i < factors; i++)
        if ((i == 0 || mpz_cmp(v[i], v[i - 1]) != 0) && !mpz_is_prime(fv, v[i]))
            return FACTOR_VERDICT_NOT_PRIME;
    if (ps->has_rest && (mpz_cmp_ui(v[factors], 4) < 0 || mpz_is_prime(fv, v[factors])))
        return FACTOR_VERDICT_REST_NOT_COMPOSITE;
    return FACTOR_VERDICT_OK;
}

static enum factor_verdict verify_big(const struct factor_verifier *fv, const char *n,
                                      const struct parts *ps)
{
    mpz_t product, v[MAX_PARTS];
    mpz_init(product);
    for (size_t i = 0; i < ps->count; i++) {
        mpz_init(v[i]);
        part_mpz(v[i], &ps->p[i]);
    }
    enum factor_verdict verdict = verify_mpz(fv, n, ps, v, product);
    for (size_t i = 0; i < ps->count; i++)
        mpz_clear(v[i]);
    mpz_clear(product);
    return verdict;
}

/* The 64-bit path: true with *verdict when the text's parts all fit in a
 * word (or the text is malformed), false when one does not (verify_text). */
_Static_assert(FACTOR_VERIFY_WORDS == FACTOR_U64_MAX + 1, "a text's parts below 2^64");

static bool verify_parsed_u64(const struct factor_verifier *fv, uint64_t n, const char *text,
                              size_t len, bool *unfactored, enum factor_verdict *verdict,
                              struct factor_words *words)
{
    struct factor_words own;
    struct factor_words *w = words != NULL ? words : &own;
    w->read = false;
    switch (scan_u64(text, len, w->v, &w->count, unfactored)) {
    case SCAN_MALFORMED:
        *unfactored = false;
        *verdict = FACTOR_VERDICT_MALFORMED;
        return true;
    case SCAN_U64:
        w->read = true;
        *verdict = verify_u64(fv, n, w->v, w->count, *unfactored);
        return true;
    case SCAN_BIG:
        break;
    }
    return false;
}

/* Any size, through GMP. */
static enum factor_verdict verify_text(const struct factor_verifier *fv, const char *n,
                                       const char *text, size_t len, bool *unfactored)
{
    /* Static storage would be global state; this is 16 KiB of stack on
     * the loop's thread, which never recurses here. */
    struct parts ps;
    if (!split(text, len, &ps))
        return FACTOR_VERDICT_MALFORMED;
    *unfactored = ps.has_rest;
    return verify_big(fv, n, &ps);
}

enum factor_verdict factor_verify(const struct factor_verifier *fv, const char *n,
                                  const char *text, size_t len, bool *unfactored)
{
    uint64_t n64;
    size_t n_len = strlen(n);
    *unfactored = false;
    /* A spread batch's range job: its result is relations, whose check
     * needs N's factor base; the coordinator that reads them makes it,
     * relation by relation (siqs_range.h). Here only their form. */
    if (siqs_range_job_is(n, n_len))
        return siqs_range_result_form(text, len) ? FACTOR_VERDICT_OK : FACTOR_VERDICT_MALFORMED;
    /* A curve job's: no factor, or one that must divide N (ecm_range.h). */
    if (ecm_range_job_is(n, n_len)) {
        switch (ecm_range_verify(n, n_len, text, len)) {
        case ECM_RANGE_RIGHT:
            return FACTOR_VERDICT_OK;
        case ECM_RANGE_WRONG:
            return FACTOR_VERDICT_NOT_A_DIVISOR;
        case ECM_RANGE_MALFORMED:
            break;
        }
        return FACTOR_VERDICT_MALFORMED;
    }
    if (factor_parse_u64(n, n_len, &n64)) {
        enum factor_verdict v;
        if (verify_parsed_u64(fv, n64, text, len, unfactored, &v, NULL))
            return v;
    }
    return verify_text(fv, n, text, len, unfactored);
}

enum factor_verdict factor_verify_u64(const struct factor_verifier *fv, uint64_t n,
                                      const char *text, size_t len, bool *unfactored,
                                      struct factor_words *words)
{
    enum factor_verdict v;
    *unfactored = false;
    if (verify_parsed_u64(fv, n, text, len, unfactored, &v, words))
        return v;
    char digits[24];
    snprintf(digits, sizeof digits, "%" PRIu64, n);
    return verify_text(fv, digits, text, len, unfactored);
}

const char *factor_verdict_message(enum factor_verdict v)
{
    switch (v) {
    case FACTOR_VERDICT_OK:
        return "right";
    case FACTOR_VERDICT_MALFORMED:
        return "not a factorisation";
    case FACTOR_VERDICT_WRONG_PRODUCT:
        return "the factors do not multiply to the number";
    case FACTOR_VERDICT_NOT_PRIME:
        return "a factor is not prime";
    case FACTOR_VERDICT_REST_NOT_COMPOSITE:
        return "the unfactored rest is not composite";
    case FACTOR_VERDICT_NOT_A_DIVISOR:
        return "the curves' factor does not divide the number";
    }
    return "?";
}
