/* siqs_mp_poly.c - the multi-precision SIQS's polynomials.
 *
 * A number a_index is a product of s factor-base primes near
 * (sqrt(2kN) / M)^(1/s), drawn from a random stream seeded by n's seed
 * and a_index alone: any node can set up any A without the others.
 * Each A has 2^(s-1) values of B, taken in Gray-code order so each next
 * B moves every root by one table entry. */
#include <math.h>
#include <stdlib.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "siqs_mp_internal.h"

static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void siqs_mp_poly_init(struct mp_poly *poly)
{
    mpz_inits(poly->a, poly->b, poly->c, NULL);
    for (int l = 0; l < MP_MAX_A_PRIMES; l++)
        mpz_init(poly->b_terms[l]);
}

bool siqs_mp_poly_alloc(struct mp_ctx *ctx)
{
    struct mp_poly *poly = &ctx->poly;
    size_t n = ctx->fb.count;
    poly->root1 = malloc(n * sizeof *poly->root1);
    poly->root2 = malloc(n * sizeof *poly->root2);
    poly->bainv = malloc(n * MP_MAX_A_PRIMES * sizeof *poly->bainv);
    return poly->root1 && poly->root2 && poly->bainv;
}

void siqs_mp_poly_free(struct mp_poly *poly)
{
    mpz_clears(poly->a, poly->b, poly->c, NULL);
    for (int l = 0; l < MP_MAX_A_PRIMES; l++)
        mpz_clear(poly->b_terms[l]);
    free(poly->root1);
    free(poly->root2);
    free(poly->bainv);
}

static uint32_t slot_at_least(const struct mp_fb *fb, double bound)
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

static bool chosen(const uint32_t *idx, int count, uint32_t slot)
{
    for (int i = 0; i < count; i++)
        if (idx[i] == slot)
            return true;
    return false;
}

/* A's primes are about 2^11 for large n (thousands of B per A, and primes
 * that small contribute little to the sieve), fewer bits for small n. */
static int a_prime_count(const struct mp_ctx *ctx, double log2_a)
{
    double want = ctx->prm.bits > 200 ? 11.0 : ctx->prm.bits > 160 ? 10.0 : 9.0;
    double top = log2((double)ctx->fb.p[ctx->fb.count / 2]);
    if (want > top)
        want = top;
    int s = (int)lround(log2_a / want);
    return s < 3 ? 3 : s > MP_MAX_A_PRIMES ? MP_MAX_A_PRIMES : s;
}

/* One try: s - 1 random primes in [lo, hi), the last one bringing A
 * closest to the target. */
static bool try_a(struct mp_ctx *ctx, uint64_t *rng, double log2_a, int s,
                  uint32_t lo, uint32_t hi)
{
    const struct mp_fb *fb = &ctx->fb;
    struct mp_poly *poly = &ctx->poly;
    double left = log2_a;
    for (int i = 0; i < s - 1; i++) {
        uint32_t slot;
        do
            slot = lo + (uint32_t)(next_random(rng) % (hi - lo));
        while (chosen(poly->a_idx, i, slot));
        poly->a_idx[i] = slot;
        left -= log2((double)fb->p[slot]);
    }
    uint32_t last = slot_at_least(fb, exp2(left));
    for (uint32_t d = 0; d < 8; d++) {
        uint32_t c = last + (d % 2 ? (d + 1) / 2 : -(d / 2));
        if (c < fb->first_sieved || c >= fb->count || chosen(poly->a_idx, s - 1, c))
            continue;
        if (fabs(log2((double)fb->p[c]) - left) > 1.0)
            return false;
        poly->a_idx[s - 1] = c;
        return true;
    }
    return false;
}

enum { A_TRIES = 1000 };

