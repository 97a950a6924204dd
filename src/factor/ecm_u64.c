/* ecm_u64.c - elliptic curve method for 64-bit composites.
 *
 * Pollard rho needs ~sqrt(p) steps, ~80k for the 32-bit factors of a
 * balanced 64-bit semiprime; ECM finds them in a few curves of a few
 * thousand modular products each.
 * Montgomery curves in X:Z coordinates with Suyama's parametrisation (group
 * order divisible by 12), stage 1 by a Montgomery ladder over the product of
 * prime powers up to B1, stage 2 by the baby-step giant-step continuation
 * up to B2.
 *
 * The curve operations are written over ECM_LANES curves run in lockstep
 * (same scalar, same prime walk) so that independent products can overlap;
 * with branch-free modular additions and everything inlined one lane turned
 * out as fast as two (the ladder already has two independent halves), so
 * the count is 1, kept as a knob. Stage 2 follows the layout of micro-ecm
 * in YAFU (B. Buhrow): D = 2*3*5*7, primes D*g +- j paired on one product,
 * X_j*Z_j precomputed so each term costs one product (P. Montgomery's
 * trick); the code is our own. */
#include <stddef.h>

#include "factor_u64.h"
#include "mont64.h"
#include "prac_chains.h"
#include "small_primes.h"

enum {
    ECM_LANES = 2,          /* curves per batch: measured 1 ~ 2 > 4 once inlined */
    ECM_MAX_CURVES = 256,
    ECM_D = 210,            /* stage 2 giant step: 2*3*5*7 */
    ECM_HALF_D = ECM_D / 2,
};

/* ECM_LANES points, one per curve, in Montgomery form. */
struct lanes {
    uint64_t x[ECM_LANES], z[ECM_LANES];
};

/* p + q from d = p - q, lane by lane. */
static inline __attribute__((always_inline)) void xadd(const struct mont64 *m, const struct lanes *p,
                 const struct lanes *q, const struct lanes *d, struct lanes *r)
{
    for (int l = 0; l < ECM_LANES; l++) {
        uint64_t u = mont_mul(m, mont_sub(m, p->x[l], p->z[l]),
                              mont_add(m, q->x[l], q->z[l]));
        uint64_t v = mont_mul(m, mont_add(m, p->x[l], p->z[l]),
                              mont_sub(m, q->x[l], q->z[l]));
        uint64_t sum = mont_sqr(m, mont_add(m, u, v));
        uint64_t dif = mont_sqr(m, mont_sub(m, u, v));
        r->x[l] = mont_mul(m, d->z[l], sum);
        r->z[l] = mont_mul(m, d->x[l], dif);
    }
}

/* The same when the difference is normalised (z == 1): saves a product. */
static inline __attribute__((always_inline)) void xadd_unit(const struct mont64 *m, const struct lanes *p,
                      const struct lanes *q, const uint64_t *dx, struct lanes *r)
{
    for (int l = 0; l < ECM_LANES; l++) {
        uint64_t u = mont_mul(m, mont_sub(m, p->x[l], p->z[l]),
                              mont_add(m, q->x[l], q->z[l]));
        uint64_t v = mont_mul(m, mont_add(m, p->x[l], p->z[l]),
                              mont_sub(m, q->x[l], q->z[l]));
        r->x[l] = mont_sqr(m, mont_add(m, u, v));
        r->z[l] = mont_mul(m, dx[l], mont_sqr(m, mont_sub(m, u, v)));
    }
}

static inline __attribute__((always_inline)) void xdbl(const struct mont64 *m, const struct lanes *p,
                 const uint64_t *a24, struct lanes *r)
{
    for (int l = 0; l < ECM_LANES; l++) {
        uint64_t s = mont_sqr(m, mont_add(m, p->x[l], p->z[l]));
        uint64_t d = mont_sqr(m, mont_sub(m, p->x[l], p->z[l]));
        uint64_t t = mont_sub(m, s, d);
        r->x[l] = mont_mul(m, s, d);
        r->z[l] = mont_mul(m, t, mont_add(m, d, mont_mul(m, a24[l], t)));
    }
}

