/* mont64.h - Montgomery arithmetic modulo an odd 64-bit n (internal).
 *
 * This is the innermost loop of the u64 fast path, the product's hot path:
 * every primality test, rho step and ECM curve operation is built from
 * mont_mul. Values stay in Montgomery form (a*R mod n, R = 2^64) so a
 * modular product costs three multiplications and no division.
 * Header-only (static inline) so the compiler can keep everything in
 * registers across the loops that use it. */
#ifndef MESH_FACTOR_MONT64_H
#define MESH_FACTOR_MONT64_H

/* The hot steps below are inline asm on x86-64 with GCC or clang; every
 * other CPU compiles the plain C beside each. MESH_PORTABLE_C asks for
 * the plain C here too, so the tests run both (tests/factor/meson.build). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(MESH_PORTABLE_C)
#define MESH_X86_ASM 1
#endif

#include <stdbool.h>
#include <stdint.h>

typedef unsigned __int128 u128;

struct mont64 {
    uint64_t n;    /* odd modulus */
    uint64_t ninv; /* n^-1 mod 2^64 */
    uint64_t one;  /* R mod n: 1 in Montgomery form */
    uint64_t r2;   /* R^2 mod n: converts into Montgomery form */
};

static inline uint64_t mont_inverse_2adic(uint64_t n)
{
    /* Newton iteration: each step doubles the number of correct low bits;
     * x = n is already correct to 3 bits for odd n (n*n == 1 mod 8). */
    uint64_t x = n;
    for (int i = 0; i < 5; i++)
        x *= 2 - n * x;
    return x;
}

/* Everything but r2, which only mont_to needs: the primality tests and
 * rho form their few constants with mont_small instead, and skip the
 * 128-bit remainder (a call into libgcc) of every mont_init. */
static inline void mont_init_small(struct mont64 *m, uint64_t n)
{
    m->n = n;
    m->ninv = mont_inverse_2adic(n);
    m->one = (uint64_t)(-n) % n;
    m->r2 = 0;
}

static inline void mont_init(struct mont64 *m, uint64_t n)
{
    mont_init_small(m, n);
    m->r2 = (uint64_t)(((u128)m->one * m->one) % n);
}

/* a - b mod n for a, b < n (or b <= a + n - 1): the difference, then n
 * added back on a borrow by a select. GCC compiles the plain C form to a
 * conditional jump in places (ECM's stage 1), taken at random; the asm
 * pins a cmov, as micro-ecm in YAFU does. lea adds without touching the
 * flags, so the borrow of the sub still selects: three instructions. */
static inline uint64_t mont_select_sub(uint64_t a, uint64_t b, uint64_t n)
{
#if defined(MESH_X86_ASM)
    uint64_t wrapped;
    __asm__("subq %[b], %[a]\n\t"               /* a - b, borrow when a < b */
            "leaq (%[a],%[n]), %[wrapped]\n\t" /* a - b + n */
            "cmovcq %[wrapped], %[a]"
            : [a] "+&r"(a), [wrapped] "=&r"(wrapped)
            : [b] "r"(b), [n] "r"(n)
            : "cc");
    return a;
#else
    return a >= b ? a - b : a - b + n;
#endif
}

/* t / R mod n for t < n*R. Using n^-1 (not -n^-1) keeps the intermediate
 * below 2^64 for every n < 2^64: the result is hi - mulhi(q, n), borrowing n
 * when negative. */
static inline uint64_t mont_reduce(const struct mont64 *m, u128 t)
{
    uint64_t hi = (uint64_t)(t >> 64);
    uint64_t q = (uint64_t)t * m->ninv;
    uint64_t qn_hi = (uint64_t)(((u128)q * m->n) >> 64);
    return mont_select_sub(hi, qn_hi, m->n);
}

/* a * b / R mod n. Every curve operation, rho step and primality test is
 * a chain of these, and the kernel runs at about three instructions per
 * cycle, so their instruction count is its speed: one asm block does the
 * product, q = lo * n^-1, mulhi(q, n) and the select in seven instructions
 * (GCC's own code for the same C took twelve, with moves around the fixed
 * rax:rdx of mul). */
static inline uint64_t mont_mul(const struct mont64 *m, uint64_t a, uint64_t b)
{
#if defined(MESH_X86_ASM)
    uint64_t hi, wrapped;
    __asm__("mulq %[b]\n\t"                     /* rdx:rax = a * b */
            "movq %%rdx, %[hi]\n\t"
            "imulq %[ninv], %%rax\n\t"          /* q = lo * n^-1 */
            "mulq %[n]\n\t"                     /* rdx = mulhi(q, n) */
            "subq %%rdx, %[hi]\n\t"             /* borrow when negative */
            "leaq (%[hi],%[n]), %[wrapped]\n\t"
            "cmovcq %[wrapped], %[hi]"
            : [hi] "=&r"(hi), [wrapped] "=&r"(wrapped), "+a"(a)
            : [b] "rm"(b), [ninv] "rm"(m->ninv), [n] "r"(m->n)
            : "rdx", "cc");
    return hi;
#else
    return mont_reduce(m, (u128)a * b);
#endif
}

static inline uint64_t mont_sqr(const struct mont64 *m, uint64_t a)
{
    return mont_mul(m, a, a);
}

/* mont_mul for a chain of dependent products (p-1's stage 1 and the
 * primality tests square one value over and over): hi + n is formed while
 * the products are under way, so only a sub and the cmov follow the last
 * multiply, one cycle less than the sub, lea and cmov of mont_mul, for
 * one more instruction. */
