/* factor_u64.c - complete factorisation of a 64-bit integer.
 *
 * The product's hot path: trial division by multiply-by-inverse, then for
 * what is left a deterministic primality test, a perfect-square check, ECM
 * and, should ECM ever give up, Pollard-Brent rho, which always succeeds. */
#include <math.h>

#include "factor_u64.h"
#include "mont64.h"
#include "small_primes.h"

struct factor_list {
    uint64_t *out;
    int count;
};

static void push(struct factor_list *list, uint64_t p)
{
    list->out[list->count++] = p;
}

static uint64_t isqrt_u64(uint64_t n)
{
    uint64_t r = (uint64_t)sqrt((double)n);
    /* The double may be off by one either way near 2^64: fix exactly. */
    while (r > 0 && (r > UINT32_MAX || r * r > n))
        r--;
    while (r < UINT32_MAX && (r + 1) * (r + 1) <= n)
        r++;
    return r;
}

/* Divides out 2 and the table primes; returns the cofactor, which is 1, a
 * prime, or a composite whose factors all exceed SMALL_PRIMES_BOUND. */
static uint64_t strip_small(uint64_t n, struct factor_list *list)
{
    int twos = __builtin_ctzll(n);
    for (int i = 0; i < twos; i++)
        push(list, 2);
    n >>= twos;
    for (int i = 0; i < TRIAL_PRIMES_COUNT; i++) {
        const struct small_prime *sp = &small_primes[i];
        if ((uint64_t)sp->p * sp->p > n)
            break;
        while (n * sp->inv <= sp->lim) { /* exact division: n * inv */
            push(list, sp->p);
            n *= sp->inv;
        }
    }
    if (n > 1 && n < (uint64_t)SMALL_PRIMES_BOUND * SMALL_PRIMES_BOUND) {
        push(list, n); /* no factor below its square root: prime */
        n = 1;
    }
    return n;
}

/* Last resort, never reached in practice (ECM then rho with 63 different
 * polynomials would all have to fail): plain trial division keeps
 * factor_u64 total. */
static uint64_t smallest_divisor_slow(uint64_t n)
{
    for (uint64_t d = SMALL_PRIMES_BOUND + 1; d <= n / d; d += 2)
        if (n % d == 0)
            return d;
    return n;
}

static uint64_t find_divisor(uint64_t n)
{
    uint64_t d = u64_ecm(n);
    if (d == 0)
        d = u64_rho_brent(n, UINT64_MAX);
    if (d == 0)
        d = smallest_divisor_slow(n);
    return d;
}

/* n > 1 has no factor below SMALL_PRIMES_BOUND. */
static void split(uint64_t n, struct factor_list *list)
{
    if (u64_is_prime(n)) {
        push(list, n);
        return;
    }
    uint64_t r = isqrt_u64(n);
    if (r * r == n) { /* ECM and rho both stumble on squares */
        split(r, list);
        split(r, list);
        return;
    }
    uint64_t d = find_divisor(n);
    split(d, list);
    split(n / d, list);
}

static void sort_ascending(uint64_t *v, int count)
{
    for (int i = 1; i < count; i++) {
        uint64_t x = v[i];
        int j = i;
        while (j > 0 && v[j - 1] > x) {
            v[j] = v[j - 1];
            j--;
        }
        v[j] = x;
    }
}

int factor_u64(uint64_t n, uint64_t out[FACTOR_U64_MAX])
{
    struct factor_list list = {out, 0};
    if (n < 2)
        return 0;
    n = strip_small(n, &list);
    if (n > 1)
        split(n, &list);
    sort_ascending(out, list.count);
    return list.count;
}
