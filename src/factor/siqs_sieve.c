/* siqs_sieve.c - sieving one SIQS polynomial block by block and
 * trial-dividing the candidates it flags.
 *
 * Each byte starts at 128 - threshold and gains round(log2 p) at every
 * root hit; bytes that reach 128 (top bit set) are candidates, found a
 * 64-byte line at a time. A candidate's primes are found by comparing its
 * index mod p with the two roots (products with precomputed reciprocals,
 * eight primes at a time with SSE2), so only primes that divide g(x) are
 * divided out, by multiplying with their inverses. */
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "siqs_internal.h"

/* i mod p from recip = floor(2^32 / p) + 1: the quotient estimate
 * floor(i recip / 2^32) is exact while i (recip p - 2^32) < 2^32, which
 * holds for i < 2^17 and p < 2^15 (sieve indices, factor-base primes). */
static inline uint32_t fast_mod(uint32_t i, uint32_t recip, uint32_t p)
{
    uint32_t q = (uint32_t)(((uint64_t)i * recip) >> 32);
    return i - q * p;
}

/* Block-relative next hits of both roots for the polynomial's start. */
static void start_roots(struct siqs_ctx *ctx)
{
    const struct siqs_fb *fb = &ctx->fb;
    for (uint32_t j = fb->first_sieved; j < fb->count; j++) {
        uint32_t r1 = ctx->poly.root1[j], r2 = ctx->poly.root2[j];
        if (r1 == SIQS_NO_ROOT) { /* a prime of A: never hit */
            ctx->next1[j] = ctx->next2[j] = UINT32_MAX / 2;
            continue;
        }
        ctx->next1[j] = r1 < r2 ? r1 : r2;
        ctx->next2[j] = r1 < r2 ? r2 : r1;
    }
}

/* Adds log p at every hit inside the block; next1 <= next2 < next1 + p
 * holds before and after, relative to the next block afterwards. */
static void sieve_block(struct siqs_ctx *ctx)
{
    const struct siqs_fb *fb = &ctx->fb;
    uint8_t *s = ctx->sieve;
    const uint32_t len = ctx->block_len;
    memset(s, 128 - ctx->threshold, len);
    for (uint32_t j = fb->first_sieved; j < fb->count; j++) {
        uint32_t p = fb->p[j], r1 = ctx->next1[j], r2 = ctx->next2[j];
        uint8_t lp = fb->logp[j];
        while (r2 < len) {
            s[r1] += lp;
            s[r2] += lp;
            r1 += p;
            r2 += p;
        }
        if (r1 < len) {
            s[r1] += lp;
            uint32_t t = r1 + p;
            r1 = r2;
            r2 = t;
        }
        ctx->next1[j] = r1 - len;
        ctx->next2[j] = r2 - len;
    }
}

/* Whether the prime in slot divides v (>= 2^64): v = hi 2^64 + lo taken
 * mod p without a 128-bit division. */
static bool divides_u128(const struct siqs_fb *fb, uint32_t slot, u128 v)
{
    struct siqs_mod m = siqs_mod_init(fb->p[slot], fb->magic[slot]);
    uint32_t two64 = siqs_mul_mod(&m, m.two32, m.two32);
    uint32_t hi = siqs_mod_u64(&m, (uint64_t)(v >> 64)), lo = siqs_mod_u64(&m, (uint64_t)v);
    return siqs_mod_u32(&m, siqs_mul_mod(&m, hi, two64) + lo) == 0;
}

/* Divides v (known to be a multiple of the prime in slot) by every power
 * of it: exact division is a product with p^-1 mod 2^128 (one Newton
 * step from the 64-bit inverse), no division instruction. */
static void divide_out(const struct siqs_fb *fb, u128 *v, uint32_t slot,
                       uint32_t *f, uint32_t *nf)
{
    uint64_t inv = fb->inv[slot];
    u128 inv128 = (u128)inv * (2 - (u128)fb->p[slot] * inv);
    for (;;) {
        *v *= inv128;
        f[(*nf)++] = slot;
        if (*v >> 64 != 0 ? !divides_u128(fb, slot, *v) : (uint64_t)*v * inv > fb->lim[slot])
            return;
    }
}

/* A's primes: each once from A itself, and again if it divides g, which
 * is 2 B x + C mod q. */
static void divide_a_primes(struct siqs_ctx *ctx, uint32_t i, u128 *v,
                            uint32_t *f, uint32_t *nf)
{
    const struct siqs_poly *poly = &ctx->poly;
    for (int l = 0; l < poly->s; l++) {
        uint32_t slot = poly->a_idx[l], q = ctx->fb.p[slot];
        f[(*nf)++] = slot;
        uint32_t x = (i % q + q - poly->a_m[l]) % q;
        if ((poly->a_2b[l] * x + poly->a_c[l]) % q == 0)
            divide_out(&ctx->fb, v, slot, f, nf);
    }
}

static bool root_matches(const struct siqs_ctx *ctx, uint32_t i, uint32_t j)
{
    uint32_t r = fast_mod(i, ctx->fb.recip[j], ctx->fb.p[j]);
    return r == ctx->poly.root1[j] || r == ctx->poly.root2[j];
}

#if defined(__SSE2__)
/* Eight primes at a time in 16-bit lanes (i < 2^16): q = i (2^16 / p)
 * / 2^16 is floor(i / p) or one less, so r = i - q p is in [0, 2p) and
 * i is on a root when r or r - p equals it. Lanes that match are checked
 * again exactly (r - p can wrap onto the no-root marker). */