/* a^-1 mod n for a in normal form, or 0 when gcd(a, n) != 1. */
static uint64_t inverse_mod(uint64_t a, uint64_t n)
{
    __int128 t = 0, new_t = 1;
    uint64_t r = n, new_r = a;
    while (new_r != 0) {
        uint64_t q = r / new_r;
        __int128 tmp_t = t - (__int128)q * new_t;
        t = new_t;
        new_t = tmp_t;
        uint64_t tmp_r = r - q * new_r;
        r = new_r;
        new_r = tmp_r;
    }
    if (r != 1)
        return 0;
    return (uint64_t)(t < 0 ? t + n : t);
}

/* ECM_LANES curves: base points normalised (z == one), a24 = (A + 2) / 4. */
struct curves {
    struct lanes base;
    uint64_t a24[ECM_LANES];
};

/* Suyama's curves for sigma, sigma+1, ...: x = u^3 / v^3 and
 * a24 = (v-u)^3 (3u+v) / (16 u^3 v) with u = sigma^2 - 5, v = 4 sigma.
 * All lanes share one inversion (Montgomery's batch trick). Returns 1 when
 * the curves are usable, a factor of n found on the way, or n when some
 * curve is degenerate (the caller moves on to the next sigmas). */
static uint64_t curves_init(const struct mont64 *m, uint64_t sigma,
                            struct curves *c)
{
    uint64_t num_x[ECM_LANES], num_a[ECM_LANES], den[ECM_LANES];
    uint64_t five = mont_to(m, 5), sixteen = mont_to(m, 16);
    uint64_t all = m->one;
    for (int l = 0; l < ECM_LANES; l++) {
        uint64_t s = mont_to(m, sigma + (uint64_t)l);
        uint64_t u = mont_sub(m, mont_sqr(m, s), five);
        uint64_t v = mont_add(m, mont_add(m, s, s), mont_add(m, s, s));
        uint64_t u3 = mont_mul(m, mont_sqr(m, u), u);
        uint64_t v3 = mont_mul(m, mont_sqr(m, v), v);
        uint64_t sixteen_u3v = mont_mul(m, mont_mul(m, sixteen, u3), v);
        uint64_t vmu = mont_sub(m, v, u);
        uint64_t t = mont_add(m, mont_add(m, u, u), mont_add(m, u, v));
        /* Over the common denominator 16 u^3 v^4: */
        num_x[l] = mont_mul(m, u3, sixteen_u3v);
        num_a[l] = mont_mul(m, mont_mul(m, mont_mul(m, mont_sqr(m, vmu), vmu), t), v3);
        den[l] = mont_mul(m, sixteen_u3v, v3);
        all = mont_mul(m, all, den[l]);
    }
    uint64_t all_plain = mont_from(m, all);
    uint64_t g = gcd_u64(all_plain, m->n);
    if (g != 1)
        return g;
    uint64_t inv = mont_to(m, inverse_mod(all_plain, m->n));
    for (int l = ECM_LANES - 1; l >= 0; l--) {
        uint64_t inv_l = inv; /* 1 / den[l] once the others are multiplied in */
        for (int o = 0; o < l; o++)
            inv_l = mont_mul(m, inv_l, den[o]);
        inv = mont_mul(m, inv, den[l]);
        c->a24[l] = mont_mul(m, num_a[l], inv_l);
        c->base.x[l] = mont_mul(m, num_x[l], inv_l);
        c->base.z[l] = m->one;
    }
    return 1;
}

/* [k]base for k the product of the prime powers <= B1, by the
 * precomputed PRAC chain (see prac_chains.h): ~16% fewer products than a
 * ladder over k's bits at B1 = 205 (2487 against ~2970), and no branch on
 * data: the op sequence is the same for every curve, which also keeps the
 * op dispatch well predicted. */