static bool choose_a(struct mp_ctx *ctx, uint32_t a_index)
{
    struct mp_poly *poly = &ctx->poly;
    double log2_a = (log2(mpz_get_d(ctx->kn)) + 1) / 2 - log2((double)ctx->m);
    int s = a_prime_count(ctx, log2_a);
    double ideal = exp2(log2_a / s);
    uint32_t lo = slot_at_least(&ctx->fb, ideal / 1.6), hi = slot_at_least(&ctx->fb, ideal * 1.6);
    while (hi - lo < (uint32_t)(4 * s) + 8 && (lo > ctx->fb.first_sieved || hi < ctx->fb.count)) {
        lo = lo > ctx->fb.first_sieved ? lo - 1 : lo;
        hi = hi < ctx->fb.count ? hi + 1 : hi;
    }
    if (hi - lo < (uint32_t)s + 1)
        return false;
    uint64_t rng = ctx->seed ^ ((uint64_t)a_index * 0xd1342543de82ef95ULL);
    for (int t = 0; t < A_TRIES; t++) {
        if (!try_a(ctx, &rng, log2_a, s, lo, hi))
            continue;
        poly->s = s;
        poly->a_index = a_index;
        mpz_set_ui(poly->a, 1);
        for (int l = 0; l < s; l++)
            mpz_mul_ui(poly->a, poly->a, ctx->fb.p[poly->a_idx[l]]);
        return true;
    }
    return false;
}

/* B_l = (A / q_l) gamma_l, gamma_l = sqrt(kN) (A / q_l)^-1 mod q_l, so
 * that B = sum B_l has B^2 == kN (mod A). gamma_l is kept for the roots. */
static void compute_b_terms(struct mp_ctx *ctx)
{
    struct mp_poly *poly = &ctx->poly;
    mpz_set_ui(poly->b, 0);
    for (int l = 0; l < poly->s; l++) {
        uint32_t slot = poly->a_idx[l], q = ctx->fb.p[slot];
        mpz_divexact_ui(ctx->tmp, poly->a, q);
        uint32_t al = (uint32_t)mpz_fdiv_ui(ctx->tmp, q);
        uint32_t gamma = siqs_mp_mulmod(ctx->fb.sqrt_kn[slot], siqs_mp_invmod(al, q), q);
        if (gamma > q / 2)
            gamma = q - gamma;
        poly->gamma[l] = gamma;
        mpz_mul_ui(poly->b_terms[l], ctx->tmp, gamma);
        mpz_add(poly->b, poly->b, poly->b_terms[l]);
    }
}

static void compute_c(struct mp_ctx *ctx)
{
    struct mp_poly *poly = &ctx->poly;
    mpz_mul(poly->c, poly->b, poly->b);
    mpz_sub(poly->c, poly->c, ctx->kn);
    mpz_divexact(poly->c, poly->c, poly->a);
}

/* x mod p for x < 2^44 (two values below 2^22 multiplied) without a
 * division instruction: the quotient from a double is exact to one either
 * way (x is exact in a double, 1/p to 2^-53), then one correction. */
static inline uint32_t reduce44(uint64_t x, uint32_t p, double pinv)
{
    int64_t r = (int64_t)x - (int64_t)((double)x * pinv) * (int64_t)p;
    r += r < 0 ? (int64_t)p : 0;
    r -= r >= (int64_t)p ? (int64_t)p : 0;
    return (uint32_t)r;
}

static inline uint32_t mulmod44(uint32_t a, uint32_t b, uint32_t p, double pinv)
{
    return reduce44((uint64_t)a * b, p, pinv);
}

/* a^-1 mod p, 0 < a < p < 2^22: Euclid in 32 bits, where most quotients
 * are 1 or 2 (Gauss-Kuzmin) and need no division. */
static uint32_t invmod32(uint32_t a, uint32_t p)
{
    uint32_t r0 = p, r1 = a;
    int32_t t0 = 0, t1 = 1;
    while (r1 != 0) {
        uint32_t q = 1, r = r0 - r1;
        if (r >= r1) {
            r -= r1, q = 2;
            if (r >= r1)
                q = r0 / r1, r = r0 - q * r1;
        }
        int32_t t = t0 - (int32_t)q * t1;
        r0 = r1, r1 = r, t0 = t1, t1 = t;
    }
    return (uint32_t)(t0 < 0 ? t0 + (int32_t)p : t0);
}

/* Roots of Q mod p as sieve indices: x = A^-1 (+-sqrt(kN) - B), i = x + M;
 * and each term's step 2 B_l A^-1 mod p. A's own primes get no root.
 * Everything mod p from A's primes q_l and the gamma_l in 32-bit words
 * (B_l = gamma_l prod_{k != l} q_k): the GMP remainders of A, B and each
 * B_l and the 64-bit divisions they replace were a tenth of the run at
 * 150..170 bits. */
