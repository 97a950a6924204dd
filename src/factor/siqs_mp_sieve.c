/* siqs_mp_sieve.c - the multi-precision SIQS's sieve: one polynomial over
 * [-M, M) in 32 KB blocks.
 *
 * Primes below a block are sieved block by block (each carries its next
 * hit over); larger ones hit a block at most once per root, so each
 * polynomial first drops their hits into per-block buckets (slot and
 * offset in one word, in factor-base order, with the points where the
 * scaled log p steps up), and each block then adds its bucket. A byte
 * that reaches 128 is a candidate: its Q(x) is divided by the primes
 * whose roots it lies on (small ones by i mod p, bucket ones by offset),
 * and what is left decides full, partial or partial-partial. */
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "factor_u64.h"
#include "siqs_mp_internal.h"

enum { MAX_SLICES = 64, MAX_FACTORS = 1024 };

static bool alloc_small(struct mp_ctx *ctx)
{
    uint32_t nsmall = ctx->fb.first_bucket - ctx->fb.first_sieved;
    size_t padded = (nsmall + MP_HIT_LANES - 1) / MP_HIT_LANES * MP_HIT_LANES + MP_HIT_LANES;
    ctx->small_p = calloc(padded, sizeof *ctx->small_p);
    ctx->small_recip = calloc(padded, sizeof *ctx->small_recip);
    ctx->small_next1 = calloc(padded, sizeof *ctx->small_next1);
    ctx->small_next2 = calloc(padded, sizeof *ctx->small_next2);
    ctx->small_logp = calloc(padded, sizeof *ctx->small_logp);
    if (!ctx->small_p || !ctx->small_recip || !ctx->small_next1 || !ctx->small_next2 ||
        !ctx->small_logp)
        return false;
    for (uint32_t k = 0; k < nsmall; k++) {
        uint32_t p = ctx->fb.p[ctx->fb.first_sieved + k];
        ctx->small_p[k] = (uint16_t)p;
        ctx->small_recip[k] = (uint16_t)(65536 / p);
    }
    ctx->hits_avx2 = siqs_mp_has_avx2();
    return true;
}

bool siqs_mp_sieve_alloc(struct mp_ctx *ctx)
{
    uint32_t n = ctx->fb.count, blocks = ctx->prm.blocks;
    ctx->sieve = aligned_alloc(64, MP_BLOCK);
    ctx->bucket_cap = 16; /* the most hits a block can get: two roots each */
    for (uint32_t j = ctx->fb.first_bucket; j < n; j++)
        ctx->bucket_cap += 2 * (MP_BLOCK / ctx->fb.p[j] + 1);
    ctx->bucket = malloc((size_t)blocks * ctx->bucket_cap * sizeof *ctx->bucket);
    ctx->bucket_fill = calloc(blocks, sizeof *ctx->bucket_fill);
    ctx->max_slices = MAX_SLICES;
    ctx->slice_start = malloc((size_t)MAX_SLICES * blocks * sizeof *ctx->slice_start);
    ctx->slice_logp = malloc(MAX_SLICES);
    ctx->hits = malloc((n + MAX_FACTORS + MP_HIT_LANES) * sizeof *ctx->hits);
    ctx->bucket_hits = malloc((ctx->bucket_cap + 1) * sizeof *ctx->bucket_hits);
    return alloc_small(ctx) && ctx->sieve && ctx->bucket && ctx->bucket_fill &&
           ctx->slice_start && ctx->slice_logp && ctx->hits && ctx->bucket_hits;
}

void siqs_mp_sieve_free(struct mp_ctx *ctx)
{
    free(ctx->small_p);
    free(ctx->small_recip);
    free(ctx->small_next1);
    free(ctx->small_next2);
    free(ctx->small_logp);
    free(ctx->sieve);
    free(ctx->bucket);
    free(ctx->bucket_fill);
    free(ctx->slice_start);
    free(ctx->slice_logp);
    free(ctx->hits);
    free(ctx->bucket_hits);
}

