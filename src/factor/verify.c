/* verify.c - see verify.h.
 *
 * Two walks over the text: the first checks the grammar and, when N and
 * every part fit 64 bits, the product; only a text whose product is right
 * pays for the primality tests (a lie about the product, the cheapest to
 * tell, costs the leader no modular exponentiation). */
#include "verify.h"

#include <string.h>

#include <gmp.h>

#include "factor.h"
#include "factor_u64.h"

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

static bool parts_u64(const struct parts *ps, uint64_t *v)
{
    for (size_t i = 0; i < ps->count; i++)
        if (!factor_parse_u64(ps->p[i].s, ps->p[i].len, &v[i]))
            return false;
    return true;
}

static enum factor_verdict verify_u64(uint64_t n, const struct parts *ps, const uint64_t *v)
{
    size_t factors = ps->count - ps->has_rest;
    uint64_t product = 1;
    for (size_t i = 0; i < ps->count; i++)
        if (__builtin_mul_overflow(product, v[i], &product))
            return FACTOR_VERDICT_WRONG_PRODUCT;
    /* 0 has no factors: its text is "", whose product (1) is not 0. */
    if (n == 0 ? ps->count != 0 : product != n)
        return FACTOR_VERDICT_WRONG_PRODUCT;
    for (size_t i = 0; i < factors; i++)
        if ((i == 0 || v[i] != v[i - 1]) && !u64_is_prime(v[i]))
            return FACTOR_VERDICT_NOT_PRIME;
    if (ps->has_rest && (v[factors] < 4 || u64_is_prime(v[factors])))
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

static bool mpz_is_prime(const mpz_t v)
{
    if (mpz_fits_ulong_p(v) && sizeof(unsigned long) == sizeof(uint64_t))
        return u64_is_prime(mpz_get_ui(v));
    return mpz_probab_prime_p(v, BPSW_REPS) > 0;
}

static enum factor_verdict verify_mpz(const char *n, const struct parts *ps, mpz_t *v,
                                      mpz_t product)
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
        if ((i == 0 || mpz_cmp(v[i], v[i - 1]) != 0) && !mpz_is_prime(v[i]))
            return FACTOR_VERDICT_NOT_PRIME;
    if (ps->has_rest && (mpz_cmp_ui(v[factors], 4) < 0 || mpz_is_prime(v[factors])))
        return FACTOR_VERDICT_REST_NOT_COMPOSITE;
    return FACTOR_VERDICT_OK;
}

static enum factor_verdict verify_big(const char *n, const struct parts *ps)
{
    mpz_t product, v[MAX_PARTS];
    mpz_init(product);
    for (size_t i = 0; i < ps->count; i++) {
        mpz_init(v[i]);
        part_mpz(v[i], &ps->p[i]);
    }
    enum factor_verdict verdict = verify_mpz(n, ps, v, product);
    for (size_t i = 0; i < ps->count; i++)
        mpz_clear(v[i]);
    mpz_clear(product);
    return verdict;
}

enum factor_verdict factor_verify(const char *n, const char *text, size_t len,
                                  bool *unfactored)
{
    /* Static storage would be global state; this is 16 KiB of stack on
     * the loop's thread, which never recurses here. */
    struct parts ps;
    *unfactored = false;
    if (!split(text, len, &ps))
        return FACTOR_VERDICT_MALFORMED;
    *unfactored = ps.has_rest;
    uint64_t n64, v[FACTOR_U64_MAX + 1];
    if (factor_parse_u64(n, strlen(n), &n64)) {
        if (ps.count > FACTOR_U64_MAX + 1)
            return FACTOR_VERDICT_WRONG_PRODUCT; /* 2^64 has fewer */
        if (parts_u64(&ps, v))
            return verify_u64(n64, &ps, v);
    }
    return verify_big(n, &ps);
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
    }
    return "?";
}
