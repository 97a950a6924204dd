/* siqs_mp_sieve.c - the multi-precision SIQS's sieve: one polynomial over
 * [-M, M) in 32 KB blocks.
 *
 * Primes below a block are sieved block by block (each carries its next
 * hit over); larger ones hit a block at most once per root, so their hits
 * go into per-block buckets (slot and offset in one word, in factor-base
 * order, with the points where the scaled log p steps up) as the roots
 * move to each polynomial, and each block then adds its bucket. A byte
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

enum { MAX_SLICES = 64, MAX_FACTORS = 1024, MAX_BLOCKS = 64 };

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

/* The bucket primes' fixed plan (interval and logs are set): where the
 * large ones start, and the slots where the scaled log steps up, each the
 * start of a slice (one log for all its entries; past MAX_SLICES the last
 * log goes on). */
static bool plan_buckets(struct mp_ctx *ctx)
{
    const struct mp_fb *fb = &ctx->fb;
    ctx->first_large = fb->first_bucket;
    while (ctx->first_large < fb->count && fb->p[ctx->first_large] < ctx->interval)
        ctx->first_large++;
    ctx->slice_first = malloc(MAX_SLICES * sizeof *ctx->slice_first);
    ctx->slice_logp = malloc(MAX_SLICES);
    if (ctx->slice_first == NULL || ctx->slice_logp == NULL)
        return false;
    ctx->nslices = 0;
    for (uint32_t j = fb->first_bucket, lp = 0; j < fb->count; j++)
        if (fb->logp[j] != lp && ctx->nslices < MAX_SLICES) {
            ctx->slice_first[ctx->nslices] = j;
            ctx->slice_logp[ctx->nslices++] = (uint8_t)(lp = fb->logp[j]);
        }
    return true;
}