static void compute_roots(struct mp_ctx *ctx)
{
    const struct mp_fb *fb = &ctx->fb;
    struct mp_poly *poly = &ctx->poly;
    const int s = poly->s;
    uint32_t q[MP_MAX_A_PRIMES];
    for (int l = 0; l < s; l++)
        q[l] = fb->p[poly->a_idx[l]];
    for (uint32_t j = MP_FB_ODD; j < fb->count; j++) {
        uint32_t p = fb->p[j];
        double pinv = 1.0 / p;
        /* pre[l] = q_0 .. q_{l-1}, suf[l] = q_l .. q_{s-1}, mod p */
        uint32_t pre[MP_MAX_A_PRIMES + 1], suf[MP_MAX_A_PRIMES + 1];
        pre[0] = suf[s] = 1;
        for (int l = 0; l < s; l++)
            pre[l + 1] = mulmod44(pre[l], q[l], p, pinv);
        uint32_t a_mod = pre[s];
        if (a_mod == 0) {
            poly->root1[j] = poly->root2[j] = MP_NO_ROOT;
            for (int l = 0; l < s; l++)
                poly->bainv[(size_t)l * fb->count + j] = 0;
            continue;
        }
        for (int l = s - 1; l >= 0; l--)
            suf[l] = mulmod44(suf[l + 1], q[l], p, pinv);
        uint32_t bl[MP_MAX_A_PRIMES], b_mod = 0;
        for (int l = 0; l < s; l++) {
            uint32_t others = mulmod44(pre[l], suf[l + 1], p, pinv);
            bl[l] = mulmod44(others, poly->gamma[l], p, pinv);
            b_mod += bl[l];
            b_mod -= b_mod >= p ? p : 0;
        }
        uint32_t ainv = invmod32(a_mod, p);
        uint32_t m_mod = reduce44(ctx->m, p, pinv), t = fb->sqrt_kn[j];
        uint32_t r1 = mulmod44(ainv, t >= b_mod ? t - b_mod : t + p - b_mod, p, pinv) + m_mod;
        uint32_t nt = t == 0 ? 0 : p - t;
        uint32_t r2 = mulmod44(ainv, nt >= b_mod ? nt - b_mod : nt + p - b_mod, p, pinv) + m_mod;
        poly->root1[j] = r1 >= p ? r1 - p : r1;
        poly->root2[j] = r2 >= p ? r2 - p : r2;
        for (int l = 0; l < s; l++) {
            uint32_t twice = 2 * bl[l] >= p ? 2 * bl[l] - p : 2 * bl[l];
            poly->bainv[(size_t)l * fb->count + j] = mulmod44(twice, ainv, p, pinv);
        }
    }
}

bool siqs_mp_first_b(struct mp_ctx *ctx, uint32_t a_index)
{
    if (!choose_a(ctx, a_index))
        return false;
    compute_b_terms(ctx);
    compute_c(ctx);
    compute_roots(ctx);
    siqs_mp_small_roots(ctx);
    ctx->poly.b_index = 0;
    ctx->buckets_filled = false; /* the sieve fills them from these roots */
    return true;
}

/* B number i in Gray-code order: term 0 always added, term v + 1
 * subtracted when bit v of i ^ (i >> 1) is set (as siqs_mp_next_b walks). */
bool siqs_mp_set_ab(struct mp_ctx *ctx, uint32_t a_index, uint32_t b_index)
{
    struct mp_poly *poly = &ctx->poly;
    if (poly->s == 0 || poly->a_index != a_index) {
        poly->s = 0;
        if (!choose_a(ctx, a_index))
            return false;
        compute_b_terms(ctx);
    }
    if (b_index >= siqs_mp_polys_per_a(ctx))
        return false;
    uint32_t gray = b_index ^ (b_index >> 1);
    mpz_set(poly->b, poly->b_terms[0]);
    for (int l = 1; l < poly->s; l++) {
        if ((gray >> (l - 1)) & 1)
            mpz_sub(poly->b, poly->b, poly->b_terms[l]);
        else
            mpz_add(poly->b, poly->b, poly->b_terms[l]);
    }
    poly->b_index = b_index;
    return true;
}

