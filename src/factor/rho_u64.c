/* rho_u64.c - Pollard-Brent rho on Montgomery arithmetic.
 *
 * The always-works fallback of the u64 path: slower than ECM on balanced
 * semiprimes (~sqrt(p) steps) but it never needs tuning, so factor_u64 can
 * guarantee an answer. */
#include "factor_u64.h"
#include "mont64.h"

enum { RHO_BATCH = 128 }; /* differences multiplied together per gcd */

/* Below 2^62 the walk keeps its values in [0, 2n) instead of [0, n): the
 * constant is added to the high half of y^2 while the reduction's two
 * products are still on their way, so a step costs the latency of one
 * Montgomery product and no modular addition after it (the walk is one
 * chain of dependent steps: its latency is rho's whole cost). y < 2n
 * keeps y^2 < n R there, and hi + c - mulhi(q, n) lies in (-n, 2n): one
 * conditional n makes it [0, 2n). Every value stays congruent to the
 * true walk modulo n, so modulo each prime factor nothing changes. */
enum { RHO_LAZY_MAX_BITS = 62 };

static inline __attribute__((always_inline)) uint64_t
rho_step(const struct mont64 *m, uint64_t y, uint64_t c, bool lazy)
{
    if (!lazy)
        return mont_add(m, mont_sqr(m, y), c);
#if defined(MESH_X86_ASM)
    /* mont_mul_chained's asm (the walk is one chain of dependent steps)
     * with c added to the high half. */
    uint64_t hi, wrapped;
    __asm__("mulq %%rax\n\t"
            "movq %%rdx, %[hi]\n\t"
            "addq %[c], %[hi]\n\t"
            "leaq (%[hi],%[n]), %[wrapped]\n\t"
            "imulq %[ninv], %%rax\n\t"
            "mulq %[n]\n\t"
            "subq %%rdx, %[wrapped]\n\t"
            "subq %%rdx, %[hi]\n\t"
            "cmovcq %[wrapped], %[hi]"
            : [hi] "=&r"(hi), [wrapped] "=&r"(wrapped), "+a"(y)
            : [c] "rm"(c), [ninv] "rm"(m->ninv), [n] "r"(m->n)
            : "rdx", "cc");
    return hi;
#else
    u128 t = (u128)y * y;
    uint64_t hi = (uint64_t)(t >> 64) + c;
    uint64_t q = (uint64_t)t * m->ninv;
    uint64_t qn_hi = (uint64_t)(((u128)q * m->n) >> 64);
    return mont_select_sub(hi, qn_hi, m->n);
#endif
}

/* The first, short rho try runs RHO_WALKS walks (x -> x^2 + c for
 * c = 1, 2, ...) in lockstep. One walk is a chain of dependent products:
 * its latency is its whole cost, and the multiplier idles in between, so a
 * second walk costs little time. Each walk is an independent random map
 * modulo p, so two walks of `iterations` steps find p about as often as
 * one of sqrt(2) times as many steps, and the first to collide ends the
 * try. */
enum { RHO_WALKS = 2 };

struct walks {
    uint64_t c[RHO_WALKS];
    uint64_t x[RHO_WALKS], y[RHO_WALKS], ys[RHO_WALKS], q[RHO_WALKS];
};

/* Replays walk k's last batch from ys one step at a time; its product was
 * a multiple of n, so some step's difference shares a factor with n. */
static inline __attribute__((always_inline)) uint64_t
walk_replay(const struct mont64 *m, const struct walks *w, int k,
            uint64_t steps, bool lazy)
{
    uint64_t ys = w->ys[k], g = 1;
    for (uint64_t i = 0; i < steps && g == 1; i++) {
        ys = rho_step(m, ys, w->c[k], lazy);
        g = gcd_u64(w->x[k] > ys ? w->x[k] - ys : ys - w->x[k], m->n);
    }
    return g;
}

/* The gcd of n with the walks' products: one gcd for all of them, and
 * walk by walk only when that is n (one walk collided modulo every
 * factor, or two walks found different factors). */