bool siqs_mp_sieve_alloc(struct mp_ctx *ctx)
{
    uint32_t n = ctx->fb.count, blocks = ctx->prm.blocks;
    if (blocks > MAX_BLOCKS || !plan_buckets(ctx))
        return false;
    ctx->sieve = aligned_alloc(64, MP_BLOCK);
    ctx->bucket_cap = 16; /* the most hits a block can get: two roots each */
    for (uint32_t j = ctx->fb.first_bucket; j < n; j++)
        ctx->bucket_cap += 2 * (MP_BLOCK / ctx->fb.p[j] + 1);
    ctx->bucket = malloc((size_t)blocks * ctx->bucket_cap * sizeof *ctx->bucket);
    ctx->bucket_fill = calloc(blocks, sizeof *ctx->bucket_fill);
    ctx->slice_start = malloc((size_t)MAX_SLICES * blocks * sizeof *ctx->slice_start);
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
    free(ctx->slice_first);
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

/* Where each block's bucket ends, as pointers: an append is a store and
 * an increment, where the indexed form (bucket[b * cap + fill[b]++]) also
 * multiplied and reloaded the count on every hit. Filling the buckets was
 * ~60% of a worker's time at 330 bits (perf, cpu-clock), in a pass of its
 * own after the roots moved; moving and filling in one pass with pointers
 * took ~7% off the whole at 300 bits, the large primes' hits gathered
 * without a branch (hit_list) another ~13%. */
struct bucket_ends {
    uint32_t *end[MAX_BLOCKS];
};

static void ends_open(const struct mp_ctx *ctx, struct bucket_ends *e)
{
    for (uint32_t b = 0; b < ctx->prm.blocks; b++)
        e->end[b] = ctx->bucket + (size_t)b * ctx->bucket_cap;
}

static uint32_t ends_fill(const struct mp_ctx *ctx, const struct bucket_ends *e, uint32_t b)
{
    return (uint32_t)(e->end[b] - (ctx->bucket + (size_t)b * ctx->bucket_cap));
}

/* Slice s starts here in every block's bucket. */
static void mark_slice(struct mp_ctx *ctx, const struct bucket_ends *e, uint32_t s)
{
    uint32_t blocks = ctx->prm.blocks;
    for (uint32_t b = 0; b < blocks; b++)
        ctx->slice_start[(size_t)s * blocks + b] = ends_fill(ctx, e, b);
}

static void ends_close(struct mp_ctx *ctx, const struct bucket_ends *e)
{
    for (uint32_t b = 0; b < ctx->prm.blocks; b++)
        ctx->bucket_fill[b] = ends_fill(ctx, e, b);
}

static inline void put_hit(struct bucket_ends *e, uint32_t slot, uint32_t r)
{
    *e->end[r >> MP_BLOCK_BITS]++ = slot << MP_BLOCK_BITS | (r & (MP_BLOCK - 1));
}

/* Every hit of a prime below the interval: root 1's, then root 2's
 * (MP_NO_ROOT: none). (Its interval / p sure hits in a counted loop and
 * the last one without a branch measured 3% slower at 300 bits.) */
static inline void put_medium(struct bucket_ends *e, uint32_t slot, uint32_t r1, uint32_t r2,
                              uint32_t p, uint32_t interval)
{
    for (uint32_t r = r1; r < interval; r += p)
        put_hit(e, slot, r);
    for (uint32_t r = r2; r < interval; r += p)
        put_hit(e, slot, r);
}

/* A large prime's (past the interval) hits: each root's, if it has one. */
static inline void put_large(struct bucket_ends *e, uint32_t slot, uint32_t r1, uint32_t r2,
                             uint32_t interval)
{
    if (r1 < interval)
        put_hit(e, slot, r1);
    if (r2 < interval)
        put_hit(e, slot, r2);
}

/* The end of slice s: the next one's first slot, or the factor base's. */
static uint32_t slice_end(const struct mp_ctx *ctx, uint32_t s)
{
    return s + 1 < ctx->nslices ? ctx->slice_first[s + 1] : ctx->fb.count;
}

/* Every hit of the bucket primes in the whole interval, by block, from
 * the roots as they are (a new A's first polynomial). */
static void fill_buckets(struct mp_ctx *ctx)
{
    const uint32_t *root1 = ctx->poly.root1, *root2 = ctx->poly.root2;
    const uint32_t interval = ctx->interval;
    struct bucket_ends e;
    ends_open(ctx, &e);
    for (uint32_t s = 0; s < ctx->nslices; s++) {
        mark_slice(ctx, &e, s);
        for (uint32_t j = ctx->slice_first[s], end = slice_end(ctx, s); j < end; j++) {
            if (j < ctx->first_large)
                put_medium(&e, j, root1[j], root2[j], ctx->fb.p[j], interval);
            else
                put_large(&e, j, root1[j], root2[j], interval);
        }
    }
    ends_close(ctx, &e);
}

/* Roots of large primes that hit, gathered without a branch (a root
 * hits with probability interval/p, so a branch per root mispredicts
 * about as often as not): each root is written at the end of the list
 * and the end moves by whether it hit. Put in order when the list is
 * nearly full and at the end of the slice. */
enum { HIT_LIST = 1024, LARGE_CHUNK = 256 };

struct hit_list {
    uint32_t n;
    uint32_t root[HIT_LIST], slot[HIT_LIST];
};

static inline void list_root(struct hit_list *h, uint32_t slot, uint32_t r, uint32_t interval)
{
    h->root[h->n] = r;
    h->slot[h->n] = slot;
    h->n += r < interval; /* MP_NO_ROOT is not below it */
}

static void list_put(struct hit_list *h, struct bucket_ends *e)
{
    for (uint32_t k = 0; k < h->n; k++)
        put_hit(e, h->slot[k], h->root[k]);
    h->n = 0;
}

/* Slots [j, to), all past the interval, in chunks that stay in L1: the
 * roots moved, then listed (each slot's root 1, then its root 2, as the
 * scalar fill) and put. */
static void move_fill_large(struct mp_ctx *ctx, struct bucket_ends *e, const uint32_t *delta,
                            bool add, uint32_t j, uint32_t to)
{
    uint32_t *r1 = ctx->poly.root1, *r2 = ctx->poly.root2;
    const uint32_t interval = ctx->interval;
    struct hit_list h;
    h.n = 0;
    for (; j < to; j += LARGE_CHUNK) {
        uint32_t end = to - j > LARGE_CHUNK ? j + LARGE_CHUNK : to;
        siqs_mp_move_range(r1, r2, delta, ctx->fb.p, j, end, add, NULL, NULL);
        for (uint32_t k = j; k < end; k++) {
            list_root(&h, k, r1[k], interval);
            list_root(&h, k, r2[k], interval);
        }
        if (h.n > HIT_LIST - 2 * LARGE_CHUNK)
            list_put(&h, e);
    }
    list_put(&h, e);
}

/* Slots [j, to), all below the interval: the roots moved in vectors,
 * then each prime's hits put (a loop a root: they have several). */
static void move_fill_medium(struct mp_ctx *ctx, struct bucket_ends *e,
                             const uint32_t *delta, bool add, uint32_t j, uint32_t to)
{
    uint32_t *r1 = ctx->poly.root1, *r2 = ctx->poly.root2;
    const uint32_t *prime = ctx->fb.p;
    siqs_mp_move_range(r1, r2, delta, prime, j, to, add, NULL, NULL);
    for (uint32_t k = j; k < to; k++)
        put_medium(e, k, r1[k], r2[k], prime[k], ctx->interval);
}

void siqs_mp_move_fill(struct mp_ctx *ctx, const uint32_t *delta, bool add)
{
    struct bucket_ends e;
    ends_open(ctx, &e);
    for (uint32_t s = 0; s < ctx->nslices; s++) {
        mark_slice(ctx, &e, s);
        uint32_t j = ctx->slice_first[s], end = slice_end(ctx, s);
        uint32_t medium_end = end < ctx->first_large ? end : ctx->first_large;
        if (j < medium_end) {
            move_fill_medium(ctx, &e, delta, add, j, medium_end);
            j = medium_end;
        }
        move_fill_large(ctx, &e, delta, add, j, end);
    }
    ends_close(ctx, &e);
    ctx->buckets_filled = true;
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
    if (!ctx->buckets_filled)
        fill_buckets(ctx);
    ctx->buckets_filled = false;
    for (uint32_t b = 0; b < ctx->prm.blocks; b++) {
        memset(ctx->sieve, ctx->init_byte, MP_BLOCK);
        sieve_small(ctx);
        sieve_bucket(ctx, b);
        if (!scan_block(ctx, b))
            return false;
    }
    return true;
}
