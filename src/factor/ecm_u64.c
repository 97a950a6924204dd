/* ecm_u64.c - elliptic curve method for 64-bit composites.
 *
 * Pollard rho needs ~sqrt(p) steps, ~80k for the 32-bit factors of a
 * balanced 64-bit semiprime; ECM finds them in a few curves of a few
 * thousand modular products each.
 * Montgomery curves in X:Z coordinates with Suyama's parametrisation (group
 * order divisible by 12), stage 1 by a precomputed PRAC chain for the
 * product of prime powers up to B1 (prac_chains.h, P. Montgomery's Lucas
 * chains; micro-ecm in YAFU precomputes its chains too), stage 2 by the
 * baby-step giant-step continuation up to B2.
 *
 * The curve operations are written over ECM_LANES curves run in lockstep
 * (same chain, same prime walk) so that independent products can overlap.
 * A ladder has two independent halves per bit, so one lane was enough for
 * it; consecutive PRAC steps mostly depend on each other, so one lane is
 * latency-bound (measured 7.5 us of stage 1 per curve against 5.5 with two
 * lanes). Two lanes cost ~0.5 extra curve on average (curves come in
 * pairs) and still win: 55 against 66 us of ECM per balanced 64-bit
 * semiprime; three lanes tie on those and lose on random 64-bit inputs
 * (10.0 against 8.8 us per number), four lose. Stage 2 follows the layout of micro-ecm in YAFU
 * (B. Buhrow): D = 2*3*5*7, baby steps by two progressions of step 6,
 * primes D*g +- j paired on one term; baby and giant steps are normalised
 * to Z = 1 with one batch inversion so each term is one product. The code
 * is our own. */
#include <stddef.h>

#include "factor_u64.h"
#include "mont64.h"
#include "prac_chains.h"
#include "small_primes.h"

enum {
    ECM_LANES = 2,          /* curves per batch: see above */
    ECM_PREPARE_BATCHES = 4, /* batches set up with one inversion: see u64_ecm */
    ECM_PREPARED = ECM_PREPARE_BATCHES * ECM_LANES,
    ECM_MAX_CURVES = 256,
    ECM_D = 210,            /* stage 2 giant step: 2*3*5*7 */
    ECM_HALF_D = ECM_D / 2,
};

/* ECM_LANES points, one per curve, in Montgomery form. */
struct lanes {
    uint64_t x[ECM_LANES], z[ECM_LANES];
};

/* The lane loops below are unrolled: rolled, each op kept its registers
 * on the stack across the loop and counted it (8% more instructions on
 * balanced 64-bit semiprimes, and the kernel is bound by instructions). */

/* p + q from d = p - q, lane by lane. r must not alias d (d is read after
 * r->x is written); it may alias p or q. */