static uint32_t find_root_hits_sse2(const struct siqs_ctx *ctx, uint32_t i,
                                    uint32_t *slots)
{
    const struct siqs_fb *fb = &ctx->fb;
    const struct siqs_poly *poly = &ctx->poly;
    const __m128i iv = _mm_set1_epi16((short)i);
    uint32_t n = 0;
    for (uint32_t j = 0; j < fb->count; j += SIQS_LANES) {
        __m128i p = _mm_loadu_si128((const __m128i *)(const void *)(fb->p16 + j));
        __m128i m = _mm_loadu_si128((const __m128i *)(const void *)(fb->recip16 + j));
        __m128i r1 = _mm_loadu_si128((const __m128i *)(const void *)(poly->root1 + j));
        __m128i r2 = _mm_loadu_si128((const __m128i *)(const void *)(poly->root2 + j));
        __m128i r = _mm_sub_epi16(iv, _mm_mullo_epi16(_mm_mulhi_epu16(iv, m), p));
        __m128i d = _mm_sub_epi16(r, p);
        __m128i hit = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi16(r, r1), _mm_cmpeq_epi16(r, r2)),
            _mm_or_si128(_mm_cmpeq_epi16(d, r1), _mm_cmpeq_epi16(d, r2)));
        for (unsigned mask = (unsigned)_mm_movemask_epi8(hit); mask != 0; mask &= mask - 1) {
            uint32_t slot = j + (uint32_t)__builtin_ctz(mask) / 2;
            mask &= mask - 1; /* two mask bits per 16-bit lane */
            if (slot >= SIQS_FB_ODD && slot < fb->count && root_matches(ctx, i, slot))
                slots[n++] = slot;
        }
    }
    return n;
}
#endif

/* The odd primes whose roots i is on (they divide g(i)), into slots. */
static uint32_t find_root_hits(const struct siqs_ctx *ctx, uint32_t i,
                               uint32_t *slots)
{
    uint32_t n = 0;
#if defined(__SSE2__)
    if (i <= UINT16_MAX)
        return find_root_hits_sse2(ctx, i, slots);
#endif
    for (uint32_t j = SIQS_FB_ODD; j < ctx->fb.count; j++)
        if (root_matches(ctx, i, j))
            slots[n++] = j;
    return n;
}

/* Trial-divides g at sieve index i; records a full relation or a partial
 * (one prime left below the large-prime bound). False on out of memory. */
static bool check_candidate(struct siqs_ctx *ctx, uint32_t i)
{
    const struct siqs_fb *fb = &ctx->fb;
    const struct siqs_poly *poly = &ctx->poly;
    i128 x = (i128)i - ctx->m;
    i128 g = ((i128)poly->a * x + 2 * (i128)poly->b) * x + poly->c;
    uint32_t *f = ctx->scratch, nf = 0;
    if (g == 0)
        return true;
    if (g < 0)
        f[nf++] = SIQS_FB_SIGN, g = -g;
    u128 v = (u128)g;
    while ((v & 1) == 0)
        v >>= 1, f[nf++] = SIQS_FB_TWO;
    divide_a_primes(ctx, i, &v, f, &nf);
    uint32_t hits = find_root_hits(ctx, i, ctx->hit_slots);
    for (uint32_t h = 0; h < hits; h++)
        divide_out(fb, &v, ctx->hit_slots[h], f, &nf);
    if (v >= ctx->large_bound)
        return true;
    i128 y = (i128)poly->a * x + poly->b;
    return siqs_add_relation(ctx, y, f, nf, (uint32_t)v);
}

/* The candidates in a 64-byte line of the block: one bit per byte with
 * its top bit set. */
static uint64_t line_candidates(const uint8_t *line)
{
#if defined(__SSE2__)
    const __m128i *v = (const __m128i *)(const void *)line;
    __m128i v0 = _mm_loadu_si128(v), v1 = _mm_loadu_si128(v + 1);
    __m128i v2 = _mm_loadu_si128(v + 2), v3 = _mm_loadu_si128(v + 3);
    if (_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(v0, v1), _mm_or_si128(v2, v3))) == 0)
        return 0; /* the usual case: one test for the line */
    return (uint64_t)(uint32_t)_mm_movemask_epi8(v0) |
           (uint64_t)(uint32_t)_mm_movemask_epi8(v1) << 16 |
           (uint64_t)(uint32_t)_mm_movemask_epi8(v2) << 32 |
           (uint64_t)(uint32_t)_mm_movemask_epi8(v3) << 48;
#else
    /* Each word's eight top bits gathered into one byte by a product. */
    uint64_t mask = 0;
    for (int k = 0; k < 8; k++) {
        uint64_t w;
        memcpy(&w, line + 8 * k, sizeof w);
        w = (w >> 7) & 0x0101010101010101ULL;
        mask |= (w * 0x0102040810204080ULL) >> 56 << (8 * k);
    }
    return mask;
#endif
}

/* Candidates are bytes with the top bit set; they are rare, so whole
 * lines are tested at once. */
static bool scan_block(struct siqs_ctx *ctx, uint32_t base)
{
    enum { LINE = 64 };
    for (uint32_t off = 0; off < ctx->block_len; off += LINE)
        for (uint64_t hits = line_candidates(ctx->sieve + off); hits != 0; hits &= hits - 1)
            if (!check_candidate(ctx, base + off + (uint32_t)__builtin_ctzll(hits)))
                return false;
    return true;
}

bool siqs_sieve_poly(struct siqs_ctx *ctx)
{
    start_roots(ctx);
    for (uint32_t b = 0; b < ctx->blocks; b++) {
        sieve_block(ctx);
        if (!scan_block(ctx, b * ctx->block_len))
            return false;
    }
    return true;
}