static inline __attribute__((always_inline)) uint64_t
walks_gcd(const struct mont64 *m, const struct walks *w, uint64_t steps,
          bool lazy)
{
    uint64_t all = w->q[0];
    for (int k = 1; k < RHO_WALKS; k++)
        all = mont_mul(m, all, w->q[k]);
    uint64_t g = gcd_u64(all, m->n);
    if (g != m->n && g != 0)
        return g;
    for (int k = 0; k < RHO_WALKS; k++) {
        g = gcd_u64(w->q[k], m->n);
        if (g == m->n || g == 0)
            g = walk_replay(m, w, k, steps, lazy);
        if (g != 1 && g != m->n)
            return g;
    }
    return m->n;
}

/* Brent's cycle search on all walks at once (walk k adds c0 + k), up to
 * `iterations` steps each; returns a divisor of n (1 or n when it
 * failed). |x - y| may be n itself in the lazy walk (x = y mod n): q then
 * becomes a multiple of n and the replay finds it, as for a true
 * collision. The walk loops are unrolled so the walks stay in registers:
 * rolled, each step stored its value and the next loaded it back, a
 * store-to-load delay on the chain that is rho's whole cost. */
static inline __attribute__((always_inline)) uint64_t
rho_walks(const struct mont64 *m, uint64_t c0, uint64_t x0, uint64_t iterations,
          bool lazy)
{
    struct walks w;
    for (int k = 0; k < RHO_WALKS; k++) {
        w.c[k] = mont_small(m, c0 + (uint64_t)k);
        w.y[k] = w.x[k] = w.ys[k] = x0;
        w.q[k] = m->one;
    }
    uint64_t g = 1;
    for (uint64_t r = 1, done = 0; g == 1 && done < iterations; r *= 2) {
        for (int k = 0; k < RHO_WALKS; k++)
            w.x[k] = w.y[k];
        for (uint64_t i = 0; i < r; i++)
#pragma GCC unroll 4
            for (int k = 0; k < RHO_WALKS; k++)
                w.y[k] = rho_step(m, w.y[k], w.c[k], lazy);
        for (uint64_t b = 0; b < r && g == 1; b += RHO_BATCH) {
            uint64_t steps = r - b < RHO_BATCH ? r - b : RHO_BATCH;
            for (int k = 0; k < RHO_WALKS; k++)
                w.ys[k] = w.y[k];
            for (uint64_t i = 0; i < steps; i++) {
#pragma GCC unroll 4
                for (int k = 0; k < RHO_WALKS; k++) {
                    w.y[k] = rho_step(m, w.y[k], w.c[k], lazy);
                    uint64_t x = w.x[k], y = w.y[k];
                    w.q[k] = mont_mul(m, w.q[k], x > y ? x - y : y - x);
                }
            }
            g = walks_gcd(m, &w, steps, lazy);
            done += steps;
        }
    }
    return g;
}

uint64_t u64_rho_once(uint64_t n, uint64_t iterations)
{
    struct mont64 m;
    mont_init_small(&m, n);
    uint64_t x0 = mont_small(&m, 2);
    uint64_t g = 64 - __builtin_clzll(n) <= RHO_LAZY_MAX_BITS
                     ? rho_walks(&m, 1, x0, iterations, true)
                     : rho_walks(&m, 1, x0, iterations, false);
    return g != 1 && g != n ? g : 0;
}

/* The fallback: the same walks, with further constants whenever every
 * walk of a batch collided modulo all of n at once. */
uint64_t u64_rho_brent(uint64_t n, uint64_t max_iterations)
{
    struct mont64 m;
    mont_init_small(&m, n);
    for (uint64_t c0 = 1; c0 < 64; c0 += RHO_WALKS) {
        uint64_t g = rho_walks(&m, c0, mont_small(&m, 2), max_iterations, false);
        if (g != 1 && g != n)
            return g;
    }
    return 0;
}