static inline __attribute__((always_inline)) void xadd(const struct mont64 *m, const struct lanes *p,
                 const struct lanes *q, const struct lanes *d, struct lanes *r)
{
#pragma GCC unroll 4
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

static inline __attribute__((always_inline)) void xdbl(const struct mont64 *m, const struct lanes *p,
                 const uint64_t *a24, struct lanes *r)
{
#pragma GCC unroll 4
    for (int l = 0; l < ECM_LANES; l++) {
        uint64_t s = mont_sqr(m, mont_add(m, p->x[l], p->z[l]));
        uint64_t d = mont_sqr(m, mont_sub(m, p->x[l], p->z[l]));
        uint64_t t = mont_sub(m, s, d);
        r->x[l] = mont_mul(m, s, d);
        r->z[l] = mont_mul(m, t, mont_add(m, d, mont_mul(m, a24[l], t)));
    }
}

/* ECM_LANES curves: base points normalised (z == one), a24 = (A + 2) / 4. */
struct curves {
    struct lanes base;
    uint64_t a24[ECM_LANES];
};

/* Curve number idx as a24 = num_a / den and x0 = num_x / den (Montgomery
 * form): Suyama's curve for sigma = 6 + idx, x0 = u^3 / v^3 and
 * a24 = (v-u)^3 (3u+v) / (16 u^3 v), u = sigma^2 - 5, v = 4 sigma.
 * Curves with rational torsion Z/2 x Z/8 (group order divisible by 16, as
 * micro-ecm in YAFU uses) were tried in place of the first twelve: the
 * success rate per curve at B1 = 205, B2 = 4100 on balanced 64-bit
 * semiprimes was the same as Suyama's (0.165 against 0.163, measured), so
 * they were not kept. */
static void curve_fraction(const struct mont64 *m, uint64_t idx,
                           uint64_t *num_x, uint64_t *num_a, uint64_t *den)
{
    uint64_t sigma = 6 + idx;
    uint64_t s = mont_to(m, sigma);
    uint64_t u = mont_sub(m, mont_sqr(m, s), mont_to(m, 5));
    uint64_t v = mont_add(m, mont_add(m, s, s), mont_add(m, s, s));
    uint64_t u3 = mont_mul(m, mont_sqr(m, u), u);
    uint64_t v3 = mont_mul(m, mont_sqr(m, v), v);
    uint64_t sixteen_u3v = mont_mul(m, mont_mul(m, mont_to(m, 16), u3), v);
    uint64_t vmu = mont_sub(m, v, u);
    uint64_t t = mont_add(m, mont_add(m, u, u), mont_add(m, u, v));
    /* Over the common denominator 16 u^3 v^4: */
    *num_x = mont_mul(m, u3, sixteen_u3v);
    *num_a = mont_mul(m, mont_mul(m, mont_mul(m, mont_sqr(m, vmu), vmu), t), v3);
    *den = mont_mul(m, sixteen_u3v, v3);
}

/* Curves first, first + 1, ... (see curve_fraction), ECM_LANES to a
 * batch, for `batches` batches. All share one inversion (Montgomery's
 * trick: the running products of the denominators, one inverse, then back
 * down). Returns 1 when the curves are usable, a factor of n found on the
 * way, or n when some curve is degenerate (the caller then takes the
 * batches one at a time and skips the bad one). */
static uint64_t curves_init(const struct mont64 *m, uint64_t first,
                            int batches, struct curves *c)
{
    uint64_t num_x[ECM_PREPARED], num_a[ECM_PREPARED], den[ECM_PREPARED];
    uint64_t prefix[ECM_PREPARED];
    int count = batches * ECM_LANES;
    uint64_t all = m->one;
    for (int i = 0; i < count; i++) {
        curve_fraction(m, first + (uint64_t)i, &num_x[i], &num_a[i], &den[i]);
        prefix[i] = all; /* product of the denominators before i */
        all = mont_mul(m, all, den[i]);
    }
    uint64_t g, inv_plain = inverse_gcd_u64(mont_from(m, all), m->n, &g);
    if (g != 1)
        return g;
    uint64_t inv = mont_to(m, inv_plain); /* 1 / (den[0] ... den[i]) */
    for (int i = count - 1; i >= 0; i--) {
        uint64_t inv_i = mont_mul(m, inv, prefix[i]); /* 1 / den[i] */
        inv = mont_mul(m, inv, den[i]);
        struct curves *b = &c[i / ECM_LANES];
        int l = i % ECM_LANES;
        b->a24[l] = mont_mul(m, num_a[i], inv_i);
        b->base.x[l] = mont_mul(m, num_x[i], inv_i);
        b->base.z[l] = m->one;
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

/* Giant steps stored at once: (B2 + D/2) / D + 1 for the largest B2 that
 * params_for picks (25 * 205 -> 26), with room to spare. */
enum { ECM_MAX_GIANTS = STAGE2_MAX_GIANTS };

/* Stage 2 state of all lanes: baby[j] = [j]Q for j = +-1 mod 6, j <= D/2
 * (only those coprime to D are used), and the normalised x = X/Z of the
 * used baby steps and of the giant steps [g*D]Q. */
struct stage2 {
    struct lanes baby[ECM_HALF_D + 1];
    uint64_t baby_x[ECM_HALF_D + 1][ECM_LANES];
    uint64_t giant_x[ECM_MAX_GIANTS][ECM_LANES];
};

static bool coprime_to_d(uint64_t j)
{
    return j % 3 != 0 && j % 5 != 0 && j % 7 != 0;
}

/* Fills s->baby and returns [D]Q in *step. */
static void stage2_baby(const struct mont64 *m, const struct curves *c,
                        const struct lanes *q, struct stage2 *s,
                        struct lanes *step)
{
    /* Only j = +-1 mod 6 are ever used (j coprime to D), so two
     * progressions of step 6 build them: 37 additions and 3 doublings
     * instead of 52 and 2 for every odd j (the layout of micro-ecm's
     * stage 2 init). [D]Q = [107]Q + [103]Q, difference [4]Q. */
    struct lanes q2, q3, q4, q6, b107;
    xdbl(m, q, c->a24, &q2);
    xadd(m, &q2, q, q, &q3);
    xdbl(m, &q3, c->a24, &q6);
    xdbl(m, &q2, c->a24, &q4);
    s->baby[1] = *q;
    xadd(m, &q3, &q2, q, &s->baby[5]);
    xadd(m, &q6, q, &s->baby[5], &s->baby[7]);
    xadd(m, &s->baby[5], &q6, q, &s->baby[11]); /* difference [-1]Q */
    for (int j = 17; j <= ECM_HALF_D; j += 6)
        xadd(m, &s->baby[j - 6], &q6, &s->baby[j - 12], &s->baby[j]);
    for (int j = 13; j <= ECM_HALF_D; j += 6)
        xadd(m, &s->baby[j - 6], &q6, &s->baby[j - 12], &s->baby[j]);
    xadd(m, &s->baby[101], &q6, &s->baby[95], &b107);
    xadd(m, &b107, &s->baby[103], &q4, step);
}

/* x = X/Z for every (X, Z) of the list with one inversion (Montgomery's
 * batch trick). Returns 1, or the product of all Z (a multiple of a factor
 * of n, or n) when it is not invertible: some point is the identity modulo
 * a factor, which is what ECM looks for. */
enum { ECM_MAX_NORMALISE = (ECM_HALF_D + ECM_MAX_GIANTS) * ECM_LANES };
static uint64_t normalise(const struct mont64 *m, const uint64_t *const *xs,
                          const uint64_t *const *zs, uint64_t *const *out,
                          int count)
{
    /* One running product each way. Splitting it into two interleaved
     * half-length chains (shorter dependency chains) gained < 0.5%, within
     * the noise, so the simple form stays. */
    uint64_t prefix[ECM_MAX_NORMALISE];
    uint64_t all = m->one;
    for (int i = 0; i < count; i++) {
        all = mont_mul(m, all, *zs[i]);
        prefix[i] = all;
    }
    uint64_t g, inv_plain = inverse_gcd_u64(mont_from(m, all), m->n, &g);
    if (g != 1)
        return all;
    uint64_t inv = mont_to(m, inv_plain);
    for (int i = count - 1; i >= 0; i--) {
        uint64_t zinv = i > 0 ? mont_mul(m, inv, prefix[i - 1]) : inv;
        inv = mont_mul(m, inv, *zs[i]);
        *out[i] = mont_mul(m, *xs[i], zinv);
    }
    return 1;
}

/* The stage 2 terms for (b1, b2) (see struct stage2_plan): from the table
 * in prac_chains.h for the pairs params_for picks, else worked out here. */
static void stage2_plan_init(uint64_t b1, uint64_t b2, struct stage2_plan *pl)
{
    for (size_t i = 0; i < sizeof stage2_plans / sizeof stage2_plans[0]; i++) {
        if (stage2_plans[i].b1 == b1 && stage2_plans[i].b2 == b2) {
            *pl = stage2_plans[i];
            return;
        }
    }
    *pl = (struct stage2_plan){.b1 = (uint32_t)b1, .b2 = (uint32_t)b2};
    for (int i = 0; i < SMALL_PRIMES_COUNT; i++) {
        uint64_t p = small_primes[i].p;
        if (p <= b1)
            continue;
        uint64_t g = (p + ECM_HALF_D) / ECM_D;
        if (p > b2 || g >= ECM_MAX_GIANTS)
            break; /* the second never happens: params_for keeps B2 small */
        if (g == 0) { /* p < D/2: [p]Q is a baby step itself */
            pl->low |= 1ULL << (p / 2);
            continue;
        }
        uint64_t md = g * ECM_D;
        uint64_t j = p > md ? p - md : md - p;
        pl->mask[g] |= 1ULL << (j / 2); /* g*D - j and g*D + j share a term */
        pl->giants = g;
    }
}

/* acc *= x_g - x_j for every j in mask (bit i stands for j = 2i+1). */
static void stage2_window(const struct mont64 *m, const struct stage2 *s,
                          uint64_t g, uint64_t mask, uint64_t acc[ECM_LANES],
                          uint64_t acc2[ECM_LANES])
{
    /* Two accumulators per lane, terms alternating: the products of one
     * accumulator form a dependency chain, and halving its length lets
     * the multiplier overlap them. */
    while (mask != 0) {
        int j = 2 * __builtin_ctzll(mask) + 1;
        mask &= mask - 1;
        for (int l = 0; l < ECM_LANES; l++)
            acc[l] = mont_mul(m, acc[l], mont_sub(m, s->giant_x[g][l], s->baby_x[j][l]));
        if (mask == 0)
            break;
        j = 2 * __builtin_ctzll(mask) + 1;
        mask &= mask - 1;
        for (int l = 0; l < ECM_LANES; l++)
            acc2[l] = mont_mul(m, acc2[l], mont_sub(m, s->giant_x[g][l], s->baby_x[j][l]));
    }
}

/* Covers every prime p in (b1, b2]; returns the per-lane products, a
 * multiple of the factor exactly when some such p divides the order.
 * With baby and giant steps normalised (Z = 1), the term for the pair of
 * primes g*D +- j is x_g - x_j: no product but the accumulation itself,
 * where the unnormalised cross product X_g Z_j - X_j Z_g costs two (one
 * with the X*Z trick). The normalisation costs ~3 products per point and
 * one inversion, far fewer than the ~450 terms it saves a product on. */
static void stage2(const struct mont64 *m, const struct curves *c,
                   const struct lanes *q, const struct stage2_plan *pl,
                   uint64_t acc[ECM_LANES])
{
    struct stage2 s;
    struct lanes giant[ECM_MAX_GIANTS];
    stage2_baby(m, c, q, &s, &giant[1]);
    uint64_t giants = pl->giants;
    for (uint64_t g = 2; g <= giants; g++) {
        if (g == 2)
            xdbl(m, &giant[1], c->a24, &giant[2]);
        else
            xadd(m, &giant[g - 1], &giant[1], &giant[g - 2], &giant[g]);
    }
    const uint64_t *xs[ECM_MAX_NORMALISE], *zs[ECM_MAX_NORMALISE];
    uint64_t *out[ECM_MAX_NORMALISE];
    int count = 0;
    for (int l = 0; l < ECM_LANES; l++) {
        for (int j = 1; j <= ECM_HALF_D; j += 2) {
            if (!coprime_to_d((uint64_t)j))
                continue;
            xs[count] = &s.baby[j].x[l];
            zs[count] = &s.baby[j].z[l];
            out[count++] = &s.baby_x[j][l];
        }
        for (uint64_t g = 1; g <= giants; g++) {
            xs[count] = &giant[g].x[l];
            zs[count] = &giant[g].z[l];
            out[count++] = &s.giant_x[g][l];
        }
    }
    uint64_t bad = normalise(m, xs, zs, out, count);
    for (int l = 0; l < ECM_LANES; l++)
        acc[l] = bad != 1 ? bad : m->one;
    if (bad != 1)
        return;
    for (uint64_t low = pl->low; low != 0; low &= low - 1) {
        int p = 2 * __builtin_ctzll(low) + 1;
        for (int l = 0; l < ECM_LANES; l++)
            acc[l] = mont_mul(m, acc[l], s.baby[p].z[l]);
    }
    uint64_t acc2[ECM_LANES];
    for (int l = 0; l < ECM_LANES; l++)
        acc2[l] = m->one;
    for (uint64_t g = 1; g <= giants; g++)
        stage2_window(m, &s, g, pl->mask[g], acc, acc2);
    for (int l = 0; l < ECM_LANES; l++)
        acc[l] = mont_mul(m, acc[l], acc2[l]);
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
    /* B2 = 25 B1 at 59-64 bits since stage 2 terms cost one product
     * (normalised points): on balanced 64-bit semiprimes 20, 25, 30, 40 B1
     * gave 54.7, 53.6, 53.5, 55.6 us of ECM per number, and B1 = 165 / 250
     * were slower at every B2 (measured with 2 lanes and the PRAC chains).
     * Below that 20 B1 stays: 25 cost random 64-bit inputs (mostly smaller
     * cofactors) 4% (9.07 against 8.69 us). */
    return (struct ecm_params){b1, (b1 == 205 ? 25 : 20) * b1};
}

/* Batches of curves set up ahead, and the curve number of the next batch
 * to set up. */
struct curve_supply {
    struct curves ready[ECM_PREPARE_BATCHES];
    int next, count;
    uint64_t idx;
};

/* The next batch of curves into *c, set up `ahead` batches at a time
 * (one inversion for all of them, see curves_init). Returns 1, a factor
 * of n found on the way, or n once ECM_MAX_CURVES curves are used up. */
static uint64_t next_curves(const struct mont64 *m, struct curve_supply *cs,
                            int ahead, struct curves *c)
{
    while (cs->next == cs->count) {
        if (cs->idx >= ECM_MAX_CURVES)
            return m->n;
        int batches = ahead;
        uint64_t g = curves_init(m, cs->idx, batches, cs->ready);
        if (g == m->n && batches > 1) { /* a degenerate curve: one by one */
            batches = 1;
            g = curves_init(m, cs->idx, 1, cs->ready);
        }
        cs->idx += (uint64_t)(batches * ECM_LANES);
        if (g != 1 && g != m->n)
            return g;
        cs->next = 0;
        cs->count = g == 1 ? batches : 0;
    }
    *c = cs->ready[cs->next++];
    return 1;
}

uint64_t u64_ecm(uint64_t n)
{
    struct mont64 m;
    mont_init(&m, n);
    struct ecm_params par = params_for(n);
    const struct prac_chain *chain = chain_for(par.b1);
    if (chain == NULL)
        return 0; /* unreachable: the caller falls back to rho */
    /* Balanced 64-bit semiprimes need three batches on average, so their
     * curves are set up four batches at a time: one inversion where there
     * were three. Smaller inputs mostly split on their first batch, and
     * would pay for curves they never run. */
    int ahead = par.b1 >= 205 ? ECM_PREPARE_BATCHES : 1;
    struct curve_supply supply = {.next = 0, .count = 0, .idx = 0};
    struct stage2_plan plan;
    bool planned = false;
    for (;;) {
        struct curves c;
        uint64_t g = next_curves(&m, &supply, ahead, &c);
        if (g == n)
            return 0; /* ECM_MAX_CURVES curves tried */
        if (g != 1)
            return g;
        struct lanes q = stage1(&m, &c, chain);
        /* A gcd after stage 1 too: folding its Z into stage 2 instead (one
         * gcd per batch) cost random 64-bit inputs 13% (9.9 against 8.8
         * us), whose smaller factors stage 1 often finds alone. */
        g = lanes_gcd(&m, q.z);
        if (g == 1) {
            uint64_t acc[ECM_LANES];
            if (!planned) {
                stage2_plan_init(par.b1, par.b2, &plan);
                planned = true;
            }
            stage2(&m, &c, &q, &plan, acc);
            g = lanes_gcd(&m, acc);
        }
        if (g != 1 && g != n)
            return g;
    }
}
