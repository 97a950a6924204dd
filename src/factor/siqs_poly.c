/* siqs_poly.c - SIQS polynomials: A as a product of factor-base primes
 * near sqrt(2kN)/M, then 2^(s-1) values of B per A in Gray-code order, so
 * each next B moves every root by one table lookup and one add. */
#include <math.h>
#include <stdlib.h>

#include "siqs_internal.h"

/* splitmix64: the seeded stream that picks A's primes (deterministic). */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* a^-1 mod p for a coprime to the prime p < 2^32 (extended Euclid). */
static uint32_t inverse_mod(uint32_t a, uint32_t p)
{
    uint32_t r0 = p, r1 = a;
    int32_t t0 = 0, t1 = 1; /* |t| <= p < 2^31 */
    while (r1 != 0) {
        uint32_t q = r0 / r1, r = r0 - q * r1;
        int32_t t = t0 - (int32_t)q * t1;
        r0 = r1, r1 = r, t0 = t1, t1 = t;
    }
    return (uint32_t)(t0 < 0 ? t0 + (int32_t)p : t0);
}

static double target_log2_a(const struct siqs_ctx *ctx)
{
    return (log2(mpz_get_d(ctx->kn)) + 1) / 2 - log2((double)ctx->m);
}

/* First factor-base slot whose prime is at least bound. */
static uint32_t slot_at_least(const struct siqs_fb *fb, double bound)
{
    uint32_t lo = fb->first_sieved, hi = fb->count;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (fb->p[mid] < bound)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The number of A's primes: each about p_ref, the prime two thirds into
 * the factor base (larger primes give fewer B per A, smaller ones lose
 * more of what sieving finds). */
static int a_prime_count(const struct siqs_ctx *ctx, double log2_a)
{
    double p_ref = ctx->fb.p[ctx->fb.count * 2 / 3];
    int s = (int)ceil(log2_a / log2(p_ref));
    return s < 2 ? 2 : s > SIQS_MAX_A_PRIMES ? SIQS_MAX_A_PRIMES : s;
}

static bool chosen(const uint32_t *idx, int count, uint32_t slot)
{
    for (int i = 0; i < count; i++)
        if (idx[i] == slot)
            return true;
    return false;
}

static bool a_was_used(struct siqs_ctx *ctx, uint64_t a)
{
    for (size_t i = 0; i < ctx->nused_a; i++)
        if (ctx->used_a[i] == a)
            return true;
    return false;
}

static bool remember_a(struct siqs_ctx *ctx, uint64_t a)
{
    if (ctx->nused_a == ctx->used_a_cap) {
        size_t cap = ctx->used_a_cap ? 2 * ctx->used_a_cap : 64;
        uint64_t *grown = realloc(ctx->used_a, cap * sizeof *grown);
        if (grown == NULL)
            return false;
        ctx->used_a = grown, ctx->used_a_cap = cap;
    }
    ctx->used_a[ctx->nused_a++] = a;
    return true;
}

/* One try: s - 1 random primes around the ideal size, and the last one
 * that brings A closest to the target. Returns A, or 0 if no good. */
static uint64_t try_a(struct siqs_ctx *ctx, double log2_a, int s,
                      uint32_t lo, uint32_t hi, double tolerance)
{
    const struct siqs_fb *fb = &ctx->fb;
    struct siqs_poly *poly = &ctx->poly;
    double left = log2_a;
    for (int i = 0; i < s - 1; i++) {
        uint32_t slot;
        do
            slot = lo + (uint32_t)(next_random(&ctx->rng) % (hi - lo));
        while (chosen(poly->a_idx, i, slot));
        poly->a_idx[i] = slot;
        left -= log2((double)fb->p[slot]);
    }
    uint32_t last = slot_at_least(fb, exp2(left));
    /* Of the two primes around the wanted size, the closer unused one. */
    uint32_t best = UINT32_MAX;
    double best_err = tolerance;
    for (uint32_t c = last > fb->first_sieved ? last - 1 : last;
         c <= last && c < fb->count; c++) {
        double err = fabs(log2((double)fb->p[c]) - left);
        if (!chosen(poly->a_idx, s - 1, c) && err < best_err)
            best = c, best_err = err;
    }
    if (best == UINT32_MAX)
        return 0;
    poly->a_idx[s - 1] = best;
    uint64_t a = 1;
    for (int i = 0; i < s; i++)
        a *= fb->p[poly->a_idx[i]];
    return a_was_used(ctx, a) ? 0 : a;
}

enum { A_TRIES = 2000 };

static bool choose_a(struct siqs_ctx *ctx)
{
    double log2_a = target_log2_a(ctx);
    int s = a_prime_count(ctx, log2_a);
    if (log2_a + log2((double)s) > 62)
        return false; /* B, a sum of s terms below A, must fit int64_t */
    double ideal = exp2(log2_a / s);
    uint32_t lo = slot_at_least(&ctx->fb, ideal / 2);
    uint32_t hi = slot_at_least(&ctx->fb, ideal * 2);
    while (hi - lo < (uint32_t)(2 * s) + 4 && (lo > ctx->fb.first_sieved || hi < ctx->fb.count)) {
        lo = lo > ctx->fb.first_sieved ? lo - 1 : lo;
        hi = hi < ctx->fb.count ? hi + 1 : hi;
    }
    if (hi - lo < (uint32_t)s + 1)
        return false;
    for (int t = 0; t < A_TRIES; t++) {
        /* Loosen the fit when tight tries keep failing (few candidates). */
        uint64_t a = try_a(ctx, log2_a, s, lo, hi, t < A_TRIES / 2 ? 0.5 : 2.0);
        if (a != 0) {
            ctx->poly.s = s;
            ctx->poly.a = a;
            return remember_a(ctx, a);
        }
    }
    return false;
}

/* B's terms: B_l = (A/q_l) * gamma_l with gamma_l = sqrt(kN) (A/q_l)^-1
 * mod q_l, so that B = sum B_l has B^2 == kN mod A. */
static void compute_b_terms(struct siqs_ctx *ctx)
{
    struct siqs_poly *poly = &ctx->poly;
    poly->b = 0;
    for (int l = 0; l < poly->s; l++) {
        uint32_t slot = poly->a_idx[l], q = ctx->fb.p[slot];
        uint64_t a_l = poly->a / q;
        uint64_t gamma = (uint64_t)ctx->fb.sqrt_kn[slot] *
                         inverse_mod((uint32_t)(a_l % q), q) % q;
        if (gamma > q / 2)
            gamma = q - gamma;
        poly->b_terms[l] = a_l * gamma;
        poly->b += (int64_t)poly->b_terms[l];
    }
}

/* C = (B^2 - kN) / A, exact; |C| < 2^127 for n within SIQS_MAX_BITS. */
static void compute_c(struct siqs_ctx *ctx)
{
    struct siqs_poly *poly = &ctx->poly;
    mpz_set_si(ctx->tmp, poly->b);
    mpz_mul(ctx->tmp, ctx->tmp, ctx->tmp);
    mpz_sub(ctx->tmp, ctx->tmp, ctx->kn);
    mpz_divexact_ui(ctx->tmp, ctx->tmp, poly->a);
    uint64_t limbs[2] = {0, 0};
    mpz_export(limbs, NULL, -1, sizeof limbs[0], 0, 0, ctx->tmp);
    i128 c = (i128)((u128)limbs[1] << 64 | limbs[0]);
    poly->c = mpz_sgn(ctx->tmp) < 0 ? -c : c;
    for (int l = 0; l < poly->s; l++) {
        int64_t q = ctx->fb.p[poly->a_idx[l]];
        poly->a_2b[l] = (uint32_t)(((2 * (i128)poly->b) % q + q) % q);
        poly->a_c[l] = (uint32_t)((poly->c % q + q) % q);
        poly->a_m[l] = (uint32_t)(ctx->m % q);
    }
}

/* A's primes are not sieved (g has one root mod q, not two) and are
 * trial-divided apart: a sentinel that no sieve index matches. */
static void mask_a_primes(struct siqs_ctx *ctx)
{
    for (int l = 0; l < ctx->poly.s; l++) {
        ctx->poly.root1[ctx->poly.a_idx[l]] = SIQS_NO_ROOT;
        ctx->poly.root2[ctx->poly.a_idx[l]] = SIQS_NO_ROOT;
    }
}

/* Roots of g mod p as sieve indices: x = A^-1 (+-sqrt(kN) - B), i = x + M;
 * and each term's root step 2 B_l A^-1 mod p. */
static void compute_roots(struct siqs_ctx *ctx)
{
    const struct siqs_fb *fb = &ctx->fb;
    struct siqs_poly *poly = &ctx->poly;
    for (uint32_t j = SIQS_FB_ODD; j < fb->count; j++) {
        struct siqs_mod m = siqs_mod_init(fb->p[j], fb->magic[j]);
        uint32_t p = m.p, a_mod = siqs_mod_u64(&m, poly->a);
        if (a_mod == 0) {
            for (int l = 0; l < poly->s; l++)
                poly->bainv[(size_t)l * fb->count + j] = 0;
            continue;
        }
        uint32_t ainv = siqs_inv_mod(&m, a_mod);
        uint32_t b_mod = siqs_mod_u64(&m, (uint64_t)poly->b), m_mod = siqs_mod_u32(&m, ctx->m);
        uint32_t t = fb->sqrt_kn[j];
        poly->root1[j] = (uint16_t)siqs_mod_u32(&m, siqs_mul_mod(&m, ainv, t + p - b_mod) + m_mod);
        poly->root2[j] = (uint16_t)siqs_mod_u32(&m, siqs_mul_mod(&m, ainv, 2 * p - t - b_mod) + m_mod);
        for (int l = 0; l < poly->s; l++)
            poly->bainv[(size_t)l * fb->count + j] = (uint16_t)siqs_mul_mod(
                &m, 2 * siqs_mod_u64(&m, poly->b_terms[l]), ainv);
    }
    mask_a_primes(ctx);
}

bool siqs_next_a(struct siqs_ctx *ctx)
{
    if (!choose_a(ctx))
        return false;
    compute_b_terms(ctx);
    compute_c(ctx);
    compute_roots(ctx);
    ctx->poly.b_index = 0;
    return true;
}

uint32_t siqs_polys_per_a(const struct siqs_ctx *ctx)
{
    return 1u << (ctx->poly.s - 1);
}

/* Gray code step b_index -> b_index + 1 flips the sign of one term
 * B_l (l = 1 + trailing zeros of the new index): B moves by 2 B_l and each
 * root by 2 B_l A^-1 mod p. */
void siqs_next_b(struct siqs_ctx *ctx)
{
    struct siqs_poly *poly = &ctx->poly;
    const struct siqs_fb *fb = &ctx->fb;
    uint32_t i = ++poly->b_index;
    int v = __builtin_ctz(i), l = v + 1;
    bool now_minus = ((i ^ (i >> 1)) >> v) & 1;
    const uint16_t *delta = &poly->bainv[(size_t)l * fb->count];
    if (now_minus)
        poly->b -= 2 * (int64_t)poly->b_terms[l];
    else
        poly->b += 2 * (int64_t)poly->b_terms[l];
    for (uint32_t j = SIQS_FB_ODD; j < fb->count; j++) {
        uint32_t p = fb->p[j];
        uint32_t d = now_minus ? delta[j] : (delta[j] ? p - delta[j] : 0);
        uint32_t r1 = poly->root1[j] + d, r2 = poly->root2[j] + d;
        poly->root1[j] = (uint16_t)(r1 >= p ? r1 - p : r1);
        poly->root2[j] = (uint16_t)(r2 >= p ? r2 - p : r2);
    }
    mask_a_primes(ctx);
    compute_c(ctx);
}