void siqs_mp_small_roots(struct mp_ctx *ctx)
{
    const struct mp_poly *poly = &ctx->poly;
    uint32_t first = ctx->fb.first_sieved, nsmall = ctx->fb.first_bucket - first;
    const uint32_t *root1 = poly->root1 + first, *root2 = poly->root2 + first;
    const uint8_t *logp = ctx->fb.logp + first;
    uint16_t *restrict next1 = ctx->small_next1, *restrict next2 = ctx->small_next2;
    uint8_t *restrict small_logp = ctx->small_logp;
    /* Selects, no branch: the compiler makes it a vector loop. A's primes
     * (no root) get roots 0 and log 0; as 16-bit values MP_NO_ROOT is
     * 0xffff, out of every such prime's range, so the test is on it. */
    for (uint32_t k = 0; k < nsmall; k++) {
        uint16_t r1 = (uint16_t)root1[k], r2 = (uint16_t)root2[k];
        uint16_t none = r1 == (uint16_t)MP_NO_ROOT ? 0 : 0xffff;
        small_logp[k] = (uint8_t)(logp[k] & none);
        next1[k] = (uint16_t)((r1 < r2 ? r1 : r2) & none);
        next2[k] = (uint16_t)((r1 < r2 ? r2 : r1) & none);
    }
}

static void open_slice(struct mp_ctx *ctx, uint8_t logp)
{
    uint32_t s = ctx->nslices++, blocks = ctx->prm.blocks;
    ctx->slice_logp[s] = logp;
    memcpy(ctx->slice_start + (size_t)s * blocks, ctx->bucket_fill,
           blocks * sizeof *ctx->bucket_fill);
}

/* Every hit of the bucket primes in the whole interval, by block. Most
 * of these primes exceed the interval: a root hits it once or not. */
static void fill_buckets(struct mp_ctx *ctx)
{
    const struct mp_fb *fb = &ctx->fb;
    const uint32_t *root1 = ctx->poly.root1, *root2 = ctx->poly.root2, *prime = fb->p;
    const uint8_t *logp = fb->logp;
    uint32_t *restrict bucket = ctx->bucket, *restrict fill = ctx->bucket_fill;
    const size_t cap = ctx->bucket_cap;
    const uint32_t interval = ctx->interval, count = fb->count;
    memset(fill, 0, ctx->prm.blocks * sizeof *fill);
    ctx->nslices = 0;
    uint8_t lp = 0;
    for (uint32_t j = fb->first_bucket; j < count; j++) {
        if (logp[j] != lp && ctx->nslices < ctx->max_slices)
            open_slice(ctx, lp = logp[j]);
        uint32_t p = prime[j];
        if (root1[j] == MP_NO_ROOT)
            continue;
        for (uint32_t r = root1[j]; r < interval; r += p) {
            uint32_t b = r >> MP_BLOCK_BITS;
            bucket[b * cap + fill[b]++] = j << MP_BLOCK_BITS | (r & (MP_BLOCK - 1));
        }
        for (uint32_t r = root2[j]; r < interval; r += p) {
            uint32_t b = r >> MP_BLOCK_BITS;
            bucket[b * cap + fill[b]++] = j << MP_BLOCK_BITS | (r & (MP_BLOCK - 1));
        }
    }
}

/* Block sieve of the primes below a block: next1 <= next2 < next1 + p
 * before and after, relative to the next block afterwards. */
static void sieve_small(struct mp_ctx *ctx)
{
    uint8_t *s = ctx->sieve;
    const uint16_t *prime = ctx->small_p;
    const uint8_t *logp = ctx->small_logp;
    uint16_t *next1 = ctx->small_next1, *next2 = ctx->small_next2;
    for (uint32_t k = 0, nsmall = ctx->fb.first_bucket - ctx->fb.first_sieved; k < nsmall; k++) {
        uint32_t p = prime[k], r1 = next1[k], r2 = next2[k];
        uint8_t lp = logp[k];
        while (r2 < MP_BLOCK) {
            s[r1] += lp;
            s[r2] += lp;
            r1 += p;
            r2 += p;
        }
        if (r1 < MP_BLOCK) {
            s[r1] += lp;
            uint32_t t = r1 + p;
            r1 = r2;
            r2 = t;
        }
        next1[k] = (uint16_t)(r1 - MP_BLOCK);
        next2[k] = (uint16_t)(r2 - MP_BLOCK);
    }
}