static struct lanes stage1(const struct mont64 *m, const struct curves *c,
                           const struct prac_chain *chain)
{
    struct lanes reg[PRAC_REGS];
    reg[0] = c->base;
    for (int i = 0; i < chain->count; i++) {
        const struct prac_op *op = &chain->ops[i];
        /* The generator never lets dst alias an input of an add (xadd reads
         * the difference after writing x); a doubling in place is fine. */
        if (op->op == 0)
            xdbl(m, &reg[op->a], c->a24, &reg[op->dst]);
        else
            xadd(m, &reg[op->a], &reg[op->b], &reg[op->c], &reg[op->dst]);
    }
    return reg[chain->result];
}

/* The chain for b1; every B1 that params_for picks has one (checked by
 * test_u64 through u64_ecm_chain_for). */
static const struct prac_chain *chain_for(uint64_t b1)
{
    for (size_t i = 0; i < sizeof prac_chains / sizeof prac_chains[0]; i++)
        if (prac_chains[i].b1 == b1)
            return &prac_chains[i];
    return NULL;
}

/* Stage 2 state of all lanes: baby[j] = [j]Q for odd j <= D/2 with the
 * products X*Z, and the giant steps [gm*D]Q. */
struct stage2 {
    struct lanes baby[ECM_HALF_D + 1];
    uint64_t baby_xz[ECM_HALF_D + 1][ECM_LANES];
    struct lanes step, giant, prev;
    uint64_t giant_xz[ECM_LANES];
    uint64_t gm;
    uint64_t acc[ECM_LANES];
};

static bool coprime_to_d(uint64_t j)
{
    return j % 3 != 0 && j % 5 != 0 && j % 7 != 0;
}

static void stage2_init(const struct mont64 *m, const struct curves *c,
                        const struct lanes *q, struct stage2 *s)
{
    struct lanes q2;
    xdbl(m, q, c->a24, &q2);
    s->baby[1] = *q;
    xadd(m, &q2, q, q, &s->baby[3]);
    for (int j = 5; j <= ECM_HALF_D; j += 2)
        xadd(m, &s->baby[j - 2], &q2, &s->baby[j - 4], &s->baby[j]);
    for (int j = 1; j <= ECM_HALF_D; j += 2)
        if (coprime_to_d((uint64_t)j))
            for (int l = 0; l < ECM_LANES; l++)
                s->baby_xz[j][l] = mont_mul(m, s->baby[j].x[l], s->baby[j].z[l]);
    xdbl(m, &s->baby[ECM_HALF_D], c->a24, &s->step); /* [D]Q */
    s->giant = s->step;
    s->gm = 1;
    for (int l = 0; l < ECM_LANES; l++) {
        s->giant_xz[l] = mont_mul(m, s->giant.x[l], s->giant.z[l]);
        s->acc[l] = m->one;
    }
}

static void giant_advance(const struct mont64 *m, const struct curves *c,
                          struct stage2 *s, uint64_t want)
{
    while (s->gm < want) {
        struct lanes next;
        if (s->gm == 1)
            xdbl(m, &s->giant, c->a24, &next);
        else
            xadd(m, &s->giant, &s->step, &s->prev, &next);
        s->prev = s->giant;
        s->giant = next;
        s->gm++;
    }
    for (int l = 0; l < ECM_LANES; l++)
        s->giant_xz[l] = mont_mul(m, s->giant.x[l], s->giant.z[l]);
}

/* acc *= X_g Z_j - X_j Z_g for every j in mask (bit i stands for j = 2i+1):
 * one product per j as (X_g - X_j)(Z_g + Z_j) - X_g Z_g + X_j Z_j. Both
 * primes gm*D - j and gm*D + j are covered by the same j. */
