/* siqs_mp_hits.c - which block-sieved primes divide a candidate's Q.
 *
 * After sieve_small, a block-sieved prime hits the block just sieved at
 * offsets congruent to MP_BLOCK + next (mod p): off is a hit when
 * d = MP_BLOCK + next - off (in [1, 2^16)) is a multiple of p. With
 * q = d floor(2^16 / p) / 2^16, floor(d / p) or one less, r = d - q p is
 * 0 or p then. The primes' p, reciprocal and next roots are separate
 * 16-bit arrays so that a vector loads each directly: a packed
 * {p, next1, next2, logp} took eight unpacks per eight primes, and the test ran for
 * every candidate over every block-sieved prime (11% of the time at 190
 * bits, perf). AVX2 when the CPU has it (16 lanes), else SSE2 (8). */
#if defined(__SSE2__)
#include <emmintrin.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HITS_AVX2 1
#endif
#endif

#include "siqs_mp_internal.h"

bool siqs_mp_has_avx2(void)
{
#if defined(HITS_AVX2)
    return __builtin_cpu_supports("avx2");
#else
    return false;
#endif
}

#if defined(HITS_AVX2)
__attribute__((target("avx2"))) static uint32_t hits_avx2(const struct mp_ctx *ctx, uint32_t off,
                                                          uint32_t nsmall, uint32_t *out)
{
    const __m256i base = _mm256_set1_epi16((short)(MP_BLOCK - off)), zero = _mm256_setzero_si256();
    uint32_t n = 0;
    for (uint32_t k = 0; k < nsmall; k += 16) {
        __m256i p = _mm256_loadu_si256((const __m256i *)(const void *)(ctx->small_p + k));
        __m256i m = _mm256_loadu_si256((const __m256i *)(const void *)(ctx->small_recip + k));
        __m256i d1 = _mm256_add_epi16(
            base, _mm256_loadu_si256((const __m256i *)(const void *)(ctx->small_next1 + k)));
        __m256i d2 = _mm256_add_epi16(
            base, _mm256_loadu_si256((const __m256i *)(const void *)(ctx->small_next2 + k)));
        __m256i r1 = _mm256_sub_epi16(d1, _mm256_mullo_epi16(_mm256_mulhi_epu16(d1, m), p));
        __m256i r2 = _mm256_sub_epi16(d2, _mm256_mullo_epi16(_mm256_mulhi_epu16(d2, m), p));
        __m256i hit = _mm256_or_si256(
            _mm256_or_si256(_mm256_cmpeq_epi16(r1, zero), _mm256_cmpeq_epi16(r1, p)),
            _mm256_or_si256(_mm256_cmpeq_epi16(r2, zero), _mm256_cmpeq_epi16(r2, p)));
        for (unsigned mask = (unsigned)_mm256_movemask_epi8(hit); mask != 0; mask &= mask - 1) {
            uint32_t lane = k + (uint32_t)__builtin_ctz(mask) / 2;
            mask &= mask - 1; /* two mask bits per 16-bit lane */
            if (lane < nsmall)
                out[n++] = lane;
        }
    }
    return n;
}
#endif

uint32_t siqs_mp_small_hits(const struct mp_ctx *ctx, uint32_t off, uint32_t *out)
{
    uint32_t nsmall = ctx->fb.first_bucket - ctx->fb.first_sieved, n = 0;
#if defined(HITS_AVX2)
    if (ctx->hits_avx2)
        return hits_avx2(ctx, off, nsmall, out);
#endif
#if defined(__SSE2__)
    const __m128i base = _mm_set1_epi16((short)(MP_BLOCK - off)), zero = _mm_setzero_si128();
    for (uint32_t k = 0; k < nsmall; k += 8) {
        __m128i p = _mm_loadu_si128((const __m128i *)(const void *)(ctx->small_p + k));
        __m128i m = _mm_loadu_si128((const __m128i *)(const void *)(ctx->small_recip + k));
        __m128i d1 = _mm_add_epi16(base, _mm_loadu_si128((const __m128i *)(const void *)(ctx->small_next1 + k)));
        __m128i d2 = _mm_add_epi16(base, _mm_loadu_si128((const __m128i *)(const void *)(ctx->small_next2 + k)));
        __m128i r1 = _mm_sub_epi16(d1, _mm_mullo_epi16(_mm_mulhi_epu16(d1, m), p));
        __m128i r2 = _mm_sub_epi16(d2, _mm_mullo_epi16(_mm_mulhi_epu16(d2, m), p));
        __m128i hit = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi16(r1, zero), _mm_cmpeq_epi16(r1, p)),
                                   _mm_or_si128(_mm_cmpeq_epi16(r2, zero), _mm_cmpeq_epi16(r2, p)));
        for (unsigned mask = (unsigned)_mm_movemask_epi8(hit); mask != 0; mask &= mask - 1) {
            uint32_t lane = k + (uint32_t)__builtin_ctz(mask) / 2;
            mask &= mask - 1; /* two mask bits per 16-bit lane */
            if (lane < nsmall)
                out[n++] = lane;
        }
    }
#else
    for (uint32_t k = 0; k < nsmall; k++) {
        uint32_t p = ctx->small_p[k], d1 = MP_BLOCK + ctx->small_next1[k] - off,
                 d2 = MP_BLOCK + ctx->small_next2[k] - off;
        if (d1 % p == 0 || d2 % p == 0)
            out[n++] = k;
    }
#endif
    return n;
}
