/* ecm_u64.c - elliptic curve method for 64-bit composites.
 *
 * Pollard rho needs ~sqrt(p) steps, ~80k for the 32-bit factors of a
 * balanced 64-bit semiprime; ECM finds them in a few curves of a few
 * thousand modular products each, which is what makes the fast path an
 * order of magnitude faster than coreutils on its worst case.
 * Montgomery curves in X:Z coordinates with Suyama's parametrisation (group
 * order divisible by 12), stage 1 by a Montgomery ladder over the product of
 * prime powers up to B1, stage 2 by the standard continuation up to the end
 * B2 = ECM_B2_RATIO * B1 (at most the end of the small prime table). */
#include "factor_u64.h"
#include "mont64.h"
#include "small_primes.h"

enum {
    ECM_MAX_CURVES = 256,
    ECM_SCALAR_WORDS = 16, /* product of prime powers <= B1 < 1024 bits */
    ECM_D = 210,          /* stage 2 giant step: 2*3*5*7 */
    ECM_B2_RATIO = 20,    /* measured best of 20..50 at B1 85..600 */
};

struct point {
    uint64_t x, z;
};

/* P + Q from P - Q (= diff), all in Montgomery form. */
static struct point xadd(const struct mont64 *m, struct point p, struct point q,
                         struct point diff)
{
    uint64_t u = mont_mul(m, mont_sub(m, p.x, p.z), mont_add(m, q.x, q.z));
    uint64_t v = mont_mul(m, mont_add(m, p.x, p.z), mont_sub(m, q.x, q.z));
    struct point r;
    r.x = mont_mul(m, diff.z, mont_sqr(m, mont_add(m, u, v)));
    r.z = mont_mul(m, diff.x, mont_sqr(m, mont_sub(m, u, v)));
    return r;
}

/* The same with diff.z == 1 (the stage 1 base point is normalised). */
static struct point xadd_unit(const struct mont64 *m, struct point p,
                              struct point q, uint64_t diff_x)
{
    uint64_t u = mont_mul(m, mont_sub(m, p.x, p.z), mont_add(m, q.x, q.z));
    uint64_t v = mont_mul(m, mont_add(m, p.x, p.z), mont_sub(m, q.x, q.z));
    struct point r;
    r.x = mont_sqr(m, mont_add(m, u, v));
    r.z = mont_mul(m, diff_x, mont_sqr(m, mont_sub(m, u, v)));
    return r;
}