uint32_t siqs_mp_polys_per_a(const struct mp_ctx *ctx)
{
    return 1u << (ctx->poly.s - 1);
}

void siqs_mp_move_range(uint32_t *r1, uint32_t *r2, const uint32_t *delta, const uint32_t *p,
                        uint32_t from, uint32_t to, bool add, uint16_t *lo, uint16_t *hi)
{
    uint32_t j = from;
#if defined(__SSE2__)
    for (; j + 4 <= to; j += 4) {
        __m128i pv = _mm_loadu_si128((const __m128i *)(const void *)(p + j));
        __m128i d = _mm_loadu_si128((const __m128i *)(const void *)(delta + j));
        if (!add)
            d = _mm_sub_epi32(pv, d);
        __m128i *ra = (__m128i *)(void *)(r1 + j), *rb = (__m128i *)(void *)(r2 + j);
        __m128i a = siqs_mp_moved4(_mm_loadu_si128(ra), d, pv);
        __m128i b = siqs_mp_moved4(_mm_loadu_si128(rb), d, pv);
        _mm_storeu_si128(ra, a);
        _mm_storeu_si128(rb, b);
        if (lo != NULL) {
            __m128i a_big = _mm_cmpgt_epi32(a, b);
            __m128i min = _mm_or_si128(_mm_and_si128(a_big, b), _mm_andnot_si128(a_big, a));
            __m128i max = _mm_or_si128(_mm_and_si128(a_big, a), _mm_andnot_si128(a_big, b));
            _mm_storel_epi64((__m128i *)(void *)(lo + (j - from)), _mm_packs_epi32(min, min));
            _mm_storel_epi64((__m128i *)(void *)(hi + (j - from)), _mm_packs_epi32(max, max));
        }
    }
#endif
    for (; j < to; j++) {
        uint32_t d = add ? delta[j] : p[j] - delta[j];
        uint32_t a = r1[j] = siqs_mp_moved(r1[j], d, p[j]);
        uint32_t b = r2[j] = siqs_mp_moved(r2[j], d, p[j]);
        if (lo != NULL) {
            lo[j - from] = (uint16_t)(a < b ? a : b);
            hi[j - from] = (uint16_t)(a < b ? b : a);
        }
    }
}

static void move_roots(struct mp_ctx *ctx, const uint32_t *delta, bool add)
{
    const struct mp_fb *fb = &ctx->fb;
    uint32_t *r1 = ctx->poly.root1, *r2 = ctx->poly.root2;
    siqs_mp_move_range(r1, r2, delta, fb->p, MP_FB_ODD, fb->first_sieved, add, NULL, NULL);
    siqs_mp_move_range(r1, r2, delta, fb->p, fb->first_sieved, fb->first_bucket, add,
                       ctx->small_next1, ctx->small_next2);
    siqs_mp_move_fill(ctx, delta, add);
}

/* Gray-code step: b_index -> b_index + 1 flips the sign of one term B_l
 * (l = 1 + trailing zeros of the new index); B moves by 2 B_l, each root
 * by 2 B_l A^-1 mod p. */
void siqs_mp_next_b(struct mp_ctx *ctx)
{
    struct mp_poly *poly = &ctx->poly;
    const struct mp_fb *fb = &ctx->fb;
    uint32_t i = ++poly->b_index;
    int v = __builtin_ctz(i), l = v + 1;
    bool now_minus = ((i ^ (i >> 1)) >> v) & 1;
    const uint32_t *delta = &poly->bainv[(size_t)l * fb->count];
    if (now_minus)
        mpz_submul_ui(poly->b, poly->b_terms[l], 2);
    else
        mpz_addmul_ui(poly->b, poly->b_terms[l], 2);
    move_roots(ctx, delta, now_minus);
    uint32_t *r1 = poly->root1, *r2 = poly->root2;
    for (int k = 0; k < poly->s; k++) {
        uint32_t j = poly->a_idx[k];
        r1[j] = r2[j] = MP_NO_ROOT;
        if (j >= fb->first_sieved && j < fb->first_bucket) /* sieved for nothing: log 0 */
            ctx->small_next1[j - fb->first_sieved] = ctx->small_next2[j - fb->first_sieved] = 0;
    }
    compute_c(ctx);
}
