/* pm1_u64.c - Pollard's p-1 method for 64-bit composites, before ECM.
 *
 * p-1 finds p when p - 1 is smooth: one exponentiation of the fixed base 2
 * and a cheap stage 2, about the price of one ECM curve, where a balanced
 * 64-bit semiprime needs six curves on average (6.2 measured). With
 * B1 = 1000, B2 = 25000 one of the two 32-bit primes has such a p - 1 in
 * 32% of balanced semiprimes, for the price of about 1.2 curves (see
 * factor_u64.c for the measured tuning). micro-ecm in YAFU (B. Buhrow) also runs a short p-1
 * before its curves; the code here is our own.
 *
 * Stage 1: x = 2^E, E the product of the prime powers up to B1
 * (pm1_plan.h). Base 2 makes "multiply by the base" a modular addition.
 * Stage 2: every prime p in (B1, B2] is g*D +- j, and with the Lucas
 * sequence V_k = x^k + x^-k the single term V_{gD} - V_j vanishes modulo a
 * prime q as soon as x^(gD - j) or x^(gD + j) is 1 modulo q: one product
 * covers two candidate primes. */
#include "factor_u64.h"
#include "mont64.h"
#include "pm1_plan.h"

enum { PM1_HALF_D = PM1_D / 2 };

/* 2^E in Montgomery form. A plain branch on the bits of E: they are the
 * same on every call, and the branch measured faster than selecting the
 * doubling by a mask (3.8 against 5.3 us per stage 1). */
static uint64_t pm1_stage1(const struct mont64 *m)
{
    uint64_t x = mont_add(m, m->one, m->one);
    for (int b = PM1_EXPONENT_BITS - 2; b >= 0; b--) {
        x = mont_sqr_chained(m, x);
        if ((pm1_exponent[b / 64] >> (b % 64)) & 1)
            x = mont_add(m, x, x);
    }
    return x;
}

/* v[i] = V_{2i+1} for 2i+1 <= D/2, from V_1 = w; returns V_D. */
static uint64_t pm1_babies(const struct mont64 *m, uint64_t w,
                           uint64_t v[PM1_HALF_D / 2 + 1])
{
    uint64_t two = mont_add(m, m->one, m->one);
    uint64_t v2 = mont_sub(m, mont_sqr(m, w), two);
    v[0] = w;
    v[1] = mont_sub(m, mont_mul(m, w, v2), w); /* V_3 = V_1 V_2 - V_1 */
    for (int i = 2; i <= PM1_HALF_D / 2; i++) /* V_{j+2} = V_j V_2 - V_{j-2} */
        v[i] = mont_sub(m, mont_mul(m, v[i - 1], v2), v[i - 2]);
    return mont_sub(m, mont_sqr(m, v[PM1_HALF_D / 2]), two); /* V_{2*105} */
}

/* The product of V_{gD} - V_j over the plan, in Montgomery form. */
static uint64_t pm1_stage2(const struct mont64 *m, uint64_t x)
{
    uint64_t x_plain = mont_from(m, x);
    uint64_t inv = inverse_mod_u64(x_plain, m->n);
    if (inv == 0)
        return 0; /* x shares a factor with n: gcd(0, n) = n, give up */
    uint64_t v[PM1_HALF_D / 2 + 1];
    uint64_t vd = pm1_babies(m, mont_add(m, x, mont_to(m, inv)), v);
    /* Giant steps V_{gD}: V_{(g+1)D} = V_{gD} V_D - V_{(g-1)D}. */
    uint64_t prev = mont_add(m, m->one, m->one), cur = vd; /* V_0, V_D */
    for (int g = 1; g < PM1_FIRST_GIANT; g++) {
        uint64_t next = mont_sub(m, mont_mul(m, cur, vd), prev);
        prev = cur;
        cur = next;
    }
    /* Two accumulators, terms alternating: each is a chain of dependent
     * products, and two independent chains let the multiplier overlap. */
    uint64_t acc = m->one, acc2 = m->one;
    for (int i = 0; i < PM1_GIANTS; i++) {
        uint64_t mask = pm1_masks[i];
        while (mask != 0) {
            acc = mont_mul(m, acc, mont_sub(m, cur, v[__builtin_ctzll(mask)]));
            mask &= mask - 1;
            if (mask == 0)
                break;
            acc2 = mont_mul(m, acc2, mont_sub(m, cur, v[__builtin_ctzll(mask)]));
            mask &= mask - 1;
        }
        uint64_t next = mont_sub(m, mont_mul(m, cur, vd), prev);
        prev = cur;
        cur = next;
    }
    return mont_mul(m, acc, acc2);
}

uint64_t u64_pm1(uint64_t n)
{
    struct mont64 m;
    mont_init(&m, n);
    uint64_t x = pm1_stage1(&m);
    uint64_t g = gcd_u64(mont_from(&m, mont_sub(&m, x, m.one)), n);
    if (g == 1)
        g = gcd_u64(mont_from(&m, pm1_stage2(&m, x)), n);
    /* g == n: every prime of n was found at once (or x was 1); ECM then
     * splits n instead. */
    return g != 1 && g != n ? g : 0;
}
