/* rho_u64.c - Pollard-Brent rho on Montgomery arithmetic.
 *
 * The always-works fallback of the u64 path: slower than ECM on balanced
 * semiprimes (~sqrt(p) steps) but it never needs tuning, so factor_u64 can
 * guarantee an answer. */
#include "factor_u64.h"
#include "mont64.h"

enum { RHO_BATCH = 128 }; /* differences multiplied together per gcd */

/* One Brent cycle with x -> x^2 + c; returns a divisor of n (maybe n). */
static uint64_t rho_cycle(const struct mont64 *m, uint64_t c, uint64_t x0,
                          uint64_t max_iterations)
{
    uint64_t y = x0, x = x0, ys = x0, q = m->one, g = 1;
    uint64_t r = 1, done = 0;
    while (g == 1 && done < max_iterations) {
        x = y;
        for (uint64_t i = 0; i < r; i++)
            y = mont_add(m, mont_sqr(m, y), c);
        for (uint64_t k = 0; k < r && g == 1; k += RHO_BATCH) {
            ys = y;
            uint64_t steps = r - k < RHO_BATCH ? r - k : RHO_BATCH;
            for (uint64_t i = 0; i < steps; i++) {
                y = mont_add(m, mont_sqr(m, y), c);
                q = mont_mul(m, q, x > y ? x - y : y - x);
            }
            g = gcd_u64(q, m->n);
            done += steps;
        }
        r *= 2;
    }
    if (g == m->n || g == 0) {
        /* The batch overshot (or q became 0): replay it one step at a time. */
        do {
            ys = mont_add(m, mont_sqr(m, ys), c);
            g = gcd_u64(x > ys ? x - ys : ys - x, m->n);
        } while (g == 1);
    }
    return g;
}

uint64_t u64_rho_brent(uint64_t n, uint64_t max_iterations)
{
    struct mont64 m;
    mont_init(&m, n);
    for (uint64_t c = 1; c < 64; c++) {
        uint64_t g = rho_cycle(&m, mont_to(&m, c), mont_to(&m, 2),
                               max_iterations);
        if (g != 1 && g != n)
            return g;
    }
    return 0;
}

uint64_t u64_rho_once(uint64_t n, uint64_t iterations)
{
    struct mont64 m;
    mont_init(&m, n);
    uint64_t g = rho_cycle(&m, m.one, mont_to(&m, 2), iterations);
    return g != 1 && g != n ? g : 0;
}