static void sieve_bucket(struct mp_ctx *ctx, uint32_t b)
{
    const uint32_t *bucket = ctx->bucket + (size_t)b * ctx->bucket_cap;
    uint8_t *s = ctx->sieve;
    uint32_t blocks = ctx->prm.blocks;
    for (uint32_t k = 0; k < ctx->nslices; k++) {
        uint32_t from = ctx->slice_start[(size_t)k * blocks + b];
        uint32_t to = k + 1 < ctx->nslices ? ctx->slice_start[(size_t)(k + 1) * blocks + b]
                                           : ctx->bucket_fill[b];
        uint8_t lp = ctx->slice_logp[k];
        for (uint32_t e = from; e < to; e++)
            s[bucket[e] & (MP_BLOCK - 1)] += lp;
    }
}

/* Divides q by every power of the prime in slot, recording each. */
static void divide_out(struct mp_ctx *ctx, uint32_t slot, uint32_t *f, uint32_t *nf)
{
    uint32_t p = ctx->fb.p[slot];
    while (*nf < MAX_FACTORS && mpz_divisible_ui_p(ctx->q, p)) {
        mpz_divexact_ui(ctx->q, ctx->q, p);
        f[(*nf)++] = slot;
    }
}

/* The slots of the primes that divide Q at sieve index i (block b,
 * offset off), divided out of ctx->q into f. */
static void trial_divide(struct mp_ctx *ctx, uint32_t b, uint32_t off, uint32_t *f,
                         uint32_t *nf)
{
    const struct mp_fb *fb = &ctx->fb;
    const struct mp_poly *poly = &ctx->poly;
    uint32_t i = b * MP_BLOCK + off;
    for (int l = 0; l < poly->s; l++) { /* A's primes: once from A, then Q */
        f[(*nf)++] = poly->a_idx[l];
        divide_out(ctx, poly->a_idx[l], f, nf);
    }
    for (uint32_t j = MP_FB_ODD; j < fb->first_sieved; j++) {
        uint32_t r = siqs_mp_mod32(i, fb->magic[j], fb->p[j]);
        if (r == poly->root1[j] || r == poly->root2[j])
            divide_out(ctx, j, f, nf);
    }
    uint32_t *slots = ctx->hits + MAX_FACTORS;
    uint32_t n = siqs_mp_small_hits(ctx, off, slots);
    for (uint32_t k = 0; k < n; k++)
        divide_out(ctx, ctx->fb.first_sieved + slots[k], f, nf);
    for (uint32_t k = 0; k < ctx->nbucket_hits; k++)
        if ((ctx->bucket_hits[k] & (MP_BLOCK - 1)) == off)
            divide_out(ctx, ctx->bucket_hits[k] >> MP_BLOCK_BITS, f, nf);
}

/* The bucket entries of block b that land on a candidate (top bit set),
 * in one pass for all the block's candidates. */
static void collect_bucket_hits(struct mp_ctx *ctx, uint32_t b)
{
    const uint32_t *bucket = ctx->bucket + (size_t)b * ctx->bucket_cap;
    const uint8_t *s = ctx->sieve;
    uint32_t n = 0;
    for (uint32_t e = 0, end = ctx->bucket_fill[b]; e < end; e++) {
        ctx->bucket_hits[n] = bucket[e];
        n += s[bucket[e] & (MP_BLOCK - 1)] >> 7;
    }
    ctx->nbucket_hits = n;
}

/* The cofactor left after trial division: 1 (full), one prime below the
 * large-prime bound, or (with dlp) a composite of two such primes. */