static struct point xdbl(const struct mont64 *m, struct point p, uint64_t a24)
{
    uint64_t s = mont_sqr(m, mont_add(m, p.x, p.z));
    uint64_t d = mont_sqr(m, mont_sub(m, p.x, p.z));
    uint64_t t = mont_sub(m, s, d);
    struct point r;
    r.x = mont_mul(m, s, d);
    r.z = mont_mul(m, t, mont_add(m, d, mont_mul(m, a24, t)));
    return r;
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

/* k = product of p^e <= b1 over primes p <= b1, little-endian words. */
static int stage1_scalar(uint64_t b1, uint64_t k[ECM_SCALAR_WORDS])
{
    int words = 1;
    k[0] = 1;
    for (int i = -1; i < SMALL_PRIMES_COUNT; i++) {
        uint64_t p = i < 0 ? 2 : small_primes[i].p;
        if (p > b1)
            break;
        uint64_t pe = p;
        while (pe * p <= b1)
            pe *= p;
        uint64_t carry = 0;
        for (int w = 0; w < words; w++) {
            u128 prod = (u128)k[w] * pe + carry;
            k[w] = (uint64_t)prod;
            carry = (uint64_t)(prod >> 64);
        }
        if (carry != 0 && words < ECM_SCALAR_WORDS)
            k[words++] = carry;
    }
    return words;
}

struct curve {
    struct point base; /* normalised: z == one */
    uint64_t a24;      /* (A + 2) / 4 */
};

/* Suyama's curve for sigma; returns a factor of n found while setting it
 * up (rare), 1 when the curve is usable, n when it is degenerate. */
static uint64_t curve_init(const struct mont64 *m, uint64_t sigma,
                           struct curve *c)
{
    uint64_t s = mont_to(m, sigma);
    uint64_t u = mont_sub(m, mont_sqr(m, s), mont_to(m, 5));
    uint64_t v = mont_add(m, mont_add(m, s, s), mont_add(m, s, s));
    uint64_t u3 = mont_mul(m, mont_sqr(m, u), u);
    uint64_t v3 = mont_mul(m, mont_sqr(m, v), v);
    /* x = u^3 / v^3, a24 = (v-u)^3 (3u+v) / (16 u^3 v): one inversion. */
    uint64_t sixteen_u3v = mont_mul(m, mont_mul(m, mont_to(m, 16), u3), v);
    uint64_t den = mont_mul(m, sixteen_u3v, v3);
    uint64_t den_plain = mont_from(m, den);
    uint64_t g = gcd_u64(den_plain, m->n);
    if (g != 1)
        return g;
    uint64_t inv = mont_to(m, inverse_mod(den_plain, m->n));
    uint64_t vmu = mont_sub(m, v, u);
    uint64_t num = mont_mul(m, mont_mul(m, mont_sqr(m, vmu), vmu),
                            mont_add(m, mont_add(m, u, u), mont_add(m, u, v)));
    c->a24 = mont_mul(m, mont_mul(m, num, v3), inv);
    c->base.x = mont_mul(m, mont_mul(m, u3, sixteen_u3v), inv);
    c->base.z = m->one;
    return 1;
}

static struct point stage1(const struct mont64 *m, const struct curve *c,
                           const uint64_t *k, int words)
{
    int top = 63 - __builtin_clzll(k[words - 1]);
    struct point r0 = c->base, r1 = xdbl(m, c->base, c->a24);
    for (int w = words - 1; w >= 0; w--) {
        for (int b = (w == words - 1 ? top - 1 : 63); b >= 0; b--) {
            if ((k[w] >> b) & 1) {
                r0 = xadd_unit(m, r0, r1, c->base.x);
                r1 = xdbl(m, r1, c->a24);
            } else {
                r1 = xadd_unit(m, r0, r1, c->base.x);
                r0 = xdbl(m, r0, c->a24);
            }
        }
    }
    return r0;
}

/* Accumulates X_{mD} Z_j - X_j Z_{mD} for every prime p = mD +- j in
 * (b1, table end]; returns gcd(product, n). */
static uint64_t stage2(const struct mont64 *m, const struct curve *c,
                       struct point q, uint64_t b1, uint64_t b2)
{
    struct point baby[ECM_D / 2 + 1]; /* baby[j] = [j]Q for odd j */
    struct point q2 = xdbl(m, q, c->a24);
    baby[1] = q;
    baby[3] = xadd(m, q2, q, q);
    for (int j = 5; j <= ECM_D / 2; j += 2)
        baby[j] = xadd(m, baby[j - 2], q2, baby[j - 4]);
    struct point giant_step = xdbl(m, baby[ECM_D / 2], c->a24); /* [D]Q */
    struct point giant = giant_step, prev = giant_step;
    uint64_t gm = 1; /* giant = [gm*D]Q, prev = [(gm-1)*D]Q once gm > 1 */
    uint64_t acc = m->one;
    for (int i = 0; i < SMALL_PRIMES_COUNT; i++) {
        uint64_t p = small_primes[i].p;
        if (p <= b1)
            continue;
        if (p > b2)
            break;
        uint64_t want = (p + ECM_D / 2) / ECM_D;
        if (want == 0) { /* p < D/2: [p]Q is a baby step itself */
            acc = mont_mul(m, acc, baby[p].z);
            continue;
        }
        while (gm < want) {
            struct point next = gm == 1 ? xdbl(m, giant, c->a24)
                                        : xadd(m, giant, giant_step, prev);
            prev = giant;
            giant = next;
            gm++;
        }
        uint64_t md = gm * ECM_D;
        uint64_t j = p > md ? p - md : md - p;
        const struct point *b = &baby[j];
        acc = mont_mul(m, acc, mont_sub(m, mont_mul(m, giant.x, b->z),
                                        mont_mul(m, b->x, giant.z)));
    }
    return gcd_u64(mont_from(m, acc), m->n);
}

static uint64_t b1_for(uint64_t n)
{
    /* Bigger inputs have bigger smallest factors: grow B1 with them. */
    int bits = 64 - __builtin_clzll(n);
    return bits <= 44 ? 47 : bits <= 52 ? 85 : bits <= 58 ? 125 : 205;
}

uint64_t u64_ecm(uint64_t n)
{
    struct mont64 m;
    mont_init(&m, n);
    uint64_t b1 = b1_for(n);
    uint64_t k[ECM_SCALAR_WORDS];
    int words = stage1_scalar(b1, k);
    for (uint64_t sigma = 6; sigma < 6 + ECM_MAX_CURVES; sigma++) {
        struct curve c;
        uint64_t g = curve_init(&m, sigma, &c);
        if (g != 1) {
            if (g != n)
                return g;
            continue;
        }
        struct point q = stage1(&m, &c, k, words);
        g = gcd_u64(mont_from(&m, q.z), n);
        if (g == 1)
            g = stage2(&m, &c, q, b1, b1 * ECM_B2_RATIO);
        if (g != 1 && g != n)
            return g;
    }
    return 0;
}