static inline uint64_t mont_mul_chained(const struct mont64 *m, uint64_t a,
                                        uint64_t b)
{
#if defined(MESH_X86_ASM)
    uint64_t hi, wrapped;
    __asm__("mulq %[b]\n\t"
            "movq %%rdx, %[hi]\n\t"
            "leaq (%%rdx,%[n]), %[wrapped]\n\t" /* hi + n */
            "imulq %[ninv], %%rax\n\t"
            "mulq %[n]\n\t"
            "subq %%rdx, %[wrapped]\n\t"
            "subq %%rdx, %[hi]\n\t"
            "cmovcq %[wrapped], %[hi]"
            : [hi] "=&r"(hi), [wrapped] "=&r"(wrapped), "+a"(a)
            : [b] "rm"(b), [ninv] "rm"(m->ninv), [n] "r"(m->n)
            : "rdx", "cc");
    return hi;
#else
    return mont_mul(m, a, b);
#endif
}

static inline uint64_t mont_sqr_chained(const struct mont64 *m, uint64_t a)
{
    return mont_mul_chained(m, a, a);
}

static inline uint64_t mont_add(const struct mont64 *m, uint64_t a, uint64_t b)
{
    /* a, b < n. a + b >= n exactly when (a - n) + b carries out, a - n
     * wrapping. Both sums at once and the carry selects: no data-dependent
     * branch (one cost ECM a third of its time, measured). */
#if defined(MESH_X86_ASM)
    uint64_t sum = a + b, reduced = a - m->n;
    __asm__("addq %[b], %[reduced]\n\t"
            "cmovcq %[reduced], %[sum]"
            : [sum] "+&r"(sum), [reduced] "+&r"(reduced)
            : [b] "r"(b)
            : "cc");
    return sum;
#else
    uint64_t t = a - (m->n - b); /* a + b - n, wrapped when negative */
    uint64_t mask = -(uint64_t)(a < m->n - b);
    return t + (m->n & mask);
#endif
}

static inline uint64_t mont_sub(const struct mont64 *m, uint64_t a, uint64_t b)
{
    return mont_select_sub(a, b, m->n);
}

/* c in Montgomery form for c < n, by doubling and adding one: a few
 * additions for the small constants of the primality tests and rho, and
 * valid after mont_init_small. */
static inline uint64_t mont_small(const struct mont64 *m, uint64_t c)
{
    uint64_t r = 0;
    for (int b = 63 - __builtin_clzll(c | 1); b >= 0; b--) {
        r = mont_add(m, r, r);
        if ((c >> b) & 1)
            r = mont_add(m, r, m->one);
    }
    return r;
}

/* a in Montgomery form; needs r2 (mont_init). */
static inline uint64_t mont_to(const struct mont64 *m, uint64_t a)
{
    return mont_mul(m, a % m->n, m->r2);
}

static inline uint64_t mont_from(const struct mont64 *m, uint64_t a)
{
    return mont_reduce(m, a);
}

static inline uint64_t mont_pow(const struct mont64 *m, uint64_t base, uint64_t e)
{
    uint64_t r = m->one;
    while (e != 0) {
        if (e & 1)
            r = mont_mul(m, r, base);
        base = mont_sqr(m, base);
        e >>= 1;
    }
    return r;
}

static inline uint64_t gcd_u64(uint64_t a, uint64_t b)
{
    /* Binary gcd: no divisions, which matters in the rho/ECM loops. Each
     * step replaces the larger of two odd numbers by their difference with
     * its factors of 2 removed; min and |difference| as selects, not a
     * branch on which is larger (taken at random: half the steps were
     * mispredicted). */
    if (a == 0)
        return b;
    if (b == 0)
        return a;
    int shift = __builtin_ctzll(a | b);
    a >>= __builtin_ctzll(a);
    b >>= __builtin_ctzll(b);
    while (a != b) {
        uint64_t diff = b - a;
        uint64_t smaller = a < b ? a : b;
        uint64_t delta = a < b ? diff : a - b; /* even, nonzero */
        a = smaller;
        b = delta >> __builtin_ctzll(delta);
    }
    return a << shift;
}

/* a^-1 mod n for a in normal form, and gcd(a, n) in *gcd: the inverse is
 * meaningful only when that is 1. ECM's batch inversions and p-1's stage 2
 * need the gcd when the inversion fails (it is what they look for), and
 * Euclid gives both: no separate binary gcd first. The cofactors of a
 * alternate in sign, so their magnitudes (at most n) and the parity of
 * the step count do without 128-bit arithmetic. (Replacing the
 * divisions by up to 8 subtractions per step, as micro-ecm's modinv_64
 * does, measured slower here: 0.45 against 0.34 us per ECM curves_init.) */
static inline uint64_t inverse_gcd_u64(uint64_t a, uint64_t n, uint64_t *gcd)
{
    uint64_t r0 = n, r1 = a, t0 = 0, t1 = 1; /* |t0| a = +-r0 mod n */
    bool t0_positive = false;
    while (r1 != 0) {
        uint64_t q = r0 / r1, r2 = r0 - q * r1, t2 = t0 + q * t1;
        r0 = r1;
        r1 = r2;
        t0 = t1;
        t1 = t2;
        t0_positive = !t0_positive;
    }
    *gcd = r0;
    return t0_positive ? t0 : n - t0;
}

/* a^-1 mod n, or 0 when gcd(a, n) != 1. */
static inline uint64_t inverse_mod_u64(uint64_t a, uint64_t n)
{
    uint64_t gcd, inv = inverse_gcd_u64(a, n, &gcd);
    return gcd == 1 ? inv : 0;
}

#endif
