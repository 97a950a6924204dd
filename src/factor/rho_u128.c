/* rho_u128.c - bounded Pollard-Brent rho for 65..128-bit composites.
 *
 * A cheap pre-pass before MPQS: MPQS costs the same ~1.7 ms on a 100-bit
 * number whatever its factors, while rho finds a 20-bit factor in ~1k
 * steps (~20 us at ~20 ns a step, measured). Bounded, so a
 * balanced semiprime (which rho cannot split) loses little before MPQS. */
#include "factor_u128.h"
#include "mont128.h"

enum { RHO_BATCH = 128 }; /* differences multiplied together per gcd */

static inline u128 rho_step(const struct mont128 *m, u128 y, u128 c)
{
    return m128_add(m, m128_mul(m, y, y), c);
}

/* Replays a batch that overshot (its product hit 0 mod n) one step at a
 * time from ys; returns the first nontrivial gcd, possibly n. */
static u128 rho_replay(const struct mont128 *m, u128 x, u128 ys, u128 c,
                       int steps)
{
    u128 g = 1;
    for (int i = 0; i < steps && g == 1; i++) {
        ys = rho_step(m, ys, c);
        g = gcd_u128(x > ys ? x - ys : ys - x, m->n);
    }
    return g;
}

/* One Brent cycle with y -> y^2 + c; returns a divisor of n (maybe 1 when
 * the budget ran out, or n). */
static u128 rho_cycle(const struct mont128 *m, u128 c, uint64_t max_steps)
{
    u128 y = m->one, x = y, q = m->one, g = 1;
    uint64_t r = 1, done = 0;
    while (g == 1 && done < max_steps) {
        x = y;
        for (uint64_t i = 0; i < r; i++)
            y = rho_step(m, y, c);
        for (uint64_t k = 0; k < r && g == 1 && done < max_steps;
             k += RHO_BATCH) {
            u128 ys = y;
            int steps = r - k < RHO_BATCH ? (int)(r - k) : RHO_BATCH;
            for (int i = 0; i < steps; i++) {
                y = rho_step(m, y, c);
                q = m128_mul(m, q, x > y ? x - y : y - x);
            }
            g = gcd_u128(q, m->n);
            if (g == m->n || g == 0)
                g = rho_replay(m, x, ys, c, steps);
            done += (uint64_t)steps + (k == 0 ? r : 0);
        }
        r *= 2;
    }
    return g;
}

u128 u128_rho(u128 n, uint64_t max_steps)
{
    if ((n & 1) == 0)
        return 2;
    struct mont128 m;
    m128_init(&m, n);
    u128 g = rho_cycle(&m, m128_to(&m, 1), max_steps);
    return g != 1 && g != n ? g : 0;
}
