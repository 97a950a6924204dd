/* factor_u64.c - complete factorisation of a 64-bit integer.
 *
 * The product's hot path: trial division by multiply-by-inverse, then for
 * what is left a deterministic primality test, a perfect-square check, a
 * short rho, p-1, ECM and, should ECM ever give up, Pollard-Brent rho,
 * which always succeeds. */
#include <math.h>
#include <string.h>

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

/* Divides small_primes[i] out of n as often as it goes (32-bit test). */
static uint32_t divide_out32(uint32_t n, int i, struct factor_list *list)
{
    while (n * trial32.inv[i] <= trial32.lim[i]) {
        push(list, small_primes[i].p);
        n *= trial32.inv[i]; /* exact division */
    }
    return n;
}

static uint64_t divide_out64(uint64_t n, int i, struct factor_list *list)
{
    const struct small_prime *sp = &small_primes[i];
    while (n * sp->inv <= sp->lim) {
        push(list, sp->p);
        n *= sp->inv;
    }
    return n;
}

/* Which primes of the block at inv/lim divide n < 2^32, as a bit mask:
 * eight products and compares as one vector operation each (GCC vector
 * extensions, lowered to SSE2 pairs by default). */
typedef uint32_t u32x8 __attribute__((vector_size(32)));
typedef uint64_t u64x4 __attribute__((vector_size(32)));
_Static_assert(TRIAL_BLOCK == 8, "one block is one u32x8");

static inline __attribute__((always_inline)) unsigned
block_divides32(uint32_t n, const uint32_t *inv, const uint32_t *lim)
{
    u32x8 vi, vl;
    memcpy(&vi, inv, sizeof vi);
    memcpy(&vl, lim, sizeof vl);
    u32x8 hit = (u32x8)(vi * n <= vl);
    u64x4 any;
    memcpy(&any, &hit, sizeof any);
    if (((any[0] | any[1]) | (any[2] | any[3])) == 0)
        return 0;
    unsigned mask = 0; /* which primes: bit k for prime k of the block */
    for (int k = 0; k < TRIAL_BLOCK; k++)
        mask |= (hit[k] & 1u) << k;
    return mask;
}

/* Trial division of n < 2^32 from block `block` on (see small_primes.h).
 * Compiled twice, for plain x86-64 and for AVX2 (chosen once at load
 * time by the dynamic linker): AVX2 does the block's eight 32-bit products
 * in one instruction where SSE2 needs two 64-bit multiplies and shuffles
 * per four. Measured on `seq 0 10000000 | mesh factor`: see README. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx2", "default")))
#endif
static uint32_t strip_blocks32(uint32_t n, int block, struct factor_list *list)
{
    for (int b = block; b < TRIAL_SLOTS / TRIAL_BLOCK; b++) {
        if (trial32.square[b] > n)
            break; /* n is 1 or a prime */
        /* rare past the first blocks: divide out the primes that hit */
        for (unsigned mask = block_divides32(n, &trial32.inv[b * TRIAL_BLOCK],
                                             &trial32.lim[b * TRIAL_BLOCK]);
             mask != 0; mask &= mask - 1)
            n = divide_out32(n, b * TRIAL_BLOCK + __builtin_ctz(mask), list);
    }
    return n;
}

/* The same for any n, moving to 32-bit products once n fits. */
static uint64_t strip_blocks64(uint64_t n, struct factor_list *list)
{
    for (int b = 0; b < TRIAL_SLOTS / TRIAL_BLOCK; b++) {
        if (n <= UINT32_MAX)
            return strip_blocks32((uint32_t)n, b, list);
        const struct small_prime *sp = &small_primes[b * TRIAL_BLOCK];
        /* The padding slots of trial32 are real primes here (above 2^12):
         * a match is still a true factor. First only whether any prime
         * of the block divides: a count, which compiles to cmp and adc
         * (four instructions a prime against seven for the mask). */
        unsigned hits = 0;
#pragma GCC unroll 8
        for (int k = 0; k < TRIAL_BLOCK; k++)
            hits += n * sp[k].inv <= sp[k].lim;
        if (hits == 0)
            continue;
        for (int k = 0; k < TRIAL_BLOCK; k++)
            if (n * sp[k].inv <= sp[k].lim)
                n = divide_out64(n, b * TRIAL_BLOCK + k, list);
    }
    return n;
}

/* Divides out 2 and the table primes; returns the cofactor, which is 1, a
 * prime, or a composite whose factors all exceed SMALL_PRIMES_BOUND. */
static uint64_t strip_small(uint64_t n, struct factor_list *list)
{
    int twos = __builtin_ctzll(n);
    for (int i = 0; i < twos; i++)
        push(list, 2);
    n = strip_blocks64(n >> twos, list);
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

/* A short rho run before ECM on composites up to 62 bits. Random 64-bit
 * numbers leave such cofactors with a 13..20-bit factor most of the time,
 * which rho finds in a few hundred steps, cheaper than the first pair of
 * curves; balanced 64-bit semiprimes (63-64 bits) skip it. Measured in
 * instructions (callgrind) per random 64-bit number: 256 steps up to 62
 * bits -16%, 256 steps at every size -19% but +6% on balanced
 * semiprimes, 512 steps -20% and +12%, 1024 steps up to 58 bits -11%.
 * With two walks in lockstep (rho_u64.c), 160 steps each: 8.34 against
 * 8.23 us per random 64-bit number (128 and 192 the same within 0.5%,
 * three walks of 96 or 128 steps 1.5% slower; running it up to 64 bits
 * gained nothing there and cost semiprimes 10%). */
enum { RHO_FIRST_STEPS = 160, RHO_FIRST_MAX_BITS = 62 };

/* p-1 (B1 = 1000, B2 = 25000) before ECM on composites of 59 bits and up,
 * where ECM would run its biggest curves. On the balanced 64-bit
 * semiprimes of tests/bench (best of 7 passes in one process): p-1 costs
 * 13.4 us and splits 31.6% of them, ECM alone 68.1 us, so 60.0 us
 * expected, -12%; B1 = 300, 500, 700, 1500, 2000 and B2 = 15..50 B1 all
 * did worse (up to -14% for B1 = 800-1000 with B2 = 20-25 B1, the same
 * within the noise). Random 64-bit numbers: the same within 2% for a
 * threshold of 50, 55 or 62 bits. */
enum { PM1_MIN_BITS = 59 };

static uint64_t find_divisor(uint64_t n)
{
    uint64_t d = 0;
    if (64 - __builtin_clzll(n) <= RHO_FIRST_MAX_BITS)
        d = u64_rho_once(n, RHO_FIRST_STEPS);
    if (d == 0 && 64 - __builtin_clzll(n) >= PM1_MIN_BITS)
        d = u64_pm1(n);
    if (d == 0)
        d = u64_ecm(n);
    if (d == 0)
        d = u64_rho_brent(n, UINT64_MAX);
    if (d == 0)
        d = smallest_divisor_slow(n);
    return d;
}

/* n > 1 has no factor below SMALL_PRIMES_BOUND. */
static void split(uint64_t n, struct factor_list *list)
{
    /* No factor below the bound and n below its square: prime, as in
     * strip_small, with no test (a third of the parts that random 64-bit
     * numbers split into; the check in line_u64.c accepts them alike). */
    if (n < (uint64_t)SMALL_PRIMES_BOUND * SMALL_PRIMES_BOUND || u64_is_prime(n)) {
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
