/* mont128.h - Montgomery arithmetic modulo an odd n < 2^128 (internal).
 *
 * The 65..128-bit pre-pass (rho_u128.c) runs thousands of modular products
 * per number; GMP's mpz calls cost several times more than two-limb
 * Montgomery products at this size (call overhead, allocation, division).
 * Residues are unsigned __int128 in Montgomery form (a*R mod n, R = 2^128).
 * Moduli up to 2^128 - 1 are allowed, so intermediate sums can carry past
 * 128 bits: the reduction keeps that carry explicitly. */
#ifndef MESH_FACTOR_MONT128_H
#define MESH_FACTOR_MONT128_H

#include <stdint.h>

#include "mont64.h" /* u128, mont_inverse_2adic */

struct mont128 {
    u128 n;        /* odd modulus */
    uint64_t ninv; /* -n^-1 mod 2^64: one limb of Montgomery's quotient */
    u128 one;      /* R mod n */
};

static inline uint64_t lo64(u128 x) { return (uint64_t)x; }
static inline uint64_t hi64(u128 x) { return (uint64_t)(x >> 64); }

/* a*b/R mod n for a, b < n: CIOS over two 64-bit limbs. The running value
 * stays below 2n < 2^129, so one carry bit (t2 / top) is enough. */
static inline u128 m128_mul(const struct mont128 *m, u128 a, u128 b)
{
    uint64_t a0 = lo64(a), a1 = hi64(a), n0 = lo64(m->n), n1 = hi64(m->n);
    uint64_t t0, t1, t2, q;
    u128 p;
    /* limb 0 of b */
    p = (u128)a0 * lo64(b);
    t0 = lo64(p);
    p = (u128)a1 * lo64(b) + hi64(p);
    t1 = lo64(p);
    t2 = hi64(p);
    q = t0 * m->ninv;
    p = (u128)q * n0 + t0; /* low limb becomes 0 by choice of q */
    p = (u128)q * n1 + t1 + hi64(p);
    t0 = lo64(p);
    p = (u128)t2 + hi64(p);
    t1 = lo64(p);
    t2 = hi64(p);
    /* limb 1 of b */
    p = (u128)a0 * hi64(b) + t0;
    t0 = lo64(p);
    p = (u128)a1 * hi64(b) + t1 + hi64(p);
    t1 = lo64(p);
    u128 top = (u128)t2 + hi64(p);
    q = t0 * m->ninv;
    p = (u128)q * n0 + t0;
    p = (u128)q * n1 + t1 + hi64(p);
    u128 r = (u128)lo64(p) | (u128)lo64(top + hi64(p)) << 64;
    uint64_t carry = hi64(top + hi64(p));
    return (carry || r >= m->n) ? r - m->n : r;
}

static inline u128 m128_add(const struct mont128 *m, u128 a, u128 b)
{
    /* a + b may wrap past 2^128 when n is close to it: compare against
     * n - b instead of forming the sum. */
    return a >= m->n - b ? a - (m->n - b) : a + b;
}

static inline u128 m128_sub(const struct mont128 *m, u128 a, u128 b)
{
    return a >= b ? a - b : a - b + m->n;
}

static inline void m128_init(struct mont128 *m, u128 n)
{
    m->n = n;
    m->ninv = -mont_inverse_2adic(lo64(n));
    m->one = ((u128)0 - n) % n; /* 2^128 mod n */
}

/* a in [0, n) into Montgomery form: a*R mod n by 128 modular doublings
 * (only at setup, never in a loop). */
static inline u128 m128_to(const struct mont128 *m, u128 a)
{
    for (int i = 0; i < 128; i++)
        a = m128_add(m, a, a);
    return a;
}

static inline u128 m128_from(const struct mont128 *m, u128 a)
{
    return m128_mul(m, a, 1);
}

static inline int ctz128(u128 x) /* x != 0 */
{
    return lo64(x) != 0 ? __builtin_ctzll(lo64(x)) : 64 + __builtin_ctzll(hi64(x));
}

/* Binary gcd with whole runs of zero bits shifted out at once: the bit-at-
 * a-time form cost rho ~8 ns per step at one gcd every 128 steps. */
static inline u128 gcd_u128(u128 a, u128 b)
{
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    int shift = ctz128(a | b);
    a >>= ctz128(a);
    do {
        b >>= ctz128(b);
        if (a > b) {
            u128 t = a;
            a = b;
            b = t;
        }
        b -= a;
    } while (b != 0);
    return a << shift;
}

#endif
