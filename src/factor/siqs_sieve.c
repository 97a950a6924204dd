/* siqs_sieve.c - sieving one SIQS polynomial block by block and
 * trial-dividing the candidates it flags.
 *
 * Each byte starts at 128 - threshold and gains round(log2 p) at every
 * root hit; bytes that reach 128 (top bit set) are candidates, found eight
 * at a time. A candidate's primes are found by comparing its index mod p
 * with the two roots (two multiplications with a precomputed inverse, no
 * division), so only primes that divide g(x) cost a division. */
#include <string.h>

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
        if (r1 == UINT32_MAX) { /* a prime of A: never hit */
            ctx->next1[j] = ctx->next2[j] = UINT32_MAX / 2;
            continue;
        }
        ctx->next1[j] = r1 < r2 ? r1 : r2;
        ctx->next2[j] = r1 < r2 ? r2 : r1;
    }
}

/* Adds log p at every hit inside the block; next1 <= next2 < next1 + p
 * holds before and after, relative to the next block afterwards. */
static __attribute__((noinline)) void sieve_block(struct siqs_ctx *ctx)
{
    const struct siqs_fb *fb = &ctx->fb;
    uint8_t *s = ctx->sieve;
    memset(s, 128 - ctx->threshold, SIQS_BLOCK);
    for (uint32_t j = fb->first_sieved; j < fb->count; j++) {
        uint32_t p = fb->p[j], r1 = ctx->next1[j], r2 = ctx->next2[j];
        uint8_t lp = fb->logp[j];
#ifdef SIQS_STATS
        ctx->stat_hits += (SIQS_BLOCK - r1 + p - 1) / p + (SIQS_BLOCK - r2 + p - 1) / p;
#endif
        while (r2 < SIQS_BLOCK) {
            s[r1] += lp;
            s[r2] += lp;
            r1 += p;
            r2 += p;
        }
        if (r1 < SIQS_BLOCK) {
            s[r1] += lp;
            uint32_t t = r1 + p;
            r1 = r2;
            r2 = t;
        }
        ctx->next1[j] = r1 - SIQS_BLOCK;
        ctx->next2[j] = r2 - SIQS_BLOCK;
    }
}

static void divide_out(u128 *v, uint32_t p, uint32_t slot, uint32_t *f,
                       uint32_t *nf)
{
    do {
        *v /= p;
        f[(*nf)++] = slot;
    } while (*v % p == 0);
}

/* A's primes: each once from A itself, and again if it divides g. */
static void divide_a_primes(struct siqs_ctx *ctx, u128 *v, uint32_t *f,
                            uint32_t *nf)
{
    for (int l = 0; l < ctx->poly.s; l++) {
        uint32_t slot = ctx->poly.a_idx[l], q = ctx->fb.p[slot];
        f[(*nf)++] = slot;
        if (*v % q == 0)
            divide_out(v, q, slot, f, nf);
    }
}

/* Trial-divides g at sieve index i; records a full relation or a partial
 * (one prime left below the large-prime bound). False on out of memory. */
static __attribute__((noinline)) bool check_candidate(struct siqs_ctx *ctx, uint32_t i)
{
    const struct siqs_fb *fb = &ctx->fb;
    const struct siqs_poly *poly = &ctx->poly;
    i128 x = (i128)i - ctx->m;
#ifdef SIQS_STATS
    ctx->stat_candidates++;
#endif
    i128 g = ((i128)poly->a * x + 2 * (i128)poly->b) * x + poly->c;
    uint32_t *f = ctx->scratch, nf = 0;
    if (g == 0)
        return true;
    if (g < 0)
        f[nf++] = SIQS_FB_SIGN, g = -g;
    u128 v = (u128)g;
    while ((v & 1) == 0)
        v >>= 1, f[nf++] = SIQS_FB_TWO;
    divide_a_primes(ctx, &v, f, &nf);
    for (uint32_t j = SIQS_FB_ODD; j < fb->count; j++) {
        uint32_t r = fast_mod(i, fb->recip[j], fb->p[j]);
        if (r == poly->root1[j] || r == poly->root2[j])
            divide_out(&v, fb->p[j], j, f, &nf);
    }
    if (v >= ctx->large_bound)
        return true;
    i128 y = (i128)poly->a * x + poly->b;
    return siqs_add_relation(ctx, y, f, nf, (uint32_t)v);
}

/* Candidates are bytes with the top bit set: 64 bytes are or-ed and
 * tested at once, as candidates are rare. */
static bool scan_block(struct siqs_ctx *ctx, uint32_t base)
{
    enum { LINE = 64 };
    const uint64_t top = 0x8080808080808080ULL;
    for (uint32_t off = 0; off < SIQS_BLOCK; off += LINE) {
        uint64_t w[LINE / 8], any = 0;
        memcpy(w, ctx->sieve + off, sizeof w);
        for (int k = 0; k < LINE / 8; k++)
            any |= w[k];
        if ((any & top) == 0)
            continue;
        for (int k = 0; k < LINE / 8; k++)
            for (uint64_t hits = w[k] & top; hits != 0; hits &= hits - 1) {
                uint32_t byte = (uint32_t)__builtin_ctzll(hits) / 8;
                if (!check_candidate(ctx, base + off + 8 * (uint32_t)k + byte))
                    return false;
            }
    }
    return true;
}

bool siqs_sieve_poly(struct siqs_ctx *ctx)
{
    start_roots(ctx);
    for (uint32_t b = 0; b < ctx->prm.blocks; b++) {
        sieve_block(ctx);
        if (!scan_block(ctx, b * SIQS_BLOCK))
            return false;
    }
    return true;
}