static bool split_cofactor(const struct mp_ctx *ctx, uint32_t large[2])
{
    large[0] = large[1] = 1;
    if (mpz_cmp_ui(ctx->q, 1) == 0)
        return true;
    if (mpz_sizeinbase(ctx->q, 2) > 64)
        return false;
    uint64_t r = mpz_get_ui(ctx->q);
    if (r < ctx->large_bound) {
        large[1] = (uint32_t)r; /* below pmax^2 with no prime below pmax: prime */
        return true;
    }
    if (!ctx->prm.dlp || r > ctx->dlp_bound || u64_is_prime(r))
        return false;
    uint64_t f[FACTOR_U64_MAX];
    if (factor_u64(r, f) != 2 || f[1] >= ctx->large_bound || f[0] == f[1])
        return false;
    large[0] = (uint32_t)f[0];
    large[1] = (uint32_t)f[1];
    return true;
}

static bool check_candidate(struct mp_ctx *ctx, uint32_t b, uint32_t off)
{
    const struct mp_poly *poly = &ctx->poly;
    long x = (long)(b * MP_BLOCK + off) - (long)ctx->m;
    mpz_mul_si(ctx->y, poly->a, x); /* y = A x + B, Q = (y + B) x + C */
    mpz_add(ctx->y, ctx->y, poly->b);
    mpz_add(ctx->q, ctx->y, poly->b);
    mpz_mul_si(ctx->q, ctx->q, x);
    mpz_add(ctx->q, ctx->q, poly->c);
    if (mpz_sgn(ctx->q) == 0)
        return true;
    uint32_t *f = ctx->hits, nf = 0;
    if (mpz_sgn(ctx->q) < 0) {
        f[nf++] = MP_FB_SIGN;
        mpz_neg(ctx->q, ctx->q);
    }
    mp_bitcnt_t twos = mpz_scan1(ctx->q, 0);
    mpz_tdiv_q_2exp(ctx->q, ctx->q, twos);
    for (mp_bitcnt_t t = 0; t < twos && nf < MAX_FACTORS; t++)
        f[nf++] = MP_FB_TWO;
    trial_divide(ctx, b, off, f, &nf);
    uint32_t large[2];
    if (nf >= MAX_FACTORS || !split_cofactor(ctx, large))
        return true;
    struct mp_origin at = {.a_index = poly->a_index, .b_index = poly->b_index, .x = (int32_t)x};
    return siqs_mp_add_relation(ctx, at, ctx->y, f, nf, large[0], large[1]);
}

/* Whether any byte of the 64-byte line has its top bit set. */
static inline bool line_has_candidate(const uint8_t *line)
{
#if defined(__SSE2__)
    const __m128i *v = (const __m128i *)(const void *)line;
    __m128i any = _mm_or_si128(_mm_or_si128(_mm_load_si128(v), _mm_load_si128(v + 1)),
                               _mm_or_si128(_mm_load_si128(v + 2), _mm_load_si128(v + 3)));
    return _mm_movemask_epi8(any) != 0;
#else
    uint64_t w[8], any = 0;
    memcpy(w, line, sizeof w);
    for (int k = 0; k < 8; k++)
        any |= w[k];
    return (any & 0x8080808080808080ULL) != 0;
#endif
}

/* Candidates are bytes with the top bit set: rare, so a 64-byte line is
 * tested at once. */
static bool scan_block(struct mp_ctx *ctx, uint32_t b)
{
    enum { LINE = 64 };
    const uint8_t *s = ctx->sieve;
    bool collected = false;
    for (uint32_t off = 0; off < MP_BLOCK; off += LINE) {
        if (!line_has_candidate(s + off))
            continue;
        if (!collected)
            collect_bucket_hits(ctx, b), collected = true;
        for (uint32_t k = 0; k < LINE; k++)
            if (s[off + k] & 0x80 && !check_candidate(ctx, b, off + k))
                return false;
    }
    return true;
}

bool siqs_mp_sieve_poly(struct mp_ctx *ctx)
{
    fill_buckets(ctx);
    for (uint32_t b = 0; b < ctx->prm.blocks; b++) {
        memset(ctx->sieve, ctx->init_byte, MP_BLOCK);
        sieve_small(ctx);
        sieve_bucket(ctx, b);
        if (!scan_block(ctx, b))
            return false;
    }
    return true;
}