static void stage2_window(const struct mont64 *m, struct stage2 *s,
                          uint64_t mask)
{
    while (mask != 0) {
        int j = 2 * __builtin_ctzll(mask) + 1;
        mask &= mask - 1;
        const struct lanes *b = &s->baby[j];
        for (int l = 0; l < ECM_LANES; l++) {
            uint64_t t = mont_mul(m, mont_sub(m, s->giant.x[l], b->x[l]),
                                  mont_add(m, s->giant.z[l], b->z[l]));
            t = mont_add(m, mont_sub(m, t, s->giant_xz[l]), s->baby_xz[j][l]);
            s->acc[l] = mont_mul(m, s->acc[l], t);
        }
    }
}

/* Covers every prime p in (b1, b2]; returns the per-lane products, a
 * multiple of the factor exactly when some such p divides the order. */
static void stage2(const struct mont64 *m, const struct curves *c,
                   const struct lanes *q, uint64_t b1, uint64_t b2,
                   uint64_t acc[ECM_LANES])
{
    struct stage2 s;
    stage2_init(m, c, q, &s);
    uint64_t window = 0, mask = 0;
    for (int i = 0; i < SMALL_PRIMES_COUNT; i++) {
        uint64_t p = small_primes[i].p;
        if (p <= b1)
            continue;
        if (p > b2)
            break;
        uint64_t want = (p + ECM_HALF_D) / ECM_D;
        if (want == 0) { /* p < D/2: [p]Q is a baby step itself */
            for (int l = 0; l < ECM_LANES; l++)
                s.acc[l] = mont_mul(m, s.acc[l], s.baby[p].z[l]);
            continue;
        }
        if (want != window) {
            if (mask != 0)
                stage2_window(m, &s, mask);
            giant_advance(m, c, &s, want);
            window = want;
            mask = 0;
        }
        uint64_t md = want * ECM_D;
        uint64_t j = p > md ? p - md : md - p;
        mask |= 1ULL << (j / 2);
    }
    if (mask != 0)
        stage2_window(m, &s, mask);
    for (int l = 0; l < ECM_LANES; l++)
        acc[l] = s.acc[l];
}

/* gcd of n with the product of the lanes' values; when that is n (lanes
 * hit the identity mod every factor), tries the lanes one by one. Returns a
 * proper factor, 1, or n. */
static uint64_t lanes_gcd(const struct mont64 *m, const uint64_t *v)
{
    uint64_t prod = m->one;
    for (int l = 0; l < ECM_LANES; l++)
        prod = mont_mul(m, prod, v[l]);
    uint64_t g = gcd_u64(mont_from(m, prod), m->n);
    if (g != m->n)
        return g;
    for (int l = 0; l < ECM_LANES; l++) {
        g = gcd_u64(mont_from(m, v[l]), m->n);
        if (g != 1 && g != m->n)
            return g;
    }
    return m->n;
}

struct ecm_params {
    uint64_t b1, b2;
};

static struct ecm_params params_for(uint64_t n)
{
    /* Bigger inputs have bigger smallest factors: grow B1 with them. */
    int bits = 64 - __builtin_clzll(n);
    uint64_t b1 = bits <= 44 ? 47 : bits <= 52 ? 85 : bits <= 58 ? 125 : 205;
    return (struct ecm_params){b1, 20 * b1};
}

uint64_t u64_ecm(uint64_t n)
{
    struct mont64 m;
    mont_init(&m, n);
    struct ecm_params par = params_for(n);
    const struct prac_chain *chain = chain_for(par.b1);
    if (chain == NULL)
        return 0; /* unreachable: the caller falls back to rho */
    for (uint64_t sigma = 6; sigma < 6 + ECM_MAX_CURVES; sigma += ECM_LANES) {
        struct curves c;
        uint64_t g = curves_init(&m, sigma, &c);
        if (g != 1) {
            if (g != n)
                return g;
            continue;
        }
        struct lanes q = stage1(&m, &c, chain);
        g = lanes_gcd(&m, q.z);
        if (g == 1) {
            uint64_t acc[ECM_LANES];
            stage2(&m, &c, &q, par.b1, par.b2, acc);
            g = lanes_gcd(&m, acc);
        }
        if (g != 1 && g != n)
            return g;
    }
    return 0;
}
